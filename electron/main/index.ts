import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, nativeTheme, protocol } from 'electron';
import type { Studio } from '../core/studio';
import { createMenuActions } from './actions';
import { appScheme } from './app-protocol';
import { imageScheme, serveImages } from './image-protocol';
import { registerStudioIpc, sendStudioEvent } from './ipc';
import { installMenu, showRoleInMenu } from './menu';
import { createDemoFile, CurrentProject, openProject, type ProjectEvents } from './project';
import { denyAllPermissions, isAppUrl, lockDown, rendererEntry } from './security';

/** out/, where electron-vite puts main, preload and renderer side by side. */
const outDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

// Every renderer is sandboxed, including any a future change forgets to configure.
app.enableSandbox();
// Before the app is ready, and in one call: each call replaces the schemes of the one before.
protocol.registerSchemesAsPrivileged([appScheme, imageScheme]);

function projectFromArguments(): string | undefined {
  // `electron .` puts the app folder before the user's arguments; a packaged app does not.
  const [first] = process.argv.slice(app.isPackaged ? 1 : 2).filter((arg) => !arg.startsWith('-'));
  return first === undefined ? undefined : path.resolve(first);
}

async function initialProject(events: ProjectEvents): Promise<Studio> {
  const requested = projectFromArguments();
  if (requested !== undefined) return openProject(requested, events);
  const demo = path.join(app.getPath('userData'), 'demo.pickstudio');
  if (!fs.existsSync(demo)) await createDemoFile(demo, events.progress);
  return openProject(demo, events);
}

async function start(): Promise<void> {
  denyAllPermissions();
  const entry = rendererEntry(outDir);
  const window = new BrowserWindow({
    width: 1280,
    height: 800,
    title: 'Pick Studio',
    // The page follows the system's theme (prefers-color-scheme); so does what shows before it
    // paints, or while a resize catches up: app.css's --bg in each theme.
    backgroundColor: nativeTheme.shouldUseDarkColors ? '#171717' : '#f5f5f5',
    show: false,
    webPreferences: {
      preload: path.join(outDir, 'preload', 'index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  lockDown(window);
  window.once('ready-to-show', () => window.show());
  const events: ProjectEvents = {
    progress(p) {
      sendStudioEvent(window, 'progress', p);
      if (window.isDestroyed()) return;
      // Also on the taskbar, so an import or export is seen while the window is in the
      // background; above 1 means an unknown total.
      const fraction = p.total ? p.done / p.total : 2;
      window.setProgressBar(p.state === 'running' ? fraction : -1);
    },
    settings: (settings) => sendStudioEvent(window, 'settings', settings),
    guidelines: (guidelines) => sendStudioEvent(window, 'guidelines', guidelines),
  };

  const project = new CurrentProject(initialProject(events), (opened) => {
    opened.call('getProject', {}).then(
      ({ role }) => showRoleInMenu(role),
      (error: unknown) => console.error('Pick Studio: cannot read the project role:', error),
    );
  });
  app.on('will-quit', () => project.close());

  registerStudioIpc({
    window,
    isAppUrl: (url) => isAppUrl(entry, url),
    dispatchFromPage: async () => (await project.ready).dispatchFromPage,
  });
  serveImages(async (uid) => (await project.ready).readImage(uid));
  installMenu(createMenuActions({ window, project, events }));
  await entry.load(window);
}

app.on('window-all-closed', () => app.quit());
app
  .whenReady()
  .then(start)
  .catch((error: unknown) => {
    dialog.showErrorBox('Pick Studio cannot start', String(error));
    app.exit(1);
  });
