/**
 * The StudioApi contract: every method the renderer, the CLI and browser mode may call, with a
 * runtime schema for its arguments (checked at the door, before core sees them) and for its
 * result, and the events the core pushes. Adding a method is one entry here and one handler in
 * core; the preload, the IPC registration and the HTTP client follow from this object.
 */
import { z } from 'zod';

const verdictSchema = z.union([z.literal(0), z.literal(1), z.literal('tie')]);
const taskIdSchema = z.string().min(1).max(100);
const filePathSchema = z.string().min(1).max(4096);

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

const annotatorNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[^\p{C}]+$/u, 'no control characters');
const pairIdSchema = z.number().int().positive();
const sideSchema = z.union([z.literal(0), z.literal(1)]);

export const imageRefSchema = z.object({
  uid: z.string(),
  /** False when the project has neither the bytes nor a readable file for this image. */
  available: z.boolean(),
});
export type ImageRef = z.infer<typeof imageRefSchema>;

/** A pair as the labeling view shows it. `leftImage` is the image to show on the left. */
export const labelPairSchema = z.object({
  pairId: z.number(),
  prompt: z.string(),
  image0: imageRefSchema,
  image1: imageRefSchema,
  leftImage: sideSchema,
  /** This annotator's current decision on the pair: a verdict, 'skip', or null if none. */
  decision: z.union([verdictSchema, z.literal('skip')]).nullable(),
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
  decision: z.union([verdictSchema, z.literal('skip')]),
  createdAt: z.number(),
});
export type HistoryEntry = z.infer<typeof historyEntrySchema>;

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
  exportParquet: {
    args: z.strictObject({
      out: filePathSchema,
      images: z.boolean().default(true),
      annotationsOut: filePathSchema.optional(),
      taskId: taskIdSchema.optional(),
    }),
    result: exportReportSchema,
  },
  cancelTask: {
    args: z.strictObject({ taskId: taskIdSchema }),
    result: z.object({ cancelled: z.boolean() }),
  },
  /** The next pairs this annotator has not decided, skipping those the view already holds. */
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
   * Appends a verdict (or, with `verdict: null`, a skip) and returns once it is committed to the
   * project file. The verdict names image 0 or 1 of the pair, never a side of the screen.
   */
  recordDecision: {
    args: z.strictObject({
      annotator: annotatorNameSchema,
      pairId: pairIdSchema,
      verdict: verdictSchema.nullable(),
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
      undone: z.object({ annotationId: z.number(), pairId: z.number() }).nullable(),
      progress: labelProgressSchema,
    }),
  },
  getHistory: {
    args: z.strictObject({
      annotator: annotatorNameSchema,
      limit: z.number().int().min(1).max(200).default(12),
    }),
    result: z.array(historyEntrySchema),
  },
} as const;

export type StudioContract = typeof studioContract;
export type StudioMethod = keyof StudioContract;
export const STUDIO_METHODS = Object.keys(studioContract) as StudioMethod[];

/** What a caller passes (defaults not yet applied). */
export type MethodArgs<M extends StudioMethod> = z.input<StudioContract[M]['args']>;
/** What core receives after the door's schema check (defaults applied). */
export type ParsedArgs<M extends StudioMethod> = z.output<StudioContract[M]['args']>;
export type MethodResult<M extends StudioMethod> = z.output<StudioContract[M]['result']>;

export const taskProgressSchema = z.object({
  taskId: z.string(),
  kind: z.enum(['import', 'export', 'demo']),
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
}
export type StudioEventName = keyof StudioEvents;
export const STUDIO_EVENTS: StudioEventName[] = ['progress'];

export type StudioMethods = {
  [M in StudioMethod]: (args: MethodArgs<M>) => Promise<MethodResult<M>>;
};

/**
 * The whole API as a renderer sees it: the methods, a way to listen to events, and where the
 * transport serves an image's bytes (a custom protocol in Electron, a GET route in browser mode).
 */
export type StudioApi = StudioMethods & {
  on<E extends StudioEventName>(event: E, listener: (payload: StudioEvents[E]) => void): () => void;
  imageUrl(uid: string): string;
};

export type { Verdict } from './labels';
export { verdictSchema };
