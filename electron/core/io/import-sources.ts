import fs from 'node:fs';
import path from 'node:path';
import type { ImportFileReport, ImportReport } from '../../../shared/api';
import { StudioError } from '../../../shared/errors';
import { failureAfterKept } from './batch';
import type { ProjectStore } from '../store/project-store';
import type { TaskContext } from '../tasks';
import { stagingFileFor } from '../store/staging';
import { countManifestRows, manifestFormatOf } from './import-manifest';
import { openPickapicShard } from './import-pickapic';
import {
  importFailure,
  stagesInWorker,
  type Staged,
  type StagedCounts,
  type Stager,
  type StagingJob,
} from './import-stage';

/** A file to import, checked before anything is written, and its rows for the progress. */
interface PlannedFile {
  job: StagingJob;
  rows: number;
}

const isImportable = (file: string): boolean =>
  file.toLowerCase().endsWith('.parquet') || manifestFormatOf(file) !== null;

/** Files named, and the importable files found under folders named, in a stable order. */
export function expandSources(sources: string[]): string[] {
  const files: string[] = [];
  for (const source of sources) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(source);
    } catch {
      throw new StudioError('not_found', `${source}: no such file or folder`);
    }
    if (stat.isDirectory()) {
      const found = (fs.readdirSync(source, { recursive: true }) as string[])
        .map((name) => path.join(source, name))
        .filter((file) => isImportable(file) && fs.statSync(file).isFile())
        .sort();
      if (found.length === 0) {
        throw new StudioError(
          'bad_input',
          `${source}: no .parquet, .jsonl or .csv files in this folder`,
        );
      }
      files.push(...found);
    } else {
      if (!isImportable(source)) {
        throw new StudioError(
          'bad_input',
          `${source}: not an importable file (expected .parquet, .jsonl, .ndjson or .csv)`,
        );
      }
      files.push(source);
    }
  }
  return [...new Set(files.map((file) => path.resolve(file)))];
}

/**
 * Imports each file in its own transaction: a file lands whole or not at all. On a bad file the
 * error names it (and the row); files before it stay imported, and the message says so. With
 * several files, the stager reads and checks the next one while this thread merges the one
 * before (in its worker, for imports big enough to pay for it: stagesInWorker).
 */
export async function importSources(
  store: ProjectStore,
  sources: string[],
  context: TaskContext,
  stager: Stager,
): Promise<ImportReport> {
  const started = performance.now();
  // A read-only project fails now, not after the files were read.
  store.assertWritable('import');
  const plan: PlannedFile[] = [];
  for (const file of expandSources(sources)) {
    const format = manifestFormatOf(file);
    if (format) {
      plan.push({
        job: { kind: 'manifest', file, format },
        rows: await countManifestRows(file, format),
      });
    } else {
      const shard = await openPickapicShard(file);
      plan.push({ job: { kind: 'parquet', file, shard }, rows: shard.numRows });
    }
  }
  const rowsBefore: number[] = [];
  let totalRows = 0;
  for (const planned of plan) {
    rowsBefore.push(totalRows);
    totalRows += planned.rows;
  }
  const rowsRead = monotonic(context);
  rowsRead.progress(0, totalRows);

  const where = stagesInWorker(plan) ? 'worker' : 'here';
  const staged: { scratch: string; staging: Staged }[] = [];
  const stageNext = (): void => {
    const request = {
      projectFile: store.file,
      job: plan[staged.length]!.job,
      scratch: stagingFileFor(store.file),
      progress: { rowsBefore: rowsBefore[staged.length]!, totalRows },
    };
    staged.push({
      scratch: request.scratch,
      staging: stager.stage(store, request, rowsRead, where),
    });
  };
  const reports: ImportFileReport[] = [];
  try {
    stageNext();
    for (const [index, planned] of plan.entries()) {
      const { scratch, staging } = staged[index]!;
      try {
        const counts = await staging.counts;
        if (staged.length < plan.length) stageNext();
        context.throwIfCancelled();
        rowsRead.progress(
          rowsBefore[index]! + planned.rows,
          totalRows,
          `merging ${path.basename(planned.job.file)}`,
        );
        reports.push(mergeFile(store, planned, scratch, counts));
      } catch (error) {
        throw failureAfterKept(error, reports, 'imported');
      } finally {
        fs.rmSync(scratch, { force: true });
      }
    }
  } finally {
    await stopStaging(staged.slice(reports.length + 1));
  }
  rowsRead.progress(totalRows, totalRows);
  return { files: reports, seconds: (performance.now() - started) / 1000 };
}

/**
 * The task's context with its row count kept from going back: the next file's staging counts
 * on while this one merges.
 */
function monotonic(context: TaskContext): TaskContext {
  let shown = 0;
  return {
    signal: context.signal,
    throwIfCancelled: () => context.throwIfCancelled(),
    progress(done, total, detail) {
      shown = Math.max(shown, done);
      context.progress(shown, total, detail);
    },
  };
}

/** Stops stagings still going (the import failed) and removes their scratch files. */
async function stopStaging(left: { scratch: string; staging: Staged }[]): Promise<void> {
  for (const { scratch, staging } of left) {
    staging.stop();
    await staging.counts.catch(() => {});
    fs.rmSync(scratch, { force: true });
  }
}

/** Merges one staged file in one transaction. */
function mergeFile(
  store: ProjectStore,
  planned: PlannedFile,
  scratch: string,
  staged: StagedCounts,
): ImportFileReport {
  const { job } = planned;
  let merged;
  try {
    merged = store.mergeStaged(scratch, path.basename(job.file));
  } catch (error) {
    throw importFailure(error, store.file, job.file);
  }
  return {
    file: job.file,
    format: job.kind === 'parquet' ? 'pickapic-parquet' : job.format,
    rows: staged.rows,
    pairsAdded: merged.pairsAdded,
    annotationsAdded: merged.annotationsAdded,
    rowsAlreadyPresent: staged.alreadyPresent + merged.rowsAlreadyPresent,
    duplicatesDropped: merged.duplicatesDropped,
  };
}
