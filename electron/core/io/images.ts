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
  const format = metadata.format;
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
  return { bytes: found.bytes, mime: MIME_BY_FORMAT[format ?? ''] ?? 'application/octet-stream' };
}
