import type Database from 'better-sqlite3';

/**
 * The triggers that keep the decisions table and the tallies (migrations 4, 9 and 10) as each
 * annotation is appended. appendInBulk does their work set-based instead, so it must know every
 * trigger on those two tables: store.test.ts checks this list against the latest schema.
 */
export const DECISION_TRIGGERS = [
  'decisions_on_decide',
  'decisions_on_undo',
  'tallies_on_delete',
  'tallies_on_insert',
  'tallies_on_update',
] as const;

/**
 * Runs `append`, which inserts annotations (each with an id above every id before it), with the
 * per-row triggers set aside, then brings the decisions table and the tallies up to date for the
 * (pair, annotator) keys the new annotations touched, in a few statements over all of them. The
 * result is what the triggers would have left: each touched key's current decision is its latest
 * verdict or skip that no undo names. A merge of 100,000 events spent 60% of its time in the
 * triggers, one small program per row and per table.
 *
 * Inside the caller's transaction, which it needs: the triggers are dropped and made again from
 * their own SQL in it, so a failure or a crash anywhere leaves them as they were. A project whose
 * triggers are not the ones known here (a later schema's) appends row by row, as before.
 *
 * The schema's CHECK constraints are not evaluated on the rows appended and the decisions kept
 * (`ignore_check_constraints`): their IN lists of strings took longer than the insert itself
 * (about 1.1 µs a row against 0.45). The caller's rows must satisfy them already: the merge
 * refuses a file with an event they would refuse (refuseInvalidEvents), the import appends only
 * verdicts it made; the decisions copy the annotations.
 */
export function appendInBulk(db: Database.Database, append: () => number): number {
  if (!db.inTransaction) throw new Error('appendInBulk runs inside a transaction');
  const triggers = db
    .prepare<[], { name: string; sql: string }>(
      `SELECT name, sql FROM main.sqlite_master
       WHERE type = 'trigger' AND tbl_name IN ('annotations', 'decisions') ORDER BY name`,
    )
    .all();
  if (triggers.map((t) => t.name).join() !== DECISION_TRIGGERS.join()) return append();
  const first = db
    .prepare<[], number>('SELECT coalesce(max(id), 0) + 1 FROM main.annotations')
    .pluck()
    .get()!;
  for (const { name } of triggers) db.exec(`DROP TRIGGER main.${name}`);
  db.pragma('ignore_check_constraints = ON');
  try {
    const appended = append();
    if (appended > 0) keepDecisions(db, first);
    return appended;
  } finally {
    db.pragma('ignore_check_constraints = OFF');
    for (const { sql } of triggers) db.exec(sql);
    for (const table of ['bulk_change', 'bulk_undone', 'bulk_pair_change']) {
      db.exec(`DROP TABLE IF EXISTS temp.${table}`);
    }
  }
}

/** The decisions and tallies of every key that annotations from id `first` on touched. */
function keepDecisions(db: Database.Database, first: number): void {
  const run = (sql: string): void => {
    db.prepare(sql).run({ first });
  };
  // Per key, its decision before (from the table) and now, with what the tallies count of each.
  // Now is the key's latest new verdict or skip, read from the new rows alone (in id order, each
  // replacing the one before: grouping them by key sorted them first, a third of the statement),
  // unless an undo among them touched the key (below). NOT INDEXED: the new rows are a range of
  // row ids, which SQLite would rather find by walking a whole index of millions.
  // Keyed: the decisions are written, and the pairs' tallies summed, in key order, unsorted.
  run(`CREATE TEMP TABLE bulk_change (pair_id INTEGER, annotator_id INTEGER, before_id,
         before_action, before_verdict, annotation_id, action, verdict, left_image, decision_ms,
         created_at, PRIMARY KEY (pair_id, annotator_id)) WITHOUT ROWID`);
  run(`INSERT INTO temp.bulk_change
       SELECT n.pair_id, n.annotator_id, d.annotation_id AS before_id,
         d.action AS before_action, d.verdict AS before_verdict, n.id AS annotation_id,
         n.action, n.verdict, n.left_image, n.decision_ms, n.created_at
       FROM main.annotations n NOT INDEXED
       LEFT JOIN main.decisions d ON d.pair_id = n.pair_id AND d.annotator_id = n.annotator_id
       WHERE n.id >= @first AND n.action IN ('verdict', 'skip')
       ORDER BY n.id
       ON CONFLICT (pair_id, annotator_id) DO UPDATE SET
         annotation_id = excluded.annotation_id, action = excluded.action,
         verdict = excluded.verdict, left_image = excluded.left_image,
         decision_ms = excluded.decision_ms, created_at = excluded.created_at`);
  const undoes = db
    .prepare<[{ first: number }], number>(
      `SELECT EXISTS (SELECT 1 FROM main.annotations NOT INDEXED
                      WHERE id >= @first AND action = 'undo')`,
    )
    .pluck()
    .get({ first });
  if (undoes) keepUndoneKeys(run);
  run(`DELETE FROM main.decisions WHERE (pair_id, annotator_id) IN
         (SELECT pair_id, annotator_id FROM temp.bulk_change
          WHERE annotation_id IS NULL AND before_id IS NOT NULL)`);
  run(`INSERT INTO main.decisions (pair_id, annotator_id, annotation_id, action, verdict,
         left_image, decision_ms, created_at)
       SELECT pair_id, annotator_id, annotation_id, action, verdict, left_image, decision_ms,
         created_at
       FROM temp.bulk_change WHERE annotation_id IS NOT NULL AND annotation_id IS NOT before_id
       ORDER BY pair_id, annotator_id
       ON CONFLICT (pair_id, annotator_id) DO UPDATE SET
         annotation_id = excluded.annotation_id, action = excluded.action,
         verdict = excluded.verdict, left_image = excluded.left_image,
         decision_ms = excluded.decision_ms, created_at = excluded.created_at`);
  // Every annotator with a touched key gets a tally row, as the insert trigger gives one, even
  // where their counts do not change.
  const counted = (column: 'action' | 'verdict', value: string): string =>
    `sum((${column} IS '${value}') - (before_${column} IS '${value}'))`;
  run(`INSERT INTO main.annotator_tallies (annotator_id, verdicts, skips, image0, image1, ties)
       SELECT annotator_id, ${counted('action', 'verdict')}, ${counted('action', 'skip')},
         ${counted('verdict', '0')}, ${counted('verdict', '1')}, ${counted('verdict', 'tie')}
       FROM temp.bulk_change GROUP BY annotator_id
       ON CONFLICT (annotator_id) DO UPDATE SET
         verdicts = verdicts + excluded.verdicts, skips = skips + excluded.skips,
         image0 = image0 + excluded.image0, image1 = image1 + excluded.image1,
         ties = ties + excluded.ties`);
  // As the triggers do: verdicts, and so pair_tallies_by_need, written only where they change.
  const categories =
    'image0 = image0 + c.more0, image1 = image1 + c.more1, ties = ties + c.more_ties';
  run(`CREATE TEMP TABLE bulk_pair_change AS
       SELECT pair_id, ${counted('action', 'verdict')} AS more_verdicts,
         ${counted('verdict', '0')} AS more0, ${counted('verdict', '1')} AS more1,
         ${counted('verdict', 'tie')} AS more_ties
       FROM temp.bulk_change GROUP BY pair_id`);
  run(`UPDATE main.pair_tallies SET verdicts = verdicts + c.more_verdicts, ${categories}
       FROM temp.bulk_pair_change c
       WHERE pair_tallies.pair_id = c.pair_id AND c.more_verdicts != 0`);
  run(`UPDATE main.pair_tallies SET ${categories}
       FROM temp.bulk_pair_change c
       WHERE pair_tallies.pair_id = c.pair_id AND c.more_verdicts = 0
         AND (c.more0 != 0 OR c.more1 != 0 OR c.more_ties != 0)`);
}

/**
 * The keys new undos touched (their target's key, whatever the undo row says), each decided again
 * from its whole log: the latest verdict or skip that no undo names, if any.
 */
function keepUndoneKeys(run: (sql: string) => void): void {
  run(`CREATE TEMP TABLE bulk_undone AS
       SELECT DISTINCT t.pair_id, t.annotator_id FROM main.annotations u NOT INDEXED
       JOIN main.annotations t ON t.id = u.undoes_id
       WHERE u.id >= @first AND u.action = 'undo'`);
  run(`INSERT INTO temp.bulk_change (pair_id, annotator_id, before_id, before_action, before_verdict)
       SELECT k.pair_id, k.annotator_id, d.annotation_id, d.action, d.verdict
       FROM temp.bulk_undone k LEFT JOIN main.decisions d
         ON d.pair_id = k.pair_id AND d.annotator_id = k.annotator_id
       WHERE true
       ON CONFLICT (pair_id, annotator_id) DO NOTHING`);
  run(`UPDATE temp.bulk_change
       SET (annotation_id, action, verdict, left_image, decision_ms, created_at) =
         (SELECT a.id, a.action, a.verdict, a.left_image, a.decision_ms, a.created_at
          FROM main.annotations a
          WHERE a.pair_id = bulk_change.pair_id AND a.annotator_id = bulk_change.annotator_id
            AND a.action IN ('verdict', 'skip')
            AND NOT EXISTS (SELECT 1 FROM main.annotations u WHERE u.undoes_id = a.id)
          ORDER BY a.id DESC LIMIT 1)
       WHERE (pair_id, annotator_id) IN (SELECT pair_id, annotator_id FROM temp.bulk_undone)`);
}
