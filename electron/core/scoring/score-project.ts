import fs from 'node:fs';
import type { Provider, ScoringReport } from '../../../shared/api';
import { readImage } from '../io/images';
import type { ProjectStore } from '../store/project-store';
import type { ModelRecord, PairRow, PutScore, ScoreRepository } from '../store/scores';
import type { TaskContext } from '../tasks';
import { openEncodersOffThread, type ModelEncoders } from './encoder-host';
import { DEFAULT_BATCH } from './encoders';
import { loadModelFolder, type ModelFolder, type ModelManifest } from './model-folder';
import {
  inProcessPreprocessor,
  startPreprocessPool,
  type ImagePreprocessor,
} from './preprocess-pool';
import { dot, fromCosines, normalised } from './pickscore';
import { namedOrSource, sourceWorkerEntry, type WorkerEntry } from '../worker-client';
import { parseClipImageConfig, type ClipImageConfig } from './preprocess';

export interface LoadedModel {
  folder: ModelFolder;
  imageConfig: ClipImageConfig;
  encoders: ModelEncoders;
}

/**
 * The scoring worker to use: the one a door names, else the TypeScript source's; null runs
 * everything on this thread.
 */
const workerEntry = (worker: WorkerEntry | null | undefined): WorkerEntry | null =>
  namedOrSource(worker, sourceScoringWorker);

export const sourceScoringWorker = (): WorkerEntry | null =>
  sourceWorkerEntry(new URL(['.', 'scoring-worker.ts'].join('/'), import.meta.url));

/** Sessions are expensive to start: one per model folder and provider, kept for the process. */
const loaded = new Map<string, Promise<LoadedModel>>();

/** Opens a model folder, its tokenizer and sessions in a scoring worker (see scoring-worker.ts). */
export function loadModel(
  dir: string,
  provider?: Provider,
  worker?: WorkerEntry | null,
): Promise<LoadedModel> {
  const key = `${dir}\0${provider ?? ''}`;
  let model = loaded.get(key);
  if (!model) {
    model = (async () => {
      const folder = await loadModelFolder(dir);
      const encoders = await openEncodersOffThread(workerEntry(worker), folder.paths, provider);
      const imageConfig = parseClipImageConfig(
        JSON.parse(fs.readFileSync(folder.paths.preprocessorConfig, 'utf8')),
        folder.paths.preprocessorConfig,
      );
      return { folder, imageConfig, encoders };
    })();
    loaded.set(key, model);
    // A folder that fails to load is not remembered: fixed, it loads on the next try.
    model.catch(() => loaded.delete(key));
  }
  return model;
}

const PAIR_CHUNK = 5000;

function rows(output: Float32Array, batch: number): Float32Array[] {
  const dim = output.length / batch;
  return Array.from({ length: batch }, (_, b) =>
    normalised(output.subarray(b * dim, (b + 1) * dim)),
  );
}

/**
 * Scores pairs from cached embeddings alone (a dot product per image; no tower runs): those the
 * model has not scored, or with `all` every pair again. A pair whose prompt or images the model
 * has no embedding for (an image that could not be read) is left unscored. Returns the number of
 * pairs scored. All of it is one transaction: a million scores commit once.
 */
export function scoreCachedPairs(
  scores: ScoreRepository,
  modelId: number,
  logitScale: number,
  context: Pick<TaskContext, 'throwIfCancelled'>,
  options: { all?: boolean; onChunk?: (scored: number) => void } = {},
): number {
  let scored = 0;
  scores.writeScores(modelId, (put) => {
    for (let after = 0; ; ) {
      context.throwIfCancelled();
      const chunk = scores.pairsAfter(modelId, after, PAIR_CHUNK, options.all ? 'all' : 'unscored');
      if (chunk.length === 0) break;
      after = chunk[chunk.length - 1]![0];
      scored += scoreChunk(scores, modelId, logitScale, chunk, put);
      options.onChunk?.(scored);
    }
  });
  return scored;
}

/** One chunk of pairs: each embedding read once, each (prompt, image) cosine computed once. */
function scoreChunk(
  scores: ScoreRepository,
  modelId: number,
  logitScale: number,
  chunk: PairRow[],
  put: PutScore,
): number {
  const promptIds = new Set<number>();
  const imageIds = new Set<number>();
  for (const [, promptId, image0Id, image1Id] of chunk) {
    promptIds.add(promptId);
    imageIds.add(image0Id);
    imageIds.add(image1Id);
  }
  const texts = scores.promptEmbeddings(modelId, promptIds);
  const images = scores.imageEmbeddings(modelId, imageIds);
  // Pairs come in id order, which keeps a prompt's pairs together: an image is usually paired
  // several times under its prompt, and one dot product serves all of them.
  const cosines = new Map<number, number>();
  let cosinesPrompt = -1;
  const pairIds = new Float64Array(chunk.length);
  const score0s = new Float64Array(chunk.length);
  const score1s = new Float64Array(chunk.length);
  const p0s = new Float64Array(chunk.length);
  let scored = 0;
  for (const [pairId, promptId, image0Id, image1Id] of chunk) {
    const text = texts.get(promptId);
    if (!text) continue;
    if (promptId !== cosinesPrompt) {
      cosines.clear();
      cosinesPrompt = promptId;
    }
    const cosine0 = cosineOf(text, image0Id, images, cosines);
    const cosine1 = cosineOf(text, image1Id, images, cosines);
    if (cosine0 === undefined || cosine1 === undefined) continue;
    const { score0, score1, p0 } = fromCosines(logitScale, cosine0, cosine1);
    pairIds[scored] = pairId;
    score0s[scored] = score0;
    score1s[scored] = score1;
    p0s[scored] = p0;
    scored++;
  }
  // Written in the order of the certainty index (model, |p_0 - 0.5|), whose random inserts cost
  // most of a fresh score's write: one sweep through it per chunk (bench:score, about 1.4x). The
  // primary key's inserts stay within the chunk's few pages in any order.
  const order = Array.from({ length: scored }, (_, i) => i);
  order.sort((a, b) => Math.abs(p0s[a]! - 0.5) - Math.abs(p0s[b]! - 0.5));
  for (const i of order) put(pairIds[i]!, score0s[i]!, score1s[i]!, p0s[i]!);
  return scored;
}

/** The cosine of a prompt and an image, remembered in `cosines` for the prompt's next pairs. */
function cosineOf(
  text: Float32Array,
  imageId: number,
  images: Map<number, Float32Array>,
  cosines: Map<number, number>,
): number | undefined {
  let value = cosines.get(imageId);
  if (value === undefined) {
    const image = images.get(imageId);
    if (!image) return undefined;
    value = dot(text, image);
    cosines.set(imageId, value);
  }
  return value;
}

/**
 * Scores, from the cache alone, the pairs the model has not scored whose prompt and images it
 * has embeddings for (computed here earlier, or imported: import-embeddings): no model folder
 * is read and no session started. The model becomes the project's active model.
 */
export function scoreFromCache(
  store: ProjectStore,
  model: ModelRecord & { id: number },
  context: TaskContext,
): ScoringReport {
  const started = performance.now();
  const { scores } = store;
  const manifest = JSON.parse(model.manifest) as ModelManifest;
  scores.activate(model);
  const runId = scores.startRun(model.id, 'cache');
  const pairsScored = scoreCachedPairs(scores, model.id, manifest.logit_scale, context, {
    onChunk: (scored) => context.progress(scored, null, 'scores from the cache'),
  });
  scores.finishRun(runId, pairsScored);
  return {
    model: model.name,
    fingerprint: model.fingerprint,
    provider: null,
    providerFailures: [],
    promptsEncoded: 0,
    imagesEncoded: 0,
    imagesMissing: 0,
    missingImages: [],
    pairsScored,
    seconds: (performance.now() - started) / 1000,
  };
}

/** How many of the images that could not be read a scoring report names. */
const MISSING_IMAGES_SHOWN = 10;

/** The encoding work of one run, counted for the task's progress. */
interface Encoding {
  store: ProjectStore;
  model: LoadedModel;
  modelId: number;
  batch: number;
  context: TaskContext;
  /** Prompts and images encoded or found unreadable so far; `report` sends it as progress. */
  done: number;
  report(detail: string): void;
}

/**
 * Scores every pair of the project that the model has not scored: encodes the prompts and images
 * the cache lacks (nothing is encoded twice, across runs too), then computes each pair from the
 * cache. Resumable: whatever a cancelled or killed run encoded stays cached.
 */
export async function scoreProject(
  store: ProjectStore,
  model: LoadedModel,
  options: {
    batch?: number;
    /** Where images are preprocessed; null for this thread. Defaults to the source worker. */
    worker?: WorkerEntry | null;
  },
  context: TaskContext,
): Promise<ScoringReport> {
  const started = performance.now();
  // After each wait, a cancel (the project closing) is seen before the store is touched again.
  context.throwIfCancelled();
  const { scores } = store;
  const { folder, encoders } = model;
  const modelId = scores.activate({
    fingerprint: folder.fingerprint,
    name: folder.manifest.name,
    manifest: JSON.stringify(folder.manifest),
    folder: folder.dir,
  });
  const runId = scores.startRun(modelId, encoders.provider);
  const pending = scores.pendingCounts(modelId);
  const total = pending.prompts + pending.images;
  const encoding: Encoding = {
    store,
    model,
    modelId,
    batch: options.batch ?? DEFAULT_BATCH[encoders.provider],
    context,
    done: 0,
    report: (detail) => context.progress(encoding.done, total, detail),
  };
  const promptsEncoded = await encodePrompts(encoding);
  const images =
    pending.images > 0
      ? await encodeImages(encoding, workerEntry(options.worker))
      : { encoded: 0, missing: 0, named: [] };
  context.throwIfCancelled();
  const pairsScored = scoreCachedPairs(scores, modelId, folder.manifest.logit_scale, context, {
    onChunk: () => encoding.report('scores'),
  });
  scores.finishRun(runId, pairsScored);
  return {
    model: folder.manifest.name,
    fingerprint: folder.fingerprint,
    provider: encoders.provider,
    providerFailures: encoders.failures,
    promptsEncoded,
    imagesEncoded: images.encoded,
    imagesMissing: images.missing,
    missingImages: images.named,
    pairsScored,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Encodes the prompts the cache lacks; returns how many. */
async function encodePrompts(run: Encoding): Promise<number> {
  const { scores } = run.store;
  let encoded = 0;
  for (let after = 0; ; ) {
    run.context.throwIfCancelled();
    const prompts = scores.promptsToEncode(run.modelId, after, run.batch);
    if (prompts.length === 0) break;
    const output = await run.model.encoders.encodePrompts(prompts.map((p) => p.text));
    run.context.throwIfCancelled();
    const vectors = rows(output, prompts.length);
    scores.putPromptEmbeddings(
      run.modelId,
      prompts.map((p, i) => ({ id: p.id, embedding: vectors[i]! })),
    );
    after = prompts[prompts.length - 1]!.id;
    encoded += prompts.length;
    run.done += prompts.length;
    run.report('prompts');
  }
  return encoded;
}

/**
 * Encodes the images the cache lacks, the next batch decoded (on the worker pool, or this thread
 * when `worker` is null) while the current one runs through the image tower.
 */
async function encodeImages(
  run: Encoding,
  worker: WorkerEntry | null,
): Promise<{ encoded: number; missing: number; named: string[] }> {
  const preprocessor = worker ? startPreprocessPool(worker) : inProcessPreprocessor;
  const named: string[] = [];
  const decode = (after: number) => decodeBatch(run, preprocessor, after, named);
  const size = run.model.imageConfig.cropSize;
  let encoded = 0;
  let missing = 0;
  let next = decode(0);
  try {
    for (;;) {
      run.context.throwIfCancelled();
      const { images, present } = await next;
      if (images.length === 0) break;
      next = decode(images[images.length - 1]!.id);
      missing += images.length - present.length;
      run.done += images.length;
      if (present.length > 0) {
        const pixels = new Float32Array(present.length * 3 * size * size);
        present.forEach((d, i) => pixels.set(d.pixels, i * 3 * size * size));
        const output = await run.model.encoders.encodeImages(pixels, present.length, size);
        run.context.throwIfCancelled();
        const vectors = rows(output, present.length);
        run.store.scores.putImageEmbeddings(
          run.modelId,
          present.map((d, i) => ({ id: d.id, embedding: vectors[i]! })),
        );
        encoded += present.length;
      }
      run.report('images');
    }
  } finally {
    // A cancelled run leaves one batch in flight: let it settle before its workers go.
    await next.catch(() => undefined);
    await preprocessor.close();
  }
  return { encoded, missing, named };
}

/** The next batch of images to encode, read and preprocessed; the unreadable ones named. */
async function decodeBatch(
  run: Encoding,
  preprocessor: ImagePreprocessor,
  after: number,
  named: string[],
) {
  const images = run.store.scores.imagesToEncode(run.modelId, after, run.batch);
  const decoded = await Promise.all(
    images.map(async (image) => {
      try {
        const { bytes } = await readImage(run.store.images, image.uid);
        return {
          id: image.id,
          pixels: await preprocessor.preprocess(bytes, run.model.imageConfig),
        };
      } catch (error) {
        // The first few say which images and why: the user has files to fix.
        if (named.length < MISSING_IMAGES_SHOWN) {
          const message = (error as Error).message;
          const file = run.store.images.sourceOf(image.uid)?.path;
          named.push(
            message.startsWith(`image ${image.uid}`)
              ? message
              : `image ${image.uid}${file ? ` (${file})` : ''}: ${message}`,
          );
        }
        return null;
      }
    }),
  );
  return { images, present: decoded.filter((d) => d !== null) };
}
