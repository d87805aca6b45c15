import type Database from 'better-sqlite3';
import type { PairSummary } from '../../../shared/api';
import { latestAdjudicationVerdict, PAIR_JOINS, writeDerived } from './sql';
import { verdictFromDb, type DbVerdict } from './verdicts';

/** A pair as labeling needs it: where each image's bytes are (stored, or a file). */
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

/** A pair as review shows it. */
export interface PairDescription {
  prompt: string;
  image0Uid: string;
  image1Uid: string;
  model0: string | null;
  model1: string | null;
}

export interface AssignOptions {
  /** Distinct annotators each pair needs; null: everyone labels every pair. */
  overlap: number | null;
  order: 'project' | 'uncertainty';
  /** The model whose certainty orders the queue under 'uncertainty'. */
  modelId: number | null;
  now: number;
  leaseUntil: number;
}

/**
 * The most of a prompt a pair for labeling carries, in characters. Every caption an import takes
 * (at most 64 kB of UTF-8, io/values.ts) fits whole; a longer one, in a project imported before
 * that limit, is cut, so that a queue of 50 pairs stays a few megabytes (one was 400 MB).
 */
export const PROMPT_SHOWN_CHARS = 65_536;
const CUT_MARKER = ` … [caption cut: the first ${PROMPT_SHOWN_CHARS.toLocaleString('en-US')} characters shown]`;

/**
 * A prompt as read for labeling (one character too many, if it has more), cut and marked. Called
 * for every pair of every queue: it walks the code points (SQLite's characters) to where the
 * limit falls, copying nothing, instead of spreading 65,537 of them into an array per call.
 */
function shownPrompt(read: string): string {
  if (read.length <= PROMPT_SHOWN_CHARS) return read;
  let units = 0;
  for (let chars = 0; chars < PROMPT_SHOWN_CHARS && units < read.length; chars++) {
    const surrogatePair =
      (read.charCodeAt(units) & 0xfc00) === 0xd800 &&
      (read.charCodeAt(units + 1) & 0xfc00) === 0xdc00;
    units += surrogatePair ? 2 : 1;
  }
  return units >= read.length ? read : read.slice(0, units) + CUT_MARKER;
}

const shown = <T extends { prompt: string }>(row: T): T => ({
  ...row,
  prompt: shownPrompt(row.prompt),
});

/** Only as much of the prompt as is shown is read into JavaScript. */
const FOR_LABELING = `p.id AS pairId, substr(pr.text, 1, ${PROMPT_SHOWN_CHARS + 1}) AS prompt,
    i0.uid AS uid0, i0.sha256 IS NOT NULL AS stored0, i0.path AS path0,
    i1.uid AS uid1, i1.sha256 IS NOT NULL AS stored1, i1.path AS path1`;

/** A pair the annotator skipped once, handed out again, with the side the skip was shown on. */
export interface ReturningSkip extends PairForLabeling {
  skippedLeft: 0 | 1 | null;
}

/**
 * A skip that comes back: the annotator's current decision on the pair `d` is a skip, and no
 * earlier skip of theirs on it stands. So a pair comes back once after its first skip, and a
 * second skip keeps it skipped. "Once" is read from the append-only log alone, not from a flag
 * or a time kept somewhere: it holds across reloads and restarts, on any machine a package
 * travels to (the log merges whole), and needs no migration; an undo of the second skip takes it
 * back, and the pair comes back again, as undo promises.
 */
const SKIPPED_ONCE = `d.action = 'skip' AND NOT EXISTS (
    SELECT 1 FROM annotations e WHERE e.pair_id = d.pair_id AND e.annotator_id = d.annotator_id
      AND e.action = 'skip' AND e.id < d.annotation_id
      AND NOT EXISTS (SELECT 1 FROM annotations u WHERE u.undoes_id = e.id))`;

/** Others' running leases plus the verdicts of the pair `p` (tallies `t`) are short of k. */
const SHORT_OF_OVERLAP = `t.verdicts + (SELECT count(*) FROM pair_leases l WHERE l.pair_id = p.id
  AND l.annotator_id != @annotator AND l.expires_at > @now) < @overlap`;

/** A verdict or skip of the annotator on the pair that no undo has taken back. */
const STANDING_DECISION_OF = (pair: string, annotator: string): string => `
  SELECT 1 FROM decisions d WHERE d.pair_id = ${pair} AND d.annotator_id = ${annotator}`;

/**
 * Per annotator, a pair id up to which every pair has their decision (or was held by their
 * view), so handing out the next pair starts there instead of walking every pair they decided:
 * an annotator half way through Pick-a-Pic v2 has decided 500,000. Lowered when they undo
 * through this store (DecisionRepository); an undo written by another process is seen after a
 * reopen. Kept in the project (queue_marks, a derived write between calls) with the last
 * annotation id before it was found: read back, it is lowered below any pair an undo written
 * since took back.
 */
export class QueueMarks {
  private readonly decidedThrough = new Map<number, number>();
  private readonly unsaved = new Map<number, { pairId: number; asOf: number }>();
  /**
   * Per annotator, in active labeling without an overlap: a place in the model's certainty
   * order before which every scored pair has their decision. Kept in memory only, and dropped
   * on their undo, on any score written through this store, and once another connection has
   * committed anything (SQLite's data_version): a score or an undo written elsewhere.
   */
  private readonly certainty = new Map<number, CertaintyMark & { modelId: number }>();
  private certaintyDataVersion = -1;
  private readonly stmt;

  constructor(
    private readonly db: Database.Database,
    private readonly writable: boolean,
  ) {
    this.stmt = {
      lastAnnotation: db
        .prepare<[], number>('SELECT coalesce(max(id), 0) FROM annotations')
        .pluck(),
      saved: db.prepare<[number], { mark: number; asOf: number }>(
        'SELECT decided_through AS mark, as_of AS asOf FROM queue_marks WHERE annotator_id = ?',
      ),
      reopenedSince: db
        .prepare<[number, number], number | null>(
          `SELECT min(t.pair_id) FROM annotations u JOIN annotations t ON t.id = u.undoes_id
           WHERE u.annotator_id = ? AND u.id > ? AND u.action = 'undo'`,
        )
        .pluck(),
      dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(),
      save: db.prepare<[number, number, number]>(
        `INSERT INTO queue_marks (annotator_id, decided_through, as_of) VALUES (?, ?, ?)
         ON CONFLICT (annotator_id) DO UPDATE SET
           decided_through = excluded.decided_through, as_of = excluded.as_of`,
      ),
    };
  }

  /** The last annotation id now: a mark found after this reads everything up to it. */
  asOf(): number {
    return this.stmt.lastAnnotation.get()!;
  }

  get(annotatorId: number): number {
    let mark = this.decidedThrough.get(annotatorId);
    if (mark === undefined) {
      mark = this.saved(annotatorId);
      this.decidedThrough.set(annotatorId, mark);
    }
    return mark;
  }

  private saved(annotatorId: number): number {
    const saved = this.stmt.saved.get(annotatorId);
    if (!saved) return 0;
    const reopened = this.stmt.reopenedSince.get(annotatorId, saved.asOf) ?? null;
    return reopened === null ? saved.mark : Math.min(saved.mark, reopened - 1);
  }

  /** Moves the mark to `pairId`, found from what the project held at `asOf` (asOf()). */
  set(annotatorId: number, pairId: number, asOf: number): void {
    if (this.decidedThrough.get(annotatorId) === pairId) return;
    this.decidedThrough.set(annotatorId, pairId);
    if (this.writable) this.unsaved.set(annotatorId, { pairId, asOf });
  }

  /**
   * Writes the marks moved since the last save, in one derived write: the store calls it between
   * calls and on closing, so handing out the next pair never waits for a write.
   */
  save(): void {
    if (this.unsaved.size === 0) return;
    writeDerived(this.db, () => {
      for (const [annotatorId, { pairId, asOf }] of this.unsaved) {
        this.stmt.save.run(annotatorId, pairId, asOf);
      }
    });
    this.unsaved.clear();
  }

  /** The annotator's decision on the pair was taken back: the pair is theirs to decide again. */
  reopen(annotatorId: number, pairId: number): void {
    const mark = this.decidedThrough.get(annotatorId);
    if (mark !== undefined && mark >= pairId) this.decidedThrough.set(annotatorId, pairId - 1);
    this.certainty.delete(annotatorId);
  }

  certaintyMark(annotatorId: number, modelId: number): CertaintyMark | null {
    const version = this.stmt.dataVersion.get()!;
    if (version !== this.certaintyDataVersion) {
      this.certainty.clear();
      this.certaintyDataVersion = version;
    }
    const mark = this.certainty.get(annotatorId);
    return mark?.modelId === modelId ? mark : null;
  }

  setCertaintyMark(annotatorId: number, modelId: number, mark: CertaintyMark): void {
    this.certainty.set(annotatorId, { ...mark, modelId });
  }

  /** Scores were written: the certainty order changed. */
  forgetCertainty(): void {
    this.certainty.clear();
  }
}

/** A place in a model's certainty order: scores_by_certainty's (|p0 - 0.5|, pair id). */
interface CertaintyMark {
  certainty: number;
  pairId: number;
}

const beforeInCertainty = (a: CertaintyMark, b: CertaintyMark): boolean =>
  a.certainty < b.certainty || (a.certainty === b.certainty && a.pairId < b.pairId);

/** Pairs: what labeling and review show, and which pairs an annotator gets next. */
export class PairRepository {
  private readonly stmt;
  /**
   * The queue's queries, compiled once per shape (the order, the overlap, a mark or none: a
   * handful): compiling one at every next pair cost about 0.15 ms of the 0.6 ms it takes.
   */
  private readonly shaped = new Map<string, Database.Statement>();

  constructor(
    private readonly db: Database.Database,
    private readonly marks: QueueMarks,
  ) {
    this.stmt = {
      forLabeling: db.prepare<[number], PairForLabeling>(
        `SELECT ${FOR_LABELING} FROM pairs p ${PAIR_JOINS} WHERE p.id = ?`,
      ),
      undecided: db.prepare<
        [{ annotator: number; exclude: string; count: number; after: number }],
        PairForLabeling
      >(
        `SELECT ${FOR_LABELING} FROM pairs p ${PAIR_JOINS}
         WHERE p.id > @after AND NOT EXISTS (${STANDING_DECISION_OF('p.id', '@annotator')})
           AND p.id NOT IN (SELECT value FROM json_each(@exclude))
         ORDER BY p.id LIMIT @count`,
      ),
      lease: db.prepare<[number, number, number]>(
        `INSERT INTO pair_leases (pair_id, annotator_id, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (pair_id, annotator_id) DO UPDATE SET expires_at = excluded.expires_at`,
      ),
      certaintyOf: db.prepare<[number, string], CertaintyMark>(
        `SELECT abs(p_0 - 0.5) AS certainty, pair_id AS pairId FROM scores
         WHERE model_id = ? AND pair_id IN (SELECT value FROM json_each(?))`,
      ),
      lastPair: db.prepare<[], number | null>('SELECT max(id) FROM pairs').pluck(),
      count: db.prepare<[], number>('SELECT n FROM pair_count').pluck(),
      summaries: db.prepare<
        [number, number],
        Omit<PairSummary, 'verdict'> & { adjudicated: DbVerdict | null }
      >(
        `SELECT p.id AS pairId, pr.text AS prompt, i0.uid AS image0Uid, i1.uid AS image1Uid,
           p.model_0 AS model0, p.model_1 AS model1,
           (SELECT t.verdicts FROM pair_tallies t WHERE t.pair_id = p.id) AS annotations,
           ${latestAdjudicationVerdict('p.id')} AS adjudicated
         FROM pairs p ${PAIR_JOINS} ORDER BY p.id LIMIT ? OFFSET ?`,
      ),
      description: db.prepare<[number], PairDescription>(
        `SELECT pr.text AS prompt, i0.uid AS image0Uid, i1.uid AS image1Uid,
           p.model_0 AS model0, p.model_1 AS model1
         FROM pairs p ${PAIR_JOINS} WHERE p.id = ?`,
      ),
      withFirstImage: db
        .prepare<
          [string],
          number
        >('SELECT p.id FROM pairs p JOIN images i ON i.id = p.image_0_id WHERE i.uid = ?')
        .pluck(),
      knownRankings: db
        .prepare<
          [string],
          bigint
        >('SELECT s.ranking_id FROM json_each(?) j JOIN pair_sources s ON s.ranking_id = j.value')
        .pluck()
        .safeIntegers(),
      skips: db
        .prepare<[number], number>('SELECT skips FROM annotator_tallies WHERE annotator_id = ?')
        .pluck(),
    };
  }

  forLabeling(pairId: number): PairForLabeling | undefined {
    const row = this.stmt.forLabeling.get(pairId);
    return row && shown(row);
  }

  description(pairId: number): PairDescription | undefined {
    return this.stmt.description.get(pairId);
  }

  /** The project's pairs in id order, with their verdict counts and adjudicated verdicts. */
  summaries(offset: number, limit: number): PairSummary[] {
    return this.stmt.summaries.all(limit, offset).map(({ adjudicated, ...row }) => ({
      ...row,
      verdict: adjudicated === null ? null : verdictFromDb(adjudicated),
    }));
  }

  /** The pair whose image 0 has this uid (the demo knows its pairs by their images). */
  idWithFirstImage(uid: string): number | undefined {
    return this.stmt.withFirstImage.get(uid);
  }

  /** Those of `rankingIds` the project already has, in one statement for a whole batch. */
  knownRankings(rankingIds: readonly bigint[]): Set<bigint> {
    if (rankingIds.length === 0) return new Set();
    const ids = `[${rankingIds.join(',')}]`;
    return new Set(this.stmt.knownRankings.all(ids));
  }

  /** The highest pair id, 0 when there is none; pair ids only grow. */
  lastPairId(): number {
    return this.stmt.lastPair.get() ?? 0;
  }

  /** How many pairs the project has (kept by a trigger: a million pairs are not counted). */
  count(): number {
    return this.stmt.count.get()!;
  }

  /** Pairs the annotator has no standing decision on, in pair order, skipping `exclude`. */
  undecided(annotatorId: number | null, exclude: number[], count: number): PairForLabeling[] {
    const after = annotatorId === null ? 0 : this.marks.get(annotatorId);
    const asOf = this.marks.asOf();
    const rows = this.stmt.undecided.all({
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
      this.marks.set(annotatorId, Math.max(after, firstOpen - 1), asOf);
    }
    return rows.map(shown);
  }

  /**
   * Pairs to hand the annotator under an overlap of k distinct annotators per pair: pairs they
   * have no standing decision on whose verdicts plus others' running leases are short of k, the
   * most verdicts first (finishing pairs before starting new ones), or with `uncertainty` the
   * model's least certain first (active labeling), then the unscored ones. Each order is an
   * index's (pair_tallies_by_need, scores_by_certainty), so the query reads about as many pairs
   * as it hands out; leases fill a pair but do not reorder it. Under an overlap, the pairs are
   * leased to the annotator until `leaseUntil`, as are the `exclude` pairs the view already holds.
   */
  assign(
    annotatorId: number,
    exclude: number[],
    count: number,
    options: AssignOptions,
  ): PairForLabeling[] {
    const open = [
      `NOT EXISTS (${STANDING_DECISION_OF('p.id', '@annotator')})`,
      'p.id NOT IN (SELECT value FROM json_each(@exclude))',
      ...(options.overlap !== null ? [SHORT_OF_OVERLAP] : []),
    ];
    const params = {
      annotator: annotatorId,
      exclude: JSON.stringify(exclude),
      now: options.now,
      model: options.modelId ?? -1,
      ...(options.overlap !== null ? { overlap: options.overlap } : {}),
    };
    let rows: PairForLabeling[];
    if (options.order === 'uncertainty') {
      rows =
        options.overlap === null && options.modelId !== null
          ? this.leastCertainFromMark(annotatorId, options.modelId, exclude, open, params, count)
          : this.leastCertain(open, params, count, null).rows;
      if (rows.length < count) {
        const unscored =
          'NOT EXISTS (SELECT 1 FROM scores s WHERE s.model_id = @model AND s.pair_id = p.id)';
        rows.push(...this.byNeed([unscored, ...open], params, options, count - rows.length));
      }
    } else {
      rows = this.byNeed(open, params, options, count);
    }
    this.lease(annotatorId, [...exclude, ...rows.map((r) => r.pairId)], options);
    return rows.map(shown);
  }

  private compiled<Row>(sql: string): Database.Statement<unknown[], Row> {
    let statement = this.shaped.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.shaped.set(sql, statement);
    }
    return statement as Database.Statement<unknown[], Row>;
  }

  /** Open pairs, the most verdicts first under an overlap, else in project order. */
  private byNeed(
    where: string[],
    params: Record<string, unknown>,
    options: AssignOptions,
    limit: number,
  ): PairForLabeling[] {
    const needOrder = options.overlap !== null;
    // CROSS JOIN keeps the left table outermost, so its index gives the order.
    return this.compiled<PairForLabeling>(
      `SELECT ${FOR_LABELING}
         FROM pair_tallies t CROSS JOIN pairs p ON p.id = t.pair_id ${PAIR_JOINS}
         WHERE ${[...(needOrder ? ['t.verdicts < @overlap'] : []), ...where].join(' AND ')}
         ORDER BY ${needOrder ? 't.verdicts DESC, ' : ''}t.pair_id LIMIT @limit`,
    ).all({ ...params, limit });
  }

  /**
   * Open pairs the model has scored, its least certain first, from `from` on; `first`: where the
   * first of them stands in that order.
   */
  private leastCertain(
    where: string[],
    params: Record<string, unknown>,
    limit: number,
    from: CertaintyMark | null,
  ): { rows: PairForLabeling[]; first: CertaintyMark | null } {
    // The first condition is the index's range; the second the pair id within equal certainty.
    const resume = from
      ? [
          'abs(s.p_0 - 0.5) >= @fromCertainty',
          '(abs(s.p_0 - 0.5) > @fromCertainty OR s.pair_id >= @fromPair)',
        ]
      : [];
    const found = this.compiled<PairForLabeling & { certainty: number }>(
      `SELECT ${FOR_LABELING}, abs(s.p_0 - 0.5) AS certainty
         FROM scores s CROSS JOIN pairs p ON p.id = s.pair_id
           JOIN pair_tallies t ON t.pair_id = p.id ${PAIR_JOINS}
         WHERE s.model_id = @model AND ${[...resume, ...where].join(' AND ')}
         ORDER BY abs(s.p_0 - 0.5), s.pair_id LIMIT @limit`,
    ).all({
      ...params,
      limit,
      ...(from ? { fromCertainty: from.certainty, fromPair: from.pairId } : {}),
    });
    const first = found[0];
    return {
      rows: found.map(({ certainty: _, ...row }) => row),
      first: first ? { certainty: first.certainty, pairId: first.pairId } : null,
    };
  }

  /**
   * leastCertain without walking again the pairs the annotator has decided, which lead the
   * order: an annotator 100,000 pairs into active labeling would otherwise pass them all on each
   * call. Every scored pair before the first one handed out is decided by them or held by their
   * view; the mark moves there, or to the first held pair if one comes before (held pairs come
   * back if the view lets them go).
   */
  private leastCertainFromMark(
    annotatorId: number,
    modelId: number,
    exclude: number[],
    where: string[],
    params: Record<string, unknown>,
    limit: number,
  ): PairForLabeling[] {
    const from = this.marks.certaintyMark(annotatorId, modelId);
    const { rows, first } = this.leastCertain(where, params, limit, from);
    const candidates: CertaintyMark[] = [
      ...(first ? [first] : []),
      ...this.stmt.certaintyOf.all(modelId, JSON.stringify(exclude)),
    ];
    const next = candidates.reduce<CertaintyMark | null>(
      (first, c) => (first === null || beforeInCertainty(c, first) ? c : first),
      null,
    );
    if (next !== null && (from === null || !beforeInCertainty(next, from))) {
      this.marks.setCertaintyMark(annotatorId, modelId, next);
    }
    return rows;
  }

  /**
   * After the pairs the annotator has not decided run out: the pairs they skipped once
   * (SKIPPED_ONCE), the earliest skip first, skipping `exclude`. When `assigning`, under its
   * overlap as `assign` hands out pairs (a pair that others' verdicts and leases fill stays
   * skipped), and leased to the annotator until `leaseUntil` (see lease).
   */
  returningSkips(
    annotatorId: number,
    exclude: number[],
    count: number,
    assigning: Pick<AssignOptions, 'overlap' | 'now' | 'leaseUntil'> | null,
  ): ReturningSkip[] {
    // Most annotators never skip: their tally spares the walk over their decisions.
    if (count <= 0 || !this.stmt.skips.get(annotatorId)) return [];
    const overlap = assigning?.overlap ?? null;
    const rows = this.compiled<ReturningSkip>(
      `SELECT ${FOR_LABELING}, d.left_image AS skippedLeft
         FROM decisions d CROSS JOIN pairs p ON p.id = d.pair_id
           JOIN pair_tallies t ON t.pair_id = p.id ${PAIR_JOINS}
         WHERE d.annotator_id = @annotator AND ${SKIPPED_ONCE}
           AND p.id NOT IN (SELECT value FROM json_each(@exclude))
           ${overlap !== null ? `AND ${SHORT_OF_OVERLAP}` : ''}
         ORDER BY d.annotation_id LIMIT @count`,
    ).all({
      annotator: annotatorId,
      exclude: JSON.stringify(exclude),
      count,
      ...(overlap !== null ? { overlap, now: assigning!.now } : {}),
    });
    if (assigning) {
      this.lease(
        annotatorId,
        rows.map((r) => r.pairId),
        assigning,
      );
    }
    return rows.map(shown);
  }

  /**
   * Leases the pairs to the annotator until `leaseUntil`. A lease only counts against an overlap,
   * so without one (everyone labels every pair) nothing is written, and asking for pairs commits
   * nothing. Views hold pairs when a lead sets an overlap later; their next ask leases them.
   */
  private lease(
    annotatorId: number,
    pairIds: number[],
    assigning: Pick<AssignOptions, 'overlap' | 'leaseUntil'>,
  ): void {
    if (assigning.overlap === null) return;
    // A lease is worth nothing after a power cut (it only keeps others off the pair for a while),
    // so its commit does not wait for the disk; the next label's commit syncs it with the label.
    writeDerived(this.db, () => {
      for (const pairId of pairIds) {
        this.stmt.lease.run(pairId, annotatorId, assigning.leaseUntil);
      }
    });
  }
}
