import path from 'node:path';
import { app, session, type BrowserWindow } from 'electron';
import { APP_PAGE_URL, APP_SCHEME, serveRenderer } from './app-protocol';

/** Where the renderer comes from: the electron-vite dev server, or the built page. */
export interface RendererEntry {
  url: URL;
  load(window: BrowserWindow): Promise<void>;
}

export function rendererEntry(outDir: string): RendererEntry {
  // Only an unpackaged app honours the dev server, so a packaged one can never be pointed at a URL
  // by its environment.
  const devServer = app.isPackaged ? undefined : process.env.ELECTRON_RENDERER_URL;
  if (devServer) {
    return { url: new URL(devServer), load: (window) => window.loadURL(devServer) };
  }
  // Not file://: the built page is served from its folder by the app's own scheme.
  const rendererDir = path.join(outDir, 'renderer');
  return {
    url: new URL(APP_PAGE_URL),
    load: (window) => {
      serveRenderer(rendererDir);
      return window.loadURL(APP_PAGE_URL);
    },
  };
}

/**
 * Whether a URL is the app's own page: the dev server's origin, or exactly the built page (any
 * query or fragment aside); never a file:// URL.
 */
export function isAppUrl(entry: RendererEntry, url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return entry.url.protocol === `${APP_SCHEME}:`
    ? parsed.protocol === entry.url.protocol &&
        parsed.host === entry.url.host &&
        parsed.pathname === entry.url.pathname
    : parsed.origin === entry.url.origin;
}

/** The app shows its own page and nothing else: no navigation, no popups, no permissions. */
export function lockDown(window: BrowserWindow): void {
  window.webContents.on('will-navigate', (event) => event.preventDefault());
  window.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  window.webContents.on('will-attach-webview', (event) => event.preventDefault());
}

export function denyAllPermissions(): void {
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) =>
    callback(false),
  );
  session.defaultSession.setPermissionCheckHandler(() => false);
}
