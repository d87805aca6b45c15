import { create } from 'zustand';

export type ViewName = 'labeling' | 'audit';
export type AuditTab = 'dashboard' | 'review';
/** Where the `g` keys and the top bar's switch lead. */
export type Destination = 'labeling' | 'audit' | AuditTab;

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
