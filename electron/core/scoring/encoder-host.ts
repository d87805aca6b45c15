import type { Provider } from '../../../shared/api';
import { openEncoders, type Encoders } from './encoders';
import type { ScoringRequest } from './scoring-worker';
import { loadClipTokenizer } from './tokenizer';
import { WorkerClient, type WorkerEntry } from '../worker-client';

/** A model's towers, and prompts encoded from their text. */
export interface ModelEncoders extends Encoders {
  /** Tokenizes and runs the text tower where the tower runs: a long caption costs this thread nothing. */
  encodePrompts(texts: string[]): Promise<Float32Array>;
}

export interface ModelPaths {
  textEncoder: string;
  imageEncoder: string;
  tokenizer: string;
}

/** Opened on this thread: what the scoring worker runs, and what runs with no worker to start. */
export async function openModelEncoders(
  paths: ModelPaths,
  forced?: Provider,
): Promise<ModelEncoders> {
  const [tokenizer, encoders] = await Promise.all([
    loadClipTokenizer(paths.tokenizer),
    openEncoders(paths, forced),
  ]);
  return { ...encoders, encodePrompts: (texts) => encoders.encodeText(tokenizer.encode(texts)) };
}

/**
 * The model's tokenizer and sessions, opened in a scoring worker so neither tokenizing nor
 * inference holds this thread; with no worker to start (null), opened here.
 */
export async function openEncodersOffThread(
  entry: WorkerEntry | null,
  paths: ModelPaths,
  forced?: Provider,
): Promise<ModelEncoders> {
  if (!entry) return openModelEncoders(paths, forced);
  const worker = new WorkerClient(entry);
  const ask = <T>(request: ScoringRequest, transfer: ArrayBuffer[] = []) =>
    worker.request<T>(request, transfer);
  try {
    const { provider, failures } = await ask<Pick<Encoders, 'provider' | 'failures'>>({
      kind: 'open',
      paths,
      provider: forced,
    });
    return {
      provider,
      failures,
      // Copies are sent: the caller's arrays stay usable.
      encodeText: (tokens) =>
        ask<Float32Array>({
          kind: 'encodeText',
          inputIds: tokens.inputIds,
          attentionMask: tokens.attentionMask,
          batch: tokens.batch,
          length: tokens.length,
        }),
      encodePrompts: (texts) => ask<Float32Array>({ kind: 'encodePrompts', texts }),
      encodeImages: (pixels, batch, size) =>
        ask<Float32Array>({ kind: 'encodeImages', pixels, batch, size }),
      release: () => worker.close(),
    };
  } catch (error) {
    await worker.close();
    throw error;
  }
}
