import type Database from 'better-sqlite3';
import { writeDerived } from './sql';

export interface ModelRecord {
  fingerprint: string;
  name: string;
  manifest: string;
  folder: string;
}

const ACTIVE_MODEL_KEY = 'active_model';

/**
 * How many times scores were written, in project_meta: each write moves it, in the scores' own
 * transaction, so that a reader keeping a project's scores (the dashboard worker, see
 * audit/verdict-table.ts) knows whether they are still the project's. Absent: none written yet.
 */
const SCORES_WRITTEN_KEY = 'scores_written';

/** Models, which one is active, and scoring runs. */
const modelStatements = (db: Database.Database) => ({
  upsertModel: db.prepare<[ModelRecord & { now: number }], { id: number }>(
    `INSERT INTO models (fingerprint, name, manifest, folder, created_at)
     VALUES (@fingerprint, @name, @manifest, @folder, @now)
     ON CONFLICT (fingerprint) DO UPDATE SET folder = excluded.folder RETURNING id`,
  ),
  setActive: db.prepare<[string]>(
    `INSERT INTO project_meta (key, value) VALUES ('${ACTIVE_MODEL_KEY}', ?)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
  ),
  active: db.prepare<[], ModelRecord & { id: number }>(
    `SELECT m.id, m.fingerprint, m.name, m.manifest, m.folder FROM models m
     JOIN project_meta k ON k.key = '${ACTIVE_MODEL_KEY}' AND k.value = m.fingerprint`,
  ),
  models: db.prepare<[], ModelRecord & { id: number; active: number; scored: number }>(
    `SELECT m.id, m.fingerprint, m.name, m.manifest, m.folder,
       coalesce(k.value = m.fingerprint, 0) AS active,
       (SELECT count(*) FROM scores s WHERE s.model_id = m.id) AS scored
     FROM models m LEFT JOIN project_meta k ON k.key = '${ACTIVE_MODEL_KEY}'
     ORDER BY active DESC, m.id DESC`,
  ),
  countScoresWritten: db.prepare(
    `INSERT INTO project_meta (key, value) VALUES ('${SCORES_WRITTEN_KEY}', '1')
     ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1`,
  ),
  scoresWritten: db
    .prepare<[], string>(`SELECT value FROM project_meta WHERE key = '${SCORES_WRITTEN_KEY}'`)
    .pluck(),
  startRun: db.prepare<[number, string, number]>(
    'INSERT INTO model_runs (model_id, provider, started_at) VALUES (?, ?, ?)',
  ),
  finishRun: db.prepare<[number, number, number]>(
    'UPDATE model_runs SET finished_at = ?, pairs_scored = ? WHERE id = ?',
  ),
  byName: db
    .prepare<[string], number>('SELECT id FROM models WHERE name = ? ORDER BY id DESC')
    .pluck(),
  byFingerprint: db.prepare<[string], ModelRecord & { id: number }>(
    'SELECT id, fingerprint, name, manifest, folder FROM models WHERE fingerprint = ?',
  ),
  register: db.prepare<[ModelRecord & { now: number }], { id: number }>(
    `INSERT INTO models (fingerprint, name, manifest, folder, created_at)
     VALUES (@fingerprint, @name, @manifest, @folder, @now)
     ON CONFLICT (fingerprint) DO UPDATE SET folder = excluded.folder RETURNING id`,
  ),
});

/** The embedding cache: one unit vector per model and prompt or image. */
const cacheStatements = (db: Database.Database) => ({
  promptsToEncode: db.prepare<[number, number, number], { id: number; text: string }>(
    `SELECT pr.id, pr.text FROM prompts pr
     WHERE pr.id > ? AND NOT EXISTS (SELECT 1 FROM prompt_embeddings e
                                     WHERE e.model_id = ? AND e.prompt_id = pr.id)
     ORDER BY pr.id LIMIT ?`,
  ),
  imagesToEncode: db.prepare<[number, number, number], { id: number; uid: string }>(
    `SELECT i.id, i.uid FROM images i
     WHERE i.id > ? AND NOT EXISTS (SELECT 1 FROM image_embeddings e
                                    WHERE e.model_id = ? AND e.image_id = i.id)
     ORDER BY i.id LIMIT ?`,
  ),
  countPromptsToEncode: db.prepare<[number], { n: number }>(
    `SELECT count(*) AS n FROM prompts pr WHERE NOT EXISTS
       (SELECT 1 FROM prompt_embeddings e WHERE e.model_id = ? AND e.prompt_id = pr.id)`,
  ),
  countImagesToEncode: db.prepare<[number], { n: number }>(
    `SELECT count(*) AS n FROM images i WHERE NOT EXISTS
       (SELECT 1 FROM image_embeddings e WHERE e.model_id = ? AND e.image_id = i.id)`,
  ),
  putPrompt: db.prepare<[number, number, Buffer]>(
    'INSERT OR REPLACE INTO prompt_embeddings (model_id, prompt_id, embedding) VALUES (?, ?, ?)',
  ),
  putImage: db.prepare<[number, number, Buffer]>(
    'INSERT OR REPLACE INTO image_embeddings (model_id, image_id, embedding) VALUES (?, ?, ?)',
  ),
  promptEmbeddingsOf: db.prepare<[number, string], { id: number; embedding: Buffer }>(
    `SELECT prompt_id AS id, embedding FROM prompt_embeddings
     WHERE model_id = ? AND prompt_id IN (SELECT value FROM json_each(?))`,
  ),
  imageEmbeddingsOf: db.prepare<[number, string], { id: number; embedding: Buffer }>(
    `SELECT image_id AS id, embedding FROM image_embeddings
     WHERE model_id = ? AND image_id IN (SELECT value FROM json_each(?))`,
  ),
  promptIdByText: db.prepare<[string], number>('SELECT id FROM prompts WHERE text = ?').pluck(),
  imageIdByUid: db.prepare<[string], number>('SELECT id FROM images WHERE uid = ?').pluck(),
  // The cache as (id, key, embedding) in id order, for the embeddings export.
  promptEmbeddingPage: db
    .prepare<[number, number, number], [number, string, Buffer]>(
      `SELECT pr.id, pr.text, e.embedding FROM prompt_embeddings e
       JOIN prompts pr ON pr.id = e.prompt_id
       WHERE e.model_id = ? AND e.prompt_id > ? ORDER BY e.prompt_id LIMIT ?`,
    )
    .raw(),
  imageEmbeddingPage: db
    .prepare<[number, number, number], [number, string, Buffer]>(
      `SELECT i.id, i.uid, e.embedding FROM image_embeddings e
       JOIN images i ON i.id = e.image_id
       WHERE e.model_id = ? AND e.image_id > ? ORDER BY e.image_id LIMIT ?`,
    )
    .raw(),
});

/** Pairs to score, and their scores. */
const scoreStatements = (db: Database.Database) => ({
  // Rows as arrays (PairRow): a chunk of pairs makes no objects.
  pairsAfter: db
    .prepare<[{ model: number; after: number; limit: number }], PairRow>(
      `SELECT p.id, p.prompt_id, p.image_0_id, p.image_1_id
       FROM pairs p WHERE p.id > @after ORDER BY p.id LIMIT @limit`,
    )
    .raw(),
  unscoredPairsAfter: db
    .prepare<[{ model: number; after: number; limit: number }], PairRow>(
      `SELECT p.id, p.prompt_id, p.image_0_id, p.image_1_id
       FROM pairs p
       WHERE p.id > @after
         AND NOT EXISTS (SELECT 1 FROM scores s WHERE s.model_id = @model AND s.pair_id = p.id)
       ORDER BY p.id LIMIT @limit`,
    )
    .raw(),
  // A score that is already there unchanged is not written again (rescoring from the same cache
  // mostly finds its own results): no row, and no entry of the certainty index, is rewritten.
  putScore: db.prepare<[number, number, number, number, number]>(
    `INSERT INTO scores (model_id, pair_id, score_0, score_1, p_0) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (model_id, pair_id) DO UPDATE
       SET score_0 = excluded.score_0, score_1 = excluded.score_1, p_0 = excluded.p_0
       WHERE score_0 IS NOT excluded.score_0 OR score_1 IS NOT excluded.score_1
          OR p_0 IS NOT excluded.p_0`,
  ),
  scoreOf: db.prepare<[number, number], { score_0: number; score_1: number; p_0: number }>(
    'SELECT score_0, score_1, p_0 FROM scores WHERE model_id = ? AND pair_id = ?',
  ),
  scoredCount: db.prepare<[number], { n: number }>(
    'SELECT count(*) AS n FROM scores WHERE model_id = ?',
  ),
});

/**
 * The scoring tables: models, cached embeddings (one unit vector per prompt and image per model)
 * and scores. Embeddings are stored normalised, so a pair's score is a dot product.
 */
export class ScoreRepository {
  private readonly stmt;

  /** `onScoresWritten`: told after scores were written (the queue's certainty marks). */
  constructor(
    private readonly db: Database.Database,
    private readonly onScoresWritten: () => void = () => {},
  ) {
    this.stmt = { ...modelStatements(db), ...cacheStatements(db), ...scoreStatements(db) };
  }

  /** Registers a model (by fingerprint) and makes it the project's active model. */
  activate(model: ModelRecord): number {
    return this.db.transaction(() => {
      const id = this.stmt.upsertModel.get({ ...model, now: Date.now() })!.id;
      this.stmt.setActive.run(model.fingerprint);
      return id;
    })();
  }

  /** Every model of the project with its count of scored pairs, the active one first. */
  models() {
    return this.stmt.models.all().map((m) => ({ ...m, active: m.active === 1 }));
  }

  activeModel(): (ModelRecord & { id: number }) | undefined {
    return this.stmt.active.get();
  }

  /** Moves whenever scores are written (see SCORES_WRITTEN_KEY). */
  scoresWritten(): number {
    return Number(this.stmt.scoresWritten.get() ?? 0);
  }

  /** Registers a model (by fingerprint) without changing which one is active. */
  register(model: ModelRecord): number {
    return this.stmt.register.get({ ...model, now: Date.now() })!.id;
  }

  modelByFingerprint(fingerprint: string): (ModelRecord & { id: number }) | undefined {
    return this.stmt.byFingerprint.get(fingerprint);
  }

  /** The latest model of this name the project knows. */
  modelIdByName(name: string): number | undefined {
    return this.stmt.byName.get(name);
  }

  promptsToEncode(modelId: number, after: number, limit: number) {
    return this.stmt.promptsToEncode.all(after, modelId, limit);
  }

  imagesToEncode(modelId: number, after: number, limit: number) {
    return this.stmt.imagesToEncode.all(after, modelId, limit);
  }

  pendingCounts(modelId: number): { prompts: number; images: number } {
    return {
      prompts: this.stmt.countPromptsToEncode.get(modelId)!.n,
      images: this.stmt.countImagesToEncode.get(modelId)!.n,
    };
  }

  /**
   * Embeddings and scores are derived (writeDerived): a crash that loses the last batch costs recomputing it.
   * So their commits write the WAL without waiting for the disk; the next label's commit (FULL)
   * syncs the WAL, these frames with it, so no label waits less. Scoring commits on the thread
   * that answers requests, where a slow fsync held every reply for 100 to 300 ms (bench:serve).
   */
  putPromptEmbeddings(modelId: number, rows: { id: number; embedding: Float32Array }[]): void {
    writeDerived(this.db, () => {
      for (const row of rows) this.stmt.putPrompt.run(modelId, row.id, asBlob(row.embedding));
    });
  }

  putImageEmbeddings(modelId: number, rows: { id: number; embedding: Float32Array }[]): void {
    writeDerived(this.db, () => {
      for (const row of rows) this.stmt.putImage.run(modelId, row.id, asBlob(row.embedding));
    });
  }

  /** The prompt's id, by its exact text; undefined when the project has no such prompt. */
  promptIdByText(text: string): number | undefined {
    return this.stmt.promptIdByText.get(text);
  }

  /** The image's id, by its uid; undefined when the project has no such image. */
  imageIdByUid(uid: string): number | undefined {
    return this.stmt.imageIdByUid.get(uid);
  }

  /**
   * Stores embeddings made elsewhere (import-embeddings), prompts and images together in one
   * transaction: a file lands whole or not at all. Vectors must already be unit vectors.
   */
  putEmbeddings(
    modelId: number,
    prompts: { id: number; embedding: Float32Array }[],
    images: { id: number; embedding: Float32Array }[],
  ): void {
    writeDerived(this.db, () => {
      for (const row of prompts) this.stmt.putPrompt.run(modelId, row.id, asBlob(row.embedding));
      for (const row of images) this.stmt.putImage.run(modelId, row.id, asBlob(row.embedding));
    });
  }

  /** A page of the model's cached embeddings in id order after `after`, with their keys. */
  embeddingPage(
    modelId: number,
    kind: 'prompt' | 'image',
    after: number,
    limit: number,
  ): { id: number; key: string; embedding: Float32Array }[] {
    const stmt = kind === 'prompt' ? this.stmt.promptEmbeddingPage : this.stmt.imageEmbeddingPage;
    return stmt
      .all(modelId, after, limit)
      .map(([id, key, blob]) => ({ id, key, embedding: fromBlob(blob) }));
  }

  /** Pairs in id order after `after`: all of them, or those the model has no score for. */
  pairsAfter(modelId: number, after: number, limit: number, which: 'all' | 'unscored'): PairRow[] {
    const stmt = which === 'all' ? this.stmt.pairsAfter : this.stmt.unscoredPairsAfter;
    return stmt.all({ model: modelId, after, limit });
  }

  /** The cached unit vectors of these prompts (those the model has encoded), by prompt id. */
  promptEmbeddings(modelId: number, ids: Iterable<number>): Map<number, Float32Array> {
    return vectorsById(this.stmt.promptEmbeddingsOf.all(modelId, JSON.stringify([...ids])));
  }

  /** The cached unit vectors of these images (those the model has encoded), by image id. */
  imageEmbeddings(modelId: number, ids: Iterable<number>): Map<number, Float32Array> {
    return vectorsById(this.stmt.imageEmbeddingsOf.all(modelId, JSON.stringify([...ids])));
  }

  putScores(
    modelId: number,
    rows: { pairId: number; score0: number; score1: number; p0: number }[],
  ): void {
    this.writeScores(modelId, (put) => {
      for (const r of rows) put(r.pairId, r.score0, r.score1, r.p0);
    });
  }

  /**
   * Runs `work` in one transaction (a derived write, see writeDerived), giving it a writer of one
   * pair's score: any number of scores for the price of one commit and one prepared statement.
   */
  writeScores(modelId: number, work: (put: PutScore) => void): void {
    const { putScore, countScoresWritten } = this.stmt;
    try {
      writeDerived(this.db, () => {
        work((pairId, score0, score1, p0) => {
          putScore.run(modelId, pairId, score0, score1, p0);
        });
        countScoresWritten.run();
      });
    } finally {
      this.onScoresWritten();
    }
  }

  scoreOf(modelId: number, pairId: number) {
    return this.stmt.scoreOf.get(modelId, pairId);
  }

  scoredCount(modelId: number): number {
    return this.stmt.scoredCount.get(modelId)!.n;
  }

  startRun(modelId: number, provider: string): number {
    return Number(this.stmt.startRun.run(modelId, provider, Date.now()).lastInsertRowid);
  }

  finishRun(runId: number, pairsScored: number): void {
    this.stmt.finishRun.run(Date.now(), pairsScored, runId);
  }
}

/** A pair as [id, prompt id, image 0 id, image 1 id]. */
export type PairRow = [id: number, promptId: number, image0Id: number, image1Id: number];

export type PutScore = (pairId: number, score0: number, score1: number, p0: number) => void;

/** A blob's floats: a view of the blob itself when it is aligned for one, else a copy. */
const vectorOf = (blob: Buffer): Float32Array =>
  blob.byteOffset % Float32Array.BYTES_PER_ELEMENT === 0
    ? new Float32Array(
        blob.buffer,
        blob.byteOffset,
        blob.byteLength / Float32Array.BYTES_PER_ELEMENT,
      )
    : fromBlob(blob);

const vectorsById = (rows: { id: number; embedding: Buffer }[]): Map<number, Float32Array> =>
  new Map(rows.map((row) => [row.id, vectorOf(row.embedding)]));

export const asBlob = (vector: Float32Array): Buffer =>
  Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);

export const fromBlob = (blob: Buffer): Float32Array =>
  new Float32Array(blob.buffer.slice(blob.byteOffset, blob.byteOffset + blob.byteLength));
