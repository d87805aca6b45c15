import { asStudioError } from '../../studio';
import { describeError } from '../project';
import { timing } from '../timing';
import { isLive, type Session } from './session';
import type { LabelingState, LabelingStore } from './types';

type Explained = Pick<LabelingState, 'error' | 'errorDetail'>;

/**
 * A failure as the view shows it. When the server is gone or was restarted, the annotator needs
 * to know what happened and what to do, in plain words; the transport's message (a fetch error,
 * an HTTP status) means nothing to them, so it goes behind a toggle for whoever helps them.
 * `saving`: the failure cut short a decision or an undo.
 */
export function explainFailure(
  error: unknown,
  saving: boolean,
  otherwise: (described: string) => string = (described) => described,
): Explained {
  const { code } = asStudioError(error);
  const detail = describeError(error);
  if (code === 'unreachable') {
    // A reply that never came says nothing of the commit: the decision may well be on disk.
    const saved = saving ? ' Your last decision may not be saved.' : '';
    return {
      error: `Pick Studio's server is not answering.${saved} Check that pickstudio serve is still running, then reload.`,
      errorDetail: detail,
    };
  }
  if (code === 'session_ended') {
    // The server refused the call before looking at it: nothing of it was written.
    const saved = saving ? ' Your last decision was not saved.' : '';
    return {
      error: `Pick Studio's server was restarted, so this tab no longer has access.${saved} Open the address the pickstudio command printed (it carries a new token).`,
      errorDetail: detail,
    };
  }
  return { error: otherwise(detail), errorDetail: null };
}

/** A save or an undo failed: the pair stays on screen with the reason. */
export function failOnPair(store: LabelingStore, error: unknown): void {
  timing.end();
  const explained = explainFailure(error, true, (described) => `Not saved: ${described}`);
  store.set({ status: 'error', ...explained, announcement: explained.error! });
}

/** The decision or undo is on disk, but what should follow it could not be shown. */
export function failAfterCommit(store: LabelingStore, s: Session, message: string): void {
  if (!isLive(s)) return;
  timing.end();
  store.set({ status: 'error', error: message, errorDetail: null, announcement: message });
}
