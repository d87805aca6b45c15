import type { HistoryEntry } from '../../../../shared/api';
import { studio } from '../../studio';
import { describeError } from '../project';
import { timing } from '../timing';
import { explainFailure, failAfterCommit, failOnPair } from './failures';
import { loadAndShow, putBack, showNext } from './queue';
import { acceptProgress, act, isLive, type Session } from './session';
import type { LabelingStore, ViewStatus } from './types';

/** Entries in the history strip. */
const HISTORY_LENGTH = 10;

export const loadHistory = (annotator: string): Promise<HistoryEntry[]> =>
  studio.getHistory({ annotator, limit: HISTORY_LENGTH });

/** A decision just saved heads the strip, replacing the pair's older entry. */
export function addToHistory(
  store: LabelingStore,
  entry: HistoryEntry,
  announcement: string,
): void {
  store.set((state) => ({
    history: [entry, ...state.history.filter((h) => h.pairId !== entry.pairId)].slice(
      0,
      HISTORY_LENGTH,
    ),
    announcement,
  }));
}

function nothingToUndo(store: LabelingStore, before: ViewStatus): void {
  timing.end();
  const status = before === 'error' && store.get().shown ? 'ready' : before;
  store.set({
    status,
    announcement: 'Nothing to undo.',
    ...(status === 'error' ? {} : { error: null, errorDetail: null }),
  });
}

/** Shows the pair whose decision was undone, and the strip without that decision. */
async function showUndone(
  store: LabelingStore,
  s: Session,
  undone: { annotationId: number; pairId: number; leftImage: 0 | 1 | null },
): Promise<void> {
  const { pairId } = undone;
  // An undecided pair again: the queue may have more to fetch than it last saw.
  s.exhausted = false;
  store.set({ announcement: `Undone: pair ${pairId} is back on screen.` });
  // It comes back the way round it was decided, where getPair would show the side of an earlier
  // decision that stands again, or draw a new one.
  try {
    const [history] = await Promise.all([
      loadHistory(s.annotator),
      loadAndShow(store, s, pairId, 'undo', undone.leftImage),
    ]);
    if (isLive(s)) store.set({ history });
  } catch (error) {
    failAfterCommit(
      store,
      s,
      `Undone, but pair ${pairId} could not be shown: ${describeError(error)}`,
    );
  }
}

/** Takes back the latest standing decision and puts its pair on screen to decide again. */
export const undo = (store: LabelingStore, keyAt: number): Promise<void> =>
  act(
    async (s) => {
      const before = store.get().status;
      const timed = timing.begin('undo', store.get().shown?.prepared.pair.pairId ?? null, keyAt);
      store.set({ status: 'saving' });
      const seq = ++s.requestSeq;
      const reply = await studio.undoLast({ annotator: s.annotator });
      timing.committed(timed);
      if (!isLive(s)) return;
      acceptProgress(store, s, seq, reply.progress);
      if (reply.undone) await showUndone(store, s, reply.undone);
      else nothingToUndo(store, before);
    },
    (error) => failOnPair(store, error),
  );

/** Opens a pair of the strip again, the way round it was decided, to change its decision. */
export const revisit = (store: LabelingStore, pairId: number): Promise<void> =>
  act(
    async (s) => {
      if (store.get().shown?.prepared.pair.pairId === pairId) return;
      store.set({ status: 'loading' });
      await loadAndShow(store, s, pairId, 'history');
    },
    (error) =>
      store.set({
        status: 'error',
        ...explainFailure(
          error,
          false,
          (described) => `Pair ${pairId} could not be opened: ${described}`,
        ),
      }),
  );

/** Leaves a revisited pair for the queue, where labeling was. */
export const backToQueue = (store: LabelingStore): Promise<void> =>
  act(
    async (s) => {
      const shown = store.get().shown;
      if (!shown || shown.origin !== 'history') return;
      putBack(store, s, null);
      await showNext(store, s);
    },
    (error) => store.set({ status: 'error', ...explainFailure(error, false) }),
  );
