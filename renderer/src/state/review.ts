import { create, type StoreApi } from 'zustand';
import type { Adjudication, Disagreement, DisagreementKind } from '../../../shared/audit';
import { describeDecision, type Verdict } from '../../../shared/labels';
import { studio } from '../studio';
import { describeError } from './project';

/** Rows fetched per page; more come when the selection reaches the end of those held. */
const PAGE = 100;

interface ReviewState {
  kind: DisagreementKind;
  includeAdjudicated: boolean;
  status: 'loading' | 'ready' | 'error';
  /** Why the list could not be loaded. */
  error: string | null;
  items: Disagreement[];
  total: number;
  /** Index of the selected row in `items`; -1 when the list is empty. */
  selected: number;
  /** An adjudication is being saved: verdict keys are dropped meanwhile, not queued. */
  saving: boolean;
  /** Why the last adjudication was not saved. */
  saveError: string | null;
  /** Notes being written, by pair id, until saved with an adjudication. */
  drafts: Record<number, string>;
  /** What the live region says: the last adjudication saved, or a problem. */
  announcement: string;
  load(): Promise<void>;
  loadMore(): Promise<void>;
  setKind(kind: DisagreementKind): Promise<void>;
  setIncludeAdjudicated(include: boolean): Promise<void>;
  select(index: number): void;
  move(by: 1 | -1): void;
  setDraft(pairId: number, note: string): void;
  adjudicate(verdict: Verdict, adjudicator: string): Promise<void>;
  announce(message: string): void;
}

/** The note shown for a pair: the one being written, else the one saved with its adjudication. */
export function noteFor(state: Pick<ReviewState, 'drafts'>, item: Disagreement): string {
  return state.drafts[item.pairId] ?? item.adjudication?.note ?? '';
}

/** A new load (another kind, a reload) makes replies to older ones no-ops. */
let loadSeq = 0;

type ReviewStore = Pick<StoreApi<ReviewState>, 'getState' | 'setState'>;

/** A page of the list the state selects, from `offset`. */
const fetchPage = (state: ReviewState, offset: number) =>
  studio.listDisagreements({
    kind: state.kind,
    includeAdjudicated: state.includeAdjudicated,
    offset,
    limit: PAGE,
  });

async function loadMore({ getState: get, setState: set }: ReviewStore): Promise<void> {
  const seq = loadSeq;
  const state = get();
  if (state.status !== 'ready' || state.items.length >= state.total) return;
  try {
    const page = await fetchPage(state, state.items.length);
    if (seq !== loadSeq) return;
    set((current) => ({ items: [...current.items, ...page.items], total: page.total }));
  } catch (error) {
    if (seq === loadSeq)
      set({ announcement: `More rows could not be loaded: ${describeError(error)}` });
  }
}

/** The list with a pair's adjudication saved, its draft gone, and the next pair selected. */
function settled(
  state: ReviewState,
  pairId: number,
  adjudication: Adjudication,
): Partial<ReviewState> {
  // Saved with the adjudication: the field shows the adjudication's note from now on.
  const drafts = { ...state.drafts };
  delete drafts[pairId];
  const items = state.items.map((row) => (row.pairId === pairId ? { ...row, adjudication } : row));
  const index = items.findIndex((row) => row.pairId === pairId);
  // On to the next pair, as labeling does; the last one stays selected.
  return { items, drafts, selected: Math.min(index + 1, items.length - 1) };
}

async function adjudicate(
  { getState: get, setState: set }: ReviewStore,
  verdict: Verdict,
  adjudicator: string,
): Promise<void> {
  const state = get();
  const item = state.items[state.selected];
  // Dropped while the list reloads too: the reply would put back rows without this verdict.
  if (!item || state.saving || state.status !== 'ready') return;
  const note = noteFor(state, item);
  const seq = loadSeq;
  set({ saving: true, saveError: null });
  try {
    await studio.adjudicate({ pairId: item.pairId, verdict, adjudicator, note });
    const announcement = `Pair ${item.pairId}: ${describeDecision(verdict, 'by-index')} is final.`;
    // The list was reloaded meanwhile (another kind): its rows are not those this was picked in.
    if (seq !== loadSeq) {
      set({ announcement });
      return;
    }
    const adjudication = { verdict, adjudicator, note, createdAt: Date.now() };
    set((current) => ({ ...settled(current, item.pairId, adjudication), announcement }));
  } catch (error) {
    const message = `Pair ${item.pairId} was not adjudicated: ${describeError(error)}`;
    set({ saveError: message, announcement: message });
  } finally {
    set({ saving: false });
  }
}

/** The lead's review: disagreements, surest model first, settled one by one with the keys. */
export const useReview = create<ReviewState>()((set, get, store) => ({
  kind: 'any',
  includeAdjudicated: true,
  status: 'loading',
  error: null,
  items: [],
  total: 0,
  selected: -1,
  saving: false,
  saveError: null,
  drafts: {},
  announcement: '',

  async load() {
    const seq = ++loadSeq;
    set({ status: 'loading', error: null, saveError: null });
    try {
      const page = await fetchPage(get(), 0);
      if (seq !== loadSeq) return;
      set({
        status: 'ready',
        items: page.items,
        total: page.total,
        selected: page.items.length > 0 ? 0 : -1,
      });
    } catch (error) {
      if (seq === loadSeq) set({ status: 'error', error: describeError(error) });
    }
  },

  loadMore: () => loadMore(store),

  setKind(kind) {
    set({ kind });
    return get().load();
  },

  setIncludeAdjudicated(includeAdjudicated) {
    set({ includeAdjudicated });
    return get().load();
  },

  select(index) {
    const { items } = get();
    if (index >= 0 && index < items.length) set({ selected: index, saveError: null });
  },

  move(by) {
    const { selected, items } = get();
    const next = selected + by;
    if (next >= items.length) {
      void get().loadMore();
      return;
    }
    get().select(next);
  },

  setDraft(pairId, note) {
    set((state) => ({ drafts: { ...state.drafts, [pairId]: note } }));
  },

  announce: (announcement) => set({ announcement }),

  adjudicate: (verdict, adjudicator) => adjudicate(store, verdict, adjudicator),
}));
