/**
 * An export's Parquet writing, off the thread that reads the project: each request runs one COPY
 * over the rows that arrive on its port (parquet-stream.ts). DuckDB asks for the next chunk from
 * inside its call, so this thread waits for rows there, on shared memory, not on its event loop.
 */
import { parentPort, receiveMessageOnPort } from 'node:worker_threads';
import { errorReply, type WorkerReply } from '../../worker-client';
import { sqlString } from '../duckdb-sql';
import { batchesFunction, openEngine, type Engine, type HeldBatch } from './parquet-engine';
import type { StreamChannel, StreamMessage, StreamRequest } from './parquet-stream';

parentPort!.on('message', ({ id, ...request }: StreamRequest & StreamChannel & { id: number }) => {
  void copy(id, request);
});

/** The next message on the port, waiting for one to be posted. */
function receive({ port, signal }: StreamChannel): StreamMessage {
  for (;;) {
    const posted = Atomics.load(signal, 0);
    const received = receiveMessageOnPort(port);
    if (received) return received.message as StreamMessage;
    Atomics.wait(signal, 0, posted);
  }
}

async function copy(id: number, request: StreamRequest & StreamChannel): Promise<void> {
  let engine: Engine | null = null;
  let reply: WorkerReply;
  try {
    engine = await openEngine(request.spill);
    const next = (): HeldBatch | null => {
      const message = receive(request);
      if ('abort' in message) throw new Error('export stopped');
      if ('end' in message) return null;
      request.port.postMessage('taken');
      return message;
    };
    engine.connection.registerTableFunction(
      batchesFunction('streamed_rows', request.columns, () => next),
    );
    await engine.connection.run(
      `COPY (FROM streamed_rows()) TO ${sqlString(request.file)} ${request.options}`,
    );
    reply = { id, result: null };
  } catch (error) {
    reply = errorReply(id, error);
  } finally {
    engine?.close();
    request.port.close();
  }
  parentPort!.postMessage(reply);
}
