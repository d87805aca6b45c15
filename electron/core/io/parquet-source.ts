import fs from 'node:fs';
import {
  DuckDBBlobValue,
  DuckDBInstance,
  DuckDBListValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  type DuckDBConnection,
  type DuckDBValue,
} from '@duckdb/node-api';
import { StudioError } from '../../../shared/errors';
import { exactPath, sqlIdentifier } from './duckdb-sql';
import { readRowsAsBytes } from './parquet-bytes';

/** A top-level column as the file's schema declares it. */
export interface ParquetColumn {
  name: string;
  /** The physical type (BYTE_ARRAY, DOUBLE, …); absent for a group (a list, a struct). */
  type?: string;
  /** How many children a group has. */
  num_children?: number;
}

/** Rows [start, end) of some columns: one array per column, index i is row start + i. */
export interface ColumnBatch {
  start: number;
  end: number;
  columns: Record<string, unknown[]>;
}

export interface ParquetSource {
  file: string;
  numRows: number;
  /** Top-level columns by name. */
  columns: Map<string, ParquetColumn>;
  /** The file's key-value metadata (what wrote it, and what it says of itself). */
  keyValues: Map<string, string>;
  /**
   * Row ranges [start, end) to read one at a time: whole row groups, joined up to about
   * BATCH_ROWS rows and BATCH_BYTES bytes, so memory is bounded whatever the size of the file.
   */
  batches: { start: number; end: number }[];
  /**
   * Reads rows [start, end) of the named columns. Text comes as strings, except where the file
   * holds text that is not UTF-8: then the batch's text comes as bytes, for values.ts to refuse
   * naming the row.
   */
  readColumns(start: number, end: number, columns: readonly string[]): Promise<ColumnBatch>;
}

/** One query reads this many rows at most (each costs a few milliseconds to set up)... */
const BATCH_ROWS = 16 * 1024;
/** ...and row groups of this many bytes (uncompressed) at most: image columns are large. */
const BATCH_BYTES = 16 * 1024 * 1024;

const badParquet = (file: string, problem: string, cause?: unknown): StudioError =>
  new StudioError('bad_input', `${file}: ${problem}`, { cause });

/**
 * DuckDB's own words, without its error class and without any value it quotes from the file:
 * messages never carry a file's bytes.
 */
const duckReason = (error: unknown): string =>
  (error as Error).message
    .split('\n')[0]!
    .replace(/^[A-Za-z ]*Error: /, '')
    .replace(/value "(?:[^"\\]|\\.)*"/g, 'a value');

const isBadEncoding = (error: unknown): boolean =>
  /Invalid string encoding/i.test((error as Error).message);

let instance: Promise<DuckDBInstance> | null = null;

/**
 * One in-memory DuckDB for the process, on one thread: imports read one file at a time, and the
 * SQLite side, not the scan, is what an import waits on.
 */
async function connect(): Promise<DuckDBConnection> {
  instance ??= DuckDBInstance.create(':memory:', { threads: '1' });
  return (await instance).connect();
}

async function withConnection<T>(use: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
  const connection = await connect();
  try {
    return await use(connection);
  } finally {
    connection.closeSync();
  }
}

/**
 * Opens a Parquet file for reading batch by batch: only the footer is read here (by DuckDB's
 * parquet_* functions), so memory is bounded by a batch, whatever the size of the file.
 */
export async function openParquet(file: string): Promise<ParquetSource> {
  try {
    if (fs.statSync(file).size === 0) throw badParquet(file, 'empty file, not Parquet');
    fs.accessSync(file, fs.constants.R_OK);
  } catch (error) {
    if (error instanceof StudioError) throw error;
    throw badParquet(file, `cannot read: ${(error as Error).message}`, error);
  }
  const footer = await withConnection(async (connection) => {
    try {
      const rows = async (sql: string) =>
        (await connection.runAndReadAll(sql, [exactPath(file)])).getRowObjectsJS();
      return {
        schema: await rows('SELECT name, type, num_children FROM parquet_schema($1)'),
        groups: await rows(
          `SELECT row_group_id AS id, any_value(row_group_num_rows) AS rows,
             any_value(row_group_bytes) AS bytes
           FROM parquet_metadata($1) GROUP BY row_group_id ORDER BY row_group_id`,
        ),
        numRows: (await rows('SELECT num_rows FROM parquet_file_metadata($1)'))[0]?.num_rows,
        keyValues: await rows('SELECT key, value FROM parquet_kv_metadata($1)'),
      };
    } catch (error) {
      throw badParquet(
        file,
        `not a readable Parquet file (truncated or corrupt footer: ${duckReason(error)})`,
        error,
      );
    }
  });

  const columns = topLevelColumns(footer.schema);
  const text = new TextDecoder();
  const source: ParquetSource = {
    file,
    numRows: Number(footer.numRows ?? 0),
    columns,
    keyValues: new Map(
      footer.keyValues.map((kv) => [
        text.decode(kv.key as Uint8Array),
        kv.value === null ? '' : text.decode(kv.value as Uint8Array),
      ]),
    ),
    batches: batchesOf(
      footer.groups.map((g) => ({ rows: Number(g.rows), bytes: Number(g.bytes) })),
    ),
    async readColumns(start, end, names) {
      try {
        return await readWithDuckDB(file, start, end, names);
      } catch (error) {
        // DuckDB refuses a UTF8 column holding other bytes without saying which row; the bytes
        // reader gives them as they are, so the import names the row and column as it should.
        if (!isBadEncoding(error)) {
          throw badParquet(
            file,
            `rows ${start + 1}-${end}: corrupt data (${duckReason(error)})`,
            error,
          );
        }
        try {
          return { start, end, columns: await readRowsAsBytes(file, start, end, names) };
        } catch (fallbackError) {
          throw badParquet(
            file,
            `rows ${start + 1}-${end}: corrupt data (${duckReason(fallbackError)})`,
            fallbackError,
          );
        }
      }
    },
  };
  return source;
}

/** The schema's direct children of the root: a flat table's columns; nested subtrees skipped. */
function topLevelColumns(schema: Record<string, unknown>[]): Map<string, ParquetColumn> {
  const columns = new Map<string, ParquetColumn>();
  const [root, ...elements] = schema;
  let index = 0;
  for (let child = 0; child < Number(root?.num_children ?? 0) && index < elements.length; child++) {
    const element = elements[index]!;
    const children = element.num_children === null ? 0 : Number(element.num_children);
    columns.set(String(element.name), {
      name: String(element.name),
      ...(element.type === null ? {} : { type: String(element.type) }),
      ...(children > 0 ? { num_children: children } : {}),
    });
    index += 1 + countDescendants(elements, index);
  }
  return columns;
}

function countDescendants(elements: Record<string, unknown>[], index: number): number {
  let count = 0;
  let pending = Number(elements[index]?.num_children ?? 0);
  let cursor = index + 1;
  while (pending > 0 && cursor < elements.length) {
    pending += Number(elements[cursor]!.num_children ?? 0) - 1;
    count++;
    cursor++;
  }
  return count;
}

/** Consecutive row groups joined into batches under BATCH_ROWS and BATCH_BYTES. */
function batchesOf(groups: { rows: number; bytes: number }[]): { start: number; end: number }[] {
  const batches: { start: number; end: number }[] = [];
  let start = 0;
  let end = 0;
  let bytes = 0;
  for (const group of groups) {
    if (
      end > start &&
      (end - start + group.rows > BATCH_ROWS || bytes + group.bytes > BATCH_BYTES)
    ) {
      batches.push({ start, end });
      start = end;
      bytes = 0;
    }
    end += group.rows;
    bytes += group.bytes;
  }
  if (end > start) batches.push({ start, end });
  return batches;
}

async function readWithDuckDB(
  file: string,
  start: number,
  end: number,
  names: readonly string[],
): Promise<ColumnBatch> {
  const columns: Record<string, unknown[]> = Object.fromEntries(names.map((n) => [n, []]));
  await withConnection(async (connection) => {
    // file_row_number lets DuckDB skip the row groups outside the batch; on one thread, rows
    // come in file order.
    const result = await connection.stream(
      `SELECT ${names.map(sqlIdentifier).join(', ')} FROM read_parquet($1, file_row_number = true)
       WHERE file_row_number >= $2 AND file_row_number < $3`,
      [exactPath(file), BigInt(start), BigInt(end)],
    );
    for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; ) {
      names.forEach((name, i) => {
        const target = columns[name]!;
        for (const value of chunk!.getColumnValues(i)) target.push(plain(value));
      });
      chunk = await result.fetchChunk();
    }
  });
  const read = columns[names[0]!]?.length ?? end - start;
  if (read !== end - start) {
    throw new Error(`${read} rows where the footer says ${end - start}`);
  }
  return { start, end, columns };
}

/** A DuckDB value as the plain value values.ts converts: times as milliseconds since the epoch. */
function plain(value: DuckDBValue): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof DuckDBBlobValue) return value.bytes;
  if (value instanceof DuckDBTimestampValue || value instanceof DuckDBTimestampTZValue) {
    return Number(value.micros / 1000n);
  }
  if (value instanceof DuckDBTimestampNanosecondsValue) return Number(value.nanos / 1_000_000n);
  if (value instanceof DuckDBTimestampMillisecondsValue) return Number(value.millis);
  if (value instanceof DuckDBTimestampSecondsValue) return Number(value.seconds * 1000n);
  if (value instanceof DuckDBListValue) return value.items.map(plain);
  return value;
}
