import fs from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { StudioError } from '../../shared/errors';
import { createDispatcher } from '../core/dispatcher';
import { StudioService } from '../core/service';
import { ProjectStore } from '../core/store/project-store';
import { createGuard, newSessionScope, newToken } from './auth';
import { EventStreams } from './events';
import { serveImage } from './images';
import { SECURITY_HEADERS, sendText } from './responses';
import { serveCall } from './rpc';
import { serveStatic } from './static';

export interface ServerOptions {
  /** The project file; it must exist. */
  file: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: '127.0.0.1';
  /** The built renderer (out/renderer). */
  rendererDir: string;
}

export interface RunningServer {
  /** Carries the token: the one URL that lets a browser in. */
  url: string;
  port: number;
  token: string;
  /** Stops accepting, ends event streams, lets running calls finish, then closes the project. */
  close(): Promise<void>;
}

/** How long close() waits for calls still running (a cancelled import stops at its next check). */
const DRAIN_MS = 10_000;

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Browser mode: the StudioApi of one project over loopback HTTP, behind a per-run token. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  let rendererRoot: string;
  try {
    rendererRoot = await fs.promises.realpath(options.rendererDir);
  } catch {
    throw new StudioError('not_found', `${options.rendererDir}: the built renderer is missing`);
  }

  const store = ProjectStore.open(options.file);
  const streams = new EventStreams();
  const runningTasks = new Set<string>();
  const service = new StudioService(store, {
    progress(progress) {
      if (progress.state === 'running') runningTasks.add(progress.taskId);
      else runningTasks.delete(progress.taskId);
      streams.send('progress', progress);
    },
  });
  const dispatch = createDispatcher(service);
  const token = newToken();
  const backgroundScoring = service.scoreInBackground((message) =>
    console.error(`pickstudio serve: ${message}`),
  );

  const server = http.createServer();
  let port: number;
  try {
    port = await listen(server, options.port ?? 0, host);
  } catch (error) {
    streams.close();
    store.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      throw new StudioError('busy', `cannot listen on ${host}:${options.port}: ${code}`, {
        cause: error,
      });
    }
    throw error;
  }
  const guard = createGuard({ token, port, scope: newSessionScope() });

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // Absolute-form targets ('http://elsewhere/...') are for proxies; this server is none.
    if (!req.url?.startsWith('/')) return sendText(res, 400, 'bad request target');
    // Prefixing an origin keeps '//host/path' a path rather than a URL of another host.
    const url = new URL(`http://127.0.0.1${req.url}`);
    const decision = guard(req, url);
    if (decision.kind === 'refuse') return sendText(res, 403, `forbidden: ${decision.reason}`);
    if (decision.kind === 'login') {
      res.writeHead(303, {
        Location: decision.location,
        'Set-Cookie': decision.cookie,
        'Cache-Control': 'no-store',
      });
      res.end();
      return;
    }

    // The same routes below the session scope (the browser, with its cookie) and outside it.
    const { path } = decision;
    if (path.startsWith('/api/')) {
      res.setHeader('Cache-Control', 'no-store');
      const call = /^\/api\/call\/([^/]+)$/.exec(path);
      if (call) return serveCall(req, res, call[1]!, dispatch);
      const image = /^\/api\/images\/([^/]+)$/.exec(path);
      if (image) return serveImage(req, res, image[1]!, (uid) => service.readImage(uid));
      if (path === '/api/events' && req.method === 'GET') return streams.open(req, res);
      return sendText(res, 404, 'no such API route');
    }
    return serveStatic(req, res, rendererRoot, path);
  };

  const inFlight = new Set<Promise<void>>();
  let closing: Promise<void> | undefined;
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    if (closing) return sendText(res, 503, 'shutting down', { Connection: 'close' });
    const done = new Promise<void>((resolve) => res.once('close', resolve));
    inFlight.add(done);
    void done.then(() => inFlight.delete(done));
    route(req, res).catch((error: unknown) => {
      console.error(`pickstudio serve: ${req.method} ${req.url} failed:`, error);
      if (!res.headersSent) sendText(res, 500, 'internal error');
      else res.destroy();
    });
  });

  const shutDown = async (): Promise<void> => {
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    streams.close();
    await Promise.all(
      [...runningTasks].map((taskId) => dispatch('cancelTask', { taskId }).catch(() => undefined)),
    );
    await Promise.race([
      Promise.all([...inFlight, backgroundScoring]),
      delay(DRAIN_MS, undefined, { ref: false }),
    ]);
    server.closeAllConnections();
    await stopped;
    // Closing the last connection checkpoints the WAL into the file and removes it.
    store.close();
  };

  return {
    url: `http://${host}:${port}/?token=${token}`,
    port,
    token,
    close: () => (closing ??= shutDown()),
  };
}
