/**
 * Calibration of PickScore's p0 against human verdicts: a reliability diagram of P(image 0) and
 * its expected calibration error.
 *
 * Observations are verdicts: each human verdict on a scored pair is one observation, with the
 * pair's p0 as the prediction and 1 (image 0), 0.5 (tie) or 0 (image 1) as the outcome, so ties
 * count as half a choice of image 0, and a pair judged by three people counts three times (as in
 * the PickScore protocol, pickscore-protocol.ts).
 *
 * Bins: `bins` equal-width bins on [0, 1] with edges e_b = b * (1 / bins); an observation goes to
 * the bin whose upper edge is the first edge >= p0 (so an edge value belongs to the lower bin, and
 * 0 to the first). This is scikit-learn's `calibration_curve(strategy='uniform')`: edges
 * `np.linspace(0, 1, bins + 1)`, bin = `np.searchsorted(edges[1:-1], p0)`.
 *
 * ECE = sum_b (N_b / N) |human share of image 0 in b - mean p0 in b| (Naeini, Cooper & Hauskrecht
 * 2015, "Obtaining Well Calibrated Probabilities Using Bayesian Binning"; Guo et al. 2017, "On
 * Calibration of Modern Neural Networks", eq. 3), with N_b the observations in bin b.
 */
import type { Calibration, CalibrationBin } from '../../../shared/audit';

export const DEFAULT_CALIBRATION_BINS = 10;

/** Edges e_0..e_bins as `np.linspace(0, 1, bins + 1)` computes them (k * step, the last 1). */
export function binEdges(bins: number): Float64Array {
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`bins must be >= 1, got ${bins}`);
  const step = 1 / bins;
  const edges = new Float64Array(bins + 1);
  for (let k = 0; k < bins; k++) edges[k] = k * step;
  edges[bins] = 1;
  return edges;
}

/** The bin of p0: the number of inner edges e_1..e_{bins-1} strictly below p0. */
export function binOf(p0: number, edges: Float64Array): number {
  const bins = edges.length - 1;
  let b = Math.min(bins - 1, Math.max(0, Math.floor(p0 * bins)));
  while (b > 0 && !(edges[b]! < p0)) b--;
  while (b < bins - 1 && edges[b + 1]! < p0) b++;
  return b;
}

/**
 * Accumulates calibration from per-pair verdict counts. `p0[i]` NaN = pair i unscored (skipped);
 * `image0`, `ties`, `image1` = the pair's verdicts in each category.
 */
export function calibrationFromCounts(
  p0: ArrayLike<number>,
  image0: ArrayLike<number>,
  ties: ArrayLike<number>,
  image1: ArrayLike<number>,
  bins: number = DEFAULT_CALIBRATION_BINS,
): Calibration {
  const edges = binEdges(bins);
  const pairs = new Float64Array(bins);
  const verdicts = new Float64Array(bins);
  const p0Sum = new Float64Array(bins);
  const humanSum = new Float64Array(bins);
  for (let i = 0; i < p0.length; i++) {
    const p = p0[i]!;
    if (Number.isNaN(p)) continue;
    const m = image0[i]! + ties[i]! + image1[i]!;
    if (m === 0) continue;
    const b = binOf(p, edges);
    pairs[b]! += 1;
    verdicts[b]! += m;
    p0Sum[b]! += m * p;
    humanSum[b]! += image0[i]! + 0.5 * ties[i]!;
  }
  let total = 0;
  for (let b = 0; b < bins; b++) total += verdicts[b]!;
  let ece = 0;
  const out: CalibrationBin[] = [];
  for (let b = 0; b < bins; b++) {
    const n = verdicts[b]!;
    const meanP0 = n > 0 ? p0Sum[b]! / n : null;
    const humanShare0 = n > 0 ? humanSum[b]! / n : null;
    if (meanP0 !== null && humanShare0 !== null)
      ece += (n / total) * Math.abs(humanShare0 - meanP0);
    out.push({
      lower: edges[b]!,
      upper: edges[b + 1]!,
      pairs: pairs[b]!,
      verdicts: n,
      meanP0,
      humanShare0,
    });
  }
  return { bins: out, ece: total > 0 ? ece : null, verdicts: total };
}

/** Calibration from (p0, verdict) observations, one per human verdict. */
export function calibration(
  observations: readonly { p0: number; verdict: 0 | 1 | 'tie' }[],
  bins: number = DEFAULT_CALIBRATION_BINS,
): Calibration {
  const n = observations.length;
  const p0 = new Float64Array(n);
  const image0 = new Float64Array(n);
  const ties = new Float64Array(n);
  const image1 = new Float64Array(n);
  observations.forEach((o, i) => {
    p0[i] = o.p0;
    if (o.verdict === 0) image0[i] = 1;
    else if (o.verdict === 1) image1[i] = 1;
    else ties[i] = 1;
  });
  return calibrationFromCounts(p0, image0, ties, image1, bins);
}
