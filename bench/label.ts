/**
 * Labeling benchmark: a demo project served by `pickstudio serve`, the built labeling view in
 * headless Chromium (Debian's), and keypresses one after another. Prints figures; asserts nothing.
 *
 *   npm run bench:label                    (electron-vite build, then this file)
 *   BENCH_PAIRS=240 BENCH_KEYS=200 BENCH_GAP_MS=100 npm run bench:label
 *
 * Measured in the page (renderer/src/state/timing.ts, enabled by `?bench`), per keypress, from
 * performance.now() at the start of the keydown handler:
 * - commit:  until recordDecision resolved (the server answered after its SQLite commit);
 * - render:  until the next pair was in the DOM (React's layout effect);
 * - paint:   until the second requestAnimationFrame callback after that render (the brief's
 *            definition: the frame showing the pair has been produced);
 * - next paint: rAF then a posted message, which runs right after that frame is produced.
 * Server share: the Resource Timing of each recordDecision request (responseStart -
 * requestStart: the server's work plus loopback), and the core alone, in process, on the same file.
 * BENCH_GAP_MS is the pause after each pair is painted, before the next key (a fast annotator
 * takes about 1,000 ms; the gap only has to let prefetch keep up).
 *
 * The headline, measured apart from the app's own timing (a script the bench puts in the page):
 * keypress → next pair painted, from the keydown event's timeStamp to performance.now() in the
 * first requestAnimationFrame callback that finds the view on a new pair id with both <img>
 * elements in the DOM and decoded (`complete`, `naturalWidth` > 0): the frame that paints it.
 * `decode()` on both, called then, says how long the images still had to wait for their bytes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright';
import { openStudio } from '../electron/core/studio';
import { chromiumLaunchOptions, pickstudio, serve } from '../tests/e2e/serve';
import { printFigures, quantile } from './lib';

const PAIRS = Number(process.env.BENCH_PAIRS ?? 240);
const KEYS = Number(process.env.BENCH_KEYS ?? 200);
const GAP_MS = Number(process.env.BENCH_GAP_MS ?? 100);
/** A mix like an annotator's: both sides by arrows and digits, ties, the odd skip. */
const KEY_CYCLE = ['ArrowLeft', '2', 'ArrowRight', '1', 'ArrowDown', 'ArrowLeft', '3', 'Space'];

interface KeyTiming {
  action: string;
  pairId: number | null;
  nextPairId: number | null;
  keyAt: number;
  committedAt: number | null;
  renderedAt: number | null;
  nextPaintAt: number | null;
  paintedAt: number | null;
  imagesComplete: boolean | null;
}

/** One keypress as the bench's own script in the page saw it (see FRAME_PROBE). */
interface FrameTiming {
  fromPairId: string;
  toPairId: string;
  /** performance.now() in the first frame showing the new pair, minus the keydown's timeStamp. */
  frameMs: number;
  /** From that frame until decode() resolved on both images. */
  decodeMs: number;
}

/**
 * Runs in the page before the app: on each keydown (capture, before the app's handler), a
 * requestAnimationFrame loop that stops at the first frame showing another pair, both images
 * decoded. Checking from inside the page costs nothing between frames.
 */
const FRAME_PROBE = `(() => {
  window.__benchFrames = [];
  const view = () => document.querySelector('[data-testid="labeling-view"]');
  addEventListener('keydown', (event) => {
    const keyAt = event.timeStamp;
    const fromPairId = view()?.getAttribute('data-pair-id') ?? '';
    const started = performance.now();
    const tick = () => {
      const now = performance.now();
      const toPairId = view()?.getAttribute('data-pair-id') ?? '';
      const imgs = [...document.querySelectorAll('img[data-testid^="image-"]')];
      const shown = toPairId !== '' && toPairId !== fromPairId && imgs.length === 2 &&
        imgs.every((img) => img.complete && img.naturalWidth > 0);
      if (shown) {
        const record = { fromPairId, toPairId, frameMs: now - keyAt, decodeMs: NaN };
        window.__benchFrames.push(record);
        Promise.all(imgs.map((img) => img.decode())).then(
          () => (record.decodeMs = performance.now() - now), () => {});
      } else if (now - started < 10000) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }, true);
})()`;

interface ResourceEntry {
  startTime: number;
  requestStart: number;
  responseStart: number;
  responseEnd: number;
}

const ms = (value: number): string => (Number.isNaN(value) ? '–' : `${value.toFixed(2)} ms`);

function row(label: string, values: number[]): string {
  return `  ${label.padEnd(50)} ${ms(quantile(values, 0.5)).padStart(10)}  ${ms(quantile(values, 0.95)).padStart(10)}  n=${values.length}`;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pickstudio-bench-label-'));
  const file = path.join(dir, 'bench.pickstudio');
  try {
    console.log(`Drawing a demo project of ${PAIRS} pairs…`);
    await pickstudio(['demo', file, '--pairs', String(PAIRS), '--no-score']);
    const served = await serve(file);
    const browser = await chromium.launch({ ...chromiumLaunchOptions, headless: true });
    let timings: KeyTiming[];
    let resources: ResourceEntry[];
    let frames: FrameTiming[];
    let frameMs: number;
    let http: number[];
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.addInitScript(FRAME_PROBE);
      // The server keeps other query parameters through its token redirect: this lands on /?bench.
      await page.goto(`${served.url}&bench`);
      await page.getByTestId('annotator-name').fill('bench');
      await page.getByTestId('annotator-submit').click();
      await page.waitForSelector('[data-testid=labeling-view][data-state=ready]');
      await sleep(500);
      frameMs = (await page.evaluate(`new Promise((resolve) => {
        const times = [];
        const tick = (t) => { times.push(t); if (times.length < 61) requestAnimationFrame(tick); else {
          const d = times.slice(1).map((x, i) => x - times[i]).sort((a, b) => a - b);
          resolve(d[d.length >> 1]); } };
        requestAnimationFrame(tick);
      })`)) as number;

      console.log(`Pressing ${KEYS} keys, ${GAP_MS} ms after each pair is painted…`);
      for (let i = 0; i < KEYS; i++) {
        await page.keyboard.press(KEY_CYCLE[i % KEY_CYCLE.length]!);
        // Polling from outside: nothing runs in the page while a keypress is being measured.
        const deadline = Date.now() + 15_000;
        await sleep(GAP_MS);
        while (((await page.evaluate('window.__pickstudioTimings.length')) as number) <= i) {
          if (Date.now() > deadline) throw new Error(`keypress ${i + 1}: no timing recorded`);
          await sleep(5);
        }
      }
      timings = (await page.evaluate('window.__pickstudioTimings')) as KeyTiming[];
      frames = (await page.evaluate('window.__benchFrames')) as FrameTiming[];
      resources = (await page.evaluate(`performance.getEntriesByType('resource')
        .filter((e) => e.name.includes('/api/call/recordDecision'))
        .map((e) => ({ startTime: e.startTime, requestStart: e.requestStart,
          responseStart: e.responseStart, responseEnd: e.responseEnd }))`)) as ResourceEntry[];
      await browser.close();
      http = await httpCommitTimes(served.url, Math.min(KEYS, PAIRS));
    } finally {
      await browser.close();
      await served.stop();
    }

    const core = await coreCommitTimes(file, Math.min(KEYS, PAIRS));
    report(timings, frames, resources, http, core, frameMs);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** recordDecision over HTTP from Node, browser closed: the server's door without Chromium. */
async function httpCommitTimes(url: string, count: number): Promise<number[]> {
  const { origin, searchParams } = new URL(url);
  const headers = {
    'content-type': 'application/json',
    authorization: `Bearer ${searchParams.get('token')}`,
  };
  const times: number[] = [];
  for (let pairId = 1; pairId <= count; pairId++) {
    const start = performance.now();
    const response = await fetch(`${origin}/api/call/recordDecision`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        annotator: 'bench-http',
        pairId,
        decision: 1,
        leftImage: 1,
        suggestionVisible: false,
        decisionMs: 1000,
      }),
    });
    await response.json();
    times.push(performance.now() - start);
  }
  return times;
}

/** recordDecision through the dispatcher in this process, on the same file: the core alone. */
async function coreCommitTimes(file: string, count: number): Promise<number[]> {
  if (count <= 0) return [];
  const studio = openStudio(file);
  try {
    const times: number[] = [];
    // Another annotator, so every pair is still undecided for it, as in the browser run.
    for (let pairId = 1; pairId <= count; pairId++) {
      const start = performance.now();
      await studio.call('recordDecision', {
        annotator: 'bench-core',
        pairId,
        decision: 0,
        leftImage: 0,
        suggestionVisible: false,
        decisionMs: 1000,
      });
      times.push(performance.now() - start);
    }
    return times;
  } finally {
    studio.close();
  }
}

function report(
  timings: KeyTiming[],
  frames: FrameTiming[],
  resources: ResourceEntry[],
  http: number[],
  core: number[],
  frameMs: number,
): void {
  const decisions = timings.filter((t) => t.action !== 'undo');
  const painted = decisions.filter((t) => t.paintedAt !== null);
  const since = (pick: (t: KeyTiming) => number | null) =>
    decisions.flatMap((t) => {
      const at = pick(t);
      return at === null ? [] : [at - t.keyAt];
    });
  // The i-th recordDecision request belongs to the i-th decision: one request per keypress.
  const sorted = [...resources].sort((a, b) => a.startTime - b.startTime);
  const paired = decisions.map((t, i) => ({ t, r: sorted[i] }));
  const server = paired.flatMap(({ r }) => (r ? [r.responseStart - r.requestStart] : []));
  const beforeSend = paired.flatMap(({ t, r }) => (r ? [r.startTime - t.keyAt] : []));
  const queued = paired.flatMap(({ r }) => (r ? [r.requestStart - r.startTime] : []));
  const transfer = paired.flatMap(({ r }) => (r ? [r.responseEnd - r.responseStart] : []));
  const afterResponse = paired.flatMap(({ t, r }) =>
    r && t.committedAt !== null ? [t.committedAt - r.responseEnd] : [],
  );
  const incomplete = painted.filter((t) => t.imagesComplete !== true).length;

  console.log('');
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  console.log(
    `Load average after the run: ${load} (other work on the machine skews these figures)`,
  );
  console.log(
    `Pick Studio labeling bench: ${decisions.length} keypresses, headless Chromium (${os.cpus().length} cores), frame interval ${frameMs.toFixed(1)} ms`,
  );
  console.log(`  ${''.padEnd(50)} ${'median'.padStart(10)}  ${'p95'.padStart(10)}`);
  // Keys that led to no other pair (the end screen, a refusal) have no frame to time.
  const moved = frames.filter((f) => f.toPairId !== f.fromPairId);
  console.log(
    row(
      'keypress → next pair painted (frame, images decoded)',
      moved.map((f) => f.frameMs),
    ),
  );
  console.log(
    row(
      '  that frame → decode() resolved on both images',
      moved.map((f) => f.decodeMs).filter((d) => !Number.isNaN(d)),
    ),
  );
  console.log("  the app's own timing (renderer/src/state/timing.ts):");
  console.log(
    row(
      'keypress → verdict committed',
      since((t) => t.committedAt),
    ),
  );
  console.log(
    row(
      'keypress → next pair in the DOM',
      since((t) => t.renderedAt),
    ),
  );
  console.log(
    row(
      'keypress → next pair painted (rAF + message)',
      since((t) => t.nextPaintAt),
    ),
  );
  console.log(
    row(
      'keypress → next pair painted (second rAF)',
      since((t) => t.paintedAt),
    ),
  );
  console.log('  commit, split:');
  console.log(row('  keydown → request sent (client)', beforeSend));
  console.log(row('  fetch() → request on the wire (Chromium)', queued));
  console.log(row('  server share (requestStart → responseStart)', server));
  console.log(row('  response transfer (responseStart → End)', transfer));
  console.log(row('  response end → promise resolved (client)', afterResponse));
  console.log(row('  recordDecision over HTTP from Node (no browser)', http));
  console.log(row('  core recordDecision in process (same file)', core));
  console.log('  paint, split:');
  const between = (from: (t: KeyTiming) => number | null, to: (t: KeyTiming) => number | null) =>
    decisions.flatMap((t) => {
      const [a, b] = [from(t), to(t)];
      return a === null || b === null ? [] : [b - a];
    });
  console.log(
    row(
      '  committed → next pair in the DOM (< 0: it went up first)',
      between(
        (t) => t.committedAt,
        (t) => t.renderedAt,
      ),
    ),
  );
  console.log(
    row(
      '  in the DOM → second rAF',
      between(
        (t) => t.renderedAt,
        (t) => t.paintedAt,
      ),
    ),
  );
  console.log(
    `  next pair's images complete when rendered: ${painted.length - incomplete} of ${painted.length}`,
  );
  const paintedMs = moved.map((f) => f.frameMs);
  printFigures('label', {
    keypress_to_paint_median_ms: quantile(paintedMs, 0.5),
    keypress_to_paint_p95_ms: quantile(paintedMs, 0.95),
    frame_ms: frameMs,
    core_commit_median_ms: quantile(core, 0.5),
  });
}

await main();
