// `npm start`: build the app, then run it in Electron, or in the browser where Electron's binary is
// not installed and cannot be downloaded.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'electron-vite';
import { electronBinary, electronPackageDir } from './electron-binary.js';

const require = createRequire(import.meta.url);
const CLI = fileURLToPath(new URL('../bin/pickstudio.js', import.meta.url));

await build({});

/** The first line of what a failed download printed: its error, without the stack. */
function firstLine(output) {
  const line = output.split(/\r?\n/).find((text) => text.trim() !== '' && !/^\s+at /.test(text));
  return (line ?? 'no output').trim();
}

/**
 * Electron (since 42) downloads its binary on first use, not at `npm ci`. Runs that download
 * here, once, with its output held back: it prints a stack trace when the download host cannot be
 * reached. Resolves with the binary's path, or with why there is none.
 */
function downloadElectron() {
  if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) {
    return Promise.resolve({ missing: 'ELECTRON_SKIP_BINARY_DOWNLOAD is set' });
  }
  const dir = electronPackageDir();
  if (dir === null) return Promise.resolve({ missing: 'the electron package is not installed' });
  const { version } = require(path.join(dir, 'package.json'));
  console.log(`Downloading Electron ${version} (once)...`);
  const child = spawn(process.execPath, [path.join(dir, 'install.js')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ELECTRON_GET_NO_PROGRESS: '1' },
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  return new Promise((resolve) => {
    child.on('error', (error) => resolve({ missing: `its download failed: ${error.message}` }));
    child.on('close', (code) => {
      const found = electronBinary();
      if (code === 0 && 'path' in found) resolve(found);
      else resolve({ missing: `its download failed: ${firstLine(output)}` });
    });
  });
}

/** Electron's app.getPath('userData'), so both modes open the same demo project. */
function userDataDir() {
  const { productName } = require('../package.json');
  const home = os.homedir();
  if (process.platform === 'darwin') {
    return path.join(home, 'Library', 'Application Support', productName);
  }
  if (process.platform === 'win32') {
    return path.join(process.env.APPDATA || path.join(home, 'AppData', 'Roaming'), productName);
  }
  return path.join(process.env.XDG_CONFIG_HOME || path.join(home, '.config'), productName);
}

/** Runs a pickstudio command and resolves with its exit code. */
function pickstudio(args, stdio) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio });
  // A SIGTERM sent to this process alone must still stop the server cleanly.
  const forward = () => child.kill('SIGTERM');
  process.on('SIGTERM', forward);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      process.off('SIGTERM', forward);
      resolve(signal ? 1 : (code ?? 0));
    });
  });
}

/**
 * Built beside its final name and renamed once whole, as the Electron app does, so an interrupted
 * first run never leaves a half-drawn demo to be opened next time.
 */
async function ensureDemo(file) {
  if (fs.existsSync(file)) return;
  const partial = `${file}.partial`;
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(partial + suffix, { force: true });
  // Its stdout names the .partial file; the progress bar on stderr is what the user needs.
  const code = await pickstudio(['demo', partial], ['ignore', 'ignore', 'inherit']);
  if (code !== 0) process.exit(code);
  fs.renameSync(partial, file);
}

let found = electronBinary();
if ('missing' in found) found = await downloadElectron();
if ('missing' in found) {
  console.log(
    `Electron binary not installed (${found.missing}); serving the same UI in browser mode instead.`,
  );
  // Ctrl+C reaches the child too (same process group): wait for it to close the project cleanly.
  process.on('SIGINT', () => undefined);
  // Like the app: a project named on the command line, else the demo.
  const [requested] = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
  const project = requested ?? path.join(userDataDir(), 'demo.pickstudio');
  if (requested === undefined) await ensureDemo(project);
  process.exit(await pickstudio(['serve', project], 'inherit'));
}

// Inherited, it would make Electron behave as plain Node and ignore the app.
const env = { ...process.env };
delete env.ELECTRON_RUN_AS_NODE;
const electron = spawn(found.path, ['.', ...process.argv.slice(2)], { stdio: 'inherit', env });
electron.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
