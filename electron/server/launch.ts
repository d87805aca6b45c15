import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StudioError } from '../../shared/errors';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** Where `electron-vite build` puts the renderer, for the Electron app and browser mode alike. */
export const RENDERER_DIR = path.join(REPO, 'out', 'renderer');

/**
 * Builds the app when the renderer has never been built. electron-vite runs as a child in the
 * repository: its config resolves entries from the working directory, and its output goes to
 * stderr so that stdout keeps only the line naming the URL.
 */
export async function ensureRendererBuilt(say: (line: string) => void): Promise<string> {
  if (fs.existsSync(path.join(RENDERER_DIR, 'index.html'))) return RENDERER_DIR;
  say(`Building the app into ${path.dirname(RENDERER_DIR)} (first run)…`);
  const require = createRequire(import.meta.url);
  const cli = path.join(
    path.dirname(require.resolve('electron-vite/package.json')),
    'bin',
    'electron-vite.js',
  );
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'build', '--logLevel', 'error'], {
      cwd: REPO,
      stdio: ['ignore', 2, 2],
    });
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (code !== 0 || !fs.existsSync(path.join(RENDERER_DIR, 'index.html'))) {
    throw new StudioError(
      'internal',
      `building the app failed (electron-vite exited with ${code})`,
    );
  }
  return RENDERER_DIR;
}

/** How a browser is opened: what `openInBrowser` needs from the system (tests pass their own). */
export interface Desktop {
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  /** Starts `command` with `args`, not waiting for it. */
  start(command: string, args: string[]): void;
}

const system: Desktop = {
  platform: process.platform,
  env: process.env,
  start(command, args) {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    // No opener installed is no failure: the printed URL still works.
    child.on('error', () => undefined);
    child.unref();
  },
};

/** The page that sends the browser on to the server; remove() deletes it and its folder. */
export interface RedirectPage {
  file: string;
  remove(): void;
}

const escapeHtml = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/**
 * A page, readable by this user only, that sends the browser on to `url`. Another local user sees
 * every process's command line (`ps`), so the opener is given this file's path, never the URL with
 * its token: Jupyter does the same.
 */
export function writeRedirectPage(url: string): RedirectPage {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'pickstudio-open-'));
  const file = path.join(folder, 'open.html');
  const href = escapeHtml(url);
  fs.writeFileSync(
    file,
    '<!doctype html>\n<meta charset="utf-8">\n<meta name="referrer" content="no-referrer">\n' +
      `<meta http-equiv="refresh" content="0;url=${href}">\n` +
      `<title>Pick Studio</title>\n<p><a href="${href}">Open Pick Studio</a></p>\n`,
    // wx: never through a file or link someone else put there first.
    { mode: 0o600, flag: 'wx' },
  );
  return { file, remove: () => fs.rmSync(folder, { recursive: true, force: true }) };
}

/**
 * Opens the URL in the desktop's browser, where there is a desktop, through a redirect page (see
 * writeRedirectPage); the printed URL is the rest. Returns the page, to remove at shutdown, or
 * null when nothing was opened.
 */
export function openInBrowser(url: string, desktop: Desktop = system): RedirectPage | null {
  const { platform, env } = desktop;
  const graphical =
    platform === 'darwin' || platform === 'win32' || Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
  // Without one, xdg-open would start a text browser in this very terminal.
  if (!graphical) return null;
  const page = writeRedirectPage(url);
  const [command, args]: [string, string[]] =
    platform === 'darwin'
      ? ['open', [page.file]]
      : platform === 'win32'
        ? ['rundll32', ['url.dll,FileProtocolHandler', page.file]]
        : ['xdg-open', [page.file]];
  desktop.start(command, args);
  return page;
}

/**
 * Resolves on the first SIGINT or SIGTERM, so the caller can shut down cleanly; a second one
 * while that runs (calls draining) exits at once.
 */
export function untilStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      const force = (): never => process.exit(130);
      process.once('SIGINT', force);
      process.once('SIGTERM', force);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
