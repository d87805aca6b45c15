import { verdictToLabels } from '../../../../shared/labels';
import type { ExportAdjudication, ExportAnnotation, ExportReads } from '../../store/export-reads';
import type { ExportFlagEvent, FlagExportReads } from '../../store/flags';
import type { TaskContext } from '../../tasks';
import type { ColumnKind } from '../pickapic-schema';
import { bigintOrNull, int64, MAX_GROUP_ROWS, type Row, type WriteGroup } from './parquet-file';

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

function annotationRow(a: ExportAnnotation): Row {
  const labels = a.verdict === null ? null : verdictToLabels(a.verdict);
  return {
    annotation_id: BigInt(a.id),
    pair_id: BigInt(a.pairId),
    ranking_id: int64(a.rankingId),
    caption: a.caption,
    image_0_uid: a.uid0,
    image_1_uid: a.uid1,
    image_0_sha256: a.sha0,
    image_1_sha256: a.sha1,
    annotator: a.annotator,
    annotator_kind: a.annotatorKind,
    annotator_uid: a.annotatorUid,
    origin: a.origin,
    origin_id: BigInt(a.originId),
    action: a.action,
    verdict: a.verdict === null ? null : String(a.verdict),
    label_0: labels?.label_0 ?? null,
    label_1: labels?.label_1 ?? null,
    undoes_id: bigintOrNull(a.undoesId),
    is_current: a.isCurrent === 1,
    left_image: bigintOrNull(a.leftImage),
    suggestion_visible: a.suggestionVisible === null ? null : a.suggestionVisible === 1,
    decision_ms: bigintOrNull(a.decisionMs),
    created_at: new Date(a.createdAt),
    note: null,
    adjudication_id: null,
  };
}

/** An adjudication as an event of the annotations table: the lead's verdict, with the note. */
function adjudicationRow(j: ExportAdjudication): Row {
  const labels = verdictToLabels(j.verdict);
  return {
    annotation_id: null,
    pair_id: BigInt(j.pairId),
    ranking_id: null,
    caption: j.caption,
    image_0_uid: j.uid0,
    image_1_uid: j.uid1,
    annotator: j.adjudicator,
    annotator_kind: 'lead',
    action: 'adjudication',
    verdict: String(j.verdict),
    label_0: labels.label_0,
    label_1: labels.label_1,
    undoes_id: null,
    is_current: j.isCurrent === 1,
    left_image: null,
    suggestion_visible: null,
    decision_ms: null,
    created_at: new Date(j.createdAt),
    note: j.note,
    adjudication_id: BigInt(j.id),
  };
}

/** A standing flag as an event of the annotations table: who flagged the pair, and the note. */
function flagRow(f: ExportFlagEvent): Row {
  return {
    annotation_id: null,
    pair_id: BigInt(f.pairId),
    ranking_id: null,
    caption: f.caption,
    image_0_uid: f.uid0,
    image_1_uid: f.uid1,
    image_0_sha256: f.sha0,
    image_1_sha256: f.sha1,
    annotator: f.annotator,
    annotator_kind: f.annotatorKind,
    annotator_uid: f.annotatorUid,
    action: 'flag',
    verdict: null,
    label_0: null,
    label_1: null,
    undoes_id: null,
    is_current: true,
    left_image: null,
    suggestion_visible: null,
    decision_ms: null,
    created_at: new Date(f.createdAt),
    note: f.note,
    adjudication_id: null,
  };
}

/**
 * The annotation log's rows in id order (the order they were written), then the adjudications in
 * id order, as events of their own: every annotation row comes before every adjudication row.
 */
export async function writeAnnotations(
  reads: ExportReads,
  flags: FlagExportReads,
  writeGroup: WriteGroup,
  context: TaskContext,
): Promise<{ rows: number }> {
  const total = reads.annotationCount() + reads.adjudicationCount() + flags.count();
  let rows = 0;
  const writeLog = <T extends { id: number }>(
    page: (after: number) => T[],
    toRow: (item: T) => Row,
  ): void => {
    for (let after = 0; ; ) {
      context.throwIfCancelled();
      const batch = page(after);
      if (batch.length === 0) break;
      writeGroup(batch.map(toRow));
      rows += batch.length;
      after = batch[batch.length - 1]!.id;
      context.progress(rows, total, 'annotations');
    }
  };
  writeLog((after) => reads.annotationPage(after, MAX_GROUP_ROWS), annotationRow);
  writeLog((after) => reads.adjudicationPage(after, MAX_GROUP_ROWS), adjudicationRow);
  // Then the standing flags, by pair and annotator.
  for (let after: [number, number] = [0, 0]; ; ) {
    context.throwIfCancelled();
    const batch = flags.page(after, MAX_GROUP_ROWS);
    if (batch.length === 0) break;
    writeGroup(batch.map(flagRow));
    rows += batch.length;
    after = [batch[batch.length - 1]!.pairId, batch[batch.length - 1]!.annotatorId];
    context.progress(rows, total, 'annotations');
  }
  return { rows };
}
