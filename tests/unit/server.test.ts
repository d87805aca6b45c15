import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import readline from 'node:readline';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ProjectSettings, StudioEventName, StudioEvents } from '../../shared/api';
import type { StudioError } from '../../shared/errors';
import { isLoopbackAddress } from '../../electron/server/auth';
import { startServer, type RunningServer } from '../../electron/server/server';
import { makeJpeg, openTestProject, projectDigest, tempDir } from '../helpers/project';

const BIN = path.resolve('bin/pickstudio.js');
const SECRET = 'TOP SECRET, outside the renderer folder';

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** Plain http.request: unlike fetch, it sends the path and Host header exactly as written. */
function raw(
  port: number,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    for (const [name, value] of Object.entries(options.headers ?? {})) req.setHeader(name, value);
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A manifest of `pairs` pairs whose images are files beside it; returns its path. */
async function writeManifest(dir: string, name: string, pairs: number, seed = 0): Promise<string> {
  const lines: string[] = [];
  for (let i = 0; i < pairs; i++) {
    fs.writeFileSync(path.join(dir, `${name}-${i}a.jpg`), await makeJpeg(seed + 2 * i));
    fs.writeFileSync(path.join(dir, `${name}-${i}b.jpg`), await makeJpeg(seed + 2 * i + 1));
    lines.push(
      JSON.stringify({
        prompt: `${name} ${i}`,
        image_0: `${name}-${i}a.jpg`,
        image_1: `${name}-${i}b.jpg`,
      }),
    );
  }
  const manifest = path.join(dir, `${name}.jsonl`);
  fs.writeFileSync(manifest, lines.join('\n'));
  return manifest;
}

let dir: string;
let project: string;
let rendererDir: string;
let server: RunningServer;
let base: string;
let auth: Record<string, string>;

beforeEach(async () => {
  dir = tempDir();
  project = path.join(dir, 'p.pickstudio');
  const opened = openTestProject(project);
  await opened.call('importSources', { sources: [await writeManifest(dir, 'first', 2)] });
  opened.store.close();

  rendererDir = path.join(dir, 'renderer');
  fs.mkdirSync(path.join(rendererDir, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>studio</title>');
  fs.writeFileSync(path.join(rendererDir, 'assets', 'app.js'), 'console.log("app");');
  fs.writeFileSync(path.join(dir, 'secret.txt'), SECRET);
  fs.symlinkSync(path.join(dir, 'secret.txt'), path.join(rendererDir, 'leak.txt'));

  server = await startServer({ file: project, port: 0, rendererDir });
  base = `http://127.0.0.1:${server.port}`;
  auth = { authorization: `Bearer ${server.token}` };
});

afterEach(async () => {
  await server.close();
});

/** Logs in as a browser does: the session's secret path (the cookie's Path) and the cookie. */
async function loginAsBrowser(): Promise<{ scope: string; cookie: string }> {
  const res = await fetch(server.url, { redirect: 'manual' });
  expect(res.status).toBe(303);
  return {
    scope: res.headers.get('location')!,
    cookie: res.headers.get('set-cookie')!.split(';')[0]!,
  };
}

const callApi = (method: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}/api/call/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth, ...headers },
    body: JSON.stringify(body),
  });

/** How long a test waits on the event stream for an event before failing. */
const EVENT_WAIT_MS = 20_000;

/** The SSE stream, as a page opens it. */
async function openEvents(): Promise<Response> {
  const stream = await fetch(`${base}/api/events`, {
    headers: auth,
    signal: AbortSignal.timeout(EVENT_WAIT_MS),
  });
  expect(stream.status).toBe(200);
  expect(stream.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
  return stream;
}

/** The stream's `event` messages, in order, up to the first that `isLast` holds; then it closes. */
async function readEvents<E extends StudioEventName>(
  stream: Response,
  event: E,
  isLast: (payload: StudioEvents[E]) => boolean,
): Promise<StudioEvents[E][]> {
  const payloads: StudioEvents[E][] = [];
  const decoder = new TextDecoder();
  let buffered = '';
  try {
    for await (const chunk of stream.body!) {
      buffered += decoder.decode(chunk as Uint8Array, { stream: true });
      let end: number;
      while ((end = buffered.indexOf('\n\n')) !== -1) {
        const message = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const [name, data] = /^event: (.*)\ndata: (.*)$/.exec(message)?.slice(1) ?? [];
        if (name !== event || data === undefined) continue;
        const payload = JSON.parse(data) as StudioEvents[E];
        payloads.push(payload);
        if (isLast(payload)) return payloads;
      }
    }
  } catch (error) {
    if ((error as Error).name !== 'TimeoutError') throw error;
    throw new Error(`no ${event} event awaited within ${EVENT_WAIT_MS} ms`, { cause: error });
  }
  throw new Error(`the event stream ended before the ${event} event awaited`);
}

describe('pickstudio serve: who gets in', () => {
  it('prints a loopback URL with a fresh 32-character token', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
    expect(server.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('refuses a request without a token, or with a wrong one, on every route', async () => {
    for (const route of ['/', '/assets/app.js', '/api/events', '/api/images/x']) {
      const none = await fetch(base + route);
      expect(none.status, route).toBe(403);
      expect(none.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
      const wrong = await fetch(base + route, { headers: { authorization: 'Bearer nope' } });
      expect(wrong.status, route).toBe(403);
    }
    expect((await fetch(`${base}/?token=${'x'.repeat(32)}`, { redirect: 'manual' })).status).toBe(
      403,
    );
    const noToken = await callApi('getStats', {}, { authorization: '' });
    expect(noToken.status).toBe(403);
    const { scope } = await loginAsBrowser();
    for (const route of ['', 'assets/app.js', 'api/events']) {
      expect((await fetch(base + scope + route)).status, scope + route).toBe(403);
      const wrongCookie = await fetch(base + scope + route, {
        headers: { cookie: `pickstudio_token=${'a'.repeat(32)}` },
      });
      expect(wrongCookie.status, scope + route).toBe(403);
    }
  });

  it('trades the token in the URL for a cookie scoped to a secret path, and a redirect there without it', async () => {
    const login = await fetch(`${server.url}&view=label`, { redirect: 'manual' });
    expect(login.status).toBe(303);
    const location = login.headers.get('location')!;
    const scope = /^(\/[A-Za-z0-9_-]{22}\/)\?view=label$/.exec(location)?.[1];
    expect(scope, location).toBeDefined();
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).toBe(
      `pickstudio_token=${server.token}; Path=${scope}; HttpOnly; SameSite=Strict`,
    );
    const nameValue = cookie.split(';')[0]!;

    const page = await fetch(`${base}${location}`, { headers: { cookie: nameValue } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('<title>studio</title>');
    const asset = await fetch(`${base}${scope}assets/app.js`, { headers: { cookie: nameValue } });
    expect(asset.status).toBe(200);
    const stats = await fetch(`${base}${scope}api/call/getStats`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: nameValue },
      body: '{}',
    });
    expect(stats.status).toBe(200);

    // Outside its Path the browser does not send the cookie, and the server does not take it.
    expect((await fetch(`${base}/`, { headers: { cookie: nameValue } })).status).toBe(403);
    expect((await callApi('getStats', {}, { authorization: '', cookie: nameValue })).status).toBe(
      403,
    );

    // A second login from the session's own page stays there, rather than nesting the path.
    const again = await raw(server.port, { path: `${scope}?token=${server.token}` });
    expect(again.headers.location).toBe(scope);
    // '//elsewhere' as a Location would be another host's URL.
    const sneaky = await raw(server.port, { path: `//evil.example/x?token=${server.token}` });
    expect(sneaky.status).toBe(303);
    expect(sneaky.headers.location).toBe(`${scope}evil.example/x`);
  });

  it('counts only 127.0.0.0/8 and ::1 (also IPv4-mapped) as this computer', () => {
    for (const address of ['127.0.0.1', '127.200.3.4', '::1', '::ffff:127.0.0.1']) {
      expect(isLoopbackAddress(address), address).toBe(true);
    }
    for (const address of [
      undefined,
      '',
      '10.0.0.1',
      '128.0.0.1',
      '0.0.0.0',
      '::',
      '::ffff:10.0.0.1',
      '::ffff:7f00:1',
      'fe80::1',
      '127.0.0.1.evil.example',
    ]) {
      expect(isLoopbackAddress(address), String(address)).toBe(false);
    }
  });

  it('refuses a foreign Host header (DNS rebinding) and accepts localhost', async () => {
    for (const host of [
      `evil.example:${server.port}`,
      '127.0.0.1',
      `127.0.0.1:${server.port + 1}`,
    ]) {
      const res = await raw(server.port, { path: '/', headers: { host, ...auth } });
      expect(res.status, host).toBe(403);
      expect(res.body.toString()).toMatch(/Host/);
    }
    const local = await raw(server.port, {
      path: '/',
      headers: { host: `localhost:${server.port}`, ...auth },
    });
    expect(local.status).toBe(200);
  });

  it('refuses a call from a foreign Origin, and one without a JSON content type', async () => {
    const foreign = await callApi('getStats', {}, { origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    const nullOrigin = await callApi('getStats', {}, { origin: 'null' });
    expect(nullOrigin.status).toBe(403);
    const sameOrigin = await callApi('getStats', {}, { origin: base });
    expect(sameOrigin.status).toBe(200);

    // What a cross-site <form> could send without a preflight.
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data']) {
      const res = await fetch(`${base}/api/call/recordDecision`, {
        method: 'POST',
        headers: { 'content-type': type, ...auth },
        body: '{}',
      });
      expect(res.status, type).toBe(415);
      expect(((await res.json()) as { ok: boolean }).ok).toBe(false);
    }
  });
});

describe('pickstudio serve: the API', () => {
  it('answers calls through the dispatcher, in the IPC envelope', async () => {
    const res = await callApi('getStats', {});
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as { ok: true; value: { counts: { pairs: number } } };
    expect(body.ok).toBe(true);
    expect(body.value.counts.pairs).toBe(2);
  });

  it('refuses unknown methods, wrong argument types and unknown fields', async () => {
    const unknown = await callApi('unknownMethod', {});
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({
      ok: false,
      error: { code: 'unknown_method', message: 'unknown method "unknownMethod"' },
    });
    for (const name of ['constructor', '__proto__', 'readImage']) {
      const res = await callApi(name, {});
      expect(((await res.json()) as { error: { code: string } }).error.code, name).toBe(
        'unknown_method',
      );
    }

    for (const args of [{ limit: 'ten' }, { offset: -1 }, { limit: 5, extra: true }, [1, 2]]) {
      const res = await callApi('listPairs', args);
      expect(res.status).toBe(400);
      const body = (await res.json()) as { ok: boolean; error: { code: string } };
      expect(body.ok).toBe(false);
      expect(body.error.code).toBe('invalid_argument');
    }

    const notJson = await fetch(`${base}/api/call/getStats`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: '{"unterminated',
    });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { code: string } }).error.code).toBe(
      'invalid_argument',
    );
  });

  it('refuses a body over 1 MB, and a GET to a call', async () => {
    const big = await callApi('getStats', { annotator: 'x'.repeat(1024 * 1024) });
    expect(big.status).toBe(413);
    const get = await fetch(`${base}/api/call/getStats`, { headers: auth });
    expect(get.status).toBe(405);
  });

  it('streams progress events over SSE while an import runs', async () => {
    const stream = await openEvents();
    const reading = readEvents(stream, 'progress', (progress) => progress.state !== 'running');

    const manifest = await writeManifest(dir, 'second', 3, 100);
    // The page may not name files: the import comes from a local door of the same process.
    await server.studio.call('importSources', { sources: [manifest], taskId: 'import-1' });
    const events = await reading;

    expect(events[0]).toMatchObject({ taskId: 'import-1', kind: 'import', state: 'running' });
    expect(events.at(-1)).toMatchObject({ taskId: 'import-1', state: 'done', done: 3, total: 3 });
  });

  it('sends every open stream the settings a setSettings call saved', async () => {
    const pages = await Promise.all([openEvents(), openEvents()]);
    const received = pages.map((stream) => readEvents(stream, 'settings', () => true));

    const res = await callApi('setSettings', { suggestionMode: 'before', tieThreshold: 0.25 });
    const reply = (await res.json()) as { ok: boolean; value: ProjectSettings };
    expect(reply.ok).toBe(true);
    expect(reply.value).toMatchObject({ suggestionMode: 'before', tieThreshold: 0.25 });

    for (const events of await Promise.all(received)) expect(events).toEqual([reply.value]);
  });

  it('serves an image by uid, and 404s an unknown uid or a path in its place', async () => {
    const pairs = (await (await callApi('listPairs', {})).json()) as {
      value: { image0Uid: string }[];
    };
    const uid = pairs.value[0]!.image0Uid;
    const image = await fetch(`${base}/api/images/${encodeURIComponent(uid)}`, { headers: auth });
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/jpeg');
    expect(image.headers.get('cache-control')).toBe('private, no-cache');
    const bytes = Buffer.from(await image.arrayBuffer());
    expect(bytes.equals(fs.readFileSync(path.join(dir, 'first-0a.jpg')))).toBe(true);

    for (const route of [
      '/api/images/no-such-uid',
      `/api/images/${encodeURIComponent('../secret.txt')}`,
      `/api/images/${encodeURIComponent(path.join(dir, 'secret.txt'))}`,
      `/api/images/${encodeURIComponent(path.join(dir, 'first-0a.jpg'))}`,
      '/api/images/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/api/images/%E0%A4%A',
    ]) {
      const res = await raw(server.port, { path: route, headers: auth });
      expect(res.status, route).toBe(404);
      expect(res.body.toString()).not.toContain(SECRET);
    }
  });
});

describe('pickstudio serve: static files', () => {
  it('serves the renderer with its content types, and index.html for app paths', async () => {
    const script = await fetch(`${base}/assets/app.js`, { headers: auth });
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('x-content-type-options')).toBe('nosniff');
    expect(script.headers.get('referrer-policy')).toBe('no-referrer');
    expect(script.headers.get('content-security-policy')).toBe(
      "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    );
    const page = await fetch(`${base}/label/42`, { headers: auth });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>studio</title>');
    expect((await fetch(`${base}/assets/missing.js`, { headers: auth })).status).toBe(404);
  });

  it('serves no file outside the renderer folder, by .. or by symlink', async () => {
    for (const route of [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e%2fsecret.txt',
      '/%2e%2e/secret.txt',
      '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/..%5csecret.txt',
      `/${encodeURIComponent(path.join(dir, 'secret.txt'))}`,
      '/leak.txt',
      '/secret.txt%00.html',
      '/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    ]) {
      const res = await raw(server.port, { path: route, headers: auth });
      expect(res.status, route).toBe(404);
      expect(res.body.toString(), route).not.toContain(SECRET);
    }
  });
});

describe('pickstudio serve: shutting down', () => {
  it('close() ends event streams and closes the project cleanly', async () => {
    const stream = await fetch(`${base}/api/events`, { headers: auth });
    const ended = (async () => {
      for await (const chunk of stream.body!) void chunk;
    })();
    await server.close();
    await ended;
    await expect(fetch(base, { headers: auth })).rejects.toThrow();
    expect(fs.existsSync(`${project}-wal`)).toBe(false);
    const db = new Database(project, { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
  });

  it('close() during an import cancels it, answers the call, and still closes cleanly', async () => {
    // Row HELD's image is a named pipe: the import opens it and then waits for its bytes, which
    // the test writes only once close() has been called. So the import is provably in progress
    // (it opened a file it reaches only after the rows before it) and cannot finish first.
    const HELD = 100;
    fs.writeFileSync(path.join(dir, 'x.jpg'), await makeJpeg(7));
    fs.writeFileSync(path.join(dir, 'y.jpg'), await makeJpeg(8));
    const fifo = path.join(dir, 'held.jpg');
    const mkfifo = spawnSync('mkfifo', [fifo]);
    expect(mkfifo.status, String(mkfifo.stderr)).toBe(0);
    const rows = Array.from({ length: 5000 }, (_, i) =>
      JSON.stringify({
        prompt: `many ${i}`,
        image_0: i === HELD ? 'held.jpg' : 'x.jpg',
        image_1: 'y.jpg',
      }),
    );
    fs.writeFileSync(path.join(dir, 'many.jsonl'), rows.join('\n'));
    const before = projectDigest(project);

    // Every progress event the stream gets until close() ends it.
    const stream = await openEvents();
    const progress = (async () => {
      const events: StudioEvents['progress'][] = [];
      let text = '';
      for await (const chunk of stream.body!) text += Buffer.from(chunk as Uint8Array).toString();
      for (const [, data] of text.matchAll(/^event: progress\ndata: (.*)$/gm)) {
        events.push(JSON.parse(data!) as StudioEvents['progress']);
      }
      return events;
    })();
    const held = await makeJpeg(9);
    // A local door of the same process (the page may not name files), as `serve`'s own would.
    const importing = server.studio
      .call('importSources', { sources: [path.join(dir, 'many.jsonl')] })
      .then(
        () => ({ ok: true }) as { ok: boolean; error?: { code: string; message: string } },
        (error: StudioError) => ({
          ok: false,
          error: { code: error.code, message: error.message },
        }),
      );
    // Opening a pipe for writing waits for its reader: the import, at row HELD.
    const opening = fs.promises.open(fifo, 'w');
    const first = await Promise.race([opening, importing]);
    if (!('writeFile' in first)) {
      // The import answered without reading the pipe: let the open return, then say what came.
      fs.closeSync(fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK));
      await (await opening).close();
      throw new Error(`the import answered before reading row ${HELD}: ${JSON.stringify(first)}`);
    }
    const closing = server.close();
    try {
      await first.writeFile(held);
    } finally {
      await first.close();
    }
    await closing;

    const reply = await importing;
    expect(reply).toMatchObject({
      ok: false,
      error: { code: 'cancelled', message: 'import cancelled' },
    });
    // What the stream told before close() ended it: an import running, with rows left.
    const events = await progress;
    expect(events.length).toBeGreaterThan(0);
    for (const event of events) {
      expect(event).toMatchObject({ kind: 'import', state: 'running' });
      expect(event.done).toBeLessThan(5000);
    }

    expect(fs.existsSync(`${project}-wal`)).toBe(false);
    const db = new Database(project, { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect((db.prepare('SELECT count(*) AS n FROM pairs').get() as { n: number }).n).toBe(2);
    } finally {
      db.close();
    }
    // Nothing of the import, everything from before: the same rows in every table.
    expect(projectDigest(project)).toBe(before);
    expect(fs.readdirSync(dir).filter((name) => name.includes('.import-'))).toEqual([]);
  });
});

describe('pickstudio serve (the command)', () => {
  it('prints the URL line, lets in only the token, and exits 0 on SIGTERM with the file closed', async () => {
    // The in-process server would otherwise hold the file open (and its -wal) beside the command.
    await server.close();
    const child = spawn(process.execPath, [BIN, 'serve', project, '--port', '0', '--no-open'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const lines = readline.createInterface({ input: child.stdout });
    const [line] = (await Promise.race([
      new Promise((resolve) => lines.once('line', (first: string) => resolve([first]))),
      exited.then((code) => {
        throw new Error(`serve exited with ${code}: ${stderr}`);
      }),
    ])) as [string];

    const match =
      /^Pick Studio is serving (.+) at (http:\/\/127\.0\.0\.1:(\d+)\/\?token=(\S+))$/.exec(line);
    expect(match, line).not.toBeNull();
    const [, shown, url, port] = match!;
    expect(shown).toBe(project);
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(403);
    const login = await fetch(url!, { redirect: 'manual' });
    expect(login.status).toBe(303);
    const page = await fetch(new URL(login.headers.get('location')!, url), {
      headers: { cookie: login.headers.get('set-cookie')!.split(';')[0]! },
    });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');

    child.kill('SIGTERM');
    expect(await exited, stderr).toBe(0);
    expect(fs.existsSync(`${project}-wal`)).toBe(false);
    const db = new Database(project, { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
  }, 180_000);

  it('refuses a project that does not exist with a one-line reason', async () => {
    const child = spawn(process.execPath, [BIN, 'serve', path.join(dir, 'none.pickstudio')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([
      `pickstudio: ${path.join(dir, 'none.pickstudio')}: no such project file; create one with 'pickstudio demo' or 'pickstudio import --create'`,
    ]);
  });
});
