import fs from 'node:fs';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { readParquet } from 'parquet-wasm';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PICKAPIC_COLUMNS } from '../../electron/core/io/pickapic-schema';
import { duckdb, writeShardWithDuckDB, type ShardRow } from '../helpers/duckdb';
import {
  afterBulkWrites,
  makeJpeg,
  openTestProject,
  projectDigest,
  SOUND_AFTER_BULK_WRITES,
  tempDir,
  sqlite,
} from '../helpers/project';

/** The Arrow types of the HF dataset's features, as an Arrow reader names them. */
const ARROW_TYPES: Record<string, string> = {
  bool: 'Bool',
  string: 'Utf8',
  timestamp: 'Timestamp<MICROSECOND>',
  binary: 'Binary',
  float64: 'Float64',
  int64: 'Int64',
};

const HF_TYPES: Record<string, string> = {
  bool: 'BOOLEAN',
  string: 'VARCHAR',
  timestamp: 'TIMESTAMP',
  binary: 'BLOB',
  float64: 'DOUBLE',
  int64: 'BIGINT',
};

let dir: string;
let db: Awaited<ReturnType<typeof duckdb>>;
beforeEach(async () => {
  dir = tempDir();
  db = await duckdb();
});
afterEach(() => db.close());

const blob = (value: unknown): Buffer => Buffer.from(value as Uint8Array);

async function labeledRows(count: number, images: boolean): Promise<ShardRow[]> {
  const labels: [number, number][] = [
    [1, 0],
    [0, 1],
    [0.5, 0.5],
  ];
  return Promise.all(
    Array.from({ length: count }, async (_, i) => ({
      ranking_id: 5000 + i,
      caption: `prompt ${i}: a red fox in the snow, “quoted” émoji 🦊`,
      image_0_uid: `uid-${i}-a`,
      image_1_uid: `uid-${i}-b`,
      label_0: labels[i % 3]![0],
      label_1: labels[i % 3]![1],
      has_label: true,
      user_id: 100 + (i % 4),
      created_at: `2023-04-0${1 + (i % 9)} 10:11:12`,
      ...(images ? { jpg_0: await makeJpeg(2 * i), jpg_1: await makeJpeg(2 * i + 1) } : {}),
    })),
  );
}

describe('Pick-a-Pic shards written by DuckDB', () => {
  it('round-trip: the export has the HF names and types, and equal captions, uids, labels and jpg bytes', async () => {
    const input = path.join(dir, 'train-0.parquet');
    const rows = await labeledRows(30, true);
    await writeShardWithDuckDB(input, rows, { images: true, rowGroupSize: 7 });
    const { call, store } = openTestProject(path.join(dir, 'p.pickstudio'));
    const report = await call('importSources', { sources: [input] });
    expect(report.files[0]).toMatchObject({ rows: 30, pairsAdded: 30, annotationsAdded: 30 });

    const out = path.join(dir, 'export.parquet');
    await call('exportParquet', { out });
    store.close();

    const described = await db.rows(`DESCRIBE SELECT * FROM '${out}'`);
    const types = Object.fromEntries(described.map((r) => [r.column_name, r.column_type]));
    for (const column of PICKAPIC_COLUMNS) {
      expect(types[column.name], column.name).toBe(HF_TYPES[column.kind]);
    }
    expect(types).toMatchObject({ num_annotations: 'BIGINT', agreement: 'DOUBLE' });

    // A second, independent reader (Rust's parquet crate, into Arrow as pyarrow would see it).
    const arrow = tableFromIPC(readParquet(new Uint8Array(fs.readFileSync(out))).intoIPCStream());
    expect(arrow.numRows).toBe(30);
    for (const column of PICKAPIC_COLUMNS) {
      const field = arrow.schema.fields.find((f) => f.name === column.name);
      expect(String(field?.type), column.name).toBe(ARROW_TYPES[column.kind]);
    }
    expect(arrow.getChild('caption')!.get(4)).toBe(rows[4]!.caption);

    const inputRows = await db.rows(`SELECT * FROM '${input}' ORDER BY ranking_id`);
    const exported = await db.rows(`SELECT * FROM '${out}' ORDER BY ranking_id`);
    expect(exported).toHaveLength(30);
    exported.forEach((row, i) => {
      const source = inputRows[i]!;
      for (const key of [
        'caption',
        'image_0_uid',
        'image_1_uid',
        'image_0_url',
        'label_0',
        'label_1',
        'model_0',
        'model_1',
        'ranking_id',
        'user_id',
        'best_image_uid',
        'are_different',
        'has_label',
      ]) {
        expect(row[key], `row ${i} ${key}`).toEqual(source[key]);
      }
      expect((row.created_at as Date).getTime()).toBe((source.created_at as Date).getTime());
      expect(blob(row.jpg_0).equals(blob(source.jpg_0)), `row ${i} jpg_0`).toBe(true);
      expect(blob(row.jpg_1).equals(blob(source.jpg_1)), `row ${i} jpg_1`).toBe(true);
      expect(row.num_annotations).toBe(1n);
      expect(row.agreement).toBe(1);
    });
  });

  it('merges several users over the same caption and images into one pair, keeping each ranking', async () => {
    const input = path.join(dir, 'multi.parquet');
    const base = {
      caption: 'a lighthouse at dusk',
      image_0_uid: 'L0',
      image_1_uid: 'L1',
      has_label: true,
    };
    await writeShardWithDuckDB(
      input,
      [
        { ...base, ranking_id: 1, user_id: 11, label_0: 1, label_1: 0, model_0: 'm-a' },
        {
          ...base,
          ranking_id: 2,
          user_id: 12,
          label_0: 1,
          label_1: 0,
          num_example_per_prompt: 4,
          are_different: false,
        },
        // The same pair shown the other way round: its verdict must flip to the pair's order.
        {
          ...base,
          ranking_id: 3,
          user_id: 13,
          image_0_uid: 'L1',
          image_1_uid: 'L0',
          label_0: 0,
          label_1: 1,
        },
        {
          ...base,
          ranking_id: 4,
          user_id: 14,
          label_0: null,
          label_1: null,
          has_label: false,
          caption: 'unlabeled',
        },
      ],
      { images: false },
    );
    const file = path.join(dir, 'p.pickstudio');
    const { call, store } = openTestProject(file);
    await call('importSources', { sources: [input] });
    const stats = await call('getStats', {});
    expect(stats.counts).toMatchObject({ pairs: 2, annotations: 3, pairsWithVerdict: 1 });
    expect(stats.annotators.map((a) => a.name)).toEqual([
      'pickapic:11',
      'pickapic:12',
      'pickapic:13',
    ]);
    expect(stats.annotators.every((a) => a.kind === 'dataset' && a.verdicts.image0 === 1)).toBe(
      true,
    );
    // Each row as the dataset had it, whatever the pair's order; the pair takes the first row's.
    const rankings = sqlite(store)
      .prepare(
        `SELECT s.ranking_id, s.swapped, s.user_id, s.has_label, s.label_0, s.label_1,
           s.best_image_uid, s.are_different, s.num_example_per_prompt,
           s.source_file = 'multi.parquet' AS fromInput, p.model_0
         FROM pair_sources s JOIN pairs p ON p.id = s.pair_id ORDER BY 1`,
      )
      .all();
    const source = { best_image_uid: 'L0', fromInput: 1 };
    expect(rankings).toEqual(
      [
        { ...source, ranking_id: 1, swapped: 0, user_id: 11, has_label: 1, label_0: 1, label_1: 0 },
        { ...source, ranking_id: 2, swapped: 0, user_id: 12, has_label: 1, label_0: 1, label_1: 0 },
        { ...source, ranking_id: 3, swapped: 1, user_id: 13, has_label: 1, label_0: 0, label_1: 1 },
        {
          ...source,
          ranking_id: 4,
          swapped: 0,
          user_id: 14,
          has_label: 0,
          label_0: null,
          label_1: null,
          best_image_uid: null,
        },
      ].map((row) => ({
        are_different: row.ranking_id === 2 ? 0 : 1,
        num_example_per_prompt: row.ranking_id === 2 ? 4 : 1,
        model_0: row.ranking_id === 4 ? 'stable-diffusion-2-1' : 'm-a',
        ...row,
      })),
    );
    expect(afterBulkWrites(store)).toEqual(SOUND_AFTER_BULK_WRITES);

    const out = path.join(dir, 'out.parquet');
    const annotationsOut = path.join(dir, 'annotations.parquet');
    await call('exportParquet', { out, images: false, annotationsOut });
    store.close();
    const exported = await db.rows(`SELECT * FROM '${out}'`);
    expect(exported).toHaveLength(1);
    expect(exported[0]).toMatchObject({
      caption: 'a lighthouse at dusk',
      image_0_uid: 'L0',
      best_image_uid: 'L0',
      label_0: 1,
      label_1: 0,
      ranking_id: 1n,
      user_id: null,
      num_annotations: 3n,
      agreement: 1,
      verdict_source: 'majority',
    });
    const columns = (await db.rows(`DESCRIBE SELECT * FROM '${out}'`)).map((r) => r.column_name);
    expect(columns).not.toContain('jpg_0');
    const raw = await db.rows(
      `SELECT annotator, ranking_id, verdict, is_current FROM '${annotationsOut}' ORDER BY ranking_id`,
    );
    expect(raw).toEqual([
      { annotator: 'pickapic:11', ranking_id: 1n, verdict: '0', is_current: true },
      { annotator: 'pickapic:12', ranking_id: 2n, verdict: '0', is_current: true },
      { annotator: 'pickapic:13', ranking_id: 3n, verdict: '0', is_current: true },
    ]);
  });

  it('re-importing the same rows, and a folder of shards, adds nothing twice', async () => {
    const folder = path.join(dir, 'data');
    fs.mkdirSync(path.join(folder, 'nested'), { recursive: true });
    const rows = await labeledRows(12, false);
    await writeShardWithDuckDB(path.join(folder, 'a.parquet'), rows.slice(0, 6), { images: false });
    await writeShardWithDuckDB(path.join(folder, 'nested', 'b.parquet'), rows.slice(6), {
      images: false,
    });
    const file = path.join(dir, 'p.pickstudio');
    const { call, store } = openTestProject(file);
    await call('importSources', { sources: [folder] });
    store.close();
    const before = projectDigest(file);

    const again = openTestProject(file);
    const report = await again.call('importSources', {
      sources: [folder, path.join(folder, 'a.parquet')],
    });
    again.store.close();
    expect(report.files).toHaveLength(2);
    expect(report.files.map((f) => [f.rows, f.rowsAlreadyPresent, f.pairsAdded])).toEqual([
      [6, 6, 0],
      [6, 6, 0],
    ]);
    expect(projectDigest(file)).toBe(before);
  });

  it('a ranking repeated inside one shard is imported once', async () => {
    const input = path.join(dir, 'dupes.parquet');
    const rows = await labeledRows(3, false);
    await writeShardWithDuckDB(
      input,
      [...rows, rows[1]!, { ...rows[2]!, label_0: 0, label_1: 1 }],
      { images: false },
    );
    const { call, store } = openTestProject(path.join(dir, 'p.pickstudio'));
    const report = await call('importSources', { sources: [input] });
    expect(report.files[0]).toMatchObject({
      rows: 5,
      pairsAdded: 3,
      annotationsAdded: 3,
      rowsAlreadyPresent: 2,
    });
    // The first occurrence of ranking 5002 wins: its tie stands, not the later (0, 1).
    expect(store.counts().verdicts).toEqual({ image0: 1, image1: 1, tie: 1 });
    store.close();
  });

  it("a shard whose name holds quotes is read (the path never goes into DuckDB's SQL as text)", async () => {
    const input = path.join(dir, `o'brien's "train" shard.parquet`);
    await writeShardWithDuckDB(input, await labeledRows(5, false), {
      images: false,
      rowGroupSize: 2,
    });
    const { call, store } = openTestProject(path.join(dir, 'p.pickstudio'));
    const report = await call('importSources', { sources: [input] });
    store.close();
    expect(report.files[0]).toMatchObject({ rows: 5, pairsAdded: 5, annotationsAdded: 5 });
  });

  it('a shard whose name holds glob characters is that file alone, not the files it would match', async () => {
    // As globs, `shard[1]` matches `shard1` and `shard*` every shard here.
    await writeShardWithDuckDB(path.join(dir, 'shard1.parquet'), await labeledRows(3, false), {
      images: false,
    });
    const bracketed = path.join(dir, 'shard[1].parquet');
    await writeShardWithDuckDB(bracketed, (await labeledRows(5, false)).slice(3), {
      images: false,
    });
    const starred = path.join(dir, 'shard*.parquet');
    fs.copyFileSync(bracketed, starred);
    for (const input of [bracketed, starred]) {
      const { call, store } = openTestProject(path.join(dir, `${path.basename(input)}.pickstudio`));
      const report = await call('importSources', { sources: [input] });
      store.close();
      expect(report.files[0], input).toMatchObject({ rows: 2, pairsAdded: 2 });
    }
  });

  it('a no-images import followed by the shard with images fills in the bytes', async () => {
    const rows = await labeledRows(4, true);
    const withImages = path.join(dir, 'with.parquet');
    const without = path.join(dir, 'without.parquet');
    await writeShardWithDuckDB(without, rows, { images: false });
    await writeShardWithDuckDB(
      withImages,
      rows.map((r) => ({ ...r, ranking_id: BigInt(r.ranking_id) + 1000n })),
      {
        images: true,
      },
    );
    const { call, store } = openTestProject(path.join(dir, 'p.pickstudio'));
    await call('importSources', { sources: [without] });
    expect(store.counts().imagesWithBytes).toBe(0);
    await call('importSources', { sources: [withImages] });
    expect(store.counts()).toMatchObject({
      pairs: 4,
      images: 8,
      imagesWithBytes: 8,
      annotations: 8,
    });
    store.close();
  });
});

describe('export verdicts', () => {
  it('uses the latest adjudication first, then a strict majority, and leaves out pairs without one', async () => {
    const input = path.join(dir, 'votes.parquet');
    const pair = (caption: string) => ({
      caption,
      image_0_uid: `${caption}-0`,
      image_1_uid: `${caption}-1`,
      has_label: true,
    });
    let id = 1;
    const vote = (caption: string, user: number, label0: number, label1: number): ShardRow => ({
      ...pair(caption),
      ranking_id: id++,
      user_id: user,
      label_0: label0,
      label_1: label1,
    });
    await writeShardWithDuckDB(
      input,
      [
        vote('majority-1', 1, 0, 1),
        vote('majority-1', 2, 0, 1),
        vote('majority-1', 3, 1, 0),
        vote('split', 1, 1, 0),
        vote('split', 2, 0, 1),
        vote('adjudicated', 1, 1, 0),
        vote('adjudicated', 2, 1, 0),
        vote('tie', 4, 0.5, 0.5),
      ],
      { images: false },
    );
    const { call, store } = openTestProject(path.join(dir, 'p.pickstudio'));
    await call('importSources', { sources: [input] });
    const adjudicatedPair = sqlite(store)
      .prepare(
        "SELECT p.id FROM pairs p JOIN prompts t ON t.id = p.prompt_id WHERE t.text = 'adjudicated'",
      )
      .get() as { id: number };
    store.decisions.adjudicate({
      pairId: adjudicatedPair.id,
      verdict: 0,
      adjudicator: 'lead',
      note: '',
    });
    store.decisions.adjudicate({
      pairId: adjudicatedPair.id,
      verdict: 1,
      adjudicator: 'lead',
      note: 'on reflection',
    });
    const out = path.join(dir, 'out.parquet');
    const report = await call('exportParquet', { out, images: false });
    store.close();
    expect(report).toMatchObject({ rows: 3, pairsWithoutMajority: 1 });
    const rows = await db.rows(
      `SELECT caption, label_0, label_1, best_image_uid, verdict_source, agreement, num_annotations, user_id FROM '${out}' ORDER BY caption`,
    );
    expect(rows).toEqual([
      {
        caption: 'adjudicated',
        label_0: 0,
        label_1: 1,
        best_image_uid: 'adjudicated-1',
        verdict_source: 'adjudication',
        agreement: 0,
        num_annotations: 2n,
        user_id: null,
      },
      {
        caption: 'majority-1',
        label_0: 0,
        label_1: 1,
        best_image_uid: 'majority-1-1',
        verdict_source: 'majority',
        agreement: 2 / 3,
        num_annotations: 3n,
        user_id: null,
      },
      {
        caption: 'tie',
        label_0: 0.5,
        label_1: 0.5,
        best_image_uid: null,
        verdict_source: 'majority',
        agreement: 1,
        num_annotations: 1n,
        user_id: 4n,
      },
    ]);
  });

  it('an app undo takes a decision back without deleting it', async () => {
    const input = path.join(dir, 'one.parquet');
    await writeShardWithDuckDB(
      input,
      [
        {
          ranking_id: 9,
          caption: 'c',
          image_0_uid: 'x',
          image_1_uid: 'y',
          has_label: false,
          label_0: null,
          label_1: null,
          user_id: 1,
        },
      ],
      { images: false },
    );
    const { call, store } = openTestProject(path.join(dir, 'p.pickstudio'));
    await call('importSources', { sources: [input] });
    const annotatorId = store.decisions.annotatorId('ana', 'human');
    const [first] = store.decisions.record([
      {
        pairId: 1,
        annotatorId,
        decision: 0,
        leftImage: 1,
        suggestionVisible: true,
        decisionMs: 900,
        createdAt: Date.now(),
      },
    ]);
    store.decisions.record([{ pairId: 1, annotatorId, undoes: first!, createdAt: Date.now() }]);
    store.decisions.record([
      {
        pairId: 1,
        annotatorId,
        decision: 'tie',
        leftImage: 0,
        suggestionVisible: false,
        decisionMs: 1200,
        createdAt: Date.now(),
      },
    ]);
    const out = path.join(dir, 'out.parquet');
    const annotationsOut = path.join(dir, 'raw.parquet');
    await call('exportParquet', { out, images: false, annotationsOut });
    store.close();
    expect(await db.rows(`SELECT label_0, label_1, num_annotations FROM '${out}'`)).toEqual([
      { label_0: 0.5, label_1: 0.5, num_annotations: 1n },
    ]);
    expect(
      await db.rows(
        `SELECT action, verdict, undoes_id, is_current, left_image, suggestion_visible, decision_ms FROM '${annotationsOut}' ORDER BY annotation_id`,
      ),
    ).toEqual([
      {
        action: 'verdict',
        verdict: '0',
        undoes_id: null,
        is_current: false,
        left_image: 1n,
        suggestion_visible: true,
        decision_ms: 900n,
      },
      {
        action: 'undo',
        verdict: null,
        undoes_id: 1n,
        is_current: false,
        left_image: null,
        suggestion_visible: null,
        decision_ms: null,
      },
      {
        action: 'verdict',
        verdict: 'tie',
        undoes_id: null,
        is_current: true,
        left_image: 0n,
        suggestion_visible: false,
        decision_ms: 1200n,
      },
    ]);
  });

  it('a failed export leaves no file under the real name and keeps an earlier export', async () => {
    const input = path.join(dir, 'in.parquet');
    await writeShardWithDuckDB(input, await labeledRows(3, false), { images: false });
    const { call, store } = openTestProject(path.join(dir, 'p.pickstudio'));
    await call('importSources', { sources: [input] });
    const out = path.join(dir, 'out.parquet');
    await call('exportParquet', { out, images: false });
    const earlier = fs.readFileSync(out);
    // Point an image at a file that is gone: reading it fails half way through the export.
    sqlite(store)
      .prepare("UPDATE images SET path = ? WHERE uid = 'uid-2-a'")
      .run(path.join(dir, 'gone.jpg'));
    await expect(call('exportParquet', { out, images: true })).rejects.toThrow(/gone\.jpg/);
    store.close();
    expect(fs.readFileSync(out).equals(earlier)).toBe(true);
    expect(fs.readdirSync(dir).filter((name) => name.includes('partial'))).toEqual([]);
  });
});

describe("the dataset's annotators", () => {
  const base = { caption: 'a kite over dunes', image_0_uid: 'K0', image_1_uid: 'K1' };
  const label = (verdict: 0 | 1) =>
    verdict === 0
      ? { label_0: 1, label_1: 0, has_label: true }
      : { label_0: 0, label_1: 1, has_label: true };

  it('keeps int64 ids exact past 2^53, through the import and both exports', async () => {
    const big = 2n ** 53n;
    const input = path.join(dir, 'big.parquet');
    // As doubles, the two rankings are one number and the two users one person.
    await writeShardWithDuckDB(
      input,
      [
        { ...base, ...label(0), ranking_id: big + 1n, user_id: 2n ** 60n + 3n },
        {
          ...base,
          ...label(1),
          caption: 'another kite',
          ranking_id: big + 2n,
          user_id: 2n ** 60n + 5n,
        },
      ],
      { images: false },
    );
    const { call, store } = openTestProject(path.join(dir, 'p.pickstudio'));
    const report = await call('importSources', { sources: [input] });
    expect(report.files[0]).toMatchObject({ rows: 2, pairsAdded: 2, annotationsAdded: 2 });
    const stats = await call('getStats', {});
    expect(stats.annotators.map((a) => a.name)).toEqual([
      `pickapic:${2n ** 60n + 3n}`,
      `pickapic:${2n ** 60n + 5n}`,
    ]);
    const out = path.join(dir, 'out.parquet');
    const annotationsOut = path.join(dir, 'annotations.parquet');
    await call('exportParquet', { out, images: false, annotationsOut });
    // Importing the same shard again adds nothing: both rankings are known, exactly.
    const again = await call('importSources', { sources: [input] });
    expect(again.files[0]).toMatchObject({
      pairsAdded: 0,
      annotationsAdded: 0,
      rowsAlreadyPresent: 2,
    });
    store.close();
    expect(
      await db.rows(
        `SELECT ranking_id::VARCHAR AS ranking, user_id::VARCHAR AS user FROM '${out}' ORDER BY ranking_id`,
      ),
    ).toEqual([
      { ranking: String(big + 1n), user: String(2n ** 60n + 3n) },
      { ranking: String(big + 2n), user: String(2n ** 60n + 5n) },
    ]);
    expect(
      await db.rows(`SELECT ranking_id::VARCHAR AS ranking FROM '${annotationsOut}' ORDER BY 1`),
    ).toEqual([{ ranking: String(big + 1n) }, { ranking: String(big + 2n) }]);
  });

  it('rankings without a user are votes of their own, not one unknown person', async () => {
    const input = path.join(dir, 'anonymous.parquet');
    await writeShardWithDuckDB(
      input,
      [
        { ...base, ...label(0), ranking_id: 1, user_id: null },
        { ...base, ...label(0), ranking_id: 2, user_id: null },
        { ...base, ...label(1), ranking_id: 3, user_id: null },
      ],
      { images: false },
    );
    const { call, store } = openTestProject(path.join(dir, 'p.pickstudio'));
    await call('importSources', { sources: [input] });
    const [pair] = await call('listPairs', {});
    expect(pair).toMatchObject({ annotations: 3 });
    const stats = await call('getStats', {});
    expect(stats.counts.verdicts).toEqual({ image0: 2, image1: 1, tie: 0 });
    expect(stats.annotators.map((a) => a.name)).toEqual([
      'pickapic:unknown:1',
      'pickapic:unknown:2',
      'pickapic:unknown:3',
    ]);
    const out = path.join(dir, 'out.parquet');
    await call('exportParquet', { out, images: false });
    store.close();
    expect(await db.rows(`SELECT num_annotations, label_0, user_id FROM '${out}'`)).toEqual([
      { num_annotations: 3n, label_0: 1, user_id: null },
    ]);
  });

  it("a user's latest label on a pair counts, by created_at whatever the order, in a file and across files", async () => {
    const first = path.join(dir, 'first.parquet');
    await writeShardWithDuckDB(
      first,
      [
        // The later label comes first in the file; the earlier one, after it, is dropped.
        { ...base, ...label(1), ranking_id: 10, user_id: 7, created_at: '2023-05-02 10:00:00' },
        { ...base, ...label(0), ranking_id: 11, user_id: 7, created_at: '2023-05-01 10:00:00' },
        { ...base, ...label(0), ranking_id: 12, user_id: 8, created_at: '2023-05-01 10:00:00' },
      ],
      { images: false },
    );
    const { call, store } = openTestProject(path.join(dir, 'p.pickstudio'));
    const report = await call('importSources', { sources: [first] });
    expect(report.files[0]).toMatchObject({
      rows: 3,
      annotationsAdded: 2,
      duplicatesDropped: 1,
      rowsAlreadyPresent: 0,
    });
    const verdictOf = async (user: string) =>
      (await call('getStats', { annotator: user })).annotators[0]!.verdicts;
    expect(await verdictOf('pickapic:7')).toEqual({ image0: 0, image1: 1, tie: 0 });

    // A later file: an older label of user 7 is dropped, a newer label of user 8 counts.
    const second = path.join(dir, 'second.parquet');
    await writeShardWithDuckDB(
      second,
      [
        { ...base, ...label(0), ranking_id: 13, user_id: 7, created_at: '2023-04-30 10:00:00' },
        { ...base, ...label(1), ranking_id: 14, user_id: 8, created_at: '2023-05-03 10:00:00' },
      ],
      { images: false },
    );
    const later = await call('importSources', { sources: [second] });
    expect(later.files[0]).toMatchObject({ annotationsAdded: 1, duplicatesDropped: 1 });
    expect(await verdictOf('pickapic:7')).toEqual({ image0: 0, image1: 1, tie: 0 });
    expect(await verdictOf('pickapic:8')).toEqual({ image0: 0, image1: 1, tie: 0 });
    // Every ranking is kept as the dataset had it, dropped labels included.
    expect(sqlite(store).prepare('SELECT count(*) FROM pair_sources').pluck().get()).toBe(5);
    store.close();
  });

  it("nobody labels under the dataset's names, and nobody undoes the dataset's or a manifest's labels", async () => {
    const input = path.join(dir, 'one.parquet');
    await writeShardWithDuckDB(input, [{ ...base, ...label(0), ranking_id: 1, user_id: 7 }], {
      images: false,
    });
    const file = path.join(dir, 'p.pickstudio');
    const { call, store } = openTestProject(file);
    await call('importSources', { sources: [input] });
    store.decisions.annotatorId('demo:ana', 'import');
    const before = projectDigest(file);
    for (const annotator of ['pickapic:7', 'PICKAPIC:99', ' pickapic:new']) {
      await expect(
        call('recordDecision', {
          annotator,
          pairId: 1,
          decision: 1,
          leftImage: 0,
          suggestionVisible: false,
          decisionMs: 1,
        }),
      ).rejects.toThrow(
        /annotator: names starting with pickapic: belong to the dataset's annotators/,
      );
      await expect(call('undoLast', { annotator })).rejects.toThrow(/pickapic:/);
    }
    await expect(call('undoLast', { annotator: 'demo:ana' })).rejects.toThrow(
      /"demo:ana" is already used by an import annotator/,
    );
    expect(projectDigest(file)).toBe(before);
    store.close();
  });
});

describe('export: images as imported, --jpeg, and adjudications', () => {
  // The export reads a run of pairs' images in one statement: every row must still get its own
  // pair's bytes, across runs and pages, in the row's order, and none where the project has none.
  it("gives every row its own pair's image bytes, in both exports, past one read's run of pairs", async () => {
    const withImages = path.join(dir, 'with-images.parquet');
    const withoutImages = path.join(dir, 'without-images.parquet');
    const rows = await labeledRows(150, true);
    await writeShardWithDuckDB(withImages, rows.slice(0, 110), { images: true });
    await writeShardWithDuckDB(withoutImages, rows.slice(110), { images: false });
    const { call, store } = openTestProject(path.join(dir, 'p.pickstudio'));
    await call('importSources', { sources: [withImages, withoutImages] });
    const pairsOut = path.join(dir, 'pairs.parquet');
    const labelsOut = path.join(dir, 'labels.parquet');
    await call('exportParquet', { out: pairsOut });
    await call('exportParquet', { out: labelsOut, perAnnotator: true });
    store.close();
    const expected = rows.map((row, i) => ({
      ranking_id: BigInt(row.ranking_id as number),
      jpg_0: i < 110 ? blob(row.jpg_0).toString('hex') : null,
      jpg_1: i < 110 ? blob(row.jpg_1).toString('hex') : null,
    }));
    for (const out of [pairsOut, labelsOut]) {
      const exported = await db.rows(
        `SELECT ranking_id, hex(jpg_0) AS jpg_0, hex(jpg_1) AS jpg_1 FROM '${out}' ORDER BY ranking_id`,
      );
      expect(
        exported.map((row) => ({
          ...row,
          jpg_0: (row.jpg_0 as string | null)?.toLowerCase() ?? null,
          jpg_1: (row.jpg_1 as string | null)?.toLowerCase() ?? null,
        })),
        out,
      ).toEqual(expected);
    }
  });

  /** A PNG over smooth colours whose alpha runs from 0 to 255, with the RGB it holds under it. */
  async function pngWithAlpha(seed: number, width: number, height: number) {
    const rgba = Buffer.alloc(width * height * 4);
    const rgb = Buffer.alloc(width * height * 3);
    for (let y = 0, i = 0; y < height; y++) {
      for (let x = 0; x < width; x++, i++) {
        const pixel = [seed + 3 * x, 30 + 4 * y, 220 - x - y];
        pixel.forEach((value, c) => {
          rgba[4 * i + c] = value;
          rgb[3 * i + c] = value;
        });
        rgba[4 * i + 3] = Math.round((255 * (x + y)) / (width + height - 2));
      }
    }
    const png = await sharp(rgba, { raw: { width, height, channels: 4 } })
      .png()
      .toBuffer();
    // The fixture holds what it says: a PNG with alpha, every channel as written.
    const decoded = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect(decoded.info).toMatchObject({ format: 'raw', channels: 4, width, height });
    expect(decoded.data.equals(rgba)).toBe(true);
    return { png, rgba, rgb, width, height };
  }

  /** Mean and largest absolute difference of two equal-length byte arrays. */
  function difference(a: Uint8Array, b: Uint8Array): { mean: number; max: number } {
    expect(a.length).toBe(b.length);
    let sum = 0;
    let max = 0;
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(a[i]! - b[i]!);
      sum += d;
      max = Math.max(max, d);
    }
    return { mean: sum / a.length, max };
  }

  /** The RGB a flatten on white would give: what PIL's convert('RGB') does not do. */
  function onWhite(rgba: Uint8Array): Buffer {
    const out = Buffer.alloc((rgba.length / 4) * 3);
    for (let i = 0; i < rgba.length / 4; i++) {
      const alpha = rgba[4 * i + 3]! / 255;
      for (let c = 0; c < 3; c++) {
        out[3 * i + c] = Math.round(rgba[4 * i + c]! * alpha + 255 * (1 - alpha));
      }
    }
    return out;
  }

  it('writes PNG and JPEG bytes as imported (stored and by path); jpeg re-encodes the PNGs only, alpha dropped', async () => {
    const stored = await pngWithAlpha(20, 64, 48);
    const onDisk = await pngWithAlpha(70, 50, 40);
    const jpegStored = await makeJpeg(5);
    const jpegOnDisk = await makeJpeg(6);
    const shard = path.join(dir, 'shard.parquet');
    await writeShardWithDuckDB(
      shard,
      [
        {
          ranking_id: 1,
          caption: 'stored',
          image_0_uid: 'png',
          image_1_uid: 'jpeg',
          label_0: 1,
          label_1: 0,
          has_label: true,
          user_id: 1,
          jpg_0: stored.png,
          jpg_1: jpegStored,
        },
      ],
      { images: true },
    );
    const folder = path.join(dir, 'set');
    fs.mkdirSync(folder);
    fs.writeFileSync(path.join(folder, 'a.png'), onDisk.png);
    fs.writeFileSync(path.join(folder, 'b.jpg'), jpegOnDisk);
    const manifest = path.join(folder, 'm.jsonl');
    fs.writeFileSync(
      manifest,
      JSON.stringify({ prompt: 'on disk', image_0: 'a.png', image_1: 'b.jpg', label: '0' }),
    );
    const { call, store } = openTestProject(path.join(dir, 'p.pickstudio'));
    await call('importSources', { sources: [shard, manifest] });
    const asImported = path.join(dir, 'as-imported.parquet');
    const asJpeg = path.join(dir, 'as-jpeg.parquet');
    await call('exportParquet', { out: asImported });
    await call('exportParquet', { out: asJpeg, jpeg: true });
    store.close();

    const read = async (file: string) =>
      (await db.rows(`SELECT caption, jpg_0, jpg_1 FROM '${file}' ORDER BY caption`)).map((row) => [
        blob(row.jpg_0),
        blob(row.jpg_1),
      ]);
    // By default: the bytes the project has, byte for byte, whatever their format.
    const [onDiskRow, storedRow] = await read(asImported);
    expect(onDiskRow![0]!.equals(onDisk.png)).toBe(true);
    expect(onDiskRow![1]!.equals(jpegOnDisk)).toBe(true);
    expect(storedRow![0]!.equals(stored.png)).toBe(true);
    expect(storedRow![1]!.equals(jpegStored)).toBe(true);

    // With jpeg: JPEGs unchanged; each PNG a JPEG of its RGB channels, alpha dropped.
    const [onDiskJpeg, storedJpeg] = await read(asJpeg);
    expect(onDiskJpeg![1]!.equals(jpegOnDisk)).toBe(true);
    expect(storedJpeg![1]!.equals(jpegStored)).toBe(true);
    for (const [bytes, source] of [
      [onDiskJpeg![0]!, onDisk],
      [storedJpeg![0]!, stored],
    ] as const) {
      const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
      expect((await sharp(bytes).metadata()).format).toBe('jpeg');
      expect(info).toMatchObject({ width: source.width, height: source.height, channels: 3 });
      const error = difference(data, source.rgb);
      expect(error.mean, 'mean error against the RGB channels').toBeLessThan(1.5);
      expect(error.max, 'largest error against the RGB channels').toBeLessThan(16);
      // On white, most pixels would be far off: the check tells the two apart.
      expect(difference(onWhite(source.rgba), source.rgb).mean).toBeGreaterThan(40);
    }
  });

  it('carries who adjudicated, when and the note into the pair export and the annotations export', async () => {
    const input = path.join(dir, 'votes.parquet');
    const row = (ranking: number, caption: string, label0: number): ShardRow => ({
      ranking_id: ranking,
      caption,
      image_0_uid: `${caption}-0`,
      image_1_uid: `${caption}-1`,
      label_0: label0,
      label_1: 1 - label0,
      has_label: true,
      user_id: ranking,
    });
    await writeShardWithDuckDB(
      input,
      [row(1, 'judged', 1), row(2, 'noted', 1), row(3, 'plain', 0)],
      {
        images: false,
      },
    );
    const { call, store } = openTestProject(path.join(dir, 'p.pickstudio'));
    await call('importSources', { sources: [input] });
    const pairOf = (caption: string) =>
      (
        sqlite(store)
          .prepare('SELECT p.id FROM pairs p JOIN prompts t ON t.id = p.prompt_id WHERE t.text = ?')
          .get(caption) as { id: number }
      ).id;
    const judged = pairOf('judged');
    const noted = pairOf('noted');
    await call('adjudicate', { pairId: judged, verdict: 0, adjudicator: 'lee' });
    await call('adjudicate', { pairId: noted, verdict: 1, adjudicator: 'lee', note: 'sharper' });
    await call('adjudicate', {
      pairId: judged,
      verdict: 'tie',
      adjudicator: 'kim',
      note: 'both “fine” 🦊',
    });
    const at = (
      sqlite(store)
        .prepare('SELECT created_at FROM adjudications ORDER BY id')
        .pluck()
        .all() as number[]
    ).map((ms) => new Date(ms));
    const out = path.join(dir, 'out.parquet');
    const raw = path.join(dir, 'raw.parquet');
    const report = await call('exportParquet', { out, images: false, annotationsOut: raw });
    store.close();
    expect(report).toMatchObject({ rows: 3, annotationRows: 6 });

    const types = async (file: string) =>
      Object.fromEntries(
        (await db.rows(`DESCRIBE SELECT * FROM '${file}'`)).map((r) => [
          r.column_name,
          r.column_type,
        ]),
      );
    expect(await types(out)).toMatchObject({
      adjudicator: 'VARCHAR',
      adjudicated_at: 'TIMESTAMP',
      adjudication_note: 'VARCHAR',
    });
    expect(
      await db.rows(
        `SELECT caption, label_0, verdict_source, adjudicator, adjudicated_at, adjudication_note FROM '${out}' ORDER BY caption`,
      ),
    ).toEqual([
      {
        caption: 'judged',
        label_0: 0.5,
        verdict_source: 'adjudication',
        adjudicator: 'kim',
        adjudicated_at: at[2],
        adjudication_note: 'both “fine” 🦊',
      },
      {
        caption: 'noted',
        label_0: 0,
        verdict_source: 'adjudication',
        adjudicator: 'lee',
        adjudicated_at: at[1],
        adjudication_note: 'sharper',
      },
      {
        caption: 'plain',
        label_0: 0,
        verdict_source: 'majority',
        adjudicator: null,
        adjudicated_at: null,
        adjudication_note: null,
      },
    ]);

    const rawTypes = await types(raw);
    expect(rawTypes).toMatchObject({
      note: 'VARCHAR',
      adjudication_id: 'BIGINT',
      annotation_id: 'BIGINT',
    });
    // The annotation log's rows as before, then the adjudications, each in the order written.
    const dataset = (id: number, caption: string, label0: number) => ({
      annotation_id: BigInt(id),
      adjudication_id: null,
      caption,
      annotator: `pickapic:${id}`,
      annotator_kind: 'dataset',
      action: 'verdict',
      verdict: label0 === 1 ? '0' : '1',
      label_0: label0,
      label_1: 1 - label0,
      is_current: true,
      note: null,
    });
    const adjudication = (id: number, caption: string, by: string, verdict: string) => ({
      annotation_id: null,
      adjudication_id: BigInt(id),
      caption,
      annotator: by,
      annotator_kind: 'lead',
      action: 'adjudication',
      verdict,
      label_0: verdict === 'tie' ? 0.5 : verdict === '0' ? 1 : 0,
      label_1: verdict === 'tie' ? 0.5 : verdict === '0' ? 0 : 1,
    });
    expect(
      await db.rows(
        `SELECT annotation_id, adjudication_id, caption, annotator, annotator_kind, action, verdict, label_0, label_1, is_current, note FROM '${raw}'`,
      ),
    ).toEqual([
      dataset(1, 'judged', 1),
      dataset(2, 'noted', 1),
      dataset(3, 'plain', 0),
      { ...adjudication(1, 'judged', 'lee', '0'), is_current: false, note: '' },
      { ...adjudication(2, 'noted', 'lee', '1'), is_current: true, note: 'sharper' },
      { ...adjudication(3, 'judged', 'kim', 'tie'), is_current: true, note: 'both “fine” 🦊' },
    ]);
    expect(
      await db.rows(
        `SELECT created_at, pair_id, ranking_id, undoes_id, left_image FROM '${raw}' WHERE action = 'adjudication'`,
      ),
    ).toEqual(
      [judged, noted, judged].map((pairId, i) => ({
        created_at: at[i],
        pair_id: BigInt(pairId),
        ranking_id: null,
        undoes_id: null,
        left_image: null,
      })),
    );
  });
});

describe("--per-annotator: Pick-a-Pic's native form, one row per annotator and pair", () => {
  const SAME_ROW = `ranking_id, user_id, caption, created_at, image_0_uid, image_1_uid, image_0_url,
    image_1_url, model_0, model_1, label_0, label_1, best_image_uid, has_label,
    num_example_per_prompt, md5(jpg_0) AS jpg_0, md5(jpg_1) AS jpg_1`;

  it('gives a shard back as it went in: same rankings, users, labels, captions and image bytes', async () => {
    const input = path.join(dir, 'shard.parquet');
    const [a, b, c, d] = await Promise.all([makeJpeg(1), makeJpeg(2), makeJpeg(3), makeJpeg(4)]);
    const pair = { caption: 'a heron', image_0_uid: 'H0', image_1_uid: 'H1', jpg_0: a, jpg_1: b };
    await writeShardWithDuckDB(
      input,
      [
        { ...pair, ranking_id: 7, user_id: 1, label_0: 1, label_1: 0, has_label: true },
        { ...pair, ranking_id: 8, user_id: 2, label_0: 0.5, label_1: 0.5, has_label: true },
        // The same pair the other way round: it must come back in its own order.
        {
          caption: 'a heron',
          image_0_uid: 'H1',
          image_1_uid: 'H0',
          jpg_0: b,
          jpg_1: a,
          // Each image keeps its generator, whichever side it is on.
          model_0: 'sdxl-beta',
          model_1: 'stable-diffusion-2-1',
          ranking_id: 9,
          user_id: 3,
          label_0: 1,
          label_1: 0,
          has_label: true,
        },
        {
          caption: 'two owls',
          image_0_uid: 'O0',
          image_1_uid: 'O1',
          jpg_0: c,
          jpg_1: d,
          ranking_id: 2n ** 60n,
          user_id: 2n ** 55n + 1n,
          label_0: 0,
          label_1: 1,
          has_label: true,
          created_at: '2023-06-01 08:09:10',
        },
      ],
      { images: true },
    );
    const { call, store } = openTestProject(path.join(dir, 'p.pickstudio'));
    await call('importSources', { sources: [input] });
    const out = path.join(dir, 'per-annotator.parquet');
    const report = await call('exportParquet', { out, perAnnotator: true });
    expect(report.rows).toBe(4);
    store.close();
    const rows = (file: string) => db.rows(`SELECT ${SAME_ROW} FROM '${file}' ORDER BY ranking_id`);
    expect(await rows(out)).toEqual(await rows(input));
    expect(await db.rows(`SELECT annotator FROM '${out}' ORDER BY ranking_id`)).toEqual([
      { annotator: 'pickapic:1' },
      { annotator: 'pickapic:2' },
      { annotator: 'pickapic:3' },
      { annotator: `pickapic:${2n ** 55n + 1n}` },
    ]);
  });

  it('local labels get stable ids and re-import into a fresh project with nothing lost', async () => {
    const input = path.join(dir, 'shard.parquet');
    await writeShardWithDuckDB(input, await labeledRows(4, true), { images: true });
    const file = path.join(dir, 'p.pickstudio');
    const { call, store } = openTestProject(file);
    await call('importSources', { sources: [input] });
    const pairs = await call('listPairs', {});
    for (const [i, pair] of pairs.entries()) {
      await call('recordDecision', {
        annotator: 'ana',
        pairId: pair.pairId,
        decision: i % 3 === 0 ? 'tie' : i % 2 === 0 ? 0 : 1,
        leftImage: 0,
        suggestionVisible: false,
        decisionMs: 900,
      });
    }
    const first = path.join(dir, 'first.parquet');
    const second = path.join(dir, 'second.parquet');
    await call('exportParquet', { out: first, perAnnotator: true });
    await call('exportParquet', { out: second, perAnnotator: true });
    const current = (project: ReturnType<typeof openTestProject>) =>
      sqlite(project.store)
        .prepare(
          `SELECT pr.text AS prompt, n.name AS annotator, d.verdict, d.created_at AS createdAt
           FROM decisions d JOIN pairs p ON p.id = d.pair_id JOIN prompts pr ON pr.id = p.prompt_id
           JOIN annotators n ON n.id = d.annotator_id WHERE d.action = 'verdict'
           ORDER BY pr.text, n.name`,
        )
        .all();
    const before = current({ call, store } as ReturnType<typeof openTestProject>);
    store.close();
    const ids = `SELECT ranking_id, user_id, annotator FROM '${first}' WHERE annotator = 'ana' ORDER BY ranking_id`;
    const anas = await db.rows(ids);
    expect(anas).toHaveLength(4);
    // Stable: the same ids in a second export; above every dataset id; one user for ana.
    expect(await db.rows(ids.replace(first, second))).toEqual(anas);
    expect(anas.every((r) => (r.ranking_id as bigint) >= 2n ** 62n)).toBe(true);
    expect(new Set(anas.map((r) => r.user_id)).size).toBe(1);
    expect(anas[0]!.user_id as bigint).toBeGreaterThanOrEqual(2n ** 62n);

    const fresh = openTestProject(path.join(tempDir(), 'fresh.pickstudio'));
    const report = await fresh.call('importSources', { sources: [first] });
    expect(report.files[0]).toMatchObject({ rows: 8, annotationsAdded: 8, duplicatesDropped: 0 });
    expect(current(fresh)).toEqual(before);
    // And back out again: the same rows, images included.
    const again = path.join(dir, 'again.parquet');
    await fresh.call('exportParquet', { out: again, perAnnotator: true });
    fresh.store.close();
    const all = (f: string) =>
      db.rows(`SELECT ${SAME_ROW}, annotator FROM '${f}' ORDER BY ranking_id`);
    expect(await all(again)).toEqual(await all(first));
  });
});
