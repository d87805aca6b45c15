// tools/export_pickscore.py, end to end: it exports a tiny random CLIPModel, and the studio's own
// path (model-folder.ts, tokenizer.ts, preprocess.ts, onnxruntime-node) must score its check's
// pairs as the exporter's PyTorch reference did. Needs a Python with torch, transformers, onnx,
// onnxruntime and Pillow: PICKSTUDIO_PYTHON, else .venv-export/bin/python, else python3. Without
// them the tests skip and say which import failed.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openEncoders } from '../../electron/core/scoring/encoders';
import { loadModelFolder } from '../../electron/core/scoring/model-folder';
import { pickscore } from '../../electron/core/scoring/pickscore';
import { parseClipImageConfig, preprocessImage } from '../../electron/core/scoring/preprocess';
import { loadClipTokenizer } from '../../electron/core/scoring/tokenizer';
import { tempDir } from '../helpers/project';
import { missingImport, PYTHON } from '../helpers/python';

const SCRIPT = path.resolve('tools/export_pickscore.py');

const missing = missingImport(['torch', 'transformers', 'onnx', 'onnxruntime', 'numpy', 'PIL']);
const skipReason = missing
  ? ` [skipped: ${missing}; set PICKSTUDIO_PYTHON to a Python with torch, transformers, onnx, onnxruntime, Pillow]`
  : '';

interface CheckScores {
  score0: number;
  score1: number;
  p0: number;
}
interface CheckReport {
  ok: boolean;
  logit_scale: number;
  tolerance: number;
  image_preprocessing: string;
  max_abs_diff: { text_embeds: number; image_embeds: number; score: number; p0: number };
  pairs: {
    prompt: string;
    images: [string, string];
    torch: CheckScores;
    onnx: CheckScores;
    torch_text_unit: number[];
    torch_image_units: [number[], number[]];
  }[];
}

function runExporter(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    // Offline: the tokenizer comes from tests/fixtures/clip-tokenizer, never from the hub.
    const child = spawn(PYTHON, [SCRIPT, ...args], {
      env: { ...process.env, HF_HUB_OFFLINE: '1', PYTHONUNBUFFERED: '1' },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** The unit vector along `v`, as the studio caches embeddings. */
function unit(v: Float32Array): Float32Array {
  const norm = Math.sqrt(v.reduce((sum, x) => sum + x * x, 0));
  return Float32Array.from(v, (x) => x / norm);
}
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
};

/** The studio's scores for the check's pairs: its tokenizer, preprocessing and ONNX sessions. */
async function studioScores(modelDir: string, report: CheckReport) {
  const folder = await loadModelFolder(modelDir);
  const tokenizer = await loadClipTokenizer(folder.paths.tokenizer);
  const imageConfig = parseClipImageConfig(
    JSON.parse(fs.readFileSync(folder.paths.preprocessorConfig, 'utf8')),
    folder.paths.preprocessorConfig,
  );
  const encoders = await openEncoders(folder.paths, 'cpu');
  try {
    const size = imageConfig.cropSize;
    const results = [];
    for (const pair of report.pairs) {
      const text = unit(await encoders.encodeText(tokenizer.encode([pair.prompt])));
      const pixels = new Float32Array(2 * 3 * size * size);
      for (const [i, file] of pair.images.entries()) {
        pixels.set(await preprocessImage(fs.readFileSync(file), imageConfig), i * 3 * size * size);
      }
      const output = await encoders.encodeImages(pixels, 2, size);
      const dim = output.length / 2;
      const images = [unit(output.subarray(0, dim)), unit(output.subarray(dim))] as const;
      results.push({
        ...pickscore(folder.manifest.logit_scale, text, images[0], images[1]),
        textCosine: dot(text, pair.torch_text_unit),
        imageCosines: images.map((image, i) => dot(image, pair.torch_image_units[i]!)),
      });
    }
    return { folder, results };
  } finally {
    await encoders.release();
  }
}

describe(`tools/export_pickscore.py${skipReason}`, () => {
  it.skipIf(missing !== null)(
    'exports a tiny random CLIP that the studio loads and scores as PyTorch does',
    async () => {
      const dir = tempDir('pickstudio-export-');
      const modelDir = path.join(dir, 'tiny');
      const checkFile = path.join(dir, 'check', 'check.json');
      const run = await runExporter([
        '--random-init',
        'tiny',
        '--seed',
        '3',
        '--out',
        modelDir,
        '--check-out',
        checkFile,
        '--check-pairs',
        '6',
      ]);
      expect(run.code, run.output).toBe(0);
      expect(fs.readdirSync(modelDir).sort()).toEqual([
        'image_encoder.onnx',
        'manifest.json',
        'preprocessor_config.json',
        'text_encoder.onnx',
        'tokenizer.json',
      ]);

      const report = JSON.parse(fs.readFileSync(checkFile, 'utf8')) as CheckReport;
      expect(report.ok).toBe(true);
      // The exporter's own check: onnxruntime (Python) against PyTorch.
      expect(report.max_abs_diff.p0).toBeLessThanOrEqual(1e-3);
      expect(report.image_preprocessing).toMatch(/CLIPImageProcessor/);
      expect(report.pairs).toHaveLength(6);

      const { folder, results } = await studioScores(modelDir, report);
      expect(folder.manifest).toMatchObject({
        format: 'pickstudio-dual-encoder/1',
        embed_dim: 16,
        max_text_len: 77,
      });
      expect(folder.manifest.logit_scale).toBeCloseTo(100, 3);
      expect(folder.manifest.source).toMatch(/random weights.*NOT PickScore/);

      report.pairs.forEach((pair, i) => {
        const studio = results[i]!;
        const at = `pair ${i} (${pair.prompt.slice(0, 30)})`;
        expect(Math.abs(studio.p0 - pair.torch.p0), at).toBeLessThan(0.01);
        // Scores are 100 x a cosine: 0.05 is a cosine within 5e-4 of PyTorch's.
        expect(Math.abs(studio.score0 - pair.torch.score0), at).toBeLessThan(0.05);
        expect(Math.abs(studio.score1 - pair.torch.score1), at).toBeLessThan(0.05);
        expect(studio.textCosine, at).toBeGreaterThan(0.99999);
        for (const cosine of studio.imageCosines) expect(cosine, at).toBeGreaterThan(0.9999);
      });
    },
    300_000,
  );

  it.skipIf(missing !== null)(
    '--fp16 --optimize with external weights: float32 I/O, loads in the studio, scores agree',
    async () => {
      const dir = tempDir('pickstudio-export-');
      const modelDir = path.join(dir, 'tiny16');
      const checkFile = path.join(dir, 'check.json');
      const run = await runExporter([
        '--random-init',
        'tiny',
        '--fp16',
        '--optimize',
        '--external-data',
        'always',
        '--name',
        'tiny fp16',
        '--out',
        modelDir,
        '--check-out',
        checkFile,
      ]);
      expect(run.code, run.output).toBe(0);
      expect(run.output).toMatch(/optimizer \(model_type clip.*\) fused: /);
      expect(fs.existsSync(path.join(modelDir, 'text_encoder.onnx.data'))).toBe(true);
      expect(fs.existsSync(path.join(modelDir, 'image_encoder.onnx.data'))).toBe(true);

      const report = JSON.parse(fs.readFileSync(checkFile, 'utf8')) as CheckReport;
      expect(report.ok).toBe(true);
      const { folder, results } = await studioScores(modelDir, report);
      expect(folder.manifest.name).toBe('tiny fp16');
      expect(folder.manifest.source).toMatch(/float16 inside/);
      report.pairs.forEach((pair, i) => {
        const studio = results[i]!;
        const at = `pair ${i} (${pair.prompt.slice(0, 30)})`;
        // Same ONNX files as the exporter's check ran: only the pixels' path differs.
        expect(Math.abs(studio.p0 - pair.onnx.p0), at).toBeLessThan(0.01);
        expect(Math.abs(studio.p0 - pair.torch.p0), at).toBeLessThan(report.tolerance);
      });

      // Moving the weights file out breaks the folder, and the loader says so.
      fs.renameSync(
        path.join(modelDir, 'image_encoder.onnx.data'),
        path.join(dir, 'image_encoder.onnx.data'),
      );
      await expect(loadModelFolder(modelDir)).rejects.toThrow(/image_encoder\.onnx\.data/);
    },
    300_000,
  );
});

describe('tools/export_pickscore.py without its packages', () => {
  // --help needs nothing but Python; a Python without torch gets a one-line install hint.
  const plain = spawnSync('python3', ['-c', 'import torch'], { encoding: 'utf8' });
  const python3Runs = !plain.error;
  const python3HasTorch = python3Runs && plain.status === 0;

  it.skipIf(!python3Runs)('--help documents the options', () => {
    const result = spawnSync('python3', [SCRIPT, '--help'], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    for (const option of ['--random-init', '--fp16', '--optimize', '--check-out', '--tolerance']) {
      expect(result.stdout).toContain(option);
    }
  });

  it.skipIf(!python3Runs || python3HasTorch)(
    'says in one line what to install when torch is missing [skipped where python3 has torch]',
    () => {
      const dir = tempDir('pickstudio-export-');
      const result = spawnSync(
        'python3',
        [SCRIPT, '--random-init', 'tiny', '--out', path.join(dir, 'm')],
        { encoding: 'utf8' },
      );
      expect(result.status).toBe(2);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/lacks torch .*pip install torch transformers onnx onnxruntime/);
      expect(fs.existsSync(path.join(dir, 'm'))).toBe(false);
    },
  );
});
