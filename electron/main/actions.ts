import fs from 'node:fs';
import path from 'node:path';
import { dialog, type BrowserWindow } from 'electron';
import type { MethodResult, TaskProgress } from '../../shared/api';
import { openProject, type CurrentProject, type OpenProject } from './project';

export interface MenuActions {
  openProject(): void;
  newProjectFromFiles(): void;
  newProjectFromFolder(): void;
  exportParquet(): void;
  showShortcuts(): void;
}

const PROJECT_FILTER = { name: 'Pick Studio project', extensions: ['pickstudio'] };
const SOURCE_FILTER = {
  name: 'Pick-a-Pic Parquet, JSONL or CSV manifests',
  extensions: ['parquet', 'jsonl', 'ndjson', 'csv'],
};

const SHORTCUTS = [
  '← or 1  –  the left image is better',
  '→ or 2  –  the right image is better',
  '↓ or 3  –  tie',
  'Space  –  skip',
  'Backspace or Ctrl+Z  –  undo',
  '?  –  this list of shortcuts',
].join('\n');

const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error));

function removeProjectFile(file: string): void {
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
}

/**
 * What the menu does. Each action is a dialog, then one call through the dispatcher; main adds no
 * logic of its own. One action runs at a time, so two dialogs never race to replace the project.
 */
export function createMenuActions(options: {
  window: BrowserWindow;
  project: CurrentProject;
  progress: (progress: TaskProgress) => void;
}): MenuActions {
  const { window, project, progress } = options;
  let busy = false;
  const exclusive = (action: () => Promise<void>) => (): void => {
    if (busy) return;
    busy = true;
    action()
      .catch((error: unknown) => dialog.showErrorBox('Pick Studio', reason(error)))
      .finally(() => {
        busy = false;
      });
  };

  // The renderer holds no project state worth keeping; a reload makes it ask the new project.
  const show = async (next: OpenProject): Promise<void> => {
    await project.replace(next);
    window.webContents.reload();
  };

  const chooseProject = async (): Promise<void> => {
    const { canceled, filePaths } = await dialog.showOpenDialog(window, {
      title: 'Open Project',
      properties: ['openFile'],
      filters: [PROJECT_FILTER],
    });
    const [file] = filePaths;
    if (canceled || file === undefined) return;
    let next: OpenProject;
    try {
      next = openProject(file, progress);
    } catch (error) {
      dialog.showErrorBox('Cannot open the project', reason(error));
      return;
    }
    await show(next);
  };

  /**
   * Imports into a new file before showing it: a failed import removes the file, so no half-made
   * project is left behind to be mistaken for a whole one.
   */
  const importIntoNewProject = async (sources: string[]): Promise<void> => {
    const first = sources[0]!;
    const { canceled, filePath } = await dialog.showSaveDialog(window, {
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
    let next: OpenProject | undefined;
    try {
      next = openProject(filePath, progress, { create: true });
      await next.dispatch('importSources', { sources });
    } catch (error) {
      next?.store.close();
      removeProjectFile(filePath);
      dialog.showErrorBox('Import failed; no project was created', reason(error));
      return;
    }
    await show(next);
  };

  const importFiles = async (): Promise<void> => {
    const { canceled, filePaths } = await dialog.showOpenDialog(window, {
      title: 'Import Pick-a-Pic Parquet or Manifests',
      properties: ['openFile', 'multiSelections'],
      filters: [SOURCE_FILTER],
    });
    if (!canceled && filePaths.length > 0) await importIntoNewProject(filePaths);
  };

  const importFolder = async (): Promise<void> => {
    const { canceled, filePaths } = await dialog.showOpenDialog(window, {
      title: 'Import a Folder of Parquet Shards or Manifests',
      properties: ['openDirectory'],
    });
    if (!canceled && filePaths.length > 0) await importIntoNewProject(filePaths);
  };

  const exportParquet = async (): Promise<void> => {
    const current = await project.ready;
    const file = current.store.file;
    const { canceled, filePath } = await dialog.showSaveDialog(window, {
      title: 'Export Verdicts as Pick-a-Pic Parquet',
      defaultPath: path.join(path.dirname(file), `${path.parse(file).name}.parquet`),
      filters: [{ name: 'Parquet', extensions: ['parquet'] }],
    });
    if (canceled || !filePath) return;
    const report = (await current.dispatch('exportParquet', {
      out: filePath,
    })) as MethodResult<'exportParquet'>;
    const leftOut =
      report.pairsWithoutMajority > 0
        ? `\n${report.pairsWithoutMajority} pairs left out: their annotations have no majority.`
        : '';
    await dialog.showMessageBox(window, {
      type: 'info',
      message: `Exported ${report.rows} pairs`,
      detail: `${report.out}${leftOut}`,
    });
  };

  return {
    openProject: exclusive(chooseProject),
    newProjectFromFiles: exclusive(importFiles),
    newProjectFromFolder: exclusive(importFolder),
    exportParquet: exclusive(exportParquet),
    showShortcuts: () =>
      void dialog.showMessageBox(window, {
        type: 'info',
        message: 'Keyboard Shortcuts',
        detail: SHORTCUTS,
      }),
  };
}
