import { verdictToLabels, type Verdict } from '../../../../shared/labels';
import type { ExportAdjudication, ExportAnnotation, ExportReads } from '../../store/export-reads';
import type { ExportFlagEvent, FlagExportReads } from '../../store/flags';
import type { TaskContext } from '../../tasks';
import type { ColumnKind } from '../pickapic-schema';
import { BATCH_ROWS, int64, type ColumnBatch, type WriteBatch } from './parquet-file';

export const ANNOTATION_COLUMNS = [
  { name: 'annotation_id', kind: 'int64' },
  { name: 'pair_id', kind: 'int64' },
  { name: 'ranking_id', kind: 'int64' },
  { name: 'caption', kind: 'string' },
  { name: 'image_0_uid', kind: 'string' },
  { name: 'image_1_uid', kind: 'string' },
  { name: 'image_0_sha256', kind: 'string' },
  { name: 'image_1_sha256', kind: 'string' },
  { name: 'annotator', kind: 'string' },
  { name: 'annotator_kind', kind: 'string' },
  { name: 'annotator_uid', kind: 'string' },
  { name: 'origin', kind: 'string' },
  { name: 'origin_id', kind: 'int64' },
  { name: 'action', kind: 'string' },
  { name: 'verdict', kind: 'string' },
  { name: 'label_0', kind: 'float64' },
  { name: 'label_1', kind: 'float64' },
  { name: 'undoes_id', kind: 'int64' },
  { name: 'is_current', kind: 'bool' },
  { name: 'left_image', kind: 'int64' },
  { name: 'suggestion_visible', kind: 'bool' },
  { name: 'decision_ms', kind: 'int64' },
  { name: 'created_at', kind: 'timestamp' },
  { name: 'note', kind: 'string' },
  { name: 'adjudication_id', kind: 'int64' },
] as const satisfies readonly { name: string; kind: ColumnKind }[];

/**
 * The file's own key-value metadata: what it is and which project wrote it, so that a merge
 * knows it for an annotation log and can say where it came from.
 */
export const ANNOTATION_LOG_KEYS = {
  format: 'pickstudio.format',
  projectId: 'pickstudio.project_id',
} as const;
export const ANNOTATION_LOG_FORMAT = 'annotation-log/1';

export const annotationLogKeyValues = (projectId: string): Record<string, string> => ({
  [ANNOTATION_LOG_KEYS.format]: ANNOTATION_LOG_FORMAT,
  [ANNOTATION_LOG_KEYS.projectId]: projectId,
});

const labelsOf = (verdict: Verdict | null) => (verdict === null ? null : verdictToLabels(verdict));
const bool = (flag: number | null): boolean | null => (flag === null ? null : flag === 1);

/** A page of the annotation log as columns; `note` and `adjudication_id` are null. */
function annotationColumns(page: ExportAnnotation[]): ColumnBatch {
  const labels = page.map((a) => labelsOf(a.verdict));
  return {
    annotation_id: page.map((a) => a.id),
    pair_id: page.map((a) => a.pairId),
    ranking_id: page.map((a) => int64(a.rankingId)),
    caption: page.map((a) => a.caption),
    image_0_uid: page.map((a) => a.uid0),
    image_1_uid: page.map((a) => a.uid1),
    image_0_sha256: page.map((a) => a.sha0),
    image_1_sha256: page.map((a) => a.sha1),
    annotator: page.map((a) => a.annotator),
    annotator_kind: page.map((a) => a.annotatorKind),
    annotator_uid: page.map((a) => a.annotatorUid),
    origin: page.map((a) => a.origin),
    origin_id: page.map((a) => a.originId),
    action: page.map((a) => a.action),
    verdict: page.map((a) => (a.verdict === null ? null : String(a.verdict))),
    label_0: labels.map((l) => l?.label_0 ?? null),
    label_1: labels.map((l) => l?.label_1 ?? null),
    undoes_id: page.map((a) => a.undoesId),
    is_current: page.map((a) => a.isCurrent === 1),
    left_image: page.map((a) => a.leftImage),
    suggestion_visible: page.map((a) => bool(a.suggestionVisible)),
    decision_ms: page.map((a) => a.decisionMs),
    created_at: page.map((a) => a.createdAt),
  };
}

/**
 * Adjudications as events of the annotations table: the lead's verdict, with the note; the
 * annotation's own columns are null.
 */
function adjudicationColumns(page: ExportAdjudication[]): ColumnBatch {
  const labels = page.map((j) => verdictToLabels(j.verdict));
  return {
    pair_id: page.map((j) => j.pairId),
    caption: page.map((j) => j.caption),
    image_0_uid: page.map((j) => j.uid0),
    image_1_uid: page.map((j) => j.uid1),
    annotator: page.map((j) => j.adjudicator),
    annotator_kind: page.map(() => 'lead'),
    action: page.map(() => 'adjudication'),
    verdict: page.map((j) => String(j.verdict)),
    label_0: labels.map((l) => l.label_0),
    label_1: labels.map((l) => l.label_1),
    is_current: page.map((j) => j.isCurrent === 1),
    created_at: page.map((j) => j.createdAt),
    note: page.map((j) => j.note),
    adjudication_id: page.map((j) => j.id),
  };
}

/** Standing flags as events of the annotations table: who flagged the pair, and the note. */
function flagColumns(page: ExportFlagEvent[]): ColumnBatch {
  return {
    pair_id: page.map((f) => f.pairId),
    caption: page.map((f) => f.caption),
    image_0_uid: page.map((f) => f.uid0),
    image_1_uid: page.map((f) => f.uid1),
    image_0_sha256: page.map((f) => f.sha0),
    image_1_sha256: page.map((f) => f.sha1),
    annotator: page.map((f) => f.annotator),
    annotator_kind: page.map((f) => f.annotatorKind),
    annotator_uid: page.map((f) => f.annotatorUid),
    action: page.map(() => 'flag'),
    is_current: page.map(() => true),
    created_at: page.map((f) => f.createdAt),
    note: page.map((f) => f.note),
  };
}

/**
 * The annotation log's rows in id order (the order they were written), then the adjudications in
 * id order, as events of their own: every annotation row comes before every adjudication row.
 */
export async function writeAnnotations(
  reads: ExportReads,
  flags: FlagExportReads,
  writeBatch: WriteBatch,
  context: TaskContext,
): Promise<{ rows: number }> {
  const total = reads.annotationCount() + reads.adjudicationCount() + flags.count();
  let rows = 0;
  // Page by page after a cursor: ids for the log and the adjudications, (pair, annotator) for
  // the flags.
  const writeLog = async <T, Cursor>(
    first: Cursor,
    page: (after: Cursor) => T[],
    cursorOf: (last: T) => Cursor,
    toColumns: (page: T[]) => ColumnBatch,
  ): Promise<void> => {
    for (let after = first; ; ) {
      context.throwIfCancelled();
      const batch = page(after);
      if (batch.length === 0) break;
      await writeBatch(toColumns(batch), batch.length);
      rows += batch.length;
      after = cursorOf(batch[batch.length - 1]!);
      context.progress(rows, total, 'annotations');
    }
  };
  const byId = (row: { id: number }): number => row.id;
  await writeLog(0, (after) => reads.annotationPage(after, BATCH_ROWS), byId, annotationColumns);
  await writeLog(
    0,
    (after) => reads.adjudicationPage(after, BATCH_ROWS),
    byId,
    adjudicationColumns,
  );
  // Then the standing flags, by pair and annotator.
  await writeLog<ExportFlagEvent, [number, number]>(
    [0, 0],
    (after) => flags.page(after, BATCH_ROWS),
    (flag) => [flag.pairId, flag.annotatorId],
    flagColumns,
  );
  return { rows };
}
