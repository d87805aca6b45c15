import path from 'node:path';
import { StudioError } from '../../../shared/errors';
import { storageError } from '../store/open';
import type { ProjectStore } from '../store/project-store';
import { openStagingFile } from '../store/staging';
import type { TaskContext } from '../tasks';
import { sourceWorkerEntry, WorkerClient, type WorkerEntry } from '../worker-client';
import { stageManifest, type ManifestFormat } from './import-manifest';
import {
  openPickapicShard,
  stagePickapicShard,
  type ImportProgress,
  type KnownRankings,
  type PickapicShard,
} from './import-pickapic';

/**
 * A file to stage, as the import's plan found it. A shard comes opened (its footer read) for
 * staging on this thread; the worker is sent the rest, all it needs to open it again.
 */
export type StagingJob =
  | { kind: 'parquet'; file: string; shard?: PickapicShard }
  | { kind: 'manifest'; file: string; format: ManifestFormat };

export interface StagedCounts {
  rows: number;
  /** Rows whose ranking the project had when they were read, not staged. */
  alreadyPresent: number;
}

/** A request to the import worker (import-worker.ts). */
export interface StageRequest {
  projectFile: string;
  job: StagingJob;
  scratch: string;
  progress: ImportProgress;
  /** Set to 1 to stop the staging at its next check. */
  cancel: Int32Array;
}

/**
 * An import's SQLite failure, named as the project's: the scratch file and the project share a
 * disk, and either may be the one that is full. Other errors as they were.
 */
export const importFailure = (error: unknown, projectFile: string, file: string): unknown =>
  storageError(error, projectFile, `importing ${path.basename(file)}`) ?? error;

/** Throws the import's cancel once `cancel` (a StageRequest's) is set. */
export function throwIfStopped(cancel: Int32Array): void {
  if (Atomics.load(cancel, 0) === 1) throw new StudioError('cancelled', 'import cancelled');
}

/** The import worker as TypeScript source; null in a bundle, whose door names its own. */
export const sourceImportWorker = (): WorkerEntry | null =>
  sourceWorkerEntry(new URL(['.', 'import-worker.ts'].join('/'), import.meta.url));

/**
 * Reads and checks one file into the new scratch file `scratch`, then finishes it, ready to
 * merge; a failure removes it. Nothing here writes to the project: `knownRankings` only reads.
 */
export async function stageFile(
  request: Omit<StageRequest, 'cancel'>,
  knownRankings: KnownRankings,
  context: TaskContext,
): Promise<StagedCounts> {
  const { job, progress } = request;
  try {
    const staging = openStagingFile(request.projectFile, request.scratch);
    try {
      const counts =
        job.kind === 'parquet'
          ? await stagePickapicShard(
              knownRankings,
              job.shard ?? (await openPickapicShard(job.file)),
              staging,
              context,
              progress,
            )
          : {
              ...(await stageManifest(job.file, job.format, staging, context, progress)),
              alreadyPresent: 0,
            };
      staging.finish();
      return counts;
    } catch (error) {
      staging.remove();
      throw error;
    }
  } catch (error) {
    throw importFailure(error, request.projectFile, job.file);
  }
}

/**
 * Rows below which an import stages on the calling thread: the worker's start (about 0.7 s from
 * the TypeScript source, which the CLI and the server run; under 0.1 s bundled) would cost more
 * than the overlap saves (staging 100,000 rows takes about a second). One file has nothing to
 * overlap with.
 */
export const WORKER_MIN_ROWS = 100_000;

/** Whether an import of these files stages them in the worker (see WORKER_MIN_ROWS). */
export const stagesInWorker = (files: readonly { rows: number }[]): boolean =>
  files.length > 1 && files.reduce((sum, file) => sum + file.rows, 0) >= WORKER_MIN_ROWS;

/** One file's staging under way: its counts to come, and a way to stop it early. */
export interface Staged {
  counts: Promise<StagedCounts>;
  stop(): void;
}

/**
 * Stages an import's files, one after another, in a worker thread of its own: so the project's
 * thread merges one file while the next is read and checked (on two cores, an import of several
 * files takes about the longer of the two, not their sum), and answers labeling calls meanwhile.
 * Without a worker (a bundle that ships none), or asked to (`here`), it stages on this thread.
 */
export class Stager {
  private worker: WorkerClient | null = null;
  /** Stagings not yet answered, each with its stop. */
  private readonly running = new Map<Promise<StagedCounts>, () => void>();

  constructor(private readonly entry: WorkerEntry | null) {}

  stage(
    store: ProjectStore,
    request: Omit<StageRequest, 'cancel'>,
    context: TaskContext,
    where: 'worker' | 'here',
  ): Staged {
    const cancel = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
    const stop = (): void => void Atomics.store(cancel, 0, 1);
    if (context.signal.aborted) stop();
    context.signal.addEventListener('abort', stop);
    const stopped: TaskContext = {
      signal: context.signal,
      progress: context.progress,
      throwIfCancelled() {
        context.throwIfCancelled();
        throwIfStopped(cancel);
      },
    };
    const counts = this.inWorkerOrHere(store, { ...request, cancel }, stopped, where)
      // A cancel seen by the worker comes back as the task's own error.
      .catch((error: unknown) => {
        context.throwIfCancelled();
        throw error;
      })
      .finally(() => context.signal.removeEventListener('abort', stop));
    this.running.set(counts, stop);
    // Settled by the import, which may stop waiting for it: a handler here, so that a failure is
    // never an unhandled rejection.
    void counts.finally(() => this.running.delete(counts)).catch(() => {});
    return { counts, stop };
  }

  /**
   * Stops the stagings under way at their next check, and ends the worker once they have
   * answered: ending its thread while DuckDB reads in it aborts the whole process.
   */
  close(): void {
    const worker = this.worker;
    this.worker = null;
    for (const stop of this.running.values()) stop();
    void Promise.allSettled(this.running.keys()).then(() => worker?.close());
  }

  private inWorkerOrHere(
    store: ProjectStore,
    request: StageRequest,
    context: TaskContext,
    where: 'worker' | 'here',
  ): Promise<StagedCounts> {
    if (this.entry === null || where === 'here') {
      return stageFile(request, (ids) => store.pairs.knownRankings(ids), context);
    }
    if (this.worker === null || this.worker.dead) this.worker = new WorkerClient(this.entry);
    const detail = path.basename(request.job.file);
    // An opened shard holds functions, which cannot be posted: the worker opens it again.
    const job: StagingJob =
      request.job.kind === 'parquet' ? { kind: 'parquet', file: request.job.file } : request.job;
    return this.worker.request<StagedCounts>({ ...request, job }, [], (done, total) =>
      context.progress(done, total, detail),
    );
  }
}
