import fs from 'node:fs';
import path from 'node:path';
import { dialog, type BrowserWindow } from 'electron';
import type { Role } from '../../shared/api';
import type { Studio } from '../core/studio';
import { openProject, type CurrentProject, type ProjectEvents } from './project';
import { makeAnnotatorPackage, mergeReturnedPackages } from './team-actions';
import { shortcutLines } from '../../shared/keys';

export interface MenuActions {
  openProject(): void;
  newProjectFromFiles(): void;
  newProjectFromFolder(): void;
  exportParquet(): void;
  makePackage(): void;
  mergePackages(): void;
  showShortcuts(): void;
}

/** What every action works with: the window its dialogs belong to, and the project it shows. */
interface ActionContext {
  window: BrowserWindow;
  project: CurrentProject;
  events: ProjectEvents;
}

const PROJECT_FILTER = { name: 'Pick Studio project', extensions: ['pickstudio'] };
const MERGE_FILTER = {
  name: 'Returned packages, projects, annotation logs',
  extensions: ['pickstudio', 'parquet'],
};
const SOURCE_FILTER = {
  name: 'Pick-a-Pic Parquet, JSONL or CSV manifests',
  extensions: ['parquet', 'jsonl', 'ndjson', 'csv'],
};

const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error));

function removeProjectFile(file: string): void {
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
}

/** Makes the project the one the window shows. */
async function show({ window, project }: ActionContext, next: Studio): Promise<void> {
  await project.replace(next);
  // The renderer holds no project state worth keeping; a reload makes it ask the new project.
  window.webContents.reload();
}

async function chooseProject(context: ActionContext): Promise<void> {
  const { canceled, filePaths } = await dialog.showOpenDialog(context.window, {
    title: 'Open Project',
    properties: ['openFile'],
    filters: [PROJECT_FILTER],
  });
  const [file] = filePaths;
  if (canceled || file === undefined) return;
  let next: Studio;
  try {
    next = openProject(file, context.events);
  } catch (error) {
    dialog.showErrorBox('Cannot open the project', reason(error));
    return;
  }
  await show(context, next);
}

/**
 * Imports into a new file before showing it: a failed import removes the file, so no half-made
 * project is left behind to be mistaken for a whole one.
 */
async function importIntoNewProject(context: ActionContext, sources: string[]): Promise<void> {
  const first = sources[0]!;
  const { canceled, filePath } = await dialog.showSaveDialog(context.window, {
    title: 'Save the New Project As',
    defaultPath: path.join(path.dirname(first), `${path.parse(first).name}.pickstudio`),
    filters: [PROJECT_FILTER],
  });
  if (canceled || !filePath) return;
  if (fs.existsSync(filePath)) {
    dialog.showErrorBox(
      'Cannot create the project',
      `${filePath} already exists; choose a new file name (File → Open Project… opens it).`,
    );
    return;
  }
  let next: Studio | undefined;
  try {
    next = openProject(filePath, context.events, { create: true });
    await next.call('importSources', { sources });
  } catch (error) {
    next?.close();
    removeProjectFile(filePath);
    dialog.showErrorBox('Import failed; no project was created', reason(error));
    return;
  }
  await show(context, next);
}

async function importFiles(context: ActionContext): Promise<void> {
  const { canceled, filePaths } = await dialog.showOpenDialog(context.window, {
    title: 'Import Pick-a-Pic Parquet or Manifests',
    properties: ['openFile', 'multiSelections'],
    filters: [SOURCE_FILTER],
  });
  if (!canceled && filePaths.length > 0) await importIntoNewProject(context, filePaths);
}

async function importFolder(context: ActionContext): Promise<void> {
  const { canceled, filePaths } = await dialog.showOpenDialog(context.window, {
    title: 'Import a Folder of Parquet Shards or Manifests',
    properties: ['openDirectory'],
  });
  if (!canceled && filePaths.length > 0) await importIntoNewProject(context, filePaths);
}

async function exportParquet({ window, project }: ActionContext): Promise<void> {
  const current = await project.ready;
  const { canceled, filePath } = await dialog.showSaveDialog(window, {
    title: 'Export Verdicts as Pick-a-Pic Parquet',
    defaultPath: path.join(path.dirname(current.file), `${path.parse(current.file).name}.parquet`),
    filters: [{ name: 'Parquet', extensions: ['parquet'] }],
  });
  if (canceled || !filePath) return;
  const report = await current.call('exportParquet', { out: filePath });
  const leftOut =
    report.pairsWithoutMajority > 0
      ? `\n${report.pairsWithoutMajority} pairs left out: their annotations have no majority.`
      : '';
  await dialog.showMessageBox(window, {
    type: 'info',
    message: `Exported ${report.rows} pairs`,
    detail: `${report.out}${leftOut}`,
  });
}

/** The keys of the project on screen: a package has no `g` chords, having no other view. */
async function showShortcuts({ window, project }: ActionContext): Promise<void> {
  let role: Role = 'lead';
  try {
    role = (await (await project.ready).call('getProject', {})).role;
  } catch {
    // No project open: every key, as a lead's project has them.
  }
  await dialog.showMessageBox(window, {
    type: 'info',
    message: 'Keyboard Shortcuts',
    detail: shortcutLines(process.platform === 'darwin', role).join('\n'),
  });
}

/**
 * Runs one action at a time, so two dialogs never race to replace the project; a click while
 * one runs is dropped. A failure shows in an error box.
 */
function oneAtATime(): (action: () => Promise<void>) => () => void {
  let busy = false;
  return (action) => () => {
    if (busy) return;
    busy = true;
    action()
      .catch((error: unknown) => dialog.showErrorBox('Pick Studio', reason(error)))
      .finally(() => {
        busy = false;
      });
  };
}

/**
 * What the menu does. Each action is a dialog, then the chosen project opened or one call through
 * the dispatcher; main adds no logic of its own.
 */
export function createMenuActions(context: ActionContext): MenuActions {
  const exclusive = oneAtATime();
  return {
    openProject: exclusive(() => chooseProject(context)),
    newProjectFromFiles: exclusive(() => importFiles(context)),
    newProjectFromFolder: exclusive(() => importFolder(context)),
    exportParquet: exclusive(() => exportParquet(context)),
    makePackage: exclusive(() =>
      makeAnnotatorPackage({ ...context, projectFilter: PROJECT_FILTER }),
    ),
    mergePackages: exclusive(() =>
      mergeReturnedPackages({ ...context, projectFilter: MERGE_FILTER }),
    ),
    showShortcuts: () => void showShortcuts(context),
  };
}
