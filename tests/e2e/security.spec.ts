/**
 * Security in the real runtimes: Chromium against `pickstudio serve` (the browser project) and the
 * built Electron app (the electron project, skipped with its reason where the binary is missing).
 * tests/unit/security.test.ts checks the same doors without a browser; this spec checks what only
 * a browser enforces (the CSP, CORP, frame-ancestors, cookies) and what only Electron does.
 *
 * "Another site" here is a second HTTP server on 127.0.0.1: another port, so another origin but the
 * same site, the closest a web page can get to the studio.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { _electron, type ElectronApplication, type Page } from 'playwright';
import { LOCAL_ONLY_METHODS, PAGE_METHODS } from '../../shared/api';
import { chooseAnnotator, electronBinary, expect, REPO, test, type Project } from './fixtures';

test.use({ pairs: 4 });

/** A server for another origin: it records every request and answers with the page it is given. */
async function otherSite(pages: Record<string, string> = {}) {
  const requests: { url: string; cookie: string | undefined }[] = [];
  const server = http.createServer((req, res) => {
    requests.push({ url: req.url ?? '', cookie: req.headers.cookie });
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(
      pages[new URL(req.url ?? '/', 'http://x').pathname] ?? '<!doctype html><title>other</title>',
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    requests,
    pages,
    close: () =>
      new Promise<void>((resolve) => {
        // Chromium may hold a preconnected socket that never carries a request.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Where the studio's session lives (its origin and secret path, the login cookie's Path, so the
 * URL under which the browser does send that cookie) and one image uid, read through the page's
 * own session. The page's URLs are relative: its cookie goes only below that path.
 */
async function studioFacts(page: Page): Promise<{ base: string; uid: string }> {
  const base = new URL('.', page.url()).href;
  const uid = (await page.evaluate(`fetch('api/call/listPairs', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}'
    }).then((r) => r.json()).then((b) => b.value[0].image0Uid)`)) as string;
  return { base, uid };
}

test.describe('browser mode', () => {
  test.skip(({ mode }) => mode !== 'browser', 'browser mode is checked in the browser project');

  test('the page runs no injected inline script and no eval', async ({ studio }) => {
    await studio.page.waitForLoadState('load');
    const result = (await studio.page.evaluate(`(async () => {
      const violations = [];
      document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective));
      window.__injected = 'not run';
      const script = document.createElement('script');
      script.textContent = "window.__injected = 'ran'";
      document.body.appendChild(script);
      const div = document.createElement('div');
      div.innerHTML = '<img src="x" onerror="window.__injected = \\'ran from a handler\\'">';
      document.body.appendChild(div);
      // In a task of the page's own: code that DevTools evaluates directly is exempt from the CSP.
      const inTask = (run) => new Promise((resolve) => setTimeout(() => {
        try { resolve(run()); } catch (e) { resolve(e.name); }
      }, 0));
      const evaluated = await inTask(() => eval('1 + 1'));
      const constructed = await inTask(() => new Function('return 2')());
      setTimeout("window.__injected = 'ran from a string timer'", 0);
      await new Promise((r) => setTimeout(r, 300));
      return { injected: window.__injected, evaluated, constructed, violations };
    })()`)) as { injected: string; evaluated: unknown; constructed: unknown; violations: string[] };
    expect(result.injected).toBe('not run');
    expect(result.evaluated).toBe('EvalError');
    expect(result.constructed).toBe('EvalError');
    expect(result.violations).toEqual(
      expect.arrayContaining(['script-src-elem', 'script-src-attr', 'script-src']),
    );
  });

  test('the page reaches no other origin: no fetch, socket, frame or image', async ({ studio }) => {
    const other = await otherSite();
    try {
      await studio.page.waitForLoadState('load');
      const violations = (await studio.page.evaluate(`(async () => {
        const violations = [];
        document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective));
        const target = ${JSON.stringify(other.origin)};
        await fetch(target + '/fetch').catch(() => undefined);
        await fetch(target + '/beacon', { mode: 'no-cors' }).catch(() => undefined);
        try { new WebSocket(target.replace('http', 'ws') + '/socket'); } catch {}
        navigator.sendBeacon?.(target + '/send-beacon', 'x');
        const frame = document.createElement('iframe');
        frame.src = target + '/frame';
        document.body.appendChild(frame);
        const img = new Image();
        img.src = target + '/image.png';
        document.body.appendChild(img);
        await new Promise((r) => setTimeout(r, 1000));
        return violations;
      })()`)) as string[];
      expect(violations).toEqual(expect.arrayContaining(['connect-src', 'frame-src', 'img-src']));
      expect(other.requests).toEqual([]);
    } finally {
      await other.close();
    }
  });

  test('another site cannot frame the studio, read its images, or call it', async ({ studio }) => {
    // The attack is given the session's secret path, as if it had learnt it: the browser then
    // sends the login cookie with its requests, and the Origin check, CORP and frame-ancestors
    // are what stop it.
    const { base, uid } = await studioFacts(studio.page);
    const settings = (page: Page) =>
      page.evaluate(`fetch('api/call/getSettings', {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}'
      }).then((r) => r.json()).then((b) => b.value)`);
    const before = await settings(studio.page);
    const other = await otherSite({
      '/attack': `<!doctype html>
        <iframe id="frame" src="${base}"></iframe>
        <img id="image" src="${base}api/images/${encodeURIComponent(uid)}">
        <script>
          const call = (init) => fetch('${base}api/call/setSettings', init)
            .then((r) => r.type + ' ' + r.status, (e) => 'refused: ' + e.name);
          window.results = Promise.all([
            call({ method: 'POST', credentials: 'include',
                   headers: { 'content-type': 'application/json' },
                   body: JSON.stringify({ tieThreshold: 0.42 }) }),
            call({ method: 'POST', credentials: 'include', mode: 'no-cors',
                   headers: { 'content-type': 'text/plain' },
                   body: JSON.stringify({ tieThreshold: 0.42 }) }),
          ]);
        </script>`,
    });
    try {
      // The same browser, already logged in to the studio: its cookie is there to be abused.
      const attack = await studio.page.context().newPage();
      await attack.goto(`${other.origin}/attack`);
      await attack.waitForLoadState('load');
      const results = (await attack.evaluate('window.results')) as string[];
      expect(results[0]).toMatch(/^refused/); // the preflight carries an Origin the server refuses
      // Sent blind: the server refuses its content type, and CORP keeps even the refusal unread.
      expect(results[1]).toMatch(/^refused/);
      expect(await settings(studio.page)).toEqual(before);

      expect(await attack.evaluate(`document.getElementById('image').naturalWidth`)).toBe(0);
      const frame = attack.frames().find((f) => f !== attack.mainFrame());
      expect(frame).toBeDefined();
      // frame-ancestors 'none': Chromium shows its own error page instead of the studio.
      expect(await frame!.locator('#root').count()).toBe(0);
      await attack.close();
    } finally {
      await other.close();
    }
  });

  test('the page cannot call a method that names a file: each is refused, nothing written', async ({
    studio,
    project,
  }) => {
    const out = path.join(project.dir, 'from-the-page.parquet');
    const replies = (await studio.page.evaluate(
      async ({ methods, out }) => {
        const replies: [string, number, string][] = [];
        for (const method of methods) {
          const response = await fetch(`api/call/${method}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ out, sources: [out], folder: out, tuneOn: out }),
          });
          const body = (await response.json()) as { error?: { code: string } };
          replies.push([method, response.status, body.error?.code ?? 'none']);
        }
        return replies;
      },
      { methods: [...LOCAL_ONLY_METHODS], out },
    )) as [string, number, string][];
    expect(replies).toEqual([...LOCAL_ONLY_METHODS].map((m) => [m, 403, 'not_allowed']));
    expect(fs.existsSync(out)).toBe(false);
  });

  test('the page offers no way out: no links, forms or new-window targets', async ({ studio }) => {
    await chooseAnnotator(studio, 'security');
    const exits = (await studio.page
      .evaluate(`[...document.querySelectorAll('a[href], area[href], form, [target], base')]
      .map((e) => e.outerHTML.slice(0, 120))`)) as string[];
    expect(exits).toEqual([]);
    // A browser tab may still navigate and open windows when asked to: the CSP has no directive
    // for navigation, and the renderer does not intercept it. Nothing in the page asks to, and
    // no script but the app's own can run in it (see above).
  });

  test('the login cookie stays with the studio: a page on another port of 127.0.0.1 does not get it', async ({
    studio,
  }) => {
    // Cookies are not isolated by port, and SameSite=Strict does not help (another port is the
    // same site): a cookie with Path=/ set by the studio goes to every server on 127.0.0.1. Any
    // local process that listens on a port and gets the user's browser to load it (a link, a
    // redirect from any web page, then one same-site reload) would read the token and call the
    // whole API with a Bearer header. The cookie's Path is the session's secret path instead.
    const { base } = await studioFacts(studio.page);
    // Not vacuous: the browser holds the studio's login cookie, for 127.0.0.1 (any port).
    const held = await studio.page.context().cookies();
    expect(held.map((c) => `${c.domain} httpOnly=${c.httpOnly}`)).toEqual([
      '127.0.0.1 httpOnly=true',
    ]);

    // The lure asks its own server for every path the studio is known to have, then moves on.
    const known = ['/api/call/getStats', '/api/events', '/api/images/x', '/assets/index.js'];
    const other = await otherSite({
      '/': `<!doctype html><script>location.replace('/again')</script>`,
      '/again': `<!doctype html>
        ${known.map((p) => `<img src="${p}">`).join('')}
        <iframe src="/frame"></iframe>
        <script>
          Promise.all(${JSON.stringify(known)}.map((p) => fetch(p, { credentials: 'include' })
            .catch(() => undefined)))
            .then(() => new Promise((r) => setTimeout(r, 300)))
            .then(() => location.replace('/done'));
        </script>`,
    });
    // The lure starts on another site (localhost is not the site 127.0.0.1), as a link or a
    // redirect from any web page would: that first, cross-site request carries no Strict cookie.
    const port = new URL(other.origin).port;
    other.pages['/start'] = `<!doctype html><script>location.href = '${other.origin}/'</script>`;
    try {
      const lure = await studio.page.context().newPage();
      await lure.goto(`http://localhost:${port}/start`);
      await expect.poll(() => other.requests.map((r) => r.url)).toContain('/done');
      for (const path of [...known, '/again', '/frame']) {
        expect(other.requests.map((r) => r.url)).toContain(path);
      }
      // The other server never sets a cookie: any it receives is the studio's.
      const leaked = other.requests.filter((r) => r.cookie !== undefined);
      expect(leaked.map((r) => `${r.url}: ${r.cookie}`)).toEqual([]);
      await lure.close();
    } finally {
      await other.close();
    }
    // The cookie's Path is the session's secret path, where the page lives and still gets in.
    const scope = new URL(base).pathname;
    expect(scope).toMatch(/^\/[A-Za-z0-9_-]{22}\/$/);
    expect(held.map((c) => `${c.name} ${c.path}`)).toEqual([`pickstudio_token ${scope}`]);
    const stats = (await studio.page.evaluate(`fetch('api/call/getStats', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}'
    }).then((r) => r.status)`)) as number;
    expect(stats).toBe(200);
  });
});

// ---------------------------------------------------------------------------------------------
// Electron
// ---------------------------------------------------------------------------------------------

/** The built app on the test's project; skips the test with the reason where Electron is missing. */
async function launch(project: Project): Promise<{ app: ElectronApplication; page: Page }> {
  const binary = electronBinary();
  test.skip(
    'missing' in binary,
    `Electron binary not installed: ${'missing' in binary ? binary.missing : ''}`,
  );
  const main = path.join(REPO, 'out', 'main', 'index.js');
  test.skip(!fs.existsSync(main), `${main} is not built: run electron-vite build`);
  const app = await _electron.launch({
    args: [main, project.file, `--user-data-dir=${path.join(project.dir, 'electron-user-data')}`],
    cwd: REPO,
  });
  const page = await app.firstWindow();
  await page.waitForLoadState('load');
  return { app, page };
}

test.describe('Electron', () => {
  test.skip(
    ({ mode }) => mode !== 'electron',
    'the Electron app is checked in the electron project',
  );

  let app: ElectronApplication | undefined;
  test.afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  test('the window is sandboxed and isolated, with no Node in the page', async ({ project }) => {
    const launched = await launch(project);
    app = launched.app;
    const prefs = await app.evaluate(({ BrowserWindow }) => {
      // Not in Electron's typings, but what its own tests read the applied preferences with.
      const contents = BrowserWindow.getAllWindows()[0]!.webContents as unknown as {
        getLastWebPreferences?: () => Record<string, unknown> | null;
      };
      const applied = contents.getLastWebPreferences?.();
      if (!applied) return null;
      const { contextIsolation, sandbox, nodeIntegration } = applied;
      return { contextIsolation, sandbox, nodeIntegration };
    });
    // No preferences to read is a failure, not a pass: the check below must always run.
    expect(prefs, 'webContents.getLastWebPreferences() gave nothing to check').not.toBeNull();
    expect(prefs).toEqual({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
    });
    const page = (await launched.page.evaluate(`({
      require: typeof require, process: typeof process, module: typeof module, Buffer: typeof Buffer,
      // exposeInMainWorld throws without context isolation, and bridged functions are native
      studio: typeof window.studio,
      bridged: Function.prototype.toString.call(window.studio.getStats).includes('[native code]'),
    })`)) as Record<string, unknown>;
    expect(page).toEqual({
      require: 'undefined',
      process: 'undefined',
      module: 'undefined',
      Buffer: 'undefined',
      studio: 'object',
      bridged: true,
    });
  });

  test("window.studio is exactly the page's methods, `on` and `imageUrl`", async ({ project }) => {
    const launched = await launch(project);
    app = launched.app;
    const keys = (await launched.page.evaluate('Object.keys(window.studio).sort()')) as string[];
    expect(keys).toEqual([...PAGE_METHODS, 'on', 'imageUrl'].sort());
    expect(keys.filter((key) => LOCAL_ONLY_METHODS.has(key as never))).toEqual([]);
  });

  test('new windows and navigation away are refused', async ({ project }) => {
    const launched = await launch(project);
    app = launched.app;
    const { page } = launched;
    const home = page.url();
    expect(await page.evaluate(`window.open('https://example.com/') === null`)).toBe(true);
    expect(await page.evaluate(`window.open('${home}') === null`)).toBe(true);
    for (const target of ['https://example.com/', 'file:///etc/passwd']) {
      await page.evaluate(`location.href = ${JSON.stringify(target)}`);
      await page.waitForTimeout(500);
      expect(page.url(), target).toBe(home);
    }
    expect(app.windows()).toHaveLength(1);
  });

  test('the image protocol serves the project by uid and nothing else', async ({ project }) => {
    const launched = await launch(project);
    app = launched.app;
    const uid = (await launched.page.evaluate(
      'window.studio.listPairs({}).then((pairs) => pairs[0].image0Uid)',
    )) as string;
    const secret = path.join(project.dir, 'secret.txt');
    fs.writeFileSync(secret, 'TOP SECRET');
    const urls = [
      `pickstudio-image://image/${encodeURIComponent(uid)}`,
      `pickstudio-image://image/${encodeURIComponent(secret)}`,
      `pickstudio-image://image/${encodeURIComponent(project.file)}`,
      `pickstudio-image://image/${encodeURIComponent('../../../../etc/passwd')}`,
      'pickstudio-image://image/..%2F..%2F..%2Fetc%2Fpasswd',
      `pickstudio-image://other/${encodeURIComponent(uid)}`,
      `pickstudio-image://image/${encodeURIComponent(uid)}/x`,
    ];
    const answers = await app.evaluate(async ({ net }, list) => {
      return Promise.all(
        list.map(async (url) => {
          const res = await net.fetch(url);
          const body = await res.text();
          return { status: res.status, secret: body.includes('TOP SECRET') };
        }),
      );
    }, urls);
    expect(answers[0]).toEqual({ status: 200, secret: false });
    for (const [i, answer] of answers.slice(1).entries()) {
      expect(answer, urls[i + 1]).toEqual({ status: 404, secret: false });
    }
  });
});
