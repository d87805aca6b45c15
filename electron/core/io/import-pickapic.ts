import path from 'node:path';
import { DATASET_ANNOTATOR_PREFIX } from '../../../shared/api';
import { StudioError } from '../../../shared/errors';
import { labelsToVerdict } from '../../../shared/labels';
import type { TaskContext } from '../tasks';
import { inspectImage } from './images';
import { IMAGE_COLUMNS, PICKAPIC_COLUMNS, wrongColumnTypes } from './pickapic-schema';
import { openParquet, type ColumnBatch, type ParquetSource } from './parquet-source';
import {
  emptyStagedColumns,
  type BlobRecord,
  type StagedColumns,
  type StagingFile,
} from '../store/staging';
import {
  asBoolean,
  asBytes,
  asInt64,
  asNumber,
  asTimeMs,
  asUtf8String,
  captionProblem,
} from './values';

/** Those of a batch's ranking ids the project has already (ProjectStore.pairs.knownRankings). */
export type KnownRankings = (rankingIds: readonly bigint[]) => Set<bigint>;

export interface ImportProgress {
  /** Rows finished in earlier files of the same import. */
  rowsBefore: number;
  totalRows: number;
}

/** The column a per-annotator export adds: who labeled the row. */
const ANNOTATOR_COLUMN = 'annotator';

/**
 * The dataset's annotator of a row: its user, or, for a row without one, an annotator of that
 * ranking alone (unknown users are not one person: each of their rankings is a vote of its own).
 */
export const pickapicAnnotatorName = (userId: bigint | null, rankingId: bigint): string =>
  `${DATASET_ANNOTATOR_PREFIX}${userId ?? `unknown:${rankingId}`}`;

/** The user_id a dataset annotator's name carries; null for an unknown user's rankings. */
export function pickapicUserId(name: string): bigint | null {
  const id = name.slice(DATASET_ANNOTATOR_PREFIX.length);
  return name.startsWith(DATASET_ANNOTATOR_PREFIX) && /^-?\d+$/.test(id) ? BigInt(id) : null;
}

export type PickapicShard = ParquetSource & { hasImages: boolean };

/** Opens a shard and checks that it has the Pick-a-Pic columns with usable types. */
export async function openPickapicShard(file: string): Promise<PickapicShard> {
  const source = await openParquet(file);
  const missing: string[] = PICKAPIC_COLUMNS.map((c) => c.name).filter(
    (name) => !source.columns.has(name) && !(IMAGE_COLUMNS as readonly string[]).includes(name),
  );
  const wrongType = wrongColumnTypes(source.columns, PICKAPIC_COLUMNS);
  const imageColumns = IMAGE_COLUMNS.filter((name) => source.columns.has(name));
  if (imageColumns.length === 1) missing.push(IMAGE_COLUMNS.find((n) => n !== imageColumns[0])!);
  if (missing.length > 0) {
    throw new StudioError(
      'bad_input',
      `${file}: not a Pick-a-Pic shard: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
    );
  }
  if (wrongType.length > 0) {
    throw new StudioError('bad_input', `${file}: not a Pick-a-Pic shard: ${wrongType.join('; ')}`);
  }
  return { ...source, hasImages: imageColumns.length === 2 };
}

/**
 * Reads a shard batch by batch into `staging`, checking every row (labels, uids, image bytes)
 * on the way; nothing is written to the project here. Rows whose ranking_id the project already
 * has are counted and not read further, so re-importing a shard costs little. A batch crosses
 * from the reader to the staging file as columns, never as an object per row.
 */
export async function stagePickapicShard(
  knownRankings: KnownRankings,
  shard: PickapicShard,
  staging: StagingFile,
  context: TaskContext,
  progress: ImportProgress,
): Promise<{ rows: number; alreadyPresent: number }> {
  const file = shard.file;
  const columns = [
    ...PICKAPIC_COLUMNS.map((c) => c.name).filter(
      (name) => shard.hasImages || !(IMAGE_COLUMNS as readonly string[]).includes(name),
    ),
    // A per-annotator export names who labeled each row.
    ...(shard.columns.has(ANNOTATOR_COLUMN) ? [ANNOTATOR_COLUMN] : []),
  ];
  let alreadyPresent = 0;

  for (const range of shard.batches) {
    context.throwIfCancelled();
    const batch = await shard.readColumns(range.start, range.end, columns);
    const rankingIds = batch.columns.ranking_id!.map(asInt64);
    const known = knownRankings(rankingIds.filter((id) => id !== null));
    const fresh = rankingIds.map((id) => id === null || !known.has(id));
    const images = shard.hasImages ? await inspectBatchImages(file, batch, fresh) : null;

    const staged = emptyStagedColumns();
    for (let offset = 0; offset < fresh.length; offset++) {
      if (!fresh[offset]) {
        alreadyPresent++;
        continue;
      }
      const blobs = images?.[offset];
      if (blobs) {
        staging.addBlob(blobs[0]);
        staging.addBlob(blobs[1]);
      }
      stageRow(
        batch.columns,
        offset,
        blobs,
        () => `${file} row ${range.start + offset + 1}`,
        staged,
      );
    }
    staging.addColumns(staged);
    staging.checkpoint();
    context.progress(progress.rowsBefore + range.end, progress.totalRows, path.basename(file));
  }
  return { rows: shard.numRows, alreadyPresent };
}

type RowBlobs = readonly [BlobRecord, BlobRecord];

/**
 * Row `i` of a shard's batch, checked, appended to `staged`; `where` names the row in messages.
 * The checks run in the row's column order, so the first problem of a row is the one named.
 */
function stageRow(
  columns: ColumnBatch['columns'],
  i: number,
  blobs: RowBlobs | null | undefined,
  where: () => string,
  staged: StagedColumns,
): void {
  const fail = (problem: string): never => {
    throw new StudioError('bad_input', `${where()}: ${problem}`);
  };
  const value = (column: string): unknown => columns[column]?.[i];
  const text = (column: string): string | null => {
    try {
      return asUtf8String(value(column));
    } catch (error) {
      return fail(`${column} is ${(error as Error).message}`);
    }
  };
  const rankingId = asInt64(value('ranking_id')) ?? fail('ranking_id is empty');
  const caption = text('caption') ?? fail('caption is empty');
  const tooLong = captionProblem(caption, 'caption');
  if (tooLong) fail(tooLong);
  const uid0 = text('image_0_uid') || fail('image_0_uid is empty');
  const uid1 = text('image_1_uid') || fail('image_1_uid is empty');
  const hasLabel = asBoolean(value('has_label')) ?? false;
  const label0 = asNumber(value('label_0'));
  const label1 = asNumber(value('label_1'));
  const userId = asInt64(value('user_id'));
  const createdAt = asTimeMs(value('created_at'));
  const verdict = hasLabel
    ? (labelsToVerdict(label0 ?? NaN, label1 ?? NaN) ??
      fail(`labels (${label0}, ${label1}) are none of (1, 0), (0, 1), (0.5, 0.5)`))
    : null;
  const named = text(ANNOTATOR_COLUMN) || null;
  const url0 = text('image_0_url');
  const url1 = text('image_1_url');
  const model0 = text('model_0');
  const model1 = text('model_1');
  const bestImageUid = text('best_image_uid');

  staged.caption.push(caption);
  staged.uid_0.push(uid0);
  staged.sha256_0.push(blobs?.[0].sha256 ?? null);
  staged.path_0.push(null);
  staged.url_0.push(url0);
  staged.uid_1.push(uid1);
  staged.sha256_1.push(blobs?.[1].sha256 ?? null);
  staged.path_1.push(null);
  staged.url_1.push(url1);
  staged.model_0.push(model0);
  staged.model_1.push(model1);
  staged.created_at.push(createdAt);
  staged.ranking_id.push(rankingId);
  staged.user_id.push(userId);
  staged.has_label.push(hasLabel);
  staged.label_0.push(label0);
  staged.label_1.push(label1);
  staged.best_image_uid.push(bestImageUid);
  staged.are_different.push(asBoolean(value('are_different')));
  staged.num_example_per_prompt.push(asNumber(value('num_example_per_prompt')));
  staged.verdict.push(verdict);
  staged.annotator.push(
    verdict === null ? null : (named ?? pickapicAnnotatorName(userId, rankingId)),
  );
  // A name from a per-annotator export comes back as that annotator's labels.
  staged.annotator_kind.push(
    verdict === null
      ? null
      : named === null || named.startsWith(DATASET_ANNOTATOR_PREFIX)
        ? 'dataset'
        : 'import',
  );
}

async function inspectBatchImages(
  file: string,
  batch: ColumnBatch,
  wanted: boolean[],
): Promise<(RowBlobs | null)[]> {
  const firstRow = batch.start;
  return Promise.all(
    wanted.map(async (want, offset) => {
      if (!want) return null;
      const jpg0 = asBytes(batch.columns.jpg_0![offset]);
      const jpg1 = asBytes(batch.columns.jpg_1![offset]);
      if (!jpg0 && !jpg1) return null;
      const inspect = async (bytes: Uint8Array | null, column: string) => {
        try {
          if (!bytes) throw new Error('empty');
          return await inspectImage(bytes);
        } catch (error) {
          throw new StudioError(
            'bad_input',
            `${file} row ${firstRow + offset + 1}: ${column}: ${(error as Error).message}`,
          );
        }
      };
      return [await inspect(jpg0, 'jpg_0'), await inspect(jpg1, 'jpg_1')] as const;
    }),
  );
}
