import fs from 'node:fs';
import type { Provider, ScoringReport } from '../../../shared/api';
import { readImage } from '../io/images';
import type { ProjectStore } from '../store/project-store';
import { ScoreStore, fromBlob } from '../store/scores';
import type { TaskContext } from '../tasks';
import {
  DEFAULT_BATCH,
  imageFeeds,
  openEncoders,
  runTower,
  textFeeds,
  type Encoders,
} from './encoders';
import { loadModelFolder, type ModelFolder } from './model-folder';
import { parseClipImageConfig, preprocessImage, type ClipImageConfig } from './preprocess';
import { loadClipTokenizer, type ClipTokenizer } from './tokenizer';

export interface LoadedModel {
  folder: ModelFolder;
  tokenizer: ClipTokenizer;
  imageConfig: ClipImageConfig;
  encoders: Encoders;
}

/** Sessions are expensive to start: one per model folder and provider, kept for the process. */
const loaded = new Map<string, Promise<LoadedModel>>();

export function loadModel(dir: string, provider?: Provider): Promise<LoadedModel> {
  const key = `${dir}\0${provider ?? ''}`;
  let model = loaded.get(key);
  if (!model) {
    model = (async () => {
      const folder = await loadModelFolder(dir);
      const [tokenizer, encoders] = await Promise.all([
        loadClipTokenizer(folder.paths.tokenizer),
        openEncoders(folder.paths, provider),
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

/** The unit vector along `v`; the cache keeps unit vectors so a score is a dot product. */
function normalised(v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  const norm = Math.sqrt(sum) || 1;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! / norm;
  return out;
}

function rows(output: Float32Array, batch: number): Float32Array[] {
  const dim = output.length / batch;
  return Array.from({ length: batch }, (_, b) =>
    normalised(output.subarray(b * dim, (b + 1) * dim)),
  );
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

/** PickScore's formula: s_i = logit_scale * <text, image_i>, p_0 = softmax(s_0, s_1)[0]. */
export function pickscore(
  logitScale: number,
  text: Float32Array,
  image0: Float32Array,
  image1: Float32Array,
) {
  const score0 = logitScale * dot(text, image0);
  const score1 = logitScale * dot(text, image1);
  return { score0, score1, p0: 1 / (1 + Math.exp(score1 - score0)) };
}

/**
 * Scores every pair of the project that the model has not scored: encodes the prompts and images
 * the cache lacks (nothing is encoded twice, across runs too), then computes each pair from the
 * cache. Resumable: whatever a cancelled or killed run encoded stays cached.
 */
export async function scoreProject(
  store: ProjectStore,
  model: LoadedModel,
  options: { batch?: number },
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
    const output = await runTower(
      encoders.text,
      textFeeds(tokens.inputIds, tokens.attentionMask, tokens.batch, tokens.length),
    );
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
  const size = model.imageConfig.cropSize;
  for (let after = 0; ; ) {
    context.throwIfCancelled();
    const images = scores.imagesToEncode(modelId, after, batch);
    if (images.length === 0) break;
    after = images[images.length - 1]!.id;
    const decoded = await Promise.all(
      images.map(async (image) => {
        try {
          const { bytes } = await readImage(store, image.uid);
          return { id: image.id, pixels: await preprocessImage(bytes, model.imageConfig) };
        } catch {
          return null;
        }
      }),
    );
    const present = decoded.filter((d): d is { id: number; pixels: Float32Array } => d !== null);
    imagesMissing += images.length - present.length;
    done += images.length;
    if (present.length > 0) {
      const pixels = new Float32Array(present.length * 3 * size * size);
      present.forEach((d, i) => pixels.set(d.pixels, i * 3 * size * size));
      const output = await runTower(encoders.image, imageFeeds(pixels, present.length, size));
      const vectors = rows(output, present.length);
      scores.putImageEmbeddings(
        modelId,
        present.map((d, i) => ({ id: d.id, embedding: vectors[i]! })),
      );
      imagesEncoded += present.length;
    }
    report('images');
  }

  let pairsScored = 0;
  const logitScale = folder.manifest.logit_scale;
  for (let after = 0; ; ) {
    context.throwIfCancelled();
    const chunk = scores.pairsToScore(modelId, after, PAIR_CHUNK);
    if (chunk.length === 0) break;
    scores.putScores(
      modelId,
      chunk.map((pair) => ({
        pairId: pair.id,
        ...pickscore(logitScale, fromBlob(pair.text), fromBlob(pair.image0), fromBlob(pair.image1)),
      })),
    );
    pairsScored += chunk.length;
    after = chunk[chunk.length - 1]!.id;
    report('scores');
  }
  scores.finishRun(runId, pairsScored);
  return {
    model: folder.manifest.name,
    fingerprint: folder.fingerprint,
    provider: encoders.provider,
    providerFailures: encoders.failures,
    promptsEncoded,
    imagesEncoded,
    imagesMissing,
    pairsScored,
    seconds: (performance.now() - started) / 1000,
  };
}
