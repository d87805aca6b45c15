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

/**
 * A verdict column as SQL that yields the Verdict itself (0, 1 or 'tie'), for reads of every
 * verdict of a project, where a conversion per row in JavaScript would cost more than the read.
 */
export const verdictSql = (column: string): string =>
  `CASE ${column} WHEN '0' THEN 0 WHEN '1' THEN 1 WHEN 'tie' THEN 'tie' END`;

/** A decisions row's action and verdict as the one Decision. */
export function decisionFromDb(action: string, verdict: string | null): Decision {
  return action === 'skip' ? 'skip' : verdictFromDb(verdict!);
}
