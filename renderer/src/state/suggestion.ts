import type { Suggestion } from '../../../shared/api';

export type Side = 'left' | 'right';

/** Each side's probability of being the better image, by where the images are on screen. */
export function sideProbabilities(suggestion: Suggestion, leftImage: 0 | 1): Record<Side, number> {
  const p0 = suggestion.p0;
  return leftImage === 0 ? { left: p0, right: 1 - p0 } : { left: 1 - p0, right: p0 };
}

/** The side the model prefers and its probability for that side. */
export function modelPreference(
  suggestion: Suggestion,
  leftImage: 0 | 1,
): { side: Side; p: number } {
  const { left, right } = sideProbabilities(suggestion, leftImage);
  return left > right ? { side: 'left', p: left } : { side: 'right', p: right };
}

export const percent = (p: number): string => `${Math.round(p * 100)}%`;

export function describePreference(suggestion: Suggestion, leftImage: 0 | 1): string {
  const { side, p } = modelPreference(suggestion, leftImage);
  return `${suggestion.model} preferred the ${side} image (${percent(p)})`;
}
