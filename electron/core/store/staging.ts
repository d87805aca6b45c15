import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StudioError } from '../../../shared/errors';
import type { Verdict } from '../../../shared/labels';
import { removeLeftoversOfGoneProcesses } from '../io/leftovers';
import { appendInBulk } from './bulk-append';
import { nameTaken, type AnnotatorKind } from './decisions';
import { sqlBool, writeInBulk } from './sql';
import { verdictToDb } from './verdicts';

/** An image's bytes as the project stores them: content-addressed, with format and size. */
export interface BlobRecord {
  sha256: string;
  bytes: Uint8Array;
  format: string;
  width: number;
  height: number;
}

/** A Pick-a-Pic row's own fields, kept as the dataset had them (pair_sources). */
export interface PairSourceRecord {
  rankingId: bigint;
  userId: bigint | null;
  hasLabel: boolean;
  label0: number | null;
  label1: number | null;
  bestImageUid: string | null;
  areDifferent: boolean | null;
  numExamplePerPrompt: number | null;
  createdAt: number | null;
}

export interface StagedImage {
  uid: string;
  /** sha256 of bytes added with `addBlob`, when the image's bytes go into the project. */
  sha256: string | null;
  path: string | null;
  url: string | null;
}

/** One source row, checked and normalised, waiting to be merged into the project. */
export interface StagedPair {
  caption: string;
  image0: StagedImage;
  image1: StagedImage;
  model0: string | null;
  model1: string | null;
  createdAt: number | null;
  /** The Pick-a-Pic row itself, for rows from a shard. */
  source: PairSourceRecord | null;
  /** A verdict that came with the row, in the row's own image order. */
  label: {
    verdict: Verdict;
    annotator: string;
    kind: AnnotatorKind;
    rankingId: bigint | null;
  } | null;
}

/** The staging table's columns after its row number, in order: what a staged row holds. */
export const STAGED_COLUMNS = [
  'caption',
  'uid_0',
  'sha256_0',
  'path_0',
  'url_0',
  'uid_1',
  'sha256_1',
  'path_1',
  'url_1',
  'model_0',
  'model_1',
  'created_at',
  'ranking_id',
  'user_id',
  'has_label',
  'label_0',
  'label_1',
  'best_image_uid',
  'are_different',
  'num_example_per_prompt',
  'verdict',
  'annotator',
  'annotator_kind',
] as const;

/**
 * Checked rows as columns: index i of every array is one row. Values are as StagedPair has them
 * (has_label and are_different booleans, verdict a Verdict); the rest as SQLite binds them.
 */
export type StagedColumns = Record<(typeof STAGED_COLUMNS)[number], unknown[]>;

export const emptyStagedColumns = (): StagedColumns =>
  Object.fromEntries(STAGED_COLUMNS.map((name) => [name, []])) as unknown as StagedColumns;

/**
 * Rows per INSERT of `addColumns`: one statement step per row costs more than the row itself
 * (24 values x 64 rows stays far under SQLite's 32,766 parameters).
 */
const ROWS_PER_INSERT = 64;

export interface MergeCounts {
  pairsAdded: number;
  annotationsAdded: number;
  rowsAlreadyPresent: number;
  duplicatesDropped: number;
}

const STAGING_PREFIX = (projectFile: string): string => `.${path.basename(projectFile)}.import-`;

/**
 * A scratch SQLite file beside the project that an import fills while it reads its source (which
 * takes awaits: file reads, image checks), so the project itself is written only by
 * `mergeStagingFile`, in one synchronous transaction of set-based statements. Nothing else can
 * interleave with that transaction, so a label saved during an import never shares the import's
 * fate, and a file lands whole or not at all even if the process is killed. It needs nothing of
 * the project: the import fills it in a worker thread (io/import-worker.ts) while the project's
 * connection merges the file before.
 */
export class StagingFile {
  private readonly db: Database.Database;
  private readonly insertBlob;
  private readonly insertRow;
  private readonly insertRows;

  /** Creates the scratch file `file` (see stagingFileFor). */
  constructor(readonly file: string) {
    this.db = new Database(file);
    // Scratch data: a crash only loses the scratch file, which the next import removes.
    this.db.pragma('journal_mode = OFF');
    this.db.pragma('synchronous = OFF');
    this.db.exec(`
      CREATE TABLE blobs (sha256 TEXT PRIMARY KEY, bytes BLOB NOT NULL, format TEXT NOT NULL,
        width INTEGER NOT NULL, height INTEGER NOT NULL);
      CREATE TABLE rows (
        row INTEGER PRIMARY KEY,
        caption TEXT NOT NULL,
        uid_0 TEXT NOT NULL, sha256_0 TEXT, path_0 TEXT, url_0 TEXT,
        uid_1 TEXT NOT NULL, sha256_1 TEXT, path_1 TEXT, url_1 TEXT,
        model_0 TEXT, model_1 TEXT, created_at INTEGER,
        ranking_id INTEGER, user_id INTEGER, has_label INTEGER, label_0 REAL, label_1 REAL,
        best_image_uid TEXT, are_different INTEGER, num_example_per_prompt INTEGER,
        verdict TEXT, annotator TEXT, annotator_kind TEXT
      );`);
    this.insertBlob = this.db.prepare(
      'INSERT OR IGNORE INTO blobs VALUES (@sha256, @bytes, @format, @width, @height)',
    );
    const values = (rows: number): string =>
      Array.from({ length: rows }, () => `(${STAGED_COLUMNS.map(() => '?').join(', ')})`).join(
        ', ',
      );
    const insert = `INSERT INTO rows (${STAGED_COLUMNS.join(', ')}) VALUES `;
    this.insertRow = this.db.prepare(insert + values(1));
    this.insertRows = this.db.prepare(insert + values(ROWS_PER_INSERT));
    this.db.exec('BEGIN');
  }

  addBlob(blob: BlobRecord): void {
    this.insertBlob.run(blob);
  }

  addPair(pair: StagedPair): void {
    const source = pair.source;
    const label = pair.label;
    this.insertRow.run(
      pair.caption,
      pair.image0.uid,
      pair.image0.sha256,
      pair.image0.path,
      pair.image0.url,
      pair.image1.uid,
      pair.image1.sha256,
      pair.image1.path,
      pair.image1.url,
      pair.model0,
      pair.model1,
      pair.createdAt,
      source?.rankingId ?? null,
      source?.userId ?? null,
      source ? sqlBool(source.hasLabel) : null,
      source?.label0 ?? null,
      source?.label1 ?? null,
      source?.bestImageUid ?? null,
      source ? sqlBool(source.areDifferent) : null,
      source?.numExamplePerPrompt ?? null,
      label ? verdictToDb(label.verdict) : null,
      label?.annotator ?? null,
      label?.kind ?? null,
    );
  }

  /** Stages checked rows given as columns (a shard's batch), without an object per row. */
  addColumns(columns: StagedColumns): void {
    const arrays = STAGED_COLUMNS.map((name) => {
      if (name === 'has_label' || name === 'are_different') {
        return columns[name].map((value) => sqlBool(value as boolean | null));
      }
      if (name === 'verdict') {
        return columns[name].map((value) =>
          value === null ? null : verdictToDb(value as Verdict),
        );
      }
      return columns[name];
    });
    const count = arrays[0]!.length;
    const params: unknown[] = new Array(arrays.length * ROWS_PER_INSERT);
    let row = 0;
    for (; row + ROWS_PER_INSERT <= count; row += ROWS_PER_INSERT) {
      let p = 0;
      for (let r = row; r < row + ROWS_PER_INSERT; r++) {
        for (const array of arrays) params[p++] = array[r];
      }
      this.insertRows.run(params);
    }
    for (; row < count; row++) this.insertRow.run(arrays.map((array) => array[row]));
  }

  /** Ends a batch of writes (one per row group keeps the scratch file's cache small). */
  checkpoint(): void {
    this.db.exec('COMMIT; BEGIN');
  }

  /**
   * Commits the rows, indexes them for the merge's lookups, lists the file's annotators (each
   * name and kind once: the merge finds each one's first row to apply through the index, instead
   * of grouping every row), and closes: ready to merge.
   */
  finish(): void {
    if (this.db.inTransaction) this.db.exec('COMMIT');
    this.db.exec(`
      CREATE INDEX rows_by_ranking ON rows (ranking_id);
      CREATE INDEX rows_by_annotator ON rows (annotator, annotator_kind)
        WHERE annotator IS NOT NULL;
      CREATE TABLE annotator_kinds AS SELECT DISTINCT annotator AS name, annotator_kind AS kind
        FROM rows WHERE annotator IS NOT NULL;`);
    this.db.close();
  }

  /** Closes the file if open and removes it: after its merge, or instead of it. */
  remove(): void {
    if (this.db.open) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      this.db.close();
    }
    fs.rmSync(this.file, { force: true });
  }
}

/**
 * A new scratch file's name beside `projectFile`, marked with this process's id; stale ones of
 * dead processes are removed first.
 */
export function stagingFileFor(projectFile: string): string {
  const folder = path.dirname(path.resolve(projectFile));
  removeLeftoversOfGoneProcesses(folder, STAGING_PREFIX(projectFile));
  const unique = `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  return path.join(folder, `${STAGING_PREFIX(projectFile)}${unique}`);
}

/** Creates the scratch file `file` for the project `projectFile`; a failure names the folder. */
export function openStagingFile(
  projectFile: string,
  file: string = stagingFileFor(projectFile),
): StagingFile {
  try {
    return new StagingFile(file);
  } catch (error) {
    fs.rmSync(file, { force: true });
    throw new StudioError(
      'internal',
      `${projectFile}: cannot create the import's scratch file in ${path.dirname(file)} (${(error as Error).message}); the project was not changed`,
      { cause: error },
    );
  }
}

/**
 * Applies every staged row of the finished scratch file `file` to the project `project` in one
 * transaction, set by set: all of it lands, or none of it. Rows whose ranking is already in the
 * project (or earlier in the same file), and rows adding nothing new (a manifest row for a known
 * pair whose label the same annotator already gave), are counted as already present.
 */
export function mergeStagingFile(
  project: Database.Database,
  file: string,
  sourceFile: string,
): MergeCounts {
  project.prepare('ATTACH DATABASE ? AS staged').run(file);
  try {
    const counts = writeInBulk(project, () => mergeStaged(project, sourceFile, Date.now()), {
      mapped: false,
    });
    // An import can write as much WAL as the project holds; hand it back to the main file now.
    project.pragma('wal_checkpoint(TRUNCATE)');
    return counts;
  } finally {
    project.exec('DROP TABLE IF EXISTS temp.merge_new');
    project.exec('DROP TABLE IF EXISTS temp.merge_rows');
    project.exec('DROP TABLE IF EXISTS temp.merge_annotators');
    project.exec('DETACH DATABASE staged');
  }
}

/** One-off statements of the merge: each runs once per file, so none is kept prepared. */
interface MergeSql {
  db: Database.Database;
  run(sql: string, params?: Record<string, unknown>): number;
  count(sql: string): number;
}

function mergeSql(db: Database.Database): MergeSql {
  return {
    db,
    run: (sql, params = {}) => db.prepare(sql).run(params).changes,
    count: (sql) => db.prepare<[], number>(sql).pluck().get()!,
  };
}

/** The staged rows to apply (`temp.merge_new`), each with its staged columns, as `r`. */
const NEW_ROWS = 'temp.merge_new n JOIN staged.rows r ON r.row = n.row';

/**
 * The merge, as SQL over the attached `staged` database. `temp.merge_new` lists the staged rows
 * to apply; once their prompts, images and annotators are in the project, `temp.merge_rows`
 * holds each of them with its ids, resolved step by step to pairs and labels, and only the
 * columns those steps read: the steps update its rows several times over, and a copy of the
 * staged rows' two dozen columns, rewritten at each step, made an import a fifth slower.
 */
function mergeStaged(db: Database.Database, sourceFile: string, now: number): MergeCounts {
  const sql = mergeSql(db);
  sql.run(
    'INSERT OR IGNORE INTO main.image_blobs (sha256, bytes, format, width, height) SELECT * FROM staged.blobs',
  );
  const stagedRows = sql.count('SELECT count(*) FROM staged.rows');
  const applied = selectNewRows(sql);
  addPromptsAndImages(sql);
  addAnnotators(sql, now);
  resolveIds(sql);
  const pairsAdded = addPairs(sql, now);
  addSources(sql, sourceFile);
  const { annotationsAdded, duplicatesDropped } = addLabels(sql, now);
  // Manifest rows that brought nothing new: no new pair and no new label.
  const idle = sql.count(
    `SELECT count(*) FROM temp.merge_rows
     WHERE ranking_id IS NULL AND creates_pair = 0 AND adds_label = 0`,
  );
  return {
    pairsAdded,
    annotationsAdded,
    rowsAlreadyPresent: stagedRows - applied + idle,
    duplicatesDropped,
  };
}

/** The staged rows to apply: a ranking already in the project, or seen earlier in this file, adds nothing. */
function selectNewRows(sql: MergeSql): number {
  sql.db.exec('CREATE TEMP TABLE merge_new (row INTEGER PRIMARY KEY)');
  return sql.run(`INSERT INTO temp.merge_new
    SELECT r.row FROM staged.rows r
    WHERE r.ranking_id IS NULL
       OR (NOT EXISTS (SELECT 1 FROM main.pair_sources s WHERE s.ranking_id = r.ranking_id)
           AND r.row = (SELECT min(d.row) FROM staged.rows d WHERE d.ranking_id = r.ranking_id))
    ORDER BY r.row`);
}

/** New prompts and images; known images keep what they had and gain what they lacked. */
function addPromptsAndImages(sql: MergeSql): void {
  sql.run(`INSERT INTO main.prompts (text) SELECT DISTINCT r.caption FROM ${NEW_ROWS} WHERE true
           ON CONFLICT (text) DO NOTHING`);
  sql.run(`INSERT INTO main.images (uid, sha256, path, url)
           SELECT uid, max(sha256), max(path), max(url) FROM (
             SELECT r.uid_0 AS uid, r.sha256_0 AS sha256, r.path_0 AS path, r.url_0 AS url
             FROM ${NEW_ROWS}
             UNION ALL
             SELECT r.uid_1, r.sha256_1, r.path_1, r.url_1 FROM ${NEW_ROWS})
           WHERE true GROUP BY uid
           ON CONFLICT (uid) DO UPDATE SET
             sha256 = coalesce(images.sha256, excluded.sha256),
             path = coalesce(images.path, excluded.path),
             url = coalesce(images.url, excluded.url)`);
}

/**
 * `temp.merge_rows`: each row to apply with its prompt, images and annotator here (all in the
 * project by now), what the labels' steps read of it, and the columns the next steps fill.
 */
function resolveIds(sql: MergeSql): void {
  sql.db.exec(`CREATE TEMP TABLE merge_rows (row INTEGER PRIMARY KEY, verdict, ranking_id,
                 created_at, prompt_id, image_0_id, image_1_id, annotator_id, creates_pair,
                 pair_id, swapped, adds_label)`);
  sql.run(`INSERT INTO temp.merge_rows
           SELECT r.row, r.verdict, r.ranking_id, r.created_at,
             (SELECT id FROM main.prompts p WHERE p.text = r.caption),
             (SELECT id FROM main.images i WHERE i.uid = r.uid_0),
             (SELECT id FROM main.images i WHERE i.uid = r.uid_1),
             (SELECT id FROM main.annotators a WHERE a.name = r.annotator),
             0, NULL, 0, 0
           FROM ${NEW_ROWS} ORDER BY r.row`);
}

/**
 * New pairs, and every row's pair. A pair is its prompt and its two images in either order; the
 * first row seen sets the order, and a row the other way round is `swapped`.
 */
function addPairs(sql: MergeSql, now: number): number {
  sql.db.exec(`CREATE INDEX temp.merge_rows_by_pair ON merge_rows
                 (prompt_id, min(image_0_id, image_1_id), max(image_0_id, image_1_id), row)`);
  sql.run(`UPDATE temp.merge_rows AS r SET creates_pair = 1
           WHERE r.row = (SELECT min(d.row) FROM temp.merge_rows d
                          WHERE d.prompt_id = r.prompt_id
                            AND min(d.image_0_id, d.image_1_id) = min(r.image_0_id, r.image_1_id)
                            AND max(d.image_0_id, d.image_1_id) = max(r.image_0_id, r.image_1_id))
             AND NOT EXISTS (SELECT 1 FROM main.pairs p WHERE p.prompt_id = r.prompt_id
                             AND p.image_0_id = r.image_0_id AND p.image_1_id = r.image_1_id)
             AND NOT EXISTS (SELECT 1 FROM main.pairs p WHERE p.prompt_id = r.prompt_id
                             AND p.image_0_id = r.image_1_id AND p.image_1_id = r.image_0_id)`);
  const added = sql.run(
    `INSERT INTO main.pairs (prompt_id, image_0_id, image_1_id, model_0, model_1, created_at, added_at)
     SELECT m.prompt_id, m.image_0_id, m.image_1_id, r.model_0, r.model_1, m.created_at, @now
     FROM temp.merge_rows m JOIN staged.rows r ON r.row = m.row
     WHERE m.creates_pair = 1 ORDER BY m.row`,
    { now },
  );
  sql.run(`UPDATE temp.merge_rows SET pair_id = p.id, swapped = 0
           FROM main.pairs p WHERE p.prompt_id = merge_rows.prompt_id
             AND p.image_0_id = merge_rows.image_0_id AND p.image_1_id = merge_rows.image_1_id`);
  sql.run(`UPDATE temp.merge_rows SET pair_id = p.id, swapped = 1
           FROM main.pairs p WHERE merge_rows.pair_id IS NULL AND p.prompt_id = merge_rows.prompt_id
             AND p.image_0_id = merge_rows.image_1_id AND p.image_1_id = merge_rows.image_0_id`);
  return added;
}

/** Each Pick-a-Pic row as the dataset had it. */
function addSources(sql: MergeSql, sourceFile: string): void {
  sql.run(
    `INSERT INTO main.pair_sources (ranking_id, pair_id, swapped, user_id, has_label, label_0, label_1,
       best_image_uid, are_different, num_example_per_prompt, created_at, source_file)
     SELECT m.ranking_id, m.pair_id, m.swapped, r.user_id, coalesce(r.has_label, 0), r.label_0,
       r.label_1, r.best_image_uid, r.are_different, r.num_example_per_prompt, m.created_at,
       @sourceFile
     FROM temp.merge_rows m JOIN staged.rows r ON r.row = m.row
     WHERE m.ranking_id IS NOT NULL ORDER BY m.row`,
    { sourceFile },
  );
}

/**
 * New annotators, in the order of their first row to apply, with that row's kind; a name already
 * taken by another kind of annotator refuses the file. Each of the file's names and kinds
 * (`staged.annotator_kinds`) looks up its first row to apply through the scratch file's index:
 * grouping every row to apply by name, and joining every one of them to the project's
 * annotators, cost 5% of an import of three 300,000-row shards.
 */
function addAnnotators(sql: MergeSql, now: number): void {
  // EXISTS, not `r.row IN temp.merge_new`: with IN, SQLite walked the rows to apply once per
  // name, probing the index with each (2.8 s for the three shards).
  sql.db.exec(`CREATE TEMP TABLE merge_annotators AS
    SELECT k.name, k.kind,
      (SELECT r.row FROM staged.rows r
       WHERE r.annotator = k.name AND r.annotator_kind = k.kind
         AND EXISTS (SELECT 1 FROM temp.merge_new n WHERE n.row = r.row)
       ORDER BY r.row LIMIT 1) AS first_row
    FROM staged.annotator_kinds k`);
  sql.run(
    `INSERT INTO main.annotators (name, kind, created_at, uid)
     SELECT name, kind, @now, name FROM (
       SELECT name, kind, min(first_row) AS first_row FROM temp.merge_annotators
       WHERE first_row IS NOT NULL GROUP BY name)
     ORDER BY first_row
     ON CONFLICT (name) DO NOTHING`,
    { now },
  );
  const clash = sql.db
    .prepare<[], { annotator: string; kind: AnnotatorKind }>(
      `SELECT m.name AS annotator, a.kind FROM temp.merge_annotators m
       JOIN main.annotators a ON a.name = m.name
       WHERE m.first_row IS NOT NULL AND a.kind != m.kind LIMIT 1`,
    )
    .get();
  if (clash) throw nameTaken(clash.annotator, clash.kind);
}

/**
 * The rows' labels, in the pair's image order, keeping the row's ranking. Of one dataset user's
 * labels on one pair (in this file and in the project), the latest by created_at counts, then
 * the highest ranking_id, whatever the file order; the others are dropped. A manifest label is
 * new unless the annotator already gave one on the pair (in the project, or earlier in this
 * file).
 */
function addLabels(
  sql: MergeSql,
  now: number,
): { annotationsAdded: number; duplicatesDropped: number } {
  sql.db.exec('CREATE INDEX temp.merge_rows_by_label ON merge_rows (pair_id, annotator_id, row)');
  const when = (row: string): string => `(coalesce(${row}.created_at, @now), ${row}.ranking_id)`;
  sql.run(
    `UPDATE temp.merge_rows AS r SET adds_label = 1
     WHERE r.verdict IS NOT NULL
       AND ((r.ranking_id IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM temp.merge_rows d
                             WHERE d.pair_id = r.pair_id AND d.annotator_id = r.annotator_id
                               AND d.ranking_id IS NOT NULL AND d.verdict IS NOT NULL
                               AND ${when('d')} > ${when('r')})
             AND NOT EXISTS (SELECT 1 FROM main.decisions c
                             JOIN main.annotations a ON a.id = c.annotation_id
                             WHERE c.pair_id = r.pair_id AND c.annotator_id = r.annotator_id
                               AND (c.created_at, coalesce(a.ranking_id, 0)) > ${when('r')}))
         OR (r.ranking_id IS NULL
             AND NOT EXISTS (SELECT 1 FROM main.annotations a
                             WHERE a.pair_id = r.pair_id AND a.annotator_id = r.annotator_id)
             AND r.row = (SELECT min(d.row) FROM temp.merge_rows d
                          WHERE d.pair_id = r.pair_id AND d.annotator_id = r.annotator_id
                            AND d.ranking_id IS NULL AND d.verdict IS NOT NULL)))`,
    { now },
  );
  const duplicatesDropped = sql.count(
    `SELECT count(*) FROM temp.merge_rows
     WHERE ranking_id IS NOT NULL AND verdict IS NOT NULL AND adds_label = 0`,
  );
  const annotationsAdded = appendInBulk(sql.db, () =>
    sql.run(
      `INSERT INTO main.annotations (pair_id, annotator_id, action, verdict, created_at, ranking_id)
     SELECT pair_id, annotator_id, 'verdict',
       CASE WHEN swapped = 1 AND verdict = '0' THEN '1'
            WHEN swapped = 1 AND verdict = '1' THEN '0' ELSE verdict END,
       coalesce(created_at, @now), ranking_id
     FROM temp.merge_rows WHERE adds_label = 1 ORDER BY row`,
      { now },
    ),
  );
  return { annotationsAdded, duplicatesDropped };
}
