import type Database from 'better-sqlite3';
import type { AuditFilters, DisagreementKind } from '../../../shared/audit';
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

  /**
   * Current verdicts (no skips) the filters select, each as one packed integer (see
   * DecisionPacking), in pair then annotator order; and, in the same order, the times too long
   * to be packed.
   */
  packedVerdicts(
    packing: DecisionPacking,
    filters: Pick<AuditFilters, 'annotators' | 'from' | 'to'>,
  ): { packed: number[]; longTimes: number[] } {
    const where = ["action = 'verdict'"];
    const params: Record<string, number | string> = {};
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
    return {
      packed: column(`SELECT ${packing.sql()} ${selected()}`),
      longTimes: column(
        `SELECT decision_ms ${selected(['decision_ms IS NOT NULL', `NOT ${packing.timeFitsSql()}`])}`,
      ),
    };
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
   * ordered pass over the decisions: humans disagree when their verdicts are not all the same;
   * the model disagrees (shared/api.ts's isDisagreement) when it is sure, beyond the tie
   * threshold, of the side a human did not pick. Only the page leaves SQLite.
   */
  disagreementCandidates(args: {
    kind: DisagreementKind;
    modelId: number | null;
    tieThreshold: number;
    includeAdjudicated: boolean;
    offset: number;
    limit: number;
  }): DisagreementCandidate[] {
    const wanted = {
      any: 'humans_disagree OR model_disagrees',
      humans: 'humans_disagree',
      model: 'model_disagrees',
    }[args.kind];
    return this.db
      .prepare<Record<string, number>, DisagreementCandidate>(
        `WITH per_pair AS (
           SELECT d.pair_id, min(d.verdict) != max(d.verdict) AS humans_disagree,
             sum(d.verdict = '0') AS chose_0, sum(d.verdict = '1') AS chose_1
           FROM decisions d WHERE d.action = 'verdict' GROUP BY d.pair_id
         ), judged AS (
           SELECT g.pair_id, s.p_0, g.humans_disagree,
             coalesce(abs(2 * s.p_0 - 1) > @threshold
               AND iif(s.p_0 > 0.5, g.chose_1, g.chose_0) > 0, 0) AS model_disagrees
           FROM per_pair g LEFT JOIN scores s ON s.model_id = @model AND s.pair_id = g.pair_id
           WHERE @includeAdjudicated OR NOT EXISTS (SELECT 1 FROM adjudications j WHERE j.pair_id = g.pair_id)
         )
         SELECT pair_id AS pairId, p_0 AS p0, humans_disagree AS humansDisagree,
           model_disagrees AS modelDisagrees, count(*) OVER () AS total
         FROM judged WHERE ${wanted}
         ORDER BY coalesce(abs(2 * p_0 - 1), -1) DESC, pair_id
         LIMIT @limit OFFSET @offset`,
      )
      .all({
        model: args.modelId ?? -1,
        threshold: args.tieThreshold,
        includeAdjudicated: args.includeAdjudicated ? 1 : 0,
        offset: args.offset,
        limit: args.limit,
      });
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
