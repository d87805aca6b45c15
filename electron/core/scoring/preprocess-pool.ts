import os from 'node:os';
import { preprocessImage, type ClipImageConfig } from './preprocess';
import type { ScoringRequest } from './scoring-worker';
import { WorkerClient, type WorkerEntry } from '../worker-client';

/** Turns encoded image bytes into pixel_values; where it runs is the implementation's business. */
export interface ImagePreprocessor {
  preprocess(bytes: Uint8Array, config: ClipImageConfig): Promise<Float32Array>;
  close(): Promise<void>;
}

export const inProcessPreprocessor: ImagePreprocessor = {
  preprocess: preprocessImage,
  close: async () => {},
};

/** Leaves a core for the thread that answers the UI and the one that runs the model. */
export const defaultPoolSize = (): number =>
  Math.max(1, Math.min(4, os.availableParallelism() - 2));

/**
 * Scoring workers that decode and resample images, the least busy taking the next image. A worker
 * that dies fails only the images it held; a fresh one takes its place when next needed (not at
 * once, so a worker that cannot start is not restarted in a loop).
 */
export function startPreprocessPool(
  entry: WorkerEntry,
  size = defaultPoolSize(),
): ImagePreprocessor {
  const workers = Array.from({ length: size }, () => new WorkerClient(entry));
  let closed = false;
  return {
    preprocess(bytes, config) {
      if (closed) return Promise.reject(new Error('the preprocessing pool is closed'));
      let index = 0;
      workers.forEach((w, i) => {
        if (w.busy < workers[index]!.busy) index = i;
      });
      if (workers[index]!.dead) workers[index] = new WorkerClient(entry);
      // A copy is transferred: the caller's bytes may be a view into a buffer it keeps using.
      const copy = bytes.slice();
      const request: ScoringRequest = { kind: 'preprocess', bytes: copy, config };
      return workers[index]!.request<Float32Array>(request, [copy.buffer]);
    },
    async close() {
      closed = true;
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}
