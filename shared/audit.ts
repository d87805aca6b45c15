/**
 * What the lead's desk shows: the agreement dashboard computed by electron/core/metrics, and the
 * disagreements to review. Types, and the few reads of them every door needs; core fills them,
 * every door carries them as JSON.
 */
import type { Verdict } from './labels';
import type { QualityReport } from './quality';

/** A bootstrap percentile interval. */
export interface Interval {
  lower: number;
  upper: number;
}

export interface CalibrationBin {
  lower: number;
  upper: number;
  /** Scored pairs whose p0 falls in the bin (with at least one verdict). */
  pairs: number;
  /** Verdicts on those pairs: the bin's weight. */
  verdicts: number;
  /** Mean p0 over the bin's verdicts; null for an empty bin. */
  meanP0: number | null;
  /** Share of the bin's verdicts choosing image 0, a tie counting half; null for an empty bin. */
  humanShare0: number | null;
}

export interface Calibration {
  bins: CalibrationBin[];
  /** Expected calibration error; null without observations. */
  ece: number | null;
  /** All observations (verdicts on scored pairs). */
  verdicts: number;
}

/** A statistic and its bootstrap percentile interval; null where undefined / not computed. */
export interface Estimate {
  value: number | null;
  interval: Interval | null;
}

/** One row of a CohenTable. */
export interface CohenPairResult {
  a: string;
  b: string;
  /** Pairs both annotators judged. */
  commonPairs: number;
  unweighted: Estimate;
  linear: Estimate;
}

/** Estimates as columns: entry i of each is row i's; null where undefined or not computed. */
export interface EstimateColumns {
  value: (number | null)[];
  lower: (number | null)[];
  upper: (number | null)[];
}

/**
 * Cohen's kappa of each pair of annotators, as columns: row i is entry i of each. A project of
 * Pick-a-Pic's size has hundreds of thousands of rows; as objects (366,462 of them, with
 * intervals) they were most of a report's memory and of its copying between threads.
 */
export interface CohenTable {
  /** The annotators the rows name: `a[i]` and `b[i]` index this list. */
  annotators: string[];
  a: number[];
  b: number[];
  /** Pairs both annotators judged. */
  commonPairs: number[];
  unweighted: EstimateColumns;
  linear: EstimateColumns;
}

function estimateAt(columns: EstimateColumns, i: number): Estimate {
  const lower = columns.lower[i] ?? null;
  const upper = columns.upper[i] ?? null;
  return {
    value: columns.value[i] ?? null,
    interval: lower === null || upper === null ? null : { lower, upper },
  };
}

/** Row i of the table. */
export function cohenRow(table: CohenTable, i: number): CohenPairResult {
  return {
    a: table.annotators[table.a[i]!]!,
    b: table.annotators[table.b[i]!]!,
    commonPairs: table.commonPairs[i]!,
    unweighted: estimateAt(table.unweighted, i),
    linear: estimateAt(table.linear, i),
  };
}

/** Every row of the table, for a reader that wants them all (`stats --json`, tests). */
export function cohenRows(table: CohenTable): CohenPairResult[] {
  return table.a.map((_, i) => cohenRow(table, i));
}

export interface AnnotatorResult {
  annotator: string;
  verdicts: number;
  ties: number;
  /** ties / verdicts. */
  tieRate: number | null;
  /**
   * Agreement with the majority of the other annotators on the same pair: over this annotator's
   * verdicts on pairs where the others' verdicts have a strict plurality (one category more
   * frequent than each other one; a tie verdict is a category like the others), the share equal
   * to it. Pairs where the others are split evenly at the top count in `noMajorityPairs` and
   * are left out; pairs with no other verdict are left out too.
   */
  majorityAgreement: number | null;
  majorityPairs: number;
  noMajorityPairs: number;
  /**
   * Mean PickScore protocol score (1 / 0.5 / 0, calc_score) of this annotator's verdicts on
   * scored pairs against the model's prediction at the chosen threshold (all scored pairs, tuning
   * or evaluation).
   */
  pickscoreAgreement: number | null;
  pickscoreVerdicts: number;
  /**
   * Share of non-tie verdicts choosing the image that was shown on the left, over the non-tie
   * verdicts whose left side is known (`leftRateVerdicts`).
   */
  leftRate: number | null;
  leftRateVerdicts: number;
  nonTieVerdicts: number;
  /** Median decision time over verdicts with a known time. */
  medianDecisionMs: number | null;
  timedVerdicts: number;
}

export interface PickscoreResult {
  thresholds: number[];
  /**
   * The sweep over the verdicts the threshold was tuned on: these, or in an audit tuned on
   * another project, that project's; all null, with no tuning verdicts, for a fixed threshold.
   */
  tuningAccuracy: (number | null)[];
  evaluationAccuracy: (number | null)[];
  /** The threshold used: the tuned one, or `options.threshold`; null without tuning verdicts. */
  threshold: number | null;
  tuned: boolean;
  /** Accuracy at `threshold` on the evaluation verdicts, with a bootstrap interval. */
  accuracy: Estimate;
  randomBaseline: (number | null)[];
  randomBaselineAtThreshold: number | null;
  tuningVerdicts: number;
  evaluationVerdicts: number;
}

export interface DashboardResult {
  counts: {
    pairs: number;
    /** Pairs with at least one verdict: the bootstrap's items. */
    judgedPairs: number;
    verdicts: number;
    duplicatesDropped: number;
    annotators: number;
    scoredPairs: number;
  };
  agreement: {
    /** Over pairs of verdicts on the same pair (agreement.ts, percentAgreement). */
    percent: Estimate & { verdictPairs: number };
    /** The same over pairs of verdicts of which neither is a tie. */
    percentWithoutTies: Estimate & { verdictPairs: number };
    fleissKappa: Estimate & { pairs: number; ratersPerPair: number };
    krippendorffNominal: Estimate;
    krippendorffOrdinal: Estimate;
    gwetAC1: Estimate;
    /** Annotator pairs sharing at least `minimumShared` judged pairs. */
    cohen: CohenTable;
    /** Annotator pairs that share a judged pair, but fewer than `minimumShared`: no row. */
    cohenBelowMinimum: { count: number; minimumShared: number };
  };
  pickscore: PickscoreResult;
  annotators: AnnotatorResult[];
  calibration: Calibration;
  bootstrap: { resamples: number; level: number; seed: number; method: 'percentile' };
}

/** Which verdicts the dashboard counts. Every field narrows; none set: the whole project. */
export interface AuditFilters {
  /** Only these annotators' verdicts (names as in the project, e.g. `pickapic:101`). */
  annotators?: string[];
  /** Only pairs one of whose images this generator made (model_0 or model_1). */
  generator?: string;
  /** Only verdicts given at or after / before this time (ms since the epoch). */
  from?: number;
  to?: number;
  /** Only scored pairs on which the model is at least this sure: |p0 - 0.5| >= minConfidence. */
  minConfidence?: number;
}

/** Human verdicts (rows: image 0, tie, image 1) against the model's prediction (same order). */
export interface ConfusionMatrix {
  threshold: number | null;
  counts: [number, number, number][];
}

/** One generator (model_0 / model_1 of Pick-a-Pic) across the pairs it appears in. */
export interface GeneratorRow {
  generator: string;
  pairs: number;
  /** Human verdicts on those pairs preferring this generator's image, the other's, or a tie. */
  wins: number;
  losses: number;
  ties: number;
  /** wins / (wins + losses); null when neither. */
  winRate: number | null;
  /** Mean PickScore probability of this generator's image over its scored pairs. */
  meanModelProbability: number | null;
  /** Mean protocol score of the humans' verdicts against the model on these pairs. */
  pickscoreAgreement: number | null;
}

export interface AuditReport {
  project: string;
  /** The model whose p0 the figures use (the project's active model); null when none. */
  model: string | null;
  filters: AuditFilters;
  /** Where the tie threshold came from: tuned on these verdicts, another project, or fixed. */
  thresholdSource:
    | { kind: 'tuned-here' }
    | { kind: 'fixed'; threshold: number }
    | {
        kind: 'tuned-on';
        project: string;
        verdicts: number;
        threshold: number | null;
        tuningAccuracy: (number | null)[];
      };
  dashboard: DashboardResult;
  confusion: ConfusionMatrix;
  generators: GeneratorRow[];
  annotatorNames: string[];
  generatorNames: string[];
  /** Each annotator's gold accuracy and outlier flags (shared/quality.ts). */
  quality: QualityReport;
  seconds: number;
}

/** `all`: every judged pair, agreed or not (what a dashboard cell opens review with). */
export const DISAGREEMENT_KINDS = ['any', 'humans', 'model', 'all'] as const;
export type DisagreementKind = (typeof DISAGREEMENT_KINDS)[number];

export interface Adjudication {
  verdict: Verdict;
  adjudicator: string;
  note: string;
  createdAt: number;
}

/**
 * The pairs behind one number of the dashboard, under the filters (and threshold) it was
 * computed with: a Cohen's κ row (the pairs both annotators judged), or a cell of the confusion
 * matrix (the pairs with a verdict of category `human` where the model predicts `model`; the
 * cell counts those verdicts).
 */
export type ReviewCell =
  | { kind: 'cohen'; a: string; b: string; filters: AuditFilters }
  | { kind: 'confusion'; human: Verdict; model: Verdict; threshold: number; filters: AuditFilters };

/** Review's filters besides the kind; every one set narrows (AND). */
export interface ReviewFilters {
  /** Case-insensitive (ASCII) substring of the prompt. */
  search?: string;
  /** Pairs this annotator gave a verdict on. */
  annotator?: string;
  /** Pairs one of whose images this generator made (model_0 or model_1). */
  generator?: string;
  /** Pairs someone flagged. */
  flagged?: boolean;
  /** Pairs marked gold. */
  gold?: boolean;
  /** Pairs whose verdicts have no strict plurality (the export's majority). */
  noMajority?: boolean;
  /** Pairs whose majority the model names the other image of, beyond the tie threshold. */
  modelVsMajority?: boolean;
  cell?: ReviewCell;
}

export interface PairFlag {
  annotator: string;
  note: string;
  createdAt: number;
}

/** A pair whose humans disagree with each other, or with the model (or any pair, kind `all`). */
export interface Disagreement {
  pairId: number;
  prompt: string;
  image0Uid: string;
  image1Uid: string;
  model0: string | null;
  model1: string | null;
  verdicts: { annotator: string; verdict: Verdict }[];
  /** The active model's p0, its prediction at the project's tie threshold; null if unscored. */
  p0: number | null;
  prediction: Verdict | null;
  /** |p0 - 0.5| * 2: how sure the model is, the list's order (surest first). */
  confidence: number | null;
  humansDisagree: boolean;
  modelDisagrees: boolean;
  adjudication: Adjudication | null;
  /** Annotators' flags on the pair, oldest first. */
  flags: PairFlag[];
  /** The expected verdict where the pair is gold. */
  gold: { verdict: Verdict; setBy: string } | null;
}
