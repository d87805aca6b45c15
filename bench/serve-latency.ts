/**
 * Browser mode's latency while a project is scored (issue #13: "`serve` answers a request within
 * 200 ms at p99 while a project with a 1 MB caption is being scored"). Prints figures; asserts
 * nothing.
 *
 *   npm run bench:serve                    (node --import tsx bench/serve-latency.ts)
 *   BENCH_RUNS=3 BENCH_PAIRS=200 BENCH_INTERVAL_MS=20 BENCH_MAX_S=30 npm run bench:serve
 *
 * The project: BENCH_PAIRS pairs of small real JPEGs imported from a manifest, plus two pairs
 * whose captions are then set, with raw SQL as for a project from before the 64 kB import limit
 * (tests/unit/bad-input-captions.test.ts), to 1 MB: one without a space, one of words. A tiny
 * ONNX model (tests/helpers/tiny-model.ts) is made the active model with `addModel`, as
 * `pickstudio model add` does, so startServer's background scoring (what `pickstudio serve`
 * runs) scores every pair, both 1 MB captions included.
 *
 * Each run copies the project, starts the server on it (startServer, as `pickstudio serve` does)
 * and, from a client in another thread (so that a stalled server thread cannot also delay the
 * sending), POSTs getStats and getQueue alternately with the Bearer token every
 * BENCH_INTERVAL_MS, open loop (a request is sent on time even while earlier ones wait), until
 * getScoringStatus says scoring is over (at most BENCH_MAX_S). Latency: from sending to the
 * whole reply read. The baseline is the same loop, for as long, on the same project without a
 * model (nothing to score), in this process; a control scores the same project with the two
 * captions left short, which tells the 1 MB captions' share from scoring's. Next to it, how late a 5 ms timer on the server's
 * thread fired (monitorEventLoopDelay). Figures are medians over BENCH_RUNS runs of each run's
 * p50, p99 and max; a first scoring run, which also starts the scoring worker (as the first
 * project `pickstudio serve` opens does), is shown on its own and left out of the medians.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { startServer } from '../electron/server/server';
import { MAX_CAPTION_BYTES } from '../electron/core/io/values';
import { ProjectStore } from '../electron/core/store/project-store';
import { makeJpeg, openTestProject, sqlite } from '../tests/helpers/project';
import { writeTinyModel } from '../tests/helpers/tiny-model';
import { median, quantile, table } from './lib';

const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3) || 3);
const PAIRS = Math.max(1, Number(process.env.BENCH_PAIRS ?? 200) || 200);
const INTERVAL_MS = Math.max(1, Number(process.env.BENCH_INTERVAL_MS ?? 20) || 20);
const MAX_S = Math.max(1, Number(process.env.BENCH_MAX_S ?? 30) || 30);
const CAPTION_BYTES = 1_000_000;
const TARGET_P99_MS = 200;

const log = (line = ''): void => {
  process.stdout.write(line + '\n');
};
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pickstudio-bench-serve-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
process.on('SIGINT', () => process.exit(130));

/** The huge captions, each 1 MB of UTF-8, told apart by their first characters. */
const HUGE = {
  'no spaces': 'x'.repeat(CAPTION_BYTES),
  words: 'a red cat at sunset, oil painting, highly detailed, '
    .repeat(Math.ceil(CAPTION_BYTES / 50))
    .slice(0, CAPTION_BYTES),
} as const;

// ---------------------------------------------------------------------------------------------
// The client: its own thread, so it sends on time whatever the server's thread is doing.

const CLIENT_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { base, token, intervalMs, maxMs, untilScored } = workerData;
const headers = { 'content-type': 'application/json', authorization: 'Bearer ' + token };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const calls = [
  ['getStats', '{}'],
  ['getQueue', JSON.stringify({ annotator: 'bench', count: 8 })],
];
const results = [];
let failures = 0;
let statusError = null;
let scoring = null;

async function send(method, body, keep) {
  const sent = performance.now();
  try {
    const res = await fetch(base + '/api/call/' + method, { method: 'POST', headers, body });
    const text = await res.text();
    const ms = performance.now() - sent;
    if (res.status !== 200 || !text.startsWith('{"ok":true')) {
      throw new Error(method + ': HTTP ' + res.status + ' ' + text.slice(0, 200));
    }
    if (keep) results.push({ method, ms, chars: text.length });
    return JSON.parse(text);
  } catch (error) {
    failures++;
    if (!keep) throw error;
    return null;
  }
}

async function main() {
  const started = performance.now();
  const deadline = started + maxMs;
  let done = false;
  // Scoring is over when getScoringStatus says so (polled every 100 ms, not counted).
  const watcher = (async () => {
    if (!untilScored) {
      await sleep(maxMs);
      done = true;
      return;
    }
    while (!done && performance.now() < deadline) {
      try {
        const status = (await send('getScoringStatus', '{}', false)).value;
        scoring = status;
        if (!status.running) break;
      } catch (error) {
        statusError = String(error);
        break;
      }
      await sleep(100);
    }
    done = true;
  })();
  const inFlight = new Set();
  for (let k = 0; !done && performance.now() < deadline; k++) {
    const due = started + k * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    if (done) break;
    const [method, body] = calls[k % calls.length];
    const request = send(method, body, true).finally(() => inFlight.delete(request));
    inFlight.add(request);
  }
  done = true;
  await watcher;
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(inFlight);
  parentPort.postMessage({ results, failures, statusError, scoring, seconds });
}

parentPort.once('message', () => void main());
`;

interface Sample {
  method: string;
  ms: number;
  chars: number;
}

interface ClientReport {
  results: Sample[];
  failures: number;
  statusError: string | null;
  scoring: { scoredPairs: number; totalPairs: number; running: boolean } | null;
  seconds: number;
}

// ---------------------------------------------------------------------------------------------
// The project

/** A manifest of the two huge-caption pairs (placeholders for now) and `pairs` plain ones. */
async function writeManifest(pairs: number): Promise<string> {
  const images = path.join(dir, 'images');
  fs.mkdirSync(images);
  const lines: string[] = [];
  const captions = [...Object.keys(HUGE).map((k) => `huge caption: ${k}`)];
  for (let i = 0; i < pairs; i++) captions.push(`a red cat number ${i} at sunset, oil painting`);
  for (const [i, prompt] of captions.entries()) {
    for (const side of [0, 1]) {
      fs.writeFileSync(path.join(images, `${i}_${side}.jpg`), await makeJpeg(2 * i + side + 1));
    }
    lines.push(
      JSON.stringify({ prompt, image_0: `images/${i}_0.jpg`, image_1: `images/${i}_1.jpg` }),
    );
  }
  const manifest = path.join(dir, 'pairs.jsonl');
  fs.writeFileSync(manifest, lines.join('\n') + '\n');
  return manifest;
}

interface Projects {
  /** The 1 MB captions, no model: nothing to score (the baseline). */
  plain: string;
  /** The 1 MB captions, the tiny model active and nothing scored yet. */
  model: string;
  /** The same without the 1 MB captions (short placeholders instead), the model active. */
  shortCaptions: string;
}

/** Three project files of the same pairs, each closed, so one file (its WAL checkpointed). */
async function buildProjects(): Promise<Projects> {
  const file = (name: string): string => path.join(dir, `${name}.pickstudio`);
  const projects: Projects = {
    plain: file('plain'),
    model: file('model'),
    shortCaptions: file('short-captions'),
  };
  const manifest = await writeManifest(PAIRS);
  const imported = openTestProject(projects.plain);
  try {
    await imported.call('importSources', { sources: [manifest] });
  } finally {
    imported.store.close();
  }
  fs.copyFileSync(projects.plain, projects.shortCaptions);
  // What a project from before the import limit holds (tests/unit/bad-input-captions.test.ts).
  const huge = openTestProject(projects.plain);
  try {
    const update = sqlite(huge.store).prepare('UPDATE prompts SET text = ? WHERE text = ?');
    for (const [name, text] of Object.entries(HUGE)) {
      if (update.run(text, `huge caption: ${name}`).changes !== 1) {
        throw new Error(`no prompt 'huge caption: ${name}' to make 1 MB`);
      }
    }
  } finally {
    huge.store.close();
  }
  fs.copyFileSync(projects.plain, projects.model);
  const modelDir = path.join(dir, 'tiny-model');
  writeTinyModel(modelDir, 7);
  for (const target of [projects.model, projects.shortCaptions]) {
    // As `pickstudio model add` does.
    const opened = openTestProject(target);
    try {
      await opened.call('addModel', { folder: modelDir });
    } finally {
      opened.store.close();
    }
  }
  for (const target of Object.values(projects)) {
    if (fs.existsSync(`${target}-wal`)) throw new Error(`${target}: WAL left after closing`);
  }
  return projects;
}

/** What scoring left in a project: pairs scored, and each huge caption's pair. */
function scoredIn(file: string): {
  pairs: number;
  scored: number;
  huge: { name: string; bytes: number; scored: boolean; embedded: boolean }[];
} {
  const store = ProjectStore.open(file, { readonly: true });
  try {
    const db = sqlite(store);
    const count = (sql: string): number => (db.prepare(sql).get() as { n: number }).n;
    const huge = db
      .prepare(
        `SELECT pr.text AS text,
           EXISTS (SELECT 1 FROM scores s WHERE s.pair_id = p.id) AS scored,
           EXISTS (SELECT 1 FROM prompt_embeddings e WHERE e.prompt_id = pr.id) AS embedded
         FROM pairs p JOIN prompts pr ON pr.id = p.prompt_id
         WHERE length(CAST(pr.text AS BLOB)) > ? ORDER BY p.id`,
      )
      .all(MAX_CAPTION_BYTES) as { text: string; scored: number; embedded: number }[];
    return {
      pairs: count('SELECT count(*) AS n FROM pairs'),
      scored: count('SELECT count(*) AS n FROM scores'),
      huge: huge.map((h) => ({
        name: Object.entries(HUGE).find(([, text]) => text === h.text)?.[0] ?? '?',
        bytes: Buffer.byteLength(h.text),
        scored: h.scored === 1,
        embedded: h.embedded === 1,
      })),
    };
  } finally {
    store.close();
  }
}

// ---------------------------------------------------------------------------------------------
// One run

interface Run {
  seconds: number;
  requests: number;
  failures: number;
  p50: number;
  p99: number;
  max: number;
  statsP50: number;
  queueP50: number;
  loopP99: number;
  loopMax: number;
  queueChars: number;
  scored: ReturnType<typeof scoredIn> | null;
  status: ClientReport['scoring'];
  statusError: string | null;
}

let runNo = 0;

/** Serves a copy of `template` and times requests until it is scored, or for `until` seconds. */
async function measure(template: string, until: 'scored' | number): Promise<Run> {
  const file = path.join(dir, `run-${++runNo}.pickstudio`);
  fs.copyFileSync(template, file);
  const rendererDir = path.join(dir, 'renderer');
  fs.mkdirSync(rendererDir, { recursive: true });
  fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>bench</title>');

  const delay = monitorEventLoopDelay({ resolution: 5 });
  // startServer starts background scoring before it listens, as `pickstudio serve` does.
  const server = await startServer({ file, port: 0, rendererDir });
  delay.enable();
  let report: ClientReport;
  try {
    const worker = new Worker(CLIENT_SOURCE, {
      eval: true,
      workerData: {
        base: `http://127.0.0.1:${server.port}`,
        token: server.token,
        intervalMs: INTERVAL_MS,
        maxMs: (until === 'scored' ? MAX_S : until) * 1000,
        untilScored: until === 'scored',
      },
    });
    try {
      report = await new Promise<ClientReport>((resolve, reject) => {
        worker.once('message', (message: ClientReport) => resolve(message));
        worker.once('error', reject);
        worker.postMessage('start');
      });
    } finally {
      await worker.terminate();
    }
  } finally {
    delay.disable();
    await server.close();
  }
  const ms = report.results.map((r) => r.ms);
  const of = (method: string): Sample[] => report.results.filter((r) => r.method === method);
  return {
    seconds: report.seconds,
    requests: ms.length,
    failures: report.failures,
    p50: quantile(ms, 0.5),
    p99: quantile(ms, 0.99),
    max: Math.max(...ms),
    statsP50: quantile(
      of('getStats').map((r) => r.ms),
      0.5,
    ),
    queueP50: quantile(
      of('getQueue').map((r) => r.ms),
      0.5,
    ),
    loopP99: delay.percentile(99) / 1e6,
    loopMax: delay.max / 1e6,
    queueChars: Math.max(0, ...of('getQueue').map((r) => r.chars)),
    scored: until === 'scored' ? scoredIn(file) : null,
    status: report.scoring,
    statusError: report.statusError,
  };
}

// ---------------------------------------------------------------------------------------------

const fmt = (value: number): string => (Number.isFinite(value) ? value.toFixed(1) : '–');
const ratio = (a: number, b: number): string => (b > 0 ? `${(a / b).toFixed(2)}x` : '–');
/** The machine's load: others' work inflates every figure here, the baseline's too. */
function load(): string {
  const average = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  // Linux's pressure stall information: the share of the last 10 s some task waited on the disk.
  let io = '';
  try {
    const some = /^some avg10=([\d.]+)/m.exec(fs.readFileSync('/proc/pressure/io', 'utf8'));
    if (some) io = `, io stall ${some[1]}%`;
  } catch {
    // not Linux, or no PSI
  }
  return `load ${average}${io}`;
}

function describeRun(name: string, run: Run): string {
  const scored = run.scored
    ? `; ${run.scored.scored}/${run.scored.pairs} pairs scored` +
      run.scored.huge
        .map((h) => `, 1 MB caption (${h.name}) ${h.scored ? 'scored' : 'NOT scored'}`)
        .join('')
    : '';
  return (
    `  ${name}: ${run.seconds.toFixed(1)} s, ${run.requests} requests` +
    `${run.failures > 0 ? ` (${run.failures} FAILED)` : ''}, p50 ${fmt(run.p50)} ms, ` +
    `p99 ${fmt(run.p99)} ms, max ${fmt(run.max)} ms; server loop delay p99 ${fmt(run.loopP99)} ms, ` +
    `max ${fmt(run.loopMax)} ms${scored}` +
    (run.statusError ? `; getScoringStatus failed: ${run.statusError}` : '') +
    (run.status?.running ? '; scoring still running at the time limit' : '') +
    ` (${load()})`
  );
}

const m = (runs: Run[], pick: (r: Run) => number): number => median(runs.map(pick));

function row(name: string, runs: Run[]): string[] {
  return [
    name,
    String(runs.length),
    m(runs, (r) => r.seconds).toFixed(1),
    String(Math.round(m(runs, (r) => r.requests))),
    fmt(m(runs, (r) => r.p50)),
    fmt(m(runs, (r) => r.p99)),
    fmt(m(runs, (r) => r.max)),
    fmt(m(runs, (r) => r.statsP50)),
    fmt(m(runs, (r) => r.queueP50)),
    fmt(m(runs, (r) => r.loopP99)),
    fmt(m(runs, (r) => r.loopMax)),
  ];
}

function ratioRow(name: string, runs: Run[], baseline: Run[]): string[] {
  const of = (pick: (r: Run) => number): string => ratio(m(runs, pick), m(baseline, pick));
  return [
    name,
    '',
    '',
    '',
    of((r) => r.p50),
    of((r) => r.p99),
    of((r) => r.max),
    of((r) => r.statsP50),
    of((r) => r.queueP50),
    of((r) => r.loopP99),
    of((r) => r.loopMax),
  ];
}

async function main(): Promise<void> {
  log(
    `Serve latency while scoring (${os.availableParallelism()} cores, node ${process.version}, ` +
      `${load()})`,
  );
  log(
    `  project: ${PAIRS} pairs of 64x48 JPEGs + 2 pairs with ${CAPTION_BYTES.toLocaleString('en-US')}-byte ` +
      `captions (no spaces; words), tiny ONNX model; a request every ${INTERVAL_MS} ms ` +
      `(getStats, getQueue alternately); ${RUNS} runs each\n`,
  );
  const started = performance.now();
  const projects = await buildProjects();
  log(`built the projects in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const cold = await measure(projects.model, 'scored');
  log(describeRun('scoring, cold (starts the scoring worker; not in the medians)', cold));
  const scoring: Run[] = [];
  const short: Run[] = [];
  const idle: Run[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const scored = await measure(projects.model, 'scored');
    scoring.push(scored);
    log(describeRun(`scoring ${run}`, scored));
    const control = await measure(projects.shortCaptions, 'scored');
    short.push(control);
    log(describeRun(`scoring, short captions ${run}`, control));
    // The baseline: the same loop, as long, with nothing to score.
    const quiet = await measure(projects.plain, Math.max(1, scored.seconds));
    idle.push(quiet);
    log(describeRun(`no scoring ${run}`, quiet));
  }

  log('');
  log(
    table(
      [
        'request latency (ms)',
        'runs',
        'seconds',
        'requests',
        'p50',
        'p99',
        'max',
        'getStats p50',
        'getQueue p50',
        'loop p99',
        'loop max',
      ],
      [
        row('no scoring (baseline)', idle),
        row('while scoring', scoring),
        row('while scoring, short captions', short),
        row('while scoring, cold', [cold]),
        ratioRow('scoring / baseline', scoring, idle),
        ratioRow('short captions / baseline', short, idle),
      ],
    ),
  );
  log('');
  log(
    `pairs scored per run: ${[cold, ...scoring].map((r) => `${r.scored?.scored}/${r.scored?.pairs}`).join(', ')}` +
      ` (short captions: ${short.map((r) => `${r.scored?.scored}/${r.scored?.pairs}`).join(', ')})`,
  );
  for (const h of (scoring[scoring.length - 1] ?? cold).scored?.huge ?? []) {
    log(
      `1 MB caption pair (${h.name}, ${h.bytes.toLocaleString('en-US')} bytes): ` +
        `${h.scored ? 'scored' : 'NOT scored'}, prompt ${h.embedded ? 'embedded' : 'not embedded'}`,
    );
  }
  log(
    `largest getQueue reply: ${Math.max(...[...idle, ...scoring].map((r) => r.queueChars)).toLocaleString('en-US')} ` +
      `characters (short captions: ${Math.max(...short.map((r) => r.queueChars)).toLocaleString('en-US')})`,
  );
  const p99 = m(scoring, (r) => r.p99);
  log(
    `issue #13 (p99 under ${TARGET_P99_MS} ms while scoring a project with a 1 MB caption): ` +
      `median p99 ${fmt(p99)} ms, ${p99 < TARGET_P99_MS ? 'met' : 'NOT met'}; ` +
      `worst run ${fmt(Math.max(...scoring.map((r) => r.p99)))} ms`,
  );
  log(
    '(latency: POST to whole reply, from a client thread; loop: how late a 5 ms timer on the\n' +
      " server's thread fired; each figure the median over runs of each run's own)",
  );
}

await main();
