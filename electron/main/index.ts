import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog } from 'electron';
import type { TaskProgress } from '../../shared/api';
import { registerStudioIpc, sendStudioEvent } from './ipc';
import { installMenu } from './menu';
import { createDemoFile, openProject, type OpenProject } from './project';
import { denyAllPermissions, isAppUrl, lockDown, rendererEntry } from './security';

/** out/, where electron-vite puts main, preload and renderer side by side. */
const outDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

// Every renderer is sandboxed, including any a future change forgets to configure.
app.enableSandbox();

function projectFromArguments(): string | undefined {
  // `electron .` puts the app folder before the user's arguments; a packaged app does not.
  const [first] = process.argv.slice(app.isPackaged ? 1 : 2).filter((arg) => !arg.startsWith('-'));
  return first === undefined ? undefined : path.resolve(first);
}

async function initialProject(progress: (p: TaskProgress) => void): Promise<OpenProject> {
  const requested = projectFromArguments();
  if (requested !== undefined) return openProject(requested, progress);
  const demo = path.join(app.getPath('userData'), 'demo.pickstudio');
  if (!fs.existsSync(demo)) await createDemoFile(demo, progress);
  return openProject(demo, progress);
}

async function start(): Promise<void> {
  denyAllPermissions();
  const entry = rendererEntry(outDir);
  const window = new BrowserWindow({
    width: 1280,
    height: 800,
    title: 'Pick Studio',
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
  const progress = (p: TaskProgress): void => sendStudioEvent(window, 'progress', p);

  // Calls wait for the project rather than fail while the demo is still being drawn.
  let ready: Promise<OpenProject>;
  let opened: OpenProject | undefined;
  const use = (next: Promise<OpenProject>): void => {
    ready = next;
    next.then(
      (project) => {
        opened = project;
      },
      (error: unknown) => console.error('Pick Studio: cannot open the project:', error),
    );
  };
  use(initialProject(progress));
  app.on('will-quit', () => opened?.store.close());

  let switching = false;
  const chooseProject = async (): Promise<void> => {
    if (switching) return;
    switching = true;
    try {
      const { canceled, filePaths } = await dialog.showOpenDialog(window, {
        title: 'Open Project',
        properties: ['openFile'],
        filters: [{ name: 'Pick Studio project', extensions: ['pickstudio'] }],
      });
      const [file] = filePaths;
      if (canceled || file === undefined) return;
      const previous = await ready.catch(() => undefined);
      let next: OpenProject;
      try {
        next = openProject(file, progress);
      } catch (error) {
        dialog.showErrorBox('Cannot open the project', (error as Error).message);
        return;
      }
      use(Promise.resolve(next));
      previous?.store.close();
      // The renderer holds no project state worth keeping; a reload makes it ask again.
      window.webContents.reload();
    } finally {
      switching = false;
    }
  };

  registerStudioIpc({
    window,
    isAppUrl: (url) => isAppUrl(entry, url),
    dispatch: async () => (await ready).dispatch,
  });
  installMenu({ openProject: () => void chooseProject() });
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
