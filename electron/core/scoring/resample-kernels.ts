/**
 * The two inner loops of Pillow's 8-bit resampling (see pil-resample.ts) in WebAssembly SIMD,
 * written below in the WebAssembly text format's instructions and assembled here: no compiler,
 * and no binary in the repository.
 *
 * Each output byte is what Pillow's C computes: HALF plus the sum of (byte x fixed-point weight)
 * in 32-bit integers, shifted right by PRECISION_BITS and clamped to 0..255. SIMD only computes
 * several at once:
 *
 * - `hpass` (horizontal): one pixel at a time, R, G and B (and an unused fourth lane) side by
 *   side in an i32x4, one multiply-add per tap.
 * - `vpass` (vertical): sixteen bytes of a row at a time (each byte is filtered on its own, so
 *   channels need no care), four i32x4 sums per tap.
 *
 * The clamp is two saturating narrows (i32 to i16, then i16 to u8): for any sum a tap table can
 * give (|sum >> 22| < 1024) that is clip8. Loads and stores are 4 or 16 bytes wide, so callers
 * leave 16 spare bytes after every buffer a kernel reads or writes.
 */

export const PRECISION_BITS = 22;
export const HALF = 1 << (PRECISION_BITS - 1);

/** Each kernel's i32 arguments, in order. */
export const KERNEL_PARAMS = {
  hpass: ['src', 'stride', 'rows', 'dst', 'count', 'bounds', 'weights', 'kstride'],
  vpass: ['src', 'stride', 'dst', 'rowBytes', 'rows', 'bounds', 'weights', 'kstride', 'row0'],
} as const;

/**
 * hpass: `rows` rows of `stride` bytes at `src`, `count` output pixels each, packed RGB to
 * `dst`. Output pixel j starts at source column bounds[2j] and has bounds[2j + 1] taps, two at a
 * time: their weights are at weights + j * kstride, 32 bytes a pair (see horizontalWeights).
 *
 * A pair's six bytes R G B R' G' B' are spread to the i16 lanes (R, R', G, G', B, B', 0, 0), so
 * that i32x4.dot_i16x8_s gives R w + R' w', G w + G' w', B w + B' w' at once. A weight has 22
 * bits, an i16 lane 16: each is split as w = hi x 2048 + lo (0 <= lo < 2048), and the two sums
 * join as (hi sum << 11) + lo sum. In 32-bit wrapping arithmetic that is the exact sum whenever
 * the sum fits an int32, which Pillow's own arithmetic requires.
 */
const SPREAD_PAIR = [0, 255, 3, 255, 1, 255, 4, 255, 2, 255, 5, 255, 255, 255, 255, 255];
const HPASS = `
  v128.const ${SPREAD_PAIR.join(' ')}  local.set spread
  loop ;; rows
    local.get bounds  local.set b
    local.get weights  local.set wrow
    local.get count  local.set j
    loop ;; output pixels
      local.get src  local.get b  i32.load 0  i32.const 3  i32.mul  i32.add  local.set p
      local.get b  i32.load 4  i32.const 1  i32.add  i32.const 1  i32.shr_u  local.set n
      local.get wrow  local.set w
      i32.const 0  i32x4.splat  local.tee hi  local.set lo
      loop ;; pairs of taps (an odd last one weighs 0)
        local.get p  v128.load64_zero  local.get spread  i8x16.swizzle  local.set v
        local.get hi  local.get v  local.get w  v128.load  i32x4.dot_i16x8_s  i32x4.add
        local.set hi
        local.get lo  local.get v  local.get w  i32.const 16  i32.add  v128.load
        i32x4.dot_i16x8_s  i32x4.add  local.set lo
        local.get p  i32.const 6  i32.add  local.set p
        local.get w  i32.const 32  i32.add  local.set w
        local.get n  i32.const 1  i32.sub  local.tee n  br_if 0
      end
      local.get dst
      local.get hi  i32.const 11  i32x4.shl  local.get lo  i32x4.add
      i32.const ${HALF}  i32x4.splat  i32x4.add  i32.const ${PRECISION_BITS}  i32x4.shr_s
      local.tee hi  local.get hi  i16x8.narrow_i32x4_s  local.tee hi  local.get hi
      i8x16.narrow_i16x8_u
      v128.store32_lane0 ;; 4 bytes: R, G, B, and one the next pixel overwrites
      local.get dst  i32.const 3  i32.add  local.set dst
      local.get b  i32.const 8  i32.add  local.set b
      local.get wrow  local.get kstride  i32.add  local.set wrow
      local.get j  i32.const 1  i32.sub  local.tee j  br_if 0
    end
    local.get src  local.get stride  i32.add  local.set src
    local.get rows  i32.const 1  i32.sub  local.tee rows  br_if 0
  end`;

/**
 * The horizontal pass's weight table from Pillow's (ksize i32 weights per output sample): for
 * each output sample, ceil(ksize / 2) pairs of taps, each as two i16x8 vectors, the high parts
 * (hi, hi', hi, hi', hi, hi', 0, 0) then the low parts likewise.
 */
export function horizontalWeights(weights: Int32Array, ksize: number): Int16Array {
  const pairs = Math.ceil(ksize / 2);
  const samples = weights.length / ksize;
  const out = new Int16Array(samples * pairs * 16);
  for (let i = 0; i < samples; i++) {
    for (let pair = 0; pair < pairs; pair++) {
      const k = i * ksize + pair * 2;
      const w0 = weights[k]!;
      const w1 = pair * 2 + 1 < ksize ? weights[k + 1]! : 0;
      const at = (i * pairs + pair) * 16;
      for (let lane = 0; lane < 6; lane += 2) {
        out[at + lane] = w0 >> 11;
        out[at + lane + 1] = w1 >> 11;
        out[at + 8 + lane] = w0 & 2047;
        out[at + 8 + lane + 1] = w1 & 2047;
      }
    }
  }
  return out;
}

/**
 * vpass: `rows` output rows of `rowBytes` bytes to `dst`, from rows of `stride` bytes at `src`
 * (the first being source row `row0`). Output row y starts at source row bounds[2y] and has
 * bounds[2y + 1] taps, weighted by the i32s at weights + y * kstride.
 */
const VPASS = `
  loop ;; rows
    local.get src  local.get bounds  i32.load 0  local.get row0  i32.sub  local.get stride
    i32.mul  i32.add  local.set base
    local.get bounds  i32.load 4  local.set taps
    i32.const 0  local.set i
    loop ;; 16 bytes of the row
      i32.const ${HALF}  i32x4.splat  local.tee a0  local.tee a1  local.tee a2  local.set a3
      local.get base  local.get i  i32.add  local.set p
      local.get weights  local.set w
      local.get taps  local.set n
      loop ;; taps: a0..a3 += 16 bytes at p x weight
        local.get w  v128.load32_splat  local.set wv
        local.get p  v128.load  local.tee v  i16x8.extend_low_i8x16_u  local.set lo
        local.get v  i16x8.extend_high_i8x16_u  local.set hi
        local.get a0  local.get lo  i32x4.extend_low_i16x8_u  local.get wv  i32x4.mul
        i32x4.add  local.set a0
        local.get a1  local.get lo  i32x4.extend_high_i16x8_u  local.get wv  i32x4.mul
        i32x4.add  local.set a1
        local.get a2  local.get hi  i32x4.extend_low_i16x8_u  local.get wv  i32x4.mul
        i32x4.add  local.set a2
        local.get a3  local.get hi  i32x4.extend_high_i16x8_u  local.get wv  i32x4.mul
        i32x4.add  local.set a3
        local.get p  local.get stride  i32.add  local.set p
        local.get w  i32.const 4  i32.add  local.set w
        local.get n  i32.const 1  i32.sub  local.tee n  br_if 0
      end
      local.get dst  local.get i  i32.add
      local.get a0  i32.const ${PRECISION_BITS}  i32x4.shr_s
      local.get a1  i32.const ${PRECISION_BITS}  i32x4.shr_s  i16x8.narrow_i32x4_s
      local.get a2  i32.const ${PRECISION_BITS}  i32x4.shr_s
      local.get a3  i32.const ${PRECISION_BITS}  i32x4.shr_s  i16x8.narrow_i32x4_s
      i8x16.narrow_i16x8_u
      v128.store ;; may run up to 15 bytes past the row: the next row, or the spare bytes
      local.get i  i32.const 16  i32.add  local.tee i  local.get rowBytes  i32.lt_u  br_if 0
    end
    local.get dst  local.get rowBytes  i32.add  local.set dst
    local.get bounds  i32.const 8  i32.add  local.set bounds
    local.get weights  local.get kstride  i32.add  local.set weights
    local.get rows  i32.const 1  i32.sub  local.tee rows  br_if 0
  end`;

interface KernelSource {
  params: readonly string[];
  i32: string[];
  v128: string[];
  body: string;
}

const KERNELS: Record<keyof typeof KERNEL_PARAMS, KernelSource> = {
  hpass: {
    params: KERNEL_PARAMS.hpass,
    i32: ['j', 'p', 'n', 'w', 'b', 'wrow'],
    v128: ['spread', 'hi', 'lo', 'v'],
    body: HPASS,
  },
  vpass: {
    params: KERNEL_PARAMS.vpass,
    i32: ['base', 'taps', 'i', 'p', 'w', 'n'],
    v128: ['a0', 'a1', 'a2', 'a3', 'wv', 'v', 'lo', 'hi'],
    body: VPASS,
  },
};

function unsignedLeb(n: number): number[] {
  const out: number[] = [];
  do {
    const low = n & 0x7f;
    n >>>= 7;
    out.push(n === 0 ? low : low | 0x80);
  } while (n !== 0);
  return out;
}

function signedLeb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const low = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (low & 0x40) === 0) || (n === -1 && (low & 0x40) !== 0);
    out.push(done ? low : low | 0x80);
    if (done) return out;
  }
}

const SIMD = 0xfd;
// Memory immediates: alignment hint and offset. The kernels' addresses are not aligned.
const UNALIGNED = [0, 0];
const simd = (op: number, ...immediates: number[]): number[] => [
  SIMD,
  ...unsignedLeb(op),
  ...immediates,
];

/** Each instruction's opcode bytes, and the kind of immediate written after it in the text. */
const OPCODES: Record<
  string,
  { bytes: number[]; immediate?: 'local' | 'signed' | 'unsigned' | 'bytes16' }
> = {
  loop: { bytes: [0x03, 0x40] }, // a loop without a result
  end: { bytes: [0x0b] },
  br_if: { bytes: [0x0d], immediate: 'unsigned' },
  'local.get': { bytes: [0x20], immediate: 'local' },
  'local.set': { bytes: [0x21], immediate: 'local' },
  'local.tee': { bytes: [0x22], immediate: 'local' },
  'i32.load': { bytes: [0x28, 2], immediate: 'unsigned' }, // aligned; the offset follows
  'i32.const': { bytes: [0x41], immediate: 'signed' },
  'i32.lt_u': { bytes: [0x49] },
  'i32.add': { bytes: [0x6a] },
  'i32.sub': { bytes: [0x6b] },
  'i32.mul': { bytes: [0x6c] },
  'i32.shr_u': { bytes: [0x76] },
  'v128.load': { bytes: simd(0x00, ...UNALIGNED) },
  'v128.load32_splat': { bytes: simd(0x09, 2, 0) },
  'v128.store': { bytes: simd(0x0b, ...UNALIGNED) },
  'v128.const': { bytes: simd(0x0c), immediate: 'bytes16' },
  'i8x16.swizzle': { bytes: simd(0x0e) },
  'i32x4.splat': { bytes: simd(0x11) },
  'v128.store32_lane0': { bytes: simd(0x5a, ...UNALIGNED, 0) },
  'v128.load32_zero': { bytes: simd(0x5c, ...UNALIGNED) },
  'v128.load64_zero': { bytes: simd(0x5d, ...UNALIGNED) },
  'i8x16.narrow_i16x8_u': { bytes: simd(0x66) },
  'i16x8.narrow_i32x4_s': { bytes: simd(0x85) },
  'i16x8.extend_low_i8x16_u': { bytes: simd(0x89) },
  'i16x8.extend_high_i8x16_u': { bytes: simd(0x8a) },
  'i32x4.extend_low_i16x8_u': { bytes: simd(0xa9) },
  'i32x4.extend_high_i16x8_u': { bytes: simd(0xaa) },
  'i32x4.shl': { bytes: simd(0xab) },
  'i32x4.shr_s': { bytes: simd(0xac) },
  'i32x4.add': { bytes: simd(0xae) },
  'i32x4.mul': { bytes: simd(0xb5) },
  'i32x4.dot_i16x8_s': { bytes: simd(0xba) },
};

const I32 = 0x7f;
const V128 = 0x7b;

/** A function body: its locals (after the parameters), then its instructions and `end`. */
function assemble(kernel: KernelSource): number[] {
  const names = [...kernel.params, ...kernel.i32, ...kernel.v128];
  const tokens = kernel.body
    .replace(/;;[^\n]*/g, '')
    .split(/\s+/)
    .filter(Boolean);
  const code: number[] = [];
  for (let t = 0; t < tokens.length; t++) {
    const op = OPCODES[tokens[t]!];
    if (!op) throw new Error(`resample kernels: unknown instruction ${tokens[t]}`);
    code.push(...op.bytes);
    if (!op.immediate) continue;
    if (op.immediate === 'bytes16') {
      code.push(...tokens.slice(t + 1, t + 17).map(Number));
      t += 16;
      continue;
    }
    const arg = tokens[++t]!;
    if (op.immediate === 'local') {
      const index = names.indexOf(arg);
      if (index < 0) throw new Error(`resample kernels: unknown local ${arg}`);
      code.push(index);
    } else {
      code.push(...(op.immediate === 'signed' ? signedLeb(Number(arg)) : unsignedLeb(Number(arg))));
    }
  }
  const locals = [2, kernel.i32.length, I32, kernel.v128.length, V128];
  return [...locals, ...code, 0x0b];
}

const section = (id: number, contents: number[]): number[] => [
  id,
  ...unsignedLeb(contents.length),
  ...contents,
];
const name = (text: string): number[] => [text.length, ...Buffer.from(text, 'latin1')];

/** A module exporting `memory` (one page to start) and the kernels. */
function kernelModule(): Uint8Array {
  const kernels = Object.entries(KERNELS);
  // One function type per kernel: its i32 parameters, no result.
  const types = kernels.flatMap(([, { params }]) => [
    0x60,
    params.length,
    ...params.map(() => I32),
    0,
  ]);
  const bodies = kernels.map(([, kernel]) => assemble(kernel));
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [kernels.length, ...types]),
    ...section(3, [kernels.length, ...kernels.map((_, index) => index)]),
    ...section(5, [1, 0x00, 1]),
    ...section(7, [
      kernels.length + 1,
      ...name('memory'),
      0x02,
      0,
      ...kernels.flatMap(([kernelName], index) => [...name(kernelName), 0x00, index]),
    ]),
    ...section(10, [
      kernels.length,
      ...bodies.flatMap((body) => [...unsignedLeb(body.length), ...body]),
    ]),
  ];
  return Uint8Array.from(bytes);
}

type Kernel = (...args: number[]) => void;

export interface ResampleKernels {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  hpass: Kernel;
  vpass: Kernel;
}

// Node code is compiled without the DOM library, where TypeScript declares WebAssembly; Node has
// it all the same. These two constructors are all this file uses.
const { Module, Instance } = (
  globalThis as unknown as {
    WebAssembly: {
      Module: new (bytes: Uint8Array) => object;
      Instance: new (module: object) => { exports: object };
    };
  }
).WebAssembly;

let compiled: object | undefined;

/** A fresh instance, with its own memory; the module is compiled once per thread. */
export function instantiateKernels(): ResampleKernels {
  compiled ??= new Module(kernelModule());
  return new Instance(compiled).exports as ResampleKernels;
}
