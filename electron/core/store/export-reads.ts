import type Database from 'better-sqlite3';
import type { Verdict } from '../../../shared/labels';
import type { AnnotatorKind } from './decisions';
import { latestAdjudicationVerdict, PAIR_JOINS } from './sql';
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
  /** 1 when the project has the image's bytes or its file: only then is there anything to read. */
  readable0: number;
  uid1: string;
  url1: string | null;
  readable1: number;
  model0: string | null;
  model1: string | null;
  createdAt: number;
  adjudicated: Verdict | null;
  /** Exact, as decimal text: ranking ids pass 2^53. */
  rankingId: string | null;
  /** 1 when the images differ: the dataset's flag, else whether their uids differ. */
  areDifferent: number;
  numExamplePerPrompt: number;
  score0: number | null;
  score1: number | null;
  p0: number | null;
}

/** One row of the annotation log as the annotations export writes it (see ExportPair). */
export interface ExportAnnotation {
  id: number;
  pairId: number;
  /** Exact, as decimal text. */
  rankingId: string | null;
  caption: string;
  uid0: string;
  uid1: string;
  annotator: string;
  annotatorKind: AnnotatorKind;
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

/** What the Parquet export reads, page by page, in id order. */
export class ExportReads {
  private readonly stmt;

  constructor(db: Database.Database) {
    this.stmt = {
      pairCount: db.prepare<[], number>('SELECT count(*) FROM pairs').pluck(),
      pairs: db.prepare<[{ after: number; limit: number; model: number }], ExportPair>(
        `SELECT p.id, pr.text AS caption, i0.uid AS uid0, i0.url AS url0,
           coalesce(i0.sha256, i0.path) IS NOT NULL AS readable0, i1.uid AS uid1, i1.url AS url1,
           coalesce(i1.sha256, i1.path) IS NOT NULL AS readable1,
           p.model_0 AS model0, p.model_1 AS model1,
           coalesce(p.created_at, p.added_at) AS createdAt,
           ${verdictSql(latestAdjudicationVerdict('p.id'))} AS adjudicated,
           CAST(s.ranking_id AS TEXT) AS rankingId,
           coalesce(s.are_different, i0.uid != i1.uid) AS areDifferent,
           coalesce(s.num_example_per_prompt,
             (SELECT count(*) FROM pairs q WHERE q.prompt_id = p.prompt_id)) AS numExamplePerPrompt,
           sc.score_0 AS score0, sc.score_1 AS score1, sc.p_0 AS p0
         FROM pairs p ${PAIR_JOINS}
         LEFT JOIN pair_sources s ON s.ranking_id = (SELECT min(ranking_id) FROM pair_sources WHERE pair_id = p.id)
         LEFT JOIN scores sc ON sc.model_id = @model AND sc.pair_id = p.id
         WHERE p.id > @after ORDER BY p.id LIMIT @limit`,
      ),
      annotators: db
        .prepare<[], [number, string, AnnotatorKind]>('SELECT id, name, kind FROM annotators')
        .raw(),
      verdicts: db
        .prepare<[number, number], [number, number, Verdict]>(
          `SELECT pair_id, annotator_id, ${verdictSql('verdict')} FROM decisions
           WHERE pair_id BETWEEN ? AND ? AND action = 'verdict'`,
        )
        .raw(),
      annotationCount: db.prepare<[], number>('SELECT count(*) FROM annotations').pluck(),
      annotations: db.prepare<[number, number], ExportAnnotation>(
        `SELECT a.id, a.pair_id AS pairId, CAST(a.ranking_id AS TEXT) AS rankingId, pr.text AS caption,
           i0.uid AS uid0, i1.uid AS uid1, n.name AS annotator, n.kind AS annotatorKind,
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
    };
  }

  pairCount(): number {
    return this.stmt.pairCount.get()!;
  }

  /** Pairs after `after`, with the scores of `modelId` (null: none). */
  pairPage(after: number, limit: number, modelId: number | null): ExportPair[] {
    return this.stmt.pairs.all({ after, limit, model: modelId ?? -1 });
  }

  annotators(): Map<number, { name: string; kind: AnnotatorKind }> {
    return new Map(this.stmt.annotators.all().map(([id, name, kind]) => [id, { name, kind }]));
  }

  /** Current verdicts on the pairs `first`..`last`, by key range: [pair, annotator, verdict]. */
  verdictsBetween(first: number, last: number): [number, number, Verdict][] {
    return this.stmt.verdicts.all(first, last);
  }

  annotationCount(): number {
    return this.stmt.annotationCount.get()!;
  }

  /** Annotations after id `after`, undos and skips included. */
  annotationPage(after: number, limit: number): ExportAnnotation[] {
    return this.stmt.annotations.all(after, limit);
  }
}
