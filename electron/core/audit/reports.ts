/**
 * The dashboard as the doors ask for it: the figures, then their bootstrap intervals as a task
 * (progress, cancel), kept until the project changes. Both are computed by an AuditDesk in the
 * dashboard worker (dashboard-worker.ts), so this thread, which serves every labeling call,
 * never waits for the project's verdicts to be read or resampled. The kept report stays on this
 * thread: answered from the worker, it was copied across on every ask (a report of 366,442
 * Cohen rows: 2.3 s and 240 MB more).
 */
import type { AuditReport } from '../../../shared/audit';
import type { ProjectStore } from '../store/project-store';
import type { TaskContext } from '../tasks';
import { sourceWorkerEntry, WorkerClient, type WorkerEntry } from '../worker-client';
import type { AuditArgs } from './audit';
import { answer, AuditDesk, questionKey, type DeskRequest, type Progress } from './desk';

export const sourceDashboardWorker = (): WorkerEntry | null =>
  sourceWorkerEntry(new URL(['.', 'dashboard-worker.ts'].join('/'), import.meta.url));

export class AuditReports {
  private worker: WorkerClient | null = null;
  private local: AuditDesk | null = null;
  private withIntervals: { key: string; resamples: number; report: AuditReport } | null = null;

  constructor(
    private readonly store: ProjectStore,
    private readonly entry: WorkerEntry | null,
  ) {}

  /** The report without intervals (resamples 0). */
  figures(args: AuditArgs): Promise<AuditReport> {
    return this.ask({ kind: 'figures', file: this.store.file, args });
  }

  /** The report with intervals computed before for this question, if nothing changed since. */
  kept(args: AuditArgs): AuditReport | null {
    const key = questionKey(this.store, args);
    const kept = this.withIntervals;
    return key !== null && kept?.key === key && kept.resamples === args.resamples
      ? kept.report
      : null;
  }

  /** The report with `args.resamples` resamples; cancelled, the figures alone. */
  async intervals(args: AuditArgs, context: TaskContext): Promise<AuditReport> {
    // The question as the project is before the worker reads it: a change meanwhile makes the
    // report answer an older key, which the next ask no longer matches.
    const key = questionKey(this.store, args);
    const cancel = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
    const stop = (): void => void Atomics.store(cancel, 0, 1);
    if (context.signal.aborted) stop();
    context.signal.addEventListener('abort', stop);
    const report = await this.ask<AuditReport>(
      { kind: 'intervals', file: this.store.file, args, cancel },
      (done, total) => context.progress(done, total),
    ).finally(() => context.signal.removeEventListener('abort', stop));
    // A cancelled run answers with the figures alone (no resamples): nothing to keep.
    if (key !== null && report.dashboard.bootstrap.resamples === args.resamples) {
      this.withIntervals = { key, resamples: args.resamples, report };
    }
    return report;
  }

  close(): void {
    void this.worker?.close();
    this.worker = null;
  }

  /** The desk in the worker, or (a bundle that ships none) on this thread. */
  private async ask<T>(request: DeskRequest, progress: Progress = () => {}): Promise<T> {
    if (this.entry === null) {
      this.local ??= new AuditDesk(this.store);
      return answer(this.local, request, progress) as T;
    }
    if (this.worker === null || this.worker.dead) this.worker = new WorkerClient(this.entry);
    return this.worker.request<T>(request, [], progress);
  }
}
