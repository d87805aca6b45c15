import { create } from 'zustand';
import type { Destination } from '../../../shared/keys';

export type ViewName = 'labeling' | 'audit';
/** A tab of the audit view: where the `g` keys lead (the dashboard, review, merged sources). */
export type AuditTab = Exclude<Destination, ViewName> | 'guidelines';

interface ViewState {
  view: ViewName;
  /** The audit view's tab; kept while labeling, so `g a` returns to where the lead was. */
  auditTab: AuditTab;
  go(destination: Destination | AuditTab): void;
}

/** Which screen is up. Only one is mounted, so only its keys listen. */
export const useView = create<ViewState>()((set) => ({
  view: 'labeling',
  auditTab: 'dashboard',
  go(destination) {
    if (destination === 'labeling' || destination === 'audit') set({ view: destination });
    else set({ view: 'audit', auditTab: destination });
  },
}));
