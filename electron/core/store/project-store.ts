import type Database from 'better-sqlite3';
import type { AnnotatorStats, ProjectCounts } from '../../../shared/api';
import { StudioError } from '../../../shared/errors';
import type { Verdict } from '../../../shared/labels';
import { openDatabase, type OpenOptions } from './open';

export type AnnotatorKind = AnnotatorStats['kind'];
export type DbVerdict = '0' | '1' | 'tie';

export function verdictToDb(verdict: Verdict): DbVerdict {
  return verdict === 'tie' ? 'tie' : verdict === 0 ? '0' : '1';
}

export function verdictFromDb(value: string): Verdict {
  if (value === '0') return 0;
  if (value === '1') return 1;
  if (value === 'tie') return 'tie';
  throw new StudioError('internal', `unknown verdict in the project file: ${value}`);
}

export interface BlobRecord {
  sha256: string;
  bytes: Uint8Array;
  format: string;
  width: number;
  height: number;
}

export interface ImageRecord {
  uid: string;
  sha256?: string | null;
  path?: string | null;
  url?: string | null;
}

export interface PairRecord {
  promptId: number;
  image0Id: number;
  image1Id: number;
  model0: string | null;
  model1: string | null;
  createdAt: number | null;
}

export interface PairSourceRecord {
  rankingId: number;
  pairId: number;
  swapped: boolean;
  userId: number | null;
  hasLabel: boolean;
  label0: number | null;
  label1: number | null;
  bestImageUid: string | null;
  areDifferent: boolean | null;
  numExamplePerPrompt: number | null;
  createdAt: number | null;
  sourceFile: string;
}

export interface AnnotationRecord {
  pairId: number;
  annotatorId: number;
  action: 'verdict' | 'skip' | 'undo';
  verdict?: Verdict | null;
  undoesId?: number | null;
  leftImage?: 0 | 1 | null;
  suggestionVisible?: boolean | null;
  decisionMs?: number | null;
  createdAt: number;
  rankingId?: number | null;
}

const bool = (value: boolean | null | undefined): number | null =>
  value === null || value === undefined ? null : value ? 1 : 0;

/**
 * The project file and the statements every door needs. All SQL lives in this folder; io, the
 * service and the CLI speak to the store through these methods.
 */
export class ProjectStore {
  readonly db: Database.Database;
  readonly file: string;
  private inFileTransaction = false;

  private readonly stmt;

  constructor(file: string, options: OpenOptions = {}) {
    this.file = file;
    this.db = openDatabase(file, options);
    const db = this.db;
    this.stmt = {
      prompt: db.prepare<[string], { id: number }>(
        'INSERT INTO prompts (text) VALUES (?) ON CONFLICT (text) DO UPDATE SET text = excluded.text RETURNING id',
      ),
      blob: db.prepare(
        'INSERT OR IGNORE INTO image_blobs (sha256, bytes, format, width, height) VALUES (@sha256, @bytes, @format, @width, @height)',
      ),
      image: db.prepare<
        [{ uid: string; sha256: string | null; path: string | null; url: string | null }],
        { id: number }
      >(
        `INSERT INTO images (uid, sha256, path, url) VALUES (@uid, @sha256, @path, @url)
         ON CONFLICT (uid) DO UPDATE SET
           sha256 = coalesce(images.sha256, excluded.sha256),
           path = coalesce(images.path, excluded.path),
           url = coalesce(images.url, excluded.url)
         RETURNING id`,
      ),
      findPair: db.prepare<[number, number, number], { id: number }>(
        'SELECT id FROM pairs WHERE prompt_id = ? AND image_0_id = ? AND image_1_id = ?',
      ),
      insertPair: db.prepare(
        `INSERT INTO pairs (prompt_id, image_0_id, image_1_id, model_0, model_1, created_at, added_at)
         VALUES (@promptId, @image0Id, @image1Id, @model0, @model1, @createdAt, @addedAt)`,
      ),
      hasRanking: db.prepare<[number], { one: number }>(
        'SELECT 1 AS one FROM pair_sources WHERE ranking_id = ?',
      ),
      insertSource: db.prepare(
        `INSERT INTO pair_sources (ranking_id, pair_id, swapped, user_id, has_label, label_0, label_1,
           best_image_uid, are_different, num_example_per_prompt, created_at, source_file)
         VALUES (@rankingId, @pairId, @swapped, @userId, @hasLabel, @label0, @label1,
           @bestImageUid, @areDifferent, @numExamplePerPrompt, @createdAt, @sourceFile)`,
      ),
      annotator: db.prepare<[string, string, number], { id: number; kind: string }>(
        `INSERT INTO annotators (name, kind, created_at) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id, kind`,
      ),
      insertAnnotation: db.prepare(
        `INSERT INTO annotations (pair_id, annotator_id, action, verdict, undoes_id, left_image,
           suggestion_visible, decision_ms, created_at, ranking_id)
         VALUES (@pairId, @annotatorId, @action, @verdict, @undoesId, @leftImage,
           @suggestionVisible, @decisionMs, @createdAt, @rankingId)`,
      ),
      hasAnnotationBy: db.prepare<[number, number], { one: number }>(
        'SELECT 1 AS one FROM annotations WHERE pair_id = ? AND annotator_id = ? LIMIT 1',
      ),
      insertAdjudication: db.prepare(
        `INSERT INTO adjudications (pair_id, verdict, adjudicator, note, created_at)
         VALUES (@pairId, @verdict, @adjudicator, @note, @createdAt)`,
      ),
    };
  }

  static open(file: string, options: OpenOptions = {}): ProjectStore {
    return new ProjectStore(file, options);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  /**
   * Runs `work` (which may await reads of a source file) inside one write transaction: all of it
   * lands, or none of it. Only one runs at a time.
   */
  async inFileTransactionAsync<T>(work: () => Promise<T>): Promise<T> {
    if (this.inFileTransaction) {
      throw new StudioError('busy', `${this.file}: another import is writing to this project`);
    }
    this.inFileTransaction = true;
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = await work();
      this.db.exec('COMMIT');
      return result;
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw error;
    } finally {
      this.inFileTransaction = false;
    }
  }

  promptId(text: string): number {
    return this.stmt.prompt.get(text)!.id;
  }

  putBlob(blob: BlobRecord): void {
    this.stmt.blob.run(blob);
  }

  imageId(image: ImageRecord): number {
    return this.stmt.image.get({
      uid: image.uid,
      sha256: image.sha256 ?? null,
      path: image.path ?? null,
      url: image.url ?? null,
    })!.id;
  }

  /** The pair of this prompt and these two images, in either order. */
  findPair(
    promptId: number,
    image0Id: number,
    image1Id: number,
  ): { id: number; swapped: boolean } | null {
    const same = this.stmt.findPair.get(promptId, image0Id, image1Id);
    if (same) return { id: same.id, swapped: false };
    const swapped = this.stmt.findPair.get(promptId, image1Id, image0Id);
    return swapped ? { id: swapped.id, swapped: true } : null;
  }

  insertPair(pair: PairRecord): number {
    return Number(this.stmt.insertPair.run({ ...pair, addedAt: Date.now() }).lastInsertRowid);
  }

  hasRanking(rankingId: number): boolean {
    return this.stmt.hasRanking.get(rankingId) !== undefined;
  }

  insertPairSource(source: PairSourceRecord): void {
    this.stmt.insertSource.run({
      ...source,
      swapped: bool(source.swapped),
      hasLabel: bool(source.hasLabel),
      areDifferent: bool(source.areDifferent),
    });
  }

  annotatorId(name: string, kind: AnnotatorKind): number {
    const row = this.stmt.annotator.get(name, kind, Date.now())!;
    if (row.kind !== kind) {
      throw new StudioError(
        'bad_input',
        `annotator name ${JSON.stringify(name)} is already used by a ${row.kind} annotator`,
      );
    }
    return row.id;
  }

  insertAnnotation(annotation: AnnotationRecord): number {
    return Number(
      this.stmt.insertAnnotation.run({
        pairId: annotation.pairId,
        annotatorId: annotation.annotatorId,
        action: annotation.action,
        verdict:
          annotation.verdict === null || annotation.verdict === undefined
            ? null
            : verdictToDb(annotation.verdict),
        undoesId: annotation.undoesId ?? null,
        leftImage: annotation.leftImage ?? null,
        suggestionVisible: bool(annotation.suggestionVisible),
        decisionMs: annotation.decisionMs ?? null,
        createdAt: annotation.createdAt,
        rankingId: annotation.rankingId ?? null,
      }).lastInsertRowid,
    );
  }

  hasAnnotationBy(pairId: number, annotatorId: number): boolean {
    return this.stmt.hasAnnotationBy.get(pairId, annotatorId) !== undefined;
  }

  insertAdjudication(adjudication: {
    pairId: number;
    verdict: Verdict;
    adjudicator: string;
    note?: string;
  }): void {
    this.stmt.insertAdjudication.run({
      pairId: adjudication.pairId,
      verdict: verdictToDb(adjudication.verdict),
      adjudicator: adjudication.adjudicator,
      note: adjudication.note ?? '',
      createdAt: Date.now(),
    });
  }

  counts(): ProjectCounts {
    const one = (sql: string): number => (this.db.prepare(sql).get() as { n: number }).n;
    const verdicts = this.db
      .prepare(
        "SELECT verdict, count(*) AS n FROM current_annotations WHERE action = 'verdict' GROUP BY verdict",
      )
      .all() as { verdict: DbVerdict; n: number }[];
    const byVerdict = (v: DbVerdict): number => verdicts.find((r) => r.verdict === v)?.n ?? 0;
    return {
      prompts: one('SELECT count(*) AS n FROM prompts'),
      images: one('SELECT count(*) AS n FROM images'),
      imagesWithBytes: one('SELECT count(*) AS n FROM images WHERE sha256 IS NOT NULL'),
      pairs: one('SELECT count(*) AS n FROM pairs'),
      pairsWithVerdict: one(
        `SELECT count(*) AS n FROM pairs p WHERE
           EXISTS (SELECT 1 FROM current_annotations c WHERE c.pair_id = p.id AND c.action = 'verdict')
           OR EXISTS (SELECT 1 FROM adjudications j WHERE j.pair_id = p.id)`,
      ),
      annotators: one('SELECT count(*) AS n FROM annotators'),
      annotations: one('SELECT count(*) AS n FROM annotations'),
      verdicts: { image0: byVerdict('0'), image1: byVerdict('1'), tie: byVerdict('tie') },
      skips: one("SELECT count(*) AS n FROM current_annotations WHERE action = 'skip'"),
      adjudications: one('SELECT count(*) AS n FROM adjudications'),
    };
  }

  annotatorStats(name?: string): AnnotatorStats[] {
    const rows = this.db
      .prepare(
        `SELECT n.name, n.kind,
           count(DISTINCT CASE WHEN c.action = 'verdict' THEN c.pair_id END) AS decided,
           sum(c.verdict = '0') AS v0, sum(c.verdict = '1') AS v1, sum(c.verdict = 'tie') AS vt,
           sum(c.action = 'skip') AS skips
         FROM annotators n LEFT JOIN current_annotations c ON c.annotator_id = n.id
         WHERE (@name IS NULL OR n.name = @name)
         GROUP BY n.id ORDER BY n.name`,
      )
      .all({ name: name ?? null }) as {
      name: string;
      kind: AnnotatorKind;
      decided: number;
      v0: number | null;
      v1: number | null;
      vt: number | null;
      skips: number | null;
    }[];
    if (name !== undefined && rows.length === 0) {
      throw new StudioError(
        'not_found',
        `${this.file}: no annotator named ${JSON.stringify(name)}`,
      );
    }
    return rows.map((r) => ({
      name: r.name,
      kind: r.kind,
      pairsDecided: r.decided,
      verdicts: { image0: r.v0 ?? 0, image1: r.v1 ?? 0, tie: r.vt ?? 0 },
      skips: r.skips ?? 0,
    }));
  }
}
