/**
 * Agreement-metrics benchmark: computeDashboard (electron/core/metrics) on synthetic verdicts.
 * Prints figures; asserts nothing.
 *
 *   npm run bench:stats                      (node --import tsx bench/stats.ts)
 *   BENCH_PAIRS=100000 BENCH_RUNS=7 BENCH_RESAMPLES=200 npm run bench:stats
 *
 * Data (seeded, the same on every run): BENCH_PAIRS pairs, each judged by 3 of 12 annotators.
 * Each pair has a latent quality gap z ~ N(0, 1); an annotator calls a tie with probability
 * 0.02 to 0.12 (by annotator), else picks image 0 with probability sigmoid(4 z + bias), with a
 * small per-annotator bias towards the image shown on the left. That gives about 70% agreement
 * between two verdicts on a pair (81% without ties). PickScore's p0 is sigmoid(1.6 z + N(0, 0.8)),
 * correlated with the verdicts without being them; 2% of pairs are unscored. Durations are
 * log-normal around 2.5 s, 3% unknown.
 *
 * Baseline, in the same process: one pass over the same annotation objects that only counts
 * verdicts per category and per annotator (what any statistic must at least read).
 *
 * Then the same verdicts from a project file, through getAudit (SQL read included).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { audit } from '../electron/core/audit/audit';
import { ProjectStore } from '../electron/core/store/project-store';
import type { Verdict } from '../shared/labels';
import {
  computeDashboard,
  Prng,
  toColumns,
  type DashboardAnnotation,
  type DashboardInput,
  type DashboardPart,
  type DashboardResult,
} from '../electron/core/metrics';
import { median, table } from './lib';
import { sqlite } from '../tests/helpers/project';

const PAIRS = Number(process.env.BENCH_PAIRS ?? 100_000);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 7) || 7);
const RESAMPLES = Number(process.env.BENCH_RESAMPLES ?? 200);
const ANNOTATORS = 12;
const PER_PAIR = 3;

const log = (line = ''): void => {
  process.stdout.write(line + '\n');
};

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

function generate(pairs: number, seed: number): DashboardInput {
  const rng = new Prng(seed);
  const normal = (): number => {
    const u = 1 - rng.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
  };
  const names = Array.from({ length: ANNOTATORS }, (_, a) => `annotator-${a + 1}`);
  const tieRate = names.map((_, a) => 0.02 + (0.1 * a) / (ANNOTATORS - 1));
  const leftBias = names.map(() => 0.3 * normal());
  const speed = names.map(() => Math.log(2500) + 0.3 * normal());
  const annotations: DashboardAnnotation[] = [];
  const p0: (number | null)[] = [];
  for (let p = 0; p < pairs; p++) {
    const z = normal();
    p0.push(rng.next() < 0.02 ? null : sigmoid(1.6 * z + 0.8 * normal()));
    // 3 distinct annotators out of 12.
    const first = rng.nextIndex(ANNOTATORS);
    const second = (first + 1 + rng.nextIndex(ANNOTATORS - 1)) % ANNOTATORS;
    let third = rng.nextIndex(ANNOTATORS);
    while (third === first || third === second) third = (third + 1) % ANNOTATORS;
    for (const a of [first, second, third].slice(0, PER_PAIR)) {
      const leftImage: 0 | 1 = rng.next() < 0.5 ? 0 : 1;
      let verdict: Verdict;
      if (rng.next() < tieRate[a]!) verdict = 'tie';
      else {
        const towardsLeft = leftImage === 0 ? leftBias[a]! : -leftBias[a]!;
        verdict = rng.next() < sigmoid(4 * z + towardsLeft) ? 0 : 1;
      }
      const durationMs =
        rng.next() < 0.03 ? null : Math.round(Math.exp(speed[a]! + 0.5 * normal()));
      annotations.push({ pairIndex: p, annotator: names[a]!, verdict, leftImage, durationMs });
    }
  }
  return { annotations, p0 };
}

/** The baseline: one pass counting verdicts per category and per annotator. */
function countOnly(input: DashboardInput): number {
  const perAnnotator = new Map<string, number>();
  let image0 = 0;
  let ties = 0;
  for (const a of input.annotations) {
    if (a.verdict === 0) image0++;
    else if (a.verdict === 'tie') ties++;
    perAnnotator.set(a.annotator, (perAnnotator.get(a.annotator) ?? 0) + 1);
  }
  return image0 + ties + perAnnotator.size;
}

const ms = (x: number): string => `${x.toFixed(1)} ms`;
const fixed = (x: number | null | undefined, digits = 3): string =>
  x === null || x === undefined ? '-' : x.toFixed(digits);

function main(): void {
  log(
    `Pick Studio metrics benchmark: node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim() ?? '?'})`,
  );
  const started = performance.now();
  const input = generate(PAIRS, 20240501);
  log(
    `data: ${PAIRS.toLocaleString('en-US')} pairs x ${PER_PAIR} verdicts = ${input.annotations.length.toLocaleString('en-US')} annotations, ${ANNOTATORS} annotators (generated in ${ms(performance.now() - started)})`,
  );
  const columns = toColumns(input);
  const options = { resamples: RESAMPLES, seed: 7 };

  // Warm-up (JIT), not counted.
  let result: DashboardResult = computeDashboard(input, options);
  countOnly(input);

  const totals: number[] = [];
  const columnTotals: number[] = [];
  const baselines: number[] = [];
  const parts = new Map<DashboardPart, number[]>();
  for (let run = 1; run <= RUNS; run++) {
    let t = performance.now();
    const sink = countOnly(input);
    baselines.push(performance.now() - t);

    const timings: Partial<Record<DashboardPart, number>> = {};
    t = performance.now();
    result = computeDashboard(input, {
      ...options,
      onTiming: (part, partMs) => {
        timings[part] = partMs;
      },
    });
    const total = performance.now() - t;
    totals.push(total);
    for (const [part, partMs] of Object.entries(timings) as [DashboardPart, number][]) {
      parts.set(part, [...(parts.get(part) ?? []), partMs]);
    }

    t = performance.now();
    computeDashboard(columns, options);
    columnTotals.push(performance.now() - t);
    log(
      `run ${run}/${RUNS}: computeDashboard(objects) ${ms(total)}, (typed columns) ${ms(columnTotals.at(-1)!)}, baseline ${ms(baselines.at(-1)!)} (${sink})`,
    );
  }

  const base = median(baselines);
  const rows = [
    ['computeDashboard, objects in', median(totals)],
    ['computeDashboard, typed columns in', median(columnTotals)],
    ...[...parts].map(([part, values]) => [`  part: ${part}`, median(values)] as const),
    ['baseline: count verdicts (one pass)', base],
  ] as const;
  log();
  log(
    `=== Summary (medians of ${RUNS} runs, ${result.bootstrap.resamples} bootstrap resamples) ===`,
  );
  log(
    table(
      ['step', 'time', 'x baseline'],
      rows.map(([name, value]) => [name, ms(value), (value / base).toFixed(1)]),
    ),
  );
  const ag = result.agreement;
  const interval = (e: { interval: { lower: number; upper: number } | null }): string =>
    e.interval ? `[${fixed(e.interval.lower)}, ${fixed(e.interval.upper)}]` : '';
  log();
  log(
    `figures: percent agreement ${fixed(ag.percent.value)} ${interval(ag.percent)}, without ties ${fixed(ag.percentWithoutTies.value)}, ` +
      `Fleiss ${fixed(ag.fleissKappa.value)}, Krippendorff nominal ${fixed(ag.krippendorffNominal.value)} ${interval(ag.krippendorffNominal)}, ` +
      `ordinal ${fixed(ag.krippendorffOrdinal.value)}, AC1 ${fixed(ag.gwetAC1.value)}, ${ag.cohen.a.length} annotator pairs with Cohen's kappa`,
  );
  log(
    `PickScore: threshold ${result.pickscore.threshold}, accuracy ${fixed(result.pickscore.accuracy.value)} ${interval(result.pickscore.accuracy)}, ` +
      `random baseline ${fixed(result.pickscore.randomBaselineAtThreshold)}; ECE ${fixed(result.calibration.ece)}`,
  );
}

/**
 * The same verdicts in a project file (pairs, annotators, annotations with their display side and
 * time, a model's scores), so the whole getAudit path is timed: the SQL read through
 * current_annotations into typed columns, then the dashboard, confusion matrix and generators.
 */
function fromProject(input: DashboardInput): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pickstudio-bench-stats-'));
  try {
    const store = ProjectStore.open(path.join(dir, 'stats.pickstudio'), { create: true });
    const db = sqlite(store);
    let t = performance.now();
    db.transaction(() => {
      const prompt = db.prepare('INSERT INTO prompts (id, text) VALUES (?, ?)');
      const image = db.prepare('INSERT INTO images (id, uid) VALUES (?, ?)');
      const pair = db.prepare(
        `INSERT INTO pairs (id, prompt_id, image_0_id, image_1_id, model_0, model_1, added_at)
         VALUES (?, ?, ?, ?, ?, ?, 0)`,
      );
      const generators = ['sdxl', 'sd-2.1', 'dreamlike', 'sd-1.5'];
      for (let i = 1; i <= PAIRS; i++) {
        prompt.run(i, `prompt ${i}`);
        image.run(2 * i, `a${i}`);
        image.run(2 * i + 1, `b${i}`);
        pair.run(i, i, 2 * i, 2 * i + 1, generators[i % 4], generators[(i + 1) % 4]);
      }
      const annotator = db.prepare(
        "INSERT INTO annotators (id, name, kind, created_at) VALUES (?, ?, 'human', 0)",
      );
      const names = [...new Set(input.annotations.map((a) => a.annotator))];
      names.forEach((name, i) => annotator.run(i + 1, name));
      const ids = new Map(names.map((name, i) => [name, i + 1]));
      const annotation = db.prepare(
        `INSERT INTO annotations (pair_id, annotator_id, action, verdict, left_image, decision_ms, created_at)
         VALUES (?, ?, 'verdict', ?, ?, ?, ?)`,
      );
      for (const a of input.annotations) {
        annotation.run(
          a.pairIndex + 1,
          ids.get(a.annotator),
          a.verdict === 'tie' ? 'tie' : String(a.verdict),
          a.leftImage,
          a.durationMs === null ? null : Math.round(a.durationMs),
          1_700_000_000_000 + a.pairIndex,
        );
      }
    })();
    const scores = store.scores;
    const model = scores.activate({
      fingerprint: 'bench',
      name: 'bench',
      manifest: '{}',
      folder: dir,
    });
    const rows: { pairId: number; score0: number; score1: number; p0: number }[] = [];
    for (let i = 0; i < input.p0.length; i++) {
      const p0 = input.p0[i];
      if (p0 !== null && p0 !== undefined) rows.push({ pairId: i + 1, score0: 0, score1: 0, p0 });
    }
    scores.putScores(model, rows);
    log(`project file: built in ${ms(performance.now() - t)}`);

    audit(store, { filters: {}, resamples: RESAMPLES }); // warm-up
    const times: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      t = performance.now();
      audit(store, { filters: {}, resamples: RESAMPLES });
      times.push(performance.now() - t);
    }
    const filtered: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      t = performance.now();
      audit(store, { filters: { generator: 'sdxl', minConfidence: 0.1 }, resamples: RESAMPLES });
      filtered.push(performance.now() - t);
    }
    store.close();
    log(
      table(
        ['getAudit from the project file', 'time'],
        [
          ['whole project', ms(median(times))],
          ['filtered (one generator, confidence >= 0.1)', ms(median(filtered))],
        ],
      ),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
fromProject(generate(PAIRS, 20240501));
