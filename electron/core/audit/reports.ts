/**
 * The dashboard as the doors ask for it: the figures, then their bootstrap intervals as a task
 * (progress, cancel), kept until the project changes. Both are computed by an AuditDesk in the
 * dashboard worker (dashboard-worker.ts), so this thread, which serves every labeling call,
 * never waits for the project's verdicts to be read or resampled.
 */
import type { AuditReport } from '../../../shared/audit';
import type { ProjectStore } from '../store/project-store';
import type { TaskContext } from '../tasks';
import { sourceWorkerEntry, WorkerClient, type WorkerEntry } from '../worker-client';
import type { AuditArgs } from './audit';
import { answer, AuditDesk, type DeskRequest, type Progress } from './desk';

export const sourceDashboardWorker = (): WorkerEntry | null =>
  sourceWorkerEntry(new URL(['.', 'dashboard-worker.ts'].join('/'), import.meta.url));

export class AuditReports {
  private worker: WorkerClient | null = null;
  private local: AuditDesk | null = null;

  constructor(
    private readonly store: ProjectStore,
    private readonly entry: WorkerEntry | null,
  ) {}

  /** The report without intervals (resamples 0). */
  figures(args: AuditArgs): Promise<AuditReport> {
    return this.ask({ kind: 'figures', file: this.store.file, args });
  }

  /** The report with intervals computed before for this question, if nothing changed since. */
  kept(args: AuditArgs): Promise<AuditReport | null> {
    return this.ask({ kind: 'kept', file: this.store.file, args });
  }

  /** The report with `args.resamples` resamples; cancelled, the figures alone. */
  intervals(args: AuditArgs, context: TaskContext): Promise<AuditReport> {
    const cancel = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
    const stop = (): void => void Atomics.store(cancel, 0, 1);
    if (context.signal.aborted) stop();
    context.signal.addEventListener('abort', stop);
    return this.ask<AuditReport>(
      { kind: 'intervals', file: this.store.file, args, cancel },
      (done, total) => context.progress(done, total),
    ).finally(() => context.signal.removeEventListener('abort', stop));
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
