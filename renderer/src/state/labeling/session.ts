import type { LabelPair, LabelProgress } from '../../../../shared/api';
import type { PreparedPair } from '../images';
import type { LabelingStore } from './types';

export interface QueueItem {
  pair: LabelPair;
  ready: Promise<PreparedPair>;
  prepared: PreparedPair | null;
}

/**
 * The controller's working set for one annotator; a new session (another annotator, a restart)
 * or the view's end makes every pending step of the old one a no-op.
 */
export interface Session {
  annotator: string;
  queue: QueueItem[];
  fetching: Promise<void> | null;
  fetchError: unknown;
  /** The server had no more pairs to hand out (undecided, or skipped once) beyond those held. */
  exhausted: boolean;
  /** Skips saved so far: a getQueue sent before the latest cannot say that nothing is left. */
  skips: number;
  /** Pairs between an undo or a history click and their showing: held, never fetched twice. */
  incoming: Set<number>;
  /** A user action (or the first load) is running; see `act`. */
  busy: boolean;
  /**
   * The decision saved behind the next pair (saving.ts): true once committed, false once it
   * failed and its pair is back on screen. At most one at a time; every action waits for it.
   */
  saving: Promise<boolean> | null;
  /** The pair of that decision, kept out of getQueue's answers until the commit answers. */
  savingPairId: number | null;
  paint: { seq: number; at: number } | null;
  /** The showing whose suggestion was on screen, for recordDecision's suggestionVisible. */
  suggestionSeq: number | null;
  /** Numbers the requests that reply with progress; a reply older than one applied is dropped. */
  requestSeq: number;
  progressSeq: number;
}

let current: Session | null = null;

/** A new session, busy until its first pair is up, replacing any other. */
export function beginSession(annotator: string): Session {
  current = {
    annotator,
    queue: [],
    fetching: null,
    fetchError: null,
    exhausted: false,
    skips: 0,
    incoming: new Set(),
    busy: true,
    saving: null,
    savingPairId: null,
    paint: null,
    suggestionSeq: null,
    requestSeq: 0,
    progressSeq: 0,
  };
  return current;
}

export function endSession(): void {
  current = null;
}

export const currentSession = (): Session | null => current;

export const isLive = (s: Session): boolean => current === s;

/** Applies progress in the order the requests were sent: a late reply to an older one is dropped. */
export function acceptProgress(
  store: LabelingStore,
  s: Session,
  seq: number,
  progress: LabelProgress,
): void {
  if (!isLive(s) || seq < s.progressSeq) return;
  s.progressSeq = seq;
  store.set({ progress });
}

/**
 * Runs one user action at a time; keys pressed meanwhile are ignored, never queued. An action
 * starts after the decision being saved behind the screen has answered, so decisions and undos
 * reach the project in the order pressed; where that save failed, its pair is back on screen with
 * the reason, and the action, meant for the screen before, is dropped.
 */
export async function act(
  run: (s: Session) => Promise<void>,
  onError: (error: unknown) => void,
): Promise<void> {
  const s = current;
  if (!s || s.busy) return;
  s.busy = true;
  try {
    if (s.saving && !(await s.saving)) return;
    if (!isLive(s)) return;
    await run(s);
  } catch (error) {
    if (isLive(s)) onError(error);
  } finally {
    s.busy = false;
  }
}
