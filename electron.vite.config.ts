import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import type { Plugin } from 'vite';

const CSP_META = /\s*<meta\s+http-equiv="Content-Security-Policy"[^>]*>/;

/**
 * React Refresh injects an inline preamble script and talks to the dev server over a websocket,
 * both of which the policy in index.html forbids; only `electron-vite dev` drops it, the built
 * app always ships it.
 */
const relaxCspForDevServer = (): Plugin => ({
  name: 'pickstudio:relax-csp-for-dev-server',
  apply: 'serve',
  transformIndexHtml: (html) => html.replace(CSP_META, ''),
});

export default defineConfig({
  main: {
    build: {
      lib: {
        entry: {
          index: resolve('electron/main/index.ts'),
          // Started by path as worker threads, so each is an entry of its own beside index.js.
          'scoring-worker': resolve('electron/core/scoring/scoring-worker.ts'),
          'dashboard-worker': resolve('electron/core/audit/dashboard-worker.ts'),
          'import-worker': resolve('electron/core/io/import-worker.ts'),
          'parquet-worker': resolve('electron/core/io/export/parquet-worker.ts'),
        },
      },
      // Every package.json dependency stays a runtime import: the native ones (better-sqlite3,
      // sharp, onnxruntime-node) cannot be bundled and are rebuilt for Electron when packaging.
      externalizeDeps: true,
    },
  },
  preload: {
    build: {
      // A sandboxed preload is loaded as a classic script, so it must be CommonJS, and it may
      // only require 'electron': everything else it imports (zod, via the contract) is bundled.
      lib: { entry: resolve('electron/preload/index.ts'), formats: ['cjs'] },
      externalizeDeps: false,
    },
  },
  renderer: {
    root: 'renderer',
    build: {
      rollupOptions: { input: resolve('renderer/index.html') },
    },
    plugins: [react(), relaxCspForDevServer()],
  },
});
