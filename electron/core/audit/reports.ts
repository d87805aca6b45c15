/**
 * The dashboard as the lead's page asks for it. The figures come first, on this thread: reading
 * the verdicts is most of their time. Their bootstrap intervals follow as a task: computed in a
 * worker from the verdicts the figures were read from, with progress and cancellation, and kept
 * until anything in the project changes, so reopening the dashboard costs nothing more.
 */
import type { AuditReport } from '../../../shared/audit';
import { computeDashboard, type DashboardResult } from '../metrics';
import type { ProjectStore } from '../store/project-store';
import type { TaskContext } from '../tasks';
import { sourceWorkerEntry, WorkerClient, type WorkerEntry } from '../worker-client';
import { auditReport, readAuditInputs, type AuditArgs, type AuditInputs } from './audit';
import type { DashboardRequest } from './dashboard-worker';

export const sourceDashboardWorker = (): WorkerEntry | null =>
  sourceWorkerEntry(new URL(['.', 'dashboard-worker.ts'].join('/'), import.meta.url));

/**
 * What a report answers, under the project's data as it is now; null when it cannot be known
 * (a threshold tuned on another project, which may change without this one knowing).
 */
function questionKey(store: ProjectStore, args: AuditArgs): string | null {
  if (args.tuneOn !== undefined) return null;
  const { filters, annotator, threshold } = args;
  return JSON.stringify([store.dataVersion(), filters, annotator ?? null, threshold ?? null]);
}

function figuresOf(store: ProjectStore, args: AuditArgs, inputs: AuditInputs): AuditReport {
  const options = { ...inputs.dashboard, resamples: 0 };
  return auditReport(store, args, inputs, computeDashboard(inputs.rows.columns, options));
}

export class AuditReports {
  /** Workers computing intervals now: one per request, so cancelling one ends no other. */
  private readonly running = new Set<WorkerClient>();
  /** The latest figures and the verdicts behind them, for the intervals the page asks for next. */
  private figuresRead: { key: string; inputs: AuditInputs; report: AuditReport } | null = null;
  private withIntervals: { key: string; resamples: number; report: AuditReport } | null = null;

  /** `worker` null: the bootstrap runs on this thread (a bundle that ships no worker). */
  constructor(
    private readonly store: ProjectStore,
    private readonly worker: WorkerEntry | null,
  ) {}

  /** The report without intervals (resamples 0), at once. */
  figures(args: AuditArgs): AuditReport {
    const key = questionKey(this.store, args);
    const inputs = readAuditInputs(this.store, { ...args, resamples: 0 });
    const report = figuresOf(this.store, args, inputs);
    this.figuresRead = key === null ? null : { key, inputs, report };
    return report;
  }

  /** The report with intervals computed before for this question, if nothing changed since. */
  kept(args: AuditArgs): AuditReport | null {
    const key = questionKey(this.store, args);
    const kept = this.withIntervals;
    return key !== null && kept?.key === key && kept.resamples === args.resamples
      ? kept.report
      : null;
  }

  /**
   * The report with `args.resamples` bootstrap resamples, computed off this thread. Cancelled,
   * it answers with the figures alone (`bootstrap.resamples` 0): a page that moves on to other
   * filters cancels the intervals it no longer shows, which is no failure.
   */
  async intervals(args: AuditArgs, context: TaskContext): Promise<AuditReport> {
    const key = questionKey(this.store, args);
    const read = key !== null && this.figuresRead?.key === key ? this.figuresRead : null;
    this.figuresRead = null;
    const inputs = read
      ? { ...read.inputs, started: performance.now() }
      : readAuditInputs(this.store, args);
    const options = { ...inputs.dashboard, resamples: args.resamples };
    let dashboard: DashboardResult;
    try {
      dashboard = await this.dashboard({ columns: inputs.rows.columns, options }, context);
    } catch (error) {
      if (!context.signal.aborted) throw error;
      return read?.report ?? figuresOf(this.store, args, inputs);
    }
    const report = auditReport(this.store, args, inputs, dashboard);
    if (key !== null) this.withIntervals = { key, resamples: args.resamples, report };
    return report;
  }

  close(): void {
    for (const worker of this.running) void worker.close();
    this.running.clear();
  }

  private async dashboard(
    request: DashboardRequest,
    context: TaskContext,
  ): Promise<DashboardResult> {
    const progress = (done: number, total: number): void => context.progress(done, total);
    context.throwIfCancelled();
    if (this.worker === null) {
      return computeDashboard(request.columns, { ...request.options, onResample: progress });
    }
    const worker = new WorkerClient(this.worker);
    this.running.add(worker);
    // A resample cannot be interrupted inside the worker: cancelling ends the worker.
    const stop = (): void => void worker.close();
    context.signal.addEventListener('abort', stop);
    try {
      return await worker.request<DashboardResult>(request, [], progress);
    } finally {
      context.signal.removeEventListener('abort', stop);
      this.running.delete(worker);
      void worker.close();
    }
  }
}
