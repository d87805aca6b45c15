import fs from 'node:fs';
import { Worker, type Transferable } from 'node:worker_threads';
import { StudioError } from '../../shared/errors';

/**
 * How to start a worker: the bundled file in the app (`file`), or code that loads the
 * TypeScript source (`source`, run as the worker's script).
 */
export type WorkerEntry = { file: string } | { source: string };

/**
 * A worker as TypeScript source, loaded through tsx: what the CLI, the server and the tests run.
 * Null in a bundle, where the source is not shipped and the door names the bundled worker.
 * Callers build the URL from a joined string so that the bundler leaves it alone.
 */
export function sourceWorkerEntry(worker: URL): WorkerEntry | null {
  if (worker.protocol !== 'file:' || !fs.existsSync(worker)) return null;
  // tsx's hooks, registered on the main thread, do not reach a worker: it registers its own.
  const tsxApi = import.meta.resolve('tsx/esm/api');
  return {
    source: `import(${JSON.stringify(tsxApi)})
      .then(({ register }) => { register(); return import(${JSON.stringify(worker.href)}); })`,
  };
}

/** The worker a door names (null: none, the work runs on this thread), else `source()`. */
export const namedOrSource = (
  named: WorkerEntry | null | undefined,
  source: () => WorkerEntry | null,
): WorkerEntry | null => (named === undefined ? source() : named);

/**
 * What the worker sends back for request `id`: a result, or an error to rethrow here; before
 * either, any number of progress reports.
 */
export type WorkerReply =
  | { id: number; result: unknown }
  | { id: number; error: { code?: string; message: string } }
  | { id: number; progress: { done: number; total: number } };

export type WorkerProgress = (done: number, total: number) => void;

/** A worker's reply for a request that failed: a StudioError keeps its code across the thread. */
export function errorReply(id: number, error: unknown): WorkerReply {
  const code = error instanceof StudioError ? error.code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return { id, error: { code, message } };
}

interface Waiting {
  resolve(result: unknown): void;
  reject(error: Error): void;
  progress?: WorkerProgress;
}

/**
 * Requests to one worker thread, answered by id. The worker keeps the process alive only while
 * a request is out, so a long-lived one (the model's sessions) never holds a CLI run open. A
 * worker that dies fails the requests it held, and every later one.
 */
export class WorkerClient {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 0;
  private death: Error | null = null;

  constructor(entry: WorkerEntry) {
    this.worker =
      'file' in entry ? new Worker(entry.file) : new Worker(entry.source, { eval: true });
    this.worker.unref();
    this.worker.on('message', (reply: WorkerReply) => {
      const waiting = this.waiting.get(reply.id);
      if ('progress' in reply) {
        waiting?.progress?.(reply.progress.done, reply.progress.total);
        return;
      }
      this.settled(reply.id);
      if (!waiting) return;
      if ('error' in reply) {
        const { code, message } = reply.error;
        waiting.reject(code ? StudioError.fromJSON({ code, message }) : new Error(message));
      } else {
        waiting.resolve(reply.result);
      }
    });
    this.worker.on('error', (error) => this.die(error));
    this.worker.on('exit', (code) => this.die(new Error(`worker exited with code ${code}`)));
  }

  get dead(): boolean {
    return this.death !== null;
  }

  get busy(): number {
    return this.waiting.size;
  }

  request<T>(
    message: object,
    transfer: Transferable[] = [],
    progress?: WorkerProgress,
  ): Promise<T> {
    if (this.death) return Promise.reject(this.death);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (r: unknown) => void, reject, progress });
      if (this.waiting.size === 1) this.worker.ref();
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }

  async close(): Promise<void> {
    this.death ??= new Error('the worker is closed');
    await this.worker.terminate();
  }

  private settled(id: number): void {
    this.waiting.delete(id);
    if (this.waiting.size === 0) this.worker.unref();
  }

  private die(error: Error): void {
    this.death ??= error;
    for (const waiting of this.waiting.values()) waiting.reject(this.death);
    this.waiting.clear();
    this.worker.unref();
  }
}
