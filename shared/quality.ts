/**
 * Checks on the annotators themselves, part of the audit report: each annotator's verdicts on
 * the lead's gold pairs, and the ways their behaviour stands out from the others' (see
 * electron/core/metrics/outliers.ts for the tests and thresholds). Types only.
 */

/** Why an annotator is flagged. */
export const OUTLIER_REASONS = [
  'fast',
  'low-agreement',
  'position-bias',
  'tie-rate',
  'gold',
] as const;
export type OutlierReason = (typeof OUTLIER_REASONS)[number];

export interface OutlierFlag {
  reason: OutlierReason;
  /** The figures behind the flag, in words: "median 38 ms per verdict (under 300 ms)". */
  detail: string;
}

/**
 * An annotator's current verdicts on gold pairs: `judged` verdicts (skips are no verdict), of
 * which `correct` equal the expected one (a tie is correct only on a gold tie).
 */
export interface GoldScore {
  judged: number;
  correct: number;
  /** correct / judged; null with no gold pair judged. */
  accuracy: number | null;
}

export interface AnnotatorQuality {
  annotator: string;
  gold: GoldScore;
  flags: OutlierFlag[];
}

export interface QualityReport {
  /** Gold pairs in the project (whether or not the filters keep their verdicts). */
  goldPairs: number;
  /** One row per annotator of the dashboard's per-annotator table, in its order. */
  annotators: AnnotatorQuality[];
}
