/**
 * CLIPImageProcessor (transformers, the slow PIL-based one PickScore was trained and evaluated
 * with) in plain Node: sharp decodes, a port of Pillow's bicubic resizes, and the float32
 * arithmetic is numpy's. The score is about 100 x a cosine, so "close" pixels are not enough.
 */
import os from 'node:os';
import sharp, { type Sharp } from 'sharp';
import { jpegFrame, oversizeProblem } from '../io/images';
import { resizeBicubic, type PixelWindow } from './pil-resample';

export interface ClipImageConfig {
  /** Length of the shortest edge after resizing (`size.shortest_edge`). */
  size: number;
  /** Side of the square centre crop: the model's input is [3, cropSize, cropSize]. */
  cropSize: number;
  mean: [number, number, number];
  std: [number, number, number];
  rescaleFactor: number;
}

// CLIPImageProcessor's defaults, which transformers uses for any key a config leaves out (old
// CLIPFeatureExtractor configs, such as the laion CLIP-H one PickScore ships, omit several).
const CLIP_DEFAULTS = {
  size: 224,
  crop_size: 224,
  image_mean: [0.48145466, 0.4578275, 0.40821073],
  image_std: [0.26862954, 0.26130258, 0.27577711],
  rescale_factor: 1 / 255,
};
const PIL_BICUBIC = 3;
const REQUIRED_SETTINGS: [string, unknown][] = [
  ['do_resize', true],
  ['do_center_crop', true],
  ['do_rescale', true],
  ['do_normalize', true],
  ['do_convert_rgb', true],
  ['resample', PIL_BICUBIC],
  // A legacy switch that makes CLIPImageProcessor resize to a square instead.
  ['use_square_size', false],
];

/** Throws an error about the config being read; never returns. */
type Fail = (message: string) => never;

/** Refuses a processor other than CLIP's, and settings that change its steps. */
function checkClipSteps(config: Record<string, unknown>, fail: Fail): void {
  const processorType = config.image_processor_type ?? config.feature_extractor_type;
  if (
    processorType !== undefined &&
    processorType !== 'CLIPImageProcessor' &&
    processorType !== 'CLIPFeatureExtractor'
  ) {
    fail(
      `processor type ${JSON.stringify(processorType)} is not CLIPImageProcessor, ` +
        'whose steps (PIL bicubic resize, centre crop) the scorer reproduces',
    );
  }
  for (const [key, expected] of REQUIRED_SETTINGS) {
    const value = config[key];
    if (value !== undefined && value !== expected) {
      fail(`${key} is ${JSON.stringify(value)}; CLIP's preprocessing needs ${expected}`);
    }
  }
}

function positiveInt(value: unknown, what: string, fail: Fail): number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0
    ? value
    : fail(`${what} must be a positive integer, got ${JSON.stringify(value)}`);
}

/** `size`: a number, or `{ shortest_edge }` (CLIP keeps the aspect ratio). */
function shortestEdge(config: Record<string, unknown>, fail: Fail): number {
  const sizeValue = config.size ?? CLIP_DEFAULTS.size;
  if (typeof sizeValue === 'object' && sizeValue !== null && 'shortest_edge' in sizeValue) {
    return positiveInt(sizeValue.shortest_edge, 'size.shortest_edge', fail);
  }
  if (typeof sizeValue === 'object' && sizeValue !== null) {
    return fail(
      `size ${JSON.stringify(sizeValue)} has no shortest_edge; CLIP resizes the shortest edge ` +
        'and keeps the aspect ratio',
    );
  }
  return positiveInt(sizeValue, 'size', fail);
}

/** `crop_size`: a number, or a square `{ height, width }`. */
function squareCrop(config: Record<string, unknown>, fail: Fail): number {
  const cropValue = config.crop_size ?? CLIP_DEFAULTS.crop_size;
  if (typeof cropValue === 'object' && cropValue !== null) {
    const { height, width } = cropValue as Record<string, unknown>;
    const cropSize = positiveInt(height, 'crop_size.height', fail);
    if (positiveInt(width, 'crop_size.width', fail) !== cropSize) {
      fail(`crop_size ${JSON.stringify(cropValue)} is not square`);
    }
    return cropSize;
  }
  return positiveInt(cropValue, 'crop_size', fail);
}

/** One finite number per channel (R, G, B). */
function channelTriple(value: unknown, key: string, fail: Fail): [number, number, number] {
  // transformers accepts one number for all channels as well as one per channel.
  const values = typeof value === 'number' ? [value, value, value] : value;
  if (
    !Array.isArray(values) ||
    values.length !== 3 ||
    !values.every((v) => typeof v === 'number' && Number.isFinite(v))
  ) {
    return fail(`${key} must be 3 numbers (R, G, B), got ${JSON.stringify(value)}`);
  }
  return [values[0], values[1], values[2]];
}

function positiveRescaleFactor(config: Record<string, unknown>, fail: Fail): number {
  const rescaleFactor = config.rescale_factor ?? CLIP_DEFAULTS.rescale_factor;
  if (
    typeof rescaleFactor !== 'number' ||
    !(rescaleFactor > 0) ||
    !Number.isFinite(rescaleFactor)
  ) {
    fail(`rescale_factor must be a positive number, got ${JSON.stringify(rescaleFactor)}`);
  }
  return rescaleFactor as number;
}

/** Reads a Hugging Face preprocessor_config.json; throws, naming `file`, unless it is CLIP's. */
export function parseClipImageConfig(json: unknown, file: string): ClipImageConfig {
  const fail = (message: string): never => {
    throw new Error(`${file}: ${message}`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return fail('not a JSON object');
  }
  const config = json as Record<string, unknown>;
  checkClipSteps(config, fail);
  const size = shortestEdge(config, fail);
  const cropSize = squareCrop(config, fail);
  const mean = channelTriple(config.image_mean ?? CLIP_DEFAULTS.image_mean, 'image_mean', fail);
  const std = channelTriple(config.image_std ?? CLIP_DEFAULTS.image_std, 'image_std', fail);
  if (!std.every((s) => s > 0)) fail(`image_std must be positive, got ${JSON.stringify(std)}`);
  const rescaleFactor = positiveRescaleFactor(config, fail);
  return { size, cropSize, mean, std, rescaleFactor };
}

export interface RgbImage {
  width: number;
  height: number;
  /** Interleaved 8-bit RGB, as PIL's `convert('RGB')` leaves it. */
  rgb: Uint8Array;
}

/** PNG IHDR: bit depth 16, colour type 0 (greyscale without alpha). */
function isGrey16Png(bytes: Uint8Array): boolean {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  return (
    bytes.length > 25 &&
    signature.every((b, i) => bytes[i] === b) &&
    bytes[24] === 16 &&
    bytes[25] === 0
  );
}

/** Decodes to the 8-bit RGB pixels PIL's `Image.open(...).convert('RGB')` gives. */
export async function decodeRgb(bytes: Uint8Array): Promise<RgbImage> {
  // PIL applies neither an embedded ICC profile nor the EXIF orientation. sharp applies the
  // profile unless told not to, and turns images only when asked (autoOrient), which we never do.
  // Like PIL, it should give up on broken data but not on decoder warnings. The pixel limit is
  // ours, checked below; one sharp object reads the header and then decodes, top to bottom.
  const image = sharp(bytes, {
    ignoreIcc: true,
    failOn: 'error',
    limitInputPixels: false,
    sequentialRead: true,
  });
  try {
    // Too many pixels is refused from the header, before anything is decoded: decoding first
    // would take seconds and gigabytes for an image that cannot be scored anyway.
    const { width, height, cmyk } = await header(bytes, image);
    const oversize = oversizeProblem(width, height);
    if (oversize) throw new OversizeError(`cannot decode image: ${oversize}`);

    if (isGrey16Png(bytes)) {
      // Pillow 9.4 opens these as mode I, whose convert('RGB') clips each value to 0..255 instead
      // of scaling 16 bits down to 8: most such images turn nearly white, and so must ours.
      const { data, info } = await image
        .toColourspace('grey16')
        .raw({ depth: 'ushort' })
        .toBuffer({ resolveWithObject: true });
      const grey = new Uint16Array(data.buffer, data.byteOffset, data.length / 2);
      return toRgb(grey, info.width, info.height, info.channels);
    }
    if (cmyk) {
      // Kept in CMYK, libvips hands over the ink values PIL reads; its own conversion to sRGB
      // goes through a colour profile, PIL's is plain arithmetic.
      const { data, info } = await image
        .pipelineColourspace('cmyk')
        .toColourspace('cmyk')
        .raw()
        .toBuffer({ resolveWithObject: true });
      return cmykToRgb(data, info.width, info.height, info.channels);
    }
    const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
    return toRgb(
      new Uint8Array(data.buffer, data.byteOffset, data.length),
      info.width,
      info.height,
      info.channels,
    );
  } catch (error) {
    if (error instanceof OversizeError) throw error;
    // libvips repeats its complaint once per attempt; the first line says it all.
    const reason = (error as Error).message.split('\n')[0];
    throw new Error(`cannot decode image (${reason})`, { cause: error });
  }
}

class OversizeError extends Error {}

/**
 * The size decodeRgb needs before decoding, and whether the pixels are CMYK. A JPEG's come from
 * its frame header, read here: asking sharp costs a tenth of the decode. libvips opens a
 * four-component JPEG as CMYK (Adobe's YCCK included), as PIL does.
 */
async function header(
  bytes: Uint8Array,
  image: Sharp,
): Promise<{ width: number; height: number; cmyk: boolean }> {
  const frame = jpegFrame(bytes);
  if (frame) {
    const { width, height, components } = frame;
    return { width, height, cmyk: components === 4 };
  }
  const { width = 0, height = 0, space } = await image.metadata();
  return { width, height, cmyk: space === 'cmyk' };
}

/**
 * PIL's convert('RGB'): grey is replicated, alpha is dropped (never composited), values above 255
 * clip (only mode I has any).
 */
function toRgb(
  data: Uint8Array | Uint16Array,
  width: number,
  height: number,
  channels: number,
): RgbImage {
  if (channels === 3 && data instanceof Uint8Array) return { width, height, rgb: data };
  const pixels = width * height;
  const rgb = new Uint8Array(pixels * 3);
  const colour = channels >= 3;
  for (let i = 0, s = 0, o = 0; i < pixels; i++, s += channels) {
    const r = Math.min(data[s]!, 255);
    rgb[o++] = r;
    rgb[o++] = colour ? Math.min(data[s + 1]!, 255) : r;
    rgb[o++] = colour ? Math.min(data[s + 2]!, 255) : r;
  }
  return { width, height, rgb };
}

/** Pillow's cmyk2rgb (Convert.c): each ink times (255 - K), with its MULDIV255 rounding. */
function cmykToRgb(data: Uint8Array, width: number, height: number, channels: number): RgbImage {
  const pixels = width * height;
  const rgb = new Uint8Array(pixels * 3);
  for (let i = 0, s = 0, o = 0; i < pixels; i++, s += channels) {
    const nk = 255 - data[s + 3]!;
    for (let c = 0; c < 3; c++) {
      const t = data[s + c]! * nk + 128;
      rgb[o++] = nk - (((t >> 8) + t) >> 8);
    }
  }
  return { width, height, rgb };
}

/**
 * numpy's arithmetic for one channel value v: rescale multiplies in float64 and casts to
 * float32; normalize subtracts and divides in float32. One JS double operation rounded by
 * fround is the float32 operation (doubles carry more than twice float32's precision).
 */
function normalisationTable(config: ClipImageConfig): Float32Array {
  const table = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    const mean = Math.fround(config.mean[c]!);
    const std = Math.fround(config.std[c]!);
    for (let v = 0; v < 256; v++) {
      const rescaled = Math.fround(v * config.rescaleFactor);
      table[c * 256 + v] = Math.fround(Math.fround(rescaled - mean) / std);
    }
  }
  return table;
}

/** Resize, centre crop, rescale and normalise into `out` as CHW [3, crop, crop]. */
function writePixelValues(image: RgbImage, config: ClipImageConfig, out: Float32Array): void {
  const { width, height } = image;
  const crop = config.cropSize;
  // get_resize_output_image_size(default_to_square=False): Python's int(size * long / short).
  const longEdge = Math.trunc((config.size * Math.max(width, height)) / Math.min(width, height));
  const resizedWidth = width <= height ? config.size : longEdge;
  const resizedHeight = width <= height ? longEdge : config.size;

  // center_crop: top = (h - crop) // 2, and where the image is smaller than the crop it is padded
  // with zeros, centred with ceil((crop - h) / 2) above; both come to floor((h - crop) / 2).
  const top = Math.floor((resizedHeight - crop) / 2);
  const left = Math.floor((resizedWidth - crop) / 2);
  // Only the pixels inside the crop are resized: Pillow computes each one independently.
  const window: PixelWindow = {
    left: Math.max(0, left),
    top: Math.max(0, top),
    width: Math.min(resizedWidth, left + crop) - Math.max(0, left),
    height: Math.min(resizedHeight, top + crop) - Math.max(0, top),
  };
  const pixels = resizeBicubic(image.rgb, width, height, resizedWidth, resizedHeight, window);

  const table = normalisationTable(config);
  const plane = crop * crop;
  if (window.width < crop || window.height < crop) {
    for (let c = 0; c < 3; c++) out.fill(table[c * 256]!, c * plane, (c + 1) * plane);
  }
  // One pass over the interleaved pixels, writing the three planes side by side.
  for (let y = 0, s = 0; y < window.height; y++) {
    let o = (window.top - top + y) * crop + (window.left - left);
    for (const end = o + window.width; o < end; o++, s += 3) {
      out[o] = table[pixels[s]!]!;
      out[o + plane] = table[256 + pixels[s + 1]!]!;
      out[o + 2 * plane] = table[512 + pixels[s + 2]!]!;
    }
  }
}

/** One image's pixel_values, float32 CHW [3, cropSize, cropSize], as CLIPImageProcessor makes. */
export async function preprocessImage(
  bytes: Uint8Array,
  config: ClipImageConfig,
): Promise<Float32Array> {
  const out = new Float32Array(3 * config.cropSize * config.cropSize);
  writePixelValues(await decodeRgb(bytes), config, out);
  return out;
}

// sharp decodes on libuv's pool (4 threads unless UV_THREADPOOL_SIZE says otherwise); more images
// in flight than that only holds more decoded pixels in memory.
const DEFAULT_CONCURRENCY = Math.min(4, os.availableParallelism());

/**
 * pixel_values for a batch, float32 [B, 3, cropSize, cropSize], decoding up to `concurrency`
 * images at a time. A failure names the image's index in `images`.
 */
export async function preprocessBatch(
  images: Uint8Array[],
  config: ClipImageConfig,
  options: { concurrency?: number } = {},
): Promise<Float32Array> {
  const size = 3 * config.cropSize * config.cropSize;
  const out = new Float32Array(images.length * size);
  const workers = Math.max(1, Math.min(options.concurrency ?? DEFAULT_CONCURRENCY, images.length));
  let next = 0;
  let failed = false;
  const work = async (): Promise<void> => {
    while (!failed && next < images.length) {
      const index = next++;
      try {
        const image = await decodeRgb(images[index]!);
        writePixelValues(image, config, out.subarray(index * size, (index + 1) * size));
      } catch (error) {
        failed = true;
        throw new Error(`image ${index}: ${(error as Error).message}`, { cause: error });
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, work));
  return out;
}
