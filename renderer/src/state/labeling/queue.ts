import type { LabelPair } from '../../../../shared/api';
import { studio } from '../../studio';
import { preparePair, type PreparedPair } from '../images';
import { acceptProgress, isLive, type QueueItem, type Session } from './session';
import type { LabelingStore, Origin } from './types';

/** Pairs the queue holds behind the one on screen, their images decoded ahead. */
const PREFETCH = 6;
/** Refill when fewer than this many are held, so one getQueue brings several pairs. */
const REFILL_BELOW = 4;
/** The most pair ids getQueue takes to leave out. */
const MAX_EXCLUDED = 500;

let showSeq = 0;

/** The pairs the view holds: on screen, queued, or on their way after an undo or a history click. */
function heldIds(store: LabelingStore, s: Session): number[] {
  const ids = new Set<number>(s.incoming);
  if (s.savingPairId !== null) ids.add(s.savingPairId);
  const shown = store.get().shown;
  if (shown) ids.add(shown.prepared.pair.pairId);
  for (const item of s.queue) ids.add(item.pair.pairId);
  return [...ids].slice(0, MAX_EXCLUDED);
}

/** Queues a pair and starts decoding its images at once. */
function enqueue(store: LabelingStore, s: Session, pair: LabelPair): void {
  const item: QueueItem = { pair, prepared: null, ready: preparePair(pair) };
  void item.ready.then((prepared) => {
    item.prepared = prepared;
    syncNextReady(store, s);
  });
  s.queue.push(item);
}

/** The store's `nextReady` after the queue's head changed or got decoded. */
function syncNextReady(store: LabelingStore, s: Session): void {
  if (!isLive(s)) return;
  const ready = nextIsReady(s);
  if (store.get().nextReady !== ready) store.set({ nextReady: ready });
}

/** Tops the queue up in the background; one request at a time. */
export function refill(store: LabelingStore, s: Session): Promise<void> {
  if (s.fetching) return s.fetching;
  if (s.exhausted || s.queue.length >= REFILL_BELOW) return Promise.resolve();
  s.fetchError = null;
  s.fetching = (async () => {
    try {
      // Sent behind a decision on its way, getQueue could reach the project before its commit,
      // and its progress, newer, would count one short.
      if (s.saving) await s.saving;
      if (!isLive(s)) return;
      const count = PREFETCH - s.queue.length;
      if (count <= 0) return;
      const seq = ++s.requestSeq;
      const skips = s.skips;
      const reply = await studio.getQueue({
        annotator: s.annotator,
        count,
        excludePairIds: heldIds(store, s),
      });
      if (!isLive(s)) return;
      acceptProgress(store, s, seq, reply.progress);
      // A pair taken back by an undo while this request was on its way may come back here too.
      const held = new Set(heldIds(store, s));
      for (const pair of reply.pairs) if (!held.has(pair.pairId)) enqueue(store, s, pair);
      // A skip saved meanwhile is a pair to come back, which this reply could not know of.
      s.exhausted = reply.pairs.length < count && s.skips === skips;
    } catch (error) {
      s.fetchError = error;
    } finally {
      s.fetching = null;
    }
  })();
  return s.fetching;
}

/** Puts a pair on screen as a new showing, and tops the queue up after it. */
export function show(
  store: LabelingStore,
  s: Session,
  prepared: PreparedPair,
  origin: Origin,
): void {
  s.paint = null;
  s.suggestionSeq = null;
  store.set({
    shown: { prepared, origin, seq: ++showSeq, shownAt: performance.now() },
    status: 'ready',
    error: null,
    errorDetail: null,
    revealedSeq: null,
  });
  syncNextReady(store, s);
  setTimeout(() => void refill(store, s), 0);
}

/** Puts the next queued pair on screen, waiting for it only when prefetch fell behind. */
export async function showNext(store: LabelingStore, s: Session): Promise<void> {
  for (;;) {
    if (!isLive(s)) return;
    const head = s.queue[0];
    if (head?.prepared) {
      s.queue.shift();
      show(store, s, head.prepared, 'queue');
      return;
    }
    const { shown, status } = store.get();
    if (shown !== null || status !== 'loading') store.set({ shown: null, status: 'loading' });
    if (head) {
      await head.ready;
    } else if (s.fetching) {
      await s.fetching;
    } else if (s.fetchError !== null) {
      const error = s.fetchError;
      s.fetchError = null;
      throw error;
    } else if (s.exhausted) {
      store.set({ status: 'done' });
      return;
    } else {
      await refill(store, s);
    }
  }
}

/** The next pair the queue would show is decoded already. */
export const nextIsReady = (s: Session): boolean => Boolean(s.queue[0]?.prepared);

/** Puts the next queued pair on screen now, in this task; false where it is not decoded yet. */
export function showNextNow(store: LabelingStore, s: Session): boolean {
  const head = s.queue[0];
  if (!head?.prepared) return false;
  s.queue.shift();
  show(store, s, head.prepared, 'queue');
  return true;
}

/**
 * The pair on screen goes back to the front of the queue when it is still to decide: undecided,
 * or the queue's skipped pair come back.
 */
export function putBack(store: LabelingStore, s: Session, replacedBy: number | null): void {
  const shown = store.get().shown;
  if (!shown || shown.prepared.pair.pairId === replacedBy) return;
  if (shown.origin !== 'queue' && shown.prepared.pair.decision !== null) return;
  const prepared = shown.prepared;
  s.queue.unshift({ pair: prepared.pair, prepared, ready: Promise.resolve(prepared) });
  syncNextReady(store, s);
}

/**
 * Fetches one pair and puts it on screen in place of the one there. getPair gives a decided pair
 * the side its decision was made on; `leftImage` overrides it, for a pair whose decision is gone.
 */
export async function loadAndShow(
  store: LabelingStore,
  s: Session,
  pairId: number,
  origin: Origin,
  leftImage: 0 | 1 | null = null,
): Promise<void> {
  s.incoming.add(pairId);
  try {
    const pair = await studio.getPair({ annotator: s.annotator, pairId });
    const prepared = await preparePair(leftImage === null ? pair : { ...pair, leftImage });
    if (!isLive(s)) return;
    // A skipped pair come back may be queued already: it is on screen now, and the server
    // hands it out again (so the queue may have more) if it is still to decide afterwards.
    const queued = s.queue.findIndex((item) => item.pair.pairId === pairId);
    if (queued !== -1) {
      s.queue.splice(queued, 1);
      s.exhausted = false;
    }
    putBack(store, s, pairId);
    show(store, s, prepared, origin);
  } finally {
    s.incoming.delete(pairId);
  }
}
