import fs from 'node:fs';
import type { Provider, ScoringReport } from '../../../shared/api';
import { readImage } from '../io/images';
import type { ProjectStore } from '../store/project-store';
import { ScoreStore } from '../store/scores';
import type { TaskContext } from '../tasks';
import { openEncodersOffThread } from './encoder-host';
import { DEFAULT_BATCH, type Encoders } from './encoders';
import { loadModelFolder, type ModelFolder } from './model-folder';
import { inProcessPreprocessor, startPreprocessPool } from './preprocess-pool';
import { dot, fromCosines, normalised } from './pickscore';
import { sourceWorkerEntry, type WorkerEntry } from './worker-client';
import { parseClipImageConfig, type ClipImageConfig } from './preprocess';
import { loadClipTokenizer, type ClipTokenizer } from './tokenizer';

export interface LoadedModel {
  folder: ModelFolder;
  tokenizer: ClipTokenizer;
  imageConfig: ClipImageConfig;
  encoders: Encoders;
}

/**
 * The scoring worker to use: the one a door names, else the TypeScript source's; null runs
 * everything on this thread.
 */
const workerEntry = (worker: WorkerEntry | null | undefined): WorkerEntry | null =>
  worker === undefined ? sourceWorkerEntry() : worker;

/** Sessions are expensive to start: one per model folder and provider, kept for the process. */
const loaded = new Map<string, Promise<LoadedModel>>();

/** Opens a model folder, its sessions in a scoring worker (see scoring-worker.ts). */
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
      const [tokenizer, encoders] = await Promise.all([
        loadClipTokenizer(folder.paths.tokenizer),
        openEncodersOffThread(workerEntry(worker), folder.paths, provider),
      ]);
      const imageConfig = parseClipImageConfig(
        JSON.parse(fs.readFileSync(folder.paths.preprocessorConfig, 'utf8')),
        folder.paths.preprocessorConfig,
      );
      return { folder, tokenizer, imageConfig, encoders };
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
 * pairs scored.
 */
export function scoreCachedPairs(
  scores: ScoreStore,
  modelId: number,
  logitScale: number,
  context: Pick<TaskContext, 'throwIfCancelled'>,
  options: { all?: boolean; onChunk?: (scored: number) => void } = {},
): number {
  let scored = 0;
  for (let after = 0; ; ) {
    context.throwIfCancelled();
    const chunk = scores.pairsAfter(modelId, after, PAIR_CHUNK, options.all ? 'all' : 'unscored');
    if (chunk.length === 0) break;
    after = chunk[chunk.length - 1]!.id;
    // Pairs of one prompt share its images, so a chunk reads each embedding once.
    const texts = scores.promptEmbeddings(modelId, new Set(chunk.map((p) => p.promptId)));
    const images = scores.imageEmbeddings(
      modelId,
      new Set(chunk.flatMap((p) => [p.image0Id, p.image1Id])),
    );
    // An image is usually paired several times under its prompt: one dot product serves all.
    let cosines = new Map<number, number>();
    let cosinesPrompt = -1;
    const cosine = (text: Float32Array, imageId: number): number | undefined => {
      let value = cosines.get(imageId);
      if (value === undefined) {
        const image = images.get(imageId);
        if (!image) return undefined;
        value = dot(text, image);
        cosines.set(imageId, value);
      }
      return value;
    };
    const rows = [];
    for (const pair of chunk) {
      const text = texts.get(pair.promptId);
      if (!text) continue;
      if (pair.promptId !== cosinesPrompt) {
        cosines = new Map();
        cosinesPrompt = pair.promptId;
      }
      const cosine0 = cosine(text, pair.image0Id);
      const cosine1 = cosine(text, pair.image1Id);
      if (cosine0 !== undefined && cosine1 !== undefined) {
        rows.push({ pairId: pair.id, ...fromCosines(logitScale, cosine0, cosine1) });
      }
    }
    scores.putScores(modelId, rows);
    scored += rows.length;
    options.onChunk?.(scored);
  }
  return scored;
}

/** How many of the images that could not be read a scoring report names. */
const MISSING_IMAGES_SHOWN = 10;

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
  const scores = new ScoreStore(store.db);
  const { folder, encoders } = model;
  const batch = options.batch ?? DEFAULT_BATCH[encoders.provider];
  const modelId = scores.activate({
    fingerprint: folder.fingerprint,
    name: folder.manifest.name,
    manifest: JSON.stringify(folder.manifest),
    folder: folder.dir,
  });
  const runId = scores.startRun(modelId, encoders.provider);
  const pending = scores.pendingCounts(modelId);
  const total = pending.prompts + pending.images;
  let done = 0;
  const report = (detail: string): void => context.progress(done, total, detail);

  let promptsEncoded = 0;
  for (let after = 0; ; ) {
    context.throwIfCancelled();
    const prompts = scores.promptsToEncode(modelId, after, batch);
    if (prompts.length === 0) break;
    const tokens = model.tokenizer.encode(prompts.map((p) => p.text));
    const output = await encoders.encodeText(tokens);
    const vectors = rows(output, prompts.length);
    scores.putPromptEmbeddings(
      modelId,
      prompts.map((p, i) => ({ id: p.id, embedding: vectors[i]! })),
    );
    after = prompts[prompts.length - 1]!.id;
    promptsEncoded += prompts.length;
    done += prompts.length;
    report('prompts');
  }

  let imagesEncoded = 0;
  let imagesMissing = 0;
  const missingImages: string[] = [];
  if (pending.images > 0) {
    const entry = workerEntry(options.worker);
    const preprocessor = entry ? startPreprocessPool(entry) : inProcessPreprocessor;
    const size = model.imageConfig.cropSize;
    const decodeBatch = async (after: number) => {
      const images = scores.imagesToEncode(modelId, after, batch);
      const decoded = await Promise.all(
        images.map(async (image) => {
          try {
            const { bytes } = await readImage(store, image.uid);
            return {
              id: image.id,
              pixels: await preprocessor.preprocess(bytes, model.imageConfig),
            };
          } catch (error) {
            // The first few say which images and why: the user has files to fix.
            if (missingImages.length < MISSING_IMAGES_SHOWN) {
              const message = (error as Error).message;
              const file = store.imageSource(image.uid)?.path;
              missingImages.push(
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
    };
    // The next batch is decoded while the current one runs through the image tower.
    let next = decodeBatch(0);
    try {
      for (;;) {
        context.throwIfCancelled();
        const { images, present } = await next;
        if (images.length === 0) break;
        next = decodeBatch(images[images.length - 1]!.id);
        imagesMissing += images.length - present.length;
        done += images.length;
        if (present.length > 0) {
          const pixels = new Float32Array(present.length * 3 * size * size);
          present.forEach((d, i) => pixels.set(d.pixels, i * 3 * size * size));
          const output = await encoders.encodeImages(pixels, present.length, size);
          const vectors = rows(output, present.length);
          scores.putImageEmbeddings(
            modelId,
            present.map((d, i) => ({ id: d.id, embedding: vectors[i]! })),
          );
          imagesEncoded += present.length;
        }
        report('images');
      }
    } finally {
      // A cancelled run leaves one batch in flight: let it settle before its workers go.
      await next.catch(() => undefined);
      await preprocessor.close();
    }
  }

  const pairsScored = scoreCachedPairs(scores, modelId, folder.manifest.logit_scale, context, {
    onChunk: () => report('scores'),
  });
  scores.finishRun(runId, pairsScored);
  return {
    model: folder.manifest.name,
    fingerprint: folder.fingerprint,
    provider: encoders.provider,
    providerFailures: encoders.failures,
    promptsEncoded,
    imagesEncoded,
    imagesMissing,
    missingImages,
    pairsScored,
    seconds: (performance.now() - started) / 1000,
  };
}
