/**
 * An import's reading and checking, off the thread that serves the doors and merges: each
 * request stages one file into its scratch file (import-stage.ts) and answers its counts. A
 * shard's rows are looked up in the project, opened read-only (WAL lets it read beside the
 * writer), to skip rankings it has; the merge checks them again, so one merged meanwhile is
 * still added once. A manifest has no rankings, and its staging opens no project. A stop
 * arrives through shared memory.
 */
import { parentPort } from 'node:worker_threads';
import { ProjectStore } from '../store/project-store';
import type { TaskContext } from '../tasks';
import { errorReply, type WorkerReply } from '../worker-client';
import type { KnownRankings } from './import-pickapic';
import { stageFile, throwIfStopped, type StageRequest } from './import-stage';

/** Progress goes out at most this often: a manifest reports every row. */
const PROGRESS_INTERVAL_MS = 50;

parentPort!.on('message', ({ id, ...request }: StageRequest & { id: number }) => {
  void stage(id, request);
});

async function stage(id: number, request: StageRequest): Promise<void> {
  const project = readOnlyOnDemand(request.projectFile);
  let reply: WorkerReply;
  try {
    let sent = 0;
    const context: TaskContext = {
      signal: new AbortController().signal,
      progress(done, total) {
        const now = performance.now();
        if (now - sent < PROGRESS_INTERVAL_MS || total === null) return;
        sent = now;
        parentPort!.postMessage({ id, progress: { done, total } } satisfies WorkerReply);
      },
      throwIfCancelled: () => throwIfStopped(request.cancel),
    };
    const result = await stageFile(request, project.knownRankings, context);
    reply = { id, result };
  } catch (error) {
    reply = errorReply(id, error);
  } finally {
    // Closed before the answer: the caller may close the project next, and the last connection
    // to close is the one that folds the WAL back into the file.
    project.close();
  }
  parentPort!.postMessage(reply);
}

/** The project, opened read-only at its first lookup. */
function readOnlyOnDemand(file: string): { knownRankings: KnownRankings; close(): void } {
  let store: ProjectStore | null = null;
  return {
    knownRankings(ids) {
      store ??= ProjectStore.open(file, { readonly: true });
      return store.pairs.knownRankings(ids);
    },
    close: () => store?.close(),
  };
}
