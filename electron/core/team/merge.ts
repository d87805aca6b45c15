import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MergeFileReport, MergeSourceKind } from '../../../shared/api';
import { StudioError } from '../../../shared/errors';
import { openAnnotationLog, readAnnotationLog } from '../io/annotation-log';
import { failureAfterKept } from '../io/batch';
import { isSameFile } from '../io/same-file';
import { LogFileWriter } from '../store/log-file';
import {
  FIRST_TEAM_SCHEMA,
  readIdentity,
  type MergeCount,
  type ProjectIdentity,
} from '../store/merge';
import type { ProjectStore } from '../store/project-store';
import type { TaskContext } from '../tasks';

/**
 * Merges each file's annotation log into the lead's project, one transaction per file: a bad
 * file is named with the problem and changes nothing; files before it stay merged, and the
 * message says so.
 */
export async function mergeSources(
  lead: ProjectStore,
  sources: string[],
  context: TaskContext,
): Promise<MergeFileReport[]> {
  // A read-only project fails now, not after the first file.
  lead.assertWritable('merge');
  return lead.deferringCheckpoints(async () => {
    const reports: MergeFileReport[] = [];
    for (const [index, file] of sources.entries()) {
      context.throwIfCancelled();
      try {
        reports.push(await mergeFile(lead, file, withinFile(context, index, sources.length)));
      } catch (error) {
        throw failureAfterKept(error, reports, 'merged');
      }
      context.progress(index + 1, sources.length, path.basename(file));
      // Yield between files, so a cancel or another call gets its turn.
      await new Promise((resolve) => setImmediate(resolve));
    }
    return reports;
  });
}

/**
 * The merge counts files; reading an annotation log counts its rows. Those go into the detail,
 * so that the files' count and its estimate stay one measure.
 */
function withinFile(context: TaskContext, index: number, files: number): TaskContext {
  return {
    signal: context.signal,
    throwIfCancelled: () => context.throwIfCancelled(),
    progress: (done, total, detail) =>
      context.progress(
        index,
        files,
        `${detail ?? ''}: ${done.toLocaleString('en-US')}${total === null ? '' : ` of ${total.toLocaleString('en-US')}`} rows read`,
      ),
  };
}

async function mergeFile(
  lead: ProjectStore,
  source: string,
  context: TaskContext,
): Promise<MergeFileReport> {
  const file = path.resolve(source);
  if (!fs.existsSync(file)) throw new StudioError('not_found', `${file}: no such file`);
  if (isParquet(file)) return mergeAnnotationLog(lead, file, context);
  const identity = identityOf(file);
  checkBelongs(lead, file, identity);
  const kind = identity.role === 'annotator' ? 'package' : 'project';
  return report(file, kind, {
    ...lead.merges.merge(file, identity, { file, kind }),
    adjudicationsLeftOut: 0,
  });
}

/**
 * An annotation log (`export --annotations`) is read, checked row by row, into a scratch file of
 * a project's shape, which then merges as any project does: the same matching by content, the
 * same keys, one transaction.
 */
async function mergeAnnotationLog(
  lead: ProjectStore,
  file: string,
  context: TaskContext,
): Promise<MergeFileReport> {
  const log = await openAnnotationLog(file);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pickstudio-merge-'));
  try {
    const logFile = path.join(scratch, 'log.pickstudio');
    const writer = new LogFileWriter(logFile);
    let read;
    try {
      read = await readAnnotationLog(log, writer, context);
    } finally {
      writer.close();
    }
    context.throwIfCancelled();
    const identity: ProjectIdentity = {
      projectId: log.projectId ?? '',
      role: 'lead',
      originProject: null,
      packageId: null,
      annotator: null,
    };
    return report(file, 'annotation log', {
      ...lead.merges.merge(logFile, identity, { file, kind: 'annotation log' }),
      adjudicationsLeftOut: read.adjudications,
    });
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

function report(
  file: string,
  kind: MergeSourceKind,
  counts: MergeCount & { adjudicationsLeftOut: number },
): MergeFileReport {
  return {
    file,
    kind,
    annotators: counts.annotatorsInvolved,
    annotationsAdded: counts.annotationsAdded,
    annotationsPresent: counts.annotationsPresent,
    annotationsOnUnknownPairs: counts.annotationsOnUnknownPairs,
    imagesFilled: counts.imagesFilled,
    adjudicationsLeftOut: counts.adjudicationsLeftOut,
    renamed: counts.renamed.map(([from, to]) => ({ from, to })),
    flagsMerged: counts.flagsMerged,
  };
}

/** Parquet files start with PAR1; projects with SQLite's header. */
function isParquet(file: string): boolean {
  const head = Buffer.alloc(4);
  const fd = fs.openSync(file, 'r');
  try {
    return fs.readSync(fd, head, 0, 4, 0) === 4 && head.toString('latin1') === 'PAR1';
  } finally {
    fs.closeSync(fd);
  }
}

/** The file's identity; a file that is not a project, or is damaged, is named as such. */
function identityOf(file: string): ProjectIdentity & { schemaVersion: number } {
  try {
    return readIdentity(file);
  } catch (error) {
    if (error instanceof StudioError) throw error;
    throw new StudioError(
      'bad_input',
      `${file}: not a Pick Studio project, or a damaged one (${(error as Error).message})`,
    );
  }
}

/** Refuses a file that is not this project's to merge: another lead's package, this project. */
function checkBelongs(
  lead: ProjectStore,
  file: string,
  identity: ProjectIdentity & { schemaVersion: number },
): void {
  if (identity.schemaVersion < FIRST_TEAM_SCHEMA) {
    throw new StudioError(
      'bad_input',
      `${file}: made by an earlier Pick Studio (schema ${identity.schemaVersion}); open it once with this version, which upgrades it, then merge it`,
    );
  }
  // A copy of the project is welcome (its own events are told apart, see keepCopiesApart); the
  // project itself, under any name, is not.
  if (identity.projectId === lead.projectId && isSameFile(file, lead.file)) {
    throw new StudioError('bad_input', `${file}: this is ${lead.file} itself: nothing to merge`);
  }
  if (identity.role === 'annotator' && identity.originProject !== lead.projectId) {
    throw new StudioError(
      'bad_input',
      `${file}: a package made from another project (${identity.originProject}), not from ${lead.file} (${lead.projectId}); merge it into the project it came from`,
    );
  }
}
