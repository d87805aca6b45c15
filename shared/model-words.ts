/**
 * How the lead's desk (renderer) names the model and says what it disagrees with: pure
 * functions, here so that they are tested without a page (tests/unit/gold.test.ts).
 */
import type { Disagreement } from './audit';

/** Whether a model is PickScore itself (e.g. PickScore_v1), not a stand-in such as the demo's. */
export function isPickScore(name: string): boolean {
  return /pickscore/i.test(name) && !/not pickscore/i.test(name);
}

/** The model as a column heading says it: "PickScore" for PickScore, else "model". */
export function modelWord(name: string | null): string {
  return name !== null && isPickScore(name) ? 'PickScore' : 'model';
}

/** Where model figures would be in a project without a model: what to do about it. */
export const NO_MODEL_HINT =
  'No model: score the project with one (pickstudio score PROJECT --model FOLDER, a folder in PickScore’s format), and the model’s figures appear here.';

/**
 * With whom the model disagrees on a pair, or null when with nobody: a human verdict naming the
 * other image than the model's prediction (ties on either side never disagree, as
 * shared/api.ts's isDisagreement). "the majority" when most verdicts are against it, "every
 * annotator" when all of two or more are, else the names of those who are.
 */
export function modelDisagreesWith(
  item: Pick<Disagreement, 'verdicts' | 'prediction'>,
): string | null {
  const predicted = item.prediction;
  if (predicted === null || predicted === 'tie') return null;
  const against = item.verdicts
    .filter((v) => v.verdict !== 'tie' && v.verdict !== predicted)
    .map((v) => v.annotator);
  if (against.length === 0) return null;
  const total = item.verdicts.length;
  if (total > 1 && against.length === total) return 'every annotator';
  if (against.length * 2 > total) return 'the majority';
  return against.join(', ');
}
