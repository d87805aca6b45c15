/**
 * Pick-a-Pic v2 scale: a project of 1,000,000 pairs (no images) with 3,000,000 annotations, built
 * through the real import, then the hot paths timed through the dispatcher, as a door calls them.
 * Prints figures; asserts nothing.
 *
 *   npm run bench:scale                            (node --import tsx bench/scale.ts)
 *   SCALE_PAIRS=100000 SCALE_SAMPLES=500 SCALE_RUNS=3 npm run bench:scale
 *   SCALE_DIR=/tmp/scale npm run bench:scale                 (keeps the project there)
 *   SCALE_DIR=/tmp/scale SCALE_STEPS=dashboard,label npm run bench:scale   (measures again)
 *
 * Data: SCALE_PAIRS Pick-a-Pic rows (bench/lib.ts pickapicRowsSql, no jpg columns), each written
 * three times with its own ranking_id, user (of 2,000; three different users per pair) and label,
 * so the import makes one pair of the three rows and three dataset annotations. Then a random
 * model's scores for every pair (SQL, not the encoders: bench:score times those).
 *
 * Each step runs in a child process of its own, so its peak memory (maxRSS, which includes Node
 * and tsx, about the "idle" step's figure) is its own. Merging: 10 packages of 10,000 decisions
 * (SCALE_MERGE_PACKAGES, SCALE_MERGE_DECISIONS).
 *
 * It ends with the targets of issue #15 (and #12's merge), each figure beside its target and a
 * baseline from the same run (DuckDB's own scan and COPY, a bare insert, ...), then one JSON line
 * naming every figure. Figures other benches measure come from running them (SCALE_WITH, see
 * otherBenches); `SCALE_WITH=` leaves them out.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { openStudio, type Studio } from '../electron/core/studio';
import {
  figuresIn,
  fullScanSql,
  median,
  mib,
  openDuck,
  printFigures,
  pickapicRowsSql,
  quantile,
  sqlString,
  table,
  USER_POOL,
  type NamedFigures,
} from './lib';
import { sqlite } from '../tests/helpers/project';

const PAIRS = Number(process.env.SCALE_PAIRS ?? 1_000_000);
const PER_PAIR = 3;
const SHARDS = Math.max(1, Math.round(Number(process.env.SCALE_SHARDS ?? 10)));
const SAMPLES = Number(process.env.SCALE_SAMPLES ?? 2000);
const RUNS = Math.max(1, Number(process.env.SCALE_RUNS ?? 3));
const VETERAN_PAIRS = Math.floor(PAIRS / 2);
const MERGE_PACKAGES = Number(process.env.SCALE_MERGE_PACKAGES ?? 10);
const MERGE_DECISIONS = Number(process.env.SCALE_MERGE_DECISIONS ?? 10_000);
/** SCALE_STEPS=dashboard,label with SCALE_DIR: measure again on a project built before. */
const STEPS_TO_RUN = process.env.SCALE_STEPS?.split(',') ?? null;

const log = (line = ''): void => {
  process.stdout.write(line + '\n');
};
const ms = (value: number): string => `${value < 10 ? value.toFixed(3) : value.toFixed(0)} ms`;
const elapsed = (started: number): number => performance.now() - started;

type Figures = Record<string, number | string>;

// ---------------------------------------------------------------------------------------------
// Steps (each in its own process)

function open(dir: string) {
  const studio = openStudio(path.join(dir, 'scale.pickstudio'), { create: true });
  return { store: studio.store, call: studio.call };
}

const STEPS: Record<string, (dir: string) => Promise<Figures>> = {
  /** Node, tsx and the modules loaded: what every step's peak memory starts from. */
  async idle() {
    return {};
  },

  async shards(dir) {
    const duck = await openDuck();
    const started = performance.now();
    try {
      const per = Math.ceil(PAIRS / SHARDS);
      await duck.run(`CREATE TABLE base AS ${pickapicRowsSql(PAIRS, { sharedImages: true })}`);
      for (let s = 0; s < SHARDS; s++) {
        // Three rows per pair by three different users: the caption's user, then one offset
        // from each of two disjoint ranges, so users meet on few pairs, as in Pick-a-Pic; labels
        // drawn per row, ~10% ties, all labeled.
        await duck.run(`COPY (
          SELECT b.* EXCLUDE (row_no, ranking_id, user_id, label_0, label_1, has_label,
              best_image_uid),
            true AS has_label,
            CASE WHEN lr < 45 THEN b.image_0_uid WHEN lr < 90 THEN b.image_1_uid END AS best_image_uid,
            CASE WHEN lr < 45 THEN 1.0 WHEN lr < 90 THEN 0.0 ELSE 0.5 END::DOUBLE AS label_0,
            CASE WHEN lr < 45 THEN 0.0 WHEN lr < 90 THEN 1.0 ELSE 0.5 END::DOUBLE AS label_1,
            (b.ranking_id * ${PER_PAIR} + r)::BIGINT AS ranking_id,
            ((b.user_id - 1 + CASE r WHEN 0 THEN 0 ELSE (r - 1) * 666 + 1 + hash(row_no, r, 'u') % 666 END)
              % ${USER_POOL} + 1)::BIGINT AS user_id
          FROM (SELECT *, (hash(row_no, r) % 100)::BIGINT AS lr
                FROM base, range(${PER_PAIR}) t(r)
                WHERE row_no >= ${s * per} AND row_no < ${(s + 1) * per}) b
          ORDER BY row_no, r
        ) TO ${sqlString(path.join(dir, `shard-${String(s).padStart(3, '0')}.parquet`))}
          (FORMAT parquet, ROW_GROUP_SIZE 10000)`);
      }
    } finally {
      duck.close();
    }
    return { seconds: elapsed(started) / 1000 };
  },

  async import(dir) {
    const shards = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.parquet'))
      .map((f) => path.join(dir, f));
    const { store, call } = open(dir);
    const started = performance.now();
    await call('importSources', { sources: shards });
    const seconds = elapsed(started) / 1000;
    const counts = store.counts();
    // A random model's scores for every pair: the audit's PickScore figures need them.
    const model = store.scores.activate({
      fingerprint: 'bench-scale',
      name: 'random scores (bench:scale)',
      manifest: '{}',
      folder: dir,
    });
    sqlite(store)
      .prepare(
        `INSERT INTO scores (model_id, pair_id, score_0, score_1, p_0)
         SELECT ?, id, 0, 0, ((id * 2654435761) % 1000003) / 1000003.0 FROM pairs`,
      )
      .run(model);
    sqlite(store).pragma('wal_checkpoint(TRUNCATE)');
    store.close();
    return {
      seconds,
      rows: PAIRS * PER_PAIR,
      pairs: counts.pairs,
      annotations: counts.annotations,
      annotators: counts.annotators,
      bytes: fs.statSync(path.join(dir, 'scale.pickstudio')).size,
    };
  },

  /**
   * As the lead's page asks: the figures (no resamples), then their bootstrap intervals, computed
   * in the core's worker, then the intervals again, kept. The longest stall of this thread
   * while the worker reads and resamples is what a labeling call arriving then would wait.
   * The first figures after opening read every verdict, timed apart; the worker keeps them, and
   * each run's figures, after a change, read the pairs it changed (audit/verdict-table.ts).
   */
  async dashboard(dir) {
    const figures: number[] = [];
    const intervals: number[] = [];
    const kept: number[] = [];
    const stalls: number[] = [];
    const { store, call } = open(dir);
    const firstStarted = performance.now();
    await call('getAudit', { filters: {}, resamples: 0 });
    const first = elapsed(firstStarted);
    for (let run = 0; run < RUNS; run++) {
      // A skip taken back: no figure changes, but the project did, so nothing is kept.
      const skip = { annotator: 'bench:dashboard', pairId: 1, decision: 'skip' } as const;
      await call('recordDecision', {
        ...skip,
        leftImage: 0,
        suggestionVisible: false,
        decisionMs: 1000,
      });
      await call('undoLast', { annotator: skip.annotator });
      const loop = monitorEventLoopDelay({ resolution: 5 });
      loop.enable();
      // The histogram counts from its timer's first tick on.
      await new Promise((resolve) => setTimeout(resolve, 20));
      let started = performance.now();
      await call('getAudit', { filters: {}, resamples: 0 });
      figures.push(elapsed(started));
      started = performance.now();
      await call('getAudit', { filters: {} });
      intervals.push(elapsed(started));
      loop.disable();
      stalls.push(loop.max / 1e6);
      started = performance.now();
      await call('getAudit', { filters: {} });
      kept.push(elapsed(started));
    }
    // Baseline: one pass in SQLite over the current verdicts, nothing crossing to JavaScript.
    const baseline: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const started = performance.now();
      sqlite(store)
        .prepare("SELECT count(*), sum(pair_id) FROM decisions WHERE action = 'verdict'")
        .get();
      baseline.push(elapsed(started));
    }
    const filtered: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const started = performance.now();
      await call('getAudit', {
        filters: { generator: 'sdxl-beta', minConfidence: 0.2 },
        resamples: 0,
      });
      filtered.push(elapsed(started));
    }
    const review: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const started = performance.now();
      await call('listDisagreements', { kind: 'any', limit: 50 });
      review.push(elapsed(started));
    }
    store.close();
    return {
      ms: median(figures),
      first,
      intervalsMs: median(intervals),
      intervalsStallMs: median(stalls),
      keptMs: median(kept),
      baselineMs: median(baseline),
      filteredMs: median(filtered),
      reviewMs: median(review),
    };
  },

  async export(dir) {
    const { store, call } = open(dir);
    const times: number[] = [];
    let rows = 0;
    const out = path.join(dir, 'export.parquet');
    for (let run = 0; run < RUNS; run++) {
      const started = performance.now();
      const result = await call('exportParquet', { out });
      times.push(elapsed(started));
      rows = result.rows;
    }
    store.close();
    return { ms: median(times), rows, bytes: fs.statSync(out).size };
  },

  /**
   * DuckDB's own scan of the shards and COPY of the exported rows, in a process of their own so
   * that DuckDB's memory is not counted as the import's or the export's.
   */
  async baselines(dir) {
    const exported = path.join(dir, 'export.parquet');
    return {
      duckdbScanSeconds: await duckdbScanSeconds(dir),
      ...(fs.existsSync(exported) ? { duckdbCopyMs: await duckdbCopyMs(exported) } : {}),
    };
  },

  async label(dir) {
    return labelingFigures(dir, 'bench:ana');
  },

  /** An annotator who has decided the first half of the pairs (added here, in one statement). */
  async veteran(dir) {
    const { store } = open(dir);
    const annotator = store.decisions.annotatorId('bench:veteran', 'human');
    sqlite(store)
      .prepare(
        `INSERT INTO annotations (pair_id, annotator_id, action, verdict, left_image, decision_ms,
           created_at)
         SELECT id, ?, 'verdict', CASE id % 3 WHEN 0 THEN '0' WHEN 1 THEN '1' ELSE 'tie' END,
           id % 2, 2000, 1700000000000 + id
         FROM pairs WHERE id <= ?`,
      )
      .run(annotator, VETERAN_PAIRS);
    store.close();
    const figures = await labelingFigures(dir, 'bench:veteran');
    // The first next pair of a session: the project keeps where the annotator got to.
    const reopened = open(dir);
    const started = performance.now();
    await reopened.call('getQueue', { annotator: 'bench:veteran', count: 5 });
    const firstAfterReopen = elapsed(started);
    reopened.store.close();
    return { ...figures, firstAfterReopen };
  },

  async overlap(dir) {
    await settings(dir, { overlap: PER_PAIR + 1 });
    const figures = await labelingFigures(dir, 'bench:overlap');
    await settings(dir, { overlap: null });
    return figures;
  },

  /**
   * The team loop at scale, RUNS times: MERGE_PACKAGES packages of MERGE_DECISIONS pairs each are
   * made from the project (pickstudio pack), each labeled in full (decisions written in one
   * statement, as an annotator's days of work would leave them), then merged back in one call,
   * timed, and the same events appended bare, timed, the two in turn first (the second finds the
   * pages the first read and wrote in the cache); each run takes the next pairs no package has
   * had. Medians.
   */
  async merge(dir) {
    const { store, call } = open(dir);
    // The pairs given bytes below are the packages' only in project order, one package a pair.
    await call('setSettings', { queueOrder: 'project', overlap: null });
    const runs: { seconds: number; appendSeconds: number; packSeconds: number }[] = [];
    let added = 0;
    let filled = 0;
    for (let run = 0; run < RUNS; run++) {
      const packages = await labeledPackages(store, call, dir);
      const appendFirst = run % 2 === 1;
      const appendedFirst = appendFirst ? bareAppend(sqlite(store), packages.files) : 0;
      const started = performance.now();
      const report = await call('merge', { sources: packages.files });
      const seconds = elapsed(started) / 1000;
      added = report.files.reduce((sum, f) => sum + f.annotationsAdded, 0);
      filled = report.files.reduce((sum, f) => sum + f.imagesFilled, 0);
      const appendSeconds =
        (appendFirst ? appendedFirst : bareAppend(sqlite(store), packages.files)) / 1000;
      runs.push({ seconds, appendSeconds, packSeconds: packages.seconds });
      // The step's stdout is its figures; this goes to the terminal as it happens.
      process.stderr.write(
        `  merge run ${run + 1} of ${RUNS}: ${seconds.toFixed(2)} s, bare append ${appendSeconds.toFixed(2)} s (${appendFirst ? 'first' : 'after'})\n`,
      );
    }
    store.close();
    const of = (key: keyof (typeof runs)[number]): number => median(runs.map((r) => r[key]));
    return {
      added,
      filled,
      seconds: of('seconds'),
      packSeconds: of('packSeconds'),
      appendSeconds: of('appendSeconds'),
      packages: MERGE_PACKAGES,
      runs: RUNS,
    };
  },

  async uncertainty(dir) {
    await settings(dir, { queueOrder: 'uncertainty' });
    const figures = await labelingFigures(dir, 'bench:active');
    await settings(dir, { queueOrder: 'project' });
    return figures;
  },
};

/** The import's baseline: DuckDB reading every column of the same shards, median seconds. */
async function duckdbScanSeconds(dir: string): Promise<number> {
  const duck = await openDuck();
  try {
    const times: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const started = performance.now();
      await duck.rows(fullScanSql(path.join(dir, 'shard-*.parquet'), false));
      times.push(elapsed(started) / 1000);
    }
    return median(times);
  } finally {
    duck.close();
  }
}

/**
 * The export's baseline: DuckDB writing the same rows, of the same schema, from its own memory
 * (`COPY`), median milliseconds.
 */
async function duckdbCopyMs(exported: string): Promise<number> {
  const duck = await openDuck();
  const copy = `${exported}.duckdb-copy.parquet`;
  try {
    await duck.run(`CREATE TABLE exported AS SELECT * FROM read_parquet(${sqlString(exported)})`);
    const times: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const started = performance.now();
      await duck.run(`COPY exported TO ${sqlString(copy)} (FORMAT parquet)`);
      times.push(elapsed(started));
    }
    return median(times);
  } finally {
    duck.close();
    fs.rmSync(copy, { force: true });
  }
}

/**
 * MERGE_PACKAGES packages of the next pairs no package has had, each labeled in full. The project
 * came from shards without jpg columns, and a package carries every image's bytes: the images of
 * those pairs get bytes of their own (64 random ones each) first, and those writes are
 * checkpointed, so that the merge timed after does not copy them into the project file.
 */
async function labeledPackages(
  store: Studio['store'],
  call: Studio['call'],
  dir: string,
): Promise<{ files: string[]; seconds: number }> {
  sqlite(store).exec(`
    CREATE TEMP TABLE fake AS SELECT id, lower(hex(randomblob(32))) AS sha FROM images
    WHERE sha256 IS NULL AND id IN (
      WITH next AS (SELECT id, image_0_id, image_1_id FROM pairs
                    WHERE id NOT IN (SELECT pair_id FROM package_pairs)
                    ORDER BY id LIMIT ${MERGE_PACKAGES * MERGE_DECISIONS})
      SELECT image_0_id FROM next UNION SELECT image_1_id FROM next);
    CREATE UNIQUE INDEX temp.fake_by_id ON fake (id);
    INSERT INTO image_blobs (sha256, bytes, format, width, height)
      SELECT sha, randomblob(64), 'png', 1, 1 FROM temp.fake;
    UPDATE images SET sha256 = (SELECT sha FROM temp.fake f WHERE f.id = images.id)
      WHERE id IN (SELECT id FROM temp.fake);`);
  const files: string[] = [];
  const started = performance.now();
  for (let i = 0; i < MERGE_PACKAGES; i++) {
    const out = path.join(dir, `package-${i}.pickstudio`);
    fs.rmSync(out, { force: true });
    await call('makePackage', { out, annotator: `bench:package-${i}`, pairs: MERGE_DECISIONS });
    files.push(out);
  }
  const seconds = elapsed(started) / 1000;
  sqlite(store).exec('DROP TABLE temp.fake');
  for (const [i, file] of files.entries()) {
    const pkg = openStudio(file);
    const annotator = pkg.store.decisions.annotatorId(`bench:package-${i}`, 'human');
    sqlite(pkg.store)
      .prepare(
        `INSERT INTO annotations (pair_id, annotator_id, action, verdict, left_image,
           suggestion_visible, decision_ms, created_at)
         SELECT id, ?, 'verdict', CASE id % 3 WHEN 0 THEN '0' WHEN 1 THEN '1' ELSE 'tie' END,
           id % 2, 1, 1500 + id % 1000, 1700000000000 + id
         FROM pairs`,
      )
      .run(annotator);
    pkg.close();
  }
  sqlite(store).pragma('wal_checkpoint(TRUNCATE)');
  return { files, seconds };
}

/**
 * The merge's floor: the same events appended again, each package's in one transaction, by the
 * pair ids the package kept, with nothing matched, checked or skipped; the decisions table and
 * tallies follow by their triggers, row by row (the merge keeps them set-based, appendInBulk).
 * Milliseconds.
 */
function bareAppend(db: ReturnType<typeof sqlite>, packages: string[]): number {
  const started = performance.now();
  for (const [i, file] of packages.entries()) {
    db.prepare('ATTACH DATABASE ? AS src').run(file);
    db.transaction(() => {
      const annotator = db
        .prepare(`INSERT INTO annotators (name, kind, created_at, uid) VALUES (?, 'human', 0, ?)`)
        .run(`bench:append-${i}-${Date.now()}`, `bench-append-${i}-${Date.now()}`).lastInsertRowid;
      db.prepare(
        `INSERT INTO annotations (pair_id, annotator_id, action, verdict, left_image,
           suggestion_visible, decision_ms, created_at)
         SELECT pair_id, ?, action, verdict, left_image, suggestion_visible, decision_ms, created_at
         FROM src.annotations ORDER BY id`,
      ).run(annotator);
    }).immediate();
    db.exec('DETACH DATABASE src');
  }
  return elapsed(started);
}

async function settings(dir: string, change: Record<string, unknown>): Promise<void> {
  const { store, call } = open(dir);
  await call('setSettings', change);
  store.close();
}

/**
 * Each call starts as a task of its own, as IPC and HTTP deliver calls, so that what the store
 * runs between calls (its checkpoints, on a timer) runs between these too. Called back to back in
 * one task, nothing could run between them, and all 2,000 verdicts would extend the WAL.
 */
const betweenCalls = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * What the labeling view does, SAMPLES times: ask for the next pair (holding the queue it has,
 * as the view does), then record a verdict on the pair it shows. Baselines in the same process:
 * a primary-key read of one pair, and an insert into a one-column table of the same file.
 */
async function labelingFigures(dir: string, annotator: string, samples = SAMPLES) {
  const { store, call } = open(dir);
  const next: number[] = [];
  const verdict: number[] = [];
  let held: number[] = [];
  for (let i = 0; i < samples; i++) {
    await betweenCalls();
    let started = performance.now();
    const queue = await call('getQueue', {
      annotator,
      count: 5 - held.length,
      excludePairIds: held,
    });
    next.push(elapsed(started));
    held = [...held, ...queue.pairs.map((p) => p.pairId)];
    const pairId = held.shift();
    if (pairId === undefined) break;
    await betweenCalls();
    started = performance.now();
    await call('recordDecision', {
      annotator,
      pairId,
      decision: i % 3 === 0 ? 'tie' : i % 2 === 0 ? 0 : 1,
      leftImage: 0,
      suggestionVisible: false,
      decisionMs: 1500,
    });
    verdict.push(elapsed(started));
  }
  const lookup: number[] = [];
  const insert: number[] = [];
  const onePair = sqlite(store).prepare('SELECT * FROM pairs WHERE id = ?');
  sqlite(store).exec('CREATE TABLE IF NOT EXISTS bench_baseline (x INTEGER)');
  const bare = sqlite(store).prepare('INSERT INTO bench_baseline VALUES (?)');
  for (let i = 0; i < samples; i++) {
    await betweenCalls();
    let started = performance.now();
    onePair.get(1 + ((i * 7919) % PAIRS));
    lookup.push(elapsed(started));
    started = performance.now();
    bare.run(i);
    insert.push(elapsed(started));
  }
  // The same verdicts without waiting for the disk (synchronous = NORMAL): what the fsync costs.
  sqlite(store).pragma('synchronous = NORMAL');
  const unsynced: number[] = [];
  for (let i = 0; i < Math.min(samples, 200); i++) {
    const pairId = held.shift() ?? (await nextPair(call, annotator));
    if (pairId === undefined) break;
    await betweenCalls();
    const started = performance.now();
    await call('recordDecision', {
      annotator,
      pairId,
      decision: 1,
      leftImage: 1,
      suggestionVisible: false,
      decisionMs: 1500,
    });
    unsynced.push(elapsed(started));
  }
  sqlite(store).exec('DROP TABLE bench_baseline');
  store.close();
  return {
    samples: next.length,
    nextFirst: next[0]!,
    nextMedian: median(next),
    nextP99: quantile(next, 0.99),
    nextMax: Math.max(...next),
    verdictMedian: median(verdict),
    verdictP99: quantile(verdict, 0.99),
    lookupMedian: median(lookup),
    insertMedian: median(insert),
    insertP99: quantile(insert, 0.99),
    unsyncedMedian: median(unsynced),
    unsyncedP99: quantile(unsynced, 0.99),
  };
}

async function nextPair(call: Studio['call'], annotator: string): Promise<number | undefined> {
  const queue = await call('getQueue', { annotator, count: 1 });
  return queue.pairs[0]?.pairId;
}

// ---------------------------------------------------------------------------------------------
// The driver

function runStep(name: string, dir: string): Figures & { maxRssBytes: number } {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--step', name, dir],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 2 ** 24 },
  );
  return JSON.parse(out.trim().split('\n').at(-1)!) as Figures & { maxRssBytes: number };
}

async function main(): Promise<void> {
  const dir =
    process.env.SCALE_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'pickstudio-bench-scale-'));
  fs.mkdirSync(dir, { recursive: true });
  log(
    `bench:scale: ${PAIRS.toLocaleString('en')} pairs x ${PER_PAIR} annotations, ${SHARDS} shards, ` +
      `${SAMPLES} labeling samples, ${RUNS} runs of the dashboard and export; ${os.cpus().length} cores; ${dir}`,
  );
  const figures: Record<string, Figures & { maxRssBytes: number }> = {};
  try {
    for (const name of STEPS_TO_RUN ?? Object.keys(STEPS)) {
      const started = performance.now();
      figures[name] = runStep(name, dir);
      log(`  ${name}: ${(elapsed(started) / 1000).toFixed(1)} s ${JSON.stringify(figures[name])}`);
    }
  } finally {
    // A folder the user named is theirs (SCALE_STEPS measures again in it); ours is removed.
    if (!process.env.SCALE_DIR) fs.rmSync(dir, { recursive: true, force: true });
  }

  const f = (step: string, key: string): number => Number(figures[step]![key]);
  const peak = (step: string): string => mib(f(step, 'maxRssBytes'));
  // A queue that ran out early (a project labeled past the overlap by earlier runs) gives figures
  // of a few calls: said beside them, not passed off as the full sample.
  const sampled = (step: string): string =>
    f(step, 'samples') < SAMPLES ? `, only ${f(step, 'samples')} of ${SAMPLES} samples` : '';
  const labeling = (step: string, what: string): string[][] => [
    [
      `next pair (${what}${sampled(step)}), median / p99 / max`,
      `${ms(f(step, 'nextMedian'))} / ${ms(f(step, 'nextP99'))} / ${ms(f(step, 'nextMax'))}`,
      `${(f(step, 'nextMedian') / f(step, 'lookupMedian')).toFixed(0)}x a pair lookup (${ms(f(step, 'lookupMedian'))})`,
      peak(step),
    ],
    [
      `record a verdict (${what}), median / p99`,
      `${ms(f(step, 'verdictMedian'))} / ${ms(f(step, 'verdictP99'))}`,
      `${(f(step, 'verdictMedian') / f(step, 'insertMedian')).toFixed(1)}x a bare insert (${ms(f(step, 'insertMedian'))} / p99 ${ms(f(step, 'insertP99'))})`,
      '',
    ],
    [
      `  the same, synchronous = NORMAL`,
      `${ms(f(step, 'unsyncedMedian'))} / ${ms(f(step, 'unsyncedP99'))}`,
      '',
      '',
    ],
  ];
  const has = (step: string): boolean => figures[step] !== undefined;
  const rows: string[][] = [
    ...(has('idle') ? [['node + tsx, idle', '', '', peak('idle')]] : []),
    ...(has('import')
      ? [
          [
            'import (Parquet, 1 transaction per file)',
            `${(f('import', 'rows') / f('import', 'seconds')).toFixed(0)} rows/s (${f('import', 'seconds').toFixed(1)} s)`,
            `${f('import', 'pairs').toLocaleString('en')} pairs, ${f('import', 'annotations').toLocaleString('en')} annotations, ${f('import', 'annotators')} annotators`,
            peak('import'),
          ],
          ['database size', mib(f('import', 'bytes')), '', ''],
        ]
      : []),
    ...(has('dashboard')
      ? [
          [
            'audit dashboard, figures after a change (getAudit, whole project, in the worker)',
            `${ms(f('dashboard', 'ms'))} (first after opening ${ms(f('dashboard', 'first'))})`,
            `${(f('dashboard', 'ms') / f('dashboard', 'baselineMs')).toFixed(1)}x a SQL count over the verdicts (${ms(f('dashboard', 'baselineMs'))})`,
            peak('dashboard'),
          ],
          [
            '  then 200 resamples of intervals, in the worker',
            ms(f('dashboard', 'intervalsMs')),
            `longest stall of the main thread through both ${ms(f('dashboard', 'intervalsStallMs'))}`,
            '',
          ],
          ['  the intervals again, kept', ms(f('dashboard', 'keptMs')), '', ''],
          [
            '  filtered (one generator, confidence >= 0.2)',
            ms(f('dashboard', 'filteredMs')),
            '',
            '',
          ],
          ['  disagreement review, first page', ms(f('dashboard', 'reviewMs')), '', ''],
        ]
      : []),
    ...(has('export')
      ? [
          [
            'export (Parquet, every pair)',
            `${(f('export', 'rows') / (f('export', 'ms') / 1000)).toFixed(0)} rows/s (${ms(f('export', 'ms'))})`,
            `${f('export', 'rows').toLocaleString('en')} rows, ${mib(f('export', 'bytes'))}`,
            peak('export'),
          ],
        ]
      : []),
    ...(has('label') ? labeling('label', 'new annotator') : []),
    ...(has('veteran') ? labeling('veteran', `${VETERAN_PAIRS.toLocaleString('en')} decided`) : []),
    ...(has('veteran')
      ? [
          [
            `  first next pair ${VETERAN_PAIRS.toLocaleString('en')} in, after reopening`,
            ms(f('veteran', 'firstAfterReopen')),
            `the session's very first: ${ms(f('veteran', 'nextFirst'))}`,
            '',
          ],
        ]
      : []),
    ...(has('overlap') ? labeling('overlap', `overlap ${PER_PAIR + 1}`) : []),
    ...(has('uncertainty') ? labeling('uncertainty', 'uncertainty order') : []),
    ...(has('merge')
      ? [
          [
            `merge ${f('merge', 'packages')} packages (one call; median of ${f('merge', 'runs')})`,
            `${(f('merge', 'added') / f('merge', 'seconds')).toFixed(0)} annotations/s (${f('merge', 'seconds').toFixed(1)} s)`,
            `${(f('merge', 'seconds') / f('merge', 'appendSeconds')).toFixed(1)}x appending the same events bare (${f('merge', 'appendSeconds').toFixed(1)} s); ${f('merge', 'added').toLocaleString('en')} annotations, ${f('merge', 'filled').toLocaleString('en')} images' bytes stored; making the packages took ${f('merge', 'packSeconds').toFixed(1)} s`,
            peak('merge'),
          ],
        ]
      : []),
  ];
  log();
  log(table(['step', 'figure', 'against a baseline', 'peak memory'], rows));
  log();
  reportTargets(figures, otherBenches());
}

/**
 * Figures this bench does not measure itself come from the benches that do, run as they are
 * (SCALE_WITH=io,score,label by default; SCALE_WITH= for none): bench:io's import with images,
 * bench:score's preprocessing and rescoring, bench:label's keypress → paint (which needs the
 * built app: npm run build).
 */
function otherBenches(): Record<string, NamedFigures> {
  const wanted = (process.env.SCALE_WITH ?? 'io,score,label').split(',').filter(Boolean);
  const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
  const env: Record<string, Record<string, string>> = {
    io: { BENCH_ONLY: 'B' },
    score: { BENCH_PARTS: '1,3' },
    label: {},
  };
  const results: Record<string, NamedFigures> = {};
  for (const bench of wanted) {
    if (bench === 'label' && !fs.existsSync(path.join(root, 'out/renderer/index.html'))) {
      log(`bench:label skipped: the app is not built (npm run build, or npm run bench:label)`);
      continue;
    }
    log(`running bench:${bench} for its figures ...`);
    const started = performance.now();
    try {
      const out = execFileSync(
        process.execPath,
        ['--expose-gc', '--import', 'tsx', path.join(root, 'bench', `${bench}.ts`)],
        {
          cwd: root,
          encoding: 'utf8',
          env: { ...process.env, ...env[bench] },
          stdio: ['ignore', 'pipe', 'inherit'],
          maxBuffer: 2 ** 26,
        },
      );
      results[bench] = figuresIn(out);
      log(`  bench:${bench}: ${(elapsed(started) / 1000).toFixed(1)} s`);
    } catch (error) {
      log(`bench:${bench} failed, its figures are missing: ${(error as Error).message}`);
    }
  }
  return results;
}

/** Every figure the issue names, beside its target and its baseline; then the JSON line. */
function reportTargets(
  figures: Record<string, Figures & { maxRssBytes: number }>,
  others: Record<string, NamedFigures>,
): void {
  const f = (step: string, key: string): number | null =>
    figures[step]?.[key] === undefined ? null : Number(figures[step]![key]);
  const o = (bench: string, key: string): number | null => others[bench]?.[key] ?? null;
  const ratio = (a: number | null, b: number | null): number | null =>
    a === null || b === null || b === 0 ? null : a / b;
  const worst = (values: (number | null)[]): number | null => {
    const known = values.filter((v): v is number => v !== null);
    return known.length === 0 ? null : Math.max(...known);
  };
  const queueOrders = ['label', 'veteran', 'overlap', 'uncertainty'];
  const rescoreS = o('score', 'rescore_s');
  const rescorePairs = o('score', 'rescore_pairs');
  const named: NamedFigures = {
    import_rows_per_s: ratio(f('import', 'rows'), f('import', 'seconds')),
    import_duckdb_scan_rows_per_s: ratio(f('import', 'rows'), f('baselines', 'duckdbScanSeconds')),
    import_mb_per_s: o('io', 'import_mb_per_s'),
    import_duckdb_scan_mb_per_s: o('io', 'duckdb_scan_mb_per_s'),
    export_rows_per_s: ratio(f('export', 'rows'), ratio(f('export', 'ms'), 1000)),
    export_duckdb_copy_rows_per_s: ratio(
      f('export', 'rows'),
      ratio(f('baselines', 'duckdbCopyMs'), 1000),
    ),
    dashboard_ms: f('dashboard', 'ms'),
    dashboard_first_ms: f('dashboard', 'first'),
    dashboard_intervals_ms: f('dashboard', 'intervalsMs'),
    dashboard_intervals_stall_ms: f('dashboard', 'intervalsStallMs'),
    dashboard_sql_count_ms: f('dashboard', 'baselineMs'),
    verdict_p99_ms: f('label', 'verdictP99'),
    bare_insert_p99_ms: f('label', 'insertP99'),
    next_pair_p99_ms: worst(queueOrders.map((step) => f(step, 'nextP99'))),
    pair_lookup_median_ms: f('label', 'lookupMedian'),
    first_next_pair_ms: f('veteran', 'firstAfterReopen'),
    peak_rss_mb: ratio(
      // The shards and the baselines are DuckDB's work, not the studio's.
      worst(
        Object.keys(figures)
          .filter((step) => step !== 'shards' && step !== 'baselines')
          .map((step) => f(step, 'maxRssBytes')),
      ),
      1024 * 1024,
    ),
    merge_annotations_per_s: ratio(f('merge', 'added'), f('merge', 'seconds')),
    merge_bare_append_per_s: ratio(f('merge', 'added'), f('merge', 'appendSeconds')),
    keypress_to_paint_median_ms: o('label', 'keypress_to_paint_median_ms'),
    preprocess_ms: o('score', 'preprocess_ms'),
    bare_decode_ms: o('score', 'bare_decode_ms'),
    rescore_1m_pairs_s:
      rescoreS === null || rescorePairs === null ? null : (rescoreS * 1_000_000) / rescorePairs,
  };
  const targets: [string, string, '>=' | '<=' | '<', number, string | null][] = [
    [
      'import without images, rows/s',
      'import_rows_per_s',
      '>=',
      150_000,
      'import_duckdb_scan_rows_per_s',
    ],
    [
      'import with images, MB/s (bench:io B)',
      'import_mb_per_s',
      '>=',
      200,
      'import_duckdb_scan_mb_per_s',
    ],
    ['export, rows/s', 'export_rows_per_s', '>=', 500_000, 'export_duckdb_copy_rows_per_s'],
    ['dashboard, ms', 'dashboard_ms', '<=', 1000, 'dashboard_sql_count_ms'],
    ['verdict p99, ms', 'verdict_p99_ms', '<=', 1, 'bare_insert_p99_ms'],
    ['next pair p99 (worst queue order), ms', 'next_pair_p99_ms', '<=', 1, 'pair_lookup_median_ms'],
    [
      `first next pair ${VETERAN_PAIRS.toLocaleString('en')} in, ms`,
      'first_next_pair_ms',
      '<=',
      5,
      null,
    ],
    ['peak memory of any studio step, MB', 'peak_rss_mb', '<', 1000, null],
    [
      'merge, annotations/s (#12)',
      'merge_annotations_per_s',
      '>=',
      50_000,
      'merge_bare_append_per_s',
    ],
    ['keypress → next pair painted, median ms', 'keypress_to_paint_median_ms', '<=', 16.7, null],
    ['decode + preprocess 512 x 512 JPEG, ms', 'preprocess_ms', '<=', 3, 'bare_decode_ms'],
    ['rescore 1,000,000 pairs from cache, s', 'rescore_1m_pairs_s', '<=', 1, null],
  ];
  const show = (value: number | null): string =>
    value === null
      ? 'not measured'
      : value >= 100
        ? Math.round(value).toLocaleString('en')
        : value.toPrecision(3);
  log(
    table(
      ['figure', 'measured', 'target', 'baseline (same run)', 'met'],
      targets.map(([what, key, op, target, baseline]) => {
        const value = named[key] ?? null;
        const met =
          value === null
            ? '-'
            : (op === '>=' ? value >= target : op === '<=' ? value <= target : value < target)
              ? 'yes'
              : `no (${op === '>=' ? `${(target / value).toFixed(1)}x short` : `${(value / target).toFixed(1)}x over`})`;
        return [
          what,
          show(value),
          `${op} ${show(target)}`,
          baseline === null ? '' : `${show(named[baseline] ?? null)} (${baseline})`,
          met,
        ];
      }),
    ),
  );
  printFigures('scale', named);
}

const stepIndex = process.argv.indexOf('--step');
if (stepIndex >= 0) {
  const name = process.argv[stepIndex + 1]!;
  const result = await STEPS[name]!(process.argv[stepIndex + 2]!);
  process.stdout.write(
    '\n' + JSON.stringify({ ...result, maxRssBytes: process.resourceUsage().maxRSS * 1024 }) + '\n',
  );
} else {
  await main();
}
