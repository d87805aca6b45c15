import type Database from 'better-sqlite3';
import type { ExportEventSubject } from './export-reads';
import { PAIR_JOINS } from './sql';

/** A flag as the exports read it: [pair, annotator id, note, created_at]. */
export type ExportFlag = [number, number, string, number];

/** One flag as the annotations export writes it, as an event beside the annotations. */
export interface ExportFlagEvent extends ExportEventSubject {
  annotatorId: number;
  note: string;
  createdAt: number;
}

/** The exports' reads of flags (through export-reads.ts), on the snapshot's connection. */
export class FlagExportReads {
  private readonly stmt;

  constructor(db: Database.Database) {
    this.stmt = {
      flags: db
        .prepare<[number, number], ExportFlag>(
          `SELECT pair_id, annotator_id, note, created_at FROM flags
         WHERE pair_id BETWEEN ? AND ? ORDER BY pair_id, annotator_id`,
        )
        .raw(),
      flagCount: db.prepare<[], number>('SELECT count(*) FROM flags').pluck(),
      flagEvents: db.prepare<[number, number, number], ExportFlagEvent>(
        `SELECT f.pair_id AS pairId, f.annotator_id AS annotatorId, pr.text AS caption,
         i0.uid AS uid0, i1.uid AS uid1, i0.sha256 AS sha0, i1.sha256 AS sha1,
         n.name AS annotator, n.kind AS annotatorKind, n.uid AS annotatorUid,
         f.note, f.created_at AS createdAt
       FROM flags f JOIN annotators n ON n.id = f.annotator_id
       JOIN pairs p ON p.id = f.pair_id ${PAIR_JOINS}
       WHERE (f.pair_id, f.annotator_id) > (?, ?)
       ORDER BY f.pair_id, f.annotator_id LIMIT ?`,
      ),
    };
  }

  between(first: number, last: number): ExportFlag[] {
    return this.stmt.flags.all(first, last);
  }

  count(): number {
    return this.stmt.flagCount.get()!;
  }

  page(after: [number, number], limit: number): ExportFlagEvent[] {
    return this.stmt.flagEvents.all(after[0], after[1], limit);
  }
}

/**
 * Annotators' flags on pairs (migration 7's `flags`): one per annotator and pair, with a short
 * note. Flagging again replaces the note; clearing deletes the row. A flag decides nothing.
 */
export class FlagRepository {
  private readonly stmt;

  constructor(db: Database.Database) {
    this.stmt = {
      set: db.prepare<[number, number, string, number]>(
        `INSERT INTO flags (pair_id, annotator_id, note, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (pair_id, annotator_id) DO UPDATE SET note = excluded.note,
           created_at = excluded.created_at`,
      ),
      clear: db.prepare<[number, number]>(
        'DELETE FROM flags WHERE pair_id = ? AND annotator_id = ?',
      ),
      noteOf: db
        .prepare<
          [number, number],
          string
        >('SELECT note FROM flags WHERE pair_id = ? AND annotator_id = ?')
        .pluck(),
      count: db.prepare<[], number>('SELECT count(*) FROM flags').pluck(),
    };
  }

  /** Flags the pair for the annotator, or replaces the note of their flag on it. */
  set(pairId: number, annotatorId: number, note: string, createdAt: number): void {
    this.stmt.set.run(pairId, annotatorId, note, createdAt);
  }

  /** Removes the annotator's flag on the pair; false when there was none. */
  clear(pairId: number, annotatorId: number): boolean {
    return this.stmt.clear.run(pairId, annotatorId).changes > 0;
  }

  /** The annotator's note on the pair, or null when they have not flagged it. */
  noteOf(pairId: number, annotatorId: number): string | null {
    return this.stmt.noteOf.get(pairId, annotatorId) ?? null;
  }

  count(): number {
    return this.stmt.count.get()!;
  }
}
