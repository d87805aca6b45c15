/**
 * Helpers for the I/O benchmark (bench/io.ts): synthetic Pick-a-Pic shards written by DuckDB,
 * ~100 kB JPEGs made with sharp, an RSS sampler that keeps sampling while the main thread is
 * busy, and formatting.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomFillSync } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { DuckDBInstance } from '@duckdb/node-api';
import sharp from 'sharp';

// ---------------------------------------------------------------------------------------------
// DuckDB

export interface Duck {
  rows(sql: string): Promise<Record<string, unknown>[]>;
  run(sql: string): Promise<void>;
  close(): void;
}

export async function openDuck(): Promise<Duck> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  return {
    async rows(sql) {
      return (await connection.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
    },
    async run(sql) {
      await connection.run(sql);
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

export const sqlString = (value: string): string => `'${value.replaceAll("'", "''")}'`;
const sqlList = (values: readonly string[]): string => `[${values.map(sqlString).join(', ')}]`;

// ---------------------------------------------------------------------------------------------
// Synthetic Pick-a-Pic rows

const SUBJECTS = [
  'a cat',
  'an astronaut',
  'a red fox',
  'a medieval castle',
  'a cyberpunk city street',
  'a bowl of ramen',
  'a portrait of an old fisherman',
  'a dragon',
  'a lighthouse',
  'a small robot',
  'a samurai',
  'a cozy cabin',
  'a giant octopus',
  'a vintage car',
  'a wizard',
  'a field of sunflowers',
  'a corgi',
  'a futuristic spaceship',
  'a mountain lake',
  'a steampunk owl',
  'a knight in shining armor',
  'an ancient temple',
  'a jellyfish',
  'a tiny house',
  'a polar bear',
  'a cup of coffee',
  'a ballerina',
  'a haunted mansion',
  'a koi pond',
  'a hot air balloon',
] as const;

const SCENES = [
  'riding a bicycle',
  'in the rain',
  'at sunset',
  'made of glass',
  'floating in space',
  'in a snowy forest',
  'on the surface of mars',
  'under the sea',
  'in a busy market',
  'on a rooftop at night',
  'reading a book',
  'surrounded by flowers',
  'in a neon-lit alley',
  'on a foggy morning',
  'during a thunderstorm',
  'in the desert',
  'inside a library',
  'on a tropical beach',
  'at the top of a waterfall',
  'in a crystal cave',
  'wearing a tiny hat',
  'playing the violin',
  'in an autumn park',
  'on a train platform',
  'above the clouds',
  'in a japanese garden',
  'by candlelight',
  'in a snow globe',
  'at a carnival',
  'in the arctic',
] as const;

const STYLES = [
  'oil painting',
  'digital art',
  'trending on artstation',
  'highly detailed',
  '8k',
  'watercolor',
  'by greg rutkowski',
  'cinematic lighting',
  'studio ghibli style',
  'photorealistic',
  'unreal engine',
  'octane render',
  'pixel art',
  'concept art',
  'volumetric light',
] as const;

const MODELS = [
  'stable-diffusion-2-1',
  'sdxl-beta',
  'sdxl-alpha',
  'dreamlike-photoreal-2.0',
  'stable-diffusion-v1-5',
] as const;

export const USER_POOL = 2000;

/**
 * A SELECT producing `rows` Pick-a-Pic rows, all HF columns except the jpg ones, plus `row_no`.
 *
 * Rows come in blocks of 10: 5 rows with a caption of their own, 2 rows sharing one caption and 3
 * rows sharing another, so 2 of every 7 captions (~29%) are shared by 2-3 rows, each row with a
 * different image pair. With `sharedImages`, the rows of one caption draw their pairs from the
 * caption's 4 images ((0,1), (2,3), (0,2)), as Pick-a-Pic does; without it every row has two
 * images of its own (for shards with jpg bytes, one distinct image per row and side). Labels: 5%
 * has_label false; of the rest ~47% (1,0), ~47% (0,1), ~10% (0.5,0.5). One user (of 2,000) per
 * caption. Captions are unique per caption group (a mixed-radix spread of the group number).
 */
export function pickapicRowsSql(rows: number, options: { sharedImages: boolean }): string {
  // Caption words: a mixed-radix reading of a spread of the caption group number, so every group
  // gets its own caption.
  const lists = [SUBJECTS, SCENES, STYLES, STYLES, STYLES];
  let space = 1;
  const words = lists.map((list) => {
    const term = `${sqlList(list)}[(x // ${space}) % ${list.length} + 1]`;
    space *= list.length;
    return term;
  });
  const caption = `${words[0]} || ' ' || ${words.slice(1).join(" || ', ' || ")}`;
  const groups = Math.ceil(rows / 10) * 7;
  if (groups > space) throw new Error(`too many caption groups for the word lists (${groups})`);
  const uuid = (expr: string): string => `md5(${expr})::UUID::VARCHAR`;
  const imageUid = options.sharedImages
    ? (side: 0 | 1): string =>
        uuid(
          `'img-' || cg || '-' || (CASE k WHEN 0 THEN ${side} WHEN 1 THEN ${2 + side} ELSE ${2 * side} END)`,
        )
    : (side: 0 | 1): string => uuid(`'img-row-' || i || '-${side}'`);
  return `
    WITH base AS (
      SELECT i, i // 10 AS block, i % 10 AS pos FROM range(${rows}) t(i)
    ), grouped AS (
      SELECT i,
        block * 7 + CASE WHEN pos < 5 THEN pos WHEN pos < 7 THEN 5 ELSE 6 END AS cg,
        CASE WHEN pos < 5 THEN 0 WHEN pos < 7 THEN pos - 5 ELSE pos - 7 END AS k,
        CASE WHEN pos < 5 THEN 1 WHEN pos < 7 THEN 2 ELSE 3 END AS group_size,
        (hash(i, 'label') % 100)::BIGINT AS lr
      FROM base
    ), spread AS (
      SELECT *, (cg * 1000003) % ${space} AS x FROM grouped
    ), words AS (
      SELECT *,
        ${caption} AS caption,
        ${imageUid(0)} AS image_0_uid,
        ${imageUid(1)} AS image_1_uid,
        lr >= 5 AS has_label,
        CASE WHEN lr < 5 THEN 0.5 WHEN lr < 48 THEN 1.0 WHEN lr < 91 THEN 0.0 ELSE 0.5 END AS label_0,
        CASE WHEN lr < 5 THEN 0.5 WHEN lr < 48 THEN 0.0 WHEN lr < 91 THEN 1.0 ELSE 0.5 END AS label_1
      FROM spread
    )
    SELECT i AS row_no,
      true AS are_different,
      CASE WHEN lr < 5 OR lr >= 91 THEN NULL WHEN lr < 48 THEN image_0_uid ELSE image_1_uid END AS best_image_uid,
      caption,
      TIMESTAMP '2023-02-01 00:00:00' + to_seconds(i * 25 + (hash(i, 'ts') % 20)::BIGINT) AS created_at,
      has_label,
      image_0_uid,
      'https://images.pickapic.io/' || image_0_uid || '.png' AS image_0_url,
      image_1_uid,
      'https://images.pickapic.io/' || image_1_uid || '.png' AS image_1_url,
      label_0::DOUBLE AS label_0,
      label_1::DOUBLE AS label_1,
      ${sqlList(MODELS)}[(hash(cg, k, 0) % ${MODELS.length})::BIGINT + 1] AS model_0,
      ${sqlList(MODELS)}[(hash(cg, k, 1) % ${MODELS.length})::BIGINT + 1] AS model_1,
      group_size::BIGINT AS num_example_per_prompt,
      (500000 + i)::BIGINT AS ranking_id,
      (hash(cg, 'user') % ${USER_POOL} + 1)::BIGINT AS user_id
    FROM words`;
}

const HF_COLUMNS =
  'are_different, best_image_uid, caption, created_at, has_label, image_0_uid, image_0_url, image_1_uid, image_1_url';
const HF_COLUMNS_TAIL =
  'label_0, label_1, model_0, model_1, num_example_per_prompt, ranking_id, user_id';

/**
 * Writes a Pick-a-Pic shard of `rows` rows in row groups of exactly `rowGroupSize` rows. Without
 * `imageDir` the shard has no jpg columns; with it, jpg_0/jpg_1 are read (read_blob, as
 * tests/helpers/duckdb.ts does) from `${imageDir}/${row}_${side}.jpg`.
 *
 * DuckDB cuts row groups only between the chunks (up to 2,048 rows) that reach its writer, so a
 * plain COPY ... ROW_GROUP_SIZE 100 still writes one group of 2,000 rows. A UNION ALL of one
 * ordered SELECT per row group hands the writer one chunk per group instead.
 */
export async function writeShard(
  duck: Duck,
  out: string,
  options: { rows: number; rowGroupSize: number; imageDir?: string },
): Promise<void> {
  const { rows, rowGroupSize, imageDir } = options;
  const prefix = imageDir === undefined ? '' : imageDir + path.sep;
  const images =
    imageDir === undefined
      ? { columns: '', joins: '' }
      : {
          columns: 'b0.content AS jpg_0, b1.content AS jpg_1,',
          joins: `
            LEFT JOIN read_blob(${sqlString(prefix + '*_0.jpg')}) b0
              ON b0.filename = ${sqlString(prefix)} || r.row_no || '_0.jpg'
            LEFT JOIN read_blob(${sqlString(prefix + '*_1.jpg')}) b1
              ON b1.filename = ${sqlString(prefix)} || r.row_no || '_1.jpg'`,
        };
  await duck.run(`
    CREATE OR REPLACE TEMP TABLE bench_shard AS
    SELECT r.row_no, ${HF_COLUMNS}, ${images.columns} ${HF_COLUMNS_TAIL}
    FROM (${pickapicRowsSql(rows, { sharedImages: imageDir === undefined })}) r ${images.joins}`);
  const groups = Array.from(
    { length: Math.ceil(rows / rowGroupSize) },
    (_, g) => `(SELECT * EXCLUDE (row_no) FROM bench_shard
       WHERE row_no >= ${g * rowGroupSize} AND row_no < ${(g + 1) * rowGroupSize} ORDER BY row_no)`,
  );
  try {
    await duck.run(`COPY (${groups.join(' UNION ALL ')}) TO ${sqlString(out)}
      (FORMAT parquet, ROW_GROUP_SIZE ${rowGroupSize})`);
  } finally {
    await duck.run('DROP TABLE bench_shard');
  }
}

/** Row groups and rows of a Parquet file, as DuckDB reads its footer. */
export async function parquetShape(
  duck: Duck,
  file: string,
): Promise<{ rows: number; rowGroups: number }> {
  const [row] = await duck.rows(
    `SELECT sum(num_rows)::BIGINT AS rows, count(*)::BIGINT AS groups FROM (
       SELECT DISTINCT row_group_id, row_group_num_rows AS num_rows FROM parquet_metadata(${sqlString(file)}))`,
  );
  return { rows: Number(row!.rows), rowGroups: Number(row!.groups) };
}

/** Reads every column of a Pick-a-Pic shard in DuckDB (aggregates over each, so none is skipped). */
export function fullScanSql(file: string, withImages: boolean): string {
  const images = withImages ? ', sum(octet_length(jpg_0) + octet_length(jpg_1))' : '';
  return `SELECT count(*), sum(length(caption)),
      sum(length(image_0_uid) + length(image_1_uid) + length(image_0_url) + length(image_1_url)),
      sum(length(best_image_uid)), sum(length(model_0) + length(model_1)),
      sum(label_0 + label_1), sum(ranking_id + user_id + num_example_per_prompt),
      max(created_at), count_if(has_label), count_if(are_different)${images}
    FROM read_parquet(${sqlString(file)})`;
}

// ---------------------------------------------------------------------------------------------
// JPEGs

const SIDE = 512;

/**
 * A 512x512 JPEG (quality 85): a colour gradient that differs by seed, plus uniform noise of
 * `amplitude` (0-255); the noise is what sets the compressed size.
 */
export async function noiseJpeg(seed: number, amplitude: number): Promise<Buffer> {
  const pixels = Buffer.allocUnsafe(SIDE * SIDE * 3);
  randomFillSync(pixels);
  const a = Math.round(amplitude);
  const r0 = (seed * 37) & 0xff;
  const g0 = (seed * 101) & 0xff;
  const b0 = (seed * 53) & 0xff;
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const i = (y * SIDE + x) * 3;
      pixels[i] = (r0 + (x >> 1) + ((pixels[i]! * a) >> 8)) & 0xff;
      pixels[i + 1] = (g0 + (y >> 1) + ((pixels[i + 1]! * a) >> 8)) & 0xff;
      pixels[i + 2] = (b0 + ((x + y) >> 2) + ((pixels[i + 2]! * a) >> 8)) & 0xff;
    }
  }
  return sharp(pixels, { raw: { width: SIDE, height: SIDE, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
}

/** The noise amplitude that makes noiseJpeg's files about `targetBytes` long (a few probes). */
export async function calibrateNoise(
  targetBytes: number,
  log: (line: string) => void,
): Promise<number> {
  let amplitude = 40;
  for (let attempt = 0; attempt < 4; attempt++) {
    const sizes = await Promise.all([0, 1, 2, 3].map((s) => noiseJpeg(1_000_000 + s, amplitude)));
    const mean = sizes.reduce((sum, b) => sum + b.length, 0) / sizes.length;
    log(`  calibrate: noise amplitude ${amplitude.toFixed(1)} -> ${(mean / 1000).toFixed(1)} kB`);
    if (Math.abs(mean - targetBytes) / targetBytes < 0.03) break;
    // Size grows roughly linearly with the amplitude in this range.
    amplitude = Math.min(255, Math.max(4, amplitude * (targetBytes / mean)));
  }
  return amplitude;
}

/** Runs `work(i)` for i in [0, count) with at most `concurrency` in flight. */
export async function pool(
  count: number,
  concurrency: number,
  work: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Memory

const SAMPLER_SOURCE = `
const { workerData } = require('node:worker_threads');
const cells = new BigInt64Array(workerData.buffer);
setInterval(() => {
  const rss = BigInt(process.memoryUsage.rss());
  if (rss > Atomics.load(cells, 0)) Atomics.store(cells, 0, rss);
  Atomics.add(cells, 1, 1n);
}, workerData.intervalMs);
`;

/**
 * Samples the process's RSS every `intervalMs` from a worker thread: the import and export run
 * long synchronous stretches (a whole row group, a whole export page) during which a timer on
 * the main thread would not fire. RSS is per process, so the worker sees the main thread's use.
 */
export class RssSampler {
  private readonly cells = new BigInt64Array(new SharedArrayBuffer(16));
  private readonly worker: Worker;

  constructor(intervalMs = 20) {
    this.worker = new Worker(SAMPLER_SOURCE, {
      eval: true,
      workerData: { buffer: this.cells.buffer, intervalMs },
    });
    this.worker.unref();
  }

  /** Runs `work`, returning its result, its wall time, the RSS before it and the peak during it. */
  async measure<T>(work: () => Promise<T>): Promise<{
    result: T;
    seconds: number;
    rssBefore: number;
    heapBefore: number;
    rssPeak: number;
    samples: number;
  }> {
    const heapBefore = process.memoryUsage().heapUsed;
    const rssBefore = process.memoryUsage.rss();
    Atomics.store(this.cells, 0, BigInt(rssBefore));
    Atomics.store(this.cells, 1, 0n);
    const started = performance.now();
    const result = await work();
    const seconds = (performance.now() - started) / 1000;
    const rssAfter = process.memoryUsage.rss();
    const rssPeak = Math.max(Number(Atomics.load(this.cells, 0)), rssAfter);
    return {
      result,
      seconds,
      rssBefore,
      heapBefore,
      rssPeak,
      samples: Number(Atomics.load(this.cells, 1)),
    };
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

/** Collects garbage (node --expose-gc) and lets freed native memory settle. */
export async function settle(): Promise<void> {
  global.gc?.();
  await new Promise((resolve) => setTimeout(resolve, 50));
  global.gc?.();
}

// ---------------------------------------------------------------------------------------------
// Numbers

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** The nearest-rank q-quantile (q = 0.99: the value 99% of the values are at or below). */
export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index]!;
}

export const MB = 1_000_000;
export const mb = (bytes: number): string => `${(bytes / MB).toFixed(1)} MB`;
export const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
export const secs = (seconds: number): string => `${seconds.toFixed(2)} s`;
export const rate = (count: number, seconds: number): string =>
  `${Math.round(count / seconds).toLocaleString('en-US')}`;

export const fileSize = (file: string): number =>
  fs.existsSync(file) ? fs.statSync(file).size : 0;

/** A figure a bench names in its closing JSON line; null where it was not measured. */
export type NamedFigures = Record<string, number | null>;

/**
 * A bench's last line: its figures as one JSON object, so that bench:scale (or any script) reads
 * them from its output without parsing tables. Rounded to 4 significant digits.
 */
export function printFigures(bench: string, figures: NamedFigures): void {
  const rounded = Object.fromEntries(
    Object.entries(figures).map(([name, value]) => [
      name,
      value === null || !Number.isFinite(value) ? null : Number(value.toPrecision(4)),
    ]),
  );
  process.stdout.write(`${JSON.stringify({ bench, ...rounded })}\n`);
}

/** The figures of a bench's output: its last line that is a JSON object. */
export function figuresIn(output: string): NamedFigures {
  const line = output
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (!line) throw new Error('the bench printed no figures line');
  return JSON.parse(line) as NamedFigures;
}

/** Left-aligned first column, right-aligned others. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
