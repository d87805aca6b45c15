import path from 'node:path';
import { DATASET_ANNOTATOR_PREFIX } from '../../../shared/api';
import { StudioError } from '../../../shared/errors';
import { labelsToVerdict } from '../../../shared/labels';
import type { ProjectStore } from '../store/project-store';
import type { TaskContext } from '../tasks';
import { inspectImage } from './images';
import { IMAGE_COLUMNS, PICKAPIC_COLUMNS, wrongColumnTypes } from './pickapic-schema';
import { openParquet, type ParquetSource } from './parquet-source';
import type { BlobRecord, StagedPair, Staging } from '../store/staging';
import {
  asBoolean,
  asBytes,
  asInt64,
  asNumber,
  asTimeMs,
  asUtf8String,
  captionProblem,
} from './values';

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

/** Opens a shard and checks that it has the Pick-a-Pic columns with usable types. */
export async function openPickapicShard(
  file: string,
): Promise<ParquetSource & { hasImages: boolean }> {
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
 * Reads a shard row group by row group into `staging`, checking every row (labels, uids, image
 * bytes) on the way; nothing is written to the project here. Rows whose ranking_id the project
 * already has are counted and not read further, so re-importing a shard costs little.
 */
export async function stagePickapicShard(
  store: ProjectStore,
  shard: ParquetSource & { hasImages: boolean },
  staging: Staging,
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

  for (const group of shard.rowGroups) {
    context.throwIfCancelled();
    const rows = await shard.readRows(group.start, group.end, columns);
    const fresh = rows.map((row) => {
      const rankingId = asInt64(row.ranking_id);
      return rankingId === null || !store.pairs.hasRanking(rankingId);
    });
    const images = shard.hasImages ? await inspectRowImages(file, group.start, rows, fresh) : null;

    rows.forEach((row, offset) => {
      if (!fresh[offset]) {
        alreadyPresent++;
        return;
      }
      const blobs = images?.[offset];
      if (blobs) {
        staging.addBlob(blobs[0]);
        staging.addBlob(blobs[1]);
      }
      staging.addPair(stagedRow(row, blobs, `${file} row ${group.start + offset + 1}`));
    });
    staging.checkpoint();
    context.progress(progress.rowsBefore + group.end, progress.totalRows, path.basename(file));
  }
  return { rows: shard.numRows, alreadyPresent };
}

type RowBlobs = readonly [BlobRecord, BlobRecord];

/** A shard's row, checked, as it is staged; `where` names the row in messages. */
function stagedRow(
  row: Record<string, unknown>,
  blobs: RowBlobs | null | undefined,
  where: string,
): StagedPair {
  const fail = (problem: string): never => {
    throw new StudioError('bad_input', `${where}: ${problem}`);
  };
  const text = (column: string): string | null => {
    try {
      return asUtf8String(row[column]);
    } catch (error) {
      return fail(`${column} is ${(error as Error).message}`);
    }
  };
  const rankingId = asInt64(row.ranking_id) ?? fail('ranking_id is empty');
  const caption = text('caption') ?? fail('caption is empty');
  const tooLong = captionProblem(caption, 'caption');
  if (tooLong) fail(tooLong);
  const uid0 = text('image_0_uid') || fail('image_0_uid is empty');
  const uid1 = text('image_1_uid') || fail('image_1_uid is empty');
  const hasLabel = asBoolean(row.has_label) ?? false;
  const label0 = asNumber(row.label_0);
  const label1 = asNumber(row.label_1);
  const userId = asInt64(row.user_id);
  const createdAt = asTimeMs(row.created_at);
  const verdict = hasLabel
    ? (labelsToVerdict(label0 ?? NaN, label1 ?? NaN) ??
      fail(`labels (${label0}, ${label1}) are none of (1, 0), (0, 1), (0.5, 0.5)`))
    : null;
  const named = text(ANNOTATOR_COLUMN) || null;
  return {
    caption,
    image0: {
      uid: uid0,
      sha256: blobs?.[0].sha256 ?? null,
      path: null,
      url: text('image_0_url'),
    },
    image1: {
      uid: uid1,
      sha256: blobs?.[1].sha256 ?? null,
      path: null,
      url: text('image_1_url'),
    },
    model0: text('model_0'),
    model1: text('model_1'),
    createdAt,
    source: {
      rankingId,
      userId,
      hasLabel,
      label0,
      label1,
      bestImageUid: text('best_image_uid'),
      areDifferent: asBoolean(row.are_different),
      numExamplePerPrompt: asNumber(row.num_example_per_prompt),
      createdAt,
    },
    label:
      verdict === null
        ? null
        : {
            verdict,
            annotator: named ?? pickapicAnnotatorName(userId, rankingId),
            // A name from a per-annotator export comes back as that annotator's labels.
            kind:
              named === null || named.startsWith(DATASET_ANNOTATOR_PREFIX) ? 'dataset' : 'import',
            rankingId,
          },
  };
}

async function inspectRowImages(
  file: string,
  firstRow: number,
  rows: Record<string, unknown>[],
  wanted: boolean[],
): Promise<(RowBlobs | null)[]> {
  return Promise.all(
    rows.map(async (row, offset) => {
      if (!wanted[offset]) return null;
      const jpg0 = asBytes(row.jpg_0);
      const jpg1 = asBytes(row.jpg_1);
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
