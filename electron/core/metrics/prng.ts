/**
 * A small seeded PRNG for the bootstrap, so that intervals are the same on every run and machine.
 *
 * sfc32, Chris Doty-Humphrey's "small fast chaotic" generator from PractRand (src/RNGs/sfc.cpp):
 * 128 bits of state, passes PractRand and BigCrush, a handful of 32-bit integer operations per
 * output. Seeding as PractRand's `sfc32::seed(Uint64 s)`: a = 0, b = low 32 bits of s, c = high
 * 32 bits, counter = 1, then 12 outputs discarded.
 * `tests/unit/metrics/reference/prng.py` is a Python transcription that pins the first outputs.
 */
const TWO_POW_32 = 4294967296;

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** `seed`: a non-negative integer below 2^53 (the high bits seed the third word). */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(`PRNG seed must be a non-negative safe integer, got ${seed}`);
    }
    this.a = 0;
    this.b = seed >>> 0;
    this.c = Math.floor(seed / TWO_POW_32) >>> 0;
    this.d = 1;
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** The next output, an integer in [0, 2^32). */
  nextUint32(): number {
    const t = (this.a + this.b + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1): the next output divided by 2^32. */
  next(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /**
   * An integer in [0, n): floor(u * n / 2^32) for the next output u (the multiply-shift mapping;
   * its bias is below n / 2^32, and the product is exact for n < 2^21).
   */
  nextIndex(n: number): number {
    const i = Math.floor((this.nextUint32() * n) / TWO_POW_32);
    return i < n ? i : n - 1;
  }
}
