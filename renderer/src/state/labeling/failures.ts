import { asStudioError } from '../../studio';
import { describeError } from '../project';
import { timing } from '../timing';
import { isLive, type Session } from './session';
import type { LabelingStore } from './types';

/** A save or an undo failed: the pair stays on screen with the reason. */
export function failOnPair(store: LabelingStore, error: unknown): void {
  timing.end();
  // A reply that never came says nothing of the commit: the decision may well be on disk.
  const message =
    asStudioError(error).code === 'unreachable'
      ? `Not confirmed: ${describeError(error)}. If it was saved, the history shows it once the studio answers again.`
      : `Not saved: ${describeError(error)}`;
  store.set({ status: 'error', error: message, announcement: message });
}

/** The decision or undo is on disk, but what should follow it could not be shown. */
export function failAfterCommit(store: LabelingStore, s: Session, message: string): void {
  if (!isLive(s)) return;
  timing.end();
  store.set({ status: 'error', error: message, announcement: message });
}
