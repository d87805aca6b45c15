import sharp from 'sharp';
import type { ExportPair } from '../../store/export-reads';
import type { ImageRepository, ImageSource } from '../../store/images';
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
async function imageOf(
  uid: string,
  source: ImageSource | undefined,
  mode: ImagesMode,
): Promise<Uint8Array | null> {
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

/** A row's two images, in the row's order; an id only where the project has something to read. */
type RowImages = Pick<ExportPair, 'uid0' | 'readable0' | 'uid1' | 'readable1'>;

/** Pairs whose images one statement reads: their bytes are held until the run's rows are out. */
const PAIRS_PER_READ = 32;

/**
 * The jpg columns of an export's rows, a page of pairs at a time. The images of PAIRS_PER_READ
 * pairs are read in one statement, when the first row of that run asks.
 */
export class ExportImages {
  private page: readonly ExportPair[] = [];
  private runOf = new Map<number, number>();
  private run = -1;
  private sources = new Map<number, ImageSource>();

  constructor(
    private readonly images: ImageRepository,
    private readonly mode: ImagesMode,
  ) {}

  /** The page whose rows come next, in its order. */
  startPage(page: readonly ExportPair[]): void {
    if (this.mode === 'none') return;
    this.page = page;
    this.runOf = new Map(page.map((pair, index) => [pair.id, Math.floor(index / PAIRS_PER_READ)]));
    this.run = -1;
  }

  /**
   * Pushes a row's jpg_0 and jpg_1 (nothing without images): the images of the page's pair
   * `pairId`, in the row's order. Returns their size, which bounds what is gathered before it
   * goes to the writer: at once where there is nothing to read (no jpg columns, or a pair the
   * project has no bytes for, as every pair of a project imported without images), so that most
   * rows of most exports cost no promise.
   */
  add(
    columns: { jpg_0: Value[]; jpg_1: Value[] },
    pairId: number,
    row: RowImages,
  ): number | Promise<number> {
    if (this.mode === 'none') return 0;
    if (row.readable0 === null && row.readable1 === null) {
      columns.jpg_0.push(null);
      columns.jpg_1.push(null);
      return 0;
    }
    return this.read(columns, pairId, row);
  }

  private async read(
    columns: { jpg_0: Value[]; jpg_1: Value[] },
    pairId: number,
    row: RowImages,
  ): Promise<number> {
    const run = this.runOf.get(pairId)!;
    if (run !== this.run) {
      this.run = run;
      const ids = this.page
        .slice(run * PAIRS_PER_READ, (run + 1) * PAIRS_PER_READ)
        .flatMap((pair) => [pair.readable0, pair.readable1])
        .filter((id) => id !== null);
      this.sources = this.images.sourcesOf(ids);
    }
    const source = (id: number | null): ImageSource | undefined =>
      id === null ? undefined : this.sources.get(id);
    const [jpg0, jpg1] = await Promise.all([
      imageOf(row.uid0, source(row.readable0), this.mode),
      imageOf(row.uid1, source(row.readable1), this.mode),
    ]);
    columns.jpg_0.push(jpg0);
    columns.jpg_1.push(jpg1);
    return (jpg0?.length ?? 0) + (jpg1?.length ?? 0);
  }
}
