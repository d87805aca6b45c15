import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
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

/** Opens the URL in the desktop's browser, where there is a desktop; the printed URL is the rest. */
export function openInBrowser(url: string): void {
  const platform = process.platform;
  const desktop =
    platform === 'darwin' ||
    platform === 'win32' ||
    Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
  // Without one, xdg-open would start a text browser in this very terminal.
  if (!desktop) return;
  const [command, args]: [string, string[]] =
    platform === 'darwin'
      ? ['open', [url]]
      : platform === 'win32'
        ? ['rundll32', ['url.dll,FileProtocolHandler', url]]
        : ['xdg-open', [url]];
  const child = spawn(command, args, { stdio: 'ignore', detached: true });
  // No opener installed is no failure: the printed URL still works.
  child.on('error', () => undefined);
  child.unref();
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
