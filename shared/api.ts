/**
 * The studio's contract: every method the local doors (the CLI, the app's main process) and the
 * page (renderer, browser mode) may call, with a runtime schema for its arguments (checked at the
 * door, before core sees them) and for its result, and the events the core pushes. Adding a method
 * is one entry here and one handler in core; the preload, the IPC registration and the HTTP
 * client follow from this object, and from LOCAL_ONLY_METHODS, which the page may not call.
 */
import { z } from 'zod';
import {
  DISAGREEMENT_KINDS,
  type AuditFilters,
  type AuditReport,
  type Disagreement,
  type ReviewCell,
} from './audit';
import type { Decision, Verdict } from './labels';

const verdictSchema = z.union([z.literal(0), z.literal(1), z.literal('tie')]);
const taskIdSchema = z.string().min(1).max(100);
/** A file or folder of this computer: a method taking one is local-only (LOCAL_ONLY_METHODS). */
export const filePathSchema = z.string().min(1).max(4096);

export const projectCountsSchema = z.object({
  prompts: z.number(),
  images: z.number(),
  imagesWithBytes: z.number(),
  pairs: z.number(),
  pairsWithVerdict: z.number(),
  annotators: z.number(),
  annotations: z.number(),
  verdicts: z.object({ image0: z.number(), image1: z.number(), tie: z.number() }),
  skips: z.number(),
  adjudications: z.number(),
});
export type ProjectCounts = z.infer<typeof projectCountsSchema>;

export const annotatorStatsSchema = z.object({
  name: z.string(),
  kind: z.enum(['human', 'dataset', 'import']),
  pairsDecided: z.number(),
  verdicts: z.object({ image0: z.number(), image1: z.number(), tie: z.number() }),
  skips: z.number(),
});
export type AnnotatorStats = z.infer<typeof annotatorStatsSchema>;

export const projectStatsSchema = z.object({
  project: z.string(),
  schemaVersion: z.number(),
  counts: projectCountsSchema,
  annotators: z.array(annotatorStatsSchema),
});
export type ProjectStats = z.infer<typeof projectStatsSchema>;

export const importFileReportSchema = z.object({
  file: z.string(),
  format: z.enum(['pickapic-parquet', 'manifest-jsonl', 'manifest-csv']),
  rows: z.number(),
  pairsAdded: z.number(),
  annotationsAdded: z.number(),
  rowsAlreadyPresent: z.number(),
  /**
   * Labels left out because the same user labeled the same pair again in a later row (by
   * created_at, whatever the file order): the latest counts.
   */
  duplicatesDropped: z.number(),
});
export type ImportFileReport = z.infer<typeof importFileReportSchema>;

export const importReportSchema = z.object({
  files: z.array(importFileReportSchema),
  seconds: z.number(),
});
export type ImportReport = z.infer<typeof importReportSchema>;

export const exportReportSchema = z.object({
  out: z.string(),
  rows: z.number(),
  bytes: z.number(),
  pairsWithoutMajority: z.number(),
  annotationsOut: z.string().nullable(),
  annotationRows: z.number(),
  seconds: z.number(),
});
export type ExportReport = z.infer<typeof exportReportSchema>;

export const packageReportSchema = z.object({
  out: z.string(),
  packageId: z.string(),
  annotator: z.string(),
  pairs: z.number(),
  /** How many of `pairs` are gold pairs (the lead's to know: the package does not say). */
  goldPairs: z.number(),
  images: z.number(),
  bytes: z.number(),
  seconds: z.number(),
});

/**
 * What a merged file was: a package made from this project, another project sharing pairs with
 * it, or an annotation log (`export --annotations`) of either.
 */
export const MERGE_SOURCE_KINDS = ['package', 'project', 'annotation log'] as const;
export type MergeSourceKind = (typeof MERGE_SOURCE_KINDS)[number];

export const mergeFileReportSchema = z.object({
  file: z.string(),
  kind: z.enum(MERGE_SOURCE_KINDS),
  /** Whose events it brought, by their names here. */
  annotators: z.array(z.string()),
  annotationsAdded: z.number(),
  /** Events this project had already: merged before, or first written here. */
  annotationsPresent: z.number(),
  /** Events on pairs this project does not have: left out. */
  annotationsOnUnknownPairs: z.number(),
  /** Images this project kept as files only, whose bytes the file brought along. */
  imagesFilled: z.number(),
  /** An annotation log's adjudication rows: adjudications stay in the project that made them. */
  adjudicationsLeftOut: z.number(),
  /** Someone else has the name here already: kept apart under another name. */
  renamed: z.array(z.object({ from: z.string(), to: z.string() })),
  /** Flags added, or replaced by a later note of the same annotator on the pair. */
  flagsMerged: z.number(),
});
export type MergeFileReport = z.infer<typeof mergeFileReportSchema>;

export const mergeRecordSchema = z.object({
  file: z.string(),
  kind: z.enum(MERGE_SOURCE_KINDS),
  packageId: z.string().nullable(),
  annotators: z.array(z.string()),
  mergedAt: z.number(),
  annotationsAdded: z.number(),
});

/** A lead's project sees every view; an annotator's package labels only. */
export const ROLES = ['lead', 'annotator'] as const;
export type Role = (typeof ROLES)[number];

export const pairSummarySchema = z.object({
  pairId: z.number(),
  prompt: z.string(),
  image0Uid: z.string(),
  image1Uid: z.string(),
  model0: z.string().nullable(),
  model1: z.string().nullable(),
  annotations: z.number(),
  verdict: verdictSchema.nullable(),
});
export type PairSummary = z.infer<typeof pairSummarySchema>;

/** The dataset's annotators are named `pickapic:<user_id>`: a namespace no person may take. */
export const DATASET_ANNOTATOR_PREFIX = 'pickapic:';

const annotatorNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[^\p{C}]+$/u, 'no control characters')
  .refine(
    (name) => !name.toLowerCase().startsWith(DATASET_ANNOTATOR_PREFIX),
    `names starting with ${DATASET_ANNOTATOR_PREFIX} belong to the dataset's annotators`,
  );
const pairIdSchema = z.number().int().positive();
const sideSchema = z.union([z.literal(0), z.literal(1)]);

export const imageRefSchema = z.object({
  uid: z.string(),
  /** False when the project has neither the bytes nor a readable file for this image. */
  available: z.boolean(),
});
export type ImageRef = z.infer<typeof imageRefSchema>;

export const PROVIDERS = ['cuda', 'dml', 'coreml', 'webgpu', 'cpu'] as const;
export type Provider = (typeof PROVIDERS)[number];

/** Why an execution provider could not start, as onnxruntime said it. */
export const providerFailureSchema = z.object({ provider: z.enum(PROVIDERS), reason: z.string() });
export type ProviderFailure = z.infer<typeof providerFailureSchema>;

/** An annotator's decision on a pair: a verdict, or a skip (shared/labels.ts's Decision). */
const decisionSchema: z.ZodType<Decision, Decision> = z.union([verdictSchema, z.literal('skip')]);

/** The active model's opinion on a pair: p0 = P(image 0 is better), PickScore's softmax. */
export const suggestionSchema = z.object({
  model: z.string(),
  score0: z.number(),
  score1: z.number(),
  p0: z.number(),
});
export type Suggestion = z.infer<typeof suggestionSchema>;

const auditFiltersSchema: z.ZodType<AuditFilters> = z.strictObject({
  annotators: z.array(z.string().min(1)).max(1000).optional(),
  generator: z.string().min(1).optional(),
  from: z.number().optional(),
  to: z.number().optional(),
  minConfidence: z.number().min(0).max(0.5).optional(),
});

const reviewCellSchema: z.ZodType<ReviewCell> = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('cohen'),
    a: z.string().min(1),
    b: z.string().min(1),
    filters: auditFiltersSchema,
  }),
  z.strictObject({
    kind: z.literal('confusion'),
    human: verdictSchema,
    model: verdictSchema,
    threshold: z.number().min(0).max(1),
    filters: auditFiltersSchema,
  }),
]);

const auditArgsSchema = z.strictObject({
  filters: auditFiltersSchema.default({}),
  // Any name the project has, as getStats takes it: imported names need not be typeable.
  annotator: z.string().min(1).optional(),
  threshold: z.number().min(0).max(1).optional(),
  /**
   * 0: the figures at once. More: the report with intervals, a task with progress; cancelled, it
   * answers with the figures alone (`bootstrap.resamples` 0).
   */
  resamples: z.number().int().min(0).max(2000).default(200),
  taskId: taskIdSchema.optional(),
});

export const modelSummarySchema = z.object({
  name: z.string(),
  fingerprint: z.string(),
  folder: z.string(),
  active: z.boolean(),
  scoredPairs: z.number(),
  totalPairs: z.number(),
});

export const scoringReportSchema = z.object({
  model: z.string(),
  fingerprint: z.string(),
  /** Null when no tower ran: every prompt and image the pairs need was already cached. */
  provider: z.enum(PROVIDERS).nullable(),
  /** Why each provider before the one in use could not start. */
  providerFailures: z.array(providerFailureSchema),
  promptsEncoded: z.number(),
  imagesEncoded: z.number(),
  imagesMissing: z.number(),
  /** The first few of them (at most 10), each "image UID (FILE): why". */
  missingImages: z.array(z.string()),
  pairsScored: z.number(),
  seconds: z.number(),
});
export type ScoringReport = z.infer<typeof scoringReportSchema>;

/** One embeddings file loaded into the cache (importEmbeddings). */
export const embeddingsFileReportSchema = z.object({
  file: z.string(),
  /** The model the file's embeddings are of; null for a file with no rows. */
  model: z.string().nullable(),
  fingerprint: z.string().nullable(),
  rows: z.number(),
  /** Embeddings stored, of prompts and images the project has. */
  prompts: z.number(),
  images: z.number(),
  /** Rows skipped: prompts (by text) and images (by uid) the project does not have. */
  unknownPrompts: z.number(),
  unknownImages: z.number(),
});
export type EmbeddingsFileReport = z.infer<typeof embeddingsFileReportSchema>;

export const embeddingsExportReportSchema = z.object({
  out: z.string(),
  model: z.string(),
  fingerprint: z.string(),
  prompts: z.number(),
  images: z.number(),
  bytes: z.number(),
  seconds: z.number(),
});
export type EmbeddingsExportReport = z.infer<typeof embeddingsExportReportSchema>;

/**
 * A pair as the labeling view shows it. `leftImage` is the image to show on the left: drawn at
 * random for a pair the annotator has not decided, else the side their decision was made on.
 */
export const labelPairSchema = z.object({
  pairId: z.number(),
  prompt: z.string(),
  image0: imageRefSchema,
  image1: imageRefSchema,
  leftImage: sideSchema,
  /**
   * This annotator's current decision on the pair: a verdict, 'skip', or null if none. In
   * getQueue's pairs, null, or 'skip' for a pair skipped once coming back after the undecided.
   */
  decision: decisionSchema.nullable(),
  /** The active model's scores, or null while the pair is unscored. */
  suggestion: suggestionSchema.nullable(),
  /** This annotator's flag on the pair: its note, or null (absent: not read). */
  flag: z.string().nullable().optional(),
});
export type LabelPair = z.infer<typeof labelPairSchema>;

export const labelProgressSchema = z.object({
  annotator: z.string(),
  decided: z.number(),
  skipped: z.number(),
  total: z.number(),
  /** Decisions (verdicts and skips) in the last hour. */
  lastHour: z.number(),
});
export type LabelProgress = z.infer<typeof labelProgressSchema>;

export const historyEntrySchema = z.object({
  annotationId: z.number(),
  pairId: z.number(),
  prompt: z.string(),
  decision: decisionSchema,
  /** The image shown on the left when the decision was made; null where no side was recorded. */
  leftImage: sideSchema.nullable(),
  createdAt: z.number(),
  /** The active model's name and p0 for the pair, to flag a disagreement; null when unscored. */
  model: z.string().nullable(),
  p0: z.number().nullable(),
});
export type HistoryEntry = z.infer<typeof historyEntrySchema>;

/**
 * How the labeling view shows the model's opinion: not at all (blind labeling), after the
 * verdict (a disagreement flashes), or before it (a pre-suggestion).
 */
export const SUGGESTION_MODES = ['hidden', 'after', 'before'] as const;
export type SuggestionMode = (typeof SUGGESTION_MODES)[number];

export const QUEUE_ORDERS = ['project', 'uncertainty'] as const;

export const projectSettingsSchema = z.object({
  suggestionMode: z.enum(SUGGESTION_MODES),
  /** The model predicts a tie when |p0 - p1| <= this (PickScore's protocol). */
  tieThreshold: z.number().min(0).max(1),
  /** Distinct annotators each pair needs; null: every annotator labels every pair. */
  overlap: z.number().int().min(1).max(100).nullable(),
  /** The queue's order: project order, or the model's least certain pairs first. */
  queueOrder: z.enum(QUEUE_ORDERS),
});
export type ProjectSettings = z.infer<typeof projectSettingsSchema>;

/**
 * A disagreement: a human picked one image and the model the other, by more than the tie
 * threshold. Ties and skips never disagree.
 */
export function isDisagreement(
  decision: Verdict | 'skip' | null,
  p0: number | null,
  tieThreshold: number,
): boolean {
  if (p0 === null || decision === null || decision === 'skip' || decision === 'tie') return false;
  const margin = Math.abs(2 * p0 - 1);
  if (margin <= tieThreshold) return false;
  return (p0 > 0.5 ? 0 : 1) !== decision;
}

export const goldPairSchema = z.object({
  pairId: z.number(),
  verdict: verdictSchema,
  setBy: z.string(),
  createdAt: z.number(),
});
export type GoldPairEntry = z.infer<typeof goldPairSchema>;
/** The most a project's guidelines may hold: UTF-8 bytes of Markdown. */
export const MAX_GUIDELINES_BYTES = 100_000;
/** The most a flag's note may hold, in characters. */
export const MAX_FLAG_NOTE = 500;

/** The lead's labeling guidelines (Markdown), and when they were last set. */
export const guidelinesSchema = z.object({ text: z.string(), updatedAt: z.number() });
export type Guidelines = z.infer<typeof guidelinesSchema>;

const flagNoteSchema = z
  .string()
  .trim()
  .min(1)
  .max(MAX_FLAG_NOTE)
  .regex(/^[^\p{Cc}]+$/u, 'one line, no control characters');

export const studioContract = {
  getStats: {
    args: z.strictObject({ annotator: z.string().min(1).optional() }),
    result: projectStatsSchema,
  },
  listPairs: {
    args: z.strictObject({
      offset: z.number().int().min(0).default(0),
      limit: z.number().int().min(1).max(1000).default(50),
    }),
    result: z.array(pairSummarySchema),
  },
  importSources: {
    args: z.strictObject({
      sources: z.array(filePathSchema).min(1),
      taskId: taskIdSchema.optional(),
    }),
    result: importReportSchema,
  },
  /**
   * Fills an empty project with the demo: pairs whose images are drawn locally from their
   * prompts, scored with the demo model (not PickScore) unless `score` is false, and three demo
   * annotators' labels unless `annotators` is false.
   */
  createDemo: {
    args: z.strictObject({
      pairs: z.number().int().min(1).max(20_000).default(240),
      score: z.boolean().default(true),
      annotators: z.boolean().default(true),
      taskId: taskIdSchema.optional(),
    }),
    result: z.object({ pairs: z.number() }),
  },
  exportParquet: {
    args: z.strictObject({
      out: filePathSchema,
      images: z.boolean().default(true),
      /**
       * Re-encode images that are not JPEG as JPEG (alpha dropped, as PickScore's preprocessing
       * drops it); by default every image goes out as the bytes that were imported.
       */
      jpeg: z.boolean().default(false),
      /**
       * Pick-a-Pic's native form: one row per annotator and pair (each current verdict), with
       * the dataset's user_id and ranking_id where the label came with them, stable ids for the
       * rest, and an `annotator` column. Default: one row per pair (adjudication or majority).
       */
      perAnnotator: z.boolean().default(false),
      annotationsOut: filePathSchema.optional(),
      /** Whose scores fill the pickscore columns; default the project's active model. */
      model: z.string().min(1).optional(),
      taskId: taskIdSchema.optional(),
    }),
    result: exportReportSchema,
  },
  /**
   * Makes a self-contained project for one annotator (every image inside it), with pairs chosen
   * by the lead's assignment rules: pairs in fewer than `overlap` packages (default the project's
   * overlap, else 1), the least covered first, in the queue's order; at most `pairs` of them.
   */
  makePackage: {
    args: z.strictObject({
      out: filePathSchema,
      annotator: annotatorNameSchema,
      pairs: z.number().int().min(1).max(10_000_000).optional(),
      overlap: z.number().int().min(1).max(100).optional(),
      /**
       * Gold pairs to mix in (default: every gold pair, at most a fifth of the package), counted
       * within `pairs`; 0 for none. See team/package.ts.
       */
      gold: z.number().int().min(0).max(100_000).optional(),
      taskId: taskIdSchema.optional(),
    }),
    result: packageReportSchema,
  },
  /**
   * Merges the annotation log of returned packages, or of projects sharing pairs with this one:
   * pairs matched by content, annotators by their stable id, each event added once. One
   * transaction per file: a bad file changes nothing.
   */
  merge: {
    args: z.strictObject({
      sources: z.array(filePathSchema).min(1).max(1000),
      taskId: taskIdSchema.optional(),
    }),
    result: z.object({ files: z.array(mergeFileReportSchema), seconds: z.number() }),
  },
  /** Files merged into this project, the latest first. */
  listMerges: {
    args: z.strictObject({}),
    result: z.array(mergeRecordSchema),
  },
  /** This project's role, and for a package, whom it is for. */
  getProject: {
    args: z.strictObject({}),
    result: z.object({
      role: z.enum(ROLES),
      projectId: z.string(),
      /** The package's annotator: the one name that labels in it. */
      annotator: z.string().nullable(),
    }),
  },
  cancelTask: {
    args: z.strictObject({ taskId: taskIdSchema }),
    result: z.object({ cancelled: z.boolean() }),
  },
  /**
   * The next pairs this annotator has not decided, then those they skipped once (each comes back
   * once), skipping those the view already holds.
   */
  getQueue: {
    args: z.strictObject({
      annotator: annotatorNameSchema,
      count: z.number().int().min(1).max(50).default(8),
      excludePairIds: z.array(pairIdSchema).max(500).default([]),
    }),
    result: z.object({ pairs: z.array(labelPairSchema), progress: labelProgressSchema }),
  },
  /** One pair by id, for revisiting a decision from the history. */
  getPair: {
    args: z.strictObject({ annotator: annotatorNameSchema, pairId: pairIdSchema }),
    result: labelPairSchema,
  },
  /**
   * Appends a decision (a verdict or a skip) and returns once it is committed to the project
   * file. A verdict names image 0 or 1 of the pair, never a side of the screen.
   */
  recordDecision: {
    args: z.strictObject({
      annotator: annotatorNameSchema,
      pairId: pairIdSchema,
      decision: decisionSchema,
      leftImage: sideSchema,
      suggestionVisible: z.boolean(),
      decisionMs: z.number().int().min(0).max(86_400_000),
    }),
    result: z.object({ annotationId: z.number(), progress: labelProgressSchema }),
  },
  /** Takes back the annotator's latest decision still standing; repeatable. */
  undoLast: {
    args: z.strictObject({ annotator: annotatorNameSchema }),
    result: z.object({
      /** The decision taken back, with the side its pair was shown on (null: none recorded). */
      undone: z
        .object({ annotationId: z.number(), pairId: z.number(), leftImage: sideSchema.nullable() })
        .nullable(),
      progress: labelProgressSchema,
    }),
  },
  /**
   * Scores every unscored pair with a model folder (default: the project's active model):
   * prompts and images are encoded once per model and cached, then each pair's score is a dot
   * product. The model becomes the project's active model.
   */
  scorePairs: {
    args: z.strictObject({
      model: filePathSchema.optional(),
      provider: z.enum(PROVIDERS).optional(),
      batch: z.number().int().min(1).max(1024).optional(),
      taskId: taskIdSchema.optional(),
    }),
    result: scoringReportSchema,
  },
  /**
   * Registers a model folder with the project and makes it the active model (checked, not run):
   * background scoring and `scorePairs` with no folder use it from then on.
   */
  addModel: {
    args: z.strictObject({ folder: filePathSchema }),
    result: modelSummarySchema,
  },
  /**
   * Loads embeddings Parquet files (kind, key, embedding, fingerprint: tools/embed_pickscore.py
   * writes them from the reference model, or `exportEmbeddings`) into the embedding cache of the
   * model with that fingerprint, which the project must know (addModel) or `model` names (a
   * folder, registered and made active). One transaction per file; rows of prompts and images the
   * project lacks are counted and skipped. Pairs whose embeddings are all cached are then scored
   * by `scorePairs` (and background scoring) without running the model.
   */
  importEmbeddings: {
    args: z.strictObject({
      sources: z.array(filePathSchema).min(1).max(1000),
      model: filePathSchema.optional(),
      taskId: taskIdSchema.optional(),
    }),
    result: z.object({ files: z.array(embeddingsFileReportSchema), seconds: z.number() }),
  },
  /** Writes a model's embedding cache (default the active model's) as an embeddings file. */
  exportEmbeddings: {
    args: z.strictObject({
      out: filePathSchema,
      model: z.string().min(1).optional(),
      taskId: taskIdSchema.optional(),
    }),
    result: embeddingsExportReportSchema,
  },
  /** The models the project knows, the active one first. */
  listModels: {
    args: z.strictObject({}),
    result: z.array(modelSummarySchema),
  },
  /** The active model, the provider scoring with it in this process, and how far it got. */
  getScoringStatus: {
    args: z.strictObject({}),
    result: z.object({
      model: z.string().nullable(),
      provider: z.enum(PROVIDERS).nullable(),
      providerFailures: z.array(providerFailureSchema),
      scoredPairs: z.number(),
      totalPairs: z.number(),
      running: z.boolean(),
    }),
  },
  getSettings: {
    args: z.strictObject({}),
    result: projectSettingsSchema,
  },
  setSettings: {
    args: z.strictObject({
      suggestionMode: z.enum(SUGGESTION_MODES).optional(),
      tieThreshold: z.number().min(0).max(1).optional(),
      overlap: z.number().int().min(1).max(100).nullable().optional(),
      queueOrder: z.enum(QUEUE_ORDERS).optional(),
    }),
    result: projectSettingsSchema,
  },
  getHistory: {
    args: z.strictObject({
      annotator: annotatorNameSchema,
      limit: z.number().int().min(1).max(200).default(12),
    }),
    result: z.array(historyEntrySchema),
  },
  /**
   * The lead's dashboard: agreement between humans and with the active model, per annotator and
   * per generator, calibration. `threshold` fixes the model's tie threshold; without it, it is
   * tuned on the verdicts shown. `annotator` keeps only that annotator's rows in the
   * per-annotator and Cohen tables; every figure stays everyone's.
   */
  getAudit: {
    args: auditArgsSchema,
    result: z.custom<AuditReport>(),
  },
  /**
   * getAudit with the tie threshold picked on another project's verdicts (`tuneOn`, its file), as
   * PickScore's paper does on validation_unique. Local doors only: it names a file.
   */
  getAuditTunedOn: {
    args: auditArgsSchema.extend({ tuneOn: filePathSchema }),
    result: z.custom<AuditReport>(),
  },
  /**
   * Pairs to review, surest model first; with their verdicts, flags, gold verdict and any
   * adjudication. The filters (shared/audit.ts ReviewFilters) narrow together; `cell` keeps the
   * pairs behind one number of the dashboard, and `cellVerdicts` is that number for a
   * confusion cell (it counts verdicts; `total` counts pairs).
   */
  listDisagreements: {
    args: z.strictObject({
      kind: z.enum(DISAGREEMENT_KINDS).default('any'),
      includeAdjudicated: z.boolean().default(true),
      offset: z.number().int().min(0).default(0),
      limit: z.number().int().min(1).max(500).default(100),
      search: z.string().min(1).max(500).optional(),
      annotator: z.string().min(1).optional(),
      generator: z.string().min(1).optional(),
      flagged: z.boolean().optional(),
      gold: z.boolean().optional(),
      noMajority: z.boolean().optional(),
      modelVsMajority: z.boolean().optional(),
      cell: reviewCellSchema.optional(),
    }),
    result: z.object({
      total: z.number(),
      cellVerdicts: z.number().optional(),
      items: z.array(z.custom<Disagreement>()),
    }),
  },
  /** Records the lead's final verdict on a pair, with a note; the export prefers it. */
  adjudicate: {
    args: z.strictObject({
      pairId: pairIdSchema,
      verdict: verdictSchema,
      adjudicator: annotatorNameSchema,
      note: z.string().max(2000).default(''),
    }),
    result: z.object({ adjudicationId: z.number() }),
  },
  /**
   * Marks pairs as gold with the verdict the lead expects (by image index, as in review), or
   * with a null verdict takes the mark off; one transaction, an unknown pair refuses them all.
   * Gold pairs are mixed into packages unannounced and each annotator is scored on them.
   */
  setGold: {
    args: z.strictObject({
      pairs: z
        .array(z.strictObject({ pairId: pairIdSchema, verdict: verdictSchema.nullable() }))
        .min(1)
        .max(100_000),
      setBy: annotatorNameSchema,
    }),
    result: z.object({ set: z.number(), cleared: z.number(), goldPairs: z.number() }),
  },
  /** The gold pairs, by pair id. */
  listGold: {
    args: z.strictObject({}),
    result: z.array(goldPairSchema),
  },
  /** The project's labeling guidelines, or null when the lead has written none. */
  getGuidelines: {
    args: z.strictObject({}),
    result: guidelinesSchema.nullable(),
  },
  /**
   * Sets the guidelines (Markdown, at most MAX_GUIDELINES_BYTES of UTF-8); empty text removes
   * them. Open views hear of it (the `guidelines` event).
   */
  setGuidelines: {
    args: z.strictObject({ text: z.string().max(10 * MAX_GUIDELINES_BYTES) }),
    result: guidelinesSchema.nullable(),
  },
  /** Flags the pair for the annotator with a short note, or replaces the note; decides nothing. */
  flagPair: {
    args: z.strictObject({
      annotator: annotatorNameSchema,
      pairId: pairIdSchema,
      note: flagNoteSchema,
    }),
    result: z.object({ note: z.string(), createdAt: z.number() }),
  },
  /** Removes the annotator's flag on the pair. */
  clearFlag: {
    args: z.strictObject({ annotator: annotatorNameSchema, pairId: pairIdSchema }),
    result: z.object({ cleared: z.boolean() }),
  },
} as const;

export type StudioContract = typeof studioContract;

/** Methods that label as the annotator they name: in a package, only its annotator may. */
export const LABELING_METHODS: ReadonlySet<keyof StudioContract> = new Set([
  'getQueue',
  'getPair',
  'recordDecision',
  'undoLast',
  'getHistory',
  'flagPair',
  'clearFlag',
] as const);

/**
 * Methods an annotator's package refuses, whatever its UI shows: it labels, and leaves the rest
 * to the lead's project it came from.
 */
export const LEAD_ONLY_METHODS: ReadonlySet<keyof StudioContract> = new Set([
  'importSources',
  'createDemo',
  'exportParquet',
  'makePackage',
  'merge',
  'listMerges',
  'scorePairs',
  'addModel',
  'importEmbeddings',
  'exportEmbeddings',
  'setSettings',
  'getAudit',
  'getAuditTunedOn',
  'listDisagreements',
  'adjudicate',
  'setGold',
  'listGold',
  'setGuidelines',
] as const);
export type StudioMethod = keyof StudioContract;
export const STUDIO_METHODS = Object.keys(studioContract) as StudioMethod[];

/**
 * Methods only the local doors (the pickstudio command, the app's main process) may call: each
 * names a file or folder of this computer to read or write. The page never names a path (in the
 * app, paths come from the main process's native dialogs), so the page's doors (IPC, HTTP) refuse
 * these (`not_allowed`), and neither the preload nor the HTTP client has them.
 */
const LOCAL_ONLY = [
  'importSources', // sources: files and folders to read
  'exportParquet', // out, annotationsOut: files to write
  'makePackage', // out: a file to write
  'merge', // sources: files to read
  'scorePairs', // model: a model folder to read and run
  'addModel', // folder: a model folder to read
  'importEmbeddings', // sources, model: files and a model folder to read
  'exportEmbeddings', // out: a file to write
  'getAuditTunedOn', // tuneOn: another project's file to read
] as const satisfies readonly StudioMethod[];
export type LocalOnlyMethod = (typeof LOCAL_ONLY)[number];
export const LOCAL_ONLY_METHODS: ReadonlySet<StudioMethod> = new Set(LOCAL_ONLY);

/** What the page may call: every other method. */
export type PageMethod = Exclude<StudioMethod, LocalOnlyMethod>;
export const isPageMethod = (method: StudioMethod): method is PageMethod =>
  !LOCAL_ONLY_METHODS.has(method);
export const PAGE_METHODS: PageMethod[] = STUDIO_METHODS.filter(isPageMethod);

/** What a caller passes (defaults not yet applied). */
export type MethodArgs<M extends StudioMethod> = z.input<StudioContract[M]['args']>;
/** What core receives after the door's schema check (defaults applied). */
export type ParsedArgs<M extends StudioMethod> = z.output<StudioContract[M]['args']>;
export type MethodResult<M extends StudioMethod> = z.output<StudioContract[M]['result']>;

export const taskProgressSchema = z.object({
  taskId: z.string(),
  kind: z.enum(['import', 'export', 'demo', 'score', 'package', 'merge', 'intervals']),
  state: z.enum(['running', 'done', 'failed', 'cancelled']),
  unit: z.string(),
  done: z.number(),
  total: z.number().nullable(),
  ratePerSecond: z.number(),
  etaSeconds: z.number().nullable(),
  detail: z.string(),
});
export type TaskProgress = z.infer<typeof taskProgressSchema>;

export interface StudioEvents {
  progress: TaskProgress;
  /** The project's settings changed (the lead's setSettings): every open view follows. */
  settings: ProjectSettings;
  /** The lead set or removed the guidelines (setGuidelines): open views show the new ones. */
  guidelines: Guidelines | null;
}
export type StudioEventName = keyof StudioEvents;
export const STUDIO_EVENTS: StudioEventName[] = ['progress', 'settings', 'guidelines'];

export type StudioMethods = {
  [M in StudioMethod]: (args: MethodArgs<M>) => Promise<MethodResult<M>>;
};

/**
 * The API as the page sees it: the page's methods, a way to listen to events, and where the
 * transport serves an image's bytes (a custom protocol in Electron, a GET route in browser mode).
 */
export type PageApi = Pick<StudioMethods, PageMethod> & {
  on<E extends StudioEventName>(event: E, listener: (payload: StudioEvents[E]) => void): () => void;
  imageUrl(uid: string): string;
};

export type { Verdict };
export { verdictSchema };
