import { create } from 'zustand';
import type { AuditFilters, AuditReport } from '../../../shared/audit';
import { studio } from '../studio';
import { describeError } from './project';

interface AuditState {
  filters: AuditFilters;
  /** 'loading' keeps the previous report on screen, marked busy, until the new one comes. */
  status: 'loading' | 'ready' | 'error';
  report: AuditReport | null;
  error: string | null;
  load(): Promise<void>;
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
export const useAudit = create<AuditState>()((set, get) => ({
  filters: {},
  status: 'loading',
  report: null,
  error: null,
  async load() {
    const seq = ++requestSeq;
    set({ status: 'loading', error: null });
    try {
      const report = await studio.getAudit({ filters: get().filters });
      if (seq === requestSeq) set({ status: 'ready', report });
    } catch (error) {
      if (seq === requestSeq) set({ status: 'error', error: describeError(error) });
    }
  },
  setFilters(change) {
    set({ filters: withoutEmpty({ ...get().filters, ...change }) });
    return get().load();
  },
  clearFilters() {
    set({ filters: {} });
    return get().load();
  },
}));
