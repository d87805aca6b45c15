/**
 * Annotators whose behaviour stands out: each check is a test with a minimum sample below which
 * it says nothing, and, where it compares with chance or with the others, a significance level
 * shared out over the annotators tested (Bonferroni) plus a minimum effect size, so that neither a
 * handful of verdicts nor a tiny bias over a million verdicts raises a flag.
 *
 * Inputs are the dashboard's per-annotator rows and Cohen rows (dashboard.ts) and each annotator's
 * gold score (audit/quality.ts); pure functions, no database.
 */
import type { AnnotatorResult, CohenTable } from '../../../shared/audit';
import type { GoldScore, OutlierFlag } from '../../../shared/quality';
import { logFactorial } from './sampling';

/**
 * The chance, per kind of check, of flagging at least one of the annotators when none stands
 * out: each annotator's test runs at FAMILY_ALPHA / (annotators tested). 1% keeps a lead with
 * dozens of annotators from chasing a false flag in most audits.
 */
export const FAMILY_ALPHA = 0.01;

/**
 * A median decision time under this is not a judgement: reading a prompt and comparing two
 * images takes well over a simple visual choice reaction time (about 300-400 ms for two
 * alternatives, e.g. Hick's-law measurements), so a median below it means the keys are pressed
 * without looking.
 */
export const FAST_FLOOR_MS = 300;
/** ...or a median under a quarter of the other annotators' typical median (median of medians). */
export const FAST_SHARE_OF_OTHERS = 0.25;
/** Timed verdicts a median needs before it is compared: fewer, and a few quick keys decide it. */
export const MIN_TIMED_VERDICTS = 20;

/**
 * Mean Cohen's kappa with the others at or under this is chance-level ("slight" agreement or
 * worse on Landis & Koch's 1977 scale)...
 */
export const KAPPA_NEAR_ZERO = 0.2;
/** ...while the others agree among themselves at least moderately (median kappa, same scale). */
export const OTHERS_AGREE_KAPPA = 0.4;
/**
 * Pairs shared with the others, over all Cohen rows, before the mean kappa is read: a kappa's
 * standard error on 30 pairs is still about 0.15, smaller samples say little.
 */
export const MIN_KAPPA_SHARED_PAIRS = 30;

/** Non-tie verdicts with a known side before position bias is tested. */
export const MIN_SIDED_VERDICTS = 30;
/**
 * The least share of one side worth a flag: 65% (0.5 + 0.15). People prefer the left a little
 * when unsure; a picker of one side two times out of three does it on purpose or not at all.
 */
export const POSITION_EFFECT = 0.15;

/** Verdicts, the annotator's and the others' together, before the tie rate is compared. */
export const MIN_TIE_VERDICTS = 30;
/** The least difference from the others' pooled tie rate worth a flag (15 percentage points). */
export const TIE_RATE_EFFECT = 0.15;

/** Gold pairs judged before accuracy on them is read. */
export const MIN_GOLD_JUDGED = 5;
/**
 * Flag when even the upper end of the 95% Wilson interval of the gold accuracy is under this:
 * gold pairs are ones the lead is sure of, and careful annotators get 90% or more; one who is
 * surely under 75% is guessing on a good part of them (chance is 50% without ties).
 */
export const GOLD_ACCURACY_FLOOR = 0.75;
const Z_95 = 1.959963984540054;

/** ln P(X = k) for X ~ Binomial(n, p). */
function logBinomialPmf(k: number, n: number, p: number): number {
  if (p <= 0) return k === 0 ? 0 : -Infinity;
  if (p >= 1) return k === n ? 0 : -Infinity;
  return (
    logFactorial(n) -
    logFactorial(k) -
    logFactorial(n - k) +
    k * Math.log(p) +
    (n - k) * Math.log1p(-p)
  );
}

/**
 * Exact two-sided binomial test: the probability, under Binomial(n, p), of an outcome no more
 * likely than k (the "minimum likelihood" p-value of R's binom.test and scipy's binomtest).
 */
export function binomialTwoSided(k: number, n: number, p: number): number {
  if (n === 0) return 1;
  const observed = logBinomialPmf(k, n, p);
  // Relative tolerance as R's binom.test, so that outcomes as likely as k count in floating point.
  const limit = observed + Math.log1p(1e-7);
  let sum = 0;
  for (let j = 0; j <= n; j++) {
    const l = logBinomialPmf(j, n, p);
    if (l <= limit) sum += Math.exp(l);
  }
  return Math.min(1, sum);
}

/** The standard normal's upper tail 1 - Phi(z), from erfc (Numerical Recipes' erfcc, < 1.2e-7). */
export function normalUpperTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const erfc =
    t *
    Math.exp(
      -x * x -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t *
                              (-1.13520398 +
                                t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/** The upper end of the Wilson score interval for k successes in n (95%). */
export function wilsonUpper(k: number, n: number): number {
  if (n === 0) return 1;
  const p = k / n;
  const z2 = Z_95 * Z_95;
  const centre = p + z2 / (2 * n);
  const spread = Z_95 * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return Math.min(1, (centre + spread) / (1 + z2 / n));
}

const percent = (x: number): string => `${Math.round(x * 100)}%`;
const formatMs = (ms: number): string =>
  ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
const formatP = (p: number): string => (p < 1e-6 ? 'p < 0.000001' : `p = ${p.toPrecision(2)}`);

/** The median of a sorted list without its element at `skip` (-1: none); null when empty. */
function medianWithout(sorted: readonly number[], skip: number): number | null {
  const n = sorted.length - (skip >= 0 ? 1 : 0);
  if (n <= 0) return null;
  const at = (k: number): number => sorted[skip >= 0 && k >= skip ? k + 1 : k]!;
  return n % 2 === 1 ? at(n >> 1) : (at((n >> 1) - 1) + at(n >> 1)) / 2;
}

/** Whose median decision time counts: enough timed verdicts. */
const timedEnough = (row: AnnotatorResult): boolean =>
  row.medianDecisionMs !== null && row.timedVerdicts >= MIN_TIMED_VERDICTS;

/**
 * Figures over every annotator, computed once (thousands of Pick-a-Pic users make a pass over
 * the others per annotator too slow): sorted medians, tie totals, Cohen rows by annotator.
 */
interface Everyone {
  medians: number[];
  ties: number;
  verdicts: number;
  /** Per annotator: their Cohen rows' unweighted kappas (those defined), and pairs shared. */
  kappasOf: Map<string, { kappas: number[]; shared: number }>;
  /** Every Cohen row's unweighted kappa that is defined, sorted. */
  kappas: Float64Array;
}

function everyone(annotators: readonly AnnotatorResult[], cohen: CohenTable): Everyone {
  const kappasOf = new Map<string, { kappas: number[]; shared: number }>();
  const defined: number[] = [];
  cohen.unweighted.value.forEach((kappa, i) => {
    if (kappa === null) return;
    defined.push(kappa);
    for (const name of [cohen.annotators[cohen.a[i]!]!, cohen.annotators[cohen.b[i]!]!]) {
      let mine = kappasOf.get(name);
      if (!mine) kappasOf.set(name, (mine = { kappas: [], shared: 0 }));
      mine.kappas.push(kappa);
      mine.shared += cohen.commonPairs[i]!;
    }
  });
  return {
    medians: annotators
      .filter(timedEnough)
      .map((a) => a.medianDecisionMs!)
      .sort((x, y) => x - y),
    ties: annotators.reduce((sum, a) => sum + a.ties, 0),
    verdicts: annotators.reduce((sum, a) => sum + a.verdicts, 0),
    kappasOf,
    kappas: Float64Array.from(defined).sort(),
  };
}

/** How many of a sorted list are at most `value`. */
function countUpTo(sorted: ArrayLike<number>, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The median of `all` without the values of `removed` (sorted, each one of `all`'s), as median()
 * of the rest would give, in O(log^2) instead of a filter and a sort of every Cohen row per
 * annotator (Pick-a-Pic's thousands of users, hundreds of thousands of rows, took minutes).
 */
export function medianWithoutValues(all: Float64Array, removed: Float64Array): number {
  const n = all.length - removed.length;
  if (n <= 0) return NaN;
  // The k-th smallest of the rest: the first of `all` with more than k of the rest at or below it.
  const kth = (k: number): number => {
    let lo = 0;
    let hi = all.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const v = all[mid]!;
      if (countUpTo(all, v) - countUpTo(removed, v) > k) hi = mid;
      else lo = mid + 1;
    }
    return all[lo]!;
  };
  const h = (n - 1) * 0.5;
  const lo = Math.floor(h);
  const x = kth(lo);
  return x + (h - lo) * (kth(Math.min(lo + 1, n - 1)) - x);
}

/** The index of `value` in a sorted list (binary search; it is there). */
function indexIn(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function fastFlag(row: AnnotatorResult, all: Everyone): OutlierFlag | null {
  if (!timedEnough(row)) return null;
  const mine = row.medianDecisionMs!;
  const othersMedian = medianWithout(all.medians, indexIn(all.medians, mine));
  const underFloor = mine < FAST_FLOOR_MS;
  const underOthers = othersMedian !== null && mine < FAST_SHARE_OF_OTHERS * othersMedian;
  if (!underFloor && !underOthers) return null;
  const versus =
    othersMedian === null ? '' : `; the others' typical median ${formatMs(othersMedian)}`;
  return {
    reason: 'fast',
    detail: `median ${formatMs(mine)} per verdict over ${row.timedVerdicts} (${underFloor ? `under ${FAST_FLOOR_MS} ms` : `under a quarter of the others'`}${versus})`,
  };
}

function agreementFlag(name: string, all: Everyone): OutlierFlag | null {
  const mine = all.kappasOf.get(name);
  if (mine === undefined || mine.shared < MIN_KAPPA_SHARED_PAIRS) return null;
  const { kappas, shared } = mine;
  const mean = kappas.reduce((sum, kappa) => sum + kappa, 0) / kappas.length;
  if (mean > KAPPA_NEAR_ZERO) return null;
  // Only for those already near zero: the others' rows are every row less theirs.
  const othersKappa = medianWithoutValues(all.kappas, Float64Array.from(kappas).sort());
  if (Number.isNaN(othersKappa) || othersKappa < OTHERS_AGREE_KAPPA) return null;
  return {
    reason: 'low-agreement',
    detail: `mean Cohen's κ ${mean.toFixed(2)} with ${kappas.length} other${kappas.length === 1 ? '' : 's'} over ${shared} shared pairs, while the others agree at κ ${othersKappa.toFixed(2)}`,
  };
}

function positionFlag(row: AnnotatorResult, alpha: number): OutlierFlag | null {
  if (row.leftRate === null || row.leftRateVerdicts < MIN_SIDED_VERDICTS) return null;
  const n = row.leftRateVerdicts;
  const left = Math.round(row.leftRate * n);
  if (Math.abs(left / n - 0.5) < POSITION_EFFECT) return null;
  const p = binomialTwoSided(left, n, 0.5);
  if (p >= alpha) return null;
  const side = left * 2 > n ? 'left' : 'right';
  const share = side === 'left' ? left / n : 1 - left / n;
  return {
    reason: 'position-bias',
    detail: `picks the ${side} image in ${percent(share)} of ${n} verdicts (binomial test against 50%, ${formatP(p)})`,
  };
}

function tieFlag(row: AnnotatorResult, all: Everyone, alpha: number): OutlierFlag | null {
  const n1 = row.verdicts;
  const n2 = all.verdicts - row.verdicts;
  if (n1 < MIN_TIE_VERDICTS || n2 < MIN_TIE_VERDICTS) return null;
  const p1 = row.ties / n1;
  const p2 = (all.ties - row.ties) / n2;
  if (Math.abs(p1 - p2) < TIE_RATE_EFFECT) return null;
  // Two-proportion z-test with the pooled rate (both samples are at least 30 verdicts).
  const pooled = (row.ties + p2 * n2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (se === 0) return null;
  const p = 2 * normalUpperTail(Math.abs(p1 - p2) / se);
  if (p >= alpha) return null;
  return {
    reason: 'tie-rate',
    detail: `ties ${percent(p1)} of ${n1} verdicts against ${percent(p2)} for the others (two-proportion z-test, ${formatP(p)})`,
  };
}

function goldFlag(gold: GoldScore | undefined): OutlierFlag | null {
  if (!gold || gold.judged < MIN_GOLD_JUDGED) return null;
  const upper = wilsonUpper(gold.correct, gold.judged);
  if (upper >= GOLD_ACCURACY_FLOOR) return null;
  return {
    reason: 'gold',
    detail: `${gold.correct} of ${gold.judged} gold pairs right (${percent(gold.correct / gold.judged)}; at most ${percent(upper)} at 95% confidence, under ${percent(GOLD_ACCURACY_FLOOR)})`,
  };
}

/**
 * Each annotator's flags, by name: the reasons their verdicts stand out, each with its figures.
 * `annotators` and `cohen` must be the dashboard's rows for every annotator (not one focused on).
 */
export function outlierFlags(
  annotators: readonly AnnotatorResult[],
  cohen: CohenTable,
  gold: ReadonlyMap<string, GoldScore>,
): Map<string, OutlierFlag[]> {
  const alpha = FAMILY_ALPHA / Math.max(1, annotators.length);
  const all = everyone(annotators, cohen);
  const flags = new Map<string, OutlierFlag[]>();
  for (const row of annotators) {
    flags.set(
      row.annotator,
      [
        fastFlag(row, all),
        agreementFlag(row.annotator, all),
        positionFlag(row, alpha),
        tieFlag(row, all, alpha),
        goldFlag(gold.get(row.annotator)),
      ].filter((flag): flag is OutlierFlag => flag !== null),
    );
  }
  return flags;
}
