import fs from 'node:fs';
import path from 'node:path';
import util from 'node:util';
import { StudioError } from '../../../../shared/errors';
import { exactPath, sqlString } from '../duckdb-sql';
import { publishDurably } from '../durable';
import { removeLeftoversOfGoneProcesses } from '../leftovers';
import type { ColumnKind } from '../pickapic-schema';
import type { WorkerEntry } from '../../worker-client';
import {
  batchesFunction,
  copyOptions,
  type Engine,
  type HeldBatch,
  openEngine,
  spillFolder,
} from './parquet-engine';
import { ParquetStream } from './parquet-stream';

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
/**
 * Rows a producer hands the writer at a time. Between two batches the export lets the event loop
 * run, so a label saved meanwhile waits for one batch's reads at most (about 60 ms here).
 */
export const BATCH_ROWS = 5000;
/** Image bytes gathered before they go to the engine, which bounds memory on image exports. */
export const MAX_BATCH_IMAGE_BYTES = 32 * 1024 * 1024;
/**
 * Rows without images held before the export streams to the worker or, without one, writes them
 * as a part. With parts, at 1,000,000 pairs, the export's peak RSS was 1,231 MB with 500,000 rows
 * per part, 875 MB with 100,000 (bench:scale), at the same speed.
 */
const PART_ROWS = 100_000;

/** Bytes a value holds outside the row: an image's, a vector's. */
const bigBytes = (value: Value): number =>
  value instanceof Uint8Array ? value.length : value instanceof Float32Array ? value.byteLength : 0;

/**
 * Rows written by DuckDB's Parquet writer (parquet-engine.ts), which reads them from the batches
 * held here. Once the rows held carry MAX_BATCH_IMAGE_BYTES of images or vectors, or PART_ROWS
 * rows, the export is a large one: with a worker, every row from then on streams to one COPY in
 * the worker (parquet-stream.ts); without, what is held goes out as a Parquet part file into a
 * folder beside the export, and the parts are read back in order into the one file at the end.
 * An export of fewer rows is one COPY here.
 */
class ParquetWriter {
  private readonly parts: string[] = [];
  /** Rows and bytes of images or vectors written so far. */
  private rows = 0;
  private bytes = 0;
  /** The batches not yet in a part, nor sent to the worker. */
  private held: HeldBatch[] = [];
  private heldRows = 0;
  private heldBytes = 0;
  private stream: ParquetStream | null = null;

  private constructor(
    private readonly engine: Engine,
    private readonly columns: Columns,
    private readonly target: { file: string; parts: string; kvOption: string },
    private readonly worker: WorkerEntry | null,
  ) {
    engine.connection.registerTableFunction(
      batchesFunction('held_rows', columns, () => {
        let at = 0;
        return () => this.held[at++] ?? null;
      }),
    );
  }

  /** A writer of `file`, with its parts and spill files in the new folder `parts`. */
  static async open(
    columns: Columns,
    file: string,
    parts: string,
    keyValues: Record<string, string>,
    worker: WorkerEntry | null,
  ): Promise<ParquetWriter> {
    fs.mkdirSync(parts);
    const entries = Object.entries(keyValues);
    const kvOption =
      entries.length === 0
        ? ''
        : `, KV_METADATA {${entries.map(([k, v]) => `${sqlString(k)}: ${sqlString(v)}`).join(', ')}}`;
    return new ParquetWriter(
      await openEngine(spillFolder(parts)),
      columns,
      { file, parts, kvOption },
      worker,
    );
  }

  /** Holds the batch, or streams it; what is held goes on past the bounds. */
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
    this.rows += rows;
    this.bytes += bytes;
    if (this.stream) return this.stream.write(batch, rows);
    this.held.push({ batch, rows });
    this.heldRows += rows;
    this.heldBytes += bytes;
    if (this.heldBytes < MAX_BATCH_IMAGE_BYTES && this.heldRows < PART_ROWS) return;
    if (this.worker) {
      await this.startStream(this.worker);
    } else {
      await this.writePart();
    }
  }

  /**
   * The rows so far and every one after them to the worker's COPY, whose row groups are sized
   * by the rows so far: the export's first MAX_BATCH_IMAGE_BYTES, or PART_ROWS rows.
   */
  private async startStream(worker: WorkerEntry): Promise<void> {
    const stream = ParquetStream.start(worker, {
      columns: this.columns,
      file: this.target.file,
      spill: spillFolder(this.target.parts),
      options: this.options(this.rows, this.bytes),
    });
    this.stream = stream;
    const held = this.held;
    this.held = [];
    for (const { batch, rows } of held) await stream.write(batch, rows);
  }

  private async writePart(): Promise<void> {
    const part = path.join(this.target.parts, `${this.parts.length}.parquet`);
    await this.engine.connection.run(
      `COPY (FROM held_rows()) TO ${sqlString(part)} ${this.options(this.heldRows, this.heldBytes, 'uncompressed')}`,
    );
    this.parts.push(part);
    this.held = [];
    this.heldRows = 0;
    this.heldBytes = 0;
  }

  /**
   * Writes every row, in order, to the file: the worker's, the held batches', or every part's
   * (parts are left uncompressed, since they are read once, right away, and images do not
   * compress).
   */
  async finish(): Promise<void> {
    const { file } = this.target;
    if (this.stream) {
      await this.stream.finish();
      this.stream = null;
      return;
    }
    if (this.parts.length === 0) {
      await this.engine.connection.run(
        `COPY (FROM held_rows()) TO ${sqlString(file)} ${this.options(this.rows, this.bytes)}`,
      );
      return;
    }
    if (this.heldRows > 0) await this.writePart();
    await this.engine.connection.run(
      `COPY (FROM read_parquet([${this.parts.map((part) => sqlString(exactPath(part))).join(', ')}])) ` +
        `TO ${sqlString(file)} ${this.options(this.rows, this.bytes)}`,
    );
  }

  /** Ends the worker (after its COPY has answered) and the engine. */
  async close(): Promise<void> {
    await this.stream?.abort();
    this.engine.close();
  }

  /** Row groups of at most MAX_GROUP_ROWS rows, fewer where rows carry images. */
  private options(rows: number, bytes: number, compression = 'snappy'): string {
    const perGroup =
      bytes === 0
        ? MAX_GROUP_ROWS
        : Math.min(MAX_GROUP_ROWS, Math.floor(MAX_BATCH_IMAGE_BYTES / (bytes / rows)));
    return copyOptions(perGroup, compression, this.target.kvOption);
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
  {
    keyValues = {},
    worker = null,
  }: {
    keyValues?: Record<string, string>;
    /** The Parquet worker (parquet-worker.ts) that a large export streams to. */
    worker?: WorkerEntry | null;
  } = {},
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
  let writer: ParquetWriter | undefined;
  try {
    writer = await ParquetWriter.open(columns, temporary, parts, keyValues, worker);
    const opened = writer;
    // DuckDB writes a part on its own thread, or the worker takes a batch, while the next batch
    // is made: one in flight.
    let inFlight = Promise.resolve();
    const result = await produce(async (batch, rows) => {
      await inFlight;
      // A producer's reads and this writer's steps resolve without the event loop; without this,
      // a streamed export held every other call (a label, a timer) until its end.
      await new Promise(setImmediate);
      if (rows === 0) return;
      inFlight = opened.write(batch, rows);
      // Seen by the next batch or the end; a producer failing meanwhile wins.
      inFlight.catch(() => undefined);
    });
    await inFlight;
    await writer.finish();
    await writer.close();
    writer = undefined;
    publishDurably(temporary, out);
    return result;
  } catch (error) {
    await writer?.close();
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
 * handed to the writer every BATCH_ROWS rows or MAX_BATCH_IMAGE_BYTES of images.
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
    return this.rows >= BATCH_ROWS || this.imageBytes >= MAX_BATCH_IMAGE_BYTES;
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
