import { isDisagreement, type LabelPair } from '../../../../shared/api';
import type { Decision } from '../../../../shared/labels';
import { useProject } from '../project';
import { describePreference } from '../suggestion';
import { isLive, type Session } from './session';
import type { LabelingStore, Shown } from './types';

/**
 * How long a disagreement stays on screen after its verdict is saved, in 'after' mode: long
 * enough to be noticed, short enough not to break the rhythm.
 */
const REVEAL_MS = 500;

/**
 * What the model preferred against a decision just saved ("… preferred the left image (80%)"),
 * when the project's mode shows the model after the verdict and the two disagree; else null.
 */
export function disagreementToReveal(pair: LabelPair, decision: Decision): string | null {
  const { suggestion } = pair;
  const settings = useProject.getState().settings;
  if (suggestion === null || settings?.suggestionMode !== 'after') return null;
  if (!isDisagreement(decision, suggestion.p0, settings.tieThreshold)) return null;
  return describePreference(suggestion, pair.leftImage);
}

/**
 * Holds the saved pair on screen, its disagreement flashed, so that it is seen before the next
 * pair goes up. False when the session ended meanwhile.
 */
export async function revealDisagreement(
  store: LabelingStore,
  s: Session,
  shown: Shown,
  announcement: string,
): Promise<boolean> {
  store.set({ status: 'revealing', revealedSeq: shown.seq, announcement });
  await new Promise((resolve) => setTimeout(resolve, REVEAL_MS));
  return isLive(s);
}
