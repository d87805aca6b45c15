/**
 * Browser mode against other local users and slow or stale clients: the token never goes on a
 * command line (the browser is opened through a page only the user can read), a client that
 * trickles its request is cut off, and images are revalidated rather than cached for a year.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../electron/core/io/images';
import { openInBrowser, type Desktop } from '../../electron/server/launch';
import { startServer, type RunningServer } from '../../electron/server/server';
import { BIN } from '../helpers/cli';
import { makeJpeg, openTestProject, tempDir } from '../helpers/project';

let dir: string;
let server: RunningServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A project of one pair whose images are files beside its manifest; returns the first uid. */
async function makeProject(image0: Buffer): Promise<{ file: string; uid: string }> {
  fs.writeFileSync(path.join(dir, 'a.jpg'), image0);
  fs.writeFileSync(path.join(dir, 'b.jpg'), await makeJpeg(2));
  fs.writeFileSync(
    path.join(dir, 'pairs.jsonl'),
    JSON.stringify({ prompt: 'p', image_0: 'a.jpg', image_1: 'b.jpg' }),
  );
  const file = path.join(dir, 'p.pickstudio');
  const opened = openTestProject(file);
  try {
    await opened.call('importSources', { sources: [path.join(dir, 'pairs.jsonl')] });
    return { file, uid: (await opened.call('listPairs', {}))[0]!.image0Uid };
  } finally {
    opened.store.close();
  }
}

function makeRendererDir(): string {
  const rendererDir = path.join(dir, 'renderer');
  fs.mkdirSync(rendererDir, { recursive: true });
  fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>studio</title>');
  return rendererDir;
}

const mode = (file: string): number => fs.statSync(file).mode & 0o777;

describe('opening the browser never puts the token on a command line', () => {
  const url = 'http://127.0.0.1:4321/?token=SECRET-token_0123456789abcdefghij';

  it('starts the opener with a private redirect page, on each desktop', () => {
    dir = tempDir();
    for (const [platform, command] of [
      ['linux', 'xdg-open'],
      ['darwin', 'open'],
      ['win32', 'rundll32'],
    ] as const) {
      const started: string[][] = [];
      const desktop: Desktop = {
        platform,
        env: { DISPLAY: ':0' },
        start: (name, args) => started.push([name, ...args]),
      };
      const page = openInBrowser(url, desktop)!;
      expect(started, platform).toHaveLength(1);
      expect(started[0]![0]).toBe(command);
      expect(started[0]!.at(-1)).toBe(page.file);
      expect(started[0]!.join(' '), platform).not.toContain('SECRET');

      expect(mode(page.file)).toBe(0o600);
      expect(mode(path.dirname(page.file))).toBe(0o700);
      const html = fs.readFileSync(page.file, 'utf8');
      expect(html).toContain(`<meta http-equiv="refresh" content="0;url=${url}">`);
      page.remove();
      expect(fs.existsSync(path.dirname(page.file))).toBe(false);
    }
  });

  it('writes nothing and starts nothing without a desktop', () => {
    const started: string[][] = [];
    const page = openInBrowser(url, {
      platform: 'linux',
      env: {},
      start: (name, args) => started.push([name, ...args]),
    });
    expect(page).toBeNull();
    expect(started).toEqual([]);
  });

  it('pickstudio serve: xdg-open gets a 0600 page holding the URL, removed at shutdown', async () => {
    dir = tempDir();
    const { file } = await makeProject(await makeJpeg(1));
    // A stand-in xdg-open that records what `ps` would show, and what the page it got holds.
    const bin = path.join(dir, 'bin');
    const log = path.join(dir, 'xdg-open.log');
    fs.mkdirSync(bin);
    fs.writeFileSync(
      path.join(bin, 'xdg-open'),
      `#!/bin/sh\n{ echo "argv: $*"; stat -c 'modes: %a' "$(dirname "$1")" "$1"; cat "$1"; } > "${log}.part"\nmv "${log}.part" "${log}"\n`,
      { mode: 0o755 },
    );
    const tmp = path.join(dir, 'tmp');
    fs.mkdirSync(tmp);
    const child = spawn(process.execPath, [BIN, 'serve', file, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, DISPLAY: ':0', TMPDIR: tmp },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const lines = readline.createInterface({ input: child.stdout });
    const line = await Promise.race([
      new Promise<string>((resolve) => lines.once('line', resolve)),
      exited.then((code) => {
        throw new Error(`serve exited with ${code}: ${stderr}`);
      }),
    ]);
    // The user's own terminal still shows the URL.
    const url = /^Pick Studio is serving .+ at (http:\S+\?token=(\S+))$/.exec(line);
    expect(url, line).not.toBeNull();
    const [, shown, token] = url!;

    for (let i = 0; i < 300 && !fs.existsSync(log); i++) await delay(100);
    const recorded = fs.readFileSync(log, 'utf8');
    const argv = /^argv: (.*)$/m.exec(recorded)![1]!;
    expect(argv).toMatch(new RegExp(`^${tmp}/pickstudio-open-[^/ ]+/open\\.html$`));
    expect(argv).not.toContain(token!);
    expect([...recorded.matchAll(/^modes: (\d+)$/gm)].map((m) => m[1])).toEqual(['700', '600']);
    expect(recorded).toContain(`<meta http-equiv="refresh" content="0;url=${shown!}">`);

    child.kill('SIGTERM');
    expect(await exited, stderr).toBe(0);
    // (tsx keeps its cache in TMPDIR too.)
    expect(fs.readdirSync(tmp).filter((name) => name.startsWith('pickstudio-open-'))).toEqual([]);
  }, 180_000);
});

/**
 * Sends `start`, then `drip` every 200 ms until the server closes the socket; resolves with how
 * long that took and what the server answered, or with null if it is still open after `giveUpMs`.
 */
function trickle(
  port: number,
  start: string,
  drip: string,
  giveUpMs: number,
): Promise<{ ms: number; answer: string } | null> {
  return new Promise((resolve) => {
    const began = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    const timer = setInterval(() => socket.write(drip), 200);
    const giveUp = setTimeout(() => finish(null), giveUpMs);
    function finish(result: { ms: number; answer: string } | null): void {
      clearInterval(timer);
      clearTimeout(giveUp);
      socket.destroy();
      resolve(result);
    }
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('close', () => finish({ ms: Date.now() - began, answer }));
    // A write racing the server's close may fail; the close is what counts.
    socket.on('error', () => undefined);
    socket.write(start);
  });
}

describe('slow clients are cut off', () => {
  it('closes a connection whose headers, or whose body, arrive a byte at a time', async () => {
    dir = tempDir();
    const { file } = await makeProject(await makeJpeg(1));
    server = await startServer({
      file,
      rendererDir: makeRendererDir(),
      limits: { headersMs: 1_000, requestMs: 2_000 },
    });
    const host = `Host: 127.0.0.1:${server.port}\r\n`;
    const headers = await trickle(server.port, `GET / HTTP/1.1\r\n${host}`, 'X-a: b\r\n', 8_000);
    expect(headers, 'headers sent slowly kept the connection open').not.toBeNull();
    expect(headers!.answer).toMatch(/^HTTP\/1\.1 408/);

    const body = await trickle(
      server.port,
      `POST /api/call/getStats HTTP/1.1\r\n${host}Authorization: Bearer ${server.token}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n',
      ' ',
      8_000,
    );
    expect(body, 'a body sent slowly kept the connection open').not.toBeNull();

    const silent = await trickle(server.port, '', '', 8_000);
    expect(silent, 'a connection that sends nothing stayed open').not.toBeNull();
  }, 60_000);
});

describe('images are revalidated, never kept unasked', () => {
  it('answers with no-cache and an ETag of the bytes, a 304 while they are the same, and the new bytes once they change', async () => {
    dir = tempDir();
    const first = await makeJpeg(1);
    const { file, uid } = await makeProject(first);
    server = await startServer({ file, rendererDir: makeRendererDir() });
    const url = `http://127.0.0.1:${server.port}/api/images/${encodeURIComponent(uid)}`;
    const auth = { authorization: `Bearer ${server.token}` };

    const fresh = await fetch(url, { headers: auth });
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get('cache-control')).toBe('private, no-cache');
    const etag = fresh.headers.get('etag');
    expect(etag).toBe(`"${sha256Hex(first)}"`);
    expect(Buffer.from(await fresh.arrayBuffer()).equals(first)).toBe(true);

    for (const ifNoneMatch of [etag!, `W/${etag!}`, `"other", ${etag!}`]) {
      const same = await fetch(url, { headers: { ...auth, 'if-none-match': ifNoneMatch } });
      expect(same.status, ifNoneMatch).toBe(304);
      expect(same.headers.get('etag')).toBe(etag);
      expect(same.headers.get('cache-control')).toBe('private, no-cache');
      expect((await same.arrayBuffer()).byteLength).toBe(0);
    }

    // A manifest's image stays a file, which its owner may redraw under the same name.
    const second = await makeJpeg(3);
    fs.writeFileSync(path.join(dir, 'a.jpg'), second);
    const changed = await fetch(url, { headers: { ...auth, 'if-none-match': etag! } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).toBe(`"${sha256Hex(second)}"`);
    expect(Buffer.from(await changed.arrayBuffer()).equals(second)).toBe(true);
  });

  it('serves a JPEG with EXIF orientation 6 with orientation 1, its ETag that of the bytes sent', async () => {
    dir = tempDir();
    const turned = await sharp(await makeJpeg(4, 60, 24))
      .withMetadata({ orientation: 6 })
      .jpeg()
      .toBuffer();
    const { file, uid } = await makeProject(turned);
    server = await startServer({ file, rendererDir: makeRendererDir() });
    const res = await fetch(
      `http://127.0.0.1:${server.port}/api/images/${encodeURIComponent(uid)}`,
      {
        headers: { authorization: `Bearer ${server.token}` },
      },
    );
    const bytes = Buffer.from(await res.arrayBuffer());
    expect([1, undefined]).toContain((await sharp(bytes).metadata()).orientation);
    expect(res.headers.get('etag')).toBe(`"${sha256Hex(bytes)}"`);
    const shown = await sharp(bytes).rotate().raw().toBuffer({ resolveWithObject: true });
    const stored = await sharp(turned).raw().toBuffer({ resolveWithObject: true });
    expect([shown.info.width, shown.info.height]).toEqual([60, 24]);
    expect(shown.data.equals(stored.data)).toBe(true);
  });
});
