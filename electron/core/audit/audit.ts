/**
 * The lead's desk over one project: the verdicts the filters select, read from SQLite straight
 * into the metrics' typed columns, then the dashboard, the confusion matrix and the generator
 * table; and the disagreements to review.
 */
import type {
  AuditFilters,
  AuditReport,
  ConfusionMatrix,
  Disagreement,
  DisagreementKind,
  GeneratorRow,
} from '../../../shared/audit';
import type Database from 'better-sqlite3';
import { StudioError } from '../../../shared/errors';
import {
  categoryVerdict,
  computeDashboard,
  IMAGE_0,
  IMAGE_1,
  LEFT_UNKNOWN,
  pickscoreProtocol,
  predictVerdict,
  protocolScore,
  TIE,
  type DashboardColumns,
  type ProtocolExample,
} from '../metrics';
import { openDatabase } from '../store/open';
import { type ProjectStore, verdictFromDb, type DbVerdict } from '../store/project-store';
import { ScoreStore } from '../store/scores';

interface VerdictRows {
  columns: DashboardColumns;
  /** Per dense pair index: the pair's generators. */
  model0: (string | null)[];
  model1: (string | null)[];
}

/** The smallest power of two above `n`: a field of a packed integer that holds 0..n. */
const span = (n: number): number => 2 ** Math.ceil(Math.log2(n + 1));

/**
 * Current verdicts (no skips) that pass the filters, as typed columns, from the decisions table
 * (migration 4). A value crossing from SQLite costs about the same whatever it holds, and at
 * Pick-a-Pic v2's size (3,000,000 decisions) the crossing is most of the read: so each decision
 * crosses as one integer packing its pair, annotator, verdict, shown side and (where the bits
 * allow) time; scores cross as two columns in pair order, and each pair's generators come from
 * an index, as pair ids only.
 */
function readVerdicts(
  store: ProjectStore,
  modelId: number | null,
  filters: AuditFilters,
  generatorPairs: [string | null, string | null][],
): VerdictRows {
  const db = store.db;
  const maxPair = store.lastPairId();
  const annotatorNames = new Map(
    db
      .prepare<[], [number, string]>('SELECT id, name FROM annotators')
      .raw()
      .all()
      .map(([id, name]) => [id, name] as const),
  );
  const annotatorSpan = span(Math.max(0, ...annotatorNames.keys()));
  const codeSpan = 16;
  // The bits left of a safe integer hold the decision's time: 0 for none, 1 for a time too long
  // for them (read on its own, below), else the time + 2. At Pick-a-Pic v2's size that is 18 bits,
  // times up to 4 minutes, nearly all of them.
  const msSpan = Math.min(
    2 ** 24,
    2 **
      Math.floor(Math.log2(Number.MAX_SAFE_INTEGER / ((maxPair + 1) * annotatorSpan * codeSpan))),
  );
  if (!(msSpan >= 2)) {
    throw new StudioError('internal', `${store.file}: too many pairs and annotators to audit`);
  }
  const inline = `decision_ms >= 0 AND decision_ms < ${msSpan - 2}`;

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
  // verdict_side (migration 4): the verdict as the metrics' IMAGE_0, TIE, IMAGE_1 (0, 1, 2) plus
  // 4 x the side shown left, 2 for unknown.
  const packed = db
    .prepare<Record<string, number | string>, number>(
      `SELECT ((pair_id * ${annotatorSpan} + annotator_id) * ${codeSpan} + verdict_side) * ${msSpan}
         + CASE WHEN decision_ms IS NULL THEN 0 WHEN ${inline} THEN decision_ms + 2 ELSE 1 END
       ${selected()}`,
    )
    .pluck()
    .all(params);
  const longTimes = db
    .prepare<Record<string, number | string>, number>(
      `SELECT decision_ms ${selected(['decision_ms IS NOT NULL', `NOT (${inline})`])}`,
    )
    .pluck()
    .all(params);

  const p0ByPair = new Float64Array(maxPair + 1).fill(NaN);
  const scored = db.prepare<[number], number>(
    'SELECT pair_id FROM scores WHERE model_id = ? ORDER BY pair_id',
  );
  const scoredP0 = db.prepare<[number], number>(
    'SELECT p_0 FROM scores WHERE model_id = ? ORDER BY pair_id',
  );
  const scoredPairs = scored.pluck().all(modelId ?? -1);
  scoredP0
    .pluck()
    .all(modelId ?? -1)
    .forEach((p0, i) => (p0ByPair[scoredPairs[i]!] = p0));

  // Each pair's generators, as an index into `generatorPairs`, from one covering-index range per
  // pair of generators: only integers cross, and no pair is joined to anything.
  const generatorsOfPair = new Int32Array(maxPair + 1);
  const pairsOf = db
    .prepare<
      [string | null, string | null],
      number
    >('SELECT id FROM pairs INDEXED BY pairs_by_generators WHERE model_0 IS ? AND model_1 IS ?')
    .pluck();
  generatorPairs.forEach(([m0, m1], k) => {
    for (const pair of pairsOf.all(m0, m1)) generatorsOfPair[pair] = k;
  });

  const present = new Uint8Array(annotatorSpan);
  const perPair = annotatorSpan * codeSpan;
  for (const value of packed) {
    present[Math.floor((Math.floor(value / msSpan) % perPair) / codeSpan)] = 1;
  }
  const names = [...annotatorNames]
    .filter(([id]) => present[id])
    .map(([, name]) => name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const indexOfName = new Map(names.map((name, i) => [name, i]));
  const annotatorIndex = new Int32Array(annotatorSpan);
  for (const [id, name] of annotatorNames) annotatorIndex[id] = indexOfName.get(name) ?? -1;

  const n = packed.length;
  const pairIndex = new Int32Array(n);
  const annotator = new Int32Array(n);
  const verdict = new Uint8Array(n);
  const leftImage = new Uint8Array(n);
  const durationMs = new Float64Array(n);
  const p0 = new Float64Array(n);
  const model0: (string | null)[] = [];
  const model1: (string | null)[] = [];
  let kept = 0;
  let pairs = 0;
  let longTime = 0;
  let lastPair = -1;
  let lastPairPasses = false;
  for (let i = 0; i < n; i++) {
    // Divisions by powers of two: exact on doubles.
    const value = Math.floor(packed[i]! / msSpan);
    const time = packed[i]! - value * msSpan;
    if (time === 1) longTime++;
    const pairId = Math.floor(value / perPair);
    const rest = value - pairId * perPair;
    if (pairId !== lastPair) {
      lastPair = pairId;
      const score = p0ByPair[pairId]!;
      const [m0, m1] = generatorPairs[generatorsOfPair[pairId]!]!;
      lastPairPasses =
        (filters.generator === undefined || m0 === filters.generator || m1 === filters.generator) &&
        (filters.minConfidence === undefined ||
          (!Number.isNaN(score) && Math.abs(score - 0.5) >= filters.minConfidence));
      if (lastPairPasses) {
        p0[pairs++] = score;
        model0.push(m0);
        model1.push(m1);
      }
    }
    if (!lastPairPasses) continue;
    const c = rest % codeSpan;
    const left = Math.floor(c / 4);
    pairIndex[kept] = pairs - 1;
    annotator[kept] = annotatorIndex[Math.floor(rest / codeSpan)]!;
    verdict[kept] = c % 4;
    leftImage[kept] = left === 2 ? LEFT_UNKNOWN : left;
    durationMs[kept] = time === 0 ? NaN : time === 1 ? longTimes[longTime - 1]! : time - 2;
    kept++;
  }
  const columns: DashboardColumns = {
    annotators: names,
    pairIndex: pairIndex.subarray(0, kept),
    annotator: annotator.subarray(0, kept),
    verdict: verdict.subarray(0, kept),
    leftImage: leftImage.subarray(0, kept),
    durationMs: durationMs.subarray(0, kept),
    p0: p0.subarray(0, pairs),
  };
  return { columns, model0, model1 };
}

function confusionMatrix(rows: VerdictRows, threshold: number | null): ConfusionMatrix {
  const counts: [number, number, number][] = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  const { columns } = rows;
  if (threshold !== null) {
    for (let i = 0; i < columns.pairIndex.length; i++) {
      const p0 = columns.p0[columns.pairIndex[i]!]!;
      if (Number.isNaN(p0)) continue;
      const predicted = predictVerdict(p0, threshold);
      const column = predicted === 0 ? IMAGE_0 : predicted === 1 ? IMAGE_1 : TIE;
      counts[columns.verdict[i]!]![column]++;
    }
  }
  return { threshold, counts };
}

function generatorTable(rows: VerdictRows, threshold: number | null): GeneratorRow[] {
  const table = new Map<
    string,
    GeneratorRow & { probabilitySum: number; scored: number; protocolSum: number; judged: number }
  >();
  const row = (generator: string) => {
    let r = table.get(generator);
    if (!r) {
      r = {
        generator,
        pairs: 0,
        wins: 0,
        losses: 0,
        ties: 0,
        winRate: null,
        meanModelProbability: null,
        pickscoreAgreement: null,
        probabilitySum: 0,
        scored: 0,
        protocolSum: 0,
        judged: 0,
      };
      table.set(generator, r);
    }
    return r;
  };
  const { columns } = rows;
  rows.model0.forEach((m0, pair) => {
    const m1 = rows.model1[pair];
    const p0 = columns.p0[pair]!;
    // A pair of one generator's two images is one of its pairs, not two.
    const sides: [string | null | undefined, number][] =
      m0 === m1
        ? [[m0, 0.5]]
        : [
            [m0, p0],
            [m1, 1 - p0],
          ];
    for (const [generator, probability] of sides) {
      if (generator === null || generator === undefined) continue;
      const r = row(generator);
      r.pairs++;
      if (!Number.isNaN(probability)) {
        r.probabilitySum += probability;
        r.scored++;
      }
    }
  });
  for (let i = 0; i < columns.pairIndex.length; i++) {
    const pair = columns.pairIndex[i]!;
    const m0 = rows.model0[pair];
    const m1 = rows.model1[pair];
    const v = columns.verdict[i]!;
    const p0 = columns.p0[pair]!;
    const score =
      threshold === null || Number.isNaN(p0)
        ? null
        : protocolScore(categoryVerdict(v), predictVerdict(p0, threshold));
    for (const [generator, side] of [
      [m0, IMAGE_0],
      [m1, IMAGE_1],
    ] as const) {
      if (generator === null || generator === undefined) continue;
      const r = row(generator);
      // A pair of one generator's two images says nothing about that generator against others.
      if (m0 !== m1) {
        if (v === TIE) r.ties++;
        else if (v === side) r.wins++;
        else r.losses++;
      }
      if (score !== null) {
        r.protocolSum += score;
        r.judged++;
      }
    }
  }
  return [...table.values()]
    .sort((a, b) => b.pairs - a.pairs || (a.generator < b.generator ? -1 : 1))
    .map(({ probabilitySum, scored, protocolSum, judged, ...r }) => ({
      ...r,
      winRate: r.wins + r.losses > 0 ? r.wins / (r.wins + r.losses) : null,
      meanModelProbability: scored > 0 ? probabilitySum / scored : null,
      pickscoreAgreement: judged > 0 ? protocolSum / judged : null,
    }));
}

/**
 * The threshold PickScore's protocol picks on another project's verdicts (its validation split),
 * scored by the same model (same fingerprint).
 */
function tuneOnProject(file: string, fingerprint: string) {
  // The database alone, not a ProjectStore: the other project is opened read-only, so it is not
  // migrated, and its schema may be older than the store's statements (it has the view).
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
      .prepare<[string], { id: number }>('SELECT id FROM models WHERE fingerprint = ?')
      .get(fingerprint);
    if (!model) {
      throw new StudioError(
        'invalid_argument',
        `${file} has no scores from this project's model; score it with the same model folder first`,
      );
    }
    const examples = other
      .prepare<[number], { p0: number; verdict: DbVerdict }>(
        `SELECT s.p_0 AS p0, c.verdict FROM current_annotations c
         JOIN scores s ON s.model_id = ? AND s.pair_id = c.pair_id
         WHERE c.action = 'verdict'`,
      )
      .all(model.id)
      .map((r): ProtocolExample => ({ p0: r.p0, verdict: verdictFromDb(r.verdict) }));
    if (examples.length === 0) {
      throw new StudioError('invalid_argument', `${file} has no scored pairs with verdicts`);
    }
    const tuned = pickscoreProtocol(examples, []);
    return {
      kind: 'tuned-on' as const,
      project: file,
      verdicts: examples.length,
      threshold: tuned.threshold,
      tuningAccuracy: tuned.tuningAccuracy.map((a) => (Number.isFinite(a) ? a : null)),
    };
  } finally {
    other.close();
  }
}

export function audit(
  project: ProjectStore,
  args: { filters: AuditFilters; tuneOn?: string; threshold?: number; resamples: number },
): AuditReport {
  const started = performance.now();
  const scores = new ScoreStore(project.db);
  const model = scores.activeModel() ?? null;
  const thresholdSource: AuditReport['thresholdSource'] =
    args.tuneOn !== undefined
      ? (() => {
          if (!model) throw new StudioError('invalid_argument', 'the project has no model yet');
          return tuneOnProject(args.tuneOn, model.fingerprint);
        })()
      : args.threshold !== undefined
        ? { kind: 'fixed', threshold: args.threshold }
        : { kind: 'tuned-here' };
  const fixed =
    thresholdSource.kind === 'fixed'
      ? thresholdSource.threshold
      : thresholdSource.kind === 'tuned-on'
        ? (thresholdSource.threshold ?? undefined)
        : undefined;

  const generatorPairs = project.db
    .prepare<
      [],
      [string | null, string | null]
    >('SELECT DISTINCT model_0, model_1 FROM pairs INDEXED BY pairs_by_generators')
    .raw()
    .all();
  const generators = [...new Set(generatorPairs.flat().filter((name) => name !== null))].sort();
  const rows = readVerdicts(project, model?.id ?? null, args.filters, generatorPairs);
  const dashboard = computeDashboard(rows.columns, {
    resamples: args.resamples,
    ...(fixed !== undefined ? { threshold: fixed } : {}),
  });
  const threshold = dashboard.pickscore.threshold;
  const names = project.db
    .prepare<[], { name: string }>('SELECT name FROM annotators ORDER BY name')
    .all()
    .map((r) => r.name);
  return {
    project: project.file,
    model: model?.name ?? null,
    filters: args.filters,
    thresholdSource,
    dashboard,
    confusion: confusionMatrix(rows, threshold),
    generators: generatorTable(rows, threshold),
    annotatorNames: names,
    generatorNames: generators,
    seconds: (performance.now() - started) / 1000,
  };
}

export function listDisagreements(
  project: ProjectStore,
  tieThreshold: number,
  args: { kind: DisagreementKind; includeAdjudicated: boolean; offset: number; limit: number },
): { total: number; items: Disagreement[] } {
  const model = new ScoreStore(project.db).activeModel();
  // Per pair in one ordered pass over the decisions: humans disagree when their verdicts are not
  // all the same; the model disagrees (isDisagreement) when it is sure, beyond the tie threshold,
  // of the side a human did not pick. Only the page's pairs leave SQLite.
  const wanted = {
    any: 'humans_disagree OR model_disagrees',
    humans: 'humans_disagree',
    model: 'model_disagrees',
  }[args.kind];
  const candidates = project.db
    .prepare<
      {
        model: number;
        threshold: number;
        includeAdjudicated: number;
        offset: number;
        limit: number;
      },
      {
        pairId: number;
        p0: number | null;
        humansDisagree: number;
        modelDisagrees: number;
        total: number;
      }
    >(
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
      model: model?.id ?? -1,
      threshold: tieThreshold,
      includeAdjudicated: args.includeAdjudicated ? 1 : 0,
      offset: args.offset,
      limit: args.limit,
    });
  // Surest model first (above): where it disagrees most confidently, a human (or the model) is
  // most likely wrong. Unscored pairs last, then in project order.
  const verdictsOf = project.db.prepare<[number], { annotator: string; verdict: DbVerdict }>(
    `SELECT an.name AS annotator, d.verdict FROM decisions d
     JOIN annotators an ON an.id = d.annotator_id
     WHERE d.pair_id = ? AND d.action = 'verdict' ORDER BY d.annotator_id`,
  );
  const pairOf = project.db.prepare<
    [number],
    {
      prompt: string;
      image0Uid: string;
      image1Uid: string;
      model0: string | null;
      model1: string | null;
    }
  >(
    `SELECT pr.text AS prompt, i0.uid AS image0Uid, i1.uid AS image1Uid,
       p.model_0 AS model0, p.model_1 AS model1
     FROM pairs p JOIN prompts pr ON pr.id = p.prompt_id
     JOIN images i0 ON i0.id = p.image_0_id JOIN images i1 ON i1.id = p.image_1_id
     WHERE p.id = ?`,
  );
  const adjudicationOf = project.db.prepare<
    [number],
    { verdict: DbVerdict; adjudicator: string; note: string; createdAt: number }
  >(
    `SELECT verdict, adjudicator, note, created_at AS createdAt FROM adjudications
     WHERE pair_id = ? ORDER BY id DESC LIMIT 1`,
  );
  const items = candidates.map(({ total: _, ...c }): Disagreement => {
    const adjudication = adjudicationOf.get(c.pairId);
    return {
      ...pairOf.get(c.pairId)!,
      pairId: c.pairId,
      verdicts: verdictsOf
        .all(c.pairId)
        .map((v) => ({ annotator: v.annotator, verdict: verdictFromDb(v.verdict) })),
      p0: c.p0,
      confidence: c.p0 === null ? null : Math.abs(2 * c.p0 - 1),
      humansDisagree: c.humansDisagree === 1,
      modelDisagrees: c.modelDisagrees === 1,
      prediction: c.p0 === null ? null : predictVerdict(c.p0, tieThreshold),
      adjudication: adjudication
        ? { ...adjudication, verdict: verdictFromDb(adjudication.verdict) }
        : null,
    };
  });
  const total =
    candidates[0]?.total ??
    (args.offset > 0
      ? listDisagreements(project, tieThreshold, { ...args, offset: 0, limit: 1 }).total
      : 0);
  return { total, items };
}
