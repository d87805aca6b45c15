/**
 * A verdict names the better image of a pair by its index in the pair (never by the side it was
 * shown on), or a tie. A skip is recorded separately and is no verdict.
 */
export const VERDICTS = [0, 1, 'tie'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** Pick-a-Pic's encoding of a verdict: (label_0, label_1). */
export interface PickapicLabels {
  label_0: number;
  label_1: number;
}

export function verdictToLabels(verdict: Verdict): PickapicLabels {
  if (verdict === 0) return { label_0: 1, label_1: 0 };
  if (verdict === 1) return { label_0: 0, label_1: 1 };
  return { label_0: 0.5, label_1: 0.5 };
}

/** Returns null for a pair of labels that is not one of Pick-a-Pic's three encodings. */
export function labelsToVerdict(label0: number, label1: number): Verdict | null {
  if (label0 === 1 && label1 === 0) return 0;
  if (label0 === 0 && label1 === 1) return 1;
  if (label0 === 0.5 && label1 === 0.5) return 'tie';
  return null;
}

/** Parses the label spellings a person writes in a manifest: 0, 1, tie (also 0.5). */
export function parseVerdict(text: string): Verdict | null {
  const t = text.trim().toLowerCase();
  if (t === '0') return 0;
  if (t === '1') return 1;
  if (t === 'tie' || t === '0.5') return 'tie';
  return null;
}

/** The verdict as seen from the other image's point of view (images 0 and 1 exchanged). */
export function swapVerdict(verdict: Verdict): Verdict {
  return verdict === 'tie' ? 'tie' : verdict === 0 ? 1 : 0;
}

/**
 * What an annotator decides about a pair: a verdict, or a skip (recorded, but no verdict). The one
 * form a decision takes from the keypress to the store and back.
 */
export type Decision = Verdict | 'skip';

/**
 * How people see a pair: while labeling, on sides of the screen (`leftImage` is the image shown
 * on the left); in the audit, image 0 always on the left, so images are named by index.
 */
export type Seen = { leftImage: 0 | 1 } | 'by-index';

/**
 * A decision in words, for every view and message: "left image better" while labeling, "image 0"
 * in the audit; "tie" and "skipped" in both.
 */
export function describeDecision(decision: Decision, seen: Seen): string {
  if (decision === 'skip') return 'skipped';
  if (decision === 'tie') return 'tie';
  if (seen === 'by-index') return `image ${decision}`;
  return decision === seen.leftImage ? 'left image better' : 'right image better';
}

/** The side of the screen a verdict names, given the image shown on the left. */
export function sideOf(verdict: 0 | 1, leftImage: 0 | 1): 'left' | 'right' {
  return verdict === leftImage ? 'left' : 'right';
}

/** The verdict a side of the screen names, given the image shown on the left. */
export function verdictOfSide(side: 'left' | 'right', leftImage: 0 | 1): 0 | 1 {
  return side === 'left' ? leftImage : leftImage === 0 ? 1 : 0;
}
