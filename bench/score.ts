/**
 * Scoring benchmark, on this machine's CPU. Prints figures; asserts nothing.
 *
 *   npm run bench:score                  (node --import tsx bench/score.ts)
 *   BENCH_RUNS=5 npm run bench:score     runs per figure (default 3)
 *   BENCH_PAIRS=200000 ...               pairs in the rescoring project (default 1,000,000)
 *   BENCH_PARTS=1,3 ...                  only these parts (default all: 1,2,3)
 *   BENCH_B16_MODEL=DIR ...              a ViT-B/16-sized model folder; by default .bench/b16,
 *                                        exported by tools/export_pickscore.py --random-init b16
 *                                        when that folder is missing and a Python with torch,
 *                                        transformers and onnx is found (PICKSTUDIO_PYTHON, else
 *                                        .venv-export/bin/python, else python3)
 *
 * 1. Towers: prompts/s (tokenizer + text tower) and images/s (image tower on preprocessed pixels),
 *    batch 32 prompts / 8 images, for the demo model and the ViT-B/16-sized one; next to them the
 *    decode + preprocess time of a 512 x 512 JPEG and its share of an image's scoring time. Then
 *    decode + preprocess alone (median ms of 50, one at a time on this thread), beside sharp's bare
 *    decode and sharp's own decode + cubic resize + crop of the same image, alternated.
 * 2. End to end: scoreProject on a fresh 48-pair demo project (96 images), preprocessing on this
 *    thread (the baseline) and in the worker pool.
 * 3. Rescoring from cached embeddings: every pair of a project of BENCH_PAIRS pairs with
 *    PickScore-sized (1,024-d) embeddings already cached, as every scoring run does: the scores
 *    written afresh (a new model), and all rewritten (`all`); beside it the floor, reading every
 *    pair and embedding once through the same repository without scoring or writing anything.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createDemoProject } from '../electron/core/demo/create-demo';
import { preprocessImage } from '../electron/core/scoring/preprocess';
import {
  loadModel,
  scoreCachedPairs,
  scoreProject,
  type LoadedModel,
} from '../electron/core/scoring/score-project';
import { normalised } from '../electron/core/scoring/pickscore';
import { ProjectStore } from '../electron/core/store/project-store';
import { asBlob, ScoreRepository } from '../electron/core/store/scores';
import { mulberry32 } from '../electron/core/demo/scenes';
import type { TaskContext } from '../electron/core/tasks';
import sharp from 'sharp';
import { median, noiseJpeg, printFigures, rate, secs, table, type NamedFigures } from './lib';
import { sqlite } from '../tests/helpers/project';

const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3) || 3);
const PARTS = new Set((process.env.BENCH_PARTS ?? '1,2,3').split(',').map((p) => p.trim()));
const PAIRS = Math.max(1000, Number(process.env.BENCH_PAIRS ?? 1_000_000) || 1_000_000);
const PROMPT_BATCH = 32;
const IMAGE_BATCH = 8;
const DEMO_MODEL = 'resources/demo-model';
const B16_MODEL = process.env.BENCH_B16_MODEL ?? '.bench/b16';

const log = (line = ''): void => {
  process.stdout.write(line + '\n');
};
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pickstudio-bench-score-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
process.on('SIGINT', () => process.exit(130));

const quiet: TaskContext = {
  progress: () => {},
  throwIfCancelled: () => {},
  signal: new AbortController().signal,
};

async function timed<T>(work: () => Promise<T> | T): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

async function medianOf(work: () => Promise<unknown> | unknown): Promise<number> {
  await work(); // warm-up: session initialisation and first-run allocations stay out
  const runs: number[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await timed(work));
  return median(runs);
}

function captions(count: number): string[] {
  const next = mulberry32(7);
  const words = ['red', 'cat', 'castle', 'at sunset', 'oil painting', 'highly detailed', 'robot'];
  return Array.from({ length: count }, (_, i) =>
    Array.from({ length: 4 + (i % 12) }, () => words[Math.floor(next() * words.length)]).join(' '),
  );
}

/** A ViT-B/16-sized folder: the one named, else exported now if a Python stack can. */
function b16Folder(): { dir: string } | { missing: string } {
  if (fs.existsSync(path.join(B16_MODEL, 'manifest.json'))) return { dir: B16_MODEL };
  const python =
    process.env.PICKSTUDIO_PYTHON ??
    (fs.existsSync('.venv-export/bin/python') ? '.venv-export/bin/python' : 'python3');
  try {
    execFileSync(python, ['-c', 'import torch, transformers, onnx'], { stdio: 'ignore' });
  } catch {
    return { missing: `${python} lacks torch, transformers or onnx (see tools/README.md)` };
  }
  log(`exporting a ViT-B/16-sized random model to ${B16_MODEL} (once) ...`);
  execFileSync(python, ['tools/export_pickscore.py', '--random-init', 'b16', '--out', B16_MODEL], {
    stdio: 'inherit',
  });
  return { dir: B16_MODEL };
}

interface TowerFigures {
  model: string;
  dim: number;
  promptsPerS: number;
  imagesPerS: number;
  preprocessMs: number;
}

async function towers(name: string, model: LoadedModel, jpeg: Uint8Array): Promise<TowerFigures> {
  const texts = captions(PROMPT_BATCH);
  const pixels = await preprocessImage(jpeg, model.imageConfig);
  const size = model.imageConfig.cropSize;
  const batch = new Float32Array(IMAGE_BATCH * pixels.length);
  for (let i = 0; i < IMAGE_BATCH; i++) batch.set(pixels, i * pixels.length);

  const textSeconds = await medianOf(async () => {
    await model.encoders.encodePrompts(texts);
  });
  const imageSeconds = await medianOf(() => model.encoders.encodeImages(batch, IMAGE_BATCH, size));
  const preprocessSeconds = await medianOf(() => preprocessImage(jpeg, model.imageConfig));
  return {
    model: name,
    dim: model.folder.manifest.embed_dim,
    promptsPerS: PROMPT_BATCH / textSeconds,
    imagesPerS: IMAGE_BATCH / imageSeconds,
    preprocessMs: preprocessSeconds * 1000,
  };
}

interface EndToEnd {
  imagesPerS: number;
  /** How late a timer on the scoring thread fired: what a keypress would wait, p99 and worst. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

async function endToEnd(modelDir: string, worker: 'pool' | 'this thread'): Promise<EndToEnd[]> {
  const runs: EndToEnd[] = [];
  for (let run = 0; run < RUNS; run++) {
    const file = path.join(dir, `e2e-${run}-${worker.replace(' ', '-')}.pickstudio`);
    const store = ProjectStore.open(file, { create: true });
    try {
      await createDemoProject(store, { pairs: 48, seed: 100 + run }, quiet);
      const model = await loadModel(modelDir, 'cpu');
      const delay = monitorEventLoopDelay({ resolution: 5 });
      delay.enable();
      const report = await scoreProject(
        store,
        model,
        worker === 'pool' ? {} : { worker: null },
        quiet,
      );
      delay.disable();
      runs.push({
        imagesPerS: report.imagesEncoded / report.seconds,
        loopDelayP99Ms: delay.percentile(99) / 1e6,
        loopDelayMaxMs: delay.max / 1e6,
      });
    } finally {
      store.close();
    }
  }
  return runs;
}

/** A project of `pairs` pairs whose prompts and images all have cached 1,024-d embeddings. */
function cachedProject(pairs: number): { store: ProjectStore; modelId: number } {
  const dim = 1024;
  // As in Pick-a-Pic, the pairs of one prompt share that prompt's images: here 40 of the 45
  // pairs of 10 images.
  const perPrompt = 40;
  const imagesPerPrompt = 10;
  const combos: [number, number][] = [];
  for (let a = 0; a < imagesPerPrompt; a++) {
    for (let b = a + 1; b < imagesPerPrompt; b++) combos.push([a, b]);
  }
  const prompts = Math.ceil(pairs / perPrompt);
  const images = prompts * imagesPerPrompt;
  const store = ProjectStore.open(path.join(dir, 'rescore.pickstudio'), { create: true });
  const db = sqlite(store);
  const next = mulberry32(3);
  const unit = (): Buffer =>
    asBlob(normalised(Float32Array.from({ length: dim }, () => next() - 0.5)));
  const scores = store.scores;
  const modelId = scores.activate({
    fingerprint: 'bench-1024',
    name: 'bench (random 1,024-d embeddings)',
    manifest: '{}',
    folder: dir,
  });
  db.transaction(() => {
    const prompt = db.prepare('INSERT INTO prompts (id, text) VALUES (?, ?)');
    const promptEmbedding = db.prepare(
      'INSERT INTO prompt_embeddings (model_id, prompt_id, embedding) VALUES (?, ?, ?)',
    );
    for (let i = 1; i <= prompts; i++) {
      prompt.run(i, `prompt ${i}`);
      promptEmbedding.run(modelId, i, unit());
    }
    const image = db.prepare('INSERT INTO images (id, uid) VALUES (?, ?)');
    const imageEmbedding = db.prepare(
      'INSERT INTO image_embeddings (model_id, image_id, embedding) VALUES (?, ?, ?)',
    );
    for (let i = 1; i <= images; i++) {
      image.run(i, `image-${i}`);
      imageEmbedding.run(modelId, i, unit());
    }
    const pair = db.prepare(
      'INSERT INTO pairs (id, prompt_id, image_0_id, image_1_id, added_at) VALUES (?, ?, ?, ?, 0)',
    );
    for (let i = 0; i < pairs; i++) {
      const p = Math.floor(i / perPrompt);
      const [a, b] = combos[i % perPrompt]!;
      const first = p * imagesPerPrompt + 1;
      pair.run(i + 1, p + 1, first + a, first + b);
    }
  })();
  return { store, modelId };
}

/** Median ms of each way to turn the JPEG into pixels, alternated so that load hits them alike. */
async function preprocessing(
  jpeg: Uint8Array,
  config: LoadedModel['imageConfig'],
): Promise<NamedFigures> {
  const side = config.size;
  const ways: [string, () => Promise<unknown>][] = [
    ['sharp decode alone (baseline)', () => sharp(jpeg).raw().toBuffer()],
    [
      "sharp decode + sharp's cubic resize + crop (not Pillow's pixels)",
      () =>
        sharp(jpeg)
          .resize(side, side, { fit: 'outside', kernel: 'cubic' })
          .extract({ left: 0, top: 0, width: config.cropSize, height: config.cropSize })
          .raw()
          .toBuffer(),
    ],
    [
      'preprocessImage: decode + Pillow-exact resize + crop + normalise',
      () => preprocessImage(jpeg, config),
    ],
  ];
  const times = ways.map(() => [] as number[]);
  for (let i = 0; i < 55; i++) {
    for (const [w, [, work]] of ways.entries()) {
      const started = performance.now();
      await work();
      if (i >= 5) times[w]!.push(performance.now() - started);
    }
  }
  const base = median(times[0]!);
  log(
    table(
      ['one 512 x 512 JPEG', 'median ms', 'x bare decode'],
      ways.map(([name], w) => [
        name,
        median(times[w]!).toFixed(2),
        (median(times[w]!) / base).toFixed(2),
      ]),
    ),
  );
  log('(50 runs each, alternated, one image at a time on this thread)\n');
  return { preprocess_ms: median(times[2]!), bare_decode_ms: base };
}

/** Every pair and embedding read once, chunk by chunk, as rescoring reads them: its floor. */
function readOnce(scores: ScoreRepository, modelId: number): number {
  let read = 0;
  for (let after = 0; ; ) {
    const chunk = scores.pairsAfter(modelId, after, 5000, 'all');
    if (chunk.length === 0) return read;
    after = chunk[chunk.length - 1]![0];
    scores.promptEmbeddings(modelId, new Set(chunk.map((p) => p[1])));
    scores.imageEmbeddings(modelId, new Set(chunk.flatMap((p) => [p[2], p[3]])));
    read += chunk.length;
  }
}

async function main(): Promise<void> {
  log(`Scoring benchmark: ${os.cpus()[0]?.model ?? 'CPU'} x ${os.availableParallelism()}, `);
  log(`Node ${process.version}, provider cpu, ${RUNS} runs per figure (median)\n`);
  const jpeg = await noiseJpeg(1, 40);

  const folders: [string, string][] = [['demo (26-d, fixed arithmetic)', DEMO_MODEL]];
  const b16 = b16Folder();
  if ('dir' in b16) folders.push(['ViT-B/16-sized random (512-d)', b16.dir]);
  else log(`ViT-B/16-sized model: skipped, ${b16.missing}\n`);

  const figures: NamedFigures = { preprocess_ms: null, rescore_s: null };
  if (PARTS.has('1')) Object.assign(figures, await towerPart(folders, jpeg));
  if (PARTS.has('2')) await endToEndPart(folders);
  if (PARTS.has('3')) Object.assign(figures, rescoringPart());
  printFigures('score', figures);
}

async function towerPart(folders: [string, string][], jpeg: Uint8Array): Promise<NamedFigures> {
  log('1. Towers');
  const figures: TowerFigures[] = [];
  for (const [name, folder] of folders) {
    figures.push(await towers(name, await loadModel(folder, 'cpu'), jpeg));
  }
  const baseline = figures[0]!;
  log(
    table(
      [
        'model',
        'prompts/s',
        'images/s',
        'x demo (images)',
        'decode+preprocess ms',
        'its share of an image',
      ],
      figures.map((f) => {
        const towerMs = 1000 / f.imagesPerS;
        return [
          f.model,
          rate(f.promptsPerS, 1),
          f.imagesPerS.toFixed(1),
          (f.imagesPerS / baseline.imagesPerS).toFixed(3),
          f.preprocessMs.toFixed(1),
          `${((100 * f.preprocessMs) / (f.preprocessMs + towerMs)).toFixed(0)}%`,
        ];
      }),
    ),
  );
  log(`(prompts: batch ${PROMPT_BATCH}, tokenizer included; images: batch ${IMAGE_BATCH};`);
  log(' decode+preprocess: one 512 x 512 JPEG, sharp decode + Pillow-exact bicubic + crop)\n');
  return preprocessing(jpeg, (await loadModel(folders[0]![1], 'cpu')).imageConfig);
}

async function endToEndPart(folders: [string, string][]): Promise<void> {
  log('2. End to end: scoreProject on a 48-pair demo project (96 images)');
  const rows: string[][] = [];
  for (const [name, folder] of folders) {
    const here = await endToEnd(folder, 'this thread');
    const pool = await endToEnd(folder, 'pool');
    const m = (runs: EndToEnd[], key: keyof EndToEnd): number => median(runs.map((r) => r[key]));
    for (const [where, runs] of [
      ['this thread (baseline)', here],
      ['worker pool', pool],
    ] as const) {
      rows.push([
        name,
        where,
        m(runs, 'imagesPerS').toFixed(1),
        (m(runs, 'imagesPerS') / m(here, 'imagesPerS')).toFixed(2),
        m(runs, 'loopDelayP99Ms').toFixed(1),
        m(runs, 'loopDelayMaxMs').toFixed(1),
      ]);
    }
  }
  log(
    table(
      ['model', 'preprocessing on', 'images/s', 'x baseline', 'loop delay p99 ms', 'max ms'],
      rows,
    ),
  );
  log('(loop delay: how late a 5 ms timer on the scoring thread fired, i.e. what a keypress');
  log(' handled on that thread would wait; worker start-up, ~2 s under tsx, is in images/s)\n');
}

/** Seconds for this many pairs, as figures: rescoring all of them, and the floor. */
function rescoringPart(): NamedFigures {
  log(`3. Rescoring ${PAIRS.toLocaleString('en-US')} pairs from cached 1,024-d embeddings`);
  let built = 0;
  const started = performance.now();
  const project = cachedProject(PAIRS);
  built = (performance.now() - started) / 1000;
  try {
    const db = sqlite(project.store);
    const scores = new ScoreRepository(db);
    const clear = db.prepare('DELETE FROM scores WHERE model_id = ?');
    const runs: Record<'floor' | 'fresh' | 'all', number[]> = { floor: [], fresh: [], all: [] };
    readOnce(scores, project.modelId); // warm-up: the file into the page cache
    for (let run = 0; run < RUNS; run++) {
      const time = (key: keyof typeof runs, work: () => unknown): void => {
        const t = performance.now();
        work();
        runs[key].push((performance.now() - t) / 1000);
      };
      time('floor', () => readOnce(scores, project.modelId));
      clear.run(project.modelId);
      time('fresh', () => scoreCachedPairs(scores, project.modelId, 100, quiet));
      time('all', () => scoreCachedPairs(scores, project.modelId, 100, quiet, { all: true }));
    }
    const floor = median(runs.floor);
    log(
      table(
        ['what', 'seconds', 'pairs/s', 'x floor'],
        (
          [
            ['read every pair and embedding once (floor)', runs.floor],
            ['score, writing every score afresh', runs.fresh],
            ['rescore all (scores already there)', runs.all],
          ] as const
        ).map(([what, times]) => [
          what,
          secs(median(times)),
          rate(PAIRS, median(times)),
          (median(times) / floor).toFixed(2),
        ]),
      ),
    );
    log(`(${RUNS} runs each, alternated; project built in ${secs(built)})`);
    return {
      rescore_pairs: PAIRS,
      rescore_s: median(runs.all),
      rescore_fresh_s: median(runs.fresh),
      rescore_floor_s: floor,
    };
  } finally {
    project.store.close();
  }
}

await main();
