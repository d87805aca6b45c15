import type Database from 'better-sqlite3';

/**
 * SQL written once and shared by the repositories. Only the store folder builds SQL; these are
 * its common pieces.
 */

/**
 * Runs `write` in one transaction without waiting for its fsync (`synchronous = NORMAL`), then
 * puts the connection's setting back: for data that can be made again or lost (embeddings, scores,
 * queue marks, leases), where a crash loses at most this write, and labels' full sync stays.
 */
export function writeDerived(db: Database.Database, write: () => void): void {
  const synchronous = db.pragma('synchronous', { simple: true }) as number;
  db.pragma('synchronous = NORMAL');
  try {
    db.transaction(write)();
  } finally {
    db.pragma(`synchronous = ${synchronous}`);
  }
}

/** SQLite caps this at the largest map it was built for (2 GiB, better-sqlite3's build). */
const BULK_MAP_BYTES = 2 ** 31;

/**
 * Runs `write`, a merge or an import of one file, in one immediate transaction, fully synced like
 * every label, with foreign keys unchecked: every row such a write adds takes its parents' ids
 * from a join on those parents in the same statement, so the per-row lookups of the check find
 * what the join just found (7% of a 10-package merge, 9% of an import). Tests run
 * `foreign_key_check` after them.
 *
 * `mapped`: the project file is mapped into memory for the write's length, for a write that looks
 * up rows all over indexes of millions (a merge: 7% more), where a mapped page is read where it
 * lies instead of copied through SQLite's 16 MB cache. The pages it touches count in the process's
 * resident memory until the map is let go: an import, which touches most of the file, would
 * double its peak (467 to 890 MB for 900,000 rows), so it does not map.
 */
export function writeInBulk<T>(
  db: Database.Database,
  write: () => T,
  { mapped }: { mapped: boolean },
): T {
  db.pragma('foreign_keys = OFF');
  if (mapped) db.pragma(`mmap_size = ${BULK_MAP_BYTES}`);
  try {
    return db.transaction(write).immediate();
  } finally {
    if (mapped) db.pragma('mmap_size = 0');
    db.pragma('foreign_keys = ON');
  }
}

/** After the pair `p`: its prompt `pr` and its images `i0`, `i1`. */
export const PAIR_JOINS = `
  JOIN prompts pr ON pr.id = p.prompt_id
  JOIN images i0 ON i0.id = p.image_0_id
  JOIN images i1 ON i1.id = p.image_1_id`;

/**
 * Where the annotation `a` was first written, as `origin` and `originId`: the project it came
 * from and its id there, or, for an event written here, this project's id and its own.
 */
export const EVENT_ORIGIN = `coalesce(a.origin, (SELECT value FROM project_meta WHERE key = 'project_id')) AS origin,
  coalesce(a.origin_id, a.id) AS originId`;

/** The verdict of the latest adjudication of the pair `pair` (an SQL expression), or NULL. */
export const latestAdjudicationVerdict = (pair: string): string =>
  `(SELECT j.verdict FROM adjudications j WHERE j.pair_id = ${pair} ORDER BY j.id DESC LIMIT 1)`;

/** The latest adjudication of the pair bound to `?`, whole. */
export const LATEST_ADJUDICATION = `SELECT verdict, adjudicator, note, created_at AS createdAt
  FROM adjudications WHERE pair_id = ? ORDER BY id DESC LIMIT 1`;

/** `value` as SQLite's 0/1, keeping NULL. */
export const sqlBool = (value: boolean | null | undefined): number | null =>
  value === null || value === undefined ? null : value ? 1 : 0;
