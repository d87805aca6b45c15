import { asyncBufferFromFile, parquetMetadataAsync, parquetRead } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';

/**
 * Rows [start, end) of the named columns with text as its bytes, undecoded. Only for a batch
 * DuckDB refused for text that is not UTF-8: DuckDB says so without naming the row, and
 * hyparquet's own decoding would turn those bytes into U+FFFD, leaving nothing to refuse.
 */
export async function readRowsAsBytes(
  file: string,
  start: number,
  end: number,
  names: readonly string[],
): Promise<Record<string, unknown[]>> {
  const buffer = await asyncBufferFromFile(file);
  const metadata = await parquetMetadataAsync(buffer);
  const rows = await new Promise<Record<string, unknown>[]>((resolve, reject) => {
    parquetRead({
      file: buffer,
      metadata,
      columns: [...names],
      rowStart: start,
      rowEnd: end,
      rowFormat: 'object',
      utf8: false,
      parsers: { stringFromBytes: (bytes: Uint8Array) => bytes as unknown as string },
      compressors,
      onComplete: resolve,
    }).catch(reject);
  });
  return Object.fromEntries(names.map((name) => [name, rows.map((row) => row[name])]));
}
