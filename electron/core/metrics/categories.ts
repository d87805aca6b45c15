/**
 * Verdicts as ordered categories for the agreement statistics: image 0 < tie < image 1. The order
 * is what the ordinal and linear-weighted statistics use (a tie is one step from either image,
 * the two images are two steps apart); the nominal statistics ignore it.
 */
import type { Verdict } from '../../../shared/labels';

export const IMAGE_0 = 0;
export const TIE = 1;
export const IMAGE_1 = 2;
/** The number of verdict categories (K in the formulas). */
export const VERDICT_CATEGORIES = 3;

export type VerdictCategory = typeof IMAGE_0 | typeof TIE | typeof IMAGE_1;

export function verdictCategory(verdict: Verdict): VerdictCategory {
  if (verdict === 0) return IMAGE_0;
  if (verdict === 1) return IMAGE_1;
  if (verdict === 'tie') return TIE;
  throw new RangeError(`not a verdict: ${String(verdict)}`);
}

export function categoryVerdict(category: number): Verdict {
  if (category === IMAGE_0) return 0;
  if (category === IMAGE_1) return 1;
  if (category === TIE) return 'tie';
  throw new RangeError(`not a verdict category: ${category}`);
}
