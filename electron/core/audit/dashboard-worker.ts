/**
 * The lead's dashboard off the thread that serves the doors: reading a project's verdicts takes
 * seconds at Pick-a-Pic's size and resampling them more, and the labeling calls of browser mode
 * and the app's window must not wait for either. The worker opens the project read-only (its own
 * connection: WAL lets it read beside the writer) and answers reports.ts's requests one at a
 * time; a cancel arrives through shared memory, so the worker and what it keeps stay.
 */
import { parentPort } from 'node:worker_threads';
import { ProjectStore } from '../store/project-store';
import { errorReply, type WorkerReply } from '../worker-client';
import { answer, AuditDesk, type DeskRequest } from './desk';

let desk: AuditDesk | undefined;

// Progress goes out after every resample: the task runner that receives it throttles its events.
parentPort!.on('message', ({ id, ...request }: DeskRequest & { id: number }) => {
  try {
    desk ??= new AuditDesk(ProjectStore.open(request.file, { readonly: true }));
    const result = answer(desk, request, (done, total) =>
      parentPort!.postMessage({ id, progress: { done, total } } satisfies WorkerReply),
    );
    parentPort!.postMessage({ id, result } satisfies WorkerReply);
  } catch (error) {
    parentPort!.postMessage(errorReply(id, error));
  }
});
