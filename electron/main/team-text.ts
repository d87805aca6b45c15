/**
 * The words and choices of the File menu's team actions (team-actions.ts), kept apart from
 * Electron so that tests read them without a window (tests/unit/team-ui.test.ts).
 */
import path from 'node:path';
import type { MethodResult } from '../../shared/api';

export const PACKAGE_EXTENSION = '.pickstudio';

/**
 * The package's file as saved: the name chosen, with `.pickstudio` added where the dialog left it
 * off (Linux's does), so that the annotator's Open dialog lists it.
 */
export function packageFile(chosen: string): string {
  return chosen.toLowerCase().endsWith(PACKAGE_EXTENSION) ? chosen : chosen + PACKAGE_EXTENSION;
}

/** The annotator a package is for: its file's name, as the save dialog asked. */
export function annotatorOfFile(file: string): string {
  return path.basename(packageFile(file)).slice(0, -PACKAGE_EXTENSION.length).trim();
}

/** What the save dialog proposes: a name to type over, beside the lead's project. */
export function packageDefaultPath(leadFile: string): string {
  return path.join(path.dirname(leadFile), `Annotator name${PACKAGE_EXTENSION}`);
}

/** Round sizes a lead picks a package from; larger projects offer the larger ones. */
const SIZES = [25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000];

export interface PairChoice {
  label: string;
  /** Pairs to ask for; undefined: all the assignment rules leave for this annotator. */
  pairs: number | undefined;
}

/**
 * The message box's buttons for a package's size: the three largest round sizes below the
 * project's pair count, then all that are left. (A native dialog takes no typed number; any
 * other size is `pickstudio pack --pairs N`.)
 */
export function pairChoices(totalPairs: number): PairChoice[] {
  const sizes = SIZES.filter((n) => n < totalPairs).slice(-3);
  return [
    ...sizes.map((n) => ({ label: `${n.toLocaleString('en')} pairs`, pairs: n })),
    { label: 'All that are left', pairs: undefined },
  ];
}

/** How the package was chosen, for the size question's detail. */
export function packageSizeDetail(totalPairs: number, overlap: number | null): string {
  const k = overlap ?? 1;
  return [
    `The project has ${totalPairs.toLocaleString('en')} pairs. A package takes pairs that are in fewer than ${k} package${k === 1 ? '' : 's'} (the project's overlap setting, in the audit dashboard), the least covered first.`,
    'Another size: pickstudio pack LEAD OUT --annotator NAME --pairs N.',
  ].join('\n\n');
}

type PackageReport = MethodResult<'makePackage'>;

export function describePackage(report: PackageReport): { message: string; detail: string } {
  const mib = (report.bytes / 1024 / 1024).toFixed(1);
  return {
    message: `Made a package of ${report.pairs.toLocaleString('en')} pairs for ${report.annotator}`,
    detail: [
      report.out,
      `${report.images.toLocaleString('en')} images inside, ${mib} MiB.` +
        (report.goldPairs > 0
          ? ` ${report.goldPairs.toLocaleString('en')} of the pairs are gold pairs, mixed in unannounced.`
          : ''),
      `Send this file to ${report.annotator}. They open it in Pick Studio (File → Open Project…) or with pickstudio serve, label, quit, and send it back; then File → Merge Returned Packages… brings their labels in.`,
    ].join('\n\n'),
  };
}

type MergeReport = MethodResult<'merge'>;

function describeMergedFile(file: MergeReport['files'][number]): string {
  const who = file.annotators.length > 0 ? file.annotators.join(', ') : 'nobody';
  const lines = [
    `${path.basename(file.file)} (${file.kind} of ${who}): ${file.annotationsAdded.toLocaleString('en')} new annotations, ${file.annotationsPresent.toLocaleString('en')} already here`,
  ];
  if (file.annotationsOnUnknownPairs > 0) {
    lines.push(
      `  ${file.annotationsOnUnknownPairs.toLocaleString('en')} on pairs this project does not have: left out`,
    );
  }
  if (file.flagsMerged > 0) {
    lines.push(`  ${file.flagsMerged.toLocaleString('en')} flags added or updated`);
  }
  if (file.adjudicationsLeftOut > 0) {
    lines.push(
      `  ${file.adjudicationsLeftOut.toLocaleString('en')} adjudications: left out (adjudications stay in the project that made them)`,
    );
  }
  for (const { from, to } of file.renamed) {
    lines.push(`  "${from}" is someone else here: kept apart as "${to}"`);
  }
  return lines.join('\n');
}

export function describeMerge(report: MergeReport): { message: string; detail: string } {
  const added = report.files.reduce((sum, file) => sum + file.annotationsAdded, 0);
  const files = report.files.length;
  return {
    message: `Merged ${files} file${files === 1 ? '' : 's'}: ${added.toLocaleString('en')} new annotations`,
    detail: [
      ...report.files.map(describeMergedFile),
      'The audit view lists every merge in its Merged tab.',
    ].join('\n\n'),
  };
}
