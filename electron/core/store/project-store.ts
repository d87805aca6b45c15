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

export interface HistoryRow {
  id: number;
  pairId: number;
  prompt: string;
  action: string;
  verdict: DbVerdict | null;
  createdAt: number;
}

export interface PairForLabeling {
  pairId: number;
  prompt: string;
  uid0: string;
  stored0: number;
  path0: string | null;
  uid1: string;
  stored1: number;
  path1: string | null;
}

const PAIR_COLUMNS = `p.id AS pairId, pr.text AS prompt,
    i0.uid AS uid0, i0.sha256 IS NOT NULL AS stored0, i0.path AS path0,
    i1.uid AS uid1, i1.sha256 IS NOT NULL AS stored1, i1.path AS path1`;
const PAIR_JOINS = `
  JOIN prompts pr ON pr.id = p.prompt_id
  JOIN images i0 ON i0.id = p.image_0_id
  JOIN images i1 ON i1.id = p.image_1_id`;
const PAIR_FOR_LABELING = `SELECT ${PAIR_COLUMNS} FROM pairs p ${PAIR_JOINS}`;

/** A verdict or skip of the annotator on the pair that no undo has taken back. */
const STANDING_DECISION_OF = (pair: string, annotator: string): string => `
  SELECT 1 FROM decisions d WHERE d.pair_id = ${pair} AND d.annotator_id = ${annotator}`;

const bool = (value: boolean | null | undefined): number | null =>
  value === null || value === undefined ? null : value ? 1 : 0;

/**
 * The project file and the statements every door needs. All SQL lives in this folder; io, the
 * service and the CLI speak to the store through these methods.
 */
export class ProjectStore {
  readonly db: Database.Database;
  readonly file: string;

  private readonly stmt;
  /**
   * Per annotator, a pair id up to which every pair has their decision (or was held by their
   * view), so handing out the next pair starts there instead of walking every pair they decided:
   * an annotator half way through Pick-a-Pic v2 has decided 500,000. Lowered when they undo
   * through this store; an undo written by another process is seen after a reopen.
   */
  private readonly decidedThrough = new Map<number, number>();

  constructor(file: string, options: OpenOptions = {}) {
    this.file = file;
    this.db = openDatabase(file, options);
    const db = this.db;
    this.stmt = {
      prompt: db.prepare<[string], { id: number }>(
        'INSERT INTO prompts (text) VALUES (?) ON CONFLICT (text) DO UPDATE SET text = excluded.text RETURNING id',
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
      insertPair: db.prepare(
        `INSERT INTO pairs (prompt_id, image_0_id, image_1_id, model_0, model_1, created_at, added_at)
         VALUES (@promptId, @image0Id, @image1Id, @model0, @model1, @createdAt, @addedAt)`,
      ),
      hasRanking: db.prepare<[number], { one: number }>(
        'SELECT 1 AS one FROM pair_sources WHERE ranking_id = ?',
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
      undecidedPairs: db.prepare<
        [{ annotator: number; exclude: string; count: number; after: number }],
        PairForLabeling
      >(
        `${PAIR_FOR_LABELING}
         WHERE p.id > @after AND NOT EXISTS (${STANDING_DECISION_OF('p.id', '@annotator')})
           AND p.id NOT IN (SELECT value FROM json_each(@exclude))
         ORDER BY p.id LIMIT @count`,
      ),
      pairForLabeling: db.prepare<[number], PairForLabeling>(`${PAIR_FOR_LABELING} WHERE p.id = ?`),
      lease: db.prepare<[number, number, number]>(
        `INSERT INTO pair_leases (pair_id, annotator_id, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (pair_id, annotator_id) DO UPDATE SET expires_at = excluded.expires_at`,
      ),
      releaseLease: db.prepare<[number, number]>(
        'DELETE FROM pair_leases WHERE pair_id = ? AND annotator_id = ?',
      ),
      currentDecision: db.prepare<[number, number], { action: string; verdict: DbVerdict | null }>(
        'SELECT action, verdict FROM decisions WHERE pair_id = ? AND annotator_id = ?',
      ),
      latestStanding: db.prepare<[number], { id: number; pairId: number }>(
        `SELECT annotation_id AS id, pair_id AS pairId FROM decisions
         WHERE annotator_id = ? ORDER BY annotation_id DESC LIMIT 1`,
      ),
      lastPair: db.prepare<[], number | null>('SELECT max(id) FROM pairs').pluck(),
      findAnnotator: db.prepare<[string], { id: number; kind: AnnotatorKind }>(
        'SELECT id, kind FROM annotators WHERE name = ?',
      ),
      pairCount: db.prepare<[], { n: number }>('SELECT n FROM pair_count'),
      progress: db.prepare<
        [{ annotator: number; since: number }],
        { decided: number | null; skipped: number | null; lastHour: number | null }
      >(
        `SELECT t.verdicts AS decided, t.skips AS skipped,
           (SELECT count(*) FROM annotations h WHERE h.annotator_id = @annotator
              AND h.created_at >= @since AND h.action != 'undo') AS lastHour
         FROM (SELECT @annotator AS id) n
         LEFT JOIN annotator_tallies t ON t.annotator_id = n.id`,
      ),
      history: db.prepare<[number, number], HistoryRow>(
        `SELECT d.annotation_id AS id, d.pair_id AS pairId, pr.text AS prompt, d.action, d.verdict,
           d.created_at AS createdAt
         FROM decisions d
         JOIN pairs p ON p.id = d.pair_id JOIN prompts pr ON pr.id = p.prompt_id
         WHERE d.annotator_id = ? ORDER BY d.annotation_id DESC LIMIT ?`,
      ),
      imageSource: db.prepare<
        [string],
        { bytes: Buffer | null; format: string | null; path: string | null }
      >(
        `SELECT b.bytes, b.format, i.path FROM images i
         LEFT JOIN image_blobs b ON b.sha256 = i.sha256 WHERE i.uid = ?`,
      ),
      getMeta: db.prepare<[string], { value: string }>(
        'SELECT value FROM project_meta WHERE key = ?',
      ),
      setMeta: db.prepare<[string, string]>(
        `INSERT INTO project_meta (key, value) VALUES (?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
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

  promptId(text: string): number {
    return this.stmt.prompt.get(text)!.id;
  }

  imageId(image: ImageRecord): number {
    return this.stmt.image.get({
      uid: image.uid,
      sha256: image.sha256 ?? null,
      path: image.path ?? null,
      url: image.url ?? null,
    })!.id;
  }

  insertPair(pair: PairRecord): number {
    return Number(this.stmt.insertPair.run({ ...pair, addedAt: Date.now() }).lastInsertRowid);
  }

  hasRanking(rankingId: number): boolean {
    return this.stmt.hasRanking.get(rankingId) !== undefined;
  }

  annotatorId(name: string, kind: AnnotatorKind): number {
    // Looked up first: the upsert writes even when the name exists, and a write outside a
    // transaction is a commit of its own, one more wait for the disk on every label.
    const row =
      this.stmt.findAnnotator.get(name) ?? this.stmt.annotator.get(name, kind, Date.now())!;
    if (row.kind !== kind) {
      throw new StudioError(
        'bad_input',
        `annotator name ${JSON.stringify(name)} is already used by a ${row.kind} annotator`,
      );
    }
    return row.id;
  }

  /** Appends an annotation; a verdict or skip also ends the annotator's lease on the pair. */
  insertAnnotation(annotation: AnnotationRecord): number {
    return this.db.transaction(() => {
      const id = Number(
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
      if (annotation.action !== 'undo')
        this.stmt.releaseLease.run(annotation.pairId, annotation.annotatorId);
      else this.reopened(annotation.annotatorId, annotation.pairId);
      return id;
    })();
  }

  insertAdjudication(adjudication: {
    pairId: number;
    verdict: Verdict;
    adjudicator: string;
    note?: string;
  }): number {
    const { lastInsertRowid } = this.stmt.insertAdjudication.run({
      pairId: adjudication.pairId,
      verdict: verdictToDb(adjudication.verdict),
      adjudicator: adjudication.adjudicator,
      note: adjudication.note ?? '',
      createdAt: Date.now(),
    });
    return Number(lastInsertRowid);
  }

  /**
   * Pairs to hand the annotator under an overlap of k distinct annotators per pair: pairs they
   * have no standing decision on whose verdicts plus others' running leases are short of k, the
   * most verdicts first (finishing pairs before starting new ones), or with `uncertainty` the
   * model's least certain first (active labeling), then the unscored ones. Each order is an
   * index's (pair_tallies_by_need, scores_by_certainty), so the query reads about as many pairs
   * as it hands out; leases fill a pair but do not reorder it. The pairs are leased to the
   * annotator until `leaseUntil`, as are the `exclude` pairs the view already holds.
   */
  assignPairs(
    annotatorId: number,
    exclude: number[],
    count: number,
    options: {
      overlap: number | null;
      order: 'project' | 'uncertainty';
      modelId: number | null;
      now: number;
      leaseUntil: number;
    },
  ): PairForLabeling[] {
    const open = [
      `NOT EXISTS (${STANDING_DECISION_OF('p.id', '@annotator')})`,
      'p.id NOT IN (SELECT value FROM json_each(@exclude))',
      ...(options.overlap !== null
        ? [
            `t.verdicts + (SELECT count(*) FROM pair_leases l WHERE l.pair_id = p.id
               AND l.annotator_id != @annotator AND l.expires_at > @now) < @overlap`,
          ]
        : []),
    ];
    const params = {
      annotator: annotatorId,
      exclude: JSON.stringify(exclude),
      now: options.now,
      model: options.modelId ?? -1,
      ...(options.overlap !== null ? { overlap: options.overlap } : {}),
    };
    // CROSS JOIN keeps the left table outermost, so its index gives the order.
    const needOrder = options.overlap !== null;
    const byNeed = (where: string[], limit: number): PairForLabeling[] =>
      this.db
        .prepare<unknown[], PairForLabeling>(
          `SELECT ${PAIR_COLUMNS}
           FROM pair_tallies t CROSS JOIN pairs p ON p.id = t.pair_id ${PAIR_JOINS}
           WHERE ${[...(needOrder ? ['t.verdicts < @overlap'] : []), ...where, ...open].join(' AND ')}
           ORDER BY ${needOrder ? 't.verdicts DESC, ' : ''}t.pair_id LIMIT @limit`,
        )
        .all({ ...params, limit });
    let rows: PairForLabeling[];
    if (options.order === 'uncertainty') {
      rows = this.db
        .prepare<unknown[], PairForLabeling>(
          `SELECT ${PAIR_COLUMNS}
           FROM scores s CROSS JOIN pairs p ON p.id = s.pair_id
             JOIN pair_tallies t ON t.pair_id = p.id ${PAIR_JOINS}
           WHERE s.model_id = @model AND ${open.join(' AND ')}
           ORDER BY abs(s.p_0 - 0.5) LIMIT @limit`,
        )
        .all({ ...params, limit: count });
      if (rows.length < count) {
        rows.push(
          ...byNeed(
            ['NOT EXISTS (SELECT 1 FROM scores s WHERE s.model_id = @model AND s.pair_id = p.id)'],
            count - rows.length,
          ),
        );
      }
    } else {
      rows = byNeed([], count);
    }
    // A lease is worth nothing after a power cut (it only keeps others off the pair for a while),
    // so its commit does not wait for the disk; the next label's commit syncs it with the label.
    const synchronous = this.db.pragma('synchronous', { simple: true }) as number;
    this.db.pragma('synchronous = NORMAL');
    try {
      this.db.transaction(() => {
        for (const pairId of [...exclude, ...rows.map((r) => r.pairId)]) {
          this.stmt.lease.run(pairId, annotatorId, options.leaseUntil);
        }
      })();
    } finally {
      this.db.pragma(`synchronous = ${synchronous}`);
    }
    return rows;
  }

  /** Ends the annotator's lease on a pair (they decided it). */
  releaseLease(pairId: number, annotatorId: number): void {
    this.stmt.releaseLease.run(pairId, annotatorId);
  }

  /** Pairs the annotator has no standing decision on, in pair order, skipping `exclude`. */
  undecidedPairs(annotatorId: number | null, exclude: number[], count: number): PairForLabeling[] {
    const after = annotatorId === null ? 0 : (this.decidedThrough.get(annotatorId) ?? 0);
    const rows = this.stmt.undecidedPairs.all({
      annotator: annotatorId ?? -1,
      exclude: JSON.stringify(exclude),
      count,
      after,
    });
    if (annotatorId !== null) {
      // Between `after` and the first pair found, every pair is decided or held by the view; the
      // view's pairs may come back undecided, so the mark stays below them.
      const firstOpen = Math.min(
        rows[0]?.pairId ?? this.lastPairId() + 1,
        ...exclude.filter((id) => id > after),
      );
      this.decidedThrough.set(annotatorId, Math.max(after, firstOpen - 1));
    }
    return rows;
  }

  /** The highest pair id, 0 when there is none; pair ids only grow. */
  lastPairId(): number {
    return this.stmt.lastPair.get() ?? 0;
  }

  /** The annotator's decision on the pair was taken back: the pair is theirs to decide again. */
  private reopened(annotatorId: number, pairId: number): void {
    const mark = this.decidedThrough.get(annotatorId);
    if (mark !== undefined && mark >= pairId) this.decidedThrough.set(annotatorId, pairId - 1);
  }

  pairForLabeling(pairId: number): PairForLabeling | undefined {
    return this.stmt.pairForLabeling.get(pairId);
  }

  /** The annotator's current decision on a pair: the latest verdict or skip not undone. */
  currentDecision(pairId: number, annotatorId: number): Verdict | 'skip' | null {
    const row = this.stmt.currentDecision.get(pairId, annotatorId);
    if (!row) return null;
    return row.action === 'skip' ? 'skip' : verdictFromDb(row.verdict!);
  }

  /** The annotator's latest decision that no undo has taken back (what Undo takes back next). */
  latestStandingDecision(annotatorId: number): { id: number; pairId: number } | undefined {
    return this.stmt.latestStanding.get(annotatorId);
  }

  findAnnotator(name: string): { id: number; kind: AnnotatorKind } | undefined {
    return this.stmt.findAnnotator.get(name);
  }

  labelProgress(annotatorId: number | null): {
    decided: number;
    skipped: number;
    total: number;
    lastHour: number;
  } {
    const total = this.stmt.pairCount.get()!.n;
    if (annotatorId === null) return { decided: 0, skipped: 0, total, lastHour: 0 };
    const row = this.stmt.progress.get({ annotator: annotatorId, since: Date.now() - 3_600_000 })!;
    return {
      decided: row.decided ?? 0,
      skipped: row.skipped ?? 0,
      total,
      lastHour: row.lastHour ?? 0,
    };
  }

  /** The annotator's current decisions, latest first. */
  history(annotatorId: number, limit: number): HistoryRow[] {
    return this.stmt.history.all(annotatorId, limit);
  }

  /** An image's bytes as stored, or the file it was imported from; null when the uid is unknown. */
  imageSource(
    uid: string,
  ): { bytes: Buffer | null; format: string | null; path: string | null } | null {
    return this.stmt.imageSource.get(uid) ?? null;
  }

  meta(key: string): string | undefined {
    return this.stmt.getMeta.get(key)?.value;
  }

  setMeta(key: string, value: string): void {
    this.stmt.setMeta.run(key, value);
  }

  counts(): ProjectCounts {
    const one = (sql: string): number => (this.db.prepare(sql).get() as { n: number }).n;
    const verdicts = this.db
      .prepare(
        "SELECT verdict, count(*) AS n FROM decisions WHERE action = 'verdict' GROUP BY verdict",
      )
      .all() as { verdict: DbVerdict; n: number }[];
    const byVerdict = (v: DbVerdict): number => verdicts.find((r) => r.verdict === v)?.n ?? 0;
    return {
      prompts: one('SELECT count(*) AS n FROM prompts'),
      images: one('SELECT count(*) AS n FROM images'),
      imagesWithBytes: one('SELECT count(*) AS n FROM images WHERE sha256 IS NOT NULL'),
      pairs: this.stmt.pairCount.get()!.n,
      pairsWithVerdict: one(
        `SELECT count(*) AS n FROM pair_tallies t WHERE t.verdicts > 0
           OR EXISTS (SELECT 1 FROM adjudications j WHERE j.pair_id = t.pair_id)`,
      ),
      annotators: one('SELECT count(*) AS n FROM annotators'),
      annotations: one('SELECT count(*) AS n FROM annotations'),
      verdicts: { image0: byVerdict('0'), image1: byVerdict('1'), tie: byVerdict('tie') },
      skips: one('SELECT coalesce(sum(skips), 0) AS n FROM annotator_tallies'),
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
         FROM annotators n LEFT JOIN decisions c ON c.annotator_id = n.id
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
