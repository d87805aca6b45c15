import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { StudioError } from '../../../shared/errors';
import sharp, { type Metadata } from 'sharp';
import type { ImageRepository, ImageSource } from '../store/images';
import type { BlobRecord } from '../store/staging';

/**
 * The most pixels an image may have: Pillow's decompression-bomb limit (2 x
 * Image.MAX_IMAGE_PIXELS), above which the Pillow that PickScore's own preprocessing runs on
 * refuses to open an image. Decoded, such an image is already over 500 MB of RGB.
 */
export const MAX_IMAGE_PIXELS = 178_956_970;

const count = new Intl.NumberFormat('en-US');

/** Why an image of this size is refused, or null when it is within the limit. */
export function oversizeProblem(width: number, height: number): string | null {
  if (width * height <= MAX_IMAGE_PIXELS) return null;
  return (
    `${width} x ${height} pixels (${count.format(width * height)}) is over the limit of ` +
    `${count.format(MAX_IMAGE_PIXELS)} pixels (Pillow's, which PickScore's preprocessing uses); ` +
    'downscale it'
  );
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The formats the annotators' page shows, by libvips's name, as a refusal names them. */
const SHOWN_FORMATS: Readonly<Record<string, string>> = {
  jpeg: 'JPEG',
  png: 'PNG',
  webp: 'WebP',
  gif: 'GIF',
  avif: 'AVIF',
};

/**
 * The image's format, when the page can show it. libvips decodes more (SVG, TIFF, HEIC, JPEG
 * 2000...), but an image the browser cannot show cannot be labeled, and an SVG is a document
 * drawn at whatever size its reader picks, so annotators and the model would not judge the same
 * pixels. libvips names AVIF after its container, HEIF.
 */
function shownFormat(metadata: Metadata): string {
  const format =
    metadata.format === 'heif' && metadata.compression === 'av1' ? 'avif' : metadata.format;
  if (Object.hasOwn(SHOWN_FORMATS, format)) return format;
  const name = metadata.format === 'heif' ? 'HEIC' : metadata.format.toUpperCase();
  const shown = Object.values(SHOWN_FORMATS);
  throw new Error(
    `${name} image, which the studio cannot show: it shows ${shown.slice(0, -1).join(', ')} ` +
      `and ${shown.at(-1)!} only; convert it to one of those`,
  );
}

/**
 * Checks that bytes are a whole image and reads its format and size, without decoding the
 * pixels: the header must parse, and the file must end where its format says it ends (a JPEG
 * cut short has no end-of-image marker, a PNG no IEND chunk). Throws with the reason.
 */
export async function inspectImage(bytes: Uint8Array): Promise<BlobRecord> {
  if (bytes.length === 0) throw new Error('empty image');
  let metadata: Metadata;
  try {
    // The header only: the size is checked below, with a message that says what it is.
    metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    // libvips repeats its complaint once per attempt; the first line says it all.
    const reason = (error as Error).message.split('\n')[0];
    throw new Error(`not a decodable image (${reason})`, { cause: error });
  }
  const format = shownFormat(metadata);
  if (!metadata.width || !metadata.height) throw new Error(`${format} image without a size`);
  const oversize = oversizeProblem(metadata.width, metadata.height);
  if (oversize) throw new Error(oversize);
  if (format === 'jpeg' && !endsWithJpegEnd(bytes)) {
    throw new Error('truncated JPEG (no end-of-image marker)');
  }
  if (format === 'png' && !endsWithPngEnd(bytes)) {
    throw new Error('truncated PNG (no IEND chunk)');
  }
  return {
    sha256: sha256Hex(bytes),
    bytes,
    format,
    width: metadata.width,
    height: metadata.height,
  };
}

function endsWithJpegEnd(bytes: Uint8Array): boolean {
  // Encoders may pad after EOI, so look for FFD9 in the last few bytes rather than at the very end.
  for (let i = bytes.length - 2; i >= Math.max(0, bytes.length - 64); i--) {
    if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) return true;
  }
  return false;
}

function endsWithPngEnd(bytes: Uint8Array): boolean {
  const tail = Buffer.from(bytes.subarray(Math.max(0, bytes.length - 12)));
  return tail.includes('IEND', 0, 'latin1');
}

export interface ImageBytes {
  bytes: Uint8Array;
  mime: string;
}

const MIME_BY_FORMAT: Record<string, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  avif: 'image/avif',
  tiff: 'image/tiff',
};

/** The format named by a file's first bytes, for files the project only knows by path. */
function sniffFormat(bytes: Uint8Array): string | null {
  const ascii = (start: number, end: number): string =>
    String.fromCharCode(...bytes.subarray(start, end));
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'jpeg';
  if (ascii(1, 4) === 'PNG') return 'png';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (ascii(0, 4) === 'GIF8') return 'gif';
  if (ascii(4, 12) === 'ftypavif' || ascii(4, 12) === 'ftypavis') return 'avif';
  return null;
}

/**
 * An image's bytes from where the project keeps them: stored in the project, or the file it was
 * imported from (`format` null: only the bytes can tell). Null when it has neither (a Parquet row
 * with only a url).
 */
export async function imageBytes(
  uid: string,
  source: ImageSource,
): Promise<{ bytes: Uint8Array; format: string | null } | null> {
  if (source.bytes) return { bytes: source.bytes, format: source.format };
  if (!source.path) return null;
  try {
    return { bytes: await fs.promises.readFile(source.path), format: null };
  } catch (error) {
    throw new StudioError(
      'not_found',
      `image ${uid}: cannot read ${source.path} (${(error as Error).message})`,
    );
  }
}

/**
 * An image's bytes by uid, for the doors' image routes. The uid is looked up in the project,
 * never turned into a path, so a request can reach no other file.
 */
export async function readImage(images: ImageRepository, uid: string): Promise<ImageBytes> {
  const source = images.sourceOf(uid);
  if (!source) throw new StudioError('not_found', `no image ${uid} in this project`);
  const found = await imageBytes(uid, source);
  if (!found) {
    throw new StudioError(
      'not_found',
      `image ${uid}: the project has neither its bytes nor its file`,
    );
  }
  const format = found.format ?? sniffFormat(found.bytes);
  return {
    bytes: format === 'jpeg' ? withoutExifOrientation(found.bytes) : found.bytes,
    mime: MIME_BY_FORMAT[format ?? ''] ?? 'application/octet-stream',
  };
}

/** EXIF's Orientation tag, and its value for pixels shown as they are stored. */
const ORIENTATION_TAG = 0x0112;
const AS_STORED = 1;
const SHORT = 3;

/**
 * A JPEG whose EXIF orientation, where it says to turn the image, says "as stored" instead.
 * Browsers turn a JPEG as its orientation says; PickScore's preprocessing (PIL's Image.open,
 * without exif_transpose) and ours do not, so annotators would judge a picture turned otherwise
 * than the one the model scores. Only that value changes, in a copy: the pixels stay the bytes the
 * model decodes, with no re-encoding. Anything unexpected leaves the bytes as they are.
 */
export function withoutExifOrientation(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const turned = exifOrientations(view).filter(
    ({ offset, little }) => view.getUint16(offset, little) !== AS_STORED,
  );
  if (turned.length === 0) return bytes;
  const copy = Uint8Array.from(bytes);
  const copyView = new DataView(copy.buffer);
  for (const { offset, little } of turned) copyView.setUint16(offset, AS_STORED, little);
  return copy;
}

interface OrientationValue {
  /** Where the tag's value is, in the JPEG's bytes. */
  offset: number;
  little: boolean;
}

/** The Orientation value of each EXIF segment before the image data. */
function exifOrientations(view: DataView): OrientationValue[] {
  const found: OrientationValue[] = [];
  for (const { marker, start, end } of jpegSegments(view)) {
    const isExif =
      marker === 0xe1 &&
      start + 6 <= end &&
      view.getUint32(start) === 0x45786966 && // 'Exif'
      view.getUint16(start + 4) === 0;
    const value = isExif ? tiffOrientation(view, start + 6, end) : null;
    if (value) found.push(value);
  }
  return found;
}

/**
 * A JPEG's marker segments before its image data, each with where its contents start and end.
 * Stops at the first scan, at the end of the image, or where the bytes stop making sense.
 */
function* jpegSegments(view: DataView): Generator<{ marker: number; start: number; end: number }> {
  if (view.byteLength < 4 || view.getUint16(0) !== 0xffd8) return;
  let at = 2;
  while (at + 4 <= view.byteLength && view.getUint8(at) === 0xff) {
    const marker = view.getUint8(at + 1);
    // Any number of fill bytes (FF) may come before a marker.
    if (marker === 0xff) {
      at += 1;
      continue;
    }
    // Start of scan, or end of image: no metadata segment follows.
    if (marker === 0xda || marker === 0xd9) return;
    const end = at + 2 + view.getUint16(at + 2);
    if (end > view.byteLength) return;
    yield { marker, start: at + 4, end };
    at = end;
  }
}

/** Start-of-frame markers: SOF0 to SOF15 less DHT (C4), JPG (C8) and DAC (CC). */
const isStartOfFrame = (marker: number): boolean =>
  marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;

/**
 * A JPEG's size and number of colour components, from its frame header, without decoding or
 * asking the decoder: null when the bytes are not a JPEG or the header is not where it should be
 * (the decoder then reads the file and says what is wrong with it).
 */
export function jpegFrame(
  bytes: Uint8Array,
): { width: number; height: number; components: number } | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const { marker, start, end } of jpegSegments(view)) {
    if (!isStartOfFrame(marker)) continue;
    if (start + 6 > end) return null;
    const height = view.getUint16(start + 1);
    const width = view.getUint16(start + 3);
    // A height of 0 is given later, in a DNL marker after the first scan.
    return height > 0 && width > 0 ? { width, height, components: view.getUint8(start + 5) } : null;
  }
  return null;
}

/** Where IFD0's Orientation value is in the TIFF structure from `tiff` to `end`, if anywhere. */
function tiffOrientation(view: DataView, tiff: number, end: number): OrientationValue | null {
  if (tiff + 8 > end) return null;
  const order = view.getUint16(tiff);
  if (order !== 0x4949 && order !== 0x4d4d) return null; // 'II' or 'MM'
  const little = order === 0x4949;
  if (view.getUint16(tiff + 2, little) !== 42) return null;
  const ifd = tiff + view.getUint32(tiff + 4, little);
  if (ifd + 2 > end) return null;
  const entries = view.getUint16(ifd, little);
  for (let i = 0; i < entries; i++) {
    const entry = ifd + 2 + 12 * i;
    if (entry + 12 > end) return null;
    if (view.getUint16(entry, little) !== ORIENTATION_TAG) continue;
    if (view.getUint16(entry + 2, little) !== SHORT) return null;
    return { offset: entry + 8, little };
  }
  return null;
}
