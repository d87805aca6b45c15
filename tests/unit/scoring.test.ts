import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDemoProject } from '../../electron/core/demo/create-demo';
import { readImage } from '../../electron/core/io/images';
import { preprocessImage, parseClipImageConfig } from '../../electron/core/scoring/preprocess';
import { loadClipTokenizer } from '../../electron/core/scoring/tokenizer';
import { openStudio } from '../../electron/core/studio';
import { StudioError } from '../../shared/errors';
import { duckdb } from '../helpers/duckdb';
import { noopContext, openTestProject, projectDigest, tempDir, sqlite } from '../helpers/project';
import { TINY, writeTinyModel, type TinyWeights } from '../helpers/tiny-model';

async function scoredSetup(pairs = 6) {
  const dir = tempDir();
  const modelDir = path.join(dir, 'tiny');
  const weights = writeTinyModel(modelDir, 7);
  const project = path.join(dir, 'p.pickstudio');
  const opened = openTestProject(project);
  await createDemoProject(opened.store, { pairs }, noopContext);
  return { dir, modelDir, weights, project, ...opened };
}

function unit(v: Float64Array): Float64Array {
  const norm = Math.sqrt(v.reduce((sum, x) => sum + x * x, 0));
  return v.map((x) => x / norm);
}

/** The tiny model's embeddings, computed here in float64 from its weights, not by onnxruntime. */
async function expectedEmbeddings(weights: TinyWeights, prompt: string, images: Uint8Array[]) {
  const { dim, pool, grid } = TINY;
  const tokenizer = await loadClipTokenizer('tests/fixtures/clip-tokenizer/tokenizer.json');
  const ids = tokenizer.encodeOne(prompt);
  const summed = new Float64Array(dim);
  for (const id of ids) for (let d = 0; d < dim; d++) summed[d]! += weights.table[id * dim + d]!;
  const text = new Float64Array(dim);
  for (let o = 0; o < dim; o++) {
    for (let d = 0; d < dim; d++) text[o]! += summed[d]! * weights.textProjection[d * dim + o]!;
  }
  const config = parseClipImageConfig(
    JSON.parse(fs.readFileSync('tests/fixtures/clip-tokenizer/preprocessor_config.json', 'utf8')),
    'preprocessor_config.json',
  );
  const imageEmbeddings = await Promise.all(
    images.map(async (bytes) => {
      const pixels = await preprocessImage(bytes, config);
      const features = new Float64Array(3 * grid * grid);
      for (let c = 0; c < 3; c++) {
        for (let gy = 0; gy < grid; gy++) {
          for (let gx = 0; gx < grid; gx++) {
            let sum = 0;
            for (let y = 0; y < pool; y++) {
              for (let x = 0; x < pool; x++) {
                sum += pixels[c * 224 * 224 + (gy * pool + y) * 224 + gx * pool + x]!;
              }
            }
            features[c * grid * grid + gy * grid + gx] = sum / (pool * pool);
          }
        }
      }
      const out = new Float64Array(dim);
      for (let o = 0; o < dim; o++) {
        for (let f = 0; f < features.length; f++)
          out[o]! += features[f]! * weights.imageProjection[f * dim + o]!;
      }
      return unit(out);
    }),
  );
  return { text: unit(text), images: imageEmbeddings };
}

describe('scoring with a model folder', () => {
  it('scores every pair as PickScore does, from cached embeddings; a second run encodes nothing', async () => {
    const { call, store, modelDir, weights } = await scoredSetup();
    const first = await call('scorePairs', { model: modelDir });
    expect(first).toMatchObject({
      model: 'tiny-random-7',
      provider: 'cpu',
      promptsEncoded: 6,
      imagesEncoded: 12,
      imagesMissing: 0,
      pairsScored: 6,
    });
    expect(first.providerFailures.map((f) => f.provider)).toEqual([
      'cuda',
      'dml',
      'coreml',
      'webgpu',
    ]);
    // Without a Vulkan loader (this CI machine), WebGPU is not tried: trying prints a native
    // warning with a source location, which reads as a crash.
    const vulkan = spawnSync('ldconfig', ['-p'], { encoding: 'utf8' }).stdout;
    if (
      process.platform === 'linux' &&
      !process.env.LD_LIBRARY_PATH &&
      !vulkan.includes('libvulkan.so.1')
    ) {
      expect(first.providerFailures.find((f) => f.provider === 'webgpu')!.reason).toBe(
        'no Vulkan loader (libvulkan.so.1) on this machine; WebGPU runs on Vulkan here',
      );
    }

    const rows = sqlite(store)
      .prepare(
        `SELECT pr.text, i0.uid AS uid0, i1.uid AS uid1, s.score_0, s.score_1, s.p_0 FROM scores s
         JOIN pairs p ON p.id = s.pair_id JOIN prompts pr ON pr.id = p.prompt_id
         JOIN images i0 ON i0.id = p.image_0_id JOIN images i1 ON i1.id = p.image_1_id`,
      )
      .all() as {
      text: string;
      uid0: string;
      uid1: string;
      score_0: number;
      score_1: number;
      p_0: number;
    }[];
    expect(rows).toHaveLength(6);
    for (const row of rows) {
      const image0 = (await readImage(store.images, row.uid0)).bytes;
      const image1 = (await readImage(store.images, row.uid1)).bytes;
      const expected = await expectedEmbeddings(weights, row.text, [image0, image1]);
      const dot = (a: Float64Array, b: Float64Array) => a.reduce((sum, x, i) => sum + x * b[i]!, 0);
      const s0 = weights.logitScale * dot(expected.text, expected.images[0]!);
      const s1 = weights.logitScale * dot(expected.text, expected.images[1]!);
      expect(row.score_0).toBeCloseTo(s0, 2);
      expect(row.score_1).toBeCloseTo(s1, 2);
      expect(row.p_0).toBeCloseTo(1 / (1 + Math.exp(s1 - s0)), 4);
    }

    const second = await call('scorePairs', {});
    // Nothing to encode and nothing left to score; the six scores stay.
    expect(second).toMatchObject({ promptsEncoded: 0, imagesEncoded: 0, pairsScored: 0 });
    expect(sqlite(store).prepare('SELECT count(*) AS n FROM scores').get()).toEqual({ n: 6 });

    const queue = await call('getQueue', {
      annotator: 'ana',
      count: 1,
    });
    expect(queue.pairs[0]!.suggestion).toMatchObject({ model: 'tiny-random-7' });
    expect(queue.pairs[0]!.suggestion!.p0).toBeCloseTo(
      rows.find((r) => r.text === queue.pairs[0]!.prompt)!.p_0,
      10,
    );
    store.close();
  });

  it('the export carries pickscore_0, pickscore_1 and pickscore_prob_0', async () => {
    const { call, store, modelDir, dir } = await scoredSetup(3);
    await call('scorePairs', { model: modelDir });
    const annotatorId = store.decisions.annotatorId('ana', 'human');
    store.decisions.record([{ pairId: 1, annotatorId, decision: 0, createdAt: Date.now() }]);
    const out = path.join(dir, 'out.parquet');
    await call('exportParquet', { out, images: false });
    const score = sqlite(store)
      .prepare('SELECT score_0, score_1, p_0 FROM scores WHERE pair_id = 1')
      .get() as Record<string, number>;
    store.close();
    const db = await duckdb();
    const [row] = await db.rows(`SELECT pickscore_0, pickscore_1, pickscore_prob_0 FROM '${out}'`);
    db.close();
    expect(row).toEqual({
      pickscore_0: score.score_0,
      pickscore_1: score.score_1,
      pickscore_prob_0: score.p_0,
    });
  });

  it('a bad model folder, a provider that cannot start, and a cancel leave the project intact and say why', async () => {
    const { store, modelDir, project } = await scoredSetup(20);
    store.close();
    const before = projectDigest(project);
    const reopened = openTestProject(project);
    fs.rmSync(path.join(modelDir, 'image_encoder.onnx'));
    await expect(reopened.call('scorePairs', { model: modelDir })).rejects.toThrow(
      /image_encoder\.onnx/,
    );
    writeTinyModel(modelDir, 7);
    await expect(reopened.call('scorePairs', { model: modelDir, provider: 'dml' })).rejects.toThrow(
      /provider dml cannot start the model: dml: DirectML runs on Windows only/,
    );
    expect(projectDigest(project)).toBe(before);

    const cancelled = reopened.call('scorePairs', {
      model: modelDir,
      batch: 1,
      taskId: 'stop-me',
    });
    const stop = setInterval(() => {
      if (reopened.events.some((e) => e.taskId === 'stop-me' && e.done > 0)) {
        clearInterval(stop);
        void reopened.call('cancelTask', { taskId: 'stop-me' });
      }
    }, 1);
    await expect(cancelled).rejects.toThrow(/cancelled/);
    clearInterval(stop);
    expect(sqlite(reopened.store).pragma('integrity_check', { simple: true })).toBe('ok');
    const resumed = await reopened.call('scorePairs', {});
    // What the cancelled run encoded stayed cached: the rest is encoded now, nothing twice.
    expect(resumed.pairsScored).toBe(20);
    expect(resumed.promptsEncoded + resumed.imagesEncoded).toBeGreaterThan(0);
    expect(resumed.promptsEncoded + resumed.imagesEncoded).toBeLessThan(60);
    reopened.store.close();
  });
});

describe('background scoring', () => {
  it('scores pairs added since the last run when a door opens the project, and reports its status', async () => {
    const { store, studio, call, modelDir, dir } = await scoredSetup(3);
    expect(await call('getScoringStatus', {})).toMatchObject({
      model: null,
      scoredPairs: 0,
      running: false,
    });
    await call('scorePairs', { model: modelDir });
    // Two pairs arrive from a manifest; the next opening of the project scores just those.
    const images = path.join(dir, 'more');
    fs.mkdirSync(images);
    const { makeJpeg } = await import('../helpers/project');
    for (let i = 0; i < 4; i++)
      fs.writeFileSync(path.join(images, `${i}.jpg`), await makeJpeg(100 + i));
    fs.writeFileSync(
      path.join(images, 'm.jsonl'),
      [
        '{"prompt":"a red star","image_0":"0.jpg","image_1":"1.jpg"}',
        '{"prompt":"a blue heart","image_0":"2.jpg","image_1":"3.jpg"}',
      ].join('\n'),
    );
    await call('importSources', { sources: [path.join(images, 'm.jsonl')] });
    expect(await call('getScoringStatus', {})).toMatchObject({ scoredPairs: 3, totalPairs: 5 });
    await studio.scoreInBackground();
    expect(await call('getScoringStatus', {})).toMatchObject({
      model: 'tiny-random-7',
      provider: 'cpu',
      scoredPairs: 5,
      totalPairs: 5,
      running: false,
    });
    store.close();
  });

  it('never rejects, even when the project cannot be read: it says why', async () => {
    const { studio, store } = openTestProject(path.join(tempDir(), 'closed.pickstudio'));
    store.close();
    const logged: string[] = [];
    await expect(studio.scoreInBackground((m) => logged.push(m))).resolves.toBeUndefined();
    expect(logged).toEqual([
      expect.stringMatching(/^background scoring stopped: The database connection is not open/),
    ]);
  });
});

describe('closing the project while the demo is made', () => {
  // The demo draws its images, then encodes prompts and images on the scoring worker: each step
  // waits, and the project may close meanwhile.
  it.each(['drawing images', 'prompts', 'images'])(
    'during "%s": the demo answers its cancel, and the project opens again with whole steps only',
    async (step) => {
      const file = path.join(tempDir(), 'demo.pickstudio');
      let closed = false;
      const studio = openStudio(file, {
        create: true,
        progress: (p) => {
          if (!closed && p.state === 'running' && p.detail === step) {
            closed = true;
            studio.close();
          }
        },
      });
      const error = await studio.call('createDemo', { pairs: 40 }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(closed).toBe(true);
      expect(error).toBeInstanceOf(StudioError);
      expect(error).toMatchObject({ code: 'cancelled', message: 'demo cancelled' });
      const again = openTestProject(file);
      try {
        const { counts } = await again.call('getStats', {});
        // Drawing is one transaction: no pair, or all 40 with none scored past the cancel.
        expect(counts.pairs).toBe(step === 'drawing images' ? 0 : 40);
        expect(sqlite(again.store).pragma('integrity_check', { simple: true })).toBe('ok');
      } finally {
        again.store.close();
      }
    },
  );
});
