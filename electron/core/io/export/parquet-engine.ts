/**
 * DuckDB as the export's Parquet writer: its types for the export's kinds, and a table function
 * through which COPY reads batches of rows chunk by chunk, converting each value as it goes, with
 * no table of DuckDB's own in between (appending the rows to one first, and COPY scanning it,
 * made the writer 1.7x slower). Used on the export's thread (parquet-file.ts) and in its worker
 * (parquet-worker.ts).
 */
import path from 'node:path';
import {
  BIGINT,
  BLOB,
  BOOLEAN,
  DOUBLE,
  DuckDBBlobValue,
  type DuckDBConnection,
  type DuckDBDataChunk,
  DuckDBInstance,
  DuckDBTableFunction,
  DuckDBTimestampValue,
  FLOAT,
  LIST,
  listValue,
  TIMESTAMP,
  VARCHAR,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import type { ColumnBatch, Columns, ExportKind, Value } from './parquet-file';

/** Rows as the producer handed them, waiting for COPY to read them. */
export interface HeldBatch {
  batch: ColumnBatch;
  rows: number;
}

/** Rows per data chunk: DuckDB's vector size, the most a chunk holds. */
export const VECTOR_SIZE = 2048;

/** A bound on the engine's memory: it holds the row group it is writing, and a merge's reads. */
const MEMORY_LIMIT = '256MB';

const DUCK_TYPES: Record<ExportKind, DuckDBType> = {
  bool: BOOLEAN,
  string: VARCHAR,
  binary: BLOB,
  float64: DOUBLE,
  int64: BIGINT,
  timestamp: TIMESTAMP,
  'list<float32>': LIST(FLOAT),
};

/** A value as the engine's vector of that kind takes it. */
const TO_DUCK: Record<ExportKind, (value: NonNullable<Value>) => DuckDBValue> = {
  bool: (v) => v as boolean,
  string: (v) => v as string,
  float64: (v) => v as number,
  int64: (v) => (typeof v === 'bigint' ? v : BigInt(v as number)),
  binary: (v) => new DuckDBBlobValue(v as Uint8Array),
  // Milliseconds to microseconds in a double stays exact up to the year 2255.
  timestamp: (v) => new DuckDBTimestampValue(BigInt(Math.round((v as number) * 1000))),
  'list<float32>': (v) => listValue(Array.from(v as ArrayLike<number>)),
};

export interface Engine {
  connection: DuckDBConnection;
  close(): void;
}

/** An in-memory DuckDB on one thread, spilling into `spill` past its memory limit. */
export async function openEngine(spill: string): Promise<Engine> {
  const instance = await DuckDBInstance.create(':memory:', {
    memory_limit: MEMORY_LIMIT,
    threads: '1',
    temp_directory: spill,
    // Nothing but the rows handed to it is read, so nothing is ever loaded.
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  try {
    const connection = await instance.connect();
    return {
      connection,
      close() {
        connection.closeSync();
        instance.closeSync();
      },
    };
  } catch (error) {
    instance.closeSync();
    throw error;
  }
}

/** The spill folder of an export whose parts and spill files live in `parts`. */
export const spillFolder = (parts: string): string => path.join(parts, 'spill');

/** Rows [start, end) of the batch into the chunk, column by column. */
function fillChunk(
  chunk: DuckDBDataChunk,
  columns: Columns,
  batch: ColumnBatch,
  start: number,
  end: number,
): void {
  chunk.rowCount = end - start;
  columns.forEach((c, i) => {
    const values = batch[c.name];
    const convert = TO_DUCK[c.kind];
    const out: DuckDBValue[] = new Array(end - start);
    for (let row = start; row < end; row++) {
      const value = values?.[row] ?? null;
      out[row - start] = value === null ? null : convert(value);
    }
    chunk.setColumnValues(i, out);
  });
}

/**
 * The table function `name()`: the rows of the batches that `start()` gives, one at each call of
 * its result and null after the last, in order, typed as the columns. Each scan (a COPY reading
 * it) calls `start` once. A chunk never spans two batches.
 */
export function batchesFunction(
  name: string,
  columns: Columns,
  start: () => () => HeldBatch | null,
): DuckDBTableFunction {
  let next: () => HeldBatch | null = () => null;
  let current: HeldBatch | null = null;
  let row = 0;
  let ended = false;
  return DuckDBTableFunction.create({
    name,
    bindFunction: (bind) => {
      for (const c of columns) bind.addResultColumn(c.name, DUCK_TYPES[c.kind]);
    },
    initFunction: () => {
      next = start();
      current = null;
      row = 0;
      ended = false;
    },
    mainFunction: (_info, chunk) => {
      while (!ended && (current === null || row === current.rows)) {
        current = next();
        row = 0;
        ended = current === null;
      }
      if (ended || current === null) {
        chunk.rowCount = 0;
        return;
      }
      const end = Math.min(current.rows, row + VECTOR_SIZE);
      fillChunk(chunk, columns, current.batch, row, end);
      row = end;
    },
  });
}

/**
 * COPY's Parquet options for row groups of at most `groupRows` rows: DuckDB closes a group at the
 * first chunk (up to VECTOR_SIZE rows) that reaches the size asked.
 */
export const copyOptions = (groupRows: number, compression: string, kvOption: string): string =>
  `(FORMAT parquet, COMPRESSION ${compression}, ROW_GROUP_SIZE ${Math.max(1, groupRows - VECTOR_SIZE + 1)}${kvOption})`;
