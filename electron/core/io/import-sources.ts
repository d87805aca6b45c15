import fs from 'node:fs';
import path from 'node:path';
import type { ImportFileReport, ImportReport } from '../../../shared/api';
import { StudioError } from '../../../shared/errors';
import { storageError } from '../store/open';
import { failureAfterKept } from './batch';
import type { ProjectStore } from '../store/project-store';
import type { TaskContext } from '../tasks';
import {
  countManifestRows,
  manifestFormatOf,
  stageManifest,
  type ManifestFormat,
} from './import-manifest';
import { openPickapicShard, stagePickapicShard, type ImportProgress } from './import-pickapic';
import type { Staging } from '../store/staging';

type PlannedFile =
  | {
      kind: 'parquet';
      file: string;
      rows: number;
      shard: Awaited<ReturnType<typeof openPickapicShard>>;
    }
  | { kind: 'manifest'; file: string; rows: number; format: ManifestFormat };

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
 * error names it (and the row); files before it stay imported, and the message says so.
 */
export async function importSources(
  store: ProjectStore,
  sources: string[],
  context: TaskContext,
): Promise<ImportReport> {
  const started = performance.now();
  // A read-only project fails now, not after the files were read.
  store.assertWritable('import');
  const plan: PlannedFile[] = [];
  for (const file of expandSources(sources)) {
    const format = manifestFormatOf(file);
    if (format) {
      plan.push({ kind: 'manifest', file, format, rows: await countManifestRows(file, format) });
    } else {
      const shard = await openPickapicShard(file);
      plan.push({ kind: 'parquet', file, shard, rows: shard.numRows });
    }
  }
  const totalRows = plan.reduce((sum, planned) => sum + planned.rows, 0);
  context.progress(0, totalRows);

  const reports: ImportFileReport[] = [];
  let rowsBefore = 0;
  for (const planned of plan) {
    try {
      reports.push(await importFile(store, planned, context, { rowsBefore, totalRows }));
    } catch (error) {
      throw failureAfterKept(error, reports, 'imported');
    }
    rowsBefore += planned.rows;
    context.progress(rowsBefore, totalRows, path.basename(planned.file));
  }
  return { files: reports, seconds: (performance.now() - started) / 1000 };
}

/** Stages one file (the slow part, with awaits), then merges it in one short transaction. */
async function importFile(
  store: ProjectStore,
  planned: PlannedFile,
  context: TaskContext,
  progress: ImportProgress,
): Promise<ImportFileReport> {
  const staging = store.stage();
  try {
    return await stageAndMerge(store, planned, staging, context, progress);
  } catch (error) {
    // The scratch file and the project share a disk: either may be the one that is full.
    throw storageError(error, store.file, `importing ${path.basename(planned.file)}`) ?? error;
  } finally {
    staging.remove();
  }
}

async function stageAndMerge(
  store: ProjectStore,
  planned: PlannedFile,
  staging: Staging,
  context: TaskContext,
  progress: ImportProgress,
): Promise<ImportFileReport> {
  const staged =
    planned.kind === 'parquet'
      ? await stagePickapicShard(store, planned.shard, staging, context, progress)
      : {
          ...(await stageManifest(planned.file, planned.format, staging, context, progress)),
          alreadyPresent: 0,
        };
  context.throwIfCancelled();
  context.progress(
    progress.rowsBefore + planned.rows,
    progress.totalRows,
    `merging ${path.basename(planned.file)}`,
  );
  const merged = staging.merge(path.basename(planned.file));
  return {
    file: planned.file,
    format: planned.kind === 'parquet' ? 'pickapic-parquet' : planned.format,
    rows: staged.rows,
    pairsAdded: merged.pairsAdded,
    annotationsAdded: merged.annotationsAdded,
    rowsAlreadyPresent: staged.alreadyPresent + merged.rowsAlreadyPresent,
    duplicatesDropped: merged.duplicatesDropped,
  };
}
