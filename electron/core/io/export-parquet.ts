import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { SchemaElement } from 'hyparquet';
import { ParquetWriter, fileWriter } from 'hyparquet-writer';
import type { ExportReport } from '../../../shared/api';
import { StudioError } from '../../../shared/errors';
import { verdictToLabels, type Verdict } from '../../../shared/labels';
import { verdictFromDb, type DbVerdict, type ProjectStore } from '../store/project-store';
import type { TaskContext } from '../tasks';
import { asJpegBytes } from './images';
import { removeLeftoversOfGoneProcesses } from './leftovers';
import {
  IMAGE_COLUMNS,
  PICKAPIC_COLUMNS,
  schemaElementFor,
  type ColumnKind,
} from './pickapic-schema';

/** Columns added after Pick-a-Pic's own; none of the dataset's names is changed. */
const EXTRA_COLUMNS = [
  { name: 'num_annotations', kind: 'int64' },
  { name: 'agreement', kind: 'float64' },
  { name: 'verdict_source', kind: 'string' },
  { name: 'pickscore_0', kind: 'float64' },
  { name: 'pickscore_1', kind: 'float64' },
  { name: 'pickscore_prob_0', kind: 'float64' },
] as const satisfies readonly { name: string; kind: ColumnKind }[];

const pairColumns = (withImages: boolean): Columns =>
  [...PICKAPIC_COLUMNS, ...EXTRA_COLUMNS].filter(
    (c) => withImages || !(IMAGE_COLUMNS as readonly string[]).includes(c.name),
  );

const ANNOTATION_COLUMNS = [
  { name: 'annotation_id', kind: 'int64' },
  { name: 'pair_id', kind: 'int64' },
  { name: 'ranking_id', kind: 'int64' },
  { name: 'caption', kind: 'string' },
  { name: 'image_0_uid', kind: 'string' },
  { name: 'image_1_uid', kind: 'string' },
  { name: 'annotator', kind: 'string' },
  { name: 'annotator_kind', kind: 'string' },
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
] as const satisfies readonly { name: string; kind: ColumnKind }[];

/**
 * Columns whose values rarely repeat: deciding on dictionary encoding would hash every value (of
 * an image, byte by byte) to find nearly no repeats, and their min and max (statistics) help no
 * reader skip a page. Half of the writer's time on Pick-a-Pic-sized exports.
 */
const NEARLY_UNIQUE = new Set([
  'caption',
  'image_0_uid',
  'image_1_uid',
  'image_0_url',
  'image_1_url',
  'best_image_uid',
]);

const PAGE_PAIRS = 5000;
const MAX_GROUP_ROWS = 20_000;
/** Image bytes buffered before a row group is written, which bounds memory on image exports. */
const MAX_GROUP_IMAGE_BYTES = 64 * 1024 * 1024;

type Row = Record<string, unknown>;

interface PairRow {
  id: number;
  caption: string;
  uid0: string;
  url0: string | null;
  blob0: string | null;
  path0: string | null;
  uid1: string;
  url1: string | null;
  blob1: string | null;
  path1: string | null;
  model_0: string | null;
  model_1: string | null;
  created_at: number;
  adjudicated: DbVerdict | null;
  ranking_id: number | null;
  are_different: number | null;
  num_example_per_prompt: number;
  score_0: number | null;
  score_1: number | null;
  p_0: number | null;
}

export interface ExportOptions {
  out: string;
  images: boolean;
  annotationsOut?: string;
  /** The model whose scores fill the pickscore columns, by name; default the active model. */
  model?: string;
}

/** The model whose scores the export carries: named, or the project's active one (or none). */
function exportModelId(db: Database.Database, name: string | undefined): number | null {
  if (name === undefined) {
    const active = db
      .prepare(
        `SELECT m.id FROM models m JOIN project_meta k ON k.key = 'active_model' AND k.value = m.fingerprint`,
      )
      .get() as { id: number } | undefined;
    return active?.id ?? null;
  }
  const named = db.prepare('SELECT id FROM models WHERE name = ? ORDER BY id DESC').get(name) as
    | { id: number }
    | undefined;
  if (!named)
    throw new StudioError(
      'not_found',
      `no model named ${JSON.stringify(name)} has scored this project`,
    );
  return named.id;
}

/** The verdict a pair exports with: the latest adjudication, else a strict majority. */
export function finalVerdict(
  adjudicated: Verdict | null,
  verdicts: Verdict[],
): { verdict: Verdict; source: 'adjudication' | 'majority' } | null {
  if (adjudicated !== null) return { verdict: adjudicated, source: 'adjudication' };
  const counts = new Map<Verdict, number>();
  for (const v of verdicts) counts.set(v, (counts.get(v) ?? 0) + 1);
  const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  if (ranked.length === 0 || (ranked.length > 1 && ranked[0]![1] === ranked[1]![1])) return null;
  return { verdict: ranked[0]![0], source: 'majority' };
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
): Promise<ExportReport> {
  const started = performance.now();
  for (const out of [options.out, options.annotationsOut]) {
    if (out && path.resolve(out) === path.resolve(store.file)) {
      throw new StudioError('invalid_argument', `${out}: refusing to export over the project file`);
    }
  }
  const snapshot = new Database(store.file, { readonly: true, fileMustExist: true });
  try {
    snapshot.exec('BEGIN');
    const totalPairs = (snapshot.prepare('SELECT count(*) AS n FROM pairs').get() as { n: number })
      .n;
    const modelId = exportModelId(snapshot, options.model);
    const main = await writeAtomically(options.out, pairColumns(options.images), (writeGroup) =>
      writePairs(snapshot, writeGroup, options.images, modelId, totalPairs, context),
    );
    let annotationRows = 0;
    if (options.annotationsOut) {
      annotationRows = (
        await writeAtomically(options.annotationsOut, ANNOTATION_COLUMNS, (writeGroup) =>
          writeAnnotations(snapshot, writeGroup, context),
        )
      ).rows;
    }
    snapshot.exec('COMMIT');
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

type WriteGroup = (rows: Row[]) => void;
type Columns = readonly { name: string; kind: ColumnKind }[];

/**
 * Writes to a temporary name beside `out`, flushes it to disk, then renames it: a crash or a
 * failure never leaves a partial file under the real name, nor replaces an earlier export.
 */
async function writeAtomically<T>(
  out: string,
  columns: Columns,
  produce: (writeGroup: WriteGroup) => Promise<T>,
): Promise<T> {
  const folder = path.dirname(path.resolve(out));
  if (!fs.existsSync(folder)) {
    throw new StudioError('not_found', `${out}: the folder ${folder} does not exist`);
  }
  // The file is written beside `out` and renamed over it: over a device or a pipe (/dev/full,
  // /dev/null) that would replace it with a file, for root even in /dev.
  const existing = fs.statSync(out, { throwIfNoEntry: false });
  if (existing && !existing.isFile()) {
    throw new StudioError(
      'invalid_argument',
      `${out}: not a regular file; an export writes a new file under this name, which would replace it. Choose a file name.`,
    );
  }
  removeLeftoversOfGoneProcesses(folder, `.${path.basename(out)}.partial-`);
  const temporary = path.join(
    folder,
    `.${path.basename(out)}.partial-${process.pid}-${Date.now()}`,
  );
  const schema: SchemaElement[] = [
    { name: 'schema', num_children: columns.length },
    ...columns.map((c) => schemaElementFor(c.name, c.kind)),
  ];
  try {
    const writer = new ParquetWriter({
      writer: fileWriter(temporary),
      schema,
      createdBy: 'Pick Studio (hyparquet-writer)',
    });
    const result = await produce((rows) => {
      if (rows.length === 0) return;
      writer.write({
        columnData: columns.map((c) => ({
          name: c.name,
          data: rows.map((row) => row[c.name] ?? null),
          ...(c.kind === 'binary' || NEARLY_UNIQUE.has(c.name)
            ? { encoding: 'PLAIN' as const, statistics: false }
            : {}),
        })),
        rowGroupSize: rows.length,
      });
    });
    writer.finish();
    const fd = fs.openSync(temporary, 'r+');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temporary, out);
    // The rename is an entry in the folder: without this, a power cut could undo it.
    const dir = fs.openSync(folder, 'r');
    try {
      fs.fsyncSync(dir);
    } finally {
      fs.closeSync(dir);
    }
    return result;
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    if (error instanceof StudioError) throw error;
    throw new StudioError(
      'internal',
      `${out}: export failed, nothing written (${(error as Error).message})`,
      {
        cause: error,
      },
    );
  }
}

const bigintOrNull = (value: number | null): bigint | null =>
  value === null ? null : BigInt(value);

async function writePairs(
  db: Database.Database,
  writeGroup: WriteGroup,
  withImages: boolean,
  modelId: number | null,
  totalPairs: number,
  context: TaskContext,
): Promise<{ rows: number; pairsWithoutMajority: number }> {
  const pairsPage = db.prepare<[{ after: number; limit: number; model: number }], PairRow>(
    `SELECT p.id, pr.text AS caption,
       i0.uid AS uid0, i0.url AS url0, i0.sha256 AS blob0, i0.path AS path0,
       i1.uid AS uid1, i1.url AS url1, i1.sha256 AS blob1, i1.path AS path1,
       p.model_0, p.model_1, coalesce(p.created_at, p.added_at) AS created_at,
       (SELECT j.verdict FROM adjudications j WHERE j.pair_id = p.id ORDER BY j.id DESC LIMIT 1) AS adjudicated,
       s.ranking_id, s.are_different,
       coalesce(s.num_example_per_prompt,
         (SELECT count(*) FROM pairs q WHERE q.prompt_id = p.prompt_id)) AS num_example_per_prompt,
       sc.score_0, sc.score_1, sc.p_0
     FROM pairs p
     JOIN prompts pr ON pr.id = p.prompt_id
     JOIN images i0 ON i0.id = p.image_0_id
     JOIN images i1 ON i1.id = p.image_1_id
     LEFT JOIN pair_sources s ON s.ranking_id = (SELECT min(ranking_id) FROM pair_sources WHERE pair_id = p.id)
     LEFT JOIN scores sc ON sc.model_id = @model AND sc.pair_id = p.id
     WHERE p.id > @after ORDER BY p.id LIMIT @limit`,
  );
  const annotators = new Map(
    db
      .prepare<[], [number, string, string]>('SELECT id, name, kind FROM annotators')
      .raw()
      .all()
      .map(([id, name, kind]) => [id, { name, kind }]),
  );
  const verdictsOf = db
    .prepare<[number, number], [number, number, DbVerdict]>(
      `SELECT pair_id, annotator_id, verdict FROM decisions
       WHERE pair_id BETWEEN ? AND ? AND action = 'verdict'`,
    )
    .raw();
  const blobOf = db.prepare<[string], { bytes: Buffer; format: string }>(
    'SELECT bytes, format FROM image_blobs WHERE sha256 = ?',
  );
  const imageBytes = async (
    blob: string | null,
    file: string | null,
    uid: string,
  ): Promise<Uint8Array | null> => {
    // A plain Error: the export's message adds its file and that nothing was written.
    const asJpeg = async (bytes: Uint8Array, format: string): Promise<Uint8Array> => {
      try {
        return await asJpegBytes(bytes, format);
      } catch (error) {
        throw new Error(`image ${uid}${file ? ` (${file})` : ''}: ${(error as Error).message}`, {
          cause: error,
        });
      }
    };
    if (blob) {
      const stored = blobOf.get(blob)!;
      return asJpeg(stored.bytes, stored.format);
    }
    if (!file) return null;
    let bytes: Buffer;
    try {
      bytes = await fs.promises.readFile(file);
    } catch (error) {
      throw new StudioError(
        'bad_input',
        `image ${uid}: cannot read ${file} (${(error as Error).message})`,
      );
    }
    return bytes[0] === 0xff && bytes[1] === 0xd8 ? bytes : asJpeg(bytes, 'other');
  };

  let lastId = 0;
  let seen = 0;
  let rows = 0;
  let pairsWithoutMajority = 0;
  let group: Row[] = [];
  let groupImageBytes = 0;
  const flush = (): void => {
    writeGroup(group);
    rows += group.length;
    group = [];
    groupImageBytes = 0;
  };

  for (;;) {
    context.throwIfCancelled();
    const page = pairsPage.all({ after: lastId, limit: PAGE_PAIRS, model: modelId ?? -1 });
    if (page.length === 0) break;
    const byPair = new Map<number, { verdict: Verdict; name: string; kind: string }[]>();
    for (const [pairId, annotatorId, verdict] of verdictsOf.all(
      page[0]!.id,
      page[page.length - 1]!.id,
    )) {
      const list = byPair.get(pairId) ?? [];
      list.push({ verdict: verdictFromDb(verdict), ...annotators.get(annotatorId)! });
      byPair.set(pairId, list);
    }
    for (const pair of page) {
      const votes = byPair.get(pair.id) ?? [];
      const adjudicated = pair.adjudicated === null ? null : verdictFromDb(pair.adjudicated);
      const decided = finalVerdict(
        adjudicated,
        votes.map((v) => v.verdict),
      );
      if (!decided) {
        if (votes.length > 0) pairsWithoutMajority++;
        continue;
      }
      const { verdict, source } = decided;
      const labels = verdictToLabels(verdict);
      const soleVoter = votes.length === 1 ? votes[0]! : null;
      const userId =
        soleVoter?.kind === 'dataset' && /^pickapic:-?\d+$/.test(soleVoter.name)
          ? BigInt(soleVoter.name.slice('pickapic:'.length))
          : null;
      const row: Row = {
        are_different:
          pair.are_different === null ? pair.uid0 !== pair.uid1 : pair.are_different === 1,
        best_image_uid: verdict === 'tie' ? null : verdict === 0 ? pair.uid0 : pair.uid1,
        caption: pair.caption,
        created_at: new Date(pair.created_at),
        has_label: true,
        image_0_uid: pair.uid0,
        image_0_url: pair.url0,
        image_1_uid: pair.uid1,
        image_1_url: pair.url1,
        label_0: labels.label_0,
        label_1: labels.label_1,
        model_0: pair.model_0,
        model_1: pair.model_1,
        num_example_per_prompt: BigInt(pair.num_example_per_prompt),
        ranking_id: bigintOrNull(pair.ranking_id),
        user_id: userId,
        num_annotations: BigInt(votes.length),
        agreement:
          votes.length === 0
            ? null
            : votes.filter((v) => v.verdict === verdict).length / votes.length,
        verdict_source: source,
        pickscore_0: pair.score_0,
        pickscore_1: pair.score_1,
        pickscore_prob_0: pair.p_0,
      };
      if (withImages) {
        const [jpg0, jpg1] = await Promise.all([
          imageBytes(pair.blob0, pair.path0, pair.uid0),
          imageBytes(pair.blob1, pair.path1, pair.uid1),
        ]);
        row.jpg_0 = jpg0;
        row.jpg_1 = jpg1;
        groupImageBytes += (jpg0?.length ?? 0) + (jpg1?.length ?? 0);
      }
      group.push(row);
      if (group.length >= MAX_GROUP_ROWS || groupImageBytes >= MAX_GROUP_IMAGE_BYTES) flush();
    }
    seen += page.length;
    lastId = page[page.length - 1]!.id;
    context.progress(seen, totalPairs, 'pairs');
  }
  flush();
  return { rows, pairsWithoutMajority };
}

async function writeAnnotations(
  db: Database.Database,
  writeGroup: WriteGroup,
  context: TaskContext,
): Promise<{ rows: number }> {
  const total = (db.prepare('SELECT count(*) AS n FROM annotations').get() as { n: number }).n;
  const page = db.prepare<
    [number, number],
    {
      id: number;
      pair_id: number;
      ranking_id: number | null;
      caption: string;
      uid0: string;
      uid1: string;
      annotator: string;
      annotator_kind: string;
      action: string;
      verdict: DbVerdict | null;
      undoes_id: number | null;
      is_current: number;
      left_image: number | null;
      suggestion_visible: number | null;
      decision_ms: number | null;
      created_at: number;
    }
  >(
    `SELECT a.id, a.pair_id, a.ranking_id, pr.text AS caption, i0.uid AS uid0, i1.uid AS uid1,
       n.name AS annotator, n.kind AS annotator_kind, a.action, a.verdict, a.undoes_id,
       EXISTS (SELECT 1 FROM decisions d WHERE d.pair_id = a.pair_id
                 AND d.annotator_id = a.annotator_id AND d.annotation_id = a.id) AS is_current,
       a.left_image, a.suggestion_visible, a.decision_ms, a.created_at
     FROM annotations a
     JOIN annotators n ON n.id = a.annotator_id
     JOIN pairs p ON p.id = a.pair_id
     JOIN prompts pr ON pr.id = p.prompt_id
     JOIN images i0 ON i0.id = p.image_0_id
     JOIN images i1 ON i1.id = p.image_1_id
     WHERE a.id > ? ORDER BY a.id LIMIT ?`,
  );
  let lastId = 0;
  let rows = 0;
  for (;;) {
    context.throwIfCancelled();
    const batch = page.all(lastId, MAX_GROUP_ROWS);
    if (batch.length === 0) break;
    writeGroup(
      batch.map((a) => {
        const labels = a.verdict === null ? null : verdictToLabels(verdictFromDb(a.verdict));
        return {
          annotation_id: BigInt(a.id),
          pair_id: BigInt(a.pair_id),
          ranking_id: bigintOrNull(a.ranking_id),
          caption: a.caption,
          image_0_uid: a.uid0,
          image_1_uid: a.uid1,
          annotator: a.annotator,
          annotator_kind: a.annotator_kind,
          action: a.action,
          verdict: a.verdict,
          label_0: labels?.label_0 ?? null,
          label_1: labels?.label_1 ?? null,
          undoes_id: bigintOrNull(a.undoes_id),
          is_current: a.is_current === 1,
          left_image: bigintOrNull(a.left_image),
          suggestion_visible: a.suggestion_visible === null ? null : a.suggestion_visible === 1,
          decision_ms: bigintOrNull(a.decision_ms),
          created_at: new Date(a.created_at),
        };
      }),
    );
    rows += batch.length;
    lastId = batch[batch.length - 1]!.id;
    context.progress(rows, total, 'annotations');
  }
  return { rows };
}
