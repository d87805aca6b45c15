import { inspectImage } from '../io/images';
import type { ProjectStore } from '../store/project-store';
import type { TaskContext } from '../tasks';
import { renderSceneJpeg } from './render';
import { generateDemoScenes } from './scenes';

const DEMO_SEED = 20230501;
const DEMO_MODEL = 'pickstudio-demo-renderer';
const RENDER_BATCH = 8;

/**
 * Fills an empty project with pairs drawn locally from their prompts: one image faithful to the
 * prompt, one with a single mistake, in an order chosen per pair so neither side is the answer.
 * The images are stored in the project file, so it opens anywhere.
 */
export async function createDemoProject(
  store: ProjectStore,
  options: { pairs: number; seed?: number },
  context: TaskContext,
): Promise<{ pairs: number }> {
  const scenes = generateDemoScenes(options.pairs, options.seed ?? DEMO_SEED);
  const addedAt = Date.now();
  await store.inFileTransactionAsync(async () => {
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
        store.putBlob(first);
        store.putBlob(second);
        store.insertPair({
          promptId: store.promptId(scene.prompt),
          image0Id: store.imageId({ uid: first.sha256, sha256: first.sha256 }),
          image1Id: store.imageId({ uid: second.sha256, sha256: second.sha256 }),
          model0: DEMO_MODEL,
          model1: DEMO_MODEL,
          createdAt: addedAt,
        });
      });
      context.progress(start + batch.length, scenes.length);
    }
  });
  return { pairs: scenes.length };
}
