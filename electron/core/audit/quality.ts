/**
 * The audit's checks on the annotators: each one's current verdicts on the lead's gold pairs,
 * and the outlier flags (metrics/outliers.ts), over the verdicts the filters select.
 */
import type { AnnotatorResult, CohenTable, DashboardColumns } from '../metrics';
import { verdictCategory } from '../metrics';
import { outlierFlags } from '../metrics/outliers';
import type { GoldPair } from '../store/gold';
import type { GoldScore, QualityReport } from '../../../shared/quality';

/**
 * Per annotator, their verdicts on gold pairs and how many equal the expected verdict; skips are
 * not in the columns (no verdict), and a tie counts as right only where the gold verdict is a tie.
 * `pairIds` maps the columns' dense pair index to the pair's id.
 */
export function goldScores(
  columns: DashboardColumns,
  pairIds: ArrayLike<number>,
  gold: readonly GoldPair[],
): Map<string, GoldScore> {
  const expected = new Map(gold.map((g) => [g.pairId, verdictCategory(g.verdict)]));
  const judged = new Float64Array(columns.annotators.length);
  const correct = new Float64Array(columns.annotators.length);
  if (expected.size > 0) {
    for (let i = 0; i < columns.pairIndex.length; i++) {
      const want = expected.get(pairIds[columns.pairIndex[i]!]!);
      if (want === undefined) continue;
      const a = columns.annotator[i]!;
      judged[a]! += 1;
      if (columns.verdict[i] === want) correct[a]! += 1;
    }
  }
  return new Map(
    columns.annotators.map((name, a) => [
      name,
      {
        judged: judged[a]!,
        correct: correct[a]!,
        accuracy: judged[a]! > 0 ? correct[a]! / judged[a]! : null,
      },
    ]),
  );
}

/**
 * Gold scores and flags for each annotator of `everyone` (the dashboard's rows for every
 * annotator, and its Cohen rows for every pair of them), kept to `only` when the audit focuses on
 * one annotator.
 */
export function qualityReport(
  columns: DashboardColumns,
  pairIds: ArrayLike<number>,
  gold: readonly GoldPair[],
  everyone: { annotators: readonly AnnotatorResult[]; cohen: CohenTable },
  only?: string,
): QualityReport {
  const scores = goldScores(columns, pairIds, gold);
  const flags = outlierFlags(everyone.annotators, everyone.cohen, scores);
  return {
    goldPairs: gold.length,
    annotators: everyone.annotators
      .filter((row) => only === undefined || row.annotator === only)
      .map((row) => ({
        annotator: row.annotator,
        gold: scores.get(row.annotator) ?? { judged: 0, correct: 0, accuracy: null },
        flags: flags.get(row.annotator) ?? [],
      })),
  };
}
