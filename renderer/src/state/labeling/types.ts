import type { StoreApi } from 'zustand';
import type { HistoryEntry, LabelProgress } from '../../../../shared/api';
import type { Decision } from '../../../../shared/labels';
import type { PreparedPair } from '../images';

/** 'revealing': the verdict is saved and the model's disagreement is on screen. */
export type ViewStatus = 'loading' | 'ready' | 'saving' | 'revealing' | 'done' | 'error';
/** Where the pair on screen came from: the queue, the history strip, or an undo. */
export type Origin = 'queue' | 'history' | 'undo';

export interface Shown {
  prepared: PreparedPair;
  origin: Origin;
  /** Increases with every showing, so showing the same pair again is a new showing. */
  seq: number;
  /**
   * performance.now() when it was put on screen; the decision time counts from here until the
   * view reports the showing painted.
   */
  shownAt: number;
}

export interface LabelingState {
  annotator: string | null;
  status: ViewStatus;
  shown: Shown | null;
  /** The last failure, named; the pair it happened on stays on screen. */
  error: string | null;
  /** The technical message behind `error` where that says it in plain words, for a toggle. */
  errorDetail: string | null;
  progress: LabelProgress | null;
  /** The annotator's latest standing decisions, newest first, each with the side it was made on. */
  history: HistoryEntry[];
  /**
   * The decision being saved behind the next pair (its annotationId 0 until the commit answers):
   * the strip shows it first, marked saving; it joins `history` once committed, and is dropped
   * when the save fails.
   */
  savingEntry: HistoryEntry | null;
  /** The showing whose saved verdict the model disagrees with, while that is on screen. */
  revealedSeq: number | null;
  /**
   * The pair after the one on screen is decoded, so a decision shows it in the key's frame
   * rather than after the save answers (the view's `data-next-ready`, for tests).
   */
  nextReady: boolean;
  /** What the live region says: the last saved decision, undo, or a problem. */
  announcement: string;
  sheetOpen: boolean;
  start(annotator: string): void;
  stop(): void;
  /** Records a decision on the pair on screen (its verdict names image 0 or 1, not a side). */
  choose(decision: Decision, keyAt?: number): Promise<void>;
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

/** The store as the labeling modules work on it. */
export interface LabelingStore {
  get: StoreApi<LabelingState>['getState'];
  set: StoreApi<LabelingState>['setState'];
}
