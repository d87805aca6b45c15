import path from 'node:path';
import { StudioError } from '../../../shared/errors';
import type { Verdict } from '../../../shared/labels';
import type { AnnotatorKind } from '../store/decisions';
import type { LogEvent, LogFileWriter, LogFlag } from '../store/log-file';
import type { TaskContext } from '../tasks';
import { ANNOTATION_COLUMNS, ANNOTATION_LOG_KEYS } from './export/annotations';
import { openParquet, type ParquetSource } from './parquet-source';
import { wrongColumnTypes } from './pickapic-schema';
import { asBoolean, asInt64, asNumber, asString, asTimeMs } from './values';

/** The columns a merge reads; the rest (labels, is_current, notes) follow from these. */
const MERGED_COLUMNS = [
  'annotation_id',
  'pair_id',
  'ranking_id',
  'caption',
  'image_0_uid',
  'image_1_uid',
  'image_0_sha256',
  'image_1_sha256',
  'annotator',
  'annotator_kind',
  'annotator_uid',
  'origin',
  'origin_id',
  'action',
  'verdict',
  'undoes_id',
  'left_image',
  'suggestion_visible',
  'decision_ms',
  'created_at',
  'note',
] as const satisfies readonly (typeof ANNOTATION_COLUMNS)[number]['name'][];

/** What identifies an event and its annotator across projects: absent from logs before them. */
const IDENTITY_COLUMNS = ['annotator_uid', 'origin', 'origin_id'];

export interface AnnotationLogSource extends ParquetSource {
  /** The project that wrote the file, where it says so. */
  projectId: string | null;
}

/**
 * Opens an annotation log written by `export --annotations` and checks its columns; a file that
 * is Parquet but not such a log is named as such.
 */
export async function openAnnotationLog(file: string): Promise<AnnotationLogSource> {
  const source = await openParquet(file);
  const missing = MERGED_COLUMNS.filter((name) => !source.columns.has(name));
  if (missing.length > 0) {
    const olderLog = source.columns.has('annotation_id') && source.columns.has('undoes_id');
    throw new StudioError(
      'bad_input',
      olderLog && missing.every((name) => IDENTITY_COLUMNS.includes(name))
        ? `${file}: an annotation log written by an earlier Pick Studio, without ${missing.join(', ')}: merging it could not tell its annotators and events apart from others. Export it again with this version.`
        : `${file}: not a Pick Studio project nor an annotation log (export --annotations): missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
    );
  }
  const wrongType = wrongColumnTypes(
    source.columns,
    ANNOTATION_COLUMNS.filter((c) => (MERGED_COLUMNS as readonly string[]).includes(c.name)),
  );
  if (wrongType.length > 0) {
    throw new StudioError(
      'bad_input',
      `${file}: not an annotation log (export --annotations): ${wrongType.join('; ')}`,
    );
  }
  return { ...source, projectId: source.keyValues.get(ANNOTATION_LOG_KEYS.projectId) ?? null };
}

/**
 * Reads the log batch by batch into `writer`, checking every row. Adjudication rows are
 * counted and left out: a lead's adjudications stay in the project they were made in. Flag rows
 * (an annotator's standing flag on a pair) merge as a project's flags do.
 */
export async function readAnnotationLog(
  source: AnnotationLogSource,
  writer: LogFileWriter,
  context: TaskContext,
): Promise<{ adjudications: number }> {
  const seen = new Set<number>();
  let adjudications = 0;
  let lastId = 0;
  for (const group of source.batches) {
    context.throwIfCancelled();
    const { columns } = await source.readColumns(group.start, group.end, MERGED_COLUMNS);
    const events: LogEvent[] = [];
    const rowNumbers: number[] = [];
    const flags: LogFlag[] = [];
    const flagRows: number[] = [];
    for (let offset = 0; offset < group.end - group.start; offset++) {
      const row: Row = (column) => columns[column]![offset];
      const where = `${source.file} row ${group.start + offset + 1}`;
      if (asString(row('action')) === 'adjudication') {
        adjudications++;
        continue;
      }
      if (asString(row('action')) === 'flag') {
        flags.push(flagOf(row, where));
        flagRows.push(group.start + offset + 1);
        continue;
      }
      const event = eventOf(row, where, seen);
      if (event.id <= lastId) {
        throw new StudioError(
          'bad_input',
          `${where}: annotation_id ${event.id} after ${lastId}: the log's events must be in the order they were written`,
        );
      }
      lastId = event.id;
      seen.add(event.id);
      events.push(event);
      rowNumbers.push(group.start + offset + 1);
    }
    writer.add(events, (index) => `${source.file} row ${rowNumbers[index]}`);
    writer.addFlags(flags, (index) => `${source.file} row ${flagRows[index]}`);
    context.progress(group.end, source.numRows, path.basename(source.file));
  }
  return { adjudications };
}

const ACTIONS = ['verdict', 'skip', 'undo'] as const;
const KINDS: readonly AnnotatorKind[] = ['human', 'dataset', 'import'];
const VERDICTS: Record<string, Verdict> = { '0': 0, '1': 1, tie: 'tie' };

/** A row of a batch: its value in a column. */
type Row = (column: string) => unknown;

/** Reads a row's fields, each checked, with errors naming the row. */
function fieldsOf(row: Row, where: string) {
  const bad = (problem: string) => new StudioError('bad_input', `${where}: ${problem}`);
  const text = (name: string): string => {
    const value = asString(row(name));
    if (value === null || value === '') throw bad(`${name} is empty`);
    return value;
  };
  const id = (name: string): number => {
    const value = asInt64(row(name));
    if (value === null || value < 1n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw bad(`${name} is ${String(row(name))}, expected a positive id`);
    }
    return Number(value);
  };
  const sha = (name: string): string | null => {
    const value = asString(row(name));
    if (value !== null && !/^[0-9a-f]{64}$/.test(value)) throw bad(`${name} is not a sha256`);
    return value;
  };
  const kind = (): AnnotatorKind => {
    const value = text('annotator_kind') as AnnotatorKind;
    if (!KINDS.includes(value)) throw bad(`unknown annotator_kind "${value}"`);
    return value;
  };
  const createdAt = (): number => {
    const value = asTimeMs(row('created_at'));
    if (value === null || !Number.isFinite(value)) throw bad('created_at is empty');
    return value;
  };
  const pair = (): LogEvent['pair'] => ({
    id: id('pair_id'),
    caption: asString(row('caption')) ?? '',
    uid0: text('image_0_uid'),
    uid1: text('image_1_uid'),
    sha0: sha('image_0_sha256'),
    sha1: sha('image_1_sha256'),
  });
  return { bad, text, id, kind, createdAt, pair };
}

/** A flag row: who flagged which pair, with the note. */
function flagOf(row: Row, where: string): LogFlag {
  const { text, kind, createdAt, pair } = fieldsOf(row, where);
  return {
    pair: pair(),
    annotator: { name: text('annotator'), kind: kind(), uid: text('annotator_uid') },
    note: text('note'),
    createdAt: createdAt(),
  };
}

/** A row as an event, or an error naming the row and what is wrong with it. */
function eventOf(row: Row, where: string, seen: Set<number>): LogEvent {
  const { bad, text, id, kind: kindOf, createdAt: createdAtOf, pair } = fieldsOf(row, where);
  const action = text('action') as LogEvent['action'];
  if (!ACTIONS.includes(action)) throw bad(`unknown action "${action}"`);
  const kind = kindOf();
  const verdictText = asString(row('verdict'));
  const verdict = verdictText === null ? null : (VERDICTS[verdictText] ?? null);
  if ((action === 'verdict') !== (verdict !== null)) {
    throw bad(`action ${action} with verdict ${String(verdictText)}`);
  }
  const undoesId = action === 'undo' ? id('undoes_id') : null;
  if (undoesId !== null && !seen.has(undoesId)) {
    throw bad(`undoes annotation ${undoesId}, which is not earlier in the file`);
  }
  const leftImage = asNumber(row('left_image'));
  if (leftImage !== null && leftImage !== 0 && leftImage !== 1)
    throw bad('left_image is not 0 or 1');
  const decisionMs = asNumber(row('decision_ms'));
  if (decisionMs !== null && !(decisionMs >= 0)) throw bad('decision_ms is negative');
  const createdAt = createdAtOf();
  return {
    id: id('annotation_id'),
    pair: pair(),
    annotator: { name: text('annotator'), kind, uid: text('annotator_uid') },
    action,
    verdict,
    undoesId,
    leftImage,
    suggestionVisible: asBoolean(row('suggestion_visible')),
    decisionMs,
    createdAt,
    rankingId: asInt64(row('ranking_id')),
    origin: text('origin'),
    originId: id('origin_id'),
  };
}
