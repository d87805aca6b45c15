/**
 * Crash safety of import and export: `pickstudio import` and `pickstudio export` killed with
 * SIGKILL half way, at moments detected from the files they write (a new staging file, the
 * project's WAL growing, a partial export appearing) plus delays drawn from a seeded PRNG. The
 * seed is printed; CRASH_SEED=<seed> draws the same delays again.
 *
 * An import is one transaction per file: after the kill the project opens, passes
 * `PRAGMA integrity_check`, and holds exactly the first j files, every file committed before the
 * kill among them, and not one row of the file it was on. An export writes beside its target and
 * renames: after the kill the target is the earlier export, untouched, or a complete new one that
 * DuckDB reads in full; never a part. The next export removes a killed one's partial file.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProjectStore } from '../../electron/core/store/project-store';
import { duckdb } from '../helpers/duckdb';
import { openTestProject, projectDigest, tempDir, sqlite } from '../helpers/project';
import { crashSeed } from '../helpers/seed';

const BIN = path.resolve('bin/pickstudio.js');
const SHARDS = 3;
const ROWS_PER_SHARD = 5000;
const FULL_ROWS = SHARDS * ROWS_PER_SHARD;

const { seed, replay, random } = crashSeed();

/** A whole number in [low, high), from `random`. */
const between = (random: () => number, low: number, high: number): number =>
  Math.floor(low + random() * (high - low));

/**
 * Every row of every table, hashed, without the columns that hold the time of writing (`*_at`):
 * two projects built by the same steps at different times have the same digest.
 */
function contentDigest(file: string): string {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const tables = db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
      .all() as { name: string }[];
    const hash = createHash('sha256');
    for (const { name } of tables) {
      hash.update(name);
      for (const row of db.prepare(`SELECT * FROM "${name}" ORDER BY 1`).iterate()) {
        const kept = Object.entries(row as Record<string, unknown>).filter(
          ([column]) => !column.endsWith('_at'),
        );
        hash.update(
          JSON.stringify(kept, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('base64') : v)),
        );
      }
    }
    return hash.digest('hex');
  } finally {
    db.close();
  }
}

const sha256 = (file: string): string =>
  createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** Opens the project as the app does (read-write, so SQLite recovers it) and checks it. */
function expectIntact(file: string): void {
  const store = ProjectStore.open(file);
  try {
    expect(sqlite(store).pragma('integrity_check', { simple: true })).toBe('ok');
    expect(sqlite(store).pragma('foreign_key_check')).toEqual([]);
  } finally {
    store.close();
  }
}

function pickstudio(...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface Run {
  /** The exit code, or null when killed. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/**
 * Runs the CLI and polls the folder every millisecond; `poll` returns true to have it killed
 * (at once, or `delayMs` later when it returns a number).
 */
async function runAndKill(
  args: string[],
  poll: (child: ChildProcess, elapsedMs: number) => boolean | number,
): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const started = performance.now();
  let decided = false;
  const timer = setInterval(() => {
    if (decided) return;
    const verdict = poll(child, performance.now() - started);
    if (verdict === false) return;
    decided = true;
    if (verdict === true) child.kill('SIGKILL');
    else setTimeout(() => child.kill('SIGKILL'), verdict);
  }, 1);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (c, s) => resolve([c, s])),
  );
  clearInterval(timer);
  return { code, signal, stderr };
}

let dir: string;
let shards: string[];
/** The empty project every import starts from. */
let base: string;
/** contentDigest of the base with the first j shards imported, for j = 0..SHARDS. */
let prefixDigests: string[];
/** The base with every shard imported, uninterrupted. */
let full: string;
/** An export of the project after SHARDS - 1 shards, as an earlier export under the same name. */
let earlier: string;
/** An export of `full`, and how long it took in process (kills are drawn over about that span). */
let complete: string;
let exportMs: number;

beforeAll(async () => {
  console.log(`[crash] seed ${seed} (${replay} draws the same delays)`);
  dir = tempDir('pickstudio-crash-');
  const db = await duckdb();
  shards = [];
  for (let s = 0; s < SHARDS; s++) {
    const shard = path.join(dir, `shard-${s}.parquet`);
    // Labelled rows with distinct pairs: each shard adds pairs, images, prompts and labels.
    await db.run(`COPY (SELECT ${s * 1_000_000} + i AS ranking_id, 'prompt ${s}-' || i AS caption,
        'a${s}-' || i AS image_0_uid, 'b${s}-' || i AS image_1_uid,
        NULL::VARCHAR AS image_0_url, NULL::VARCHAR AS image_1_url,
        (i % 3 = 0)::DOUBLE AS label_0, (i % 3 <> 0)::DOUBLE AS label_1, true AS has_label,
        (i % 40)::BIGINT AS user_id, 'm0' AS model_0, 'm1' AS model_1, true AS are_different,
        NULL::VARCHAR AS best_image_uid, TIMESTAMP '2023-05-01' AS created_at,
        1::BIGINT AS num_example_per_prompt
      FROM range(${ROWS_PER_SHARD}) t(i)) TO '${shard}' (FORMAT parquet, ROW_GROUP_SIZE 2000)`);
    shards.push(shard);
  }
  db.close();

  base = path.join(dir, 'base.pickstudio');
  ProjectStore.open(base, { create: true }).close();
  full = path.join(dir, 'full.pickstudio');
  earlier = path.join(dir, 'earlier.parquet');
  complete = path.join(dir, 'complete.parquet');
  fs.copyFileSync(base, full);
  prefixDigests = [contentDigest(full)];
  const { store, call } = openTestProject(full);
  try {
    for (const [s, shard] of shards.entries()) {
      await call('importSources', { sources: [shard] });
      prefixDigests.push(contentDigest(full));
      if (s === SHARDS - 2) await call('exportParquet', { out: earlier, images: false });
    }
    const started = performance.now();
    await call('exportParquet', { out: complete, images: false });
    exportMs = performance.now() - started;
  } finally {
    store.close();
  }
  expect(new Set(prefixDigests).size).toBe(SHARDS + 1);
}, 120_000);

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('an import killed with SIGKILL', () => {
  /** Kills: a while into staging the second file; when a merge has written `walBytes`; any time. */
  type Plan =
    | { kind: 'staging'; delayMs: number }
    | { kind: 'merge'; file: number; walBytes: number }
    | { kind: 'anytime'; afterMs: number };

  it('keeps the files committed before the kill and nothing of the file it was on', async ({
    annotate,
  }) => {
    await annotate(`${replay} draws the same delays`, 'seed');
    const draw = random('import');
    const plans: Plan[] = [
      { kind: 'staging', delayMs: between(draw, 0, 300) },
      {
        kind: 'merge',
        file: between(draw, 1, SHARDS + 1),
        walBytes: between(draw, 32, 512) * 1024,
      },
      { kind: 'anytime', afterMs: between(draw, 1000, 4000) },
    ];
    const baseDigest = projectDigest(base);
    const projects = plans.map((_plan, i) => path.join(dir, `import-${i}.pickstudio`));
    const stagingFiles = (project: string): string[] =>
      fs.readdirSync(dir).filter((name) => name.startsWith(`.${path.basename(project)}.import-`));
    for (const [i, plan] of plans.entries()) {
      const project = projects[i]!;
      fs.copyFileSync(base, project);
      const stagingPrefix = `.${path.basename(project)}.import-`;
      const stagingSeen = new Set<string>();
      let atKill = { staging: 0, walBytes: 0 };
      const run = await runAndKill(['import', project, ...shards], (_child, elapsedMs) => {
        for (const name of fs.readdirSync(dir)) {
          // The staging file itself, not the journal SQLite keeps beside it while creating it.
          const rest = name.startsWith(stagingPrefix) ? name.slice(stagingPrefix.length) : '';
          if (/^\d+-\d+-[a-z0-9]+$/.test(rest)) stagingSeen.add(name);
        }
        let walBytes = 0;
        try {
          walBytes = fs.statSync(`${project}-wal`).size;
        } catch {
          // Not open yet.
        }
        atKill = { staging: stagingSeen.size, walBytes };
        if (plan.kind === 'staging') return stagingSeen.size >= 2 ? plan.delayMs : false;
        if (plan.kind === 'merge')
          return stagingSeen.size >= plan.file && walBytes >= plan.walBytes;
        return elapsedMs >= plan.afterMs;
      });

      // The next file is staged while one merges, so a file is merged once the staging file of
      // the one after its successor was seen: it must be there.
      const committedBefore = Math.max(0, atKill.staging - 2);
      if (run.signal === null) expect(run.code, run.stderr).toBe(0);
      else expect(run.signal).toBe('SIGKILL');
      expectIntact(project);
      const kept = prefixDigests.indexOf(contentDigest(project));
      expect(kept, 'the project holds exactly the first files, whole').toBeGreaterThanOrEqual(0);
      expect(kept, 'files merged before the kill are kept').toBeGreaterThanOrEqual(committedBefore);
      if (run.signal === null) expect(kept).toBe(SHARDS);
      // Killed during the first file: the project is byte for byte as it was, times included.
      if (kept === 0) expect(projectDigest(project)).toBe(baseDigest);
      console.log(
        `[crash] import ${JSON.stringify(plan)}: ${run.signal ?? `exit ${run.code}`} with ` +
          `${atKill.staging} staging files seen, WAL ${atKill.walBytes} bytes; ` +
          `${kept} of ${SHARDS} files kept`,
      );
    }

    // The same import again, on the project killed while staging, finishes the job and removes
    // the staging file the kill left.
    expect(stagingFiles(projects[0]!)).not.toEqual([]);
    const again = pickstudio('import', projects[0]!, ...shards);
    expect(again.code, again.stderr).toBe(0);
    expect(contentDigest(projects[0]!)).toBe(prefixDigests[SHARDS]);
    expect(stagingFiles(projects[0]!)).toEqual([]);
  });
});

describe('an export killed with SIGKILL', () => {
  /** Row count and an order-free hash of every row, as DuckDB reads the file. */
  async function readBack(file: string): Promise<{ rows: number; hash: string }> {
    const db = await duckdb();
    try {
      const [row] = await db.rows(
        `SELECT count(*)::INTEGER AS n, sum(hash(COLUMNS(*)))::VARCHAR AS h FROM read_parquet('${file}')`,
      );
      return { rows: row!.n as number, hash: row!.h as string };
    } finally {
      db.close();
    }
  }

  it('leaves the earlier export or a complete new one under the name, never a part', async ({
    annotate,
  }) => {
    await annotate(`${replay} draws the same delays`, 'seed');
    const expected = await readBack(complete);
    expect(expected.rows).toBe(FULL_ROWS);
    const earlierRead = await readBack(earlier);
    expect(earlierRead.rows).toBe(FULL_ROWS - ROWS_PER_SHARD);

    const out = path.join(dir, 'labels.parquet');
    const fresh = path.join(dir, 'fresh.parquet');
    fs.copyFileSync(earlier, out);
    const before = new Map<string, string | null>([
      [out, sha256(out)],
      [fresh, null],
    ]);
    const partialsOf = (target: string): string[] =>
      fs.readdirSync(dir).filter((name) => name.startsWith(`.${path.basename(target)}.partial-`));

    // Killed a drawn while after its partial file appears (or, when the draw is negative, that
    // long after the start, when the partial file may not exist yet), then as soon as it does.
    // The draw is a point of the span -200 ms .. 1.5 export times: a seed draws the same points
    // on any machine, in milliseconds as long as this export took here.
    const draw = random('export');
    const at = (point: number): number => Math.floor(-200 + point * (1.5 * exportMs + 200));
    const kills = [draw(), draw(), null, null].map((point, i) => ({
      target: i % 2 === 0 ? out : fresh,
      point,
      delayMs: point === null ? 0 : at(point),
    }));
    for (const { target, point, delayMs } of kills) {
      let partial: string | undefined;
      const run = await runAndKill(['export', full, target, '--no-images'], (child, elapsed) => {
        if (delayMs < 0) return elapsed >= -delayMs;
        const mine = `.${path.basename(target)}.partial-${child.pid}-`;
        partial = partialsOf(target).find((name) => name.startsWith(mine));
        return partial === undefined ? false : delayMs || true;
      });
      if (run.signal === null) expect(run.code, run.stderr).toBe(0);
      else expect(run.signal).toBe('SIGKILL');

      const earlierSha = before.get(target)!;
      let outcome: string;
      if (!fs.existsSync(target)) {
        expect(earlierSha, `${target} was there before the export`).toBeNull();
        expect(run.signal, 'an export that finished wrote its file').toBe('SIGKILL');
        outcome = 'no file';
      } else if (run.signal === 'SIGKILL' && sha256(target) === earlierSha) {
        outcome = 'the earlier export, untouched';
      } else {
        expect(await readBack(target), `${target} is a complete export`).toEqual(expected);
        before.set(target, sha256(target));
        outcome = 'a complete new export';
      }
      if (outcome !== 'a complete new export' && partial !== undefined) {
        // Killed between its partial file's creation and the rename: the part is still there.
        expect(partialsOf(target)).toContain(partial);
      }
      console.log(
        `[crash] export to ${path.basename(target)}, kill ${delayMs} ms` +
          `${point === null ? '' : ` (point ${point.toFixed(4)} of the span)`}: ` +
          `${run.signal ?? `exit ${run.code}`}; ${outcome}; ` +
          `${partialsOf(target).length} partial files beside it`,
      );
    }

    // A finished export removes the partial files killed exports left beside its target.
    const stale = partialsOf(out).length;
    expect(pickstudio('export', full, out, '--no-images').code).toBe(0);
    expect(await readBack(out)).toEqual(expected);
    expect(partialsOf(out)).toEqual([]);
    console.log(`[crash] the next export to labels.parquet removed ${stale} partial files`);
  });

  it('removes stale partial files of its target, and only those of processes that are gone', async () => {
    const folder = tempDir();
    const out = path.join(folder, 'labels.parquet');
    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    const running = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], {
      stdio: 'ignore',
    });
    try {
      const stale = `.labels.parquet.partial-${gone}-1`;
      const kept = [
        `.labels.parquet.partial-${running.pid}-2`, // an export still running
        `.labels.parquet.partial-${process.pid}-3`, // this process's own
        `.other.parquet.partial-${gone}-4`, // another target's
        `.labels.parquet.partial-${gone}-5.bak`, // not a name exports write
      ];
      for (const name of [stale, ...kept]) fs.writeFileSync(path.join(folder, name), 'part');
      const { store, call } = openTestProject(full);
      try {
        await call('exportParquet', { out, images: false });
      } finally {
        store.close();
      }
      expect(fs.readdirSync(folder).sort()).toEqual([...kept, 'labels.parquet'].sort());
    } finally {
      running.kill();
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });
});
