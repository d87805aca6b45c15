/**
 * Order statistics and the percentile bootstrap.
 *
 * The bootstrap resamples items (pairs) with replacement: a resample of n items is n draws of
 * `Prng.nextIndex(n)`, and an item drawn k times counts k times (Efron & Tibshirani 1993, An
 * Introduction to the Bootstrap, ch. 6 and 13: the percentile interval).
 */
import type { Interval } from '../../../shared/audit';
import { Prng } from './prng';

export interface BootstrapOptions {
  /** Resamples (default 200). */
  resamples?: number;
  /** Coverage of the percentile interval (default 0.95). */
  level?: number;
  /** PRNG seed (default 1). */
  seed?: number;
}

export const DEFAULT_RESAMPLES = 200;
export const DEFAULT_LEVEL = 0.95;
export const DEFAULT_SEED = 1;

/**
 * The q-quantile of ascending `sorted` values by linear interpolation between order statistics:
 * h = (n - 1) q, x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h]) (Hyndman & Fan 1996,
 * definition 7; numpy.percentile's default "linear" method). NaN for no values.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  const x = sorted[lo]!;
  return x + (h - lo) * (sorted[hi]! - x);
}

/**
 * quantileSorted(sorted values, 0.5) without sorting them: the middle value found by selection
 * (three-way partitions, so that runs of equal values, as decision times have, cost no more),
 * and its neighbour above as the least of the values after it. Reorders `values`.
 */
export function medianInPlace(values: Float64Array): number {
  const n = values.length;
  if (n === 0) return NaN;
  const h = (n - 1) * 0.5;
  const lo = Math.floor(h);
  selectInPlace(values, lo);
  const x = values[lo]!;
  if (lo + 1 >= n) return x;
  let above = Infinity;
  for (let i = lo + 1; i < n; i++) above = Math.min(above, values[i]!);
  return x + (h - lo) * (above - x);
}

/** Puts the k-th smallest of `values` at k, the smaller ones before it and the others after. */
function selectInPlace(values: Float64Array, k: number): void {
  let left = 0;
  let right = values.length - 1;
  while (left < right) {
    const a = values[left]!;
    const b = values[(left + right) >> 1]!;
    const c = values[right]!;
    const pivot = Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
    // [left, lt) < pivot, [lt, i) = pivot, (gt, right] > pivot.
    let lt = left;
    let i = left;
    let gt = right;
    while (i <= gt) {
      const v = values[i]!;
      if (v < pivot) {
        values[i] = values[lt]!;
        values[lt++] = v;
        i++;
      } else if (v > pivot) {
        values[i] = values[gt]!;
        values[gt--] = v;
      } else {
        i++;
      }
    }
    if (k < lt) right = lt - 1;
    else if (k > gt) left = gt + 1;
    else return;
  }
}

/** The median (the mean of the two middle values for an even count); NaN for no values. */
export function median(values: ArrayLike<number>): number {
  const sorted = Float64Array.from(values).sort();
  return quantileSorted(sorted, 0.5);
}

/**
 * The percentile interval of bootstrap replicates: the (1 - level)/2 and (1 + level)/2 quantiles
 * (definition 7 above) of the finite replicates. Replicates where the statistic is undefined (NaN,
 * e.g. a kappa whose resample has a single category) are left out; null when none is finite.
 */
export function percentileInterval(replicates: ArrayLike<number>, level: number): Interval | null {
  const finite: number[] = [];
  for (let i = 0; i < replicates.length; i++) {
    const x = replicates[i]!;
    if (Number.isFinite(x)) finite.push(x);
  }
  if (finite.length === 0) return null;
  const sorted = Float64Array.from(finite).sort();
  return {
    lower: quantileSorted(sorted, (1 - level) / 2),
    upper: quantileSorted(sorted, (1 + level) / 2),
  };
}

/**
 * Fills `weights` (length n) with the multiplicities of one resample of n items: n draws of
 * `prng.nextIndex(n)`, in order.
 */
export function drawResample(prng: Prng, weights: Float64Array): void {
  const n = weights.length;
  weights.fill(0);
  for (let j = 0; j < n; j++) weights[prng.nextIndex(n)]! += 1;
}

/**
 * The percentile bootstrap interval of `statistic` over `itemCount` items: `statistic` receives
 * the multiplicity of each item in a resample (the full sample has every weight 1) and returns the
 * statistic of the reweighted items. Resamples are drawn one after another from one PRNG, so the
 * result depends only on the seed, the item count and the number of resamples.
 */
export function bootstrapInterval(
  itemCount: number,
  statistic: (weights: Float64Array) => number,
  options: BootstrapOptions = {},
): Interval | null {
  const resamples = options.resamples ?? DEFAULT_RESAMPLES;
  const level = options.level ?? DEFAULT_LEVEL;
  if (resamples <= 0 || itemCount === 0) return null;
  const prng = new Prng(options.seed ?? DEFAULT_SEED);
  const weights = new Float64Array(itemCount);
  const replicates = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    drawResample(prng, weights);
    replicates[r] = statistic(weights);
  }
  return percentileInterval(replicates, level);
}
