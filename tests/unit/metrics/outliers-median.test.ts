import { describe, expect, it } from 'vitest';
import { median, Prng } from '../../../electron/core/metrics';
import { medianWithoutValues } from '../../../electron/core/metrics/outliers';

describe("the others' median kappa (outliers.ts medianWithoutValues)", () => {
  it('is the median of the list with those values taken out, duplicates included', () => {
    const rng = new Prng(3);
    for (let trial = 0; trial < 300; trial++) {
      // Few distinct values, so that removed values have duplicates left in the rest.
      const all = Array.from({ length: 1 + rng.nextIndex(30) }, () => rng.nextIndex(7) / 4 - 0.5);
      const kept = [...all];
      const removed: number[] = [];
      const take = rng.nextIndex(all.length + 1);
      for (let i = 0; i < take; i++) removed.push(...kept.splice(rng.nextIndex(kept.length), 1));
      const got = medianWithoutValues(
        Float64Array.from(all).sort(),
        Float64Array.from(removed).sort(),
      );
      expect(Object.is(got, median(kept)) || got === median(kept)).toBe(true);
    }
  });
});
