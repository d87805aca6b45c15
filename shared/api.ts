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

/** The whole API as a renderer sees it: the methods, and a way to listen to events. */
export type StudioApi = StudioMethods & {
  on<E extends StudioEventName>(event: E, listener: (payload: StudioEvents[E]) => void): () => void;
};

export type { Verdict } from './labels';
export { verdictSchema };
