import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { sourceWorkerEntry, WorkerClient, type WorkerEntry } from '../../worker-client';
import type { HeldBatch } from './parquet-engine';
import type { ColumnBatch, Columns } from './parquet-file';

/** The Parquet worker as TypeScript source; null in a bundle, whose door names its own. */
export const sourceParquetWorker = (): WorkerEntry | null =>
  sourceWorkerEntry(new URL(['.', 'parquet-worker.ts'].join('/'), import.meta.url));

/** What the worker is asked to write (parquet-worker.ts), besides the rows' port and signal. */
export interface StreamRequest {
  columns: Columns;
  /** The file COPY writes. */
  file: string;
  spill: string;
  /** COPY's options (parquet-engine.ts copyOptions). */
  options: string;
}

/** A message on the rows' port, to the worker. */
export type StreamMessage = HeldBatch | { end: true } | { abort: true };

/** The rows' port and its signal, as the worker receives them. */
export interface StreamChannel {
  port: MessagePort;
  /**
   * [messages posted]: the worker waits on it while it has nothing to read, the only way a
   * thread can wait inside DuckDB's call for the next chunk. Batches taken come back on the port.
   */
  signal: Int32Array;
}

/** Batches sent on before the writer has taken them: a bound on the memory they hold. */
const IN_FLIGHT = 2;

/**
 * An export's rows streamed to a worker thread that runs one COPY over them, reading each batch
 * as it arrives: the rows go out without waiting in parts, and their conversion to DuckDB's
 * vectors (half the writer's time) runs beside this thread's reads of the project.
 */
export class ParquetStream {
  private posted = 0;
  private taken = 0;
  private wake: (() => void) | null = null;
  /** The COPY's answer: rejected with the worker's error, or when the worker dies. */
  private readonly done: Promise<void>;
  private settled = false;

  private constructor(
    private readonly client: WorkerClient,
    private readonly port: MessagePort,
    private readonly signal: Int32Array,
    request: StreamRequest,
    channel: StreamChannel,
  ) {
    this.done = client.request<void>({ ...request, ...channel }, [channel.port]);
    // Seen by the next write or the end; a producer failing meanwhile wins.
    this.done
      .catch(() => undefined)
      .finally(() => {
        this.settled = true;
        this.wake?.();
      });
    port.on('message', () => {
      this.taken++;
      this.wake?.();
    });
    // Only the COPY's request, while it is out, keeps the process alive.
    port.unref();
  }

  static start(entry: WorkerEntry, request: StreamRequest): ParquetStream {
    const { port1, port2 } = new MessageChannel();
    const signal = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
    return new ParquetStream(new WorkerClient(entry), port1, signal, request, {
      port: port2,
      signal,
    });
  }

  /** Sends the batch on once the worker has room for it; the worker's failure rethrows here. */
  async write(batch: ColumnBatch, rows: number): Promise<void> {
    while (this.posted - this.taken >= IN_FLIGHT && !this.settled) {
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
    if (this.settled) {
      await this.done;
      throw new Error('the Parquet worker ended before the rows did');
    }
    this.post({ batch, rows });
    this.posted++;
  }

  /** Ends the rows and waits for the file to be written. */
  async finish(): Promise<void> {
    this.post({ end: true });
    try {
      await this.done;
    } finally {
      await this.close();
    }
  }

  /**
   * Stops the COPY (it fails at the next chunk it asks for) and ends the worker once it has
   * answered: ending the thread while DuckDB writes in it aborts the whole process.
   */
  async abort(): Promise<void> {
    if (!this.settled) this.post({ abort: true });
    await this.done.catch(() => undefined);
    await this.close();
  }

  private async close(): Promise<void> {
    this.port.close();
    await this.client.close();
  }

  private post(message: StreamMessage): void {
    this.port.postMessage(message);
    Atomics.add(this.signal, 0, 1);
    Atomics.notify(this.signal, 0);
  }
}
