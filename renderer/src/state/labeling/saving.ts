import type { HistoryEntry, MethodArgs } from '../../../../shared/api';
import { describeDecision, type Decision } from '../../../../shared/labels';
import { studio } from '../../studio';
import { bothShowable } from '../images';
import { labelingKeys } from '../keys';
import { describeError } from '../project';
import { timing, type KeyTiming } from '../timing';
import { failAfterCommit, failOnPair } from './failures';
import { addToHistory } from './history';
import { nextIsReady, putBack, show, showNext, showNextNow } from './queue';
import { disagreementToReveal, revealDisagreement } from './reveal';
import { acceptProgress, act, isLive, type Session } from './session';
import type { LabelingStore, Shown } from './types';

/** What recordDecision is told about a decision on the showing: the pair, the side, the time. */
function decisionArgs(
  s: Session,
  shown: Shown,
  decision: Decision,
  keyAt: number,
): MethodArgs<'recordDecision'> {
  const { pair } = shown.prepared;
  const paintedAt = s.paint?.seq === shown.seq ? s.paint.at : shown.shownAt;
  return {
    annotator: s.annotator,
    pairId: pair.pairId,
    decision,
    leftImage: pair.leftImage,
    suggestionVisible: s.suggestionSeq === shown.seq,
    decisionMs: Math.min(86_400_000, Math.max(0, Math.round(keyAt - paintedAt))),
  };
}

function historyEntry(shown: Shown, decision: Decision, annotationId: number): HistoryEntry {
  const { pair } = shown.prepared;
  return {
    annotationId,
    pairId: pair.pairId,
    prompt: pair.prompt,
    decision,
    leftImage: pair.leftImage,
    createdAt: Date.now(),
    model: pair.suggestion?.model ?? null,
    p0: pair.suggestion?.p0 ?? null,
  };
}

/**
 * After a commit: the next pair first, then `catchUp` (the strip, the progress, the
 * announcement). With the next pair decoded already, `catchUp` waits for the next task, so that
 * only the pair is rendered between the commit and the frame that shows it.
 */
async function moveOn(store: LabelingStore, s: Session, catchUp: () => void): Promise<void> {
  const after = (): void => {
    if (isLive(s)) catchUp();
  };
  const deferred = nextIsReady(s);
  if (!deferred) after();
  try {
    await showNext(store, s);
  } catch (error) {
    // The decision is on disk; only the next pair is missing.
    failAfterCommit(store, s, `Saved. The next pair could not be loaded: ${describeError(error)}`);
  } finally {
    if (store.get().status !== 'ready') timing.end();
    if (deferred) setTimeout(after, 0);
  }
}

/** What a saved decision changes in the session: a first skip is a pair to come back. */
function noteSaved(s: Session, decision: Decision): void {
  // A pair skipped for the first time comes back after the undecided ones (getQueue).
  if (decision === 'skip') {
    s.skips++;
    s.exhausted = false;
  }
}

const savedAnnouncement = (shown: Shown, decision: Decision): string => {
  const { pair } = shown.prepared;
  return `Saved pair ${pair.pairId}: ${describeDecision(decision, { leftImage: pair.leftImage })}.`;
};

/**
 * The normal case: the next pair is decoded, so it goes up in the frame of the key while the
 * decision is saved behind it. The history strip heads with the decision marked saving until
 * the commit answers; then it is saved there, counted in the progress and announced. A save that
 * fails brings its pair back on screen with the reason (the pair shown meanwhile returns to the
 * front of the queue), and the strip and the progress never count it. Every later action waits
 * for the answer first (`act`), so only one decision is ever on its way.
 */
function saveBehindNextPair(
  store: LabelingStore,
  s: Session,
  shown: Shown,
  decision: Decision,
  args: MethodArgs<'recordDecision'>,
  timed: KeyTiming,
): void {
  const { pair } = shown.prepared;
  const seq = ++s.requestSeq;
  // Sent before the render work, which then overlaps the round trip.
  const request = studio.recordDecision(args);
  s.savingPairId = pair.pairId;
  store.set({ savingEntry: historyEntry(shown, decision, 0) });
  showNextNow(store, s);
  s.saving = request
    .then(
      (reply) => {
        timing.committed(timed);
        if (!isLive(s)) return true;
        noteSaved(s, decision);
        acceptProgress(store, s, seq, reply.progress);
        store.set({ savingEntry: null });
        addToHistory(
          store,
          historyEntry(shown, decision, reply.annotationId),
          savedAnnouncement(shown, decision),
        );
        return true;
      },
      (error: unknown) => {
        if (!isLive(s)) return false;
        store.set({ savingEntry: null });
        putBack(store, s, pair.pairId);
        show(store, s, shown.prepared, shown.origin);
        failOnPair(store, error);
        return false;
      },
    )
    .finally(() => {
      s.saving = null;
      s.savingPairId = null;
    });
}

/**
 * Saves a decision on the pair on screen. The next pair goes up at once when it is decoded
 * (`saveBehindNextPair`); else, and when a disagreement is to be flashed first, once the
 * decision is committed.
 */
export const choose = (store: LabelingStore, decision: Decision, keyAt: number): Promise<void> =>
  act(
    async (s) => {
      const shown = store.get().shown;
      if (!shown) return;
      const { pair } = shown.prepared;
      if (decision !== 'skip' && !bothShowable(shown.prepared)) {
        const skipKeys = labelingKeys('skip').keys;
        store.set({ announcement: `An image is missing: press ${skipKeys} to skip this pair.` });
        return;
      }
      const timed = timing.begin(decision, pair.pairId, keyAt);
      const args = decisionArgs(s, shown, decision, keyAt);
      const disagreement = disagreementToReveal(pair, decision);
      if (disagreement === null && nextIsReady(s)) {
        saveBehindNextPair(store, s, shown, decision, args, timed);
        return;
      }
      store.set({ status: 'saving' });
      const seq = ++s.requestSeq;
      const reply = await studio.recordDecision(args);
      // On disk from here on: only now may the view move on.
      timing.committed(timed);
      if (!isLive(s)) return;
      noteSaved(s, decision);
      const saved = savedAnnouncement(shown, decision);
      const announcement = disagreement === null ? saved : `${saved} ${disagreement}.`;
      const entry = historyEntry(shown, decision, reply.annotationId);
      if (disagreement !== null && !(await revealDisagreement(store, s, shown, announcement))) {
        return;
      }
      await moveOn(store, s, () => {
        acceptProgress(store, s, seq, reply.progress);
        addToHistory(store, entry, announcement);
      });
    },
    (error) => failOnPair(store, error),
  );
