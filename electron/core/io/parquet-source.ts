import fs from 'node:fs';
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead } from 'hyparquet';
import type { AsyncBuffer, FileMetaData, SchemaElement } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { StudioError } from '../../../shared/errors';

export interface ParquetSource {
  file: string;
  numRows: number;
  /** Top-level columns by name. */
  columns: Map<string, SchemaElement>;
  /** The file's key-value metadata (what wrote it, and what it says of itself). */
  keyValues: Map<string, string>;
  /** Row ranges [start, end) of each row group, in file order. */
  rowGroups: { start: number; end: number }[];
  /** Reads rows [start, end) of the named columns as objects. */
  readRows(start: number, end: number, columns: string[]): Promise<Record<string, unknown>[]>;
}

const badParquet = (file: string, problem: string, cause?: unknown): StudioError =>
  new StudioError('bad_input', `${file}: ${problem}`, { cause });

/**
 * Opens a Parquet file for reading row group by row group: only the footer is read here, so
 * memory is bounded by the largest row group, whatever the size of the file.
 */
export async function openParquet(file: string): Promise<ParquetSource> {
  let buffer: AsyncBuffer;
  try {
    if (fs.statSync(file).size === 0) throw badParquet(file, 'empty file, not Parquet');
    buffer = await asyncBufferFromFile(file);
  } catch (error) {
    if (error instanceof StudioError) throw error;
    throw badParquet(file, `cannot read: ${(error as Error).message}`, error);
  }
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(buffer);
  } catch (error) {
    throw badParquet(
      file,
      `not a readable Parquet file (truncated or corrupt footer: ${(error as Error).message})`,
      error,
    );
  }

  const columns = new Map<string, SchemaElement>();
  const [root, ...elements] = metadata.schema;
  let index = 0;
  // Only direct children of the root are columns of a flat table; skip nested subtrees.
  for (let child = 0; child < (root?.num_children ?? 0) && index < elements.length; child++) {
    const element = elements[index]!;
    columns.set(element.name, element);
    index += 1 + countDescendants(elements, index);
  }

  const rowGroups: { start: number; end: number }[] = [];
  let start = 0;
  for (const group of metadata.row_groups) {
    const end = start + Number(group.num_rows);
    rowGroups.push({ start, end });
    start = end;
  }

  return {
    file,
    numRows: Number(metadata.num_rows),
    columns,
    keyValues: new Map((metadata.key_value_metadata ?? []).map((kv) => [kv.key, kv.value ?? ''])),
    rowGroups,
    async readRows(rowStart, rowEnd, names) {
      try {
        return await new Promise<Record<string, unknown>[]>((resolve, reject) => {
          parquetRead({
            file: buffer,
            metadata,
            columns: names,
            rowStart,
            rowEnd,
            rowFormat: 'object',
            utf8: false,
            // Text comes as its bytes, for values.ts to decode: hyparquet's own decoding turns
            // bytes that are not UTF-8 into U+FFFD, leaving nothing to refuse.
            parsers: { stringFromBytes: (bytes: Uint8Array) => bytes as unknown as string },
            compressors,
            onComplete: resolve,
          }).catch(reject);
        });
      } catch (error) {
        throw badParquet(
          file,
          `rows ${rowStart + 1}-${rowEnd}: corrupt data (${(error as Error).message})`,
          error,
        );
      }
    },
  };
}

function countDescendants(elements: SchemaElement[], index: number): number {
  let count = 0;
  let pending = elements[index]?.num_children ?? 0;
  let cursor = index + 1;
  while (pending > 0 && cursor < elements.length) {
    const element = elements[cursor]!;
    pending += (element.num_children ?? 0) - 1;
    count++;
    cursor++;
  }
  return count;
}
