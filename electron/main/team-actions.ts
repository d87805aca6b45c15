import path from 'node:path';
import { dialog, type BrowserWindow, type FileFilter } from 'electron';
import type { Studio } from '../core/studio';
import type { CurrentProject } from './project';
import {
  annotatorOfFile,
  describeMerge,
  describePackage,
  packageDefaultPath,
  packageFile,
  packageSizeDetail,
  pairChoices,
  type PairChoice,
} from './team-text';

/**
 * What the team's actions work with: the window their dialogs belong to, the lead's project, and
 * the dialogs' filter for project files (actions.ts's, the one the app opens projects with).
 */
export interface TeamContext {
  window: BrowserWindow;
  project: CurrentProject;
  projectFilter: FileFilter;
}

/** The package's size, asked with the project's count and overlap in view; null: cancelled. */
async function askPackageSize(
  window: BrowserWindow,
  lead: Studio,
  annotator: string,
): Promise<PairChoice | null> {
  const [stats, settings] = await Promise.all([
    lead.call('getStats', {}),
    lead.call('getSettings', {}),
  ]);
  const choices = pairChoices(stats.counts.pairs);
  const { response } = await dialog.showMessageBox(window, {
    type: 'question',
    message: `How many pairs for ${annotator}?`,
    detail: packageSizeDetail(stats.counts.pairs, settings.overlap),
    buttons: [...choices.map((choice) => choice.label), 'Cancel'],
    defaultId: choices.length - 1,
    cancelId: choices.length,
    noLink: true,
  });
  return choices[response] ?? null;
}

/**
 * File → Make Annotator Package…: a save dialog whose file name is the annotator's name (Electron
 * has no text prompt, and the file is what the lead sends that person anyway), the package's
 * size from a few round ones, then one makePackage.
 */
export async function makeAnnotatorPackage(context: TeamContext): Promise<void> {
  const { window, project } = context;
  const lead = await project.ready;
  const { canceled, filePath } = await dialog.showSaveDialog(window, {
    title: "Make Annotator Package: save it under the annotator's name",
    // macOS shows these two; elsewhere the title says it.
    message: "The file's name is the annotator's name: Ana Lima.pickstudio is Ana Lima's package.",
    nameFieldLabel: 'Annotator:',
    buttonLabel: 'Make Package',
    defaultPath: packageDefaultPath(lead.file),
    filters: [context.projectFilter],
  });
  if (canceled || !filePath) return;
  const out = packageFile(filePath);
  const annotator = annotatorOfFile(out);
  const size = await askPackageSize(window, lead, annotator);
  if (size === null) return;
  const report = await lead.call('makePackage', {
    out,
    annotator,
    ...(size.pairs !== undefined ? { pairs: size.pairs } : {}),
  });
  await dialog.showMessageBox(window, { type: 'info', ...describePackage(report) });
}

/** File → Merge Returned Packages…: the files chosen in one open dialog, then one merge. */
export async function mergeReturnedPackages(context: TeamContext): Promise<void> {
  const { window, project } = context;
  const lead = await project.ready;
  const { canceled, filePaths } = await dialog.showOpenDialog(window, {
    title: 'Merge Returned Packages',
    buttonLabel: 'Merge',
    defaultPath: path.dirname(lead.file),
    properties: ['openFile', 'multiSelections'],
    filters: [context.projectFilter],
  });
  if (canceled || filePaths.length === 0) return;
  const report = await lead.call('merge', { sources: filePaths });
  await dialog.showMessageBox(window, { type: 'info', ...describeMerge(report) });
}
