import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderSceneJpeg } from '../../electron/core/demo/render';
import {
  BACKGROUNDS,
  COLOR_NAMES,
  SHAPE_KINDS,
  generateDemoScenes,
} from '../../electron/core/demo/scenes';
import {
  DEMO_EMBED_DIM,
  DEMO_MODEL_NAME,
  buildDemoModel,
} from '../../electron/core/scoring/demo-model/build';
import { loadModelFolder, type ModelFolder } from '../../electron/core/scoring/model-folder';
import { parseClipImageConfig, preprocessBatch } from '../../electron/core/scoring/preprocess';
import { loadClipTokenizer, type ClipTokenizer } from '../../electron/core/scoring/tokenizer';
import { tempDir } from '../helpers/project';

const COMMITTED = path.resolve('resources/demo-model');
const PAIRS = 40;

let folder: ModelFolder;
let tokenizer: ClipTokenizer;
let text: ort.InferenceSession;
let image: ort.InferenceSession;

beforeAll(async () => {
  const dir = tempDir('pickstudio-demo-model-');
  await buildDemoModel(dir, { tokenizerDir: COMMITTED });
  folder = await loadModelFolder(dir);
  tokenizer = await loadClipTokenizer(folder.paths.tokenizer);
  const cpu = { executionProviders: ['cpu'] };
  [text, image] = await Promise.all([
    ort.InferenceSession.create(folder.paths.textEncoder, cpu),
    ort.InferenceSession.create(folder.paths.imageEncoder, cpu),
  ]);
});

afterAll(async () => {
  await Promise.all([text?.release(), image?.release()]);
});

async function embedTexts(prompts: string[]): Promise<Float32Array[]> {
  const { inputIds, attentionMask, batch, length } = tokenizer.encode(prompts);
  const out = await text.run({
    input_ids: new ort.Tensor('int64', inputIds, [batch, length]),
    attention_mask: new ort.Tensor('int64', attentionMask, [batch, length]),
  });
  return rows(out.text_embeds!.data as Float32Array, batch);
}

async function embedImages(jpegs: Buffer[]): Promise<Float32Array[]> {
  const config = parseClipImageConfig(
    JSON.parse(fs.readFileSync(folder.paths.preprocessorConfig, 'utf8')),
    folder.paths.preprocessorConfig,
  );
  const pixels = await preprocessBatch(jpegs, config);
  const size = config.cropSize;
  const out = await image.run({
    pixel_values: new ort.Tensor('float32', pixels, [jpegs.length, 3, size, size]),
  });
  return rows(out.image_embeds!.data as Float32Array, jpegs.length);
}

function rows(data: Float32Array, batch: number): Float32Array[] {
  const d = data.length / batch;
  return Array.from({ length: batch }, (_, i) => data.slice(i * d, (i + 1) * d));
}

function unit(v: Float32Array): number[] {
  const norm = Math.hypot(...v) || 1;
  return Array.from(v, (x) => x / norm);
}

/** PickScore's rule: p0 = softmax(logit_scale * <t, i0>, logit_scale * <t, i1>)[0]. */
function p0(t: Float32Array, i0: Float32Array, i1: Float32Array): number {
  const [tu, a, b] = [unit(t), unit(i0), unit(i1)];
  const dot = (x: number[]) => x.reduce((s, v, k) => s + v * tu[k]!, 0);
  const scale = folder.manifest.logit_scale;
  return 1 / (1 + Math.exp(scale * (dot(b) - dot(a))));
}

describe('the demo model (not PickScore)', () => {
  it('is a valid model folder that says it is not PickScore', () => {
    expect(folder.manifest.name).toBe(DEMO_MODEL_NAME);
    expect(folder.manifest.name).toContain('not PickScore');
    expect(folder.manifest.source).toContain('NOT PickScore');
    expect(folder.manifest.embed_dim).toBe(DEMO_EMBED_DIM);
    expect(text.inputNames).toEqual(['input_ids', 'attention_mask']);
    expect(image.outputMetadata).toEqual([
      { name: 'image_embeds', isTensor: true, type: 'float32', shape: ['batch', DEMO_EMBED_DIM] },
    ]);
  });

  it('is what resources/demo-model holds (else run scripts/make-demo-model.ts)', async () => {
    expect((await loadModelFolder(COMMITTED)).fingerprint).toBe(folder.fingerprint);
  });

  it('embeds the words it knows, BPE-split ones included, and nothing else', async () => {
    const [known, plural, unknown, padded] = await embedTexts([
      'a red hexagon on a sandy beach',
      'three red hexagons in the desert',
      'a photo of a cat',
      '',
    ]);
    const axes = (v: Float32Array) => [...v.keys()].filter((i) => v[i] !== 0);
    const hexagon = COLOR_NAMES.length + SHAPE_KINDS.indexOf('hexagon');
    const sand = COLOR_NAMES.length + SHAPE_KINDS.length + BACKGROUNDS.indexOf('sand');
    const three = COLOR_NAMES.length + SHAPE_KINDS.length + BACKGROUNDS.length + 1;
    expect(axes(known!)).toEqual([COLOR_NAMES.indexOf('red'), hexagon, sand]);
    expect(axes(plural!)).toEqual([COLOR_NAMES.indexOf('red'), hexagon, sand, three]);
    expect(axes(unknown!)).toEqual([]);
    expect(axes(padded!)).toEqual([]);
  });

  it('prefers the faithful image of demo scenes, by mistake kind', async () => {
    const scenes = generateDemoScenes(PAIRS, 1);
    const texts = await embedTexts(scenes.map((s) => s.prompt));
    const jpegs = await Promise.all(
      scenes.flatMap((s) => [renderSceneJpeg(s.faithful), renderSceneJpeg(s.wrong)]),
    );
    const images = await embedImages(jpegs);
    const byKind = new Map<string, number[]>();
    scenes.forEach((scene, i) => {
      const kind = scene.mistake.split(':')[0]!;
      const p = p0(texts[i]!, images[2 * i]!, images[2 * i + 1]!);
      byKind.set(kind, [...(byKind.get(kind) ?? []), p]);
    });
    const accuracy = (kind: string) => {
      const ps = byKind.get(kind) ?? [];
      return ps.filter((p) => p > 0.5).length / ps.length;
    };
    console.info(
      `demo model on ${PAIRS} demo pairs (seed 1): ` +
        [...byKind]
          .map(([kind, ps]) => {
            const right = ps.filter((p) => p > 0.5).length;
            const median = [...ps].sort((a, b) => a - b)[Math.floor(ps.length / 2)]!;
            return `${kind} ${right}/${ps.length} (median p ${median.toFixed(2)})`;
          })
          .join(', '),
    );
    expect(accuracy('colour')).toBeGreaterThanOrEqual(0.9);
    expect(accuracy('background')).toBeGreaterThanOrEqual(0.9);
    // Shapes and counts are measured coarsely (two shapes of one colour blur together); these
    // bounds catch a regression, not a promise.
    expect(accuracy('shape')).toBeGreaterThanOrEqual(0.75);
    expect(accuracy('count')).toBeGreaterThanOrEqual(0.6);
  });
});
