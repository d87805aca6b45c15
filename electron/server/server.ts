import fs from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { StudioError } from '../../shared/errors';
import { openStudio, type Studio } from '../core/studio';
import { createGuard, newSessionScope, newToken, refusedForToken, type Guard } from './auth';
import { EventStreams } from './events';
import { serveImage } from './images';
import { SECURITY_HEADERS, sendHtml, sendText } from './responses';
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
  /** How long a client may take to send a request; tests shorten it. */
  limits?: Partial<RequestLimits>;
}

export interface RequestLimits {
  /** From the connection (or the previous reply) to the end of the request's headers. */
  headersMs: number;
  /** To the end of the whole request, body included (a call's body is at most 1 MB). */
  requestMs: number;
  /** How long an idle kept-alive connection stays open. */
  keepAliveMs: number;
}

/**
 * A client that sends its request a byte at a time (slowloris) would otherwise hold a socket and
 * a file descriptor for minutes; a page on loopback sends a whole request at once.
 */
const REQUEST_LIMITS: RequestLimits = { headersMs: 10_000, requestMs: 30_000, keepAliveMs: 5_000 };

function createHttpServer(limits: Partial<RequestLimits> = {}): http.Server {
  const { headersMs, requestMs, keepAliveMs } = { ...REQUEST_LIMITS, ...limits };
  return http.createServer({
    headersTimeout: headersMs,
    requestTimeout: requestMs,
    keepAliveTimeout: keepAliveMs,
    // Node looks for connections past their time at this interval (30 s by default).
    connectionsCheckingInterval: Math.min(1_000, headersMs),
  });
}

export interface RunningServer {
  /** Carries the token: the one URL that lets a browser in. */
  url: string;
  port: number;
  token: string;
  /**
   * The open project, for callers in this process (a local door: every method). The page reaches
   * only its `dispatchFromPage`.
   */
  studio: Studio;
  /** Stops accepting, ends event streams, lets running calls finish, then closes the project. */
  close(): Promise<void>;
}

/** How long close() waits for calls still running (a cancelled import stops at its next check). */
const DRAIN_MS = 10_000;

/** Listens on the port; a port that is taken or not ours to take is `busy`. */
function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  }).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      throw new StudioError('busy', `cannot listen on ${host}:${port}: ${code}`, { cause: error });
    }
    throw error;
  });
}

type Route = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * What a tab of a server since stopped or restarted shows on reload, instead of a bare
 * `forbidden`. Fixed text: nothing of the project, the token or the request.
 */
const STALE_TAB_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pick Studio: open the new address</title>
<style>
body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: #171717;
  color: #e6e6e6; font: 1.05rem/1.5 system-ui, sans-serif; }
main { max-width: 34rem; padding: 2rem; }
h1 { font-size: 1.4rem; margin: 0 0 0.8rem; }
code { font-family: ui-monospace, monospace; }
</style>
</head>
<body>
<main data-testid="stale-tab">
<h1>This tab has lost its Pick Studio server</h1>
<p>This Pick Studio tab belongs to a server that has stopped or restarted. Open the address the
<code>pickstudio</code> command printed (it carries a new token).</p>
<p>Your decisions saved before are in the project file.</p>
</main>
</body>
</html>
`;

/**
 * A refusal. A page load refused only for its token is most likely a tab left from an earlier
 * run: it gets a page saying so (still a 403). The API keeps its terse answer, for the page's
 * HTTP client and for scripts.
 */
function refuse(req: IncomingMessage, res: ServerResponse, url: URL, reason: string): void {
  const pageLoad =
    (req.method === 'GET' || req.method === 'HEAD') && !/(^|\/)api\//.test(url.pathname);
  if (pageLoad && refusedForToken(reason)) return sendHtml(res, 403, STALE_TAB_PAGE);
  sendText(res, 403, `forbidden: ${reason}`);
}

/** Every request passes the guard first; then the API, or the built renderer. */
function createRouter(options: {
  guard: Guard;
  studio: Studio;
  streams: EventStreams;
  rendererRoot: string;
}): Route {
  const { guard, studio, streams, rendererRoot } = options;
  return async (req, res) => {
    // Absolute-form targets ('http://elsewhere/...') are for proxies; this server is none.
    if (!req.url?.startsWith('/')) return sendText(res, 400, 'bad request target');
    // Prefixing an origin keeps '//host/path' a path rather than a URL of another host.
    const url = new URL(`http://127.0.0.1${req.url}`);
    const decision = guard(req, url);
    if (decision.kind === 'refuse') return refuse(req, res, url, decision.reason);
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
      if (call) return serveCall(req, res, call[1]!, studio.dispatchFromPage);
      const image = /^\/api\/images\/([^/]+)$/.exec(path);
      if (image) return serveImage(req, res, image[1]!, (uid) => studio.readImage(uid));
      if (path === '/api/events' && req.method === 'GET') return streams.open(req, res);
      return sendText(res, 404, 'no such API route');
    }
    return serveStatic(req, res, rendererRoot, path);
  };
}

/**
 * Answers each request through `route`, with the security headers, and keeps the replies not yet
 * sent, for shutting down to wait on. Once `closing()` holds, new requests get a 503.
 */
function answerRequests(
  server: http.Server,
  route: Route,
  closing: () => boolean,
): Set<Promise<void>> {
  const inFlight = new Set<Promise<void>>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    if (closing()) return sendText(res, 503, 'shutting down', { Connection: 'close' });
    const done = new Promise<void>((resolve) => res.once('close', resolve));
    inFlight.add(done);
    void done.then(() => inFlight.delete(done));
    route(req, res).catch((error: unknown) => {
      // A client gone mid-request, or cut off for being too slow, is no failure to report.
      if (req.socket.destroyed) return;
      console.error(`pickstudio serve: ${req.method} ${req.url} failed:`, error);
      if (!res.headersSent) sendText(res, 500, 'internal error');
      else res.destroy();
    });
  });
  return inFlight;
}

/**
 * Stops accepting, ends the event streams, cancels running tasks, waits (bounded) for calls and
 * background scoring to finish, then closes the project.
 */
async function shutDown(running: {
  server: http.Server;
  streams: EventStreams;
  studio: Studio;
  runningTasks: ReadonlySet<string>;
  inFlight: ReadonlySet<Promise<void>>;
  backgroundScoring: Promise<void>;
}): Promise<void> {
  const { server, streams, studio } = running;
  const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
  streams.close();
  await Promise.all(
    [...running.runningTasks].map((taskId) =>
      studio.call('cancelTask', { taskId }).catch(() => undefined),
    ),
  );
  await Promise.race([
    Promise.all([...running.inFlight, running.backgroundScoring]),
    delay(DRAIN_MS, undefined, { ref: false }),
  ]);
  server.closeAllConnections();
  await stopped;
  // Closing the last connection checkpoints the WAL into the file and removes it.
  studio.close();
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

  const streams = new EventStreams();
  const runningTasks = new Set<string>();
  const studio = openStudio(options.file, {
    progress(progress) {
      if (progress.state === 'running') runningTasks.add(progress.taskId);
      else runningTasks.delete(progress.taskId);
      streams.send('progress', progress);
    },
    settings: (settings) => streams.send('settings', settings),
    guidelines: (guidelines) => streams.send('guidelines', guidelines),
  });
  const token = newToken();
  const backgroundScoring = studio.scoreInBackground((message) =>
    console.error(`pickstudio serve: ${message}`),
  );

  const server = createHttpServer(options.limits);
  let port: number;
  try {
    port = await listen(server, options.port ?? 0, host);
  } catch (error) {
    streams.close();
    studio.close();
    throw error;
  }
  const guard = createGuard({ token, port, scope: newSessionScope() });
  const route = createRouter({ guard, studio, streams, rendererRoot });
  let closing: Promise<void> | undefined;
  const inFlight = answerRequests(server, route, () => closing !== undefined);

  return {
    url: `http://${host}:${port}/?token=${token}`,
    port,
    token,
    studio,
    close: () =>
      (closing ??= shutDown({
        server,
        streams,
        studio,
        runningTasks,
        inFlight,
        backgroundScoring,
      })),
  };
}
