// `npm start`: build the app, then run it in Electron when the Electron binary is installed.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { build } from 'electron-vite';

const require = createRequire(import.meta.url);

await build({});

/** The binary's path, or null where `npm ci` skipped its download. */
function electronBinary() {
  try {
    // The electron package throws, rather than returning a path, when path.txt is missing.
    const binary = require('electron');
    return fs.existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

const binary = electronBinary();
if (binary === null) {
  console.log(
    'Electron binary not installed (ELECTRON_SKIP_BINARY_DOWNLOAD?); browser mode arrives with `pickstudio serve`.',
  );
  process.exit(0);
}

// Inherited, it would make Electron behave as plain Node and ignore the app.
const env = { ...process.env };
delete env.ELECTRON_RUN_AS_NODE;
const electron = spawn(binary, ['.', ...process.argv.slice(2)], { stdio: 'inherit', env });
electron.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
