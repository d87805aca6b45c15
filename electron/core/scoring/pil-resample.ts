/**
 * Pillow's BICUBIC resize (src/libImaging/Resample.c, ImagingResampleInner with the 8bpc passes),
 * ported bit for bit: CLIP models were trained on pixels from `Image.resize(size, BICUBIC)`, and
 * PickScore (about 100 x a cosine) notices the 1-level differences any other cubic filter leaves.
 *
 * Every step follows the C source, including its order of floating-point operations, because the
 * fixed-point coefficients are rounded from doubles and one ulp can flip a rounded pixel.
 */

// 8 bits of result, 2 bits of headroom for the negative lobes and sums above 1, in an int32.
const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);
const BICUBIC_SUPPORT = 2.0;

interface Coefficients {
  /** Taps per output sample, the row stride of `weights`. */
  ksize: number;
  /** For output sample i: first input sample at [2i], number of taps at [2i + 1]. */
  bounds: Int32Array;
  /** Fixed-point weights, ksize per output sample. */
  weights: Int32Array;
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

/** Output columns [x0, x1) of source rows [firstRow, firstRow + rows). */
function horizontalPass(
  src: Uint8Array,
  srcWidth: number,
  firstRow: number,
  rows: number,
  c: Coefficients,
  x0: number,
  x1: number,
): Uint8Array {
  const outStride = (x1 - x0) * 3;
  const out = new Uint8Array(outStride * rows);
  // Pillow's clip8 is `sum >> PRECISION_BITS` clamped to 0..255: a clamped store does the clamp.
  const clamped = new Uint8ClampedArray(out.buffer);
  const { ksize, bounds, weights } = c;
  const srcStride = srcWidth * 3;
  for (let yy = 0; yy < rows; yy++) {
    const srcRow = (yy + firstRow) * srcStride;
    let o = yy * outStride;
    for (let xx = x0; xx < x1; xx++) {
      const taps = bounds[xx * 2 + 1]!;
      const kRow = xx * ksize;
      let s0 = HALF;
      let s1 = HALF;
      let s2 = HALF;
      let p = srcRow + bounds[xx * 2]! * 3;
      for (let x = 0; x < taps; x++) {
        const w = weights[kRow + x]!;
        s0 += src[p]! * w;
        s1 += src[p + 1]! * w;
        s2 += src[p + 2]! * w;
        p += 3;
      }
      clamped[o++] = s0 >> PRECISION_BITS;
      clamped[o++] = s1 >> PRECISION_BITS;
      clamped[o++] = s2 >> PRECISION_BITS;
    }
  }
  return out;
}

/**
 * Output rows [y0, y1) of columns [x0, x0 + columns) of `src`, an image `srcWidth` wide whose
 * first row is row `firstRow` of the image the coefficients index.
 */
function verticalPass(
  src: Uint8Array,
  srcWidth: number,
  firstRow: number,
  c: Coefficients,
  y0: number,
  y1: number,
  x0: number,
  columns: number,
): Uint8Array {
  const srcStride = srcWidth * 3;
  const outStride = columns * 3;
  const out = new Uint8Array(outStride * (y1 - y0));
  const clamped = new Uint8ClampedArray(out.buffer);
  const { ksize, bounds, weights } = c;
  for (let yy = y0; yy < y1; yy++) {
    const start = (bounds[yy * 2]! - firstRow) * srcStride + x0 * 3;
    const taps = bounds[yy * 2 + 1]!;
    const kRow = yy * ksize;
    const o = (yy - y0) * outStride;
    // Channels need no separate handling here: each byte of a row is filtered on its own.
    for (let i = 0; i < outStride; i++) {
      let s = HALF;
      let p = start + i;
      for (let y = 0; y < taps; y++) {
        s += src[p]! * weights[kRow + y]!;
        p += srcStride;
      }
      clamped[o + i] = s >> PRECISION_BITS;
    }
  }
  return out;
}

/** A rectangle of the resized image, in its pixels. */
export interface PixelWindow {
  left: number;
  top: number;
  width: number;
  height: number;
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
  const x0 = window.left;
  const y0 = window.top;
  const x1 = x0 + window.width;
  const y1 = y0 + window.height;
  if (
    ![x0, y0, x1, y1].every(Number.isInteger) ||
    x0 < 0 ||
    y0 < 0 ||
    x1 <= x0 ||
    y1 <= y0 ||
    x1 > newWidth ||
    y1 > newHeight
  ) {
    throw new RangeError(
      `resizeBicubic: window ${JSON.stringify(window)} is not inside ${newWidth} x ${newHeight}`,
    );
  }

  const needHorizontal = newWidth !== width;
  const needVertical = newHeight !== height;
  if (!needHorizontal && !needVertical) {
    const out = new Uint8Array(window.width * window.height * 3);
    for (let y = y0; y < y1; y++) {
      out.set(
        rgb.subarray((y * width + x0) * 3, (y * width + x1) * 3),
        (y - y0) * window.width * 3,
      );
    }
    return out;
  }
  if (!needHorizontal) {
    return verticalPass(rgb, width, 0, coefficients(height, newHeight), y0, y1, x0, window.width);
  }
  const horizontal = coefficients(width, newWidth);
  if (!needVertical) return horizontalPass(rgb, width, y0, y1 - y0, horizontal, x0, x1);

  const vertical = coefficients(height, newHeight);
  // Source rows [firstRow, lastRow) are all the vertical pass reads for output rows [y0, y1).
  const firstRow = vertical.bounds[y0 * 2]!;
  const lastRow = vertical.bounds[(y1 - 1) * 2]! + vertical.bounds[(y1 - 1) * 2 + 1]!;
  const temp = horizontalPass(rgb, width, firstRow, lastRow - firstRow, horizontal, x0, x1);
  return verticalPass(temp, window.width, firstRow, vertical, y0, y1, 0, window.width);
}
