import fs from 'node:fs';
import path from 'node:path';
import type { ExportReport } from '../../../../shared/api';
import { StudioError } from '../../../../shared/errors';
import type { ProjectStore } from '../../store/project-store';
import type { ProjectSnapshot } from '../../store/snapshot';
import type { TaskContext } from '../../tasks';
import type { WorkerEntry } from '../../worker-client';
import { isSameFile, refuseProjectFileAsOutput } from '../same-file';
import { ANNOTATION_COLUMNS, annotationLogKeyValues, writeAnnotations } from './annotations';
import { imagesMode } from './images';
import { writeAtomically } from './parquet-file';
import { pairColumns, writePairs } from './pairs';
import { perAnnotatorColumns, writePerAnnotator } from './per-annotator';

export interface ExportOptions {
  out: string;
  images: boolean;
  /**
   * Re-encode images that are not JPEG as JPEG (PIL's convert('RGB'): alpha dropped, not
   * composited); by default every image goes out as the bytes the project has, undecoded.
   */
  jpeg?: boolean;
  /** One row per annotator and pair (see per-annotator.ts) instead of one per pair. */
  perAnnotator?: boolean;
  annotationsOut?: string;
  /** The model whose scores fill the pickscore columns, by name; default the active model. */
  model?: string;
}

/** The model whose scores the export carries: named, or the project's active one (or none). */
function exportModelId(snapshot: ProjectSnapshot, name: string | undefined): number | null {
  if (name === undefined) return snapshot.scores.activeModel()?.id ?? null;
  const named = snapshot.scores.modelIdByName(name);
  if (named === undefined) {
    throw new StudioError(
      'not_found',
      `no model named ${JSON.stringify(name)} has scored this project`,
    );
  }
  return named;
}

/**
 * Refuses, before anything is written, an output that would destroy something or not be what
 * its name claims: the project or a file SQLite keeps beside it (under any spelling), a name
 * without .parquet, and the annotations written over the main export.
 */
function checkOutputs(options: ExportOptions, project: string): void {
  const outputs = [options.out, options.annotationsOut].filter((out) => out !== undefined);
  for (const out of outputs) {
    refuseProjectFileAsOutput(out, project, 'the project');
    if (path.extname(out).toLowerCase() !== '.parquet') {
      throw new StudioError(
        'invalid_argument',
        `${out}: an export is a Parquet file, and this name says otherwise; name it *.parquet`,
      );
    }
  }
  if (options.annotationsOut !== undefined && isSameFile(options.out, options.annotationsOut)) {
    throw new StudioError(
      'invalid_argument',
      `${options.annotationsOut}: the annotations would be written over the export itself ` +
        `(${options.out}); give each its own file`,
    );
  }
}

/**
 * Writes the project's verdicts as a Pick-a-Pic shard, row group by row group, from one
 * consistent snapshot (a read transaction on a second connection, so labeling can go on). The
 * file appears under its real name only once complete.
 */
export async function exportParquet(
  store: ProjectStore,
  options: ExportOptions,
  context: TaskContext,
  worker: WorkerEntry | null,
): Promise<ExportReport> {
  const started = performance.now();
  checkOutputs(options, store.file);
  const snapshot = store.snapshot();
  try {
    const modelId = exportModelId(snapshot, options.model);
    const main = options.perAnnotator
      ? await writeAtomically(
          options.out,
          perAnnotatorColumns(options.images),
          (writeGroup) =>
            writePerAnnotator(snapshot, writeGroup, imagesMode(options), context).then((r) => ({
              ...r,
              pairsWithoutMajority: 0,
            })),
          { worker },
        )
      : await writeAtomically(
          options.out,
          pairColumns(options.images),
          (writeGroup) => writePairs(snapshot, writeGroup, imagesMode(options), modelId, context),
          { worker },
        );
    let annotationRows = 0;
    if (options.annotationsOut) {
      annotationRows = (
        await writeAtomically(
          options.annotationsOut,
          ANNOTATION_COLUMNS,
          (writeGroup) => writeAnnotations(snapshot.exports, snapshot.flags, writeGroup, context),
          { keyValues: annotationLogKeyValues(store.projectId), worker },
        )
      ).rows;
    }
    return {
      out: path.resolve(options.out),
      rows: main.rows,
      bytes: fs.statSync(options.out).size,
      pairsWithoutMajority: main.pairsWithoutMajority,
      annotationsOut: options.annotationsOut ? path.resolve(options.annotationsOut) : null,
      annotationRows,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    snapshot.close();
  }
}
