import type Database from 'better-sqlite3';
import { StudioError } from '../../../shared/errors';
import type { Verdict } from '../../../shared/labels';
import { verdictFromDb, verdictToDb, type DbVerdict } from './verdicts';

export interface GoldPair {
  pairId: number;
  /** The expected verdict, by image index (image 0 is the left one in review). */
  verdict: Verdict;
  setBy: string;
  createdAt: number;
}

/**
 * Gold pairs (migration 7's `gold_pairs`): pairs the lead knows the answer to. Lead-side only:
 * a package never gets this table (store/packages.ts copies pairs, not this), so nothing in an
 * annotator's file tells a gold pair from the others.
 */
export class GoldRepository {
  private readonly stmt;

  constructor(private readonly db: Database.Database) {
    this.stmt = {
      set: db.prepare<[number, DbVerdict, string, number]>(
        `INSERT INTO gold_pairs (pair_id, verdict, set_by, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (pair_id) DO UPDATE SET verdict = excluded.verdict,
           set_by = excluded.set_by, created_at = excluded.created_at`,
      ),
      clear: db.prepare<[number]>('DELETE FROM gold_pairs WHERE pair_id = ?'),
      pairExists: db.prepare<[number], number>('SELECT 1 FROM pairs WHERE id = ?').pluck(),
      list: db.prepare<
        [],
        { pairId: number; verdict: DbVerdict; setBy: string; createdAt: number }
      >(
        `SELECT pair_id AS pairId, verdict, set_by AS setBy, created_at AS createdAt
         FROM gold_pairs ORDER BY pair_id`,
      ),
    };
  }

  /**
   * Sets (or, with a null verdict, clears) the expected verdict of each pair, all in one
   * transaction: an unknown pair id refuses the whole list, naming it.
   */
  set(
    items: { pairId: number; verdict: Verdict | null }[],
    setBy: string,
    file: string,
  ): { set: number; cleared: number } {
    const now = Date.now();
    return this.db.transaction(() => {
      let set = 0;
      let cleared = 0;
      for (const { pairId, verdict } of items) {
        if (this.stmt.pairExists.get(pairId) === undefined) {
          throw new StudioError('not_found', `no pair ${pairId} in ${file}; nothing was changed`);
        }
        if (verdict === null) cleared += this.stmt.clear.run(pairId).changes;
        else {
          this.stmt.set.run(pairId, verdictToDb(verdict), setBy, now);
          set++;
        }
      }
      return { set, cleared };
    })();
  }

  list(): GoldPair[] {
    return this.stmt.list.all().map((row) => ({ ...row, verdict: verdictFromDb(row.verdict) }));
  }
}
