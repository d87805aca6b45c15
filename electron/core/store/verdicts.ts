import { StudioError } from '../../../shared/errors';
import type { Decision, Verdict } from '../../../shared/labels';

/**
 * How the project file spells a verdict (annotations.verdict, decisions.verdict,
 * adjudications.verdict). It never leaves the store: repositories take and return Verdict.
 */
export type DbVerdict = '0' | '1' | 'tie';

export function verdictToDb(verdict: Verdict): DbVerdict {
  return verdict === 'tie' ? 'tie' : verdict === 0 ? '0' : '1';
}

export function verdictFromDb(value: string): Verdict {
  if (value === '0') return 0;
  if (value === '1') return 1;
  if (value === 'tie') return 'tie';
  throw new StudioError('internal', `unknown verdict in the project file: ${value}`);
}

/** A decisions row's action and verdict as the one Decision. */
export function decisionFromDb(action: string, verdict: string | null): Decision {
  return action === 'skip' ? 'skip' : verdictFromDb(verdict!);
}
