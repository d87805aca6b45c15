import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { PROVIDERS, type Provider, type ProviderFailure } from '../../../shared/api';
import { StudioError } from '../../../shared/errors';
import type { EncodedTexts } from './tokenizer';

// Failures are reported with their reasons by openEncoders; onnxruntime's own log of the same
// failures (a CUDA library it cannot load, say) would only repeat them on stderr.
ort.env.logLevel = 'fatal';

/** Batch sizes that keep each provider busy without running out of memory on common hardware. */
export const DEFAULT_BATCH: Record<Provider, number> = {
  cuda: 64,
  dml: 16,
  coreml: 16,
  webgpu: 16,
  cpu: 8,
};

/**
 * Whether Linux's dynamic loader can find the Vulkan loader, which onnxruntime's WebGPU runs on:
 * without it, trying WebGPU prints a native warning with a source location to stderr, which
 * reads as a crash, before it fails.
 */
function vulkanLoaderFound(): boolean {
  const dirs = (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  if (dirs.some((dir) => fs.existsSync(path.join(dir, VULKAN_LOADER)))) return true;
  try {
    return execFileSync('ldconfig', ['-p'], { encoding: 'utf8' }).includes(VULKAN_LOADER);
  } catch {
    // No ldconfig to ask: let onnxruntime try.
    return true;
  }
}
const VULKAN_LOADER = 'libvulkan.so.1';

/** Why a provider cannot run on this machine, found before trying it; null to try it. */
function unavailable(provider: Provider): string | null {
  if (provider === 'dml' && process.platform !== 'win32') return 'DirectML runs on Windows only';
  if (provider === 'coreml' && process.platform !== 'darwin') return 'CoreML runs on macOS only';
  if (provider === 'webgpu' && process.platform === 'linux' && !vulkanLoaderFound()) {
    return `no Vulkan loader (${VULKAN_LOADER}) on this machine; WebGPU runs on Vulkan here`;
  }
  if (!ort.listSupportedBackends().some((b) => b.name === provider)) {
    return 'not in this build of onnxruntime-node';
  }
  return null;
}

/** onnxruntime's messages lead with a source path and an assertion; keep what a person reads. */
function conciseReason(message: string): string {
  const line = message.split('\n')[0]!.trim();
  const afterAssertion = line.split(' was false. ').at(-1)!;
  return afterAssertion.replace(/^\/onnxruntime_src\/\S+:\d+ /, '');
}

/** The two towers of a model on one provider; outputs are [B, D], row-major, not normalised. */
export interface Encoders {
  provider: Provider;
  failures: ProviderFailure[];
  encodeText(tokens: EncodedTexts): Promise<Float32Array>;
  encodeImages(pixels: Float32Array, batch: number, size: number): Promise<Float32Array>;
  release(): Promise<void>;
}

/**
 * One session per tower, on the first provider that starts both: CUDA, DirectML, CoreML,
 * WebGPU, then CPU, or only `forced`. Each failure is kept with its reason, to be shown.
 */
export async function openEncoders(
  paths: { textEncoder: string; imageEncoder: string },
  forced?: Provider,
): Promise<Encoders> {
  const failures: ProviderFailure[] = [];
  for (const provider of forced ? [forced] : PROVIDERS) {
    const reason = unavailable(provider);
    if (reason) {
      failures.push({ provider, reason });
      continue;
    }
    const options: ort.InferenceSession.SessionOptions = {
      executionProviders: [provider],
      graphOptimizationLevel: 'all',
    };
    let text: ort.InferenceSession | undefined;
    try {
      text = await ort.InferenceSession.create(paths.textEncoder, options);
      const image = await ort.InferenceSession.create(paths.imageEncoder, options);
      const textSession = text;
      return {
        provider,
        failures,
        encodeText: (tokens) =>
          runTower(
            textSession,
            textFeeds(tokens.inputIds, tokens.attentionMask, tokens.batch, tokens.length),
          ),
        encodeImages: (pixels, batch, size) => runTower(image, imageFeeds(pixels, batch, size)),
        async release() {
          await Promise.all([textSession.release(), image.release()]);
        },
      };
    } catch (error) {
      await text?.release();
      failures.push({ provider, reason: conciseReason((error as Error).message) });
    }
  }
  const tried = failures.map((f) => `${f.provider}: ${f.reason}`).join('; ');
  throw new StudioError(
    'bad_input',
    forced
      ? `provider ${forced} cannot start the model: ${tried}`
      : `no execution provider could start the model (${tried})`,
  );
}

async function runTower(
  session: ort.InferenceSession,
  feeds: Record<string, ort.Tensor>,
): Promise<Float32Array> {
  const outputs = await session.run(feeds);
  return outputs[session.outputNames[0]!]!.data as Float32Array;
}

const textFeeds = (
  inputIds: BigInt64Array,
  attentionMask: BigInt64Array,
  batch: number,
  length: number,
) => ({
  input_ids: new ort.Tensor('int64', inputIds, [batch, length]),
  attention_mask: new ort.Tensor('int64', attentionMask, [batch, length]),
});

const imageFeeds = (pixels: Float32Array, batch: number, size: number) => ({
  pixel_values: new ort.Tensor('float32', pixels, [batch, 3, size, size]),
});
