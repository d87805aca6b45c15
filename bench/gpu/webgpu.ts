/**
 * Image-tower speed through onnxruntime-node on a GPU: the studio's own path (openEncoders, the
 * provider named) and session-option variants of the WebGPU provider. Run by bench/gpu/run.sh on
 * a machine with an NVIDIA GPU; bundled there with esbuild, as the machine has no node_modules.
 *
 *   node webgpu.mjs speed MODEL_DIR [PROVIDER] > figures.json
 *   node webgpu.mjs scores MODEL_DIR PROVIDER INPUTS.json > p0.json
 *
 * speed: images/s per batch size and variant (median of timed batches after a warm-up), one
 * JSON line each.
 * scores: PickScore's s_0, s_1, p_0 for the (prompt, image pair) cases of INPUTS.json, whose
 * token ids and pixel_values were made by the studio's tokenizer and preprocessing
 * (bench/gpu/prepare.ts), run through the studio's encoders and formula.
 */
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import type { Provider } from '../../shared/api';
import { openEncoders } from '../../electron/core/scoring/encoders';
import { normalised, pickscore } from '../../electron/core/scoring/pickscore';

const [mode, modelDir, providerArg, inputsFile] = process.argv.slice(2);
const provider = (providerArg ?? 'webgpu') as Provider;
const paths = {
  textEncoder: path.join(modelDir!, 'text_encoder.onnx'),
  imageEncoder: path.join(modelDir!, 'image_encoder.onnx'),
};
const SIZE = 224;
const TIMED = Number(process.env.TIMED_BATCHES ?? 6);

const median = (values: number[]): number => {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function pixels(batch: number): Float32Array {
  const out = new Float32Array(batch * 3 * SIZE * SIZE);
  let seed = 12345;
  for (let i = 0; i < out.length; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    out[i] = (seed >>> 8) / 2 ** 24 - 0.5;
  }
  return out;
}

async function imagesPerSecond(run: (batch: number) => Promise<unknown>, batch: number) {
  await run(batch); // warm-up: shader compilation and buffer allocation stay out
  const times: number[] = [];
  for (let i = 0; i < TIMED; i++) {
    const started = performance.now();
    await run(batch);
    times.push((performance.now() - started) / 1000);
  }
  return batch / median(times);
}

async function speed(): Promise<void> {
  // One JSON line per figure as soon as it is measured: a variant that aborts the process (see
  // below) loses only itself.
  const results = {
    push(result: { variant: string; batch: number; imagesPerS?: number; error?: string }) {
      process.stdout.write(JSON.stringify({ model: modelDir, provider, ...result }) + '\n');
    },
  };
  const batches = (process.env.BATCHES ?? '16,32').split(',').map(Number);

  const encoders = await openEncoders(paths, provider);
  for (const batch of batches) {
    const input = pixels(batch);
    results.push({
      variant: `studio path (openEncoders, ${encoders.provider})`,
      batch,
      imagesPerS: await imagesPerSecond(() => encoders.encodeImages(input, batch, SIZE), batch),
    });
  }
  await encoders.release();

  if (provider === 'webgpu') {
    const variants: [string, ort.InferenceSession.SessionOptions][] = [
      ['webgpu NHWC layout', { executionProviders: [{ name: 'webgpu', preferredLayout: 'NHWC' }] }],
      [
        'webgpu validation disabled',
        { executionProviders: [{ name: 'webgpu', validationMode: 'disabled' }] },
      ],
      ['webgpu graph capture', { executionProviders: ['webgpu'], enableGraphCapture: true }],
      // Last: on an H100 with onnxruntime-node 1.30, downloading a gpu-buffer output aborted the
      // process ("terminate called after throwing an instance of 'char const*'").
      [
        'webgpu output kept on GPU',
        { executionProviders: ['webgpu'], preferredOutputLocation: 'gpu-buffer' },
      ],
    ];
    for (const [variant, options] of variants) {
      try {
        const session = await ort.InferenceSession.create(paths.imageEncoder, {
          graphOptimizationLevel: 'all',
          ...options,
        });
        for (const batch of batches) {
          const feeds = {
            pixel_values: new ort.Tensor('float32', pixels(batch), [batch, 3, SIZE, SIZE]),
          };
          // Outputs left on the GPU must still come back to be stored: download them, so the
          // time is the whole round trip and not just the submission.
          const runOnce = async () => {
            const outputs = await session.run(feeds);
            for (const output of Object.values(outputs)) {
              await output.getData(true);
            }
          };
          try {
            results.push({
              variant,
              batch,
              imagesPerS: await imagesPerSecond(runOnce, batch),
            });
          } catch (error) {
            results.push({ variant, batch, error: (error as Error).message.split('\n')[0] });
          }
        }
        await session.release();
      } catch (error) {
        results.push({ variant, batch: 0, error: (error as Error).message.split('\n')[0] });
      }
    }
  }
}

interface Inputs {
  logitScale: number;
  cases: {
    prompt: string;
    inputIds: number[];
    attentionMask: number[];
    images: [string, string];
  }[];
  /** pixel_values per image name: float32 [3, 224, 224] in a file beside INPUTS.json. */
  pixels: Record<string, string>;
}

async function scores(): Promise<void> {
  const inputs = JSON.parse(fs.readFileSync(inputsFile!, 'utf8')) as Inputs;
  const base = path.dirname(inputsFile!);
  const manifest = JSON.parse(fs.readFileSync(path.join(modelDir!, 'manifest.json'), 'utf8')) as {
    logit_scale: number;
  };
  const encoders = await openEncoders(paths, provider);
  const out = [];
  for (const c of inputs.cases) {
    const text = await encoders.encodeText({
      inputIds: BigInt64Array.from(c.inputIds.map(BigInt)),
      attentionMask: BigInt64Array.from(c.attentionMask.map(BigInt)),
      batch: 1,
      length: c.inputIds.length,
    });
    const [image0, image1] = await Promise.all(
      c.images.map(async (name) => {
        const raw = fs.readFileSync(path.join(base, inputs.pixels[name]!));
        const values = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4).slice();
        return normalised(await encoders.encodeImages(values, 1, SIZE));
      }),
    );
    out.push({
      prompt: c.prompt,
      images: c.images,
      ...pickscore(manifest.logit_scale, normalised(text), image0!, image1!),
    });
  }
  await encoders.release();
  process.stdout.write(
    JSON.stringify({ provider: encoders.provider, failures: encoders.failures, cases: out }) + '\n',
  );
}

await (mode === 'speed' ? speed() : scores());
