import { randomInt } from 'node:crypto';
import { mulberry32 } from '../../electron/core/demo/scenes';

export interface CrashSeed {
  seed: number;
  /** What to set to draw the same again: `CRASH_SEED=<seed>`. */
  replay: string;
  /**
   * The PRNG of one test, by a name of its own: each test draws from its own stream, so a test
   * run alone (`-t`, `--grep`) draws what it drew in the whole file.
   */
  random(test: string): () => number;
}

/**
 * The seed of tests that draw at random (the crash tests' kill times and keys): CRASH_SEED when
 * set, so a failure is replayed with CRASH_SEED=<seed>, else a fresh one. Every random choice of
 * those tests comes from `random`, never from Math.random, so the seed is all there is to replay.
 */
export function crashSeed(): CrashSeed {
  const given = process.env.CRASH_SEED;
  let seed: number;
  if (given === undefined || given === '') {
    seed = randomInt(2 ** 31);
  } else {
    seed = Number(given);
    // A typo must not run some other seed (mulberry32 reads NaN as 0) while printing this one.
    if (!/^\d+$/.test(given.trim()) || !Number.isSafeInteger(seed) || seed >= 2 ** 32) {
      throw new Error(`CRASH_SEED=${given}: expected a whole number from 0 to 2^32 - 1`);
    }
  }
  return {
    seed,
    replay: `CRASH_SEED=${seed}`,
    random(test) {
      let h = seed >>> 0;
      for (const char of test) h = Math.imul(h ^ char.charCodeAt(0), 0x01000193) >>> 0;
      return mulberry32(h);
    },
  };
}
