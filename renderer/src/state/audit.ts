import { create } from 'zustand';
import type { AuditFilters, AuditReport } from '../../../shared/audit';
import { studio } from '../studio';
import { describeError } from './project';

/** The bootstrap intervals of the report on screen, computed after its figures. */
export type IntervalsState =
  | { state: 'computing'; taskId: string; done: number; total: number | null; eta: number | null }
  | { state: 'ready' }
  | { state: 'cancelled' }
  | { state: 'failed'; error: string };

interface AuditState {
  filters: AuditFilters;
  /** 'loading' keeps the previous report on screen, marked busy, until the new one comes. */
  status: 'loading' | 'ready' | 'error';
  report: AuditReport | null;
  error: string | null;
  intervals: IntervalsState;
  /** The figures, then their intervals (kept by the core until the project changes). */
  load(): Promise<void>;
  /** Computes the intervals of the report on screen (after a cancel or a failure). */
  loadIntervals(): Promise<void>;
  cancelIntervals(): void;
  /** Narrows or widens the figures; an undefined field is no filter. Re-queries at once. */
  setFilters(change: Partial<AuditFilters>): Promise<void>;
  clearFilters(): Promise<void>;
}

/** Only the reply to the latest request is shown, so a quick run of filter changes ends right. */
let requestSeq = 0;

function withoutEmpty(filters: AuditFilters): AuditFilters {
  const kept: AuditFilters = {};
  if (filters.annotators && filters.annotators.length > 0) kept.annotators = filters.annotators;
  if (filters.generator !== undefined) kept.generator = filters.generator;
  if (filters.from !== undefined) kept.from = filters.from;
  if (filters.to !== undefined) kept.to = filters.to;
  if (filters.minConfidence !== undefined && filters.minConfidence > 0) {
    kept.minConfidence = filters.minConfidence;
  }
  return kept;
}

/** The lead's dashboard: getAudit under the chosen filters. */
export const useAudit = create<AuditState>()((set, get) => {
  // The progress of the intervals on screen, from the core's task events.
  studio.on('progress', (progress) => {
    const now = get().intervals;
    if (now.state !== 'computing' || progress.taskId !== now.taskId) return;
    set({
      intervals: { ...now, done: progress.done, total: progress.total, eta: progress.etaSeconds },
    });
  });

  return {
    filters: {},
    status: 'loading',
    report: null,
    error: null,
    intervals: { state: 'cancelled' },
    async load() {
      const seq = ++requestSeq;
      get().cancelIntervals();
      set({ status: 'loading', error: null });
      try {
        const report = await studio.getAudit({ filters: get().filters, resamples: 0 });
        if (seq !== requestSeq) return;
        set({ status: 'ready', report });
      } catch (error) {
        if (seq === requestSeq) set({ status: 'error', error: describeError(error) });
        return;
      }
      await get().loadIntervals();
    },
    async loadIntervals() {
      const seq = requestSeq;
      const taskId = crypto.randomUUID();
      set({ intervals: { state: 'computing', taskId, done: 0, total: null, eta: null } });
      try {
        const report = await studio.getAudit({ filters: get().filters, taskId });
        if (seq !== requestSeq) return;
        // A cancelled request answers with the figures alone.
        set(
          report.dashboard.bootstrap.resamples > 0
            ? { report, intervals: { state: 'ready' } }
            : { intervals: { state: 'cancelled' } },
        );
      } catch (error) {
        if (seq === requestSeq)
          set({ intervals: { state: 'failed', error: describeError(error) } });
      }
    },
    cancelIntervals() {
      const now = get().intervals;
      if (now.state === 'computing') void studio.cancelTask({ taskId: now.taskId }).catch(() => {});
    },
    setFilters(change) {
      set({ filters: withoutEmpty({ ...get().filters, ...change }) });
      return get().load();
    },
    clearFilters() {
      set({ filters: {} });
      return get().load();
    },
  };
});
