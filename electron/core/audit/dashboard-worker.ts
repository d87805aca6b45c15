/**
 * The dashboard with its bootstrap intervals, off the thread that holds the project: resampling
 * a project's annotator pairs takes seconds to minutes, and the labeling calls of browser mode
 * and the app's window must not wait for it. Requests come from audit/reports.ts.
 */
import { parentPort } from 'node:worker_threads';
import { computeDashboard, type DashboardColumns, type DashboardOptions } from '../metrics';
import type { WorkerReply } from '../worker-client';

export interface DashboardRequest {
  columns: DashboardColumns;
  options: Omit<DashboardOptions, 'onResample' | 'onTiming'>;
}

/** Progress messages at most this often: a resample of a small project takes microseconds. */
const PROGRESS_INTERVAL_MS = 50;

parentPort!.on('message', ({ id, columns, options }: DashboardRequest & { id: number }) => {
  let reported = 0;
  try {
    const result = computeDashboard(columns, {
      ...options,
      onResample(done, total) {
        const now = performance.now();
        if (now - reported < PROGRESS_INTERVAL_MS && done < total) return;
        reported = now;
        parentPort!.postMessage({ id, progress: { done, total } } satisfies WorkerReply);
      },
    });
    parentPort!.postMessage({ id, result } satisfies WorkerReply);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    parentPort!.postMessage({ id, error: { message } } satisfies WorkerReply);
  }
});
