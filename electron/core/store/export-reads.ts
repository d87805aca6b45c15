import type Database from 'better-sqlite3';
import type { Verdict } from '../../../shared/labels';
import type { AnnotatorKind } from './decisions';
import { EVENT_ORIGIN, PAIR_JOINS } from './sql';
import { verdictSql } from './verdicts';

/**
 * A pair as the Parquet export writes it, with its first Pick-a-Pic ranking and its scores.
 * Values come as SQLite gives them, ready to write: an export reads every pair of the project,
 * and a conversion per row costs more than the read.
 */
export interface ExportPair {
  id: number;
  caption: string;
  uid0: string;
  url0: string | null;
  /** The image's id when the project has its bytes or its file: only then is there anything to read. */
  readable0: number | null;
  uid1: string;
  url1: string | null;
  readable1: number | null;
  model0: string | null;
  model1: string | null;
  createdAt: number;
  /** Exact, as decimal text: ranking ids pass 2^53. */
  rankingId: string | null;
  /** 1 when the images differ: the dataset's flag, else whether their uids differ. */
  areDifferent: number;
  numExamplePerPrompt: number;
}

/**
 * An ExportPair as SQLite gives it, in the order of its fields: a raw row and an object made
 * from it in JavaScript cost a third less than the driver's own row objects.
 */
type ExportPairTuple = [
  number,
  string,
  string,
  string | null,
  number | null,
  string,
  string | null,
  number | null,
  string | null,
  string | null,
  number,
  string | null,
  number,
  number,
];

/**
 * A pair's current verdicts by category, [pair, image 0, image 1, ties, sole voter], the last
 * the annotator of its only verdict (else null). Kept by triggers (`pair_tallies`), so a page of
 * pairs reads one row each, not each of their verdicts.
 */
export type ExportTally = [number, number, number, number, number | null];

/** A pair's score by a model: [pair, score 0, score 1, p(image 0)]. */
export type ExportScore = [number, number, number, number];

/** What an event of the annotations export is about: its pair, by content, and its annotator. */
export interface ExportEventSubject {
  pairId: number;
  caption: string;
  uid0: string;
  uid1: string;
  /** The images' bytes as sha256, where the project has them: a merge matches pairs by them. */
  sha0: string | null;
  sha1: string | null;
  annotator: string;
  annotatorKind: AnnotatorKind;
  annotatorUid: string;
}

/** One row of the annotation log as the annotations export writes it (see ExportPair). */
export interface ExportAnnotation extends ExportEventSubject {
  id: number;
  /** Exact, as decimal text. */
  rankingId: string | null;
  /** Where the event was first written: that project's id and the event's id there. */
  origin: string;
  originId: number;
  action: 'verdict' | 'skip' | 'undo';
  verdict: Verdict | null;
  undoesId: number | null;
  /** 1 for the annotator's current decision on the pair. */
  isCurrent: number;
  leftImage: number | null;
  /** 1 or 0; null where it was not recorded. */
  suggestionVisible: number | null;
  decisionMs: number | null;
  createdAt: number;
}

/**
 * A pair's latest adjudication, its final verdict: [pair, verdict, adjudicator, created_at, note].
 * Read per page by key range, like the verdicts: most pairs have none, and a column per pair for
 * them would cost every pair of the project a larger row.
 */
export type LatestAdjudication = [number, Verdict, string, number, string];

/** One adjudication as the annotations export writes it, as an event beside the annotations. */
export interface ExportAdjudication {
  id: number;
  pairId: number;
  caption: string;
  uid0: string;
  uid1: string;
  adjudicator: string;
  verdict: Verdict;
  note: string;
  /** 1 for the pair's latest adjudication, its final verdict. */
  isCurrent: number;
  createdAt: number;
}

/**
 * An annotator's current verdict on a pair, for the per-annotator export: with the Pick-a-Pic row
 * it came from (a dataset label), else where it was first written (a label made in a project).
 */
export interface ExportLabel {
  pairId: number;
  annotatorId: number;
  verdict: Verdict;
  createdAt: number;
  /** Exact, as decimal text: the dataset's ranking, for a label that came with one. */
  rankingId: string | null;
  /** The project the label was first written in, and its id there. */
  origin: string;
  originId: number;
  /** 1 when the Pick-a-Pic row showed the pair's images the other way round. */
  swapped: number;
  /** The row's user, as decimal text; null for a label without a row, or a row without one. */
  userId: string | null;
  areDifferent: number | null;
  numExamplePerPrompt: number | null;
}

/** Pairs after @after, as ExportPairTuple. */
const PAIR_PAGE = `SELECT p.id, pr.text AS caption, i0.uid AS uid0, i0.url AS url0,
       CASE WHEN coalesce(i0.sha256, i0.path) IS NOT NULL THEN i0.id END AS readable0,
       i1.uid AS uid1, i1.url AS url1,
       CASE WHEN coalesce(i1.sha256, i1.path) IS NOT NULL THEN i1.id END AS readable1,
       p.model_0 AS model0, p.model_1 AS model1,
       coalesce(p.created_at, p.added_at) AS createdAt,
       CAST(s.ranking_id AS TEXT) AS rankingId,
       coalesce(s.are_different, i0.uid != i1.uid) AS areDifferent,
       coalesce(s.num_example_per_prompt,
         (SELECT count(*) FROM pairs q WHERE q.prompt_id = p.prompt_id)) AS numExamplePerPrompt
     FROM pairs p ${PAIR_JOINS}
     LEFT JOIN pair_sources s ON s.ranking_id = (SELECT min(ranking_id) FROM pair_sources WHERE pair_id = p.id)
     WHERE p.id > @after ORDER BY p.id LIMIT @limit`;

/** What the Parquet export reads, page by page, in id order. */
export class ExportReads {
  private readonly stmt;

  constructor(db: Database.Database) {
    this.stmt = {
      pairCount: db.prepare<[], number>('SELECT count(*) FROM pairs').pluck(),
      pairs: db.prepare<[{ after: number; limit: number }], ExportPairTuple>(PAIR_PAGE).raw(),
      annotators: db
        .prepare<
          [],
          [number, string, AnnotatorKind, string | null]
        >('SELECT id, name, kind, uid FROM annotators')
        .raw(),
      labels: db.prepare<[number, number], ExportLabel>(
        `SELECT d.pair_id AS pairId, d.annotator_id AS annotatorId,
           ${verdictSql('d.verdict')} AS verdict, d.created_at AS createdAt,
           CAST(a.ranking_id AS TEXT) AS rankingId,
           ${EVENT_ORIGIN}, coalesce(s.swapped, 0) AS swapped,
           CAST(s.user_id AS TEXT) AS userId, s.are_different AS areDifferent,
           s.num_example_per_prompt AS numExamplePerPrompt
         FROM decisions d JOIN annotations a ON a.id = d.annotation_id
         LEFT JOIN pair_sources s ON s.ranking_id = a.ranking_id
         WHERE d.pair_id BETWEEN ? AND ? AND d.action = 'verdict'
         ORDER BY d.pair_id, d.annotator_id`,
      ),
      // The sole voter only where there is one: a pair's row names a dataset user then.
      tallies: db
        .prepare<[number, number], ExportTally>(
          `SELECT t.pair_id, t.image0, t.image1, t.ties,
             CASE WHEN t.verdicts = 1 THEN (SELECT d.annotator_id FROM decisions d
                                           WHERE d.pair_id = t.pair_id AND d.action = 'verdict') END
           FROM pair_tallies t WHERE t.pair_id BETWEEN ? AND ? ORDER BY t.pair_id`,
        )
        .raw(),
      scores: db
        .prepare<[number, number, number], ExportScore>(
          `SELECT pair_id, score_0, score_1, p_0 FROM scores
           WHERE model_id = ? AND pair_id BETWEEN ? AND ? ORDER BY pair_id`,
        )
        .raw(),
      latestAdjudications: db
        .prepare<[number, number], LatestAdjudication>(
          `SELECT j.pair_id, ${verdictSql('j.verdict')}, j.adjudicator, j.created_at, j.note
           FROM adjudications j
           WHERE j.pair_id BETWEEN ? AND ?
             AND NOT EXISTS (SELECT 1 FROM adjudications k WHERE k.pair_id = j.pair_id AND k.id > j.id)`,
        )
        .raw(),
      annotationCount: db.prepare<[], number>('SELECT count(*) FROM annotations').pluck(),
      annotations: db.prepare<[number, number], ExportAnnotation>(
        `SELECT a.id, a.pair_id AS pairId, CAST(a.ranking_id AS TEXT) AS rankingId, pr.text AS caption,
           i0.uid AS uid0, i1.uid AS uid1, i0.sha256 AS sha0, i1.sha256 AS sha1,
           n.name AS annotator, n.kind AS annotatorKind, n.uid AS annotatorUid,
           ${EVENT_ORIGIN},
           a.action, ${verdictSql('a.verdict')} AS verdict, a.undoes_id AS undoesId,
           EXISTS (SELECT 1 FROM decisions d WHERE d.pair_id = a.pair_id
                     AND d.annotator_id = a.annotator_id AND d.annotation_id = a.id) AS isCurrent,
           a.left_image AS leftImage, a.suggestion_visible AS suggestionVisible,
           a.decision_ms AS decisionMs, a.created_at AS createdAt
         FROM annotations a
         JOIN annotators n ON n.id = a.annotator_id
         JOIN pairs p ON p.id = a.pair_id ${PAIR_JOINS}
         WHERE a.id > ? ORDER BY a.id LIMIT ?`,
      ),
      adjudicationCount: db.prepare<[], number>('SELECT count(*) FROM adjudications').pluck(),
      adjudications: db.prepare<[number, number], ExportAdjudication>(
        `SELECT j.id, j.pair_id AS pairId, pr.text AS caption, i0.uid AS uid0, i1.uid AS uid1,
           j.adjudicator, ${verdictSql('j.verdict')} AS verdict, j.note,
           NOT EXISTS (SELECT 1 FROM adjudications k
                       WHERE k.pair_id = j.pair_id AND k.id > j.id) AS isCurrent,
           j.created_at AS createdAt
         FROM adjudications j
         JOIN pairs p ON p.id = j.pair_id ${PAIR_JOINS}
         WHERE j.id > ? ORDER BY j.id LIMIT ?`,
      ),
    };
  }

  pairCount(): number {
    return this.stmt.pairCount.get()!;
  }

  /** Pairs after `after`, in id order. */
  pairPage(after: number, limit: number): ExportPair[] {
    return this.stmt.pairs
      .all({ after, limit })
      .map(
        ([
          id,
          caption,
          uid0,
          url0,
          readable0,
          uid1,
          url1,
          readable1,
          model0,
          model1,
          createdAt,
          rankingId,
          areDifferent,
          numExamplePerPrompt,
        ]) => ({
          id,
          caption,
          uid0,
          url0,
          readable0,
          uid1,
          url1,
          readable1,
          model0,
          model1,
          createdAt,
          rankingId,
          areDifferent,
          numExamplePerPrompt,
        }),
      );
  }

  annotators(): Map<number, { name: string; kind: AnnotatorKind; uid: string | null }> {
    return new Map(
      this.stmt.annotators.all().map(([id, name, kind, uid]) => [id, { name, kind, uid }]),
    );
  }

  /** Every annotator's current verdict on the pairs `first`..`last`, in pair order. */
  labelsBetween(first: number, last: number): ExportLabel[] {
    return this.stmt.labels.all(first, last);
  }

  /** The current verdicts' counts of the pairs `first`..`last`, in pair order, by key range. */
  talliesBetween(first: number, last: number): ExportTally[] {
    return this.stmt.tallies.all(first, last);
  }

  /** The scores of `modelId` for the pairs `first`..`last` it has scored, in pair order. */
  scoresBetween(modelId: number, first: number, last: number): ExportScore[] {
    return this.stmt.scores.all(modelId, first, last);
  }

  /** The latest adjudication of each of the pairs `first`..`last` that has one, by key range. */
  latestAdjudicationsBetween(first: number, last: number): LatestAdjudication[] {
    return this.stmt.latestAdjudications.all(first, last);
  }

  annotationCount(): number {
    return this.stmt.annotationCount.get()!;
  }

  /** Annotations after id `after`, undos and skips included. */
  annotationPage(after: number, limit: number): ExportAnnotation[] {
    return this.stmt.annotations.all(after, limit);
  }

  adjudicationCount(): number {
    return this.stmt.adjudicationCount.get()!;
  }

  /** Adjudications after id `after`, superseded ones included. */
  adjudicationPage(after: number, limit: number): ExportAdjudication[] {
    return this.stmt.adjudications.all(after, limit);
  }
}
