/**
 * computeDashboard on reference/pick-sample.json against values from other implementations:
 * reference/sample_reference.py (scikit-learn 1.2.1 cohen_kappa_score, statsmodels 0.13.5
 * fleiss_kappa, the krippendorff package at fast-krippendorff commit 089bfbb8, irrCAC's AC1
 * formula, plain Python for the per-annotator figures and the calibration bins, numpy 1.24.2's
 * generator for a 20,000-resample item bootstrap) and reference/pickscore_protocol.py (the
 * PickScore script's functions). Plus hand-made cases for the rules the references do not cover.
 */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../electron/core/demo/scenes';
import { cohenRows, type CohenPairResult, type CohenTable } from '../../../shared/audit';
import type { Verdict } from '../../../shared/labels';
import {
  cohenKappa,
  computeDashboard,
  toColumns,
  type DashboardAnnotation,
  type DashboardInput,
  type DashboardResult,
  type Estimate,
  verdictCategory,
} from '../../../electron/core/metrics';
import { sampleInput } from './sample';

const CLOSE = 12;

// sample_reference.py, "point" and counts.
const AGREEMENT = {
  percent: 0.5561861520998865,
  noTies: 0.6997084548104956,
  fleiss: 0.20411330462502092,
  kNominal: 0.24690533087194355,
  kOrdinal: 0.3479286836826475,
  ac1: 0.35323780975766417,
};

// sample_reference.py, "cohen": sklearn cohen_kappa_score(labels=[0, 1, 2]) per annotator pair.
const COHEN = [
  ['alice', 'bob', 94, 0.2422410318419992, 0.2790435371080532],
  ['alice', 'carol', 84, 0.182226660009985, 0.21596783457782875],
  ['alice', 'dan', 77, 0.18218954248366004, 0.2214224507283632],
  ['alice', 'erin', 92, 0.32352941176470595, 0.37141577060931896],
  ['bob', 'carol', 94, 0.3026706231454006, 0.35285880980163364],
  ['bob', 'dan', 90, 0.1714614499424627, 0.28899082568807344],
  ['bob', 'erin', 94, 0.24603970322839397, 0.2808380414312618],
  ['carol', 'dan', 80, 0.3110236220472441, 0.37823834196891193],
  ['carol', 'erin', 89, 0.2770256196625701, 0.3478596220593907],
  ['dan', 'erin', 87, 0.3319783197831979, 0.3951200314836678],
] as const;

// sample_reference.py, "annotators" (threshold 0.2, the tuned one).
const ANNOTATORS = [
  {
    annotator: 'alice',
    verdicts: 159,
    ties: 7,
    tieRate: 0.0440251572327044,
    majorityAgreement: 0.6434782608695652,
    majorityPairs: 115,
    noMajorityPairs: 36,
    pickscoreAgreement: 0.7657342657342657,
    pickscoreVerdicts: 143,
    leftRate: 0.5,
    nonTieVerdicts: 152,
    medianDecisionMs: 1841,
    timedVerdicts: 142,
  },
  {
    annotator: 'bob',
    verdicts: 172,
    ties: 17,
    tieRate: 0.09883720930232558,
    majorityAgreement: 0.625,
    majorityPairs: 120,
    noMajorityPairs: 43,
    pickscoreAgreement: 0.7161290322580646,
    pickscoreVerdicts: 155,
    leftRate: 0.432258064516129,
    nonTieVerdicts: 155,
    medianDecisionMs: 1960.5,
    timedVerdicts: 158,
  },
  {
    annotator: 'carol',
    verdicts: 159,
    ties: 30,
    tieRate: 0.18867924528301888,
    majorityAgreement: 0.6545454545454545,
    majorityPairs: 110,
    noMajorityPairs: 39,
    pickscoreAgreement: 0.7553956834532374,
    pickscoreVerdicts: 139,
    leftRate: 0.4806201550387597,
    nonTieVerdicts: 129,
    medianDecisionMs: 2120,
    timedVerdicts: 144,
  },
  {
    annotator: 'dan',
    verdicts: 155,
    ties: 32,
    tieRate: 0.2064516129032258,
    majorityAgreement: 0.616822429906542,
    majorityPairs: 107,
    noMajorityPairs: 39,
    pickscoreAgreement: 0.7116788321167883,
    pickscoreVerdicts: 137,
    leftRate: 0.4796747967479675,
    nonTieVerdicts: 123,
    medianDecisionMs: 2081,
    timedVerdicts: 145,
  },
  {
    annotator: 'erin',
    verdicts: 173,
    ties: 10,
    tieRate: 0.057803468208092484,
    majorityAgreement: 0.6774193548387096,
    majorityPairs: 124,
    noMajorityPairs: 36,
    pickscoreAgreement: 0.753125,
    pickscoreVerdicts: 160,
    leftRate: 0.4723926380368098,
    nonTieVerdicts: 163,
    medianDecisionMs: 1980,
    timedVerdicts: 158,
  },
];

// sample_reference.py, "calibration": [verdicts, mean p0, human share of image 0] per bin.
const CALIBRATION = [
  [66, 0.0530151515151515, 0.10606060606060606],
  [86, 0.14900000000000013, 0.16279069767441862],
  [94, 0.24796808510638307, 0.3351063829787234],
  [62, 0.3489354838709678, 0.3629032258064516],
  [72, 0.45529166666666643, 0.6597222222222222],
  [83, 0.5465662650602409, 0.5963855421686747],
  [81, 0.6485061728395064, 0.7283950617283951],
  [40, 0.7578000000000005, 0.7125],
  [68, 0.861102941176471, 0.8897058823529411],
  [82, 0.938585365853658, 0.8841463414634146],
] as const;
const ECE = 0.06442779291553123;

// sample_reference.py, "bootstrap": numpy item bootstrap, B = 20000: 2.5% and 97.5% percentiles
// and the standard deviation of the bootstrap distribution.
const BOOTSTRAP = {
  percent: [0.51073731782867, 0.6030370668590326, 0.0235831542945931],
  noTies: [0.6536729879989802, 0.7459138187221397, 0.023736992884107865],
  fleiss: [0.10292438080648203, 0.30182444304025713, 0.050406259191490506],
  kNominal: [0.1805640345492603, 0.3132989891508453, 0.03395481976642638],
  kOrdinal: [0.2657126025942087, 0.4266607131214725, 0.0412780466824739],
  ac1: [0.2830008362614513, 0.4247691370957293, 0.03624075994762981],
  accuracy: [0.71122966877509, 0.7693945108161395, 0.014744958306710791],
  cohenAliceBobU: [0.0815332539153319, 0.40375964852633667, 0.08297676549055823],
  cohenAliceBobL: [0.10089808042479462, 0.45184030120692337, 0.09061360252895077],
} as const;

describe('computeDashboard on the sample', () => {
  const result = computeDashboard(sampleInput(), { resamples: 0 });

  it('counts pairs, verdicts and annotators', () => {
    expect(result.counts).toEqual({
      pairs: 300,
      judgedPairs: 295,
      verdicts: 818,
      duplicatesDropped: 0,
      annotators: 5,
      scoredPairs: 273,
    });
  });

  it('matches the reference implementations between humans', () => {
    const a = result.agreement;
    expect(a.percent.value).toBeCloseTo(AGREEMENT.percent, CLOSE);
    expect(a.percent.verdictPairs).toBe(881);
    expect(a.percentWithoutTies.value).toBeCloseTo(AGREEMENT.noTies, CLOSE);
    expect(a.percentWithoutTies.verdictPairs).toBe(686);
    expect(a.fleissKappa.value).toBeCloseTo(AGREEMENT.fleiss, CLOSE);
    expect([a.fleissKappa.pairs, a.fleissKappa.ratersPerPair]).toEqual([115, 3]);
    expect(a.krippendorffNominal.value).toBeCloseTo(AGREEMENT.kNominal, CLOSE);
    expect(a.krippendorffOrdinal.value).toBeCloseTo(AGREEMENT.kOrdinal, CLOSE);
    expect(a.gwetAC1.value).toBeCloseTo(AGREEMENT.ac1, CLOSE);
    const cohen = cohenRows(a.cohen);
    expect(cohen.map((c) => [c.a, c.b, c.commonPairs])).toEqual(COHEN.map((c) => c.slice(0, 3)));
    cohen.forEach((c, i) => {
      expect(c.unweighted.value).toBeCloseTo(COHEN[i]![3], CLOSE);
      expect(c.linear.value).toBeCloseTo(COHEN[i]![4], CLOSE);
      expect(c.unweighted.interval).toBeNull();
    });
  });

  it("matches the PickScore script's transcription (pickscore_protocol.py)", () => {
    const p = result.pickscore;
    expect(p.tuned).toBe(true);
    expect(p.tuningAccuracy).toEqual([
      0.720708446866485, 0.7254768392370572, 0.7404632152588556, 0.7329700272479565,
      0.7104904632152589, 0.7016348773841962, 0.6907356948228883, 0.6553133514986376,
      0.6226158038147139, 0.587874659400545, 0.5579019073569482,
    ]);
    expect(p.evaluationAccuracy).toEqual(p.tuningAccuracy);
    expect(p.threshold).toBe(0.2);
    expect(p.accuracy.value).toBe(0.7404632152588556);
    expect(p.randomBaselineAtThreshold).toBe(0.5115803814713896);
    expect([p.tuningVerdicts, p.evaluationVerdicts]).toEqual([734, 734]);
  });

  it('tunes on the masked pairs and reports on the others', () => {
    const tuningMask = Array.from({ length: 300 }, (_, pair) => pair % 2 === 0);
    const p = computeDashboard(sampleInput(), { resamples: 0, tuningMask }).pickscore;
    // pickscore_protocol.py, "tuning = even pair indices, evaluation = odd".
    expect(p.tuningAccuracy[2]).toBe(0.743421052631579);
    expect(p.evaluationAccuracy).toEqual([
      0.71045197740113, 0.7189265536723164, 0.7372881355932204, 0.730225988700565,
      0.7033898305084746, 0.6864406779661016, 0.6694915254237288, 0.6511299435028248,
      0.6101694915254238, 0.5748587570621468, 0.5621468926553672,
    ]);
    expect(p.threshold).toBe(0.2);
    expect(p.accuracy.value).toBe(0.7372881355932204);
    expect(p.randomBaseline[1]).toBe(0.5062146892655368);
    expect([p.tuningVerdicts, p.evaluationVerdicts]).toEqual([380, 354]);
  });

  it('matches the per-annotator reference', () => {
    expect(result.annotators.map((a) => a.annotator)).toEqual(ANNOTATORS.map((a) => a.annotator));
    result.annotators.forEach((actual, i) => {
      // Every verdict of the sample has a known left side.
      expect(actual.leftRateVerdicts).toBe(actual.nonTieVerdicts);
      const expected = ANNOTATORS[i]!;
      for (const [key, value] of Object.entries(expected)) {
        const got = actual[key as keyof typeof actual];
        if (typeof value === 'number')
          expect(got, `${expected.annotator} ${key}`).toBeCloseTo(value, CLOSE);
        else expect(got).toBe(value);
      }
    });
  });

  it('matches the calibration reference', () => {
    const c = result.calibration;
    expect(c.verdicts).toBe(734);
    expect(c.ece).toBeCloseTo(ECE, CLOSE);
    c.bins.forEach((bin, b) => {
      expect([bin.lower, bin.upper]).toEqual([b === 0 ? 0 : b * 0.1, b === 9 ? 1 : (b + 1) * 0.1]);
      expect(bin.verdicts).toBe(CALIBRATION[b]![0]);
      expect(bin.meanP0).toBeCloseTo(CALIBRATION[b]![1], CLOSE);
      expect(bin.humanShare0).toBeCloseTo(CALIBRATION[b]![2], CLOSE);
    });
  });

  it('gives the same result from typed columns', () => {
    expect(computeDashboard(toColumns(sampleInput()), { resamples: 0 })).toEqual(result);
  });
});

describe('computeDashboard bootstrap', () => {
  const R = 10000;
  const result = computeDashboard(sampleInput(), { resamples: R, seed: 3 });

  const within = (name: keyof typeof BOOTSTRAP, estimate: Estimate): void => {
    const [lower, upper, sd] = BOOTSTRAP[name];
    // Monte Carlo error of a 2.5% / 97.5% percentile is about 0.04 sd at 4,000 resamples; with
    // 10,000 here and 20,000 in the reference the difference has a standard error near 0.035 sd,
    // so 0.15 sd is a 4-sigma margin. A bootstrap of the wrong unit (verdicts instead of pairs),
    // the wrong size or the wrong percentile is off by far more.
    expect(Math.abs(estimate.interval!.lower - lower), `${name} lower`).toBeLessThan(0.15 * sd);
    expect(Math.abs(estimate.interval!.upper - upper), `${name} upper`).toBeLessThan(0.15 * sd);
  };

  it('agrees with a numpy item bootstrap (sample_reference.py, B = 20000)', () => {
    const a = result.agreement;
    within('percent', a.percent);
    within('noTies', a.percentWithoutTies);
    within('fleiss', a.fleissKappa);
    within('kNominal', a.krippendorffNominal);
    within('kOrdinal', a.krippendorffOrdinal);
    within('ac1', a.gwetAC1);
    within('accuracy', result.pickscore.accuracy);
    within('cohenAliceBobU', cohenRows(a.cohen)[0]!.unweighted);
    within('cohenAliceBobL', cohenRows(a.cohen)[0]!.linear);
    expect(result.bootstrap).toEqual({ resamples: R, level: 0.95, seed: 3, method: 'percentile' });
  });

  it('is deterministic for a seed and moves with it', () => {
    const once = computeDashboard(sampleInput(), { resamples: 200, seed: 11 });
    const again = computeDashboard(sampleInput(), { resamples: 200, seed: 11 });
    const other = computeDashboard(sampleInput(), { resamples: 200, seed: 12 });
    expect(again).toEqual(once);
    expect(other.agreement.percent.interval).not.toEqual(once.agreement.percent.interval);
    const interval = once.agreement.krippendorffNominal.interval!;
    expect(interval.lower).toBeLessThan(once.agreement.krippendorffNominal.value!);
    expect(interval.upper).toBeGreaterThan(once.agreement.krippendorffNominal.value!);
  });
});

describe('computeDashboard rules', () => {
  const verdict = (
    pairIndex: number,
    annotator: string,
    v: DashboardAnnotation['verdict'],
    leftImage: 0 | 1 | null = 0,
    durationMs: number | null = null,
  ): DashboardAnnotation => ({ pairIndex, annotator, verdict: v, leftImage, durationMs });
  const run = (input: DashboardInput, options = {}): DashboardResult =>
    computeDashboard(input, { resamples: 0, minCommonPairs: 1, ...options });
  const byName = (result: DashboardResult, name: string) =>
    result.annotators.find((a) => a.annotator === name)!;

  it('compares each verdict with a strict plurality of the others, leaving even splits out', () => {
    const result = run({
      annotations: [
        // pair 0: others of x are (0, 0): majority 0, x agrees.
        verdict(0, 'x', 0),
        verdict(0, 'y', 0),
        verdict(0, 'z', 0),
        // pair 1: others of x are (0, 1): no majority.
        verdict(1, 'x', 'tie'),
        verdict(1, 'y', 0),
        verdict(1, 'z', 1),
        // pair 2: others of x are (tie, tie, 1): majority tie, x disagrees.
        verdict(2, 'x', 1),
        verdict(2, 'y', 'tie'),
        verdict(2, 'z', 'tie'),
        verdict(2, 'w', 1),
        // pair 3: x alone: not compared.
        verdict(3, 'x', 0),
      ],
      p0: [null, null, null, null],
    });
    const x = byName(result, 'x');
    expect([x.majorityAgreement, x.majorityPairs, x.noMajorityPairs]).toEqual([0.5, 2, 1]);
    // y on pair 2: others (1, tie, 1) -> majority 1, y (tie) disagrees;
    // on pair 1: others (tie, 1), an even split.
    const y = byName(result, 'y');
    expect([y.majorityAgreement, y.majorityPairs, y.noMajorityPairs]).toEqual([0.5, 2, 1]);
    expect(x.pickscoreAgreement).toBeNull();
    expect(result.pickscore.threshold).toBeNull();
  });

  it('measures the left-position rate over non-tie verdicts, and the median time', () => {
    const result = run({
      annotations: [
        verdict(0, 'x', 0, 0, 1000), // chose the left image
        verdict(1, 'x', 1, 0, 3000), // chose the right image
        verdict(2, 'x', 1, 1, null), // left
        verdict(3, 'x', 'tie', 1, 2000), // tie: not in the left rate
        verdict(4, 'x', 0, null, null), // side unknown (an imported label): not in the left rate
      ],
      p0: [0.9, 0.9, 0.1, 0.5, null],
    });
    const x = byName(result, 'x');
    expect([x.leftRate, x.leftRateVerdicts, x.nonTieVerdicts]).toEqual([2 / 3, 3, 4]);
    expect([x.medianDecisionMs, x.timedVerdicts]).toEqual([2000, 3]);
    expect([x.tieRate, x.ties]).toEqual([0.2, 1]);
    // Threshold tuned: at t = 0, 0.9 -> 0, 0.9 -> 0, 0.1 -> 1, 0.5 -> tie: scores 1, 0, 1, 1.
    expect(result.pickscore.threshold).toBe(0);
    expect(x.pickscoreAgreement).toBe(0.75);
  });

  it('keeps the last verdict of an annotator on a pair', () => {
    const result = run({
      annotations: [verdict(0, 'x', 0), verdict(0, 'y', 1), verdict(0, 'x', 1)],
      p0: [null],
    });
    expect(result.counts.duplicatesDropped).toBe(1);
    expect(result.counts.verdicts).toBe(2);
    expect(result.agreement.percent.value).toBe(1);
  });

  it('gives the same figures whatever the order of the verdicts, grouped by pair or not', () => {
    const input = sampleInput();
    const inPairOrder = computeDashboard(input, { resamples: 50 });
    // By annotator, then pair: an annotator's verdicts on one pair keep their order.
    const byAnnotator = [...input.annotations].sort(
      (x, y) =>
        (x.annotator < y.annotator ? -1 : x.annotator > y.annotator ? 1 : 0) ||
        x.pairIndex - y.pairIndex,
    );
    expect(byAnnotator.map((a) => a.pairIndex)).not.toEqual(
      input.annotations.map((a) => a.pairIndex),
    );
    const reordered = computeDashboard({ ...input, annotations: byAnnotator }, { resamples: 50 });
    expect(reordered).toEqual(inPairOrder);
  });

  it('uses a fixed threshold when given one', () => {
    const result = run(
      { annotations: [verdict(0, 'x', 'tie'), verdict(1, 'x', 0)], p0: [0.6, 0.8] },
      { threshold: 0.3 },
    );
    // |0.4 - 0.6| <= 0.3 -> tie (matches); |0.2 - 0.8| = 0.6 -> image 0 (matches).
    expect(result.pickscore.tuned).toBe(false);
    expect(result.pickscore.threshold).toBe(0.3);
    expect(result.pickscore.accuracy.value).toBe(1);
  });

  it('leaves annotator pairs with fewer common pairs than asked out of Cohen', () => {
    const input = {
      annotations: [verdict(0, 'x', 0), verdict(0, 'y', 0), verdict(1, 'x', 1), verdict(1, 'z', 1)],
      p0: [null, null],
    };
    expect(cohenRows(run(input).agreement.cohen).map((c) => [c.a, c.b, c.commonPairs])).toEqual([
      ['x', 'y', 1],
      ['x', 'z', 1],
    ]);
    expect(cohenRows(computeDashboard(input, { resamples: 0 }).agreement.cohen)).toEqual([]);
  });

  it('gives the same Cohen rows beside thousands of others (a sparse count of shared pairs)', () => {
    // Past 4,096 annotators the shared-pair counts are kept in a Map, not a dense table: the
    // sample's five plus 4,100 who each judged a pair of their own.
    const input = sampleInput();
    const first = input.p0.length;
    const others: DashboardAnnotation[] = Array.from({ length: 4100 }, (_, i) => ({
      pairIndex: first + i,
      annotator: `zz${String(i).padStart(4, '0')}`,
      verdict: 0,
      leftImage: 0,
      durationMs: 1000,
    }));
    const wide = computeDashboard(
      {
        annotations: [...input.annotations, ...others],
        p0: [...Array.from(input.p0), ...others.map(() => null)],
      },
      { resamples: 0 },
    );
    const narrow = computeDashboard(input, { resamples: 0 });
    expect(wide.agreement.cohen.a).toHaveLength(COHEN.length);
    expect(cohenRows(wide.agreement.cohen)).toEqual(cohenRows(narrow.agreement.cohen));
    expect(wide.agreement.cohenBelowMinimum).toEqual(narrow.agreement.cohenBelowMinimum);
  });

  it("counts each annotator pair's shared pairs and cells as a direct count does, focused or not", () => {
    const random = mulberry32(15);
    const verdicts: Verdict[] = [0, 'tie', 1];
    // Named out of their order of appearance; each judges at a rate of their own, so some pairs
    // of annotators share fewer than the 10 pairs a row needs; a few verdicts are replaced.
    const names = Array.from({ length: 25 }, (_, i) => `r${String((i * 7) % 25).padStart(2, '0')}`);
    const rates = names.map(() => 0.03 + 0.5 * random());
    const annotations: DashboardAnnotation[] = [];
    for (let p = 0; p < 150; p++) {
      names.forEach((name, i) => {
        if (random() >= rates[i]!) return;
        annotations.push(verdict(p, name, verdicts[Math.floor(random() * 3)]!));
        if (random() < 0.1) annotations.push(verdict(p, name, verdicts[Math.floor(random() * 3)]!));
      });
    }
    const input = { annotations, p0: Array.from({ length: 150 }, () => null) };

    const { sorted, expected, below } = cohenByDirectCount(annotations, 10);
    expect(expected.length).toBeGreaterThan(50);
    expect(below.length).toBeGreaterThan(10);

    const all = computeDashboard(input, { resamples: 0 }).agreement;
    const rows = cohenRows(all.cohen);
    expect(rows.map((r) => [r.a, r.b, r.commonPairs])).toEqual(
      expected.map((r) => [r.a, r.b, r.commonPairs]),
    );
    rows.forEach((row, i) => {
      expect(row.unweighted.value).toBeCloseTo(expected[i]!.unweighted.value!, CLOSE);
      expect(row.linear.value).toBeCloseTo(expected[i]!.linear.value!, CLOSE);
    });
    expect(all.cohenBelowMinimum).toEqual({ count: below.length, minimumShared: 10 });

    for (const focus of [sorted[0]!, sorted[11]!, sorted.at(-1)!]) {
      // A focus keeps its own rows, with intervals, and hands everyone's on as points.
      const everyone: CohenTable[] = [];
      const mine = computeDashboard(input, {
        resamples: 20,
        cohenAnnotator: focus,
        everyonesCohen: (table) => everyone.push(table),
      }).agreement;
      const pointsOf = (table: CohenTable) =>
        cohenRows(table).map(({ unweighted, linear, ...row }) => ({
          ...row,
          unweighted: unweighted.value,
          linear: linear.value,
        }));
      expect(pointsOf(mine.cohen)).toEqual(
        pointsOf(all.cohen).filter((r) => r.a === focus || r.b === focus),
      );
      expect(cohenRows(mine.cohen).every((r) => r.unweighted.interval !== null)).toBe(true);
      expect(mine.cohenBelowMinimum.count).toBe(below.filter((p) => p.includes(focus)).length);
      expect(everyone.map(cohenRows)).toEqual([rows]);
    }
    const unfocused: CohenTable[] = [];
    computeDashboard(input, { resamples: 0, everyonesCohen: (table) => unfocused.push(table) });
    expect(unfocused).toEqual([]);
  });

  it('counts past 16 bits: two annotators sharing 70,000 pairs, and 79,800 rows', () => {
    const verdicts: Verdict[] = [0, 'tie', 1];
    const sharing: DashboardAnnotation[] = [];
    for (let p = 0; p < 70_000; p++) {
      sharing.push(verdict(p, 'a', verdicts[p % 3]!));
      sharing.push(verdict(p, 'b', verdicts[p % 7 === 0 ? (p + 1) % 3 : p % 3]!));
    }
    // 400 annotators on the same two pairs: every one of their 79,800 pairs gets a row.
    const crowd: DashboardAnnotation[] = Array.from({ length: 400 }, (_, i) => [
      verdict(0, `n${String(i).padStart(3, '0')}`, verdicts[i % 3]!),
      verdict(1, `n${String(i).padStart(3, '0')}`, verdicts[Math.floor(i / 3) % 3]!),
    ]).flat();
    const points = (rows: CohenPairResult[]) =>
      rows.map((r) => [r.a, r.b, r.commonPairs, r.unweighted.value, r.linear.value]);
    for (const [annotations, pairs, minimum] of [
      [sharing, 70_000, 10],
      [crowd, 2, 1],
    ] as const) {
      const result = computeDashboard(
        { annotations, p0: Array.from({ length: pairs }, () => null) },
        { resamples: 0, minCommonPairs: minimum },
      );
      const { expected } = cohenByDirectCount(annotations, minimum);
      expect(expected.length).toBe(annotations === crowd ? 79_800 : 1);
      expect(points(cohenRows(result.agreement.cohen))).toEqual(points(expected));
    }
  });

  it('refuses verdicts it cannot place', () => {
    expect(() => run({ annotations: [verdict(2, 'x', 0)], p0: [null, null] })).toThrow(
      /pairIndex 2/,
    );
    expect(() =>
      run({ annotations: [verdict(0, 'x', 'both' as unknown as 0)], p0: [null] }),
    ).toThrow(RangeError);
    expect(() => run({ annotations: [], p0: [1.5] })).toThrow(/p0 1.5/);
    expect(() => run({ annotations: [], p0: [0.5] }, { tuningMask: [true, false] })).toThrow(
      /tuningMask/,
    );
  });

  it('returns nulls, not NaN, on an empty input', () => {
    const result = computeDashboard({ annotations: [], p0: [] });
    expect(result.agreement.percent).toEqual({ value: null, interval: null, verdictPairs: 0 });
    expect(result.pickscore.accuracy).toEqual({ value: null, interval: null });
    expect(result.calibration.ece).toBeNull();
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  });
});

/**
 * Cohen's rows counted directly: each annotator's latest verdict per pair, every pair of
 * annotators (in name order) with the pairs they share, a row for those sharing `minimum`.
 */
function cohenByDirectCount(
  annotations: readonly DashboardAnnotation[],
  minimum: number,
): { sorted: string[]; expected: CohenPairResult[]; below: [string, string][] } {
  const latest = new Map<string, Map<number, number>>();
  for (const a of annotations) {
    if (!latest.has(a.annotator)) latest.set(a.annotator, new Map());
    latest.get(a.annotator)!.set(a.pairIndex, verdictCategory(a.verdict));
  }
  const sorted = [...latest.keys()].sort();
  const expected: CohenPairResult[] = [];
  const below: [string, string][] = [];
  sorted.forEach((a, i) => {
    for (const b of sorted.slice(i + 1)) {
      const shared = [...latest.get(a)!.keys()].filter((p) => latest.get(b)!.has(p));
      if (shared.length === 0) continue;
      if (shared.length < minimum) {
        below.push([a, b]);
        continue;
      }
      const kappa = cohenKappa(
        shared.map((p) => latest.get(a)!.get(p)!),
        shared.map((p) => latest.get(b)!.get(p)!),
        3,
      );
      const value = (x: number) => ({ value: Number.isNaN(x) ? null : x, interval: null });
      expected.push({
        a,
        b,
        commonPairs: shared.length,
        unweighted: value(kappa.unweighted),
        linear: value(kappa.linear),
      });
    }
  });
  return { sorted, expected, below };
}
