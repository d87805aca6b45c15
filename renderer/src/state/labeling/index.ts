/**
 * The labeling view's controller: a queue of pairs decoded ahead (queue.ts), decisions saved
 * while the next pair shows, a failed one brought back (saving.ts), undo and the history strip (history.ts), and the
 * model's disagreement held on screen in 'after' mode (reveal.ts). One session per annotator
 * (session.ts) runs one user action at a time.
 */
import { create } from 'zustand';
import { explainFailure } from './failures';
import { backToQueue, loadHistory, revisit, undo } from './history';
import { refill, showNext } from './queue';
import { choose } from './saving';
import { act, beginSession, currentSession, endSession, isLive } from './session';
import type { LabelingState, LabelingStore } from './types';

export type { Shown } from './types';

/** What the view shows before a session's first pair arrives. */
const FRESH_VIEW = {
  status: 'loading',
  shown: null,
  error: null,
  errorDetail: null,
  progress: null,
  history: [],
  savingEntry: null,
  revealedSeq: null,
  nextReady: false,
  announcement: '',
} as const satisfies Partial<LabelingState>;

/** A session for the annotator: the strip and the queue together, then the first pair. */
function start(store: LabelingStore, annotator: string): void {
  const s = beginSession(annotator);
  store.set({ annotator, ...FRESH_VIEW });
  void (async () => {
    try {
      const [history] = await Promise.all([loadHistory(annotator), refill(store, s)]);
      if (!isLive(s)) return;
      store.set({ history });
      await showNext(store, s);
    } catch (error) {
      if (isLive(s)) store.set({ status: 'error', ...explainFailure(error, false) });
    } finally {
      s.busy = false;
    }
  })();
}

/** After a failure: the pair on screen becomes decidable again, or the next one is fetched. */
const retry = (store: LabelingStore): Promise<void> =>
  act(
    async (s) => {
      store.set({ error: null, errorDetail: null });
      if (store.get().shown) store.set({ status: 'ready' });
      else await showNext(store, s);
    },
    (error) => store.set({ status: 'error', ...explainFailure(error, false) }),
  );

export const useLabeling = create<LabelingState>()((set, get) => {
  const store: LabelingStore = { set, get };
  return {
    annotator: null,
    ...FRESH_VIEW,
    sheetOpen: false,
    start: (annotator) => start(store, annotator),
    stop() {
      endSession();
      set({ annotator: null, shown: null, status: 'loading', sheetOpen: false, nextReady: false });
    },
    choose: (decision, keyAt = performance.now()) => choose(store, decision, keyAt),
    undo: (keyAt = performance.now()) => undo(store, keyAt),
    revisit: (pairId) => revisit(store, pairId),
    backToQueue: () => backToQueue(store),
    retry: () => retry(store),
    setSheetOpen: (open) => set({ sheetOpen: open }),
    announce: (message) => set({ announcement: message }),
    painted(seq, at) {
      const s = currentSession();
      if (s && get().shown?.seq === seq) s.paint = { seq, at };
    },
    suggestionSeen(seq) {
      const s = currentSession();
      if (s && get().shown?.seq === seq) s.suggestionSeq = seq;
    },
  };
});
