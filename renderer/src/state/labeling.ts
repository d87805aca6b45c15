import { create } from 'zustand';
import {
  isDisagreement,
  type HistoryEntry,
  type LabelPair,
  type LabelProgress,
  type Verdict,
} from '../../../shared/api';
import { asStudioError, studio } from '../studio';
import { bothShowable, preparePair, type PreparedPair } from './images';
import type { Choice } from './keys';
import { describeError, useProject } from './project';
import { describePreference } from './suggestion';
import { timing } from './timing';

/** Pairs held decoded and ready behind the one on screen. */
export const PREFETCH = 6;
/** Refill when fewer than this many are held, so one getQueue brings several pairs. */
const REFILL_BELOW = 4;
export const HISTORY_LENGTH = 10;
/**
 * How long a disagreement stays on screen after its verdict is saved, in 'after' mode: long
 * enough to be noticed, short enough not to break the rhythm.
 */
export const REVEAL_MS = 500;

/** 'revealing': the verdict is saved and the model's disagreement is on screen. */
export type ViewStatus = 'loading' | 'ready' | 'saving' | 'revealing' | 'done' | 'error';
/** Where the pair on screen came from: the queue, the history strip, or an undo. */
export type Origin = 'queue' | 'history' | 'undo';

export interface Shown {
  prepared: PreparedPair;
  origin: Origin;
  /** Increases with every showing, so showing the same pair again is a new showing. */
  seq: number;
  /** performance.now() when it was put on screen (the pair timer counts from here). */
  shownAt: number;
}

interface LabelingState {
  annotator: string | null;
  status: ViewStatus;
  shown: Shown | null;
  /** The last failure, named; the pair it happened on stays on screen. */
  error: string | null;
  progress: LabelProgress | null;
  history: HistoryEntry[];
  /** The side each pair was shown on when this session decided it (image index shown left). */
  leftImages: Record<number, 0 | 1>;
  /** The showing whose saved verdict the model disagrees with, while that is on screen. */
  revealedSeq: number | null;
  /** What the live region says: the last saved decision, undo, or a problem. */
  announcement: string;
  sheetOpen: boolean;
  start(annotator: string): void;
  stop(): void;
  choose(choice: Choice, keyAt?: number): Promise<void>;
  undo(keyAt?: number): Promise<void>;
  revisit(pairId: number): Promise<void>;
  backToQueue(): Promise<void>;
  retry(): Promise<void>;
  setSheetOpen(open: boolean): void;
  announce(message: string): void;
  /** The view reports when a showing was painted; decision times count from there. */
  painted(seq: number, at: number): void;
  /** The view reports that a showing had the model's suggestion on screen before its decision. */
  suggestionSeen(seq: number): void;
}

interface QueueItem {
  pair: LabelPair;
  ready: Promise<PreparedPair>;
  prepared: PreparedPair | null;
}

/**
 * The controller's working set for one annotator; a new session (another annotator, a restart)
 * makes every pending step of the old one a no-op.
 */
interface Session {
  annotator: string;
  queue: QueueItem[];
  fetching: Promise<void> | null;
  fetchError: unknown;
  /** The server had no more undecided pairs beyond those held, at the last look. */
  exhausted: boolean;
  /** Pairs between an undo or a history click and their showing: held, never fetched twice. */
  incoming: Set<number>;
  busy: boolean;
  paint: { seq: number; at: number } | null;
  /** The showing whose suggestion was on screen, for recordDecision's suggestionVisible. */
  suggestionSeq: number | null;
  /** Progress replies are applied in the order their requests were sent. */
  requestSeq: number;
  progressSeq: number;
}

let session: Session | null = null;
let showSeq = 0;

const verdictFor = (choice: Choice, leftImage: 0 | 1): Verdict | null =>
  choice === 'skip'
    ? null
    : choice === 'tie'
      ? 'tie'
      : choice === 'left'
        ? leftImage
        : leftImage === 0
          ? 1
          : 0;

export function describeDecision(decision: HistoryEntry['decision'], leftImage?: 0 | 1): string {
  if (decision === 'skip') return 'skipped';
  if (decision === 'tie') return 'tie';
  if (leftImage === undefined) return `image ${decision + 1} better`;
  return decision === leftImage ? 'left image better' : 'right image better';
}

/** What the view shows before a session's first pair arrives. */
const FRESH_VIEW = {
  status: 'loading',
  shown: null,
  error: null,
  progress: null,
  history: [],
  leftImages: {},
  revealedSeq: null,
  announcement: '',
} as const satisfies Partial<LabelingState>;

export const useLabeling = create<LabelingState>()((set, get) => {
  const live = (s: Session): boolean => session === s;

  const heldIds = (s: Session): number[] => {
    const ids = new Set<number>(s.incoming);
    const shown = get().shown;
    if (shown) ids.add(shown.prepared.pair.pairId);
    for (const item of s.queue) ids.add(item.pair.pairId);
    return [...ids].slice(0, 500);
  };

  const acceptProgress = (s: Session, seq: number, progress: LabelProgress): void => {
    if (!live(s) || seq < s.progressSeq) return;
    s.progressSeq = seq;
    set({ progress });
  };

  const enqueue = (s: Session, pair: LabelPair): void => {
    const item: QueueItem = { pair, prepared: null, ready: preparePair(pair) };
    void item.ready.then((prepared) => (item.prepared = prepared));
    s.queue.push(item);
  };

  /** Tops the queue up in the background; one request at a time. */
  const refill = (s: Session): Promise<void> => {
    if (s.fetching) return s.fetching;
    if (s.exhausted || s.queue.length >= REFILL_BELOW) return Promise.resolve();
    const count = PREFETCH - s.queue.length;
    const seq = ++s.requestSeq;
    s.fetchError = null;
    s.fetching = (async () => {
      try {
        const reply = await studio.getQueue({
          annotator: s.annotator,
          count,
          excludePairIds: heldIds(s),
        });
        if (!live(s)) return;
        acceptProgress(s, seq, reply.progress);
        // A pair taken back by an undo while this request was on its way may come back here too.
        const held = new Set(heldIds(s));
        for (const pair of reply.pairs) if (!held.has(pair.pairId)) enqueue(s, pair);
        s.exhausted = reply.pairs.length < count;
      } catch (error) {
        s.fetchError = error;
      } finally {
        s.fetching = null;
      }
    })();
    return s.fetching;
  };

  const show = (s: Session, prepared: PreparedPair, origin: Origin): void => {
    const known = get().leftImages[prepared.pair.pairId];
    // A pair seen before in this session comes back the way round it was seen.
    const pair = known === undefined ? prepared.pair : { ...prepared.pair, leftImage: known };
    s.paint = null;
    s.suggestionSeq = null;
    set({
      shown: {
        prepared: { ...prepared, pair },
        origin,
        seq: ++showSeq,
        shownAt: performance.now(),
      },
      status: 'ready',
      error: null,
      revealedSeq: null,
    });
    setTimeout(() => void refill(s), 0);
  };

  /** Puts the next queued pair on screen, waiting for it only when prefetch fell behind. */
  const showNext = async (s: Session): Promise<void> => {
    for (;;) {
      if (!live(s)) return;
      const head = s.queue[0];
      if (head?.prepared) {
        s.queue.shift();
        show(s, head.prepared, 'queue');
        return;
      }
      if (get().shown !== null || get().status !== 'loading')
        set({ shown: null, status: 'loading' });
      if (head) {
        await head.ready;
      } else if (s.fetching) {
        await s.fetching;
      } else if (s.fetchError !== null) {
        const error = s.fetchError;
        s.fetchError = null;
        throw error;
      } else if (s.exhausted) {
        set({ status: 'done' });
        return;
      } else {
        await refill(s);
      }
    }
  };

  /** The pair on screen goes back to the front of the queue when it is still undecided. */
  const putBack = (s: Session, replacedBy: number): void => {
    const shown = get().shown;
    if (!shown || shown.prepared.pair.pairId === replacedBy) return;
    if (shown.prepared.pair.decision !== null) return;
    const prepared = shown.prepared;
    s.queue.unshift({ pair: prepared.pair, prepared, ready: Promise.resolve(prepared) });
  };

  /** Runs one user action at a time; keys pressed meanwhile are ignored, never queued. */
  const act = async (
    run: (s: Session) => Promise<void>,
    onError: (s: Session, error: unknown) => void,
  ): Promise<void> => {
    const s = session;
    if (!s || s.busy) return;
    s.busy = true;
    try {
      await run(s);
    } catch (error) {
      if (live(s)) onError(s, error);
    } finally {
      s.busy = false;
    }
  };

  const failOnPair = (_s: Session, error: unknown): void => {
    timing.end();
    // A reply that never came says nothing of the commit: the decision may well be on disk.
    const message =
      asStudioError(error).code === 'unreachable'
        ? `Not confirmed: ${describeError(error)}. If it was saved, the history shows it once the studio answers again.`
        : `Not saved: ${describeError(error)}`;
    set({ status: 'error', error: message, announcement: message });
  };

  const failAfterCommit = (s: Session, message: string): void => {
    if (!live(s)) return;
    timing.end();
    set({ status: 'error', error: message, announcement: message });
  };

  const loadAndShow = async (s: Session, pairId: number, origin: Origin): Promise<void> => {
    s.incoming.add(pairId);
    try {
      const pair = await studio.getPair({ annotator: s.annotator, pairId });
      const prepared = await preparePair(pair);
      if (!live(s)) return;
      putBack(s, pairId);
      show(s, prepared, origin);
    } finally {
      s.incoming.delete(pairId);
    }
  };

  return {
    annotator: null,
    ...FRESH_VIEW,
    sheetOpen: false,

    start(annotator) {
      const s: Session = {
        annotator,
        queue: [],
        fetching: null,
        fetchError: null,
        exhausted: false,
        incoming: new Set(),
        busy: true,
        paint: null,
        suggestionSeq: null,
        requestSeq: 0,
        progressSeq: 0,
      };
      session = s;
      set({ annotator, ...FRESH_VIEW });
      void (async () => {
        try {
          const [history] = await Promise.all([
            studio.getHistory({ annotator, limit: HISTORY_LENGTH }),
            refill(s),
          ]);
          if (!live(s)) return;
          set({ history });
          await showNext(s);
        } catch (error) {
          if (live(s)) set({ status: 'error', error: describeError(error) });
        } finally {
          s.busy = false;
        }
      })();
    },

    stop() {
      session = null;
      set({ annotator: null, shown: null, status: 'loading', sheetOpen: false });
    },

    choose: (choice, keyAt = performance.now()) =>
      act(async (s) => {
        const shown = get().shown;
        if (!shown) return;
        const { pair } = shown.prepared;
        if (choice !== 'skip' && !bothShowable(shown.prepared)) {
          set({ announcement: 'An image is missing: press Space to skip this pair.' });
          return;
        }
        timing.begin(choice, pair.pairId, keyAt);
        set({ status: 'saving' });
        const paintedAt = s.paint?.seq === shown.seq ? s.paint.at : shown.shownAt;
        const verdict = verdictFor(choice, pair.leftImage);
        const seq = ++s.requestSeq;
        const reply = await studio.recordDecision({
          annotator: s.annotator,
          pairId: pair.pairId,
          verdict,
          leftImage: pair.leftImage,
          suggestionVisible: s.suggestionSeq === shown.seq,
          decisionMs: Math.min(86_400_000, Math.max(0, Math.round(keyAt - paintedAt))),
        });
        // On disk from here on: only now may the view move on.
        timing.committed();
        if (!live(s)) return;
        const decision = verdict === null ? 'skip' : verdict;
        const entry: HistoryEntry = {
          annotationId: reply.annotationId,
          pairId: pair.pairId,
          prompt: pair.prompt,
          decision,
          createdAt: Date.now(),
          model: pair.suggestion?.model ?? null,
          p0: pair.suggestion?.p0 ?? null,
        };
        const { suggestion } = pair;
        const settings = useProject.getState().settings;
        const disagrees =
          suggestion !== null &&
          settings?.suggestionMode === 'after' &&
          isDisagreement(decision, suggestion.p0, settings.tieThreshold);
        const saved = `Saved pair ${pair.pairId}: ${describeDecision(decision, pair.leftImage)}.`;
        const announcement = disagrees
          ? `${saved} ${describePreference(suggestion, pair.leftImage)}.`
          : saved;
        set((state) => ({ leftImages: { ...state.leftImages, [pair.pairId]: pair.leftImage } }));
        if (disagrees) {
          // Saved already; the next pair waits so the disagreement is seen before it goes.
          set({ status: 'revealing', revealedSeq: shown.seq, announcement });
          await new Promise((resolve) => setTimeout(resolve, REVEAL_MS));
          if (!live(s)) return;
        }
        // The next pair first; the strip, the progress and the announcement in the next task,
        // so that only the pair is rendered between the commit and the frame that shows it.
        const after = (): void => {
          if (!live(s)) return;
          acceptProgress(s, seq, reply.progress);
          set((state) => ({
            history: [entry, ...state.history.filter((h) => h.pairId !== pair.pairId)].slice(
              0,
              HISTORY_LENGTH,
            ),
            announcement,
          }));
        };
        const nextIsReady = Boolean(s.queue[0]?.prepared);
        if (!nextIsReady) after();
        try {
          await showNext(s);
        } catch (error) {
          // The decision is on disk; only the next pair is missing.
          failAfterCommit(s, `Saved. The next pair could not be loaded: ${describeError(error)}`);
        } finally {
          if (get().status !== 'ready') timing.end();
          if (nextIsReady) setTimeout(after, 0);
        }
      }, failOnPair),

    undo: (keyAt = performance.now()) =>
      act(async (s) => {
        const before = get().status;
        timing.begin('undo', get().shown?.prepared.pair.pairId ?? null, keyAt);
        set({ status: 'saving' });
        const seq = ++s.requestSeq;
        const reply = await studio.undoLast({ annotator: s.annotator });
        timing.committed();
        if (!live(s)) return;
        acceptProgress(s, seq, reply.progress);
        if (!reply.undone) {
          timing.end();
          const status = before === 'error' && get().shown ? 'ready' : before;
          set({
            status,
            announcement: 'Nothing to undo.',
            ...(status === 'error' ? {} : { error: null }),
          });
          return;
        }
        const { pairId } = reply.undone;
        s.exhausted = false;
        set({ announcement: `Undone: pair ${pairId} is back on screen.` });
        try {
          const [history] = await Promise.all([
            studio.getHistory({ annotator: s.annotator, limit: HISTORY_LENGTH }),
            loadAndShow(s, pairId, 'undo'),
          ]);
          if (live(s)) set({ history });
        } catch (error) {
          failAfterCommit(
            s,
            `Undone, but pair ${pairId} could not be shown: ${describeError(error)}`,
          );
        }
      }, failOnPair),

    revisit: (pairId) =>
      act(
        async (s) => {
          if (get().shown?.prepared.pair.pairId === pairId) return;
          set({ status: 'loading' });
          await loadAndShow(s, pairId, 'history');
        },
        (_s, error) =>
          set({
            status: 'error',
            error: `Pair ${pairId} could not be opened: ${describeError(error)}`,
          }),
      ),

    backToQueue: () =>
      act(
        async (s) => {
          const shown = get().shown;
          if (!shown || shown.origin !== 'history') return;
          putBack(s, -1);
          await showNext(s);
        },
        (_s, error) => set({ status: 'error', error: describeError(error) }),
      ),

    retry: () =>
      act(
        async (s) => {
          set({ error: null });
          if (get().shown) set({ status: 'ready' });
          else await showNext(s);
        },
        (_s, error) => set({ status: 'error', error: describeError(error) }),
      ),

    setSheetOpen: (open) => set({ sheetOpen: open }),

    announce: (message) => set({ announcement: message }),

    painted(seq, at) {
      if (session && get().shown?.seq === seq) session.paint = { seq, at };
    },

    suggestionSeen(seq) {
      if (session && get().shown?.seq === seq) session.suggestionSeq = seq;
    },
  };
});
