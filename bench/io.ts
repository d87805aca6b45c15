/**
 * I/O benchmark: Pick-a-Pic Parquet import into a fresh project (through the dispatcher, as every
 * door calls it) and export back, on generated shards. Prints figures; asserts nothing.
 *
 *   npm run bench:io                      (node --expose-gc --import tsx bench/io.ts)
 *   BENCH_RUNS=5 npm run bench:io         runs per scenario (default 3)
 *   BENCH_ONLY=A npm run bench:io         one scenario (A or B)
 *
 * A: 100,000 rows without images, row groups of 1,000 rows (HF `datasets`' default batch).
 * B: 2,000 rows with ~100 kB JPEGs, 4,000 distinct images, row groups of 100 rows (HF's row
 *    group size for image datasets).
 * How the rows are made: bench/lib.ts (pickapicRowsSql).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { ExportReport, ImportReport } from '../shared/api';
import { openPickapicShard } from '../electron/core/io/import-pickapic';
import { IMAGE_COLUMNS, PICKAPIC_COLUMNS } from '../electron/core/io/pickapic-schema';
import { openStudio } from '../electron/core/studio';
import {
  calibrateNoise,
  fileSize,
  fullScanSql,
  mb,
  median,
  mib,
  noiseJpeg,
  type NamedFigures,
  openDuck,
  parquetShape,
  pool,
  printFigures,
  rate,
  RssSampler,
  secs,
  settle,
  table,
  writeShard,
  MB,
} from './lib';

const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3) || 3);
const ONLY = process.env.BENCH_ONLY?.toUpperCase();
/** Wall-clock budget for the measured runs of one scenario; runs are cut (not rows) beyond it. */
const RUN_BUDGET_S = 200;
const IMAGE_BYTES_TARGET = 100_000;

interface Scenario {
  name: 'A' | 'B';
  title: string;
  rows: number;
  rowGroupSize: number;
  images: boolean;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'A',
    title: '100,000 pairs, no images',
    rows: 100_000,
    rowGroupSize: 1000,
    images: false,
  },
  { name: 'B', title: '2,000 pairs, ~100 kB JPEGs', rows: 2000, rowGroupSize: 100, images: true },
];

interface Step {
  seconds: number;
  rssBefore: number;
  heapBefore: number;
  rssPeak: number;
}

interface RunResult {
  import: Step & { report: ImportReport };
  export: Step & { report: ExportReport; bytes: number };
  projectBytes: number;
  walBytes: number;
  closedProjectBytes: number;
}

interface ScenarioResult {
  scenario: Scenario;
  inputBytes: number;
  rowGroups: number;
  runs: RunResult[];
  runsNote: string | null;
  duckdbSeconds: number[];
  readerSeconds: number[];
}

const log = (line = ''): void => {
  process.stdout.write(line + '\n');
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pickstudio-bench-'));
const cleanUp = (): void => fs.rmSync(dir, { recursive: true, force: true });
process.on('SIGINT', () => {
  cleanUp();
  process.exit(130);
});

async function generate(scenario: Scenario): Promise<{ shard: string; rowGroups: number }> {
  const shard = path.join(dir, `${scenario.name}-train.parquet`);
  const started = performance.now();
  const duck = await openDuck();
  let shape: { rows: number; rowGroups: number };
  try {
    if (!scenario.images) {
      log(
        `[${scenario.name}] writing ${scenario.rows.toLocaleString('en-US')} rows with DuckDB ...`,
      );
      await writeShard(duck, shard, { rows: scenario.rows, rowGroupSize: scenario.rowGroupSize });
    } else {
      const imageDir = path.join(dir, `${scenario.name}-images`);
      fs.mkdirSync(imageDir);
      const count = scenario.rows * 2;
      log(
        `[${scenario.name}] making ${count.toLocaleString('en-US')} distinct 512x512 JPEGs (noise, quality 85) with sharp ...`,
      );
      const amplitude = await calibrateNoise(IMAGE_BYTES_TARGET, log);
      let done = 0;
      let bytes = 0;
      const imageStarted = performance.now();
      await pool(count, Math.max(2, os.availableParallelism()), async (i) => {
        const jpeg = await noiseJpeg(i, amplitude);
        await fs.promises.writeFile(path.join(imageDir, `${i >> 1}_${i & 1}.jpg`), jpeg);
        bytes += jpeg.length;
        if (++done % 500 === 0 || done === count) {
          log(
            `  images ${done}/${count}, mean ${(bytes / done / 1000).toFixed(1)} kB, ${secs((performance.now() - imageStarted) / 1000)}`,
          );
        }
      });
      log(
        `[${scenario.name}] writing ${scenario.rows.toLocaleString('en-US')} rows with DuckDB (read_blob) ...`,
      );
      await writeShard(duck, shard, {
        rows: scenario.rows,
        rowGroupSize: scenario.rowGroupSize,
        imageDir,
      });
      fs.rmSync(imageDir, { recursive: true, force: true });
    }
    shape = await parquetShape(duck, shard);
    log(
      `[${scenario.name}] ${path.basename(shard)}: ${mb(fileSize(shard))}, ${shape.rows.toLocaleString('en-US')} rows in ${shape.rowGroups} row groups (${secs((performance.now() - started) / 1000)})`,
    );
  } finally {
    duck.close();
  }
  return { shard, rowGroups: shape.rowGroups };
}

const memory = (step: Step): string =>
  `rss ${mib(step.rssBefore)} (JS heap ${mib(step.heapBefore)}) -> peak ${mib(step.rssPeak)}`;

/** One fresh project: import (timed), then export (timed); prints each step as it ends. */
async function oneRun(
  scenario: Scenario,
  shard: string,
  inputBytes: number,
  label: string,
  sampler: RssSampler,
): Promise<RunResult> {
  const project = path.join(dir, `${scenario.name}-project.pickstudio`);
  const out = path.join(dir, `${scenario.name}-export.parquet`);
  const studio = openStudio(project, { create: true });
  try {
    await settle();
    const imported = await sampler.measure(() =>
      studio.call('importSources', { sources: [shard] }),
    );
    const projectBytes = fileSize(project);
    const walBytes = fileSize(`${project}-wal`);
    const file = imported.result.files[0]!;
    log(
      `[${scenario.name}] ${label}  import ${secs(imported.seconds)}  ${rate(scenario.rows, imported.seconds)} rows/s  ` +
        `${(inputBytes / MB / imported.seconds).toFixed(1)} MB/s  ${memory(imported)}  | ` +
        `${file.pairsAdded} pairs, ${file.annotationsAdded} annotations; project ${mb(projectBytes)} + wal ${mb(walBytes)}`,
    );

    await settle();
    const exported = await sampler.measure(() =>
      studio.call('exportParquet', { out, images: scenario.images }),
    );
    const exportBytes = fileSize(out);
    log(
      `[${scenario.name}] ${label}  export ${secs(exported.seconds)}  ${rate(exported.result.rows, exported.seconds)} rows/s  ` +
        `${(exportBytes / MB / exported.seconds).toFixed(1)} MB/s  ${memory(exported)}  | ` +
        `${exported.result.rows} rows, ${mb(exportBytes)}${scenario.images ? '' : ' (images: false)'}`,
    );
    studio.close();
    return {
      import: { ...imported, report: imported.result },
      export: { ...exported, report: exported.result, bytes: exportBytes },
      projectBytes,
      walBytes,
      closedProjectBytes: fileSize(project),
    };
  } finally {
    studio.close();
    for (const file of [project, `${project}-wal`, `${project}-shm`, out]) {
      fs.rmSync(file, { force: true });
    }
  }
}

async function baselines(
  scenario: Scenario,
  shard: string,
  runs: number,
): Promise<{ duckdbSeconds: number[]; readerSeconds: number[] }> {
  const duckdbSeconds: number[] = [];
  const duck = await openDuck();
  try {
    for (let run = 0; run < runs; run++) {
      const started = performance.now();
      await duck.rows(fullScanSql(shard, scenario.images));
      duckdbSeconds.push((performance.now() - started) / 1000);
    }
  } finally {
    duck.close();
  }
  log(
    `[${scenario.name}] baseline: DuckDB full scan (all columns) ${duckdbSeconds.map(secs).join(', ')}`,
  );

  // Our Parquet reader alone (DuckDB's scan turned into the column arrays the import checks,
  // the columns and batches the import reads), to tell reading apart from the SQLite side.
  const columns = PICKAPIC_COLUMNS.map((c) => c.name).filter(
    (name) => scenario.images || !(IMAGE_COLUMNS as readonly string[]).includes(name),
  );
  const readerSeconds: number[] = [];
  for (let run = 0; run < runs; run++) {
    await settle();
    const started = performance.now();
    const source = await openPickapicShard(shard);
    let rows = 0;
    for (const batch of source.batches) {
      const read = await source.readColumns(batch.start, batch.end, columns);
      rows += read.columns[columns[0]!]!.length;
    }
    if (rows !== scenario.rows) throw new Error(`the reader read ${rows} rows`);
    readerSeconds.push((performance.now() - started) / 1000);
  }
  log(
    `[${scenario.name}] baseline: reader alone (import's DuckDB reader to column arrays) ${readerSeconds.map(secs).join(', ')}`,
  );
  return { duckdbSeconds, readerSeconds };
}

async function runScenario(scenario: Scenario, sampler: RssSampler): Promise<ScenarioResult> {
  log();
  log(`=== Scenario ${scenario.name}: ${scenario.title} ===`);
  const { shard, rowGroups } = await generate(scenario);
  const inputBytes = fileSize(shard);

  const runs: RunResult[] = [];
  let planned = RUNS;
  let runsNote: string | null = null;
  const started = performance.now();
  for (let run = 1; run <= planned; run++) {
    await settle();
    runs.push(await oneRun(scenario, shard, inputBytes, `run ${run}/${planned}`, sampler));
    if (run === 1 && planned > 1) {
      const perRun = (performance.now() - started) / 1000;
      const affordable = Math.max(1, Math.floor(RUN_BUDGET_S / perRun));
      if (affordable < planned) {
        runsNote = `runs cut from ${planned} to ${affordable}: one run took ${secs(perRun)}, the budget is ${RUN_BUDGET_S} s per scenario (rows not reduced)`;
        log(`[${scenario.name}] NOTE ${runsNote}`);
        planned = affordable;
      }
    }
  }
  const { duckdbSeconds, readerSeconds } = await baselines(
    scenario,
    shard,
    Math.max(3, runs.length),
  );
  fs.rmSync(shard, { force: true });
  return {
    scenario,
    inputBytes,
    rowGroups,
    runs,
    runsNote,
    duckdbSeconds,
    readerSeconds,
  };
}

function summary(results: ScenarioResult[]): void {
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const r of results) {
    const s = r.scenario;
    const m = (pick: (run: RunResult) => number): number => median(r.runs.map(pick));
    const importS = m((x) => x.import.seconds);
    const exportS = m((x) => x.export.seconds);
    const exportBytes = m((x) => x.export.bytes);
    const exportRows = m((x) => x.export.report.rows);
    const duckS = median(r.duckdbSeconds);
    const readerS = median(r.readerSeconds);
    const n = `${r.runs.length}`;
    const mem = (step: (run: RunResult) => Step): string[] => [
      mib(m((x) => step(x).rssBefore)),
      mib(m((x) => step(x).rssPeak)),
      mib(Math.max(...r.runs.map((x) => step(x).rssPeak))),
      mib(m((x) => step(x).rssPeak - step(x).rssBefore)),
    ];
    rows.push(
      [
        `${s.name} import`,
        n,
        secs(importS),
        rate(s.rows, importS),
        (r.inputBytes / MB / importS).toFixed(1),
        ...mem((x) => x.import),
        `in ${mb(r.inputBytes)}, ${r.rowGroups} groups`,
      ],
      [
        `${s.name} export`,
        n,
        secs(exportS),
        rate(exportRows, exportS),
        (exportBytes / MB / exportS).toFixed(1),
        ...mem((x) => x.export),
        `out ${mb(exportBytes)}, ${exportRows} rows${s.images ? '' : ', images: false'}`,
      ],
      [
        `${s.name} duckdb scan`,
        `${r.duckdbSeconds.length}`,
        secs(duckS),
        rate(s.rows, duckS),
        (r.inputBytes / MB / duckS).toFixed(1),
        '',
        '',
        '',
        '',
        'baseline',
      ],
      [
        `${s.name} reader alone`,
        `${r.readerSeconds.length}`,
        secs(readerS),
        rate(s.rows, readerS),
        (r.inputBytes / MB / readerS).toFixed(1),
        '',
        '',
        '',
        '',
        "import's reader alone",
      ],
    );
    notes.push(
      `${s.name}: import / DuckDB scan = ${(importS / duckS).toFixed(1)}x; import / reader alone = ${(importS / readerS).toFixed(1)}x; ` +
        `project after import ${mb(m((x) => x.projectBytes))} + wal ${mb(m((x) => x.walBytes))} (${mb(m((x) => x.closedProjectBytes))} once closed); ` +
        `input ${mb(r.inputBytes)}`,
    );
    if (r.runsNote) notes.push(`${s.name}: ${r.runsNote}`);
  }
  log();
  log('=== Summary (medians) ===');
  log(
    table(
      [
        'step',
        'runs',
        'time',
        'rows/s',
        'MB/s',
        'rss before',
        'peak rss',
        'max peak',
        'peak-before',
        'notes',
      ],
      rows,
    ),
  );
  for (const note of notes) log(note);
  log(
    'rss before grows after the first run of a scenario although the JS heap does not (see the run lines):' +
      ' freed memory stays with the allocator; run 1 of each scenario shows the cost from a cleaner start.',
  );
}

/** Scenario A's rows/s and B's MB/s (Pick-a-Pic with images is bytes), each beside DuckDB's. */
function namedFigures(results: ScenarioResult[]): NamedFigures {
  const of = (name: Scenario['name']) => results.find((r) => r.scenario.name === name);
  const medianOf = (r: ScenarioResult | undefined, pick: (run: RunResult) => number) =>
    r ? median(r.runs.map(pick)) : NaN;
  const a = of('A');
  const b = of('B');
  return {
    import_rows_per_s: a ? a.scenario.rows / medianOf(a, (x) => x.import.seconds) : null,
    duckdb_scan_rows_per_s: a ? a.scenario.rows / median(a.duckdbSeconds) : null,
    export_rows_per_s: medianOf(a, (x) => x.export.report.rows / x.export.seconds),
    import_mb_per_s: b ? b.inputBytes / MB / medianOf(b, (x) => x.import.seconds) : null,
    duckdb_scan_mb_per_s: b ? b.inputBytes / MB / median(b.duckdbSeconds) : null,
    export_mb_per_s: medianOf(b, (x) => x.export.bytes / MB / x.export.seconds),
  };
}

async function main(): Promise<void> {
  const sqlite = (
    new Database(':memory:').prepare('SELECT sqlite_version() AS v').get() as { v: string }
  ).v;
  log(
    `Pick Studio I/O benchmark: node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim() ?? '?'}), ${mib(os.totalmem())} RAM, SQLite ${sqlite}`,
  );
  log(
    `runs per scenario: ${RUNS}; rss sampled every 20 ms from a worker thread; temp folder ${dir}`,
  );
  if (!global.gc)
    log('note: run with node --expose-gc (npm run bench:io) to collect garbage between runs');
  const sampler = new RssSampler(20);
  const results: ScenarioResult[] = [];
  const started = performance.now();
  try {
    for (const scenario of SCENARIOS) {
      if (ONLY && scenario.name !== ONLY) continue;
      results.push(await runScenario(scenario, sampler));
    }
    summary(results);
    log(`total ${secs((performance.now() - started) / 1000)}`);
    printFigures('io', namedFigures(results));
  } finally {
    await sampler.close();
    cleanUp();
  }
}

await main();
