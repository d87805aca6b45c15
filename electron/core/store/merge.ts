import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { MergeSourceKind } from '../../../shared/api';
import { StudioError } from '../../../shared/errors';
import { appendInBulk } from './bulk-append';
import { openDatabase, sqliteCode } from './open';
import { writeInBulk } from './sql';

export interface MergeCount {
  /** Events of the annotation log added: decisions, skips and undos. */
  annotationsAdded: number;
  /** Events the project had already (merged before, or its own coming back). */
  annotationsPresent: number;
  /** Events on pairs this project does not have, left out. */
  annotationsOnUnknownPairs: number;
  /** Images whose bytes this project lacked (kept as files gone since) and the file brought. */
  imagesFilled: number;
  /** Annotators new to this project, by the name they have here. */
  annotatorsAdded: string[];
  /** Names already taken here by someone else: [their name there, the name given here]. */
  renamed: [string, string][];
  /** The annotators whose events the file carries, by their names here. */
  annotatorsInvolved: string[];
  /** Flags added or replaced by a later note (the later created_at wins). */
  flagsMerged: number;
}

/** One-off statements of a merge: each runs once per file. */
function runner(db: Database.Database, params: Record<string, unknown>) {
  return {
    run: (sql: string): number => db.prepare(sql).run(params).changes,
    count: (sql: string): number => db.prepare<[], number>(sql).pluck().get()!,
  };
}
type Sql = ReturnType<typeof runner>;

/**
 * Merges the annotation log of another project (`src`, attached to `db` already) into this one,
 * as SQL, inside the caller's transaction. Pairs are matched by content: the prompt's text and
 * the bytes of the two images (their sha256; an image known only by its dataset uid, by uid), in
 * either order. Annotators by their stable uid. Each event is added once, keyed by where it was
 * first written (`origin`, `origin_id`), so a file merged twice adds nothing the second time.
 */
export function mergeAttached(
  db: Database.Database,
  ids: { here: string; there: string },
  now: number,
): MergeCount {
  const sql = runner(db, { here: ids.here, there: ids.there, now });
  matchPairs(sql);
  const imagesFilled = fillImageBytes(sql);
  const selected = selectEvents(sql, db, ids.here);
  const unknown = sql.count('SELECT count(*) FROM temp.merge_events WHERE pair_id IS NULL');
  const present = sql.count(
    'SELECT count(*) FROM temp.merge_events WHERE pair_id IS NOT NULL AND present',
  );
  const events = {
    toAdd: selected - unknown - present,
    hasUndos:
      sql.count(`SELECT EXISTS (SELECT 1 FROM temp.merge_events
                 WHERE undoes_id IS NOT NULL AND pair_id IS NOT NULL AND NOT present)`) === 1,
  };
  selectFlags(sql, db);
  const { added: annotatorsAdded, renamed } = addAnnotators(sql, db);
  const annotationsAdded = addEvents(sql, db, events);
  const flagsMerged = addFlags(sql);
  const annotatorsInvolved = db
    .prepare<[], string>(
      `SELECT m.name FROM temp.merge_annotators ma JOIN main.annotators m ON m.id = ma.here_id
       WHERE ma.src_id IN (SELECT src_annotator FROM temp.merge_events WHERE pair_id IS NOT NULL)
          OR ma.src_id IN (SELECT src_annotator FROM temp.merge_flags)
       ORDER BY m.name`,
    )
    .pluck()
    .all();
  return {
    annotationsAdded,
    annotationsPresent: present,
    annotationsOnUnknownPairs: unknown,
    imagesFilled,
    annotatorsAdded,
    renamed,
    annotatorsInvolved,
    flagsMerged,
  };
}

/** SQL: the image `s` of src and `m` here hold the same picture (see matchPairs). */
const SAME_IMAGE = (s: string, m: string) =>
  `(${m}.sha256 = ${s}.sha256 OR (${m}.sha256 IS NULL AND ${m}.uid = ${s}.sha256)
    OR (${m}.uid = ${s}.uid AND (${s}.sha256 IS NULL OR ${m}.sha256 IS NULL)))`;

/**
 * Each pair of `src` with its pair here (by content), and whether its images are the other way;
 * in `merge_images`, images of `src` with their image here, and whether this project lacks that
 * image's bytes: those of the pairs matched by row id only where it lacks them (the fills need
 * no others), those of the pairs matched by content all. An image's content key: its bytes'
 * sha256; a manifest image's uid is that sha256 already; an image with no bytes anywhere is known
 * by its uid.
 *
 * A package keeps the lead's row ids, so each of its pairs is first tried against the pair of
 * the same id here, and taken where the content is the same: lookups by row id, in order, where
 * finding a prompt by its text and an image by its sha256 would be a random read each in indexes
 * of millions. The package's pairs are read in row id order (NOT INDEXED: SQLite would scan its
 * covering content index, in prompt order, and read the lead's pages at random on a cold file).
 * The images of those pairs come from the same rows, read once. Only the pairs left over (all of
 * them, for a project that is not a package) are looked up by content.
 */
function matchPairs(sql: Sql): void {
  // Keyed by the pair there: the events find their pair by it.
  sql.run(`CREATE TEMP TABLE merge_pairs (src_id INTEGER PRIMARY KEY, here_id, swapped,
             src_image_0, here_image_0, here_lacks_0, src_image_1, here_image_1, here_lacks_1)`);
  sql.run(`INSERT INTO temp.merge_pairs
           SELECT sp.id AS src_id, p.id AS here_id, 0 AS swapped,
             sp.image_0_id AS src_image_0, p.image_0_id AS here_image_0,
             m0.sha256 IS NULL AS here_lacks_0,
             sp.image_1_id AS src_image_1, p.image_1_id AS here_image_1,
             m1.sha256 IS NULL AS here_lacks_1
           FROM src.pairs sp NOT INDEXED JOIN main.pairs p ON p.id = sp.id
           JOIN src.prompts spr ON spr.id = sp.prompt_id
           JOIN main.prompts pr ON pr.id = p.prompt_id
           JOIN src.images s0 ON s0.id = sp.image_0_id JOIN main.images m0 ON m0.id = p.image_0_id
           JOIN src.images s1 ON s1.id = sp.image_1_id JOIN main.images m1 ON m1.id = p.image_1_id
           WHERE +pr.text = +spr.text AND ${SAME_IMAGE('s0', 'm0')} AND ${SAME_IMAGE('s1', 'm1')}`);
  // ALL: an image in several pairs is listed once for each; the fills take it once, and the
  // match by content groups by pair. Sorting 20,000 rows out cost more than the rest of it.
  sql.run(`CREATE TEMP TABLE merge_images AS
           SELECT src_image_0 AS src_id, here_image_0 AS here_id, here_lacks_0 AS here_lacks_bytes
           FROM temp.merge_pairs WHERE here_lacks_0
           UNION ALL SELECT src_image_1, here_image_1, here_lacks_1 FROM temp.merge_pairs
           WHERE here_lacks_1`);
  const matched = sql.count('SELECT count(*) FROM temp.merge_pairs');
  if (sql.count('SELECT count(*) FROM src.pairs') > matched) matchLeftOverPairs(sql);
}

/** matchPairs for the pairs of `src` whose row id here holds another pair: by content. */
function matchLeftOverPairs(sql: Sql): void {
  sql.run(`CREATE TEMP TABLE merge_leftover_images AS
           SELECT image_0_id AS id FROM src.pairs
           WHERE id NOT IN (SELECT src_id FROM temp.merge_pairs)
           UNION SELECT image_1_id FROM src.pairs
           WHERE id NOT IN (SELECT src_id FROM temp.merge_pairs)`);
  sql.run(`INSERT INTO temp.merge_images
           SELECT s.id, m.id, 0 FROM src.images s JOIN main.images m ON m.sha256 = s.sha256
           WHERE s.id IN (SELECT id FROM temp.merge_leftover_images)
           UNION SELECT s.id, m.id, 1 FROM src.images s JOIN main.images m ON m.uid = s.sha256
           WHERE m.sha256 IS NULL AND s.id IN (SELECT id FROM temp.merge_leftover_images)
           UNION SELECT s.id, m.id, m.sha256 IS NULL FROM src.images s JOIN main.images m ON m.uid = s.uid
           WHERE (s.sha256 IS NULL OR m.sha256 IS NULL)
             AND s.id IN (SELECT id FROM temp.merge_leftover_images)`);
  sql.run('CREATE INDEX temp.merge_images_by_src ON merge_images (src_id, here_id)');
  sql.run(`INSERT INTO temp.merge_pairs
           SELECT sp.id, p.id, p.image_0_id != i0.here_id,
             sp.image_0_id, i0.here_id, i0.here_lacks_bytes,
             sp.image_1_id, i1.here_id, i1.here_lacks_bytes
           FROM src.pairs sp
           JOIN src.prompts spr ON spr.id = sp.prompt_id
           JOIN main.prompts pr ON pr.text = spr.text
           JOIN temp.merge_images i0 ON i0.src_id = sp.image_0_id
           JOIN temp.merge_images i1 ON i1.src_id = sp.image_1_id
           JOIN main.pairs p ON p.prompt_id = pr.id
             AND ((p.image_0_id = i0.here_id AND p.image_1_id = i1.here_id)
               OR (p.image_0_id = i1.here_id AND p.image_1_id = i0.here_id))
           WHERE sp.id NOT IN (SELECT src_id FROM temp.merge_pairs)
           GROUP BY sp.id`);
}

/**
 * Stores the bytes of images this project knows only by a file (a manifest's) where the file
 * carries them (a package does): the lead's image folder may be gone by the time packages come
 * back, and the exports want the bytes.
 */
function fillImageBytes(sql: Sql): number {
  sql.run(`CREATE TEMP TABLE merge_fills AS
           SELECT DISTINCT mi.here_id, s.sha256 FROM temp.merge_images mi
           JOIN src.images s ON s.id = mi.src_id
           WHERE mi.here_lacks_bytes AND s.sha256 IS NOT NULL
             AND EXISTS (SELECT 1 FROM src.image_blobs b WHERE b.sha256 = s.sha256)`);
  sql.run(`INSERT INTO main.image_blobs (sha256, bytes, format, width, height)
           SELECT b.sha256, b.bytes, b.format, b.width, b.height FROM src.image_blobs b
           WHERE b.sha256 IN (SELECT sha256 FROM temp.merge_fills)
           ON CONFLICT (sha256) DO NOTHING`);
  // A join, not a subquery per image: that would scan the fills once per image filled.
  return sql.run(`UPDATE main.images SET sha256 = f.sha256
           FROM (SELECT here_id, min(sha256) AS sha256 FROM temp.merge_fills GROUP BY here_id) f
           WHERE images.id = f.here_id`);
}

/**
 * The events of `src` with where they were first written, mapped to pairs here (NULL: unknown),
 * and whether this project has them already: merged before, written here first, or a dataset
 * label whose ranking this project has imported itself. Returns how many events `src` has.
 */
function selectEvents(sql: Sql, db: Database.Database, here: string): number {
  // Keyed by the event's id there: undos and the append find their events by it.
  sql.run(`CREATE TEMP TABLE merge_events (src_id INTEGER PRIMARY KEY, src_annotator, pair_id,
             swapped, action, verdict, undoes_id, left_image, suggestion_visible, decision_ms,
             created_at, ranking_id, origin, origin_id, present, undoes_here)`);
  const selected = sql.run(`INSERT INTO temp.merge_events
           SELECT a.id AS src_id, a.annotator_id AS src_annotator, mp.here_id AS pair_id,
             coalesce(mp.swapped, 0) AS swapped, a.action, a.verdict, a.undoes_id, a.left_image,
             a.suggestion_visible, a.decision_ms, a.created_at, a.ranking_id,
             coalesce(a.origin, @there) AS origin, coalesce(a.origin_id, a.id) AS origin_id,
             0 AS present, NULL AS undoes_here
           FROM src.annotations a LEFT JOIN temp.merge_pairs mp ON mp.src_id = a.pair_id
           ORDER BY a.id`);
  keepCopiesApart(sql, db, here);
  // An event is looked up by its origin only where this project has events of that origin at
  // all: a file merged the first time has none here, and its events are not probed one by one.
  sql.run(`UPDATE temp.merge_events SET present = 1
           WHERE origin = @here
              OR (origin IN (SELECT o.origin FROM (SELECT DISTINCT origin FROM temp.merge_events) o
                             WHERE EXISTS (SELECT 1 FROM main.annotations m WHERE m.origin = o.origin))
                  AND EXISTS (SELECT 1 FROM main.annotations m
                              WHERE m.origin = merge_events.origin
                                AND m.origin_id = merge_events.origin_id))
              OR (ranking_id IS NOT NULL
                  AND EXISTS (SELECT 1 FROM main.annotations m WHERE m.ranking_id = merge_events.ranking_id))`);
  return selected;
}

/**
 * A copy of this project, labeled elsewhere, wrote its events under this project's id, with ids
 * this project uses for events of its own. Those this project does not have as written (the
 * same annotator, time and action under that id, written here) are the copy's: they get an
 * origin of their own, named after the first of them, so that the copy merged again finds them
 * under the same key, and two copies stay apart.
 */
function keepCopiesApart(sql: Sql, db: Database.Database, here: string): void {
  sql.run(`CREATE TEMP TABLE merge_copied AS
           SELECT e.src_id FROM temp.merge_events e
           WHERE e.origin = @here AND NOT EXISTS (
             SELECT 1 FROM main.annotations m JOIN main.annotators n ON n.id = m.annotator_id
             JOIN src.annotators s ON s.id = e.src_annotator
             WHERE m.id = e.origin_id AND m.origin IS NULL AND m.created_at = e.created_at
               AND m.action = e.action AND n.uid = s.uid)`);
  const first = db
    .prepare<[], { id: number; createdAt: number; uid: string }>(
      `SELECT e.origin_id AS id, e.created_at AS createdAt, s.uid FROM temp.merge_events e
       JOIN src.annotators s ON s.id = e.src_annotator
       WHERE e.src_id = (SELECT min(src_id) FROM temp.merge_copied)`,
    )
    .get();
  if (first === undefined) return;
  const copy = createHash('sha256')
    .update(`${first.id}:${first.createdAt}:${first.uid}`)
    .digest('hex')
    .slice(0, 16);
  db.prepare(
    `UPDATE temp.merge_events SET origin = ?
     WHERE src_id IN (SELECT src_id FROM temp.merge_copied)`,
  ).run(`${here}/copy-${copy}`);
}

/**
 * The annotators of the events to add, by uid; one new here whose name someone else has here
 * already gets the name with the start of its uid, so the two stay apart and visibly so.
 */
function addAnnotators(
  sql: Sql,
  db: Database.Database,
): { added: string[]; renamed: [string, string][] } {
  const newcomers = db
    .prepare<[], { name: string; kind: string; uid: string; taken: number }>(
      `SELECT s.name, s.kind, s.uid, EXISTS (SELECT 1 FROM main.annotators m WHERE m.name = s.name) AS taken
       FROM src.annotators s
       WHERE (s.id IN (SELECT src_annotator FROM temp.merge_events WHERE pair_id IS NOT NULL AND NOT present)
              OR s.id IN (SELECT src_annotator FROM temp.merge_flags))
         AND NOT EXISTS (SELECT 1 FROM main.annotators m WHERE m.uid = s.uid)
       ORDER BY s.id`,
    )
    .all();
  const insert = db.prepare<[string, string, number, string]>(
    'INSERT INTO main.annotators (name, kind, created_at, uid) VALUES (?, ?, ?, ?)',
  );
  const added: string[] = [];
  const renamed: [string, string][] = [];
  for (const a of newcomers) {
    const name = a.taken ? `${a.name}#${a.uid.slice(0, 6)}` : a.name;
    if (a.taken) renamed.push([a.name, name]);
    insert.run(name, a.kind, Date.now(), a.uid);
    added.push(name);
  }
  sql.run(`CREATE TEMP TABLE merge_annotators AS
           SELECT s.id AS src_id, m.id AS here_id FROM src.annotators s
           JOIN main.annotators m ON m.uid = s.uid`);
  return { added, renamed };
}

/**
 * Appends the new events in their order there, in the pair's image order here (a verdict and the
 * side shown flip when the pair's images are the other way); the decisions table and tallies
 * follow (appendInBulk). The new ids are given in advance, so an undo can name a target added by
 * the same statement (whose SELECT SQLite reads in full before it inserts).
 */
function addEvents(
  sql: Sql,
  db: Database.Database,
  events: { toAdd: number; hasUndos: boolean },
): number {
  // Keyed by the new id, so that the append reads it in that order and sorts nothing. The ids
  // follow this project's last one: inserted after a row holding it, each row without an id gets
  // the one after the table's largest (numbering with row_number() took four times as long).
  // Only events the schema allows are numbered: one left out refuses the file, so the check
  // costs no pass of its own.
  sql.run(`CREATE TEMP TABLE merge_new (new_id INTEGER PRIMARY KEY, src_id INTEGER NOT NULL)`);
  sql.run(`INSERT INTO temp.merge_new SELECT coalesce(max(id), 0), 0 FROM main.annotations`);
  const numbered = sql.run(`INSERT INTO temp.merge_new (src_id)
           SELECT src_id FROM temp.merge_events
           WHERE pair_id IS NOT NULL AND NOT present AND ${SCHEMA_ALLOWS}
           ORDER BY src_id`);
  if (numbered < events.toAdd) refuseInvalidEvents(db);
  sql.run('DELETE FROM temp.merge_new WHERE new_id = (SELECT min(new_id) FROM temp.merge_new)');
  // Undos find their targets' new ids by the ids there; a file without undos needs no lookup.
  if (events.hasUndos) {
    sql.run('CREATE UNIQUE INDEX temp.merge_new_by_src ON merge_new (src_id)');
    sql.run(`UPDATE temp.merge_events AS e SET undoes_here = coalesce(
               (SELECT n.new_id FROM temp.merge_new n WHERE n.src_id = e.undoes_id),
               (SELECT CASE WHEN t.origin = @here THEN t.origin_id
                            ELSE (SELECT m.id FROM main.annotations m
                                  WHERE m.origin = t.origin AND m.origin_id = t.origin_id) END
                FROM temp.merge_events t WHERE t.src_id = e.undoes_id))
             WHERE e.undoes_id IS NOT NULL AND e.pair_id IS NOT NULL AND NOT e.present`);
    refuseForeignUndos(db);
  }
  const append = `INSERT INTO main.annotations (id, pair_id, annotator_id, action, verdict,
             undoes_id, left_image, suggestion_visible, decision_ms, created_at, ranking_id,
             origin, origin_id)
           SELECT n.new_id, e.pair_id, ma.here_id, e.action,
             CASE WHEN e.swapped AND e.verdict = '0' THEN '1'
                  WHEN e.swapped AND e.verdict = '1' THEN '0' ELSE e.verdict END,
             e.undoes_here,
             CASE WHEN e.swapped AND e.left_image IS NOT NULL THEN 1 - e.left_image
                  ELSE e.left_image END,
             e.suggestion_visible, e.decision_ms, e.created_at, e.ranking_id, e.origin, e.origin_id
           FROM temp.merge_new n
           JOIN temp.merge_events e ON e.src_id = n.src_id
           JOIN temp.merge_annotators ma ON ma.src_id = e.src_annotator
           ORDER BY n.new_id`;
  return appendInBulk(db, () => sql.run(append));
}

/**
 * SQL over `merge_events`: the event is one the schema allows (appendInBulk does not evaluate its
 * CHECK constraints). Not: an action other than verdict, skip or undo; a verdict other than 0, 1
 * or tie, or one on a skip or an undo; an undo naming no event, or another action naming one; a
 * side shown or a suggestion flag other than 0 or 1. A project file holds no such event unless it
 * was edited by hand. (coalesce: a NULL compared makes the whole NULL, which must count as no.)
 */
const SCHEMA_ALLOWS = `coalesce(
  CASE action
    WHEN 'verdict' THEN verdict IN ('0', '1', 'tie') AND undoes_id IS NULL
    WHEN 'skip' THEN verdict IS NULL AND undoes_id IS NULL
    WHEN 'undo' THEN verdict IS NULL AND undoes_id IS NOT NULL
    ELSE 0 END
  AND coalesce(left_image IN (0, 1), 1) AND coalesce(suggestion_visible IN (0, 1), 1), 0)`;

/** Refuses the file, naming its first event to add that the schema does not allow. */
function refuseInvalidEvents(db: Database.Database): never {
  const invalid = db
    .prepare<[], number>(
      `SELECT src_id FROM temp.merge_events
       WHERE pair_id IS NOT NULL AND NOT present AND NOT ${SCHEMA_ALLOWS}
       ORDER BY src_id LIMIT 1`,
    )
    .pluck()
    .get();
  throw new StudioError(
    'bad_input',
    `its event ${invalid} is not one Pick Studio writes (its action, verdict, undo target, side shown or suggestion flag); nothing of the file was merged`,
  );
}

/**
 * Refuses the file if an undo to add would take back another annotator's decision or one on
 * another pair (the triggers, and appendInBulk, go by the target's pair and annotator), a
 * dataset's or a manifest's label (the app lets no one take those back), or names an event in
 * neither project. The studio writes no such undo; a file edited by hand could, and would take
 * back the lead's or another annotator's labels.
 */
function refuseForeignUndos(db: Database.Database): void {
  const foreign = db
    .prepare<[], number>(
      `SELECT e.src_id FROM temp.merge_events e
       JOIN temp.merge_annotators ma ON ma.src_id = e.src_annotator
       JOIN main.annotators undoer ON undoer.id = ma.here_id
       LEFT JOIN temp.merge_new tn ON tn.new_id = e.undoes_here
       LEFT JOIN temp.merge_events te ON te.src_id = tn.src_id
       LEFT JOIN temp.merge_annotators tma ON tma.src_id = te.src_annotator
       LEFT JOIN main.annotations m ON m.id = e.undoes_here
       WHERE e.action = 'undo' AND e.pair_id IS NOT NULL AND NOT e.present
         AND (undoer.kind != 'human'
              OR NOT (coalesce(te.pair_id = e.pair_id AND tma.here_id = ma.here_id, 0)
                      OR coalesce(m.pair_id = e.pair_id AND m.annotator_id = ma.here_id, 0)))
       ORDER BY e.src_id LIMIT 1`,
    )
    .pluck()
    .get();
  if (foreign === undefined) return;
  throw new StudioError(
    'bad_input',
    `its event ${foreign} is an undo Pick Studio would not write: of another annotator's decision, another pair's, a dataset's or manifest's label, or an event in neither project; nothing of the file was merged`,
  );
}

/**
 * The flags of `src` on pairs this project has (a file from before migration 7 has none), for
 * addFlags: selected before the annotators, so that someone who only flagged comes along.
 */
function selectFlags(sql: Sql, db: Database.Database): void {
  const hasFlags = db
    .prepare(`SELECT 1 FROM src.sqlite_master WHERE type = 'table' AND name = 'flags'`)
    .get();
  sql.run(
    hasFlags
      ? `CREATE TEMP TABLE merge_flags AS
         SELECT mp.here_id AS pair_id, f.annotator_id AS src_annotator, f.note, f.created_at
         FROM src.flags f JOIN temp.merge_pairs mp ON mp.src_id = f.pair_id`
      : 'CREATE TEMP TABLE merge_flags (pair_id, src_annotator, note, created_at)',
  );
}

/**
 * Adds the file's flags, annotators by uid: a flag this project lacks, or a later note of one it
 * has (the later created_at wins), so merging the same file twice changes nothing. A flag cleared
 * there stays here: a flag is a row, and its removal leaves nothing to merge.
 */
function addFlags(sql: Sql): number {
  return sql.run(`INSERT INTO main.flags (pair_id, annotator_id, note, created_at)
           SELECT f.pair_id, ma.here_id, f.note, f.created_at FROM temp.merge_flags f
           JOIN temp.merge_annotators ma ON ma.src_id = f.src_annotator
           WHERE true ORDER BY f.created_at
           ON CONFLICT (pair_id, annotator_id) DO UPDATE
             SET note = excluded.note, created_at = excluded.created_at
             WHERE excluded.created_at > flags.created_at`);
}

/** Drops the merge's scratch tables (the connection goes on serving the project). */
export function dropMergeTables(db: Database.Database): void {
  for (const table of [
    'merge_images',
    'merge_leftover_images',
    'merge_copied',
    'merge_fills',
    'merge_pairs',
    'merge_events',
    'merge_annotators',
    'merge_new',
    'merge_flags',
  ]) {
    db.exec(`DROP TABLE IF EXISTS temp.${table}`);
  }
}

/** The first schema with project ids, annotator uids and event origins (migration 5). */
export const FIRST_TEAM_SCHEMA = 5;

/** What a project file says of itself: whose it is and where it came from. */
export interface ProjectIdentity {
  projectId: string;
  role: 'lead' | 'annotator';
  /** For a package: the project it was made from, its id, and whom it is for. */
  originProject: string | null;
  packageId: string | null;
  annotator: string | null;
}

/** The meta keys of a project's identity (project_meta). */
export const IDENTITY_KEYS = {
  projectId: 'project_id',
  role: 'role',
  originProject: 'origin_project',
  packageId: 'package_id',
  annotator: 'package_annotator',
} as const;

/** Reads the identity of a project file, opened read-only and alone (it is not migrated). */
export function readIdentity(file: string): ProjectIdentity & { schemaVersion: number } {
  const other = openDatabase(file, { readonly: true });
  try {
    const meta = new Map(
      other
        .prepare<[], [string, string]>('SELECT key, value FROM project_meta')
        .raw()
        .all()
        .map(([key, value]) => [key, value] as const),
    );
    return {
      schemaVersion: other.pragma('user_version', { simple: true }) as number,
      projectId: meta.get(IDENTITY_KEYS.projectId) ?? '',
      role: meta.get(IDENTITY_KEYS.role) === 'annotator' ? 'annotator' : 'lead',
      originProject: meta.get(IDENTITY_KEYS.originProject) ?? null,
      packageId: meta.get(IDENTITY_KEYS.packageId) ?? null,
      annotator: meta.get(IDENTITY_KEYS.annotator) ?? null,
    };
  } finally {
    other.close();
  }
}

export interface MergeRecord {
  file: string;
  kind: MergeSourceKind;
  packageId: string | null;
  annotators: string[];
  mergedAt: number;
  annotationsAdded: number;
}

const isAttached = (db: Database.Database): boolean =>
  (db.pragma('database_list') as { name: string }[]).some((d) => d.name === 'src');

/**
 * After a merge failed in SQLite: the file's own damage, named as such, when a check of the whole
 * file finds it (or it could not be attached at all); else the error as it was (this project's
 * own failures, which the dispatcher names). Only after a failure: a check of every merged file
 * costs a sixth of the merge itself, and a damaged page the merge reads fails that read.
 */
function blameDamagedFile(db: Database.Database, file: string, error: unknown): unknown {
  let check: string;
  try {
    check = isAttached(db)
      ? String(db.pragma('src.quick_check', { simple: true }))
      : (error as Error).message;
  } catch (checkError) {
    check = (checkError as Error).message;
  }
  if (check === 'ok') return error;
  return new StudioError('bad_input', `${file}: the project file is damaged (${check})`, {
    cause: error,
  });
}

/** Merges other projects' annotation logs into this one, and remembers each merge. */
export class MergeRepository {
  constructor(
    private readonly db: Database.Database,
    private readonly projectId: () => string,
  ) {}

  /**
   * Merges the file's log in one transaction (see mergeAttached): all of it, or nothing. The file
   * is checked first, so a damaged one is named as the one at fault. `recorded` is the file the
   * lead named, which `file` may have been made from (an annotation log's Parquet), and its kind.
   */
  merge(
    file: string,
    identity: ProjectIdentity,
    recorded: { file: string; kind: MergeSourceKind },
  ): MergeCount {
    try {
      this.db.prepare('ATTACH DATABASE ? AS src').run(file);
      return writeInBulk(this.db, () => this.mergeAndRecord(identity, recorded), {
        mapped: true,
      });
    } catch (error) {
      if (error instanceof StudioError) {
        throw new StudioError(error.code, `${recorded.file}: ${error.message}`, { cause: error });
      }
      throw sqliteCode(error) === undefined ? error : blameDamagedFile(this.db, file, error);
    } finally {
      dropMergeTables(this.db);
      if (isAttached(this.db)) this.db.exec('DETACH DATABASE src');
    }
  }

  /** The attached file's log merged, and the merge recorded, in the caller's transaction. */
  private mergeAndRecord(
    identity: ProjectIdentity,
    recorded: { file: string; kind: MergeSourceKind },
  ): MergeCount {
    const now = Date.now();
    const counts = mergeAttached(
      this.db,
      { here: this.projectId(), there: identity.projectId },
      now,
    );
    this.db
      .prepare(
        `INSERT INTO merges (source_file, kind, source_project, package_id, annotators,
           merged_at, annotations_added) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        recorded.file,
        recorded.kind,
        identity.projectId,
        identity.packageId,
        JSON.stringify(counts.annotatorsInvolved),
        now,
        counts.annotationsAdded,
      );
    return counts;
  }

  /** The merges made into this project, the latest first. */
  list(): MergeRecord[] {
    return this.db
      .prepare<[], Omit<MergeRecord, 'annotators'> & { annotators: string }>(
        `SELECT source_file AS file, kind, package_id AS packageId, annotators, merged_at AS mergedAt,
           annotations_added AS annotationsAdded FROM merges ORDER BY id DESC`,
      )
      .all()
      .map((m) => ({ ...m, annotators: JSON.parse(m.annotators) as string[] }));
  }
}
