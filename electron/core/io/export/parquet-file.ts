import fs from 'node:fs';
import path from 'node:path';
import type { SchemaElement } from 'hyparquet';
import { ParquetWriter, fileWriter } from 'hyparquet-writer';
import { StudioError } from '../../../../shared/errors';
import { publishDurably } from '../durable';
import { removeLeftoversOfGoneProcesses } from '../leftovers';
import { schemaElementFor, type ColumnKind } from '../pickapic-schema';

export type Row = Record<string, unknown>;
export type WriteGroup = (rows: Row[]) => void;
/** A column of a plain kind, or one given by its schema elements (a list: group, then leaves). */
export type Columns = readonly (
  | { name: string; kind: ColumnKind }
  | { name: string; schema: readonly SchemaElement[] }
)[];

/**
 * Columns whose values rarely repeat: deciding on dictionary encoding would hash every value (of
 * an image, byte by byte) to find nearly no repeats, and their min and max (statistics) help no
 * reader skip a page. Half of the writer's time on Pick-a-Pic-sized exports.
 */
const NEARLY_UNIQUE = new Set([
  'caption',
  'image_0_uid',
  'image_1_uid',
  'image_0_url',
  'image_1_url',
  'best_image_uid',
]);

/** Pairs read per page (and per read of their verdicts, by key range). */
export const PAGE_PAIRS = 5000;
export const MAX_GROUP_ROWS = 20_000;
/** Image bytes buffered before a row group is written, which bounds memory on image exports. */
const MAX_GROUP_IMAGE_BYTES = 64 * 1024 * 1024;

/**
 * Writes to a temporary name beside `out`, flushes it to disk, then renames it: a crash or a
 * failure never leaves a partial file under the real name, nor replaces an earlier export.
 */
export async function writeAtomically<T>(
  out: string,
  columns: Columns,
  produce: (writeGroup: WriteGroup) => Promise<T>,
  keyValues: Record<string, string> = {},
): Promise<T> {
  const folder = path.dirname(path.resolve(out));
  if (!fs.existsSync(folder)) {
    throw new StudioError('not_found', `${out}: the folder ${folder} does not exist`);
  }
  // The file is written beside `out` and renamed over it: over a device or a pipe (/dev/full,
  // /dev/null) that would replace it with a file, for root even in /dev.
  const existing = fs.statSync(out, { throwIfNoEntry: false });
  if (existing && !existing.isFile()) {
    throw new StudioError(
      'invalid_argument',
      `${out}: not a regular file; an export writes a new file under this name, which would replace it. Choose a file name.`,
    );
  }
  removeLeftoversOfGoneProcesses(folder, `.${path.basename(out)}.partial-`);
  const temporary = path.join(
    folder,
    `.${path.basename(out)}.partial-${process.pid}-${Date.now()}`,
  );
  const schema: SchemaElement[] = [
    { name: 'schema', num_children: columns.length },
    ...columns.flatMap((c) => ('schema' in c ? c.schema : [schemaElementFor(c.name, c.kind)])),
  ];
  try {
    const writer = new ParquetWriter({
      writer: fileWriter(temporary),
      schema,
      createdBy: 'Pick Studio (hyparquet-writer)',
      // No list at all rather than an empty one: hyparquet-writer gives an empty list an element
      // type that Arrow's reader refuses.
      kvMetadata:
        Object.keys(keyValues).length > 0
          ? Object.entries(keyValues).map(([key, value]) => ({ key, value }))
          : undefined,
    });
    const result = await produce((rows) => {
      if (rows.length === 0) return;
      writer.write({
        columnData: columns.map((c) => ({
          name: c.name,
          data: rows.map((row) => row[c.name] ?? null),
          ...(('kind' in c && c.kind === 'binary') || NEARLY_UNIQUE.has(c.name)
            ? { encoding: 'PLAIN' as const, statistics: false }
            : {}),
        })),
        rowGroupSize: rows.length,
      });
    });
    writer.finish();
    publishDurably(temporary, out);
    return result;
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    if (error instanceof StudioError) throw error;
    throw new StudioError(
      'internal',
      `${out}: export failed, nothing written (${(error as Error).message})`,
      {
        cause: error,
      },
    );
  }
}

export const bigintOrNull = (value: number | null): bigint | null =>
  value === null ? null : BigInt(value);

/** Ranking ids pass 2^53: they come as decimal text and go out as exact int64. */
export const int64 = (text: string | null): bigint | null => (text === null ? null : BigInt(text));

/** Rows gathered into row groups of at most MAX_GROUP_ROWS rows or MAX_GROUP_IMAGE_BYTES. */
export class RowGroups {
  written = 0;
  private group: Row[] = [];
  private imageBytes = 0;

  constructor(private readonly writeGroup: WriteGroup) {}

  add(row: Row, imageBytes: number): void {
    this.group.push(row);
    this.imageBytes += imageBytes;
    if (this.group.length >= MAX_GROUP_ROWS || this.imageBytes >= MAX_GROUP_IMAGE_BYTES) {
      this.flush();
    }
  }

  flush(): void {
    this.writeGroup(this.group);
    this.written += this.group.length;
    this.group = [];
    this.imageBytes = 0;
  }
}
