import { inspectImage } from '../io/images';
import type { WorkerEntry } from '../worker-client';
import { loadModel, scoreProject } from '../scoring/score-project';
import type { ProjectStore } from '../store/project-store';
import { openStagingFile, type BlobRecord } from '../store/staging';
import type { TaskContext } from '../tasks';
import { addDemoAnnotations } from './demo-annotators';
import { renderSceneJpeg } from './render';
import { generateDemoScenes, type DemoScene } from './scenes';

const DEMO_SEED = 20230501;
const DEMO_MODEL = 'pickstudio-demo-renderer';
const RENDER_BATCH = 8;

/**
 * Fills an empty project with pairs drawn locally from their prompts: one image faithful to the
 * prompt, one with a single mistake, in an order chosen per pair so neither side is the answer.
 * The images are stored in the project file, so it opens anywhere. With `scoreWith` (a model
 * folder, normally resources/demo-model), every pair is then scored, so suggestions show at once.
 * Three demo annotators' labels come with it (demo-annotators.ts), for the lead's desk.
 */
export async function createDemoProject(
  store: ProjectStore,
  options: {
    pairs: number;
    seed?: number;
    scoreWith?: string;
    worker?: WorkerEntry;
    /** Add the demo annotators' labels (demo-annotators.ts). */
    annotators?: boolean;
  },
  context: TaskContext,
): Promise<{ pairs: number }> {
  const seed = options.seed ?? DEMO_SEED;
  const scenes = generateDemoScenes(options.pairs, seed);
  // One bar for the whole demo, in images and prompts: each pair's two images drawn, then at most
  // its prompt and two images encoded. Scoring's own total (what its cache lacks) is known only
  // once the pairs are in, so its part is scaled into the room kept for it.
  const drawn = 2 * scenes.length;
  const total = drawn + (options.scoreWith !== undefined ? 3 * scenes.length : 0);
  const truths = await addDemoPairs(store, scenes, part(context, 0, drawn, total));
  if (options.annotators) {
    addDemoAnnotations(
      store,
      truths.map((t) => ({
        pairId: store.pairs.idWithFirstImage(t.image0Uid)!,
        faithful: t.faithful,
        mistake: t.mistake,
      })),
      seed + 1,
    );
  }
  if (options.scoreWith !== undefined) {
    await scoreProject(
      store,
      await loadModel(options.scoreWith, undefined, options.worker),
      { worker: options.worker },
      part(context, drawn, total - drawn, total),
    );
  }
  context.progress(total, total);
  return { pairs: truths.length };
}

/** A context whose progress fills `size` steps from `offset` of the whole task's `total`. */
function part(context: TaskContext, offset: number, size: number, total: number): TaskContext {
  return {
    signal: context.signal,
    throwIfCancelled: () => context.throwIfCancelled(),
    progress(done, partTotal, detail) {
      const share = partTotal ? Math.min(1, done / partTotal) : 0;
      context.progress(offset + Math.floor(size * share), total, detail);
    },
  };
}

/** Draws each scene's two images and adds the pairs in one transaction; returns which is faithful. */
async function addDemoPairs(
  store: ProjectStore,
  scenes: DemoScene[],
  context: TaskContext,
): Promise<{ image0Uid: string; faithful: 0 | 1; mistake: string }[]> {
  const addedAt = Date.now();
  const staging = openStagingFile(store.file);
  const truths: { image0Uid: string; faithful: 0 | 1; mistake: string }[] = [];
  try {
    for (let start = 0; start < scenes.length; start += RENDER_BATCH) {
      context.throwIfCancelled();
      const batch = scenes.slice(start, start + RENDER_BATCH);
      const rendered = await Promise.all(
        batch.map(async (scene) =>
          Promise.all([
            inspectImage(await renderSceneJpeg(scene.faithful)),
            inspectImage(await renderSceneJpeg(scene.wrong)),
          ]),
        ),
      );
      batch.forEach((scene, offset) => {
        const [faithful, wrong] = rendered[offset]!;
        // The faithful image's side alternates with the parity of its hash: stable, and unbiased.
        const faithfulFirst = parseInt(faithful.sha256.slice(0, 2), 16) % 2 === 0;
        const [first, second] = faithfulFirst ? [faithful, wrong] : [wrong, faithful];
        truths.push({
          image0Uid: first.sha256,
          faithful: faithfulFirst ? 0 : 1,
          mistake: scene.mistake,
        });
        staging.addBlob(first);
        staging.addBlob(second);
        const stored = (blob: BlobRecord) => ({
          uid: blob.sha256,
          sha256: blob.sha256,
          path: null,
          url: null,
        });
        staging.addPair({
          caption: scene.prompt,
          image0: stored(first),
          image1: stored(second),
          model0: DEMO_MODEL,
          model1: DEMO_MODEL,
          createdAt: addedAt,
          source: null,
          label: null,
        });
      });
      staging.checkpoint();
      context.progress(start + batch.length, scenes.length, 'drawing images');
    }
    staging.finish();
    store.mergeStaged(staging.file, 'demo');
  } finally {
    staging.remove();
  }
  return truths;
}
