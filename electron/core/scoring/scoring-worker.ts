/**
 * The scoring worker: a thread that runs what would otherwise stall the thread answering the
 * annotator. onnxruntime-node's run() is synchronous under its promise (a ViT-H batch holds the
 * thread for seconds), resampling is synchronous JavaScript (~20 ms an image), and so is
 * tokenizing (bounded, but a batch of long captions still takes a while).
 * Requests come from WorkerClient; see encoder-host.ts and preprocess-pool.ts.
 */
import { parentPort } from 'node:worker_threads';
import type { Provider } from '../../../shared/api';
import { openModelEncoders, type ModelEncoders, type ModelPaths } from './encoder-host';
import { preprocessImage, type ClipImageConfig } from './preprocess';
import { errorReply, type WorkerReply } from '../worker-client';

export type ScoringRequest =
  | { kind: 'preprocess'; bytes: Uint8Array; config: ClipImageConfig }
  | {
      kind: 'open';
      paths: ModelPaths;
      provider: Provider | undefined;
    }
  | {
      kind: 'encodeText';
      inputIds: BigInt64Array;
      attentionMask: BigInt64Array;
      batch: number;
      length: number;
    }
  | { kind: 'encodePrompts'; texts: string[] }
  | { kind: 'encodeImages'; pixels: Float32Array; batch: number; size: number }
  | { kind: 'release' };

let encoders: ModelEncoders | undefined;

function opened(): ModelEncoders {
  if (!encoders) throw new Error('the scoring worker has no model open');
  return encoders;
}

async function handle(request: ScoringRequest): Promise<unknown> {
  switch (request.kind) {
    case 'preprocess':
      return preprocessImage(request.bytes, request.config);
    case 'open':
      await encoders?.release();
      encoders = await openModelEncoders(request.paths, request.provider);
      return { provider: encoders.provider, failures: encoders.failures };
    case 'encodeText':
      return opened().encodeText(request);
    case 'encodePrompts':
      return opened().encodePrompts(request.texts);
    case 'encodeImages':
      return opened().encodeImages(request.pixels, request.batch, request.size);
    case 'release':
      await encoders?.release();
      encoders = undefined;
      return null;
  }
}

parentPort!.on('message', (request: ScoringRequest & { id: number }) => {
  handle(request).then(
    (result) => {
      const transfer = result instanceof Float32Array ? [result.buffer as ArrayBuffer] : [];
      parentPort!.postMessage({ id: request.id, result } satisfies WorkerReply, transfer);
    },
    (error: unknown) => parentPort!.postMessage(errorReply(request.id, error)),
  );
});
