/**
 * The lead's dashboard off the thread that serves the doors: reading a project's verdicts takes
 * seconds at Pick-a-Pic's size and resampling them more, and the labeling calls of browser mode
 * and the app's window must not wait for either. The worker opens the project read-only (its own
 * connection: WAL lets it read beside the writer) and answers reports.ts's requests one at a
 * time; a cancel arrives through shared memory, so the worker and what it keeps stay.
 */
import { parentPort } from 'node:worker_threads';
import { StudioError } from '../../../shared/errors';
import { ProjectStore } from '../store/project-store';
import type { WorkerReply } from '../worker-client';
import { answer, AuditDesk, type DeskRequest } from './desk';

/** Progress messages at most this often: a resample of a small project takes microseconds. */
const PROGRESS_INTERVAL_MS = 50;

let desk: AuditDesk | undefined;

function handle(id: number, request: DeskRequest): unknown {
  desk ??= new AuditDesk(ProjectStore.open(request.file, { readonly: true }));
  let reported = 0;
  return answer(desk, request, (done, total) => {
    const now = performance.now();
    if (now - reported < PROGRESS_INTERVAL_MS && done < total) return;
    reported = now;
    parentPort!.postMessage({ id, progress: { done, total } } satisfies WorkerReply);
  });
}

parentPort!.on('message', ({ id, ...request }: DeskRequest & { id: number }) => {
  try {
    parentPort!.postMessage({ id, result: handle(id, request) } satisfies WorkerReply);
  } catch (error) {
    const code = error instanceof StudioError ? error.code : undefined;
    const message = error instanceof Error ? error.message : String(error);
    parentPort!.postMessage({ id, error: { code, message } } satisfies WorkerReply);
  }
});
