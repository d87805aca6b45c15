import sharp from 'sharp';
import type { ImageRepository } from '../../store/images';
import { decodeRgb } from '../../scoring/preprocess';
import { imageBytes } from '../images';
import type { Value } from './parquet-file';

/** What goes into jpg_0/jpg_1: nothing, the project's bytes as they are, or JPEG. */
export type ImagesMode = 'none' | 'as-is' | 'jpeg';

export const imagesMode = (options: { images: boolean; jpeg?: boolean }): ImagesMode =>
  !options.images ? 'none' : options.jpeg ? 'jpeg' : 'as-is';

/**
 * An image that is not a JPEG, as one (--jpeg): the pixels PIL's convert('RGB') gives (alpha
 * dropped, not composited; grey replicated), encoded once at quality 95. decodeRgb refuses an
 * image over Pillow's pixel limit from its header, before decoding it.
 */
async function reencodedAsJpeg(bytes: Uint8Array): Promise<Uint8Array> {
  const { width, height, rgb } = await decodeRgb(bytes);
  return sharp(rgb, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 95 })
    .toBuffer();
}

/**
 * An image for a jpg column: the bytes the project has (stored, or its file as read), unchanged,
 * or with --jpeg re-encoded when they are not a JPEG. Null when the project has no bytes for it.
 */
export async function imageOf(
  images: ImageRepository,
  uid: string,
  readable: number,
  mode: ImagesMode,
): Promise<Uint8Array | null> {
  // Most of a project imported without images has none: no lookup for those.
  if (!readable) return null;
  const source = images.sourceOf(uid);
  const found = source && (await imageBytes(uid, source));
  if (!found) return null;
  if (mode === 'as-is') return found.bytes;
  // A file's format is in its bytes; a JPEG goes out as it is.
  const format =
    found.format ?? (found.bytes[0] === 0xff && found.bytes[1] === 0xd8 ? 'jpeg' : null);
  if (format === 'jpeg') return found.bytes;
  try {
    return await reencodedAsJpeg(found.bytes);
  } catch (error) {
    // A plain Error: the export's message adds its file and that nothing was written.
    const file = source.path ? ` (${source.path})` : '';
    throw new Error(`image ${uid}${file}, re-encoding as JPEG: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * Pushes the row's jpg_0 and jpg_1 onto their columns (nothing without images); returns their
 * size, which bounds what is gathered before it goes to the writer.
 */
export async function addImages(
  columns: { jpg_0: Value[]; jpg_1: Value[] },
  images: ImageRepository,
  pair: { uid0: string; readable0: number; uid1: string; readable1: number },
  mode: ImagesMode,
): Promise<number> {
  if (mode === 'none') return 0;
  const [jpg0, jpg1] = await Promise.all([
    imageOf(images, pair.uid0, pair.readable0, mode),
    imageOf(images, pair.uid1, pair.readable1, mode),
  ]);
  columns.jpg_0.push(jpg0);
  columns.jpg_1.push(jpg1);
  return (jpg0?.length ?? 0) + (jpg1?.length ?? 0);
}
