import { create } from 'zustand';
import type { Destination } from '../../../shared/keys';

export type ViewName = 'labeling' | 'audit';
/** Where the `g` keys and the top bar's switch lead: a view, or a tab of the audit view. */
export type AuditTab = Exclude<Destination, ViewName>;

interface ViewState {
  view: ViewName;
  /** The audit view's tab; kept while labeling, so `g a` returns to where the lead was. */
  auditTab: AuditTab;
  go(destination: Destination): void;
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
