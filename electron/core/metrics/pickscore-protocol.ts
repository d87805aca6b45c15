/**
 * PickScore's evaluation protocol: Kirstain et al. 2023, "Pick-a-Pic: An Open Dataset of User
 * Preferences for Text-to-Image Generation", section 5, as implemented in
 * yuvalkirstain/PickScore `trainer/scripts/eval_preference_predictor.py`. Followed exactly:
 *
 * - prediction (`get_pred`): a tie when |p1 - p0| <= t, else image 0 when p0 > p1, else image 1;
 *   with p1 = 1 - p0 (the store keeps p0 = softmax(s0, s1)[0]);
 * - score (`calc_score`): 1 when the prediction equals the label, 0.5 when exactly one of them is
 *   a tie, 0 otherwise; accuracy (`calc_acc`) is the mean score over the examples;
 * - threshold: each of t = 0, 0.1, ..., 1 on the tuning set, the first best (`np.argmax`), then
 *   accuracy at that t on the evaluation set (the script tunes on `validation_unique` and reports
 *   `test_unique`; a caller may pass the same examples for both);
 * - random baseline (`calc_random_scores`), per threshold t, over the examples:
 *   (t * 1 + (1 - t) / 2) * ties / total + (non-ties / total) * 0.5.
 *
 * Several human labels on one pair: the script scores dataset rows, and a Pick-a-Pic row is one
 * user's judgement of a pair, so a pair judged by three people is three examples, each scored
 * against the same prediction (the `_unique` splits simply hold one row per prompt). Here too an
 * example is one verdict: pass one verdict per pair to reproduce a one-label-per-pair split.
 */
import type { Verdict } from '../../../shared/labels';

/** The script's thresholds, written as it writes them. */
export const PICKSCORE_THRESHOLDS: readonly number[] = [
  0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1,
];

/** One labeled example: the model's p0 for the pair and one human verdict on it. */
export interface ProtocolExample {
  p0: number;
  verdict: Verdict;
}

/** `get_pred(prob_0, prob_1, threshold)` with prob_1 = 1 - p0. */
export function predictVerdict(p0: number, threshold: number): Verdict {
  const p1 = 1 - p0;
  if (Math.abs(p1 - p0) <= threshold) return 'tie';
  return p0 > p1 ? 0 : 1;
}

/** `calc_score(label, pred)`: 1 for a match, 0.5 when exactly one is a tie, else 0. */
export function protocolScore(label: Verdict, prediction: Verdict): number {
  if (label === prediction) return 1;
  if (label === 'tie' || prediction === 'tie') return 0.5;
  return 0;
}

/** `calc_acc`: the mean protocol score at `threshold`; NaN for no examples. */
export function protocolAccuracy(examples: readonly ProtocolExample[], threshold: number): number {
  let sum = 0;
  for (const e of examples) sum += protocolScore(e.verdict, predictVerdict(e.p0, threshold));
  return examples.length > 0 ? sum / examples.length : NaN;
}

/** `calc_random_scores` for each threshold; NaN for no examples. */
export function randomBaseline(
  examples: readonly ProtocolExample[],
  thresholds: readonly number[] = PICKSCORE_THRESHOLDS,
): number[] {
  const total = examples.length;
  const ties = examples.filter((e) => e.verdict === 'tie').length;
  return thresholds.map((t) => randomBaselineFromCounts(ties, total, t));
}

/** The baseline formula from counts, in the script's order of operations. */
export function randomBaselineFromCounts(ties: number, total: number, threshold: number): number {
  const noTies = total - ties;
  return ((threshold * 1 + (1 - threshold) / 2) * ties) / total + (noTies / total) * 0.5;
}

/** Index of the first maximum (`np.argmax`), NaN counted as lower than any number; -1 if none. */
export function firstArgmax(values: readonly number[]): number {
  let best = -1;
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i]!)) continue;
    if (best < 0 || values[i]! > values[best]!) best = i;
  }
  return best;
}

export interface PickscoreProtocol {
  thresholds: number[];
  /** Accuracy at each threshold on the tuning examples. */
  tuningAccuracy: number[];
  /** Accuracy at each threshold on the evaluation examples (for display; not used to choose). */
  evaluationAccuracy: number[];
  /** The chosen threshold (the first best on the tuning set); null without tuning examples. */
  threshold: number | null;
  /** Accuracy at the chosen threshold on the evaluation examples. */
  accuracy: number;
  /** The random baseline at each threshold, on the evaluation examples. */
  randomBaseline: number[];
  /** The random baseline at the chosen threshold. */
  randomBaselineAtThreshold: number;
  tuningExamples: number;
  evaluationExamples: number;
}

/** The whole protocol: tune the threshold on `tuning`, report on `evaluation`. */
export function pickscoreProtocol(
  tuning: readonly ProtocolExample[],
  evaluation: readonly ProtocolExample[],
  thresholds: readonly number[] = PICKSCORE_THRESHOLDS,
): PickscoreProtocol {
  const tuningAccuracy = thresholds.map((t) => protocolAccuracy(tuning, t));
  const evaluationAccuracy = thresholds.map((t) => protocolAccuracy(evaluation, t));
  const baseline = randomBaseline(evaluation, thresholds);
  const best = firstArgmax(tuningAccuracy);
  return {
    thresholds: [...thresholds],
    tuningAccuracy,
    evaluationAccuracy,
    threshold: best >= 0 ? thresholds[best]! : null,
    accuracy: best >= 0 ? evaluationAccuracy[best]! : NaN,
    randomBaseline: baseline,
    randomBaselineAtThreshold: best >= 0 ? baseline[best]! : NaN,
    tuningExamples: tuning.length,
    evaluationExamples: evaluation.length,
  };
}
