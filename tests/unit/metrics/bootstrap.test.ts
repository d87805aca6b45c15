/**
 * The PRNG, order statistics, the bootstrap and the binomial / multinomial samplers. Pinned
 * values come from tests/unit/metrics/reference/prng.py (a transcription of PractRand's sfc32,
 * numpy 1.24.2's percentile, the krippendorff package); the samplers are checked against exact
 * probabilities.
 */
import { describe, expect, it } from 'vitest';
import {
  binomial,
  bootstrapInterval,
  krippendorffAlpha,
  logFactorial,
  median,
  medianInPlace,
  multinomial,
  percentileInterval,
  Prng,
  quantileSorted,
} from '../../../electron/core/metrics';

describe('Prng (sfc32)', () => {
  it("reproduces PractRand's sfc32 outputs (prng.py)", () => {
    const first = (seed: number): number[] => {
      const g = new Prng(seed);
      return Array.from({ length: 6 }, () => g.nextUint32());
    };
    expect(first(0)).toEqual([1363572419, 145230303, 808754475, 4216505632, 947923937, 2491578854]);
    expect(first(1)).toEqual([
      2012149540, 1872316204, 1707632675, 1779833415, 2026416846, 1661539736,
    ]);
    expect(first(42)).toEqual([
      1264412219, 1947509147, 3919439299, 1251167922, 656401615, 478193053,
    ]);
    // A seed above 2^32 seeds the third word with its high bits.
    expect(first(2 ** 32 + 5)).toEqual([
      3317037461, 344497439, 2098912950, 2747301539, 832019503, 36710579,
    ]);
  });

  it('maps outputs to indices by multiply-shift (prng.py: index(1000) from seed 7)', () => {
    const g = new Prng(7);
    expect(Array.from({ length: 8 }, () => g.nextIndex(1000))).toEqual([
      427, 488, 307, 480, 172, 405, 922, 684,
    ]);
  });

  it('refuses a seed that is not a non-negative safe integer', () => {
    expect(() => new Prng(-1)).toThrow(RangeError);
    expect(() => new Prng(1.5)).toThrow(RangeError);
  });
});

describe('order statistics', () => {
  it('interpolates quantiles as numpy.percentile does', () => {
    // prng.py: numpy.percentile([3, 1, 4, 1, 5, 9, 2, 6], [2.5, 50, 97.5])
    //   = 1.0, 3.5, 8.475000000000001
    const sorted = Float64Array.from([3, 1, 4, 1, 5, 9, 2, 6]).sort();
    expect(quantileSorted(sorted, 0.025)).toBe(1);
    expect(quantileSorted(sorted, 0.5)).toBe(3.5);
    expect(quantileSorted(sorted, 0.975)).toBe(8.475000000000001);
    expect(median([5, 1, 3])).toBe(3);
    expect(median([])).toBeNaN();
  });

  it('selects the median without sorting, as quantileSorted gives it from the sorted values', () => {
    const g = new Prng(15);
    for (let trial = 0; trial < 400; trial++) {
      const n = 1 + g.nextIndex(trial < 200 ? 12 : 3000);
      // Narrow ranges repeat values, as decision times in whole milliseconds do.
      const range = [2, 10, 1e6][trial % 3]!;
      const values = Float64Array.from({ length: n }, () => g.nextIndex(range) + (trial % 2) * 0.5);
      const expected = quantileSorted(Float64Array.from(values).sort(), 0.5);
      expect(medianInPlace(values)).toBe(expected);
    }
    expect(medianInPlace(new Float64Array(0))).toBeNaN();
    // Sorted, reversed and constant input, the classic worst cases of a selection.
    const ramp = Float64Array.from({ length: 10_001 }, (_, i) => i);
    expect(medianInPlace(ramp.slice())).toBe(5000);
    expect(medianInPlace(ramp.slice().reverse())).toBe(5000);
    expect(medianInPlace(new Float64Array(10_000).fill(7))).toBe(7);
  });

  it('leaves undefined replicates out of the percentile interval', () => {
    expect(percentileInterval([NaN, 1, 2, 3, NaN, 4, 5], 0.5)).toEqual({ lower: 2, upper: 4 });
    expect(percentileInterval([NaN, NaN], 0.95)).toBeNull();
  });
});

describe('bootstrapInterval', () => {
  it('resamples items as prng.py does (alpha of a 12-item table, 40 resamples, seed 2024)', () => {
    const items = [
      [3, 0, 0],
      [2, 1, 0],
      [0, 0, 3],
      [1, 0, 2],
      [2, 0, 1],
      [0, 3, 0],
      [1, 1, 1],
      [3, 0, 0],
      [0, 1, 2],
      [0, 0, 2],
      [2, 0, 0],
      [1, 0, 1],
    ];
    const counts = items.flat();
    const alpha = (weights?: Float64Array): number =>
      krippendorffAlpha({ categories: 3, counts, weights }, 'nominal').value;
    // krippendorff.alpha(value_counts=..., "nominal") = 0.39181286549707606
    expect(alpha()).toBeCloseTo(0.39181286549707606, 12);
    // numpy.percentile of the 40 alphas of the resampled tables, [2.5, 97.5]:
    // 0.06821581338505268, 0.7109885163068442
    const interval = bootstrapInterval(12, alpha, { resamples: 40, seed: 2024, level: 0.95 });
    expect(interval!.lower).toBeCloseTo(0.06821581338505268, 12);
    expect(interval!.upper).toBeCloseTo(0.7109885163068442, 12);
  });

  it('gives no interval without resamples or items', () => {
    expect(bootstrapInterval(10, () => 1, { resamples: 0 })).toBeNull();
    expect(bootstrapInterval(0, () => 1)).toBeNull();
  });
});

/** Exact Binomial(n, p) probabilities by the recurrence P(k+1) = P(k) (n - k)/(k + 1) p/q. */
function binomialPmf(n: number, p: number): number[] {
  const q = 1 - p;
  const pmf = [Math.exp(n * Math.log(q))];
  for (let k = 0; k < n; k++) pmf.push((pmf[k]! * (n - k) * p) / ((k + 1) * q));
  return pmf;
}

/**
 * Pearson's chi-square of `draws` against `pmf`, with the tails pooled into bins of expected
 * count >= 5; returns the statistic and its degrees of freedom.
 */
function chiSquare(draws: number[], pmf: number[]): { chi2: number; df: number } {
  const N = draws.length;
  const observed = new Array<number>(pmf.length).fill(0);
  for (const k of draws) observed[k]! += 1;
  const bins: { o: number; e: number }[] = [];
  let o = 0;
  let e = 0;
  for (let k = 0; k < pmf.length; k++) {
    o += observed[k]!;
    e += pmf[k]! * N;
    if (e >= 5) {
      bins.push({ o, e });
      o = 0;
      e = 0;
    }
  }
  bins[bins.length - 1]!.o += o;
  bins[bins.length - 1]!.e += e;
  const chi2 = bins.reduce((sum, b) => sum + (b.o - b.e) ** 2 / b.e, 0);
  return { chi2, df: bins.length - 1 };
}

describe('binomial', () => {
  it('computes ln k! exactly in the table and by Stirling above it', () => {
    expect(logFactorial(0)).toBe(0);
    expect(logFactorial(10)).toBeCloseTo(Math.log(3628800), 12);
    // ln 300! = 1414.9058494739... (sum of ln k, k = 1..300)
    let sum = 0;
    for (let k = 2; k <= 300; k++) sum += Math.log(k);
    expect(logFactorial(300)).toBeCloseTo(sum, 9);
  });

  // Both algorithms (inversion below n p = 10, BTRS above), p on both sides of 1/2.
  const cases: [number, number][] = [
    [20, 0.1],
    [1000, 0.004],
    [60, 0.5],
    [200, 0.3],
    [5000, 0.02],
    [300, 0.9],
  ];
  for (const [n, p] of cases) {
    it(`draws Binomial(${n}, ${p}) with the exact distribution (chi-square)`, () => {
      const prng = new Prng(n + Math.round(p * 1000));
      const draws = Array.from({ length: 20000 }, () => binomial(prng, n, p));
      const { chi2, df } = chiSquare(draws, binomialPmf(n, p));
      // The 99.9th percentile of chi-square(df) is below df + 3.1 sqrt(2 df) + 6 for df >= 5
      // (e.g. 20.5 at df 5, 59.7 at df 30); a wrong mean or spread gives thousands.
      expect(chi2).toBeLessThan(df + 3.1 * Math.sqrt(2 * df) + 6);
      expect(draws.every((k) => Number.isInteger(k) && k >= 0 && k <= n)).toBe(true);
    });
  }

  it('handles the degenerate cases', () => {
    const prng = new Prng(1);
    expect(binomial(prng, 0, 0.3)).toBe(0);
    expect(binomial(prng, 50, 0)).toBe(0);
    expect(binomial(prng, 50, 1)).toBe(50);
  });
});

describe('multinomial', () => {
  it('draws counts that sum to n with the multinomial means and variances', () => {
    const prng = new Prng(99);
    const frequencies = [50, 0, 30, 15, 5];
    const n = 100;
    const out = new Float64Array(frequencies.length);
    const sums = new Float64Array(frequencies.length);
    const squares = new Float64Array(frequencies.length);
    const R = 20000;
    let wrongTotals = 0;
    for (let r = 0; r < R; r++) {
      multinomial(prng, n, frequencies, out);
      if (out.reduce((a, b) => a + b, 0) !== n) wrongTotals++;
      out.forEach((k, g) => {
        sums[g]! += k;
        squares[g]! += k * k;
      });
    }
    expect(wrongTotals).toBe(0);
    frequencies.forEach((f, g) => {
      const p = f / 100;
      const mean = sums[g]! / R;
      const variance = squares[g]! / R - mean * mean;
      // Mean n p within 5 standard errors; variance n p (1 - p) within 5%.
      expect(Math.abs(mean - n * p)).toBeLessThanOrEqual(5 * Math.sqrt((n * p * (1 - p)) / R));
      if (p > 0) expect(variance / (n * p * (1 - p))).toBeCloseTo(1, 1);
      else expect(variance).toBe(0);
    });
  });
});
