/**
 * Security checks of the two doors an attacker could knock on, run without a display or the
 * Electron binary:
 *
 * - browser mode (electron/server), over real sockets. tests/unit/server.test.ts already covers
 *   the token (missing, wrong, URL login and cookie), foreign Host and Origin on calls, the JSON
 *   content type, unknown methods and bad arguments for listPairs, image traversal by uid, static
 *   traversal by `..` and by a symlinked file, and the CSP's exact text; those are not repeated.
 * - the Electron main process and preload (electron/main, electron/preload), imported with a fake
 *   'electron' module: what they register, expose and refuse. tests/e2e/security.spec.ts runs the
 *   same properties in the real runtime where the binary exists.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  LOCAL_ONLY_METHODS,
  PAGE_METHODS,
  STUDIO_EVENTS,
  STUDIO_METHODS,
  type LocalOnlyMethod,
  type MethodArgs,
  type StudioMethod,
} from '../../shared/api';
import { StudioService } from '../../electron/core/service';
import { createGuard, isLoopbackAddress, type GuardDecision } from '../../electron/server/auth';
import { startServer, type RunningServer } from '../../electron/server/server';
import { makeJpeg, openTestProject, projectDigest, tempDir } from '../helpers/project';
import { runPickstudio } from '../helpers/cli';
import { writeShardWithDuckDB } from '../helpers/duckdb';

// ---------------------------------------------------------------------------------------------
// A fake 'electron' for the main-process and preload modules. vi.mock is hoisted above the
// imports, so everything it uses comes from vi.hoisted.
// ---------------------------------------------------------------------------------------------

type Listener = (...args: unknown[]) => unknown;
interface NavigationEvent {
  preventDefault(): void;
  defaultPrevented: boolean;
}

const fake = vi.hoisted(() => {
  const state = {
    /** contextBridge.exposeInMainWorld calls. */
    exposed: [] as { name: string; api: unknown }[],
    /** ipcRenderer.invoke calls, and what the fake main answers. */
    invoked: [] as { channel: string; args: unknown }[],
    reply: (channel: string, args: unknown): unknown => ({ ok: true, value: { channel, args } }),
    rendererListeners: new Map<string, Set<Listener>>(),
    /** ipcMain.handle registrations. */
    handlers: new Map<string, Listener>(),
    protocolHandlers: new Map<string, Listener>(),
    privilegedSchemes: [] as unknown[],
    privilegedCalls: 0,
    permissionRequest: undefined as Listener | undefined,
    permissionCheck: undefined as Listener | undefined,
    appListeners: new Map<string, Listener[]>(),
    sandboxEnabledBeforeWindow: false,
    errors: [] as string[],
    windows: [] as FakeWindow[],
    userData: '',
    appPath: '',
  };

  class FakeWebContents {
    readonly id = 11;
    readonly mainFrame = { processId: 5, routingId: 1, url: '' };
    readonly listeners = new Map<string, Listener[]>();
    windowOpenHandler: Listener | undefined;
    on(name: string, listener: Listener): this {
      this.listeners.set(name, [...(this.listeners.get(name) ?? []), listener]);
      return this;
    }
    setWindowOpenHandler(handler: Listener): void {
      this.windowOpenHandler = handler;
    }
    send(): void {}
    reload(): void {}
  }

  class FakeWindow {
    readonly webContents = new FakeWebContents();
    loadedFile: string | undefined;
    loadedUrl: string | undefined;
    constructor(readonly options: Record<string, unknown>) {
      state.sandboxEnabledBeforeWindow = sandbox.mock.calls.length > 0;
      state.windows.push(this);
    }
    once(): this {
      return this;
    }
    on(): this {
      return this;
    }
    show(): void {}
    isDestroyed(): boolean {
      return false;
    }
    setProgressBar(): void {}
    async loadFile(file: string): Promise<void> {
      this.loadedFile = file;
    }
    async loadURL(url: string): Promise<void> {
      this.loadedUrl = url;
    }
  }

  const sandbox = vi.fn();
  const module = {
    app: {
      isPackaged: false,
      enableSandbox: sandbox,
      whenReady: () => Promise.resolve(),
      on: (name: string, listener: Listener) => {
        state.appListeners.set(name, [...(state.appListeners.get(name) ?? []), listener]);
      },
      getPath: () => state.userData,
      getAppPath: () => state.appPath,
      exit: (code: number) => state.errors.push(`app.exit(${code})`),
      quit: () => undefined,
    },
    BrowserWindow: FakeWindow,
    nativeTheme: { shouldUseDarkColors: true },
    contextBridge: {
      exposeInMainWorld: (name: string, api: unknown) => state.exposed.push({ name, api }),
    },
    ipcRenderer: {
      invoke: async (channel: string, args: unknown) => {
        state.invoked.push({ channel, args });
        return state.reply(channel, args);
      },
      on: (channel: string, listener: Listener) => {
        const set = state.rendererListeners.get(channel) ?? new Set<Listener>();
        set.add(listener);
        state.rendererListeners.set(channel, set);
      },
      removeListener: (channel: string, listener: Listener) =>
        state.rendererListeners.get(channel)?.delete(listener),
    },
    ipcMain: {
      handle: (channel: string, listener: Listener) => state.handlers.set(channel, listener),
    },
    protocol: {
      registerSchemesAsPrivileged: (schemes: unknown[]) => {
        state.privilegedCalls += 1;
        state.privilegedSchemes.push(...schemes);
      },
      handle: (scheme: string, listener: Listener) => state.protocolHandlers.set(scheme, listener),
    },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (handler: Listener) => (state.permissionRequest = handler),
        setPermissionCheckHandler: (handler: Listener) => (state.permissionCheck = handler),
      },
    },
    dialog: {
      showErrorBox: (title: string, message: string) => state.errors.push(`${title}: ${message}`),
      showOpenDialog: async () => ({ canceled: true, filePaths: [] }),
      showSaveDialog: async () => ({ canceled: true }),
      showMessageBox: async () => ({ response: 0 }),
    },
    Menu: {
      buildFromTemplate: (template: unknown) => template,
      setApplicationMenu: () => undefined,
      // No menu items to enable or disable by role: the window's security is what is tested.
      getApplicationMenu: () => null,
    },
  };
  return { state, module, FakeWindow };
});
type FakeWindow = InstanceType<typeof fake.FakeWindow>;

vi.mock('electron', () => ({ ...fake.module, default: fake.module }));

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** http.request sends the path and headers exactly as written (fetch would normalise them). */
function raw(
  port: number,
  options: {
    method?: string;
    path: string;
    headers?: Record<string, string>;
    body?: string;
    localAddress?: string;
    host?: string;
  },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: options.host ?? '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path,
        localAddress: options.localAddress,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    for (const [name, value] of Object.entries(options.headers ?? {})) req.setHeader(name, value);
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Bytes written straight to the socket: for requests Node's client refuses to send. */
function rawSocket(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    socket.end(request);
  });
}

const statusOf = (answer: string): number => Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1]);

/** A manifest of `pairs` pairs whose JPEGs lie beside it, imported into a new project. */
async function makeProject(dir: string, pairs = 2): Promise<{ file: string; uids: string[] }> {
  const lines: string[] = [];
  for (let i = 0; i < pairs; i++) {
    fs.writeFileSync(path.join(dir, `img-${i}a.jpg`), await makeJpeg(2 * i + 1));
    fs.writeFileSync(path.join(dir, `img-${i}b.jpg`), await makeJpeg(2 * i + 2));
    lines.push(
      JSON.stringify({ prompt: `p ${i}`, image_0: `img-${i}a.jpg`, image_1: `img-${i}b.jpg` }),
    );
  }
  fs.writeFileSync(path.join(dir, 'pairs.jsonl'), lines.join('\n'));
  const file = path.join(dir, 'p.pickstudio');
  const opened = openTestProject(file);
  try {
    await opened.call('importSources', { sources: [path.join(dir, 'pairs.jsonl')] });
    const list = await opened.call('listPairs', {});
    return { file, uids: list.flatMap((pair) => [pair.image0Uid, pair.image1Uid]) };
  } finally {
    opened.store.close();
  }
}

/** A built-renderer stand-in: index.html and one asset. */
function makeRendererDir(dir: string): string {
  const rendererDir = path.join(dir, 'renderer');
  fs.mkdirSync(path.join(rendererDir, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>studio</title>');
  fs.writeFileSync(path.join(rendererDir, 'assets', 'app.js'), 'console.log("app");');
  return rendererDir;
}

/** This machine's first non-loopback IPv4 address, if it has one. */
function externalIPv4(): string | undefined {
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal && !isLoopbackAddress(address.address)) {
        return address.address;
      }
    }
  }
  return undefined;
}

const SECRET = 'TOP SECRET: must never be served';

/** The CSP as a map from directive to its sources. */
function parseCsp(header: string): Map<string, string[]> {
  return new Map(
    header
      .split(';')
      .map((part) => part.trim().split(/\s+/))
      .filter((words) => words[0])
      .map(([name, ...sources]) => [name!.toLowerCase(), sources]),
  );
}

// ---------------------------------------------------------------------------------------------
// Browser mode
// ---------------------------------------------------------------------------------------------

describe('browser mode: who may connect', () => {
  let dir: string;
  let server: RunningServer;
  let auth: Record<string, string>;
  let uids: string[];

  beforeAll(async () => {
    dir = tempDir('pickstudio-security-');
    const made = await makeProject(dir);
    uids = made.uids;
    server = await startServer({ file: made.file, port: 0, rendererDir: makeRendererDir(dir) });
    auth = { authorization: `Bearer ${server.token}` };
  });
  afterAll(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The guard alone, on a request whose peer address the test chooses. */
  function guardSees(
    remoteAddress: string | undefined,
    headers: Record<string, string>,
    target = '/',
  ): GuardDecision {
    const guard = createGuard({ token: 'the-token', port: 4242, scope: '/the-scope/' });
    const req = {
      method: 'GET',
      headers,
      socket: { remoteAddress },
    } as unknown as http.IncomingMessage;
    return guard(req, new URL(`http://127.0.0.1${target}`));
  }

  it('the guard refuses a peer that is not this computer, whatever else the request gets right', () => {
    const perfect = { host: '127.0.0.1:4242', authorization: 'Bearer the-token' };
    expect(guardSees('127.0.0.1', perfect)).toEqual({ kind: 'allow', path: '/' });
    expect(guardSees('::ffff:127.0.0.1', perfect)).toEqual({ kind: 'allow', path: '/' });
    for (const peer of [
      '192.0.2.7',
      '::ffff:192.0.2.7',
      'fd00::2',
      'fe80::1',
      '0.0.0.0',
      '::',
      undefined,
    ]) {
      expect(guardSees(peer, perfect), String(peer)).toEqual({
        kind: 'refuse',
        reason: 'only this computer may connect',
      });
      // Not even the token-in-URL login happens for a foreign peer.
      expect(guardSees(peer, { host: '127.0.0.1:4242' }, '/?token=the-token').kind).toBe('refuse');
    }
  });

  it('the guard checks the peer, then Host, then Origin, then the token', () => {
    const reason = (decision: GuardDecision): string =>
      decision.kind === 'refuse' ? decision.reason : decision.kind;
    expect(
      reason(guardSees('192.0.2.7', { host: 'evil.example', origin: 'http://evil.example' })),
    ).toBe('only this computer may connect');
    expect(
      reason(guardSees('127.0.0.1', { host: 'evil.example', origin: 'http://evil.example' })),
    ).toBe('unexpected Host header');
    expect(
      reason(guardSees('127.0.0.1', { host: 'localhost:4242', origin: 'http://evil.example' })),
    ).toBe('cross-origin request refused');
    expect(
      reason(guardSees('127.0.0.1', { host: 'localhost:4242', origin: 'http://localhost:4242' })),
    ).toMatch(/^no token/);
  });

  it('the guard takes the cookie only below the session scope, and a Bearer header anywhere', () => {
    const host = '127.0.0.1:4242';
    const ours = 'pickstudio_token=the-token';
    expect(guardSees('127.0.0.1', { host, cookie: ours }, '/the-scope/api/call/getStats')).toEqual({
      kind: 'allow',
      path: '/api/call/getStats',
    });
    expect(guardSees('127.0.0.1', { host, cookie: ours }, '/the-scope/')).toEqual({
      kind: 'allow',
      path: '/',
    });
    // Outside the scope a browser never sends it: one that arrives there is ignored.
    for (const target of [
      '/',
      '/api/call/getStats',
      '/the-scope',
      '/the-scopeX/',
      '/x/the-scope/',
    ]) {
      expect(guardSees('127.0.0.1', { host, cookie: ours }, target), target).toEqual({
        kind: 'refuse',
        reason: 'no token: open the URL that pickstudio serve printed',
      });
    }
    expect(
      guardSees('127.0.0.1', { host, authorization: 'Bearer the-token' }, '/api/call/getStats'),
    ).toEqual({ kind: 'allow', path: '/api/call/getStats' });
    // A cookie of the same name with a wider Path, tossed by a page on another port, sits beside
    // ours: it neither locks the session out nor gets in on its own.
    const tossed = 'pickstudio_token=not-the-token';
    expect(guardSees('127.0.0.1', { host, cookie: `${tossed}; ${ours}` }, '/the-scope/')).toEqual({
      kind: 'allow',
      path: '/',
    });
    expect(guardSees('127.0.0.1', { host, cookie: tossed }, '/the-scope/')).toEqual({
      kind: 'refuse',
      reason: 'wrong token',
    });
    // The old cookie, named per port with Path=/, counts nowhere.
    expect(
      guardSees('127.0.0.1', { host, cookie: 'pickstudio_token_4242=the-token' }, '/the-scope/')
        .kind,
    ).toBe('refuse');
  });

  it('the guard trades a token in the URL for a cookie whose Path is the scope, and goes there', () => {
    const host = '127.0.0.1:4242';
    const cookie = 'pickstudio_token=the-token; Path=/the-scope/; HttpOnly; SameSite=Strict';
    expect(guardSees('127.0.0.1', { host }, '/?token=the-token&bench')).toEqual({
      kind: 'login',
      location: '/the-scope/?bench=',
      cookie,
    });
    expect(guardSees('127.0.0.1', { host }, '/the-scope/?token=the-token')).toEqual({
      kind: 'login',
      location: '/the-scope/',
      cookie,
    });
    expect(guardSees('127.0.0.1', { host }, '///evil.example/?token=the-token')).toEqual({
      kind: 'login',
      location: '/the-scope/evil.example/',
      cookie,
    });
    expect(guardSees('127.0.0.1', { host }, '/?token=not-the-token').kind).toBe('refuse');
  });

  const external = externalIPv4();

  it.skipIf(external === undefined)(
    `refuses a real connection from this machine's non-loopback address (${external ?? 'none here: skipped'})`,
    async () => {
      // The server listens on 127.0.0.1 only, but Linux lets a socket bound to another local
      // address connect to it: the peer the server sees is then not loopback.
      const res = await raw(server.port, {
        path: '/',
        localAddress: external,
        headers: { host: `127.0.0.1:${server.port}`, ...auth },
      });
      expect(res.status).toBe(403);
      expect(res.body).toMatch(/only this computer may connect/);
      // The same request from loopback is let in: the peer alone made the difference.
      const local = await raw(server.port, {
        path: '/',
        headers: { host: `127.0.0.1:${server.port}`, ...auth },
      });
      expect(local.status).toBe(200);
    },
  );

  it.skipIf(external === undefined)(
    `listens on loopback only: the port is closed on ${external ?? 'the non-loopback address (none here: skipped)'}`,
    async () => {
      await expect(
        raw(server.port, { host: external, path: '/', headers: auth }),
      ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    },
  );

  it('refuses a missing Host header and hosts that only look like this server', async () => {
    const noHost = await rawSocket(
      server.port,
      `GET / HTTP/1.0\r\nAuthorization: Bearer ${server.token}\r\n\r\n`,
    );
    expect(statusOf(noHost)).toBe(403);
    const port = server.port;
    for (const host of [
      `127.0.0.1:${port}.evil.example`,
      `evil.example:${port}`,
      `localhost.:${port}`,
      `127.1:${port}`,
      `[::1]:${port}`,
      `127.0.0.1:0${port}`,
      `127.0.0.1:${port}@evil.example`,
    ]) {
      const res = await raw(port, { path: '/', headers: { host, ...auth } });
      expect(res.status, host).toBe(403);
    }
    // Host names are case-insensitive.
    expect(
      (await raw(port, { path: '/', headers: { host: `LOCALHOST:${port}`, ...auth } })).status,
    ).toBe(200);
  });

  it('refuses a foreign Origin on every route, not only on calls', async () => {
    const port = server.port;
    const routes = [
      '/',
      '/assets/app.js',
      '/api/events',
      `/api/images/${encodeURIComponent(uids[0]!)}`,
    ];
    for (const origin of [
      'http://evil.example',
      `http://127.0.0.1:${port + 1}`, // same site, another port: another origin
      `https://127.0.0.1:${port}`,
      'null',
      `http://127.0.0.1:${port}.evil.example`,
    ]) {
      for (const route of routes) {
        const res = await raw(port, { path: route, headers: { origin, ...auth } });
        expect(res.status, `${origin} ${route}`).toBe(403);
      }
    }
    const same = await raw(port, {
      path: `/api/images/${encodeURIComponent(uids[0]!)}`,
      headers: { origin: `http://localhost:${port}`, host: `localhost:${port}`, ...auth },
    });
    expect(same.status).toBe(200);
  });

  it('refuses an absolute-form request target (it is no proxy)', async () => {
    const answer = await rawSocket(
      server.port,
      `GET http://evil.example/ HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nAuthorization: Bearer ${server.token}\r\nConnection: close\r\n\r\n`,
    );
    expect(statusOf(answer)).toBe(400);
  });

  it('takes the token from the URL only to log in a GET: not on a POST', async () => {
    const res = await raw(server.port, {
      method: 'POST',
      path: `/api/call/getStats?token=${server.token}`,
      headers: { host: `127.0.0.1:${server.port}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(403);
  });

  it('grants no CORS: a preflight from another origin is refused, and no reply allows one', async () => {
    const preflight = await raw(server.port, {
      method: 'OPTIONS',
      path: '/api/call/getStats',
      headers: {
        origin: 'http://evil.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, authorization',
      },
    });
    expect(preflight.status).toBe(403);
    for (const route of [
      '/',
      '/api/call/getStats',
      `/api/images/${encodeURIComponent(uids[0]!)}`,
    ]) {
      const res = await raw(server.port, {
        method: route.startsWith('/api/call') ? 'POST' : 'GET',
        path: route,
        headers: { ...auth, 'content-type': 'application/json' },
        body: route.startsWith('/api/call') ? '{}' : undefined,
      });
      const allow = Object.keys(res.headers).filter((name) => name.startsWith('access-control-'));
      expect(allow, route).toEqual([]);
    }
  });

  it('sends the security headers on every kind of reply', async () => {
    const port = server.port;
    const replies: [string, RawResponse][] = [
      ['refused', await raw(port, { path: '/' })],
      ['login', await raw(port, { path: `/?token=${server.token}` })],
      ['page', await raw(port, { path: '/', headers: auth })],
      ['asset', await raw(port, { path: '/assets/app.js', headers: auth })],
      ['missing', await raw(port, { path: '/nope.js', headers: auth })],
      ['api 404', await raw(port, { path: '/api/nope', headers: auth })],
      [
        'image',
        await raw(port, { path: `/api/images/${encodeURIComponent(uids[0]!)}`, headers: auth }),
      ],
      ['no image', await raw(port, { path: '/api/images/none', headers: auth })],
      ['wrong method', await raw(port, { method: 'DELETE', path: '/', headers: auth })],
      [
        'call',
        await raw(port, {
          method: 'POST',
          path: '/api/call/getStats',
          headers: { ...auth, 'content-type': 'application/json' },
          body: '{}',
        }),
      ],
    ];
    for (const [kind, res] of replies) {
      expect(res.headers['content-security-policy'], kind).toMatch(/frame-ancestors 'none'/);
      expect(res.headers['x-content-type-options'], kind).toBe('nosniff');
      expect(res.headers['cross-origin-resource-policy'], kind).toBe('same-origin');
      expect(res.headers['referrer-policy'], kind).toBe('no-referrer');
    }
    // The login cookie cannot be read by scripts nor sent by other sites.
    const cookie = replies[1]![1].headers['set-cookie']?.[0] ?? '';
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Strict/);
    // Nor reaches another server on 127.0.0.1 (cookies ignore the port): its Path is a secret.
    expect(cookie).toMatch(/; Path=\/[A-Za-z0-9_-]{22}\/;/);
    expect(replies[1]![1].headers.location).toBe(cookie.match(/; Path=([^;]+);/)?.[1]);
  });

  it('has a CSP that forbids inline and eval scripts, foreign connections, plugins, frames and framing', async () => {
    const res = await raw(server.port, { path: '/', headers: auth });
    const csp = parseCsp(res.headers['content-security-policy'] as string);
    const only = (directive: string): string[] => csp.get(directive) ?? csp.get('default-src')!;
    expect(csp.get('default-src')).toEqual(["'self'"]);
    expect(only('script-src')).toEqual(["'self'"]);
    expect(only('connect-src')).toEqual(["'self'"]);
    // frame-src and child-src fall back to default-src: frames from this server only.
    expect(only('frame-src')).toEqual(["'self'"]);
    expect(only('worker-src')).toEqual(["'self'"]);
    expect(csp.get('object-src')).toEqual(["'none'"]);
    expect(csp.get('base-uri')).toEqual(["'none'"]);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
    const tooWide = new Set([
      "'unsafe-eval'",
      "'unsafe-hashes'",
      '*',
      'http:',
      'https:',
      'blob:',
      'data:',
    ]);
    for (const [directive, sources] of csp) {
      for (const source of sources) {
        // Inline data: images cannot run code; everything else must stay on this server.
        if (directive === 'img-src' && source === 'data:') continue;
        expect(tooWide.has(source), `${directive} ${source}`).toBe(false);
      }
    }
    expect(only('script-src')).not.toContain("'unsafe-inline'");
  });
});

describe('browser mode: the RPC door', () => {
  let dir: string;
  let project: string;
  let server: RunningServer;

  beforeAll(async () => {
    dir = tempDir('pickstudio-security-');
    project = (await makeProject(dir)).file;
    server = await startServer({ file: project, port: 0, rendererDir: makeRendererDir(dir) });
  });
  afterAll(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const call = async (method: string, body: string) => {
    const res = await raw(server.port, {
      method: 'POST',
      path: `/api/call/${method}`,
      headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
      body,
    });
    return {
      status: res.status,
      body: JSON.parse(res.body) as { ok: boolean; error?: { code: string; message: string } },
    };
  };

  it('refuses every service method that is not in the contract, and Object built-ins', async () => {
    const contract = new Set<string>(STUDIO_METHODS);
    const outside = Object.getOwnPropertyNames(StudioService.prototype).filter(
      (name) => !contract.has(name),
    );
    expect(outside).toContain('readImage');
    const names = [
      ...outside,
      ...Object.getOwnPropertyNames(Object.prototype),
      'prototype',
      'get%53tats', // not decoded: a percent-encoded name is no name
      'getStats%00',
      encodeURIComponent('../getStats'),
    ];
    for (const name of names) {
      const res = await call(name, '{}');
      expect(res.status, name).toBe(404);
      expect(res.body.error?.code, name).toBe('unknown_method');
    }
  });

  it('refuses arguments of the wrong type for every method', async () => {
    for (const method of PAGE_METHODS) {
      for (const body of ['"text"', '42', 'true', '[]', '[{}]']) {
        const res = await call(method, body);
        expect(res.status, `${method} ${body}`).toBe(400);
        expect(res.body.error?.code, `${method} ${body}`).toBe('invalid_argument');
      }
    }
  });

  /** Arguments each method accepts as they are; a method added later is checked with none. */
  const VALID_ARGS: { [M in StudioMethod]?: MethodArgs<M> } = {
    getStats: {},
    listPairs: {},
    importSources: { sources: ['/nonexistent/never-read.jsonl'] },
    exportParquet: { out: '/nonexistent/never-written.parquet' },
    cancelTask: { taskId: 'none' },
    getQueue: { annotator: 'a' },
    getPair: { annotator: 'a', pairId: 1 },
    recordDecision: {
      annotator: 'a',
      pairId: 1,
      decision: 0,
      leftImage: 0,
      suggestionVisible: false,
      decisionMs: 1,
    },
    undoLast: { annotator: 'a' },
    scorePairs: {},
    getScoringStatus: {},
    getSettings: {},
    setSettings: {},
    getHistory: { annotator: 'a' },
  };

  it('refuses an unknown field on every method, before the method runs', async () => {
    for (const method of PAGE_METHODS) {
      const args = { ...(VALID_ARGS[method] ?? {}), sneaky_extra_field: true };
      const res = await call(method, JSON.stringify(args));
      expect(res.status, method).toBe(400);
      expect(res.body.error?.code, method).toBe('invalid_argument');
      if (VALID_ARGS[method]) expect(res.body.error?.message, method).toMatch(/sneaky_extra_field/);
    }
    expect(fs.existsSync('/nonexistent/never-written.parquet')).toBe(false);
  });

  it('refuses every local-only method, with arguments a local door would run, and nothing happens', async () => {
    const demoModel = path.join(process.cwd(), 'resources', 'demo-model');
    fs.writeFileSync(
      path.join(dir, 'more.jsonl'),
      JSON.stringify({ prompt: 'new', image_0: 'img-0a.jpg', image_1: 'img-1b.jpg' }),
    );
    const written = ['out.parquet', 'log.parquet', 'ana.pickstudio', 'emb.parquet'].map((f) =>
      path.join(dir, f),
    );
    // Every local-only method must be here (the type says so): one added later is tried too.
    const localCalls: { [M in LocalOnlyMethod]: MethodArgs<M> } = {
      importSources: { sources: [path.join(dir, 'more.jsonl')] },
      exportParquet: { out: written[0]!, annotationsOut: written[1]!, images: false },
      makePackage: { out: written[2]!, annotator: 'ana' },
      merge: { sources: [path.join(dir, 'pairs.jsonl')] },
      scorePairs: { model: demoModel },
      addModel: { folder: demoModel },
      importEmbeddings: { sources: [written[0]!], model: demoModel },
      exportEmbeddings: { out: written[3]! },
      getAuditTunedOn: { tuneOn: '/etc/passwd' },
    };
    expect(Object.keys(localCalls).sort()).toEqual([...LOCAL_ONLY_METHODS].sort());
    const before = projectDigest(project);
    for (const [method, args] of Object.entries(localCalls)) {
      const res = await call(method, JSON.stringify(args));
      expect(res.status, method).toBe(403);
      expect(res.body.error?.code, method).toBe('not_allowed');
      expect(res.body.error?.message, method).toMatch(/names a file or folder/);
    }
    for (const file of written) expect(fs.existsSync(file), file).toBe(false);
    expect(projectDigest(project)).toBe(before);
  });

  it('a manifest that is not one: the error names the file and line, never its text', async () => {
    const secret = 'TOPSECRET-hunter2';
    const opened = openTestProject(path.join(dir, 'errors.pickstudio'));
    const cases: [string, string][] = [
      ['passwd.jsonl', `root:x:0:0:${secret}:/root:/bin/bash\n`],
      ['object.jsonl', `{"prompt": ${secret}}\n`],
      ['quote.csv', `prompt,image_0,image_1\n${secret} "q,b,c\n`],
      ['closing.csv', `prompt,image_0,image_1\n"x"${secret},b,c\n`],
      ['open.csv', `prompt,image_0,image_1\n"${secret},b,c\n`],
    ];
    if (fs.existsSync('/etc/passwd')) {
      cases.push(['etc-passwd.jsonl', fs.readFileSync('/etc/passwd', 'utf8')]);
    }
    try {
      for (const [name, text] of cases) {
        const file = path.join(dir, name);
        fs.writeFileSync(file, text);
        const error = await opened.call('importSources', { sources: [file] }).then(
          () => null,
          (e: unknown) => e as Error,
        );
        expect(error?.message, name).toContain(file);
        expect(error?.message, name).toMatch(/(row|line) [12]: [a-z]/);
        expect(error?.message, name).not.toContain(secret);
        // Not a word of the file's first line either (for /etc/passwd: root, x, /bin/bash).
        expect(error?.message, name).not.toMatch(/root|bash|"q|TOPSECRET/);
      }
    } finally {
      opened.store.close();
    }
  });

  it('refuses a __proto__ or constructor key, and nothing gets polluted', async () => {
    for (const body of [
      '{"__proto__": {"polluted": "yes"}}',
      '{"constructor": {"prototype": {"polluted": "yes"}}}',
      '{"annotator": "a", "__proto__": {"polluted": "yes"}}',
    ]) {
      const res = await call('getStats', body);
      expect(res.status, body).toBe(400);
      expect(res.body.error?.code, body).toBe('invalid_argument');
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('browser mode: images and static files', () => {
  let dir: string;
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('finds nothing for uids written as paths, however encoded', async () => {
    dir = tempDir('pickstudio-security-');
    const made = await makeProject(dir);
    fs.writeFileSync(path.join(dir, 'secret.txt'), SECRET);
    server = await startServer({ file: made.file, port: 0, rendererDir: makeRendererDir(dir) });
    const auth = { authorization: `Bearer ${server.token}` };
    for (const route of [
      '/api/images/%252e%252e%252fsecret.txt', // double-encoded
      '/api/images/..%5Csecret.txt',
      '/api/images/%2e%2e',
      '/api/images/..',
      `/api/images/${encodeURIComponent('file://' + path.join(dir, 'secret.txt'))}`,
      `/api/images/${encodeURIComponent(made.uids[0]! + '/../../secret.txt')}`,
      `/api/images/${encodeURIComponent(made.uids[0]!)}%00.txt`,
      `/api/images/${encodeURIComponent(made.uids[0]!)}/..%2f..%2fsecret.txt`,
      `/api/images/${'a'.repeat(8000)}`,
    ]) {
      const res = await raw(server.port, { path: route, headers: auth });
      expect(res.status, route).toBe(404);
      expect(res.body, route).not.toContain(SECRET);
    }
    const post = await raw(server.port, {
      method: 'POST',
      path: `/api/images/${encodeURIComponent(made.uids[0]!)}`,
      headers: auth,
    });
    expect(post.status).toBe(405);
  });

  it('never serves an image file as a document: one swapped for HTML after import goes out as bytes', async () => {
    dir = tempDir('pickstudio-security-');
    const made = await makeProject(dir);
    // Images imported from a manifest stay where they are: whoever can write that folder can
    // replace one after the import. The server must not hand the page HTML from its own origin.
    fs.writeFileSync(
      path.join(dir, 'img-0a.jpg'),
      '<!doctype html><script>fetch("/api/call/exportParquet")</script>',
    );
    fs.writeFileSync(
      path.join(dir, 'img-0b.jpg'),
      '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    );
    server = await startServer({ file: made.file, port: 0, rendererDir: makeRendererDir(dir) });
    for (const uid of made.uids.slice(0, 2)) {
      const res = await raw(server.port, {
        path: `/api/images/${encodeURIComponent(uid)}`,
        headers: { authorization: `Bearer ${server.token}` },
      });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).not.toMatch(/html|svg|xml|javascript|text/);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toMatch(/script-src 'self'/);
    }
  });

  it('never fetches the URL of an image it has no bytes for (no request forgery through the server)', async () => {
    dir = tempDir('pickstudio-security-');
    const shard = path.join(dir, 'shard.parquet');
    await writeShardWithDuckDB(
      shard,
      [
        {
          ranking_id: 1,
          caption: 'a cat',
          image_0_uid: 'url-only-0',
          image_1_uid: 'url-only-1',
          label_0: 1,
          label_1: 0,
          has_label: true,
          user_id: 7,
        },
      ],
      { images: false },
    );
    const file = path.join(dir, 'p.pickstudio');
    const opened = openTestProject(file);
    await opened.call('importSources', { sources: [shard] });
    opened.store.close();
    server = await startServer({ file, port: 0, rendererDir: makeRendererDir(dir) });

    const outgoing = [
      vi.spyOn(globalThis, 'fetch'),
      vi.spyOn(https, 'request'),
      vi.spyOn(https, 'get'),
      vi.spyOn(http, 'get'),
    ];
    try {
      const res = await raw(server.port, {
        path: '/api/images/url-only-0',
        headers: { authorization: `Bearer ${server.token}` },
      });
      expect(res.status).toBe(404);
      expect(res.headers.location).toBeUndefined();
      expect(res.body).not.toContain('images.example');
      for (const spy of outgoing) expect(spy).not.toHaveBeenCalled();
    } finally {
      for (const spy of outgoing) spy.mockRestore();
    }
  });

  it('serves nothing through a symlinked folder that leads out of the renderer folder', async () => {
    dir = tempDir('pickstudio-security-');
    const made = await makeProject(dir);
    const outside = path.join(dir, 'outside');
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'secret.txt'), SECRET);
    fs.writeFileSync(path.join(outside, 'index.html'), SECRET);
    const rendererDir = makeRendererDir(dir);
    fs.symlinkSync(outside, path.join(rendererDir, 'linked'), 'dir');
    server = await startServer({ file: made.file, port: 0, rendererDir });
    for (const route of ['/linked/secret.txt', '/linked/', '/linked', '/linked/index.html']) {
      const res = await raw(server.port, {
        path: route,
        headers: { authorization: `Bearer ${server.token}` },
      });
      expect(res.body, route).not.toContain(SECRET);
    }
  });

  /**
   * A symlink inside the manifest's folder that points elsewhere passes a check on the name alone;
   * a dataset archive (tar keeps symlinks) could then carry a private file into the project and
   * its export. The import resolves links before the containment check.
   */
  it("refuses a manifest image that is a symlink to a file outside the manifest's folder", async () => {
    dir = tempDir('pickstudio-security-');
    const data = path.join(dir, 'dataset');
    const privateDir = path.join(dir, 'private');
    fs.mkdirSync(data);
    fs.mkdirSync(privateDir);
    fs.writeFileSync(path.join(privateDir, 'holiday.jpg'), await makeJpeg(99));
    fs.writeFileSync(path.join(data, 'b.jpg'), await makeJpeg(100));
    fs.symlinkSync(path.join('..', 'private', 'holiday.jpg'), path.join(data, 'a.jpg'));
    fs.writeFileSync(
      path.join(data, 'm.jsonl'),
      JSON.stringify({ prompt: 'x', image_0: 'a.jpg', image_1: 'b.jpg' }),
    );
    const opened = openTestProject(path.join(dir, 'p.pickstudio'));
    try {
      await expect(
        opened.call('importSources', { sources: [path.join(data, 'm.jsonl')] }),
      ).rejects.toThrow(/a\.jpg" is a link to a file outside the manifest's folder/);
    } finally {
      opened.store.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Electron: preload and main, with the fake 'electron'
// ---------------------------------------------------------------------------------------------

describe('Electron preload: window.studio', () => {
  type ExposedApi = Record<string, unknown> & {
    on(event: string, listener: (payload: unknown) => void): () => void;
    imageUrl(uid: string): string;
  };
  let api: ExposedApi;

  beforeAll(async () => {
    vi.resetModules();
    fake.state.exposed.length = 0;
    await import('../../electron/preload/index');
    expect(fake.state.exposed).toHaveLength(1);
    api = fake.state.exposed[0]!.api as ExposedApi;
  });

  it("exposes one object, `studio`, with exactly the page's methods, `on` and `imageUrl`", () => {
    expect(fake.state.exposed.map((e) => e.name)).toEqual(['studio']);
    expect(Object.keys(api).sort()).toEqual([...PAGE_METHODS, 'on', 'imageUrl'].sort());
    // No local-only method (they name files), under its name or its channel's.
    for (const method of LOCAL_ONLY_METHODS) {
      expect(api[method], method).toBeUndefined();
      expect(Object.values(api).includes(`studio:${method}`), method).toBe(false);
    }
    for (const key of Object.keys(api)) expect(typeof api[key], key).toBe('function');
  });

  it('maps each method to its own channel and nothing else, and rejects with the plain error', async () => {
    fake.state.invoked.length = 0;
    for (const method of PAGE_METHODS) {
      const value = await (api[method] as (args: unknown) => Promise<unknown>)({ probe: method });
      expect(value).toEqual({ channel: `studio:${method}`, args: { probe: method } });
    }
    expect(fake.state.invoked.map((c) => c.channel)).toEqual(
      PAGE_METHODS.map((method) => `studio:${method}`),
    );
    const previous = fake.state.reply;
    fake.state.reply = () => ({ ok: false, error: { code: 'not_found', message: 'no pair 9' } });
    try {
      await expect((api.getPair as (a: unknown) => Promise<unknown>)({})).rejects.toEqual({
        code: 'not_found',
        message: 'no pair 9',
      });
    } finally {
      fake.state.reply = previous;
    }
  });

  it('lets the page subscribe to contract events only, and hands it the payload alone', () => {
    expect(() => api.on('studio:getStats', () => {})).toThrow(/unknown event/);
    expect(() => api.on('__proto__', () => {})).toThrow(/unknown event/);
    for (const event of STUDIO_EVENTS) {
      const seen: unknown[] = [];
      const off = api.on(event, (...args: unknown[]) => seen.push(args));
      const listeners = fake.state.rendererListeners.get(`studio:event:${event}`)!;
      expect(listeners.size).toBe(1);
      for (const listener of listeners) listener({ sender: 'the IPC event' }, { done: 1 });
      expect(seen).toEqual([[{ done: 1 }]]);
      off();
      expect(listeners.size).toBe(0);
    }
    // Nothing but the contract's event channels was ever listened to.
    expect([...fake.state.rendererListeners.keys()]).toEqual(
      STUDIO_EVENTS.map((event) => `studio:event:${event}`),
    );
  });

  it('builds image URLs that keep the uid one path segment', async () => {
    const { uidFromImageUrl } = await import('../../electron/main/channels');
    for (const uid of ['abc', '../../etc/passwd', '/etc/passwd', 'a/b', 'x?y#z', '%2e%2e']) {
      const url = api.imageUrl(uid);
      expect(url.startsWith('pickstudio-image://image/'), uid).toBe(true);
      expect(new URL(url).pathname.split('/'), uid).toHaveLength(2);
      expect(uidFromImageUrl(url), uid).toBe(uid);
    }
    for (const url of [
      'pickstudio-image://other/abc',
      'pickstudio-image://image/a/b',
      'pickstudio-image://image/',
      'pickstudio-image://image/%E0%A4%A',
      'file:///etc/passwd',
      'https://image/abc',
    ]) {
      expect(uidFromImageUrl(url), url).toBeNull();
    }
  });
});

describe('Electron main: window, IPC, image protocol (fake electron)', () => {
  let dir: string;
  let win: FakeWindow;
  let uids: string[];
  const argv = process.argv;

  beforeAll(async () => {
    dir = tempDir('pickstudio-security-');
    const made = await makeProject(dir);
    uids = made.uids;
    fake.state.userData = path.join(dir, 'user-data');
    fake.state.appPath = process.cwd();
    // electron/main reads the project to open from argv, after the app path.
    process.argv = [argv[0]!, 'app', made.file];
    vi.resetModules();
    await import('../../electron/main/index');
    await vi.waitFor(() => expect(fake.state.windows[0]?.loadedUrl).toBeDefined(), {
      timeout: 30_000,
    });
    win = fake.state.windows[0]!;
    // What Chromium reports as the main frame's URL once the page is loaded.
    win.webContents.mainFrame.url = win.loadedUrl!;
  }, 60_000);

  afterAll(() => {
    process.argv = argv;
    for (const listener of fake.state.appListeners.get('will-quit') ?? []) listener();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('started without an error box', () => {
    expect(fake.state.errors).toEqual([]);
  });

  it('sandboxes every renderer before the window exists, and isolates the window', () => {
    expect(fake.state.sandboxEnabledBeforeWindow).toBe(true);
    expect(fake.state.windows).toHaveLength(1);
    const prefs = win.options.webPreferences as Record<string, unknown>;
    expect(prefs).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    });
    for (const risky of [
      'nodeIntegrationInSubFrames',
      'nodeIntegrationInWorker',
      'allowRunningInsecureContent',
      'experimentalFeatures',
      'enableBlinkFeatures',
      'webviewTag',
    ]) {
      expect(prefs[risky], risky).toBeFalsy();
    }
    expect(String(prefs.preload)).toMatch(/preload[\\/]index\.cjs$/);
    // From the app's own scheme, never file:// (Electron's security checklist, item 18).
    expect(win.loadedFile).toBeUndefined();
    expect(win.loadedUrl).toBe('pickstudio-app://app/index.html');
  });

  it('refuses every navigation, every new window and every webview', () => {
    const appUrl = win.webContents.mainFrame.url;
    for (const name of ['will-navigate', 'will-attach-webview']) {
      const listeners = win.webContents.listeners.get(name) ?? [];
      expect(listeners.length, name).toBeGreaterThan(0);
      for (const url of ['https://evil.example/', 'file:///etc/passwd', appUrl]) {
        const event: NavigationEvent = {
          defaultPrevented: false,
          preventDefault() {
            this.defaultPrevented = true;
          },
        };
        for (const listener of listeners) listener(event, url);
        expect(event.defaultPrevented, `${name} ${url}`).toBe(true);
      }
    }
    for (const url of ['https://evil.example/', appUrl, 'about:blank']) {
      expect(win.webContents.windowOpenHandler?.({ url }), url).toEqual({ action: 'deny' });
    }
  });

  it('grants no permission', () => {
    const answers: boolean[] = [];
    for (const permission of [
      'media',
      'geolocation',
      'notifications',
      'clipboard-read',
      'openExternal',
    ]) {
      fake.state.permissionRequest?.({}, permission, (granted: boolean) => answers.push(granted));
      expect(fake.state.permissionCheck?.({}, permission), permission).toBe(false);
    }
    expect(answers).toEqual([false, false, false, false, false]);
  });

  it("registers exactly the page's channels: none for a local-only method", () => {
    expect([...fake.state.handlers.keys()].sort()).toEqual(
      PAGE_METHODS.map((method) => `studio:${method}`).sort(),
    );
    for (const method of LOCAL_ONLY_METHODS) {
      expect(fake.state.handlers.has(`studio:${method}`), method).toBe(false);
    }
  });

  it('answers only the main frame of its window showing its own page', async () => {
    const handler = fake.state.handlers.get('studio:getStats')!;
    const { processId, routingId, url } = win.webContents.mainFrame;
    const event = (frame: Partial<typeof win.webContents.mainFrame> | null, senderId = 11) => ({
      sender: { id: senderId },
      senderFrame: frame === null ? null : { processId, routingId, url, ...frame },
    });
    const refused = [
      event({}, 99), // another window's contents
      event({ routingId: routingId + 1 }), // a subframe
      event({ processId: processId + 1 }),
      event({ url: 'https://evil.example/' }), // the main frame, navigated elsewhere
      event({ url: pathToFileURL('/etc/passwd').href }),
      event({ url: pathToFileURL(path.join(dir, 'index.html')).href }),
      // The built page itself, opened as a file rather than from the app's scheme.
      event({ url: pathToFileURL(path.join(process.cwd(), 'out', 'renderer', 'index.html')).href }),
      event({ url: 'pickstudio-app://app/other.html' }), // another page of the scheme
      event({ url: 'pickstudio-app://evil/index.html' }), // another host
      event({ url: 'pickstudio-image://app/index.html' }),
      event(null), // a frame already gone
    ];
    for (const e of refused) {
      await expect(Promise.resolve(handler(e, {})), JSON.stringify(e)).rejects.toThrow(/refused/);
    }
    const accepted = (await handler(event({}), {})) as {
      ok: boolean;
      value: { counts: { pairs: number } };
    };
    expect(accepted.ok).toBe(true);
    expect(accepted.value.counts.pairs).toBe(2);
    // Arguments are still checked behind the sender check.
    const bad = (await handler(event({}), { extra: 1 })) as {
      ok: boolean;
      error: { code: string };
    };
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
  });

  it('registers the app and image schemes, in one call, without bypassing the CSP or CORS, nor service workers', () => {
    // A second call would replace the first's schemes rather than add to them.
    expect(fake.state.privilegedCalls).toBe(1);
    const schemes = fake.state.privilegedSchemes as {
      scheme: string;
      privileges: Record<string, boolean>;
    }[];
    expect(schemes.map((s) => s.scheme)).toEqual(['pickstudio-app', 'pickstudio-image']);
    for (const { scheme, privileges } of schemes) {
      expect(privileges, scheme).toMatchObject({ standard: true, secure: true });
      for (const risky of ['bypassCSP', 'corsEnabled', 'allowServiceWorkers', 'stream']) {
        expect(privileges[risky], `${scheme} ${risky}`).toBeFalsy();
      }
    }
    expect([...fake.state.protocolHandlers.keys()].sort()).toEqual([
      'pickstudio-app',
      'pickstudio-image',
    ]);
  });

  it('serves images by uid only: paths, other hosts and nested paths find nothing', async () => {
    const handler = fake.state.protocolHandlers.get('pickstudio-image')!;
    const get = async (url: string) => (await handler({ url })) as Response;
    const ok = await get(`pickstudio-image://image/${encodeURIComponent(uids[0]!)}`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('image/jpeg');
    expect(ok.headers.get('x-content-type-options')).toBe('nosniff');
    // Another project opened in the window may hold other bytes under the same uid.
    expect(ok.headers.get('cache-control')).toBe('private, no-cache');
    fs.writeFileSync(path.join(dir, 'secret.txt'), SECRET);
    for (const url of [
      `pickstudio-image://image/${encodeURIComponent(path.join(dir, 'secret.txt'))}`,
      `pickstudio-image://image/${encodeURIComponent(path.join(dir, 'img-0a.jpg'))}`,
      `pickstudio-image://image/${encodeURIComponent('../secret.txt')}`,
      'pickstudio-image://image/..%2F..%2Fsecret.txt',
      `pickstudio-image://other/${encodeURIComponent(uids[0]!)}`,
      `pickstudio-image://image/${encodeURIComponent(uids[0]!)}/x`,
      'pickstudio-image://image/%E0%A4%A',
      `file://${path.join(dir, 'secret.txt')}`,
    ]) {
      const res = await get(url);
      expect(res.status, url).toBe(404);
      expect(await res.text(), url).not.toContain(SECRET);
    }
  });
});

describe('the pickstudio command: text from files never drives the terminal', () => {
  /** Clear the screen, set the window title, a C1 CSI (red), a carriage return, a bell. */
  const HOSTILE = '\x1b[2J\x1b]0;owned\x07\x9b31m\rname';
  const SPELT = '\\u001b[2J\\u001b]0;owned\\u0007\\u009b31m\\u000dname';
  // eslint-disable-next-line no-control-regex
  const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

  it('spells out control characters from annotator and generator names in stats and from file names in errors; JSON keeps them', async () => {
    const folder = tempDir('pickstudio-security-');
    fs.writeFileSync(path.join(folder, 'a.jpg'), await makeJpeg(1));
    fs.writeFileSync(path.join(folder, 'b.jpg'), await makeJpeg(2));
    const manifest = path.join(folder, 'pairs.jsonl');
    fs.writeFileSync(
      manifest,
      JSON.stringify({
        prompt: `a cat ${HOSTILE}`,
        image_0: 'a.jpg',
        image_1: 'b.jpg',
        label: 0,
        annotator: `ann ${HOSTILE}`,
        model_0: `gen ${HOSTILE}`,
        model_1: 'plain',
      }),
    );
    const file = path.join(folder, 'p.pickstudio');
    const imported = await runPickstudio(['import', file, manifest, '--create']);
    expect(imported.code, imported.stderr).toBe(0);

    const stats = await runPickstudio(['stats', file, '--resamples', '0']);
    expect(stats.code, stats.stderr).toBe(0);
    expect(stats.stdout).not.toMatch(CONTROL);
    expect(stats.stdout).toContain(`ann ${SPELT}`);
    expect(stats.stdout).toContain(`gen ${SPELT}`);

    const json = await runPickstudio(['stats', file, '--resamples', '0', '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(json.stdout).not.toMatch(CONTROL);
    const parsed = JSON.parse(json.stdout) as {
      audit: { dashboard: { annotators: { annotator: string }[] } };
    };
    expect(parsed.audit.dashboard.annotators.map((a) => a.annotator)).toEqual([`ann ${HOSTILE}`]);

    const badName = path.join(folder, `evil${HOSTILE}.jsonl`);
    fs.writeFileSync(badName, '{"prompt": "x"}');
    const before = projectDigest(file);
    const refused = await runPickstudio(['import', file, badName]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).not.toMatch(CONTROL);
    expect(refused.stderr).toContain(`evil${SPELT}.jsonl row 1: missing image_0, image_1`);
    expect(projectDigest(file)).toBe(before);
  }, 120_000);
});
