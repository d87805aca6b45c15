import fs from 'node:fs';
import { Worker, type Transferable } from 'node:worker_threads';
import { StudioError } from '../../../shared/errors';

/**
 * How to start the scoring worker: the bundled file in the app (`file`), or code that loads the
 * TypeScript source (`source`, run as the worker's script).
 */
export type WorkerEntry = { file: string } | { source: string };

/**
 * The worker as TypeScript source, loaded through tsx: what the CLI, the server and the tests run.
 * Null in a bundle, where the source is not shipped and the door names the bundled worker.
 */
export function sourceWorkerEntry(): WorkerEntry | null {
  const worker = new URL(['.', 'scoring-worker.ts'].join('/'), import.meta.url);
  if (worker.protocol !== 'file:' || !fs.existsSync(worker)) return null;
  // tsx's hooks, registered on the main thread, do not reach a worker: it registers its own.
  const tsxApi = import.meta.resolve('tsx/esm/api');
  return {
    source: `import(${JSON.stringify(tsxApi)})
      .then(({ register }) => { register(); return import(${JSON.stringify(worker.href)}); })`,
  };
}

/** What the worker sends back for request `id`: a result, or an error to rethrow here. */
export type WorkerReply =
  | { id: number; result: unknown }
  | { id: number; error: { code?: string; message: string } };

interface Waiting {
  resolve(result: unknown): void;
  reject(error: Error): void;
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
    this.worker.on('exit', (code) =>
      this.die(new Error(`scoring worker exited with code ${code}`)),
    );
  }

  get dead(): boolean {
    return this.death !== null;
  }

  get busy(): number {
    return this.waiting.size;
  }

  request<T>(message: object, transfer: Transferable[] = []): Promise<T> {
    if (this.death) return Promise.reject(this.death);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (r: unknown) => void, reject });
      if (this.waiting.size === 1) this.worker.ref();
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }

  async close(): Promise<void> {
    this.death ??= new Error('the scoring worker is closed');
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
