import { create, type StoreApi } from 'zustand';
import type {
  Adjudication,
  Disagreement,
  DisagreementKind,
  ReviewCell,
  ReviewFilters,
} from '../../../shared/audit';
import { describeDecision, type Verdict } from '../../../shared/labels';
import { studio } from '../studio';
import { describeError } from './project';
import { useView } from './view';

/** Rows fetched per page; more come when the selection reaches the end of those held. */
const PAGE = 100;
/** Typing in the search waits this long for the next key before the list is asked again. */
export const SEARCH_WAIT_MS = 250;

/** What opens review on a dashboard number: the filters, and the number as people read it. */
export interface ReviewPreset {
  kind: DisagreementKind;
  filters: ReviewFilters;
  /** What the cell's pairs are, e.g. "ana and ben both judged"; shown while the cell is on. */
  cellLabel?: string;
}

/** Filters with the unset ones dropped: false, empty and undefined are no filter. */
function withoutEmpty(filters: ReviewFilters): ReviewFilters {
  const kept: ReviewFilters = {};
  for (const [key, value] of Object.entries(filters) as [keyof ReviewFilters, unknown][]) {
    if (value !== undefined && value !== false && value !== '') {
      (kept as Record<string, unknown>)[key] = value;
    }
  }
  return kept;
}

interface ReviewState {
  kind: DisagreementKind;
  includeAdjudicated: boolean;
  /** Search, annotator, generator, flagged, gold, majority and a dashboard cell (ANDed). */
  filters: ReviewFilters;
  /** The search box's text, ahead of `filters.search` while typing. */
  searchText: string;
  cellLabel: string | null;
  /** For a confusion cell: its verdicts among the pairs listed (the cell's number). */
  cellVerdicts: number | null;
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
  /** Narrows or widens the list; an unset field is no filter. Re-queries at once. */
  setFilters(change: Partial<ReviewFilters>): Promise<void>;
  /** The search box's text; the list follows once typing pauses. */
  setSearch(text: string): void;
  /** Review as a dashboard number opens it: these filters only, the list loaded on mount. */
  preset(preset: ReviewPreset): void;
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
    ...state.filters,
    kind: state.kind,
    includeAdjudicated: state.includeAdjudicated,
    offset,
    limit: PAGE,
  });

let searchTimer: ReturnType<typeof setTimeout> | undefined;

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

/** The filters' actions: each change loads the list again (the search once typing pauses). */
function filterActions(
  store: ReviewStore,
): Pick<ReviewState, 'setFilters' | 'setSearch' | 'preset'> {
  return {
    setFilters(change) {
      const filters = withoutEmpty({ ...store.getState().filters, ...change });
      store.setState({ filters, ...(filters.cell ? {} : { cellLabel: null }) });
      return store.getState().load();
    },

    setSearch(searchText) {
      store.setState({ searchText });
      clearTimeout(searchTimer);
      searchTimer = setTimeout(() => {
        const search = store.getState().searchText.trim();
        if (search !== (store.getState().filters.search ?? ''))
          void store.getState().setFilters({ search });
      }, SEARCH_WAIT_MS);
    },

    preset({ kind, filters, cellLabel }) {
      clearTimeout(searchTimer);
      loadSeq++;
      store.setState({
        kind,
        includeAdjudicated: true,
        filters: withoutEmpty(filters),
        searchText: filters.search ?? '',
        cellLabel: cellLabel ?? null,
        cellVerdicts: null,
        status: 'loading',
        items: [],
        total: 0,
        selected: -1,
        saveError: null,
      });
    },
  };
}

/** The lead's review: disagreements, surest model first, settled one by one with the keys. */
export const useReview = create<ReviewState>()((set, get, store) => ({
  kind: 'any',
  includeAdjudicated: true,
  filters: {},
  searchText: '',
  cellLabel: null,
  cellVerdicts: null,
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
        cellVerdicts: page.cellVerdicts ?? null,
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

  ...filterActions(store),

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

/**
 * Opens review on the pairs behind a number of the dashboard (a κ row, a confusion cell): every
 * judged pair, the cell's only, under the filters the number was computed with.
 */
export function showPairsBehind(cell: ReviewCell, cellLabel: string): void {
  useReview.getState().preset({ kind: 'all', filters: { cell }, cellLabel });
  useView.getState().go('review');
}
