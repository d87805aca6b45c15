/**
 * PickScore's evaluation protocol (yuvalkirstain/PickScore, trainer/scripts/
 * eval_preference_predictor.py). Reference values: by hand, and from
 * tests/unit/metrics/reference/pickscore_protocol.py, a transcription of the script's functions
 * (get_label, get_pred, calc_score, calc_acc, calc_random_scores, and main's argmax) run on
 * reference/pick-sample.json.
 */
import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../../shared/labels';
import {
  PICKSCORE_THRESHOLDS,
  pickscoreProtocol,
  predictVerdict,
  protocolAccuracy,
  protocolScore,
  randomBaseline,
  type ProtocolExample,
} from '../../../electron/core/metrics';
import { sampleExamples } from './sample';

describe('PickScore protocol', () => {
  it('predicts, scores and tunes as the script does (hand example)', () => {
    // |p1 - p0| with p1 = 1 - p0, in float64: 0.8, 0.3999999999999999, 0.040000000000000036,
    // 0.6000000000000001, 0.10000000000000003.
    const examples: ProtocolExample[] = [
      { p0: 0.9, verdict: 0 },
      { p0: 0.7, verdict: 'tie' },
      { p0: 0.52, verdict: 1 },
      { p0: 0.2, verdict: 1 },
      { p0: 0.45, verdict: 'tie' },
    ];
    // t = 0: predictions 0, 0, 0, 1, 1 -> scores 1, 0.5, 0, 1, 0.5 = 3/5.
    // t = 0.1: the third becomes a tie (0.04 <= 0.1), the fifth does not (0.10000000000000003):
    //   1, 0.5, 0.5, 1, 0.5 = 3.5/5. t = 0.2, 0.3: the fifth is a tie: 4/5.
    // t = 0.4 .. 0.6: the second is a tie too: 1, 1, 0.5, 1, 1 = 4.5/5 (0.6000000000000001 > 0.6).
    // t = 0.7: the fourth is a tie: 4/5. t >= 0.8: all ties (0.8 <= 0.8): 0.5, 1, 0.5, 0.5, 1.
    const expected = [0.6, 0.7, 0.8, 0.8, 0.9, 0.9, 0.9, 0.8, 0.7, 0.7, 0.7];
    const result = pickscoreProtocol(examples, examples);
    expect(result.tuningAccuracy).toEqual(expected);
    // np.argmax: the first of the best thresholds.
    expect(result.threshold).toBe(0.4);
    expect(result.accuracy).toBe(0.9);
    // calc_random_scores: 2 ties of 5 -> (t + (1 - t)/2) * 2/5 + 3/5 * 0.5 = 0.5 + 0.2 t
    // (pickscore_protocol.py prints these exact floats).
    expect(result.randomBaseline).toEqual([
      0.5, 0.52, 0.54, 0.5599999999999999, 0.58, 0.6, 0.62, 0.6399999999999999, 0.6599999999999999,
      0.6799999999999999, 0.7,
    ]);
    expect(result.randomBaselineAtThreshold).toBe(0.58);
  });

  it('follows get_pred at the edges', () => {
    // pickscore_protocol.py: get_pred(p0, 1 - p0, 0.1) for p0 = 0.5, 0.55, 0.45, 0.95, 1, 0,
    // 0.6, 0.4, 0.1, 0.75 -> tie, 0, 1, 0, 0, 1, 0, 1, 1, 0.
    const p0 = [0.5, 0.55, 0.45, 0.95, 1.0, 0.0, 0.6, 0.4, 0.1, 0.75];
    expect(p0.map((p) => predictVerdict(p, 0.1))).toEqual<Verdict[]>([
      'tie',
      0,
      1,
      0,
      0,
      1,
      0,
      1,
      1,
      0,
    ]);
    // An exact 0.5 is a tie even at t = 0 (|p1 - p0| = 0 <= 0).
    expect(predictVerdict(0.5, 0)).toBe('tie');
  });

  it('scores 1 for a match, 0.5 when exactly one side is a tie, else 0 (calc_score)', () => {
    const verdicts: Verdict[] = [0, 'tie', 1];
    const table = verdicts.map((label) => verdicts.map((pred) => protocolScore(label, pred)));
    expect(table).toEqual([
      [1, 0.5, 0],
      [0.5, 1, 0.5],
      [0, 0.5, 1],
    ]);
  });

  it('matches the Python transcription on the sample, tuned on all verdicts', () => {
    // pickscore_protocol.py, "all verdicts on scored pairs": 734 rows.
    const examples = sampleExamples();
    expect(examples).toHaveLength(734);
    const result = pickscoreProtocol(examples, examples);
    expect(result.tuningAccuracy).toEqual([
      0.720708446866485, 0.7254768392370572, 0.7404632152588556, 0.7329700272479565,
      0.7104904632152589, 0.7016348773841962, 0.6907356948228883, 0.6553133514986376,
      0.6226158038147139, 0.587874659400545, 0.5579019073569482,
    ]);
    expect(result.threshold).toBe(0.2);
    expect(result.accuracy).toBe(0.7404632152588556);
    expect(result.randomBaseline).toEqual([
      0.5, 0.5057901907356949, 0.5115803814713896, 0.5173705722070845, 0.5231607629427792,
      0.5289509536784741, 0.534741144414169, 0.5405313351498637, 0.5463215258855586,
      0.5521117166212535, 0.5579019073569482,
    ]);
  });

  it('matches the Python transcription with a held-out evaluation set', () => {
    // pickscore_protocol.py, "tuning = even pair indices, evaluation = odd": 380 and 354 rows.
    const tuning = sampleExamples((pair) => pair % 2 === 0);
    const evaluation = sampleExamples((pair) => pair % 2 === 1);
    expect([tuning.length, evaluation.length]).toEqual([380, 354]);
    const result = pickscoreProtocol(tuning, evaluation);
    expect(result.tuningAccuracy).toEqual([
      0.7302631578947368, 0.7315789473684211, 0.743421052631579, 0.7355263157894737,
      0.7171052631578947, 0.7157894736842105, 0.7105263157894737, 0.6592105263157895,
      0.6342105263157894, 0.6, 0.5539473684210526,
    ]);
    expect(result.evaluationAccuracy).toEqual([
      0.71045197740113, 0.7189265536723164, 0.7372881355932204, 0.730225988700565,
      0.7033898305084746, 0.6864406779661016, 0.6694915254237288, 0.6511299435028248,
      0.6101694915254238, 0.5748587570621468, 0.5621468926553672,
    ]);
    expect(result.threshold).toBe(0.2);
    expect(result.accuracy).toBe(0.7372881355932204);
    expect(result.randomBaseline.at(-1)).toBe(0.5621468926553672);
    expect(randomBaseline(evaluation)[1]).toBe(0.5062146892655368);
  });

  it('uses the script thresholds and gives NaN / null without examples', () => {
    expect(PICKSCORE_THRESHOLDS).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    expect(protocolAccuracy([], 0.1)).toBeNaN();
    expect(pickscoreProtocol([], []).threshold).toBeNull();
  });
});
