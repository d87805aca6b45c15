/**
 * Exact binomial and multinomial variates from the seeded PRNG, so that a bootstrap resample of n
 * items can be drawn as counts per group of interchangeable items in O(groups) rather than O(n).
 *
 * Resampling n items with replacement gives item i a multiplicity, and the multiplicities of all
 * items are Multinomial(n; 1/n, ..., 1/n). A statistic that depends on an item only through its
 * group (its "type": e.g. the verdict counts of a pair) sees only the group totals, which are
 * Multinomial(n; f_1/n, ..., f_G/n) for groups of f_g items: the same distribution, drawn here as
 * a chain of conditional binomials,
 *   k_g ~ Binomial(n - k_1 - ... - k_{g-1}, f_g / (f_g + ... + f_G))
 * (the conditional method for multivariate variates; Devroye 1986, Non-Uniform Random Variate
 * Generation, ch. XI).
 */
import type { Prng } from './prng';

const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);
const LOG_FACTORIAL_TABLE = 256;
const logFactorials = new Float64Array(LOG_FACTORIAL_TABLE);
for (let k = 2; k < LOG_FACTORIAL_TABLE; k++)
  logFactorials[k] = logFactorials[k - 1]! + Math.log(k);

/** ln k!: a table below 256, Stirling's series for ln Gamma(k + 1) above (error < 1e-17). */
export function logFactorial(k: number): number {
  if (k < LOG_FACTORIAL_TABLE) return logFactorials[k]!;
  const x = k + 1;
  const x2 = x * x;
  return (
    (x - 0.5) * Math.log(x) - x + HALF_LOG_TWO_PI + (1 / 12 - (1 / 360 - 1 / (1260 * x2)) / x2) / x
  );
}

/**
 * Binomial(n, p) by inversion (BINV, Kachitvichyanukul & Schmeiser 1988, "Binomial random variate
 * generation", CACM 31) when n min(p, 1 - p) < 10, else by transformed rejection with squeeze
 * (BTRS, Hoermann 1993, "The generation of binomial random variates", J. Statist. Comput. Simul.
 * 46), both exact given uniform variates. p > 1/2 is drawn as n - Binomial(n, 1 - p).
 */
export function binomial(prng: Prng, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomial(prng, n, 1 - p);
  const q = 1 - p;
  if (n * p < 10) {
    const s = p / q;
    const a = (n + 1) * s;
    const r0 = Math.pow(q, n);
    for (;;) {
      let u = prng.next();
      let r = r0;
      let k = 0;
      while (u > r) {
        u -= r;
        k++;
        if (k > n) break;
        r *= a / k - s;
      }
      if (k <= n) return k;
    }
  }
  const spq = Math.sqrt(n * p * q);
  const b = 1.15 + 2.53 * spq;
  const a = -0.0873 + 0.0248 * b + 0.01 * p;
  const c = n * p + 0.5;
  const vr = 0.92 - 4.2 / b;
  const alpha = (2.83 + 5.1 / b) * spq;
  const lpq = Math.log(p / q);
  const m = Math.floor((n + 1) * p);
  const h = logFactorial(m) + logFactorial(n - m);
  for (;;) {
    const u = prng.next() - 0.5;
    let v = prng.next();
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + c);
    if (k < 0 || k > n) continue;
    if (us >= 0.07 && v <= vr) return k;
    v = (v * alpha) / (a / (us * us) + b);
    if (Math.log(v) <= h - logFactorial(k) - logFactorial(n - k) + (k - m) * lpq) return k;
  }
}

/**
 * Multinomial(n; f_g / sum f) into `out` (same length as `frequencies`), by conditional
 * binomials in index order. `frequencies` are non-negative weights (item counts per group).
 */
export function multinomial(
  prng: Prng,
  n: number,
  frequencies: ArrayLike<number>,
  out: Float64Array,
): void {
  let left = 0;
  for (let g = 0; g < frequencies.length; g++) left += frequencies[g]!;
  let remaining = n;
  for (let g = 0; g < frequencies.length; g++) {
    const f = frequencies[g]!;
    if (remaining === 0 || f <= 0) {
      out[g] = 0;
    } else if (f >= left) {
      out[g] = remaining;
      remaining = 0;
    } else {
      const k = binomial(prng, remaining, f / left);
      out[g] = k;
      remaining -= k;
    }
    left -= f;
  }
}
