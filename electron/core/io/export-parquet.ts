import fs from 'node:fs';
import path from 'node:path';
import type { SchemaElement } from 'hyparquet';
import { ParquetWriter, fileWriter } from 'hyparquet-writer';
import type { ExportReport } from '../../../shared/api';
import { StudioError } from '../../../shared/errors';
import { verdictToLabels, type Verdict } from '../../../shared/labels';
import type { ExportAnnotation, ExportPair, ExportReads } from '../store/export-reads';
import type { ImageRepository } from '../store/images';
import type { ProjectStore } from '../store/project-store';
import type { ProjectSnapshot } from '../store/snapshot';
import type { TaskContext } from '../tasks';
import { asJpegBytes, imageBytes } from './images';
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

export interface ExportOptions {
  out: string;
  images: boolean;
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
  const snapshot = store.snapshot();
  try {
    const modelId = exportModelId(snapshot, options.model);
    const main = await writeAtomically(options.out, pairColumns(options.images), (writeGroup) =>
      writePairs(snapshot, writeGroup, options.images, modelId, context),
    );
    let annotationRows = 0;
    if (options.annotationsOut) {
      annotationRows = (
        await writeAtomically(options.annotationsOut, ANNOTATION_COLUMNS, (writeGroup) =>
          writeAnnotations(snapshot.exports, writeGroup, context),
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

/** Ranking ids pass 2^53: they come as decimal text and go out as exact int64. */
const int64 = (text: string | null): bigint | null => (text === null ? null : BigInt(text));

/** Rows gathered into row groups of at most MAX_GROUP_ROWS rows or MAX_GROUP_IMAGE_BYTES. */
class RowGroups {
  written = 0;
  private group: Row[] = [];
  private imageBytes = 0;

  constructor(private readonly writeGroup: WriteGroup) {}

  add(row: Row, imageBytes: number): void {
    this.group.push(row);
    this.imageBytes += imageBytes;
    if (this.group.length >= MAX_GROUP_ROWS || this.imageBytes >= MAX_GROUP_IMAGE_BYTES) {
      this.flush();
    }
  }

  flush(): void {
    this.writeGroup(this.group);
    this.written += this.group.length;
    this.group = [];
    this.imageBytes = 0;
  }
}

interface Vote {
  verdict: Verdict;
  name: string;
  kind: string;
}

/** The page's current verdicts by pair, with who gave them: one read by key range. */
function votesByPair(
  reads: ExportReads,
  annotators: ReturnType<ExportReads['annotators']>,
  page: ExportPair[],
): Map<number, Vote[]> {
  const byPair = new Map<number, Vote[]>();
  for (const [pairId, annotatorId, verdict] of reads.verdictsBetween(
    page[0]!.id,
    page[page.length - 1]!.id,
  )) {
    const list = byPair.get(pairId) ?? [];
    list.push({ verdict, ...annotators.get(annotatorId)! });
    byPair.set(pairId, list);
  }
  return byPair;
}

/** A pair's Pick-a-Pic row, without images; null when it has no final verdict. */
function pairRow(pair: ExportPair, votes: Vote[]): Row | null {
  const decided = finalVerdict(
    pair.adjudicated,
    votes.map((v) => v.verdict),
  );
  if (!decided) return null;
  const { verdict, source } = decided;
  const labels = verdictToLabels(verdict);
  const soleVoter = votes.length === 1 ? votes[0]! : null;
  const userId =
    soleVoter?.kind === 'dataset' && /^pickapic:-?\d+$/.test(soleVoter.name)
      ? BigInt(soleVoter.name.slice('pickapic:'.length))
      : null;
  return {
    are_different: pair.areDifferent === 1,
    best_image_uid: verdict === 'tie' ? null : verdict === 0 ? pair.uid0 : pair.uid1,
    caption: pair.caption,
    created_at: new Date(pair.createdAt),
    has_label: true,
    image_0_uid: pair.uid0,
    image_0_url: pair.url0,
    image_1_uid: pair.uid1,
    image_1_url: pair.url1,
    label_0: labels.label_0,
    label_1: labels.label_1,
    model_0: pair.model0,
    model_1: pair.model1,
    num_example_per_prompt: BigInt(pair.numExamplePerPrompt),
    ranking_id: int64(pair.rankingId),
    user_id: userId,
    num_annotations: BigInt(votes.length),
    agreement:
      votes.length === 0 ? null : votes.filter((v) => v.verdict === verdict).length / votes.length,
    verdict_source: source,
    pickscore_0: pair.score0,
    pickscore_1: pair.score1,
    pickscore_prob_0: pair.p0,
  };
}

/** An image as Pick-a-Pic's jpg columns hold it; null when the project has no bytes for it. */
async function jpegOf(
  images: ImageRepository,
  uid: string,
  readable: number,
): Promise<Uint8Array | null> {
  // Most of a project imported without images has none: no lookup for those.
  if (!readable) return null;
  const source = images.sourceOf(uid);
  const found = source && (await imageBytes(uid, source));
  if (!found) return null;
  // A file's format is in its bytes; a JPEG goes out as it is.
  const format =
    found.format ?? (found.bytes[0] === 0xff && found.bytes[1] === 0xd8 ? 'jpeg' : 'other');
  try {
    return await asJpegBytes(found.bytes, format);
  } catch (error) {
    // A plain Error: the export's message adds its file and that nothing was written.
    const file = source.path ? ` (${source.path})` : '';
    throw new Error(`image ${uid}${file}: ${(error as Error).message}`, { cause: error });
  }
}

async function writePairs(
  snapshot: ProjectSnapshot,
  writeGroup: WriteGroup,
  withImages: boolean,
  modelId: number | null,
  context: TaskContext,
): Promise<{ rows: number; pairsWithoutMajority: number }> {
  const reads = snapshot.exports;
  const totalPairs = reads.pairCount();
  const annotators = reads.annotators();
  const groups = new RowGroups(writeGroup);
  let pairsWithoutMajority = 0;
  let seen = 0;
  for (let after = 0; ; ) {
    context.throwIfCancelled();
    const page = reads.pairPage(after, PAGE_PAIRS, modelId);
    if (page.length === 0) break;
    const votes = votesByPair(reads, annotators, page);
    for (const pair of page) {
      const pairVotes = votes.get(pair.id) ?? [];
      const row = pairRow(pair, pairVotes);
      if (!row) {
        if (pairVotes.length > 0) pairsWithoutMajority++;
        continue;
      }
      let imageBytes = 0;
      if (withImages) {
        const [jpg0, jpg1] = await Promise.all([
          jpegOf(snapshot.images, pair.uid0, pair.readable0),
          jpegOf(snapshot.images, pair.uid1, pair.readable1),
        ]);
        Object.assign(row, { jpg_0: jpg0, jpg_1: jpg1 });
        imageBytes = (jpg0?.length ?? 0) + (jpg1?.length ?? 0);
      }
      groups.add(row, imageBytes);
    }
    seen += page.length;
    after = page[page.length - 1]!.id;
    context.progress(seen, totalPairs, 'pairs');
  }
  groups.flush();
  return { rows: groups.written, pairsWithoutMajority };
}

function annotationRow(a: ExportAnnotation): Row {
  const labels = a.verdict === null ? null : verdictToLabels(a.verdict);
  return {
    annotation_id: BigInt(a.id),
    pair_id: BigInt(a.pairId),
    ranking_id: int64(a.rankingId),
    caption: a.caption,
    image_0_uid: a.uid0,
    image_1_uid: a.uid1,
    annotator: a.annotator,
    annotator_kind: a.annotatorKind,
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
  };
}

async function writeAnnotations(
  reads: ExportReads,
  writeGroup: WriteGroup,
  context: TaskContext,
): Promise<{ rows: number }> {
  const total = reads.annotationCount();
  let rows = 0;
  for (let after = 0; ; ) {
    context.throwIfCancelled();
    const batch = reads.annotationPage(after, MAX_GROUP_ROWS);
    if (batch.length === 0) break;
    writeGroup(batch.map(annotationRow));
    rows += batch.length;
    after = batch[batch.length - 1]!.id;
    context.progress(rows, total, 'annotations');
  }
  return { rows };
}
