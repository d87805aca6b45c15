/**
 * The dashboard's reports over one open project, on whichever thread holds it (the dashboard
 * worker, see reports.ts): the figures, then the same report with bootstrap intervals computed
 * from the verdicts the figures were just read from. The whole project's verdicts are kept from
 * one ask to the next and brought up to date from the log (verdict-table.ts).
 */
import type { AuditReport } from '../../../shared/audit';
import { StudioError } from '../../../shared/errors';
import type { ProjectStore } from '../store/project-store';
import {
  auditReport,
  computeFor,
  readAuditInputs,
  type AuditArgs,
  type AuditInputs,
  type ComputedDashboard,
} from './audit';
import { KeptVerdicts } from './verdict-table';

/**
 * What a report answers, under the project's data as it is now; null when it cannot be known
 * (a threshold tuned on another project, which may change without this one knowing).
 */
export function questionKey(store: ProjectStore, args: AuditArgs): string | null {
  if (args.tuneOn !== undefined) return null;
  const { filters, annotator, threshold } = args;
  return JSON.stringify([store.dataVersion(), filters, annotator ?? null, threshold ?? null]);
}

function figuresOf(store: ProjectStore, args: AuditArgs, inputs: AuditInputs): AuditReport {
  return auditReport(
    store,
    args,
    inputs,
    computeFor(inputs, { ...inputs.dashboard, resamples: 0 }),
  );
}

export type Progress = (done: number, total: number) => void;

export interface IntervalsWork {
  progress: Progress;
  cancelled(): boolean;
}

/** What the desk is asked; a cancel of the intervals is a flag set in shared memory. */
export type DeskRequest =
  | { kind: 'figures'; file: string; args: AuditArgs }
  | { kind: 'intervals'; file: string; args: AuditArgs; cancel: Int32Array };

/** The desk's answer to a request; `progress` hears of the resamples. */
export function answer(desk: AuditDesk, request: DeskRequest, progress: Progress) {
  if (request.kind === 'figures') return desk.figures(request.args);
  const { cancel } = request;
  return desk.intervals(request.args, { progress, cancelled: () => Atomics.load(cancel, 0) !== 0 });
}

export class AuditDesk {
  /** The latest figures and the verdicts behind them, for the intervals asked for next. */
  private figuresRead: { key: string; inputs: AuditInputs; report: AuditReport } | null = null;
  /** The whole project's verdicts, brought up to date at each read. */
  private readonly kept = new KeptVerdicts();

  constructor(private readonly store: ProjectStore) {}

  /** The report without intervals (resamples 0). */
  figures(args: AuditArgs): AuditReport {
    const key = questionKey(this.store, args);
    // The last figures' verdicts go before these are read, not after: both held at once were
    // the desk's peak.
    this.figuresRead = null;
    const inputs = readAuditInputs(this.store, { ...args, resamples: 0 }, this.kept);
    const report = figuresOf(this.store, args, inputs);
    this.figuresRead = key === null ? null : { key, inputs, report };
    return report;
  }

  /**
   * The report with `args.resamples` bootstrap resamples. Cancelled (checked between resamples),
   * it answers with the figures alone (`bootstrap.resamples` 0): a page that moves on to other
   * filters cancels the intervals it no longer shows, which is no failure.
   */
  intervals(args: AuditArgs, work: IntervalsWork): AuditReport {
    const key = questionKey(this.store, args);
    const read = key !== null && this.figuresRead?.key === key ? this.figuresRead : null;
    this.figuresRead = null;
    const inputs = read
      ? { ...read.inputs, started: performance.now() }
      : readAuditInputs(this.store, args, this.kept);
    let computed: ComputedDashboard;
    try {
      computed = computeFor(inputs, {
        ...inputs.dashboard,
        resamples: args.resamples,
        onResample(done, total) {
          if (work.cancelled()) throw new StudioError('cancelled', 'intervals cancelled');
          work.progress(done, total);
        },
      });
    } catch (error) {
      if (!work.cancelled()) throw error;
      return read?.report ?? figuresOf(this.store, args, inputs);
    }
    return auditReport(this.store, args, inputs, computed);
  }
}
