import { verdictToLabels, type Verdict } from '../../../../shared/labels';
import type {
  ExportPair,
  ExportReads,
  ExportScore,
  ExportTally,
  LatestAdjudication,
} from '../../store/export-reads';
import type { FlagExportReads } from '../../store/flags';
import type { ProjectSnapshot } from '../../store/snapshot';
import type { TaskContext } from '../../tasks';
import { pickapicUserId } from '../import-pickapic';
import { IMAGE_COLUMNS, PICKAPIC_COLUMNS, type ColumnKind } from '../pickapic-schema';
import { ExportImages, type ImagesMode } from './images';
import {
  ColumnGroups,
  int64,
  PAGE_PAIRS,
  type Columns,
  type Value,
  type WriteBatch,
} from './parquet-file';

/** Columns added after Pick-a-Pic's own; none of the dataset's names is changed. */
const EXTRA_COLUMNS = [
  { name: 'num_annotations', kind: 'int64' },
  { name: 'agreement', kind: 'float64' },
  { name: 'verdict_source', kind: 'string' },
  { name: 'pickscore_0', kind: 'float64' },
  { name: 'pickscore_1', kind: 'float64' },
  { name: 'pickscore_prob_0', kind: 'float64' },
  { name: 'adjudicator', kind: 'string' },
  { name: 'adjudicated_at', kind: 'timestamp' },
  { name: 'adjudication_note', kind: 'string' },
  { name: 'num_flags', kind: 'int64' },
  { name: 'flags', kind: 'string' },
] as const satisfies readonly { name: string; kind: ColumnKind }[];

export const pairColumns = (withImages: boolean): Columns =>
  [...PICKAPIC_COLUMNS, ...EXTRA_COLUMNS].filter(
    (c) => withImages || !(IMAGE_COLUMNS as readonly string[]).includes(c.name),
  );

type Decided = { verdict: Verdict; source: 'adjudication' | 'majority' };
const MAJORITY: Record<'0' | '1' | 'tie', Decided> = {
  0: { verdict: 0, source: 'majority' },
  1: { verdict: 1, source: 'majority' },
  tie: { verdict: 'tie', source: 'majority' },
};

/**
 * The verdict a pair exports with: the latest adjudication, else a strict plurality of its
 * current verdicts (the review list's majority, audit-reads.ts).
 */
export function finalVerdict(
  adjudicated: Verdict | null,
  [, image0, image1, ties]: ExportTally,
): Decided | null {
  if (adjudicated !== null) return { verdict: adjudicated, source: 'adjudication' };
  if (image0 > image1 && image0 > ties) return MAJORITY[0];
  if (image1 > image0 && image1 > ties) return MAJORITY[1];
  if (ties > image0 && ties > image1) return MAJORITY.tie;
  return null;
}

/** A tally's verdicts, all categories. */
const votesOf = ([, image0, image1, ties]: ExportTally): number => image0 + image1 + ties;

/** Verdicts of one category among a tally's. */
const countOf = ([, image0, image1, ties]: ExportTally, verdict: Verdict): number =>
  verdict === 0 ? image0 : verdict === 1 ? image1 : ties;

/**
 * A lookup into rows sorted by pair id (a key range's), for pairs asked in ascending order: one
 * pass over both, with no map made per page.
 */
function inPairOrder<Row extends readonly [number, ...unknown[]]>(
  rows: readonly Row[],
): (pairId: number) => Row | undefined {
  let at = 0;
  return (pairId) => {
    while (at < rows.length && rows[at]![0] < pairId) at++;
    return rows[at]?.[0] === pairId ? rows[at] : undefined;
  };
}

/** The page's latest adjudications by pair, by key range; null for the many pages with none. */
function adjudicationsByPair(
  reads: ExportReads,
  page: ExportPair[],
): Map<number, LatestAdjudication> | null {
  const latest = reads.latestAdjudicationsBetween(page[0]!.id, page[page.length - 1]!.id);
  return latest.length === 0 ? null : new Map(latest.map((j) => [j[0], j]));
}

/** An annotator's flag on a pair as the `flags` column lists it. */
interface PairFlag {
  annotator: string;
  note: string;
}

/** The page's flags by pair, by key range, annotators by id; null for the many pages with none. */
function flagsByPair(
  reads: FlagExportReads,
  annotators: ReturnType<ExportReads['annotators']>,
  page: ExportPair[],
): Map<number, PairFlag[]> | null {
  const flags = reads.between(page[0]!.id, page[page.length - 1]!.id);
  if (flags.length === 0) return null;
  const byPair = new Map<number, PairFlag[]>();
  for (const [pairId, annotatorId, note] of flags) {
    const list = byPair.get(pairId) ?? [];
    list.push({ annotator: annotators.get(annotatorId)!.name, note });
    byPair.set(pairId, list);
  }
  return byPair;
}

const PAIR_COLUMN_NAMES = [...PICKAPIC_COLUMNS, ...EXTRA_COLUMNS].map((c) => c.name);
type PairColumns = Record<(typeof PAIR_COLUMN_NAMES)[number], Value[]>;

/** What a pair's row is made of, beside the pair: all read by key range for its page. */
interface PairFacts {
  /** Its current verdicts by category; a pair without one has a tally of zeros. */
  tally: ExportTally;
  score: ExportScore | undefined;
  adjudication: LatestAdjudication | undefined;
  flags: PairFlag[] | undefined;
}

/**
 * Pushes a pair's Pick-a-Pic row, without images, onto the columns; false (nothing pushed) when
 * it has no final verdict.
 */
function pushPairRow(
  v: PairColumns,
  pair: ExportPair,
  { tally, score, adjudication, flags = [] }: PairFacts,
  annotators: ReturnType<ExportReads['annotators']>,
): boolean {
  const decided = finalVerdict(adjudication?.[1] ?? null, tally);
  if (!decided) return false;
  const { verdict, source } = decided;
  const labels = verdictToLabels(verdict);
  const votes = votesOf(tally);
  const soleVoter = tally[4] === null ? null : annotators.get(tally[4])!;
  v.are_different.push(pair.areDifferent === 1);
  v.best_image_uid.push(verdict === 'tie' ? null : verdict === 0 ? pair.uid0 : pair.uid1);
  v.caption.push(pair.caption);
  v.created_at.push(pair.createdAt);
  v.has_label.push(true);
  v.image_0_uid.push(pair.uid0);
  v.image_0_url.push(pair.url0);
  v.image_1_uid.push(pair.uid1);
  v.image_1_url.push(pair.url1);
  v.label_0.push(labels.label_0);
  v.label_1.push(labels.label_1);
  v.model_0.push(pair.model0);
  v.model_1.push(pair.model1);
  v.num_example_per_prompt.push(pair.numExamplePerPrompt);
  v.ranking_id.push(int64(pair.rankingId));
  v.user_id.push(soleVoter?.kind === 'dataset' ? pickapicUserId(soleVoter.name) : null);
  v.num_annotations.push(votes);
  v.agreement.push(votes === 0 ? null : countOf(tally, verdict) / votes);
  v.verdict_source.push(source);
  v.pickscore_0.push(score?.[1] ?? null);
  v.pickscore_1.push(score?.[2] ?? null);
  v.pickscore_prob_0.push(score?.[3] ?? null);
  v.adjudicator.push(adjudication?.[2] ?? null);
  v.adjudicated_at.push(adjudication ? adjudication[3] : null);
  v.adjudication_note.push(adjudication?.[4] ?? null);
  v.num_flags.push(flags.length);
  // JSON: [{"annotator": …, "note": …}], in annotator order; null where nobody flagged it.
  v.flags.push(flags.length === 0 ? null : JSON.stringify(flags));
  return true;
}

/**
 * One row per pair with a final verdict (the latest adjudication, else a strict majority), page
 * by page; the pairs whose verdicts have no majority are counted.
 */
export async function writePairs(
  snapshot: ProjectSnapshot,
  writeBatch: WriteBatch,
  images: ImagesMode,
  modelId: number | null,
  context: TaskContext,
): Promise<{ rows: number; pairsWithoutMajority: number }> {
  const reads = snapshot.exports;
  const totalPairs = reads.pairCount();
  const annotators = reads.annotators();
  const groups = new ColumnGroups(PAIR_COLUMN_NAMES, writeBatch);
  const jpgs = new ExportImages(snapshot.images, images);
  let pairsWithoutMajority = 0;
  let seen = 0;
  for (let after = 0; ; ) {
    context.throwIfCancelled();
    const page = reads.pairPage(after, PAGE_PAIRS);
    if (page.length === 0) break;
    const [first, last] = [page[0]!.id, page[page.length - 1]!.id];
    const tallyOf = inPairOrder(reads.talliesBetween(first, last));
    const scoreOf = inPairOrder(modelId === null ? [] : reads.scoresBetween(modelId, first, last));
    const adjudications = adjudicationsByPair(reads, page);
    const flags = flagsByPair(snapshot.flags, annotators, page);
    jpgs.startPage(page);
    for (const pair of page) {
      const facts: PairFacts = {
        tally: tallyOf(pair.id) ?? [pair.id, 0, 0, 0, null],
        score: scoreOf(pair.id),
        adjudication: adjudications?.get(pair.id),
        flags: flags?.get(pair.id),
      };
      const v = groups.values;
      if (!pushPairRow(v, pair, facts, annotators)) {
        if (votesOf(facts.tally) > 0) pairsWithoutMajority++;
        continue;
      }
      const added = jpgs.add(v, pair.id, pair);
      const imageBytes = typeof added === 'number' ? added : await added;
      if (groups.endRow(imageBytes)) await groups.flush();
    }
    seen += page.length;
    after = last;
    context.progress(seen, totalPairs, 'pairs');
  }
  await groups.flush();
  return { rows: groups.written, pairsWithoutMajority };
}
