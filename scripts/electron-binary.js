// Where Electron's binary is, found without downloading it. Since Electron 42 `npm ci` no longer
// downloads the binary: `require('electron')` does, on first use, and throws (with a stack trace,
// after printing the download's own) where Electron's download host cannot be reached. So
// `npm start` and the end-to-end tests look for it here instead, the way electron/index.js does,
// and decide themselves whether to download it (scripts/start.js) or to skip (tests/e2e).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** node_modules/electron, or null where the package is not installed. */
export function electronPackageDir() {
  try {
    return path.dirname(require.resolve('electron/package.json'));
  } catch {
    return null;
  }
}

/**
 * The binary's path, or why there is none. Honours ELECTRON_OVERRIDE_DIST_PATH as
 * electron/index.js does.
 * @returns {{ path: string } | { missing: string }}
 */
export function electronBinary() {
  const dir = electronPackageDir();
  if (dir === null) return { missing: 'the electron package is not installed (run npm ci)' };
  const pathFile = path.join(dir, 'path.txt');
  const relative = fs.existsSync(pathFile) ? fs.readFileSync(pathFile, 'utf8').trim() : '';
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  if (override) {
    const binary = path.join(override, relative || 'electron');
    return fs.existsSync(binary) ? { path: binary } : { missing: `${binary} does not exist` };
  }
  if (!relative) return { missing: `Electron's binary is not downloaded (no ${pathFile})` };
  const binary = path.join(dir, 'dist', relative);
  return fs.existsSync(binary) ? { path: binary } : { missing: `${binary} does not exist` };
}
