import { createHash } from 'node:crypto';
import { swapVerdict, verdictToLabels } from '../../../../shared/labels';
import type { ExportLabel, ExportPair, ExportReads } from '../../store/export-reads';
import type { ProjectSnapshot } from '../../store/snapshot';
import type { TaskContext } from '../../tasks';
import { pickapicUserId } from '../import-pickapic';
import { IMAGE_COLUMNS, PICKAPIC_COLUMNS } from '../pickapic-schema';
import { ExportImages, type ImagesMode } from './images';
import {
  ColumnGroups,
  PAGE_PAIRS,
  type Columns,
  type Value,
  type WriteBatch,
} from './parquet-file';

/** Pick-a-Pic's columns, then who labeled: the name an import takes back as the annotator. */
export const perAnnotatorColumns = (withImages: boolean): Columns => [
  ...PICKAPIC_COLUMNS.filter(
    (c) => withImages || !(IMAGE_COLUMNS as readonly string[]).includes(c.name),
  ),
  { name: 'annotator', kind: 'string' },
  { name: 'flag_note', kind: 'string' },
];

/**
 * A stable int64 for something without a dataset id (a local annotator, a label made in a
 * project): 2^62 plus 60 bits of its sha256, above every Pick-a-Pic id, the same in every export.
 */
function stableId(key: string): bigint {
  return (1n << 62n) + BigInt(`0x${createHash('sha256').update(key).digest('hex').slice(0, 15)}`);
}

type Annotator = { name: string; kind: string; uid: string | null };

/** The row's user: the dataset's as it was, a local annotator's stable id, or none. */
function userIdOf(label: ExportLabel, annotator: Annotator): bigint | null {
  if (label.userId !== null) return BigInt(label.userId);
  if (annotator.kind === 'dataset') return pickapicUserId(annotator.name);
  return stableId(`annotator:${annotator.uid ?? annotator.name}`);
}

const LABEL_COLUMN_NAMES = [
  ...PICKAPIC_COLUMNS.map((c) => c.name),
  'annotator',
  'flag_note',
] as const;
type LabelColumns = Record<(typeof LABEL_COLUMN_NAMES)[number], Value[]>;

/**
 * Pushes one annotator's verdict on a pair as Pick-a-Pic writes it onto the columns, without
 * images: in the image order of the dataset's row when it came with one (so a shard comes back
 * as it was), with the decision's time.
 */
function pushLabelRow(
  v: LabelColumns,
  pair: ExportPair,
  label: ExportLabel,
  annotator: Annotator,
  flagNote: string | null,
): void {
  const swapped = label.swapped === 1;
  const [uid0, uid1] = swapped ? [pair.uid1, pair.uid0] : [pair.uid0, pair.uid1];
  const verdict = swapped ? swapVerdict(label.verdict) : label.verdict;
  const labels = verdictToLabels(verdict);
  v.are_different.push((label.areDifferent ?? pair.areDifferent) === 1);
  v.best_image_uid.push(verdict === 'tie' ? null : verdict === 0 ? uid0 : uid1);
  v.caption.push(pair.caption);
  v.created_at.push(label.createdAt);
  v.has_label.push(true);
  v.image_0_uid.push(uid0);
  v.image_0_url.push(swapped ? pair.url1 : pair.url0);
  v.image_1_uid.push(uid1);
  v.image_1_url.push(swapped ? pair.url0 : pair.url1);
  v.label_0.push(labels.label_0);
  v.label_1.push(labels.label_1);
  v.model_0.push(swapped ? pair.model1 : pair.model0);
  v.model_1.push(swapped ? pair.model0 : pair.model1);
  v.num_example_per_prompt.push(label.numExamplePerPrompt ?? pair.numExamplePerPrompt);
  v.ranking_id.push(
    label.rankingId !== null
      ? BigInt(label.rankingId)
      : stableId(`label:${label.origin}:${label.originId}`),
  );
  v.user_id.push(userIdOf(label, annotator));
  v.annotator.push(annotator.name);
  v.flag_note.push(flagNote);
}

/**
 * Pick-a-Pic's native form: one row per annotator and pair, for each current verdict (skips are
 * no label), page by page in pair order.
 */
export async function writePerAnnotator(
  snapshot: ProjectSnapshot,
  writeBatch: WriteBatch,
  images: ImagesMode,
  context: TaskContext,
): Promise<{ rows: number }> {
  const reads: ExportReads = snapshot.exports;
  const totalPairs = reads.pairCount();
  const annotators = reads.annotators();
  const groups = new ColumnGroups(LABEL_COLUMN_NAMES, writeBatch);
  const jpgs = new ExportImages(snapshot.images, images);
  let seen = 0;
  for (let after = 0; ; ) {
    context.throwIfCancelled();
    const page = reads.pairPage(after, PAGE_PAIRS);
    if (page.length === 0) break;
    const pairs = new Map(page.map((p) => [p.id, p]));
    jpgs.startPage(page);
    const [first, last] = [page[0]!.id, page[page.length - 1]!.id];
    const flags = new Map(
      snapshot.flags.between(first, last).map((f) => [`${f[0]}:${f[1]}`, f[2]]),
    );
    for (const label of reads.labelsBetween(first, last)) {
      const pair = pairs.get(label.pairId)!;
      const flagNote = flags.get(`${label.pairId}:${label.annotatorId}`) ?? null;
      const v = groups.values;
      pushLabelRow(v, pair, label, annotators.get(label.annotatorId)!, flagNote);
      const inRowOrder =
        label.swapped === 1
          ? {
              uid0: pair.uid1,
              readable0: pair.readable1,
              uid1: pair.uid0,
              readable1: pair.readable0,
            }
          : pair;
      const added = jpgs.add(v, pair.id, inRowOrder);
      const imageBytes = typeof added === 'number' ? added : await added;
      if (groups.endRow(imageBytes)) await groups.flush();
    }
    seen += page.length;
    after = page[page.length - 1]!.id;
    context.progress(seen, totalPairs, 'pairs');
  }
  await groups.flush();
  return { rows: groups.written };
}
