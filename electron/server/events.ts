import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StudioEventName, StudioEvents } from '../../shared/api';

const KEEP_ALIVE_MS = 15_000;

/** The open Server-Sent Events streams, each receiving every event of the project. */
export class EventStreams {
  private readonly clients = new Set<ServerResponse>();
  // Proxies and idle timeouts drop a silent connection; a comment line keeps it alive unseen.
  private readonly keepAlive = setInterval(() => this.write(': keep-alive\n\n'), KEEP_ALIVE_MS);

  constructor() {
    // An open stream must not be what keeps the process alive once the server is closed.
    this.keepAlive.unref();
  }

  open(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
    });
    res.socket?.setNoDelay(true);
    // Sends the headers now, so the client's EventSource opens before the first event.
    res.write(': connected\n\n');
    this.clients.add(res);
    req.on('close', () => this.clients.delete(res));
  }

  send<E extends StudioEventName>(event: E, payload: StudioEvents[E]): void {
    // JSON.stringify escapes newlines, so the payload is always a single data line.
    this.write(`event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`);
  }

  close(): void {
    clearInterval(this.keepAlive);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private write(chunk: string): void {
    for (const res of this.clients) res.write(chunk);
  }
}
