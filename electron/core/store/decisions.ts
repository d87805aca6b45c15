import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { AnnotatorStats } from '../../../shared/api';
import { StudioError } from '../../../shared/errors';
import type { Decision, Verdict } from '../../../shared/labels';
import { LastHourPace } from './pace';
import type { QueueMarks } from './pairs';
import { sqlBool } from './sql';
import { decisionFromDb, verdictToDb, type DbVerdict } from './verdicts';

export type AnnotatorKind = AnnotatorStats['kind'];

/** One event of the annotation log: a decision (verdict or skip), or the undo of one. */
export type AnnotationRecord = {
  pairId: number;
  annotatorId: number;
  createdAt: number;
} & (
  | {
      decision: Decision;
      leftImage?: 0 | 1 | null;
      suggestionVisible?: boolean | null;
      decisionMs?: number | null;
      /** The Pick-a-Pic ranking a dataset label came from. */
      rankingId?: bigint | null;
    }
  | { undoes: number }
);

export interface CurrentDecision {
  decision: Decision;
  /** The image shown on the left when it was made; null where no side was recorded. */
  leftImage: 0 | 1 | null;
}

export interface StandingDecision {
  id: number;
  pairId: number;
  leftImage: 0 | 1 | null;
}

export interface HistoryRow extends CurrentDecision {
  annotationId: number;
  pairId: number;
  prompt: string;
  createdAt: number;
}

export interface LabelCounts {
  decided: number;
  skipped: number;
  /** Decisions (verdicts and skips) in the last hour. */
  lastHour: number;
}

/**
 * A new annotator's stable id: made once for a person (their name is theirs to choose, and
 * another machine's person may choose it too); the dataset's and a manifest's are their names.
 */
export const annotatorUid = (name: string, kind: AnnotatorKind): string =>
  kind === 'human' ? randomUUID().replaceAll('-', '') : name;

/** A name the annotators of another kind (the dataset's, a manifest's) already have. */
export const nameTaken = (name: string, kind: AnnotatorKind): StudioError =>
  new StudioError(
    'bad_input',
    `annotator name ${JSON.stringify(name)} is already used by ${kind === 'import' ? 'an' : 'a'} ${kind} annotator`,
  );

/**
 * Annotators, the append-only annotation log, and what follows from it: each annotator's current
 * decision per pair (the `decisions` table, kept by triggers in the transaction that appends),
 * their tallies, and the lead's adjudications.
 */
export class DecisionRepository {
  private readonly stmt;
  private readonly pace;

  constructor(
    private readonly db: Database.Database,
    private readonly marks: QueueMarks,
  ) {
    this.pace = new LastHourPace(db, () => marks.asOf());
    this.stmt = {
      findAnnotator: db.prepare<[string], { id: number; kind: AnnotatorKind; uid: string }>(
        'SELECT id, kind, uid FROM annotators WHERE name = ?',
      ),
      addAnnotator: db.prepare<
        [string, string, number, string],
        { id: number; kind: AnnotatorKind }
      >(
        `INSERT INTO annotators (name, kind, created_at, uid) VALUES (?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id, kind`,
      ),
      append: db.prepare(
        `INSERT INTO annotations (pair_id, annotator_id, action, verdict, undoes_id, left_image,
           suggestion_visible, decision_ms, created_at, ranking_id)
         VALUES (@pairId, @annotatorId, @action, @verdict, @undoesId, @leftImage,
           @suggestionVisible, @decisionMs, @createdAt, @rankingId)`,
      ),
      endLease: db.prepare<[number, number]>(
        'DELETE FROM pair_leases WHERE pair_id = ? AND annotator_id = ?',
      ),
      current: db.prepare<
        [number, number],
        { action: string; verdict: DbVerdict | null; leftImage: 0 | 1 | null }
      >(
        `SELECT action, verdict, left_image AS leftImage FROM decisions
         WHERE pair_id = ? AND annotator_id = ?`,
      ),
      latestStanding: db.prepare<[number], StandingDecision>(
        `SELECT annotation_id AS id, pair_id AS pairId, left_image AS leftImage FROM decisions
         WHERE annotator_id = ? ORDER BY annotation_id DESC LIMIT 1`,
      ),
      counts: db.prepare<[number], { decided: number; skipped: number }>(
        'SELECT verdicts AS decided, skips AS skipped FROM annotator_tallies WHERE annotator_id = ?',
      ),
      history: db.prepare<
        [number, number],
        Omit<HistoryRow, 'decision'> & { action: string; verdict: DbVerdict | null }
      >(
        `SELECT d.annotation_id AS annotationId, d.pair_id AS pairId, pr.text AS prompt,
           d.action, d.verdict, d.left_image AS leftImage, d.created_at AS createdAt
         FROM decisions d
         JOIN pairs p ON p.id = d.pair_id JOIN prompts pr ON pr.id = p.prompt_id
         WHERE d.annotator_id = ? ORDER BY d.annotation_id DESC LIMIT ?`,
      ),
      adjudicate: db.prepare(
        `INSERT INTO adjudications (pair_id, verdict, adjudicator, note, created_at)
         VALUES (@pairId, @verdict, @adjudicator, @note, @createdAt)`,
      ),
    };
  }

  findAnnotator(name: string): { id: number; kind: AnnotatorKind; uid: string } | undefined {
    return this.stmt.findAnnotator.get(name);
  }

  /** The annotator's id, registering them on first use; refuses a name taken by another kind. */
  annotatorId(name: string, kind: AnnotatorKind): number {
    // Looked up first: the upsert writes even when the name exists, and a write outside a
    // transaction is a commit of its own, one more wait for the disk on every label.
    const row =
      this.findAnnotator(name) ??
      this.stmt.addAnnotator.get(name, kind, Date.now(), annotatorUid(name, kind))!;
    if (row.kind !== kind) throw nameTaken(name, row.kind);
    return row.id;
  }

  /**
   * Appends to the annotation log in one transaction; a decision also ends the annotator's lease
   * on the pair. Returns the new annotation ids.
   */
  record(annotations: readonly AnnotationRecord[]): number[] {
    return this.db.transaction(() => annotations.map((a) => this.append(a)))();
  }

  private append(annotation: AnnotationRecord): number {
    const decided = 'decision' in annotation ? annotation : null;
    const decision = decided?.decision;
    const { lastInsertRowid } = this.stmt.append.run({
      pairId: annotation.pairId,
      annotatorId: annotation.annotatorId,
      action: decided ? (decision === 'skip' ? 'skip' : 'verdict') : 'undo',
      verdict: decision === undefined || decision === 'skip' ? null : verdictToDb(decision),
      undoesId: 'undoes' in annotation ? annotation.undoes : null,
      leftImage: decided?.leftImage ?? null,
      suggestionVisible: sqlBool(decided?.suggestionVisible),
      decisionMs: decided?.decisionMs ?? null,
      createdAt: annotation.createdAt,
      rankingId: decided?.rankingId ?? null,
    });
    if (decided) this.stmt.endLease.run(annotation.pairId, annotation.annotatorId);
    else this.marks.reopen(annotation.annotatorId, annotation.pairId);
    return Number(lastInsertRowid);
  }

  /** The annotator's current decision on a pair: the latest verdict or skip not undone. */
  current(pairId: number, annotatorId: number): CurrentDecision | null {
    const row = this.stmt.current.get(pairId, annotatorId);
    return row
      ? { decision: decisionFromDb(row.action, row.verdict), leftImage: row.leftImage }
      : null;
  }

  /** The annotator's latest decision that no undo has taken back (what Undo takes back next). */
  latestStanding(annotatorId: number): StandingDecision | undefined {
    return this.stmt.latestStanding.get(annotatorId);
  }

  /** The annotator's current decisions, latest first. */
  history(annotatorId: number, limit: number): HistoryRow[] {
    return this.stmt.history.all(annotatorId, limit).map(({ action, verdict, ...row }) => ({
      ...row,
      decision: decisionFromDb(action, verdict),
    }));
  }

  /** How far the annotator is: pairs decided and skipped, and decisions in the last hour. */
  counts(annotatorId: number, now = Date.now()): LabelCounts {
    const row = this.stmt.counts.get(annotatorId);
    return {
      decided: row?.decided ?? 0,
      skipped: row?.skipped ?? 0,
      lastHour: this.pace.count(annotatorId, now),
    };
  }

  /** Per annotator (or the one named): pairs decided, verdicts by kind, skips. */
  stats(name?: string): AnnotatorStats[] {
    const rows = this.db
      .prepare<
        { name: string | null },
        {
          name: string;
          kind: AnnotatorKind;
          decided: number | null;
          v0: number | null;
          v1: number | null;
          vt: number | null;
          skips: number | null;
        }
      >(
        // A decision per pair and annotator: their verdicts are the pairs they decided.
        `SELECT n.name, n.kind, t.verdicts AS decided, t.image0 AS v0, t.image1 AS v1,
           t.ties AS vt, t.skips
         FROM annotators n LEFT JOIN annotator_tallies t ON t.annotator_id = n.id
         WHERE (@name IS NULL OR n.name = @name)
         ORDER BY n.name`,
      )
      .all({ name: name ?? null });
    return rows.map((r) => ({
      name: r.name,
      kind: r.kind,
      pairsDecided: r.decided ?? 0,
      verdicts: { image0: r.v0 ?? 0, image1: r.v1 ?? 0, tie: r.vt ?? 0 },
      skips: r.skips ?? 0,
    }));
  }

  /** Records the lead's final verdict on a pair; the latest one counts. */
  adjudicate(adjudication: {
    pairId: number;
    verdict: Verdict;
    adjudicator: string;
    note: string;
  }): number {
    const { lastInsertRowid } = this.stmt.adjudicate.run({
      ...adjudication,
      verdict: verdictToDb(adjudication.verdict),
      createdAt: Date.now(),
    });
    return Number(lastInsertRowid);
  }
}
