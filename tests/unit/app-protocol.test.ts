/**
 * The app's page scheme (electron/main/app-protocol.ts): the window loads the built renderer from
 * pickstudio-app://app/, not file:// (Electron's security checklist, item 18). With a fake
 * 'electron': what the handler serves, with which headers, and everything it refuses.
 * tests/unit/security.test.ts checks that the window loads this URL and that IPC answers only it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { tempDir } from '../helpers/project';

const handlers = vi.hoisted(() => new Map<string, (request: Request) => Promise<Response>>());
vi.mock('electron', () => {
  const protocol = {
    handle: (scheme: string, handler: (request: Request) => Promise<Response>) =>
      handlers.set(scheme, handler),
  };
  return { protocol, default: { protocol } };
});

const { APP_PAGE_URL, appScheme, rendererResponse, serveRenderer } = await import(
  '../../electron/main/app-protocol'
);

const SECRET = 'TOP SECRET, outside the renderer folder';
const INDEX = '<!doctype html><title>studio</title><script type="module" src="./assets/a.js">';

describe('the pickstudio-app: scheme', () => {
  let dir: string;
  let renderer: string;

  beforeAll(() => {
    dir = tempDir('pickstudio-app-protocol-');
    renderer = path.join(dir, 'renderer');
    fs.mkdirSync(path.join(renderer, 'assets'), { recursive: true });
    fs.writeFileSync(path.join(renderer, 'index.html'), INDEX);
    fs.writeFileSync(path.join(renderer, 'assets', 'a.js'), 'export {};');
    fs.writeFileSync(path.join(renderer, 'assets', 'a.css'), 'body {}');
    fs.writeFileSync(path.join(dir, 'secret.txt'), SECRET);
    fs.mkdirSync(path.join(dir, 'outside'));
    fs.writeFileSync(path.join(dir, 'outside', 'index.html'), SECRET);
    // Links inside the folder that lead out of it: a file and a folder.
    fs.symlinkSync(path.join(dir, 'secret.txt'), path.join(renderer, 'assets', 'linked.js'));
    fs.symlinkSync(path.join(dir, 'outside'), path.join(renderer, 'linked'));
    serveRenderer(renderer);
  });

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const get = (url: string, method = 'GET') =>
    handlers.get('pickstudio-app')!(new Request(url, { method }));

  it('is the page the window loads, a standard secure scheme without CORS, CSP bypass or workers', () => {
    expect(APP_PAGE_URL).toBe('pickstudio-app://app/index.html');
    expect(appScheme.scheme).toBe('pickstudio-app');
    const privileges = appScheme.privileges as Record<string, boolean>;
    expect(privileges).toMatchObject({ standard: true, secure: true });
    for (const risky of ['bypassCSP', 'corsEnabled', 'allowServiceWorkers', 'stream']) {
      expect(privileges[risky], risky).toBeFalsy();
    }
  });

  it('serves the page and its assets with their types, a strict CSP and nosniff', async () => {
    for (const [url, type, body] of [
      [APP_PAGE_URL, 'text/html; charset=utf-8', INDEX],
      ['pickstudio-app://app/', 'text/html; charset=utf-8', INDEX],
      ['pickstudio-app://app/index.html?x=1#top', 'text/html; charset=utf-8', INDEX],
      ['pickstudio-app://app/assets/a.js', 'text/javascript; charset=utf-8', 'export {};'],
      ['pickstudio-app://app/assets/a.css', 'text/css; charset=utf-8', 'body {}'],
    ] as const) {
      const res = await get(url);
      expect(res.status, url).toBe(200);
      expect(res.headers.get('content-type'), url).toBe(type);
      expect(res.headers.get('x-content-type-options'), url).toBe('nosniff');
      const csp = res.headers.get('content-security-policy') ?? '';
      for (const directive of [
        "default-src 'self'",
        "script-src 'self'",
        "img-src 'self' pickstudio-image: data:",
        "object-src 'none'",
        "frame-ancestors 'none'",
      ]) {
        expect(csp, `${url}: ${directive}`).toContain(directive);
      }
      expect(csp, url).not.toContain('unsafe-eval');
      expect(await res.text(), url).toBe(body);
    }
  });

  it('answers HEAD without a body, and any other method with a 405', async () => {
    const head = await get(APP_PAGE_URL, 'HEAD');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await get(APP_PAGE_URL, method);
      expect(res.status, method).toBe(405);
      expect(await res.text(), method).not.toContain('studio');
    }
  });

  it('serves nothing outside the folder, by .. or by a link, nor another host, nor a folder', async () => {
    for (const url of [
      'pickstudio-app://app/../secret.txt',
      'pickstudio-app://app/..%2Fsecret.txt',
      'pickstudio-app://app/assets/..%2F..%2Fsecret.txt',
      'pickstudio-app://app/%2E%2E/secret.txt',
      `pickstudio-app://app/${encodeURIComponent(path.join(dir, 'secret.txt'))}`,
      'pickstudio-app://app/assets/linked.js',
      'pickstudio-app://app/linked/index.html',
      'pickstudio-app://app/linked/',
      'pickstudio-app://app/assets',
      'pickstudio-app://app/assets/',
      'pickstudio-app://app/missing.js',
      'pickstudio-app://app/index.html%00.js',
      'pickstudio-app://app/%E0%A4%A',
      'pickstudio-app://other/index.html',
      'pickstudio-app://app.evil/index.html',
    ]) {
      const res = await get(url);
      expect(res.status, url).toBe(404);
      expect(await res.text(), url).not.toContain('TOP SECRET');
    }
    // Not through the handler: a URL of another scheme names no file either.
    for (const url of ['pickstudio-image://app/index.html', `file://${renderer}/index.html`]) {
      const res = await rendererResponse(renderer, { url, method: 'GET' });
      expect(res.status, url).toBe(404);
    }
  });

  it('finds nothing, rather than failing, where the folder is not built', async () => {
    const res = await rendererResponse(path.join(dir, 'not-built'), {
      url: APP_PAGE_URL,
      method: 'GET',
    });
    expect(res.status).toBe(404);
  });
});
