/**
 * The tests drive the built app (out/). `npm run test:e2e` builds first; a bare `npx playwright
 * test` rebuilds here when a source is newer than the build, so a stale build is never tested.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { REPO } from './serve';

const SOURCES = ['renderer', 'shared', 'electron/main', 'electron/preload'];
const BUILT = ['out/renderer/index.html', 'out/main/index.js', 'out/preload/index.cjs'];

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

export default function globalSetup(): void {
  const built = BUILT.map((file) => path.join(REPO, file));
  const oldestBuild = Math.min(
    ...built.map((file) => (fs.existsSync(file) ? fs.statSync(file).mtimeMs : 0)),
  );
  const newestSource = Math.max(...SOURCES.map((dir) => newestMtime(path.join(REPO, dir))));
  if (oldestBuild >= newestSource) return;
  const cli = path.join(
    path.dirname(createRequire(import.meta.url).resolve('electron-vite/package.json')),
    'bin',
    'electron-vite.js',
  );
  execFileSync(process.execPath, [cli, 'build', '--logLevel', 'error'], {
    cwd: REPO,
    stdio: 'inherit',
  });
}
