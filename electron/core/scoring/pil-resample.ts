/**
 * Pillow's BICUBIC resize (src/libImaging/Resample.c, ImagingResampleInner with the 8bpc passes),
 * bit for bit: CLIP models were trained on pixels from `Image.resize(size, BICUBIC)`, and
 * PickScore (about 100 x a cosine) notices the 1-level differences any other cubic filter leaves.
 *
 * The coefficients follow the C source step by step, including its order of floating-point
 * operations, because they are rounded from doubles to fixed point and one ulp can flip a rounded
 * pixel. The integer passes that apply them run in WebAssembly SIMD (resample-kernels.ts).
 */
import {
  horizontalWeights,
  instantiateKernels,
  PRECISION_BITS,
  type ResampleKernels,
} from './resample-kernels';

// 8 bits of result, 2 bits of headroom for the negative lobes and sums above 1, in an int32.
const ONE = 1 << PRECISION_BITS;
const BICUBIC_SUPPORT = 2.0;

interface Coefficients {
  /** Taps per output sample, the row stride of `weights`. */
  ksize: number;
  /** For output sample i: first input sample at [2i], number of taps at [2i + 1]. */
  bounds: Int32Array;
  /** Fixed-point weights, ksize per output sample. */
  weights: Int32Array;
  /** The same weights as the horizontal kernel takes them, made when first needed. */
  pairs?: Int16Array;
}

function bicubicFilter(x: number): number {
  const a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

function precomputeCoefficients(inSize: number, outSize: number): Coefficients {
  // Pillow passes the box (0, inSize) as C floats; integers below 2^24 are exact there.
  const scale = inSize / outSize;
  const filterscale = scale < 1.0 ? 1.0 : scale;
  const support = BICUBIC_SUPPORT * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  const ss = 1.0 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    let ww = 0.0;
    // C casts truncate toward zero; a negative start is clamped to 0 either way.
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    for (let x = 0; x < xmax; x++) {
      const w = bicubicFilter((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    const row = xx * ksize;
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0.0 ? k[x]! / ww : k[x]!;
      weights[row + x] = w < 0 ? Math.trunc(-0.5 + w * ONE) : Math.trunc(0.5 + w * ONE);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, weights };
}

// Scoring resizes every image to a handful of sizes (224 x something), so a small cache removes
// the coefficient work from the hot path without holding on to many odd sizes.
const CACHE_LIMIT = 64;
const cache = new Map<string, Coefficients>();

function coefficients(inSize: number, outSize: number): Coefficients {
  const key = `${inSize}>${outSize}`;
  let found = cache.get(key);
  if (!found) {
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
    found = precomputeCoefficients(inSize, outSize);
    cache.set(key, found);
  }
  return found;
}

/** The kernels read and write up to 16 bytes past the end of a buffer. */
const SPARE = 16;
/** Source rows are copied into the kernels' memory a strip of about this many bytes at a time. */
const STRIP_BYTES = 256 * 1024;
/** A call that needs more memory than this gets an instance of its own, dropped after it. */
const RESIDENT_BYTES = 64 * 1024 * 1024;
const PAGE = 65536;

let resident: ResampleKernels | undefined;

/** Kernels whose memory holds at least `bytes`. */
function kernelsFor(bytes: number): ResampleKernels {
  const kernels =
    bytes > RESIDENT_BYTES ? instantiateKernels() : (resident ??= instantiateKernels());
  const { memory } = kernels;
  const missing = bytes - memory.buffer.byteLength;
  if (missing > 0) memory.grow(Math.ceil(missing / PAGE));
  return kernels;
}

/** Consecutive 16-byte-aligned regions of the given sizes (plus SPARE each): their offsets. */
function layout(sizes: number[]): { offsets: number[]; end: number } {
  const offsets: number[] = [];
  let end = 0;
  for (const size of sizes) {
    offsets.push(end);
    end += Math.ceil((size + SPARE) / 16) * 16;
  }
  return { offsets, end };
}

/**
 * The samples [from, to) of one axis: their bounds and weights (Pillow's table, or for the
 * horizontal pass its pairs of taps), slices of the cached tables.
 */
function tapsOf(c: Coefficients, from: number, to: number, axis: 'horizontal' | 'vertical') {
  const { bounds, ksize } = c;
  const weights =
    axis === 'horizontal' ? (c.pairs ??= horizontalWeights(c.weights, ksize)) : c.weights;
  const perSample = weights.length / (bounds.length / 2);
  const slice = weights.subarray(from * perSample, to * perSample);
  return {
    bounds: bounds.subarray(from * 2, to * 2),
    weights: new Uint8Array(slice.buffer, slice.byteOffset, slice.byteLength),
    kstride: perSample * weights.BYTES_PER_ELEMENT,
    /** The input samples [first, end) these outputs read (bounds grow with the output index). */
    first: bounds[from * 2]!,
    end: bounds[(to - 1) * 2]! + bounds[(to - 1) * 2 + 1]!,
  };
}

type Taps = ReturnType<typeof tapsOf>;

/**
 * Source rows [rows.first, rows.end) through the horizontal pass (or, without one, as they are),
 * columns [x0, x0 + width) of the result into `temp`, `width` x 3 bytes a row.
 */
function horizontalStage(
  kernels: ResampleKernels,
  source: { rgb: Uint8Array; width: number },
  rows: { first: number; end: number },
  columns: { x0: number; width: number },
  horizontal: (Taps & { at: number }) | null,
  strip: number,
  temp: number,
): void {
  const heap = new Uint8Array(kernels.memory.buffer);
  const srcStride = source.width * 3;
  const tempStride = columns.width * 3;
  if (!horizontal) {
    for (let y = rows.first; y < rows.end; y++) {
      const start = y * srcStride + columns.x0 * 3;
      heap.set(
        source.rgb.subarray(start, start + tempStride),
        temp + (y - rows.first) * tempStride,
      );
    }
    return;
  }
  // Whole rows are copied, a strip at a time: one copy per strip costs less than one per row.
  const stripRows = Math.max(1, Math.floor(STRIP_BYTES / srcStride));
  for (let y = rows.first; y < rows.end; y += stripRows) {
    const count = Math.min(stripRows, rows.end - y);
    heap.set(source.rgb.subarray(y * srcStride, (y + count) * srcStride), strip);
    kernels.hpass(
      strip,
      srcStride,
      count,
      temp + (y - rows.first) * tempStride,
      columns.width,
      horizontal.at,
      horizontal.at + horizontal.bounds.byteLength,
      horizontal.kstride,
    );
  }
}

/** A rectangle of the resized image, in its pixels. */
export interface PixelWindow {
  left: number;
  top: number;
  width: number;
  height: number;
}

function checkArguments(
  rgb: Uint8Array,
  width: number,
  height: number,
  newWidth: number,
  newHeight: number,
  window: PixelWindow,
): void {
  for (const [name, value] of [
    ['width', width],
    ['height', height],
    ['newWidth', newWidth],
    ['newHeight', newHeight],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`resizeBicubic: ${name} must be a positive integer, got ${value}`);
    }
  }
  if (rgb.length !== width * height * 3) {
    throw new RangeError(
      `resizeBicubic: ${rgb.length} bytes is not ${width} x ${height} RGB (${width * height * 3})`,
    );
  }
  const { left, top } = window;
  const right = left + window.width;
  const bottom = top + window.height;
  if (
    ![left, top, right, bottom].every(Number.isInteger) ||
    left < 0 ||
    top < 0 ||
    right <= left ||
    bottom <= top ||
    right > newWidth ||
    bottom > newHeight
  ) {
    throw new RangeError(
      `resizeBicubic: window ${JSON.stringify(window)} is not inside ${newWidth} x ${newHeight}`,
    );
  }
}

/** The window of an image resized to its own size: its pixels, as they are. */
function copyWindow(rgb: Uint8Array, width: number, window: PixelWindow): Uint8Array {
  const rowBytes = window.width * 3;
  const out = new Uint8Array(rowBytes * window.height);
  for (let y = 0; y < window.height; y++) {
    const start = ((window.top + y) * width + window.left) * 3;
    out.set(rgb.subarray(start, start + rowBytes), y * rowBytes);
  }
  return out;
}

/** One axis's bounds, then its weights, into the kernels' memory at `at`. */
function putTaps(kernels: ResampleKernels, taps: Taps, at: number): void {
  new Int32Array(kernels.memory.buffer).set(taps.bounds, at / 4);
  new Uint8Array(kernels.memory.buffer).set(taps.weights, at + taps.bounds.byteLength);
}

/**
 * Resizes interleaved 8-bit RGB exactly as Pillow's `Image.resize((newWidth, newHeight),
 * Image.BICUBIC)` does for an RGB image: the horizontal pass first (only over the rows the
 * vertical pass will read), then the vertical pass, each rounding to 8 bits.
 *
 * With `window`, only that part of the result is computed and returned (a centre crop need not
 * resize what it throws away); its pixels equal those of the full result.
 */
export function resizeBicubic(
  rgb: Uint8Array,
  width: number,
  height: number,
  newWidth: number,
  newHeight: number,
  window: PixelWindow = { left: 0, top: 0, width: newWidth, height: newHeight },
): Uint8Array {
  checkArguments(rgb, width, height, newWidth, newHeight, window);
  const { left: x0, top: y0 } = window;
  const x1 = x0 + window.width;
  const y1 = y0 + window.height;
  if (newWidth === width && newHeight === height) return copyWindow(rgb, width, window);
  const horizontal =
    newWidth !== width ? tapsOf(coefficients(width, newWidth), x0, x1, 'horizontal') : null;
  const vertical =
    newHeight !== height ? tapsOf(coefficients(height, newHeight), y0, y1, 'vertical') : null;
  // The source rows the vertical pass reads (without one, the window's rows).
  const rows = vertical ?? { first: y0, end: y1 };
  const rowBytes = window.width * 3;
  const stripBytes = horizontal
    ? Math.max(1, Math.floor(STRIP_BYTES / (width * 3))) * width * 3
    : 0;
  const tempBytes = (rows.end - rows.first) * rowBytes;
  const outBytes = vertical ? window.height * rowBytes : 0;
  const regions = layout([
    horizontal ? horizontal.bounds.byteLength + horizontal.weights.byteLength : 0,
    vertical ? vertical.bounds.byteLength + vertical.weights.byteLength : 0,
    stripBytes,
    tempBytes,
    outBytes,
  ]);
  const [hTaps, vTaps, strip, temp, out] = regions.offsets as [
    number,
    number,
    number,
    number,
    number,
  ];
  const kernels = kernelsFor(regions.end);
  if (horizontal) putTaps(kernels, horizontal, hTaps);
  if (vertical) putTaps(kernels, vertical, vTaps);

  horizontalStage(
    kernels,
    { rgb, width },
    rows,
    { x0, width: window.width },
    horizontal && { ...horizontal, at: hTaps },
    strip,
    temp,
  );
  if (!vertical) return new Uint8Array(kernels.memory.buffer).slice(temp, temp + tempBytes);
  kernels.vpass(
    temp,
    rowBytes,
    out,
    rowBytes,
    window.height,
    vTaps,
    vTaps + vertical.bounds.byteLength,
    vertical.kstride,
    vertical.first,
  );
  return new Uint8Array(kernels.memory.buffer).slice(out, out + outBytes);
}
