import type Database from 'better-sqlite3';
import type {
  AuditFilters,
  DisagreementKind,
  PairFlag,
  ReviewCell,
  ReviewFilters,
} from '../../../shared/audit';
import { StudioError } from '../../../shared/errors';
import type { Verdict } from '../../../shared/labels';
import type { DecisionPacking } from './decision-packing';
import { openDatabase } from './open';
import { LATEST_ADJUDICATION } from './sql';
import { verdictFromDb, type DbVerdict } from './verdicts';

/** Per pair with verdicts, whether it is to be reviewed and why (listDisagreements). */
export interface DisagreementCandidate {
  pairId: number;
  p0: number | null;
  humansDisagree: number;
  modelDisagrees: number;
  /** How many candidates there are in all, on every row. */
  total: number;
  /** For a confusion cell: the cell's verdicts among all the candidates, on every row. */
  cellVerdicts: number;
}

export interface ReviewQuery extends ReviewFilters {
  kind: DisagreementKind;
  modelId: number | null;
  tieThreshold: number;
  includeAdjudicated: boolean;
  offset: number;
  limit: number;
}

type Params = Record<string, number | string>;

/** `text` as a LIKE pattern matching it anywhere, its wildcards (and the escape) taken literally. */
export const likeAnywhere = (text: string): string => `%${text.replace(/[\\%_]/g, '\\$&')}%`;

const ANNOTATOR_ID = (param: string): string =>
  `(SELECT id FROM annotators WHERE name = @${param})`;

/**
 * The SQL of the model's prediction at a threshold, as predictVerdict (metrics) computes it, with
 * p1 = 1 - p0 and the same floating-point steps, so the listed cell is the counted one.
 */
function predictionIs(verdict: Verdict): string {
  const margin = 'abs((1 - j.p_0) - j.p_0)';
  if (verdict === 'tie') return `${margin} <= @cellThreshold`;
  return `${margin} > @cellThreshold AND ${verdict === 0 ? '' : 'NOT '}(j.p_0 > 1 - j.p_0)`;
}

/** The verdicts an AuditFilters selects (as packedVerdicts reads them), on decisions row `d`. */
function verdictScope(d: string, filters: AuditFilters, params: Params): string {
  const where = [`${d}.action = 'verdict'`];
  if (filters.from !== undefined) {
    where.push(`${d}.created_at >= @cellFrom`);
    params.cellFrom = filters.from;
  }
  if (filters.to !== undefined) {
    where.push(`${d}.created_at < @cellTo`);
    params.cellTo = filters.to;
  }
  if (filters.annotators !== undefined) {
    where.push(
      `${d}.annotator_id IN (SELECT id FROM annotators WHERE name IN (SELECT value FROM json_each(@cellAnnotators)))`,
    );
    params.cellAnnotators = JSON.stringify(filters.annotators);
  }
  return where.join(' AND ');
}

/** The pairs an AuditFilters keeps (audit.ts's per-pair test: generator, model confidence). */
function pairScope(filters: AuditFilters, params: Params): string[] {
  const where: string[] = [];
  if (filters.generator !== undefined) {
    where.push(
      'EXISTS (SELECT 1 FROM pairs p WHERE p.id = j.pair_id AND (p.model_0 = @cellGenerator OR p.model_1 = @cellGenerator))',
    );
    params.cellGenerator = filters.generator;
  }
  if (filters.minConfidence !== undefined) {
    where.push('j.p_0 IS NOT NULL AND abs(j.p_0 - 0.5) >= @cellMinConfidence');
    params.cellMinConfidence = filters.minConfidence;
  }
  return where;
}

interface ReviewSql {
  /** Conditions on `judged j`, ANDed. */
  where: string[];
  /** Pair ids the list is drawn from (the most selective filter), or null: every judged pair. */
  driver: string | null;
  /** Per pair, over its decisions `d`: the confusion cell's verdicts on it (0 without a cell). */
  cellVerdicts: string;
  params: Params;
}

/** A dashboard cell's pairs as conditions; a κ cell's driver: its first annotator's verdicts. */
function cellSql(cell: ReviewCell, sql: ReviewSql): string | null {
  const { params, where } = sql;
  where.push(...pairScope(cell.filters, params));
  if (cell.kind === 'cohen') {
    params.cellA = cell.a;
    params.cellB = cell.b;
    const scoped = cell.filters.annotators;
    if (scoped !== undefined && !(scoped.includes(cell.a) && scoped.includes(cell.b))) {
      where.push('0');
    }
    const noNames = { ...cell.filters, annotators: undefined };
    where.push(
      `EXISTS (SELECT 1 FROM decisions db WHERE db.pair_id = j.pair_id AND db.annotator_id = ${ANNOTATOR_ID('cellB')} AND ${verdictScope('db', noNames, params)})`,
    );
    return `SELECT da.pair_id FROM decisions da WHERE da.annotator_id = ${ANNOTATOR_ID('cellA')} AND ${verdictScope('da', noNames, params)}`;
  }
  params.cellHuman = cell.human === 0 ? '0' : cell.human === 1 ? '1' : 'tie';
  params.cellThreshold = cell.threshold;
  where.push('j.p_0 IS NOT NULL', predictionIs(cell.model), 'j.cell_verdicts > 0');
  // Counted in the same pass over the decisions as the rest of the pair's figures.
  sql.cellVerdicts = `sum(d.verdict = @cellHuman AND ${verdictScope('d', cell.filters, params)})`;
  return null;
}

/**
 * The review filters as SQL over `judged j`. Each filter is a condition; the first of them that
 * names a set of pairs by an index (gold, flagged, a κ cell, an annotator, a prompt search, a
 * generator) also drives: only its pairs' decisions are read, instead of every decision.
 */
function reviewSql(q: ReviewQuery): ReviewSql {
  const sql: ReviewSql = {
    where: [
      {
        any: 'j.humans_disagree OR j.model_disagrees',
        humans: 'j.humans_disagree',
        model: 'j.model_disagrees',
        all: '1',
      }[q.kind],
    ],
    driver: null,
    cellVerdicts: '0',
    params: {
      model: q.modelId ?? -1,
      threshold: q.tieThreshold,
      includeAdjudicated: q.includeAdjudicated ? 1 : 0,
      offset: q.offset,
      limit: q.limit,
    },
  };
  const { where, params } = sql;
  const drivers: string[] = [];
  if (q.gold) {
    where.push('EXISTS (SELECT 1 FROM gold_pairs gp WHERE gp.pair_id = j.pair_id)');
    drivers.push('SELECT pair_id FROM gold_pairs');
  }
  if (q.flagged) {
    where.push('EXISTS (SELECT 1 FROM flags f WHERE f.pair_id = j.pair_id)');
    drivers.push('SELECT DISTINCT pair_id FROM flags');
  }
  if (q.cell) {
    const driver = cellSql(q.cell, sql);
    if (driver !== null) drivers.push(driver);
  }
  if (q.annotator !== undefined) {
    params.annotator = q.annotator;
    const judgedBy = `annotator_id = ${ANNOTATOR_ID('annotator')} AND action = 'verdict'`;
    where.push(`EXISTS (SELECT 1 FROM decisions x WHERE x.pair_id = j.pair_id AND x.${judgedBy})`);
    drivers.push(`SELECT pair_id FROM decisions WHERE ${judgedBy}`);
  }
  if (q.search !== undefined) {
    params.search = likeAnywhere(q.search);
    const matches = "t.text LIKE @search ESCAPE '\\'";
    where.push(
      `EXISTS (SELECT 1 FROM pairs p JOIN prompts t ON t.id = p.prompt_id WHERE p.id = j.pair_id AND ${matches})`,
    );
    drivers.push(`SELECT p.id FROM prompts t JOIN pairs p ON p.prompt_id = t.id WHERE ${matches}`);
  }
  if (q.generator !== undefined) {
    params.generator = q.generator;
    where.push(
      'EXISTS (SELECT 1 FROM pairs p WHERE p.id = j.pair_id AND (p.model_0 = @generator OR p.model_1 = @generator))',
    );
    drivers.push(
      'SELECT id FROM pairs WHERE model_0 = @generator UNION ALL SELECT id FROM pairs WHERE model_1 = @generator',
    );
  }
  if (q.noMajority) where.push('j.majority IS NULL');
  if (q.modelVsMajority) {
    // isDisagreement (shared/api.ts) with the majority as the verdict.
    where.push(
      "j.majority IN ('0', '1') AND coalesce(abs(2 * j.p_0 - 1) > @threshold AND iif(j.p_0 > 0.5, '0', '1') != j.majority, 0)",
    );
  }
  sql.driver = drivers[0] ?? null;
  return sql;
}

export interface Adjudication {
  verdict: Verdict;
  adjudicator: string;
  note: string;
  createdAt: number;
}

/**
 * What the lead's desk reads. At Pick-a-Pic v2's size the audit reads 3,000,000 decisions, and a
 * value crossing from SQLite costs about the same whatever it holds, so these reads return
 * integers and typed columns rather than rows.
 */
export class AuditReads {
  /** The review list's reads per pair, prepared once: a page asks them for each of its pairs. */
  private readonly stmt;

  constructor(private readonly db: Database.Database) {
    this.stmt = {
      verdictsOn: db.prepare<[number], { annotator: string; verdict: DbVerdict }>(
        `SELECT an.name AS annotator, d.verdict FROM decisions d
         JOIN annotators an ON an.id = d.annotator_id
         WHERE d.pair_id = ? AND d.action = 'verdict' ORDER BY d.annotator_id`,
      ),
      latestAdjudication: db.prepare<
        [number],
        Omit<Adjudication, 'verdict'> & { verdict: DbVerdict }
      >(LATEST_ADJUDICATION),
      flagsOn: db.prepare<[number], PairFlag>(
        `SELECT an.name AS annotator, f.note, f.created_at AS createdAt FROM flags f
         JOIN annotators an ON an.id = f.annotator_id WHERE f.pair_id = ? ORDER BY f.created_at, an.name`,
      ),
      goldOf: db.prepare<[number], { verdict: DbVerdict; setBy: string }>(
        'SELECT verdict, set_by AS setBy FROM gold_pairs WHERE pair_id = ?',
      ),
    };
  }

  /** Annotator names by id. */
  annotatorNames(): Map<number, string> {
    return new Map(
      this.db
        .prepare<[], [number, string]>('SELECT id, name FROM annotators')
        .raw()
        .all()
        .map(([id, name]) => [id, name] as const),
    );
  }

  /** Every annotator's name, in SQLite's order (byte order of UTF-8). */
  annotatorNamesInOrder(): string[] {
    return this.db.prepare<[], string>('SELECT name FROM annotators ORDER BY name').pluck().all();
  }

  /** `read` in one read transaction: what it reads is the project at one moment. */
  snapshot<T>(read: () => T): T {
    return this.db.transaction(read)();
  }

  /** The highest annotator id (0 for none). */
  lastAnnotatorId(): number {
    return this.db
      .prepare<[], number>('SELECT coalesce(max(id), 0) FROM annotators')
      .pluck()
      .get()!;
  }

  /** The id of the annotation log's latest event (ids only grow: the log is appended to). */
  lastAnnotationId(): number {
    return this.db
      .prepare<[], number>('SELECT coalesce(max(id), 0) FROM annotations')
      .pluck()
      .get()!;
  }

  /**
   * The pairs whose decisions the events after `annotationId` may have changed, in id order:
   * each event's pair, and an undo's target's (the decisions follow the target's key).
   */
  pairsChangedSince(annotationId: number): number[] {
    // Sorted here: asked to sort, SQLite walks the whole pair index instead of the new rows.
    const pairs = this.db
      .prepare<[number, number], number>(
        `SELECT pair_id FROM annotations WHERE id > ?
         UNION ALL SELECT pair_id FROM annotations
         WHERE id IN (SELECT undoes_id FROM annotations WHERE id > ? AND undoes_id IS NOT NULL)`,
      )
      .pluck()
      .all(annotationId, annotationId);
    return [...new Set(pairs)].sort((a, b) => a - b);
  }

  /**
   * Current verdicts (no skips) the filters select, each as one packed integer (see
   * DecisionPacking), in pair then annotator order; and, in the same order, the times too long
   * to be packed. `pairs`: only those pairs' verdicts.
   */
  packedVerdicts(
    packing: DecisionPacking,
    filters: Pick<AuditFilters, 'annotators' | 'from' | 'to'>,
    pairs?: readonly number[],
  ): { packed: number[]; longTimes: number[] } {
    const where = ["action = 'verdict'"];
    const params: Record<string, number | string> = {};
    if (pairs !== undefined) {
      where.push('pair_id IN (SELECT value FROM json_each(@pairs))');
      params.pairs = JSON.stringify(pairs);
    }
    if (filters.from !== undefined) {
      where.push('created_at >= @from');
      params.from = filters.from;
    }
    if (filters.to !== undefined) {
      where.push('created_at < @to');
      params.to = filters.to;
    }
    if (filters.annotators !== undefined) {
      where.push(
        'annotator_id IN (SELECT id FROM annotators WHERE name IN (SELECT value FROM json_each(@annotators)))',
      );
      params.annotators = JSON.stringify(filters.annotators);
    }
    const selected = (more: string[] = []): string =>
      `FROM decisions WHERE ${[...where, ...more].join(' AND ')} ORDER BY pair_id, annotator_id`;
    const column = (sql: string): number[] =>
      this.db.prepare<Record<string, number | string>, number>(sql).pluck().all(params);
    // One snapshot for both reads, so that the long times are those of the decisions read.
    return this.db.transaction(() => {
      const packed = column(`SELECT ${packing.sql()} ${selected()}`);
      const long = packed.filter((value) => packing.hasLongTime(value));
      // Few decisions take minutes: each looked up by its key. Where many do, one more scan of
      // every decision is cheaper; scanning always cost a third of the whole read.
      if (long.length > packed.length / 20) {
        const timeTooLong = `NOT ${packing.timeFitsSql()}`;
        return {
          packed,
          longTimes: column(
            `SELECT decision_ms ${selected(['decision_ms IS NOT NULL', timeTooLong])}`,
          ),
        };
      }
      const timeOf = this.db
        .prepare<
          [number, number],
          number
        >('SELECT decision_ms FROM decisions WHERE pair_id = ? AND annotator_id = ?')
        .pluck();
      const decision = { pairId: 0, annotatorId: 0, verdictSide: 0, time: 0 };
      const longTimes = long.map((value) => {
        packing.unpackInto(value, decision);
        return timeOf.get(decision.pairId, decision.annotatorId)!;
      });
      return { packed, longTimes };
    })();
  }

  /** The model's p0 per pair id (NaN where unscored), for pair ids up to `lastPairId`. */
  p0ByPair(modelId: number | null, lastPairId: number): Float64Array {
    const p0ByPair = new Float64Array(lastPairId + 1).fill(NaN);
    const column = (name: 'pair_id' | 'p_0'): number[] =>
      this.db
        .prepare<[number], number>(`SELECT ${name} FROM scores WHERE model_id = ? ORDER BY pair_id`)
        .pluck()
        .all(modelId ?? -1);
    const pairIds = column('pair_id');
    column('p_0').forEach((p0, i) => (p0ByPair[pairIds[i]!] = p0));
    return p0ByPair;
  }

  /** The project's distinct (generator of image 0, generator of image 1) pairs. */
  generatorPairs(): [string | null, string | null][] {
    return this.db
      .prepare<
        [],
        [string | null, string | null]
      >('SELECT DISTINCT model_0, model_1 FROM pairs INDEXED BY pairs_by_generators')
      .raw()
      .all();
  }

  /**
   * Per pair id, the index of its generators in `generatorPairs`: one covering-index range per
   * pair of generators, so only integers cross and no pair is joined to anything.
   */
  generatorIndexByPair(
    generatorPairs: readonly [string | null, string | null][],
    lastPairId: number,
  ): Int32Array {
    const byPair = new Int32Array(lastPairId + 1);
    const pairsOf = this.db
      .prepare<
        [string | null, string | null],
        number
      >('SELECT id FROM pairs INDEXED BY pairs_by_generators WHERE model_0 IS ? AND model_1 IS ?')
      .pluck();
    generatorPairs.forEach(([m0, m1], k) => {
      for (const pair of pairsOf.all(m0, m1)) byPair[pair] = k;
    });
    return byPair;
  }

  /**
   * Pairs to review, surest model first: where it disagrees most confidently, a human (or the
   * model) is most likely wrong; unscored pairs last, then in project order. Per pair, in one
   * ordered pass over the decisions (or over those of the pairs the most selective filter names):
   * humans disagree when their verdicts are not all the same; the model disagrees
   * (shared/api.ts's isDisagreement) when it is sure, beyond the tie threshold, of the side a
   * human did not pick; the majority is a strict plurality, as the export's. Only the page leaves
   * SQLite.
   */
  disagreementCandidates(q: ReviewQuery): DisagreementCandidate[] {
    const { where, driver, cellVerdicts, params } = reviewSql(q);
    const ofDriver = (pair: string) => (driver === null ? '' : `AND ${pair} IN (${driver})`);
    // A confusion cell counts some of a pair's verdicts, read one by one; otherwise the pair's
    // tallies hold its verdicts by category (grouping every decision cost three times as much).
    const perPair =
      q.cell?.kind !== 'confusion'
        ? `SELECT t.pair_id, (t.image0 > 0) + (t.image1 > 0) + (t.ties > 0) > 1 AS humans_disagree,
             t.image0 AS chose_0, t.image1 AS chose_1, t.ties AS chose_tie, 0 AS cell_verdicts
           FROM pair_tallies t WHERE t.verdicts > 0 ${ofDriver('t.pair_id')}`
        : `SELECT d.pair_id, min(d.verdict) != max(d.verdict) AS humans_disagree,
             sum(d.verdict = '0') AS chose_0, sum(d.verdict = '1') AS chose_1,
             sum(d.verdict = 'tie') AS chose_tie, ${cellVerdicts} AS cell_verdicts
           FROM decisions d WHERE d.action = 'verdict' ${ofDriver('d.pair_id')}
           GROUP BY d.pair_id`;
    return this.db
      .prepare<Params, DisagreementCandidate>(
        `WITH per_pair AS (${perPair}), judged AS (
           SELECT g.pair_id, s.p_0, g.humans_disagree,
             coalesce(abs(2 * s.p_0 - 1) > @threshold
               AND iif(s.p_0 > 0.5, g.chose_1, g.chose_0) > 0, 0) AS model_disagrees,
             CASE WHEN g.chose_0 > g.chose_1 AND g.chose_0 > g.chose_tie THEN '0'
               WHEN g.chose_1 > g.chose_0 AND g.chose_1 > g.chose_tie THEN '1'
               WHEN g.chose_tie > g.chose_0 AND g.chose_tie > g.chose_1 THEN 'tie' END AS majority,
             g.cell_verdicts
           FROM per_pair g LEFT JOIN scores s ON s.model_id = @model AND s.pair_id = g.pair_id
           WHERE @includeAdjudicated OR NOT EXISTS (SELECT 1 FROM adjudications a WHERE a.pair_id = g.pair_id)
         )
         SELECT pair_id AS pairId, p_0 AS p0, humans_disagree AS humansDisagree,
           model_disagrees AS modelDisagrees, count(*) OVER () AS total,
           sum(cell_verdicts) OVER () AS cellVerdicts
         FROM judged j WHERE ${where.map((w) => `(${w})`).join(' AND ')}
         ORDER BY coalesce(abs(2 * p_0 - 1), -1) DESC, pair_id
         LIMIT @limit OFFSET @offset`,
      )
      .all(params);
  }

  /** Annotators' flags on a pair, oldest first. */
  flagsOn(pairId: number): PairFlag[] {
    return this.stmt.flagsOn.all(pairId);
  }

  /** The pair's expected verdict, where it is gold. */
  goldOf(pairId: number): { verdict: Verdict; setBy: string } | null {
    const row = this.stmt.goldOf.get(pairId);
    return row ? { verdict: verdictFromDb(row.verdict), setBy: row.setBy } : null;
  }

  /** The current verdicts on a pair, by annotator id. */
  verdictsOn(pairId: number): { annotator: string; verdict: Verdict }[] {
    return this.stmt.verdictsOn
      .all(pairId)
      .map((v) => ({ annotator: v.annotator, verdict: verdictFromDb(v.verdict) }));
  }

  latestAdjudication(pairId: number): Adjudication | null {
    const row = this.stmt.latestAdjudication.get(pairId);
    return row ? { ...row, verdict: verdictFromDb(row.verdict) } : null;
  }
}

/**
 * Another project's current verdicts on pairs that the model with this fingerprint scored, with
 * its p0: what PickScore's protocol tunes a tie threshold on. The database is opened alone, not
 * as a ProjectStore: it is opened read-only, so it is not migrated, and its schema may be older
 * than the store's statements (every schema has the current_annotations view).
 */
export function tuningExamples(
  file: string,
  fingerprint: string,
): { p0: number; verdict: Verdict }[] {
  let other: Database.Database;
  try {
    other = openDatabase(file, { readonly: true });
  } catch (error) {
    throw error instanceof StudioError
      ? error
      : new StudioError('not_found', `${file}: ${(error as Error).message}`);
  }
  try {
    const model = other
      .prepare<[string], number>('SELECT id FROM models WHERE fingerprint = ?')
      .pluck()
      .get(fingerprint);
    if (model === undefined) {
      throw new StudioError(
        'invalid_argument',
        `${file} has no scores from this project's model; score it with the same model folder first`,
      );
    }
    return other
      .prepare<[number], { p0: number; verdict: DbVerdict }>(
        `SELECT s.p_0 AS p0, c.verdict FROM current_annotations c
         JOIN scores s ON s.model_id = ? AND s.pair_id = c.pair_id
         WHERE c.action = 'verdict'`,
      )
      .all(model)
      .map((r) => ({ p0: r.p0, verdict: verdictFromDb(r.verdict) }));
  } finally {
    other.close();
  }
}
