import type { Provider } from '../../../shared/api';
import { openEncoders, type Encoders } from './encoders';
import type { ScoringRequest } from './scoring-worker';
import { WorkerClient, type WorkerEntry } from './worker-client';

/**
 * The model's sessions, opened in a scoring worker so inference never holds this thread; with no
 * worker to start (null), opened here.
 */
export async function openEncodersOffThread(
  entry: WorkerEntry | null,
  paths: { textEncoder: string; imageEncoder: string },
  forced?: Provider,
): Promise<Encoders> {
  if (!entry) return openEncoders(paths, forced);
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
      encodeImages: (pixels, batch, size) =>
        ask<Float32Array>({ kind: 'encodeImages', pixels, batch, size }),
      release: () => worker.close(),
    };
  } catch (error) {
    await worker.close();
    throw error;
  }
}
