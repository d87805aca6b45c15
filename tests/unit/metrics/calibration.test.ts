/**
 * Calibration of p0 against human verdicts. References: a hand-computed example, and
 * scikit-learn 1.2.1's calibration_curve(strategy='uniform', n_bins=10) on the sample's verdicts
 * without ties (reference/sample_reference.py, "sklearnCalibrationNoTies").
 */
import { describe, expect, it } from 'vitest';
import { binEdges, binOf, calibration } from '../../../electron/core/metrics';
import { sampleExamples } from './sample';

describe('calibration', () => {
  it('bins p0, counts ties as half, and weights the ECE by verdicts (hand example)', () => {
    const result = calibration(
      [
        { p0: 0.05, verdict: 1 }, // bin 0, outcome 0
        { p0: 0.15, verdict: 0 }, // bin 0, outcome 1
        { p0: 0.8, verdict: 0 }, // bin 3 (0.8 is bin 3's upper edge), outcome 1
        { p0: 0.7, verdict: 'tie' }, // bin 3, outcome 0.5
        { p0: 0.72, verdict: 'tie' }, // bin 3, outcome 0.5
      ],
      5,
    );
    // 5 bins of width 0.2 (numpy: searchsorted(linspace(0, 1, 6)[1:-1], p0) = 0, 0, 3, 3, 3).
    // Bin 0: mean p0 0.1, share 0.5; bin 3: mean p0 0.74, share (1 + 0.5 + 0.5) / 3.
    expect(result.bins.map((b) => b.verdicts)).toEqual([2, 0, 0, 3, 0]);
    expect(result.bins[0]!.meanP0).toBeCloseTo(0.1, 15);
    expect(result.bins[0]!.humanShare0).toBe(0.5);
    expect(result.bins[3]!.meanP0).toBeCloseTo((0.8 + 0.7 + 0.72) / 3, 15);
    expect(result.bins[3]!.humanShare0).toBeCloseTo(2 / 3, 15);
    expect(result.bins[1]!.meanP0).toBeNull();
    // ECE = 2/5 |0.5 - 0.1| + 3/5 |2/3 - 0.74| = 0.16 + 0.044 = 0.204
    expect(result.ece).toBeCloseTo(0.204, 12);
    expect(result.verdicts).toBe(5);
  });

  it("puts an edge value in the lower bin, as scikit-learn's searchsorted does", () => {
    const edges = binEdges(10);
    // np.linspace(0, 1, 11): 0.30000000000000004, 0.6000000000000001, 0.7000000000000001;
    // np.searchsorted(edges[1:-1], p) for the values below: 0, 0, 1, 2, 2, 6, 9, 9.
    expect(edges[3]).toBe(0.30000000000000004);
    expect(edges[7]).toBe(0.7000000000000001);
    expect(
      [0, 0.1, 0.10000000000000002, 0.3, 0.30000000000000004, 0.7, 0.95, 1].map((p) =>
        binOf(p, edges),
      ),
    ).toEqual([0, 0, 1, 2, 2, 6, 9, 9]);
  });

  it("matches scikit-learn's calibration_curve without ties", () => {
    // sample_reference.py: calibration_curve(y, p0, n_bins=10, strategy="uniform") on the
    // sample's 643 non-tie verdicts on scored pairs: prob_true and prob_pred per bin.
    const probTrue = [
      0.05172413793103448, 0.1375, 0.3132530120481928, 0.3508771929824561, 0.6885245901639344,
      0.6111111111111112, 0.7534246575342466, 0.7575757575757576, 0.9344262295081968,
      0.9436619718309859,
    ];
    const probPred = [
      0.0527241379310345, 0.1493625000000001, 0.2480602409638554, 0.3474210526315789,
      0.4533278688524589, 0.5471944444444442, 0.6479178082191783, 0.7570303030303034,
      0.8607704918032792, 0.9387323943661973,
    ];
    const result = calibration(sampleExamples().filter((e) => e.verdict !== 'tie'));
    result.bins.forEach((bin, b) => {
      expect(bin.humanShare0).toBeCloseTo(probTrue[b]!, 12);
      expect(bin.meanP0).toBeCloseTo(probPred[b]!, 12);
    });
  });

  it('refuses a bin count below 1', () => {
    expect(() => binEdges(0)).toThrow(RangeError);
  });
});
