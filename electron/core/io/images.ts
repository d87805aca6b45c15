import { createHash } from 'node:crypto';
import sharp, { type Metadata } from 'sharp';
import type { BlobRecord } from '../store/project-store';

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
    metadata = await sharp(bytes).metadata();
  } catch (error) {
    // libvips repeats its complaint once per attempt; the first line says it all.
    const reason = (error as Error).message.split('\n')[0];
    throw new Error(`not a decodable image (${reason})`, { cause: error });
  }
  const format = metadata.format;
  if (!metadata.width || !metadata.height) throw new Error(`${format} image without a size`);
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

/** Bytes as Pick-a-Pic's jpg columns hold them: JPEG as is, anything else re-encoded once. */
export async function asJpegBytes(bytes: Uint8Array, format: string): Promise<Uint8Array> {
  if (format === 'jpeg') return bytes;
  return sharp(bytes).flatten({ background: '#ffffff' }).jpeg({ quality: 95 }).toBuffer();
}
