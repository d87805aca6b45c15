import fs from 'node:fs';
import path from 'node:path';
import util from 'node:util';
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
import { StudioError } from '../../../../shared/errors';
import { exactPath, sqlString } from '../duckdb-sql';
import { publishDurably } from '../durable';
import { removeLeftoversOfGoneProcesses } from '../leftovers';
import type { ColumnKind } from '../pickapic-schema';

/** Pick-a-Pic's kinds, and the embeddings' vectors. */
export type ExportKind = ColumnKind | 'list<float32>';
export type Columns = readonly { name: string; kind: ExportKind }[];

/**
 * A column's values as the writer takes them: bool boolean, string string, binary Uint8Array,
 * float64 number, int64 bigint or a safe integer, timestamp milliseconds since the epoch (written
 * as microseconds, not adjusted to UTC), list<float32> a Float32Array or numbers.
 */
export type Value = boolean | string | number | bigint | Uint8Array | Float32Array | null;
/**
 * Rows column by column, each array as long as the batch; a column left out is null throughout.
 * No object per row: an export's rows go to the engine a column at a time.
 */
export type ColumnBatch = Readonly<Partial<Record<string, readonly Value[]>>>;
export type WriteBatch = (batch: ColumnBatch, rows: number) => Promise<void>;

/** Pairs read per page (and per read of their verdicts, by key range). */
export const PAGE_PAIRS = 5000;
export const MAX_GROUP_ROWS = 20_000;
/** Image bytes gathered before they go to the engine, which bounds memory on image exports. */
export const MAX_BATCH_IMAGE_BYTES = 32 * 1024 * 1024;
/** A bound on the engine's memory: it holds the row group it is writing, and a merge's reads. */
const MEMORY_LIMIT = '256MB';
/**
 * Rows without images held before they go to a part. At 1,000,000 pairs the export's peak RSS
 * was 1,231 MB with 500,000 rows per part, 875 MB with 100,000 (bench:scale), at the same speed.
 */
const PART_ROWS = 100_000;

const DUCK_TYPES: Record<ExportKind, DuckDBType> = {
  bool: BOOLEAN,
  string: VARCHAR,
  binary: BLOB,
  float64: DOUBLE,
  int64: BIGINT,
  timestamp: TIMESTAMP,
  'list<float32>': LIST(FLOAT),
};

/** Rows per data chunk: DuckDB's vector size, the most a chunk holds. */
const VECTOR_SIZE = 2048;

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

/** Bytes a value holds outside the row: an image's, a vector's. */
const bigBytes = (value: Value): number =>
  value instanceof Uint8Array ? value.length : value instanceof Float32Array ? value.byteLength : 0;

/** A batch handed to the writer and kept until its part is written. */
interface HeldBatch {
  batch: ColumnBatch;
  rows: number;
}

/**
 * Rows written by DuckDB's Parquet writer, read by it from the batches held here through a table
 * function: COPY scans them chunk by chunk, converting each value as it goes, with no table of
 * DuckDB's own in between (appending them to one first, and COPY scanning it, made the writer
 * 1.7x slower). Once the rows held carry MAX_BATCH_IMAGE_BYTES of images or vectors (or
 * PART_ROWS rows) they go out as a Parquet part file into a folder beside the export, and the
 * parts are read back in order into the one file at the end. An export of fewer rows is one COPY.
 */
class PartsWriter {
  private readonly parts: string[] = [];
  /** Rows and bytes of images or vectors written so far, parts and held batches. */
  private rows = 0;
  private bytes = 0;
  /** The batches not yet in a part. */
  private held: HeldBatch[] = [];
  private heldRows = 0;
  private heldBytes = 0;
  /** Where the scan of `held` stands: a batch, and a row in it. */
  private scanBatch = 0;
  private scanRow = 0;

  private constructor(
    private readonly folder: string,
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    private readonly columns: Columns,
    private readonly kvOption: string,
  ) {}

  static async open(
    columns: Columns,
    folder: string,
    keyValues: Record<string, string>,
  ): Promise<PartsWriter> {
    fs.mkdirSync(folder);
    const instance = await DuckDBInstance.create(':memory:', {
      memory_limit: MEMORY_LIMIT,
      threads: '1',
      temp_directory: path.join(folder, 'spill'),
      // Nothing but the rows held here is read, so nothing is ever loaded.
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    });
    try {
      const connection = await instance.connect();
      const entries = Object.entries(keyValues);
      const kvOption =
        entries.length === 0
          ? ''
          : `, KV_METADATA {${entries.map(([k, v]) => `${sqlString(k)}: ${sqlString(v)}`).join(', ')}}`;
      const writer = new PartsWriter(folder, instance, connection, columns, kvOption);
      connection.registerTableFunction(writer.heldRowsFunction());
      return writer;
    } catch (error) {
      instance.closeSync();
      throw error;
    }
  }

  /** `held_rows()`: the held batches, in order, typed as the export's columns. */
  private heldRowsFunction(): DuckDBTableFunction {
    return DuckDBTableFunction.create({
      name: 'held_rows',
      bindFunction: (bind) => {
        for (const c of this.columns) bind.addResultColumn(c.name, DUCK_TYPES[c.kind]);
      },
      initFunction: () => {
        this.scanBatch = 0;
        this.scanRow = 0;
      },
      mainFunction: (_info, chunk) => this.fillChunk(chunk),
    });
  }

  /** The scan's next rows, at most a vector's worth and never across batches; none at the end. */
  private fillChunk(chunk: DuckDBDataChunk): void {
    const current = this.held[this.scanBatch];
    if (!current) {
      chunk.rowCount = 0;
      return;
    }
    const start = this.scanRow;
    const end = Math.min(current.rows, start + VECTOR_SIZE);
    chunk.rowCount = end - start;
    this.columns.forEach((c, i) => {
      const values = current.batch[c.name];
      const convert = TO_DUCK[c.kind];
      const out: DuckDBValue[] = new Array(end - start);
      for (let row = start; row < end; row++) {
        const value = values?.[row] ?? null;
        out[row - start] = value === null ? null : convert(value);
      }
      chunk.setColumnValues(i, out);
    });
    if (end === current.rows) {
      this.scanBatch++;
      this.scanRow = 0;
    } else {
      this.scanRow = end;
    }
  }

  /** Holds the batch; what is held goes to a part past the bounds. */
  async write(batch: ColumnBatch, rows: number): Promise<void> {
    let bytes = 0;
    for (const c of this.columns) {
      const values = batch[c.name];
      if (values === undefined) continue;
      if (values.length !== rows) {
        throw new Error(`column ${c.name} has ${values.length} values for ${rows} rows`);
      }
      if (c.kind === 'binary' || c.kind === 'list<float32>') {
        for (const value of values) bytes += bigBytes(value);
      }
    }
    this.held.push({ batch, rows });
    this.rows += rows;
    this.bytes += bytes;
    this.heldRows += rows;
    this.heldBytes += bytes;
    if (this.heldBytes >= MAX_BATCH_IMAGE_BYTES || this.heldRows >= PART_ROWS) {
      await this.writePart();
    }
  }

  private async writePart(): Promise<void> {
    const part = path.join(this.folder, `${this.parts.length}.parquet`);
    await this.connection.run(
      `COPY (FROM held_rows()) TO ${sqlString(part)} ${this.options(this.heldRows, this.heldBytes, 'uncompressed')}`,
    );
    this.parts.push(part);
    this.held = [];
    this.heldRows = 0;
    this.heldBytes = 0;
  }

  /**
   * Writes every row, in order, to `file`: the table's, or every part's (parts are left
   * uncompressed, since they are read once, right away, and images do not compress).
   */
  async finish(file: string): Promise<void> {
    if (this.parts.length === 0) {
      await this.connection.run(
        `COPY (FROM held_rows()) TO ${sqlString(file)} ${this.options(this.rows, this.bytes)}`,
      );
      return;
    }
    if (this.heldRows > 0) await this.writePart();
    await this.connection.run(
      `COPY (FROM read_parquet([${this.parts.map((part) => sqlString(exactPath(part))).join(', ')}])) ` +
        `TO ${sqlString(file)} ${this.options(this.rows, this.bytes)}`,
    );
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }

  /**
   * COPY's options: row groups of at most MAX_GROUP_ROWS rows, fewer where rows carry images.
   * DuckDB closes a group at the first chunk (up to VECTOR_SIZE rows) that reaches the size asked.
   */
  private options(rows: number, bytes: number, compression = 'snappy'): string {
    const perGroup =
      bytes === 0
        ? MAX_GROUP_ROWS
        : Math.min(MAX_GROUP_ROWS, Math.floor(MAX_BATCH_IMAGE_BYTES / (bytes / rows)));
    const asked = Math.max(1, perGroup - VECTOR_SIZE + 1);
    return `(FORMAT parquet, COMPRESSION ${compression}, ROW_GROUP_SIZE ${asked}${this.kvOption})`;
  }
}

/**
 * A failure as Node names a system error ("EFBIG: file too large, ..."), where DuckDB reports one
 * in its words ("IO Error: Could not write file ...: File too large"): the same disk full or
 * size limit reads the same whichever engine hit it.
 */
function reasonOf(error: Error): string {
  if (!error.message.startsWith('IO Error: ')) return error.message;
  const lower = error.message.toLowerCase();
  for (const [name, text] of util.getSystemErrorMap().values()) {
    if (lower.endsWith(`: ${text}`)) {
      return `${name}: ${text}, ${error.message.slice('IO Error: '.length, -text.length - 2)}`;
    }
  }
  return error.message;
}

/**
 * Writes to a temporary name beside `out`, flushes it to disk, then renames it: a crash or a
 * failure never leaves a partial file under the real name, nor replaces an earlier export.
 */
export async function writeAtomically<T>(
  out: string,
  columns: Columns,
  produce: (writeBatch: WriteBatch) => Promise<T>,
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
  const prefix = `.${path.basename(out)}.partial-`;
  removeLeftoversOfGoneProcesses(folder, prefix);
  const temporary = path.join(folder, `${prefix}${process.pid}-${Date.now()}`);
  // The parts and DuckDB's spill files: a folder named as a partial file, so that it goes with
  // the partial files of a killed export.
  const parts = `${temporary}-parts`;
  let writer: PartsWriter | undefined;
  try {
    writer = await PartsWriter.open(columns, parts, keyValues);
    const opened = writer;
    // DuckDB writes a part on its own thread while the next batch is made: one in flight.
    let inFlight = Promise.resolve();
    const result = await produce(async (batch, rows) => {
      await inFlight;
      if (rows === 0) return;
      inFlight = opened.write(batch, rows);
      // Seen by the next batch or the end; a producer failing meanwhile wins.
      inFlight.catch(() => undefined);
    });
    await inFlight;
    await writer.finish(temporary);
    writer.close();
    writer = undefined;
    publishDurably(temporary, out);
    return result;
  } catch (error) {
    writer?.close();
    fs.rmSync(temporary, { force: true });
    if (error instanceof StudioError) throw error;
    throw new StudioError(
      'internal',
      `${out}: export failed, nothing written (${reasonOf(error as Error)})`,
      {
        cause: error,
      },
    );
  } finally {
    fs.rmSync(parts, { recursive: true, force: true });
  }
}

/** Ranking ids pass 2^53: they come as decimal text and go out as exact int64. */
export const int64 = (text: string | null): bigint | null => (text === null ? null : BigInt(text));

/**
 * Column arrays filled a row at a time (a value pushed onto each column's array, then `endRow`),
 * handed to the writer every MAX_GROUP_ROWS rows or MAX_BATCH_IMAGE_BYTES of images.
 */
export class ColumnGroups<Name extends string> {
  written = 0;
  values: Record<Name, Value[]>;
  private rows = 0;
  private imageBytes = 0;

  constructor(
    private readonly names: readonly Name[],
    private readonly writeBatch: WriteBatch,
  ) {
    this.values = this.empty();
  }

  /** Ends the row just pushed; true when the columns are full and want a flush. */
  endRow(imageBytes: number): boolean {
    this.rows++;
    this.imageBytes += imageBytes;
    return this.rows >= MAX_GROUP_ROWS || this.imageBytes >= MAX_BATCH_IMAGE_BYTES;
  }

  async flush(): Promise<void> {
    const [values, rows] = [this.values, this.rows];
    this.written += this.rows;
    this.values = this.empty();
    this.rows = 0;
    this.imageBytes = 0;
    await this.writeBatch(values, rows);
  }

  private empty(): Record<Name, Value[]> {
    const values: Partial<Record<Name, Value[]>> = {};
    for (const name of this.names) values[name] = [];
    return values as Record<Name, Value[]>;
  }
}
