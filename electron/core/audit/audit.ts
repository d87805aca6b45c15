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
  ReviewFilters,
} from '../../../shared/audit';
import { StudioError } from '../../../shared/errors';
import {
  computeDashboard,
  IMAGE_0,
  IMAGE_1,
  LEFT_UNKNOWN,
  pairScore,
  pickscoreProtocol,
  predictions,
  predictVerdict,
  TIE,
  type CohenTable,
  type DashboardColumns,
  type DashboardOptions,
  type DashboardResult,
  type ProtocolExample,
} from '../metrics';
import { tuningExamples } from '../store/audit-reads';
import { unpackVerdictSide } from '../store/decision-packing';
import type { ProjectStore } from '../store/project-store';
import { qualityReport } from './quality';
import {
  readPairFacts,
  readVerdictTable,
  type KeptVerdicts,
  type PairFacts,
  type VerdictTable,
} from './verdict-table';

export interface VerdictRows {
  columns: DashboardColumns;
  /** Per dense pair index: the pair's generators, as an index into `generatorPairs`. */
  generators: Int32Array;
  generatorPairs: [string | null, string | null][];
  /** Per dense pair index: the pair's id. */
  pairIds: Int32Array;
}

/** Per verdict_side code (0..15): the metrics' verdict category and shown side, looked up once. */
const SIDE_CODES = Array.from({ length: 16 }, (_, code) => {
  try {
    const { category, leftImage } = unpackVerdictSide(code);
    return { category, left: leftImage ?? LEFT_UNKNOWN };
  } catch {
    return null;
  }
});
const CATEGORY_OF_CODE = Uint8Array.from(SIDE_CODES, (c) => c?.category ?? 0);
const LEFT_OF_CODE = Uint8Array.from(SIDE_CODES, (c) => c?.left ?? LEFT_UNKNOWN);

/**
 * The verdicts of `table` on pairs that pass the per-pair filters (generator, model confidence),
 * as the metrics' typed columns, with each kept pair's generators and id.
 */
function columnsOf(
  table: VerdictTable,
  facts: PairFacts,
  filters: AuditFilters,
  annotatorNames: Map<number, string>,
): VerdictRows {
  const { generator, minConfidence } = filters;
  const passes = (p0: number, g: number): boolean => {
    if (generator !== undefined) {
      const [m0, m1] = facts.generatorPairs[g]!;
      if (m0 !== generator && m1 !== generator) return false;
    }
    return (
      minConfidence === undefined || (!Number.isNaN(p0) && Math.abs(p0 - 0.5) >= minConfidence)
    );
  };
  const everyPair = generator === undefined && minConfidence === undefined;
  const annotators = indexAnnotators(table.annotatorId, annotatorNames);
  const n = table.pairId.length;
  const pairIndex = new Int32Array(n);
  const annotator = new Int32Array(n);
  const verdict = new Uint8Array(n);
  const leftImage = new Uint8Array(n);
  const durationMs = new Float64Array(n);
  const p0 = new Float64Array(n);
  const generators = new Int32Array(n);
  const pairIds = new Int32Array(n);
  let kept = 0;
  let pairs = 0;
  let lastPair = -1;
  let lastPairPasses = false;
  for (let i = 0; i < n; i++) {
    const pairId = table.pairId[i]!;
    if (pairId !== lastPair) {
      lastPair = pairId;
      const score = facts.p0[pairId]!;
      const g = facts.generators[pairId]!;
      lastPairPasses = everyPair || passes(score, g);
      if (lastPairPasses) {
        p0[pairs] = score;
        generators[pairs] = g;
        pairIds[pairs] = pairId;
        pairs++;
      }
    }
    if (!lastPairPasses) continue;
    const side = table.verdictSide[i]!;
    pairIndex[kept] = pairs - 1;
    annotator[kept] = annotators.indexById[table.annotatorId[i]!]!;
    verdict[kept] = CATEGORY_OF_CODE[side]!;
    leftImage[kept] = LEFT_OF_CODE[side]!;
    durationMs[kept] = table.time[i]!;
    kept++;
  }
  const columns: DashboardColumns = {
    annotators: annotators.names,
    pairIndex: pairIndex.subarray(0, kept),
    annotator: annotator.subarray(0, kept),
    verdict: verdict.subarray(0, kept),
    leftImage: leftImage.subarray(0, kept),
    durationMs: durationMs.subarray(0, kept),
    p0: p0.subarray(0, pairs),
  };
  return {
    columns,
    generators: generators.subarray(0, pairs),
    generatorPairs: facts.generatorPairs,
    pairIds: pairIds.subarray(0, pairs),
  };
}

/**
 * The annotators with a verdict in the table, sorted by name, and each annotator id's index
 * among them (-1 for the others).
 */
function indexAnnotators(
  annotatorIds: Int32Array,
  annotatorNames: Map<number, string>,
): { names: string[]; indexById: Int32Array } {
  // A loop, not Math.max(...ids): spread over a Map of 200,000 annotators overflows the stack.
  let span = 1;
  for (const id of annotatorNames.keys()) span = Math.max(span, id + 1);
  const present = new Uint8Array(span);
  for (const id of annotatorIds) present[id] = 1;
  const names = [...annotatorNames]
    .filter(([id]) => present[id])
    .map(([, name]) => name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const indexOfName = new Map(names.map((name, i) => [name, i]));
  const indexById = new Int32Array(span);
  for (const [id, name] of annotatorNames) indexById[id] = indexOfName.get(name) ?? -1;
  return { names, indexById };
}

/**
 * Per dense pair of `rows`: its verdicts of each category (image 0, tie, image 1), and the
 * model's predicted category at the threshold (-1 where unscored or without a threshold).
 */
interface PairVerdicts {
  image0: Int32Array;
  ties: Int32Array;
  image1: Int32Array;
  predicted: Int8Array;
}

function verdictsByPair(rows: VerdictRows, threshold: number | null): PairVerdicts {
  const { columns } = rows;
  const pairs = columns.p0.length;
  const counts = {
    image0: new Int32Array(pairs),
    ties: new Int32Array(pairs),
    image1: new Int32Array(pairs),
    predicted: predictions(columns.p0, threshold),
  };
  for (let i = 0; i < columns.pairIndex.length; i++) {
    const v = columns.verdict[i]!;
    const into = v === IMAGE_0 ? counts.image0 : v === TIE ? counts.ties : counts.image1;
    into[columns.pairIndex[i]!]! += 1;
  }
  return counts;
}

function confusionMatrix(verdicts: PairVerdicts, threshold: number | null): ConfusionMatrix {
  const counts: [number, number, number][] = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  for (let pair = 0; pair < verdicts.predicted.length; pair++) {
    const column = verdicts.predicted[pair]!;
    if (column < 0) continue;
    counts[IMAGE_0]![column]! += verdicts.image0[pair]!;
    counts[TIE]![column]! += verdicts.ties[pair]!;
    counts[IMAGE_1]![column]! += verdicts.image1[pair]!;
  }
  return { threshold, counts };
}

type GeneratorTally = GeneratorRow & {
  probabilitySum: number;
  scored: number;
  protocolSum: number;
  judged: number;
};

/**
 * Per generator: its pairs, how humans judged its images, and how the model did on them. Counted
 * a pair at a time for each pair of generators (a few hundred), then added up per generator:
 * verdict by verdict and generator by generator, it took a third of the report.
 */
function generatorTable(rows: VerdictRows, verdicts: PairVerdicts): GeneratorRow[] {
  const byPair = countByGeneratorPair(rows, verdicts);
  const table = new Map<string, GeneratorTally>();
  const row = (generator: string): GeneratorTally => {
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
  rows.generatorPairs.forEach(([m0, m1], g) => {
    if (byPair.pairs[g] === 0) return;
    const sides = m0 === m1 ? [m0] : [m0, m1];
    sides.forEach((generator, side) => {
      if (generator === null) return;
      const r = row(generator);
      r.pairs += byPair.pairs[g]!;
      // A pair of one generator's two images is one of its pairs, not two, with even odds; it
      // says nothing about that generator against others, and is one verdict on its images.
      if (m0 === m1) {
        r.probabilitySum += 0.5 * byPair.pairs[g]!;
        r.scored += byPair.pairs[g]!;
      } else {
        r.probabilitySum += side === 0 ? byPair.p0Sum[g]! : byPair.p1Sum[g]!;
        r.scored += byPair.scored[g]!;
        r.ties += byPair.ties[g]!;
        r.wins += side === 0 ? byPair.image0[g]! : byPair.image1[g]!;
        r.losses += side === 0 ? byPair.image1[g]! : byPair.image0[g]!;
      }
      r.protocolSum += byPair.protocolSum[g]!;
      r.judged += byPair.judged[g]!;
    });
  });
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
 * Per pair of generators (index into generatorPairs): its pairs, the model's probability of each
 * side summed over the scored ones, the verdicts by category, and the protocol scores of the
 * verdicts on scored pairs.
 */
function countByGeneratorPair(rows: VerdictRows, verdicts: PairVerdicts) {
  const G = rows.generatorPairs.length;
  const byPair = {
    pairs: new Int32Array(G),
    scored: new Int32Array(G),
    p0Sum: new Float64Array(G),
    p1Sum: new Float64Array(G),
    image0: new Int32Array(G),
    ties: new Int32Array(G),
    image1: new Int32Array(G),
    protocolSum: new Float64Array(G),
    judged: new Int32Array(G),
  };
  const { p0 } = rows.columns;
  for (let pair = 0; pair < p0.length; pair++) {
    const g = rows.generators[pair]!;
    const n0 = verdicts.image0[pair]!;
    const nTie = verdicts.ties[pair]!;
    const n1 = verdicts.image1[pair]!;
    byPair.pairs[g]! += 1;
    byPair.image0[g]! += n0;
    byPair.ties[g]! += nTie;
    byPair.image1[g]! += n1;
    if (!Number.isNaN(p0[pair]!)) {
      byPair.scored[g]! += 1;
      byPair.p0Sum[g]! += p0[pair]!;
      byPair.p1Sum[g]! += 1 - p0[pair]!;
    }
    const predicted = verdicts.predicted[pair]!;
    if (predicted < 0) continue;
    byPair.protocolSum[g]! += pairScore(predicted, n0, nTie, n1);
    byPair.judged[g]! += n0 + nTie + n1;
  }
  return byPair;
}

/**
 * The threshold PickScore's protocol picks on another project's verdicts (its validation split),
 * scored by the same model (same fingerprint).
 */
function tuneOnProject(file: string, fingerprint: string) {
  const examples: ProtocolExample[] = tuningExamples(file, fingerprint);
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
}

export type AuditArgs = {
  filters: AuditFilters;
  annotator?: string;
  tuneOn?: string;
  threshold?: number;
  resamples: number;
};

/** What a report is computed from: read once, on the thread that holds the project. */
export interface AuditInputs {
  started: number;
  model: { id: number; name: string } | null;
  thresholdSource: AuditReport['thresholdSource'];
  rows: VerdictRows;
  generators: string[];
  /** What computeDashboard is asked for (structured-cloneable: a worker may run it). */
  dashboard: DashboardOptions;
}

/**
 * The verdicts and pair facts the filters need: the whole project's from `kept` where no filter
 * narrows the verdicts in SQL (the generator and confidence filters apply per pair, in memory).
 */
function readTable(
  project: ProjectStore,
  filters: AuditFilters,
  modelId: number | null,
  kept: KeptVerdicts | undefined,
): { table: VerdictTable; facts: PairFacts } {
  const { annotators, from, to } = filters;
  if (kept && annotators === undefined && from === undefined && to === undefined) {
    return kept.read(project);
  }
  return { table: readVerdictTable(project, filters), facts: readPairFacts(project, modelId) };
}

export function readAuditInputs(
  project: ProjectStore,
  args: AuditArgs,
  kept?: KeptVerdicts,
): AuditInputs {
  const started = performance.now();
  const model = project.scores.activeModel() ?? null;
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

  const { table, facts } = readTable(project, args.filters, model?.id ?? null, kept);
  // Read after the verdicts: every annotator they name is among them (annotators only come).
  const annotatorNames = project.audit.annotatorNames();
  const generators = [
    ...new Set(facts.generatorPairs.flat().filter((name) => name !== null)),
  ].sort();
  return {
    started,
    model: model ? { id: model.id, name: model.name } : null,
    thresholdSource,
    rows: columnsOf(table, facts, args.filters, annotatorNames),
    generators,
    dashboard: {
      resamples: args.resamples,
      ...(fixed !== undefined ? { threshold: fixed } : {}),
      ...(args.annotator !== undefined ? { cohenAnnotator: args.annotator } : {}),
    },
  };
}

/** The dashboard of `inputs`, and under a focus on one annotator everyone's Cohen rows. */
export interface ComputedDashboard {
  dashboard: DashboardResult;
  everyonesCohen: CohenTable | null;
}

/** computeDashboard over the inputs (`options`: theirs, or theirs changed). */
export function computeFor(
  inputs: AuditInputs,
  options: DashboardOptions = inputs.dashboard,
): ComputedDashboard {
  let everyonesCohen: CohenTable | null = null;
  const dashboard = computeDashboard(inputs.rows.columns, {
    ...options,
    everyonesCohen: (rows) => (everyonesCohen = rows),
  });
  return { dashboard, everyonesCohen };
}

/** The report around a dashboard computed from `inputs` (here or in a worker). */
export function auditReport(
  project: ProjectStore,
  args: AuditArgs,
  inputs: AuditInputs,
  { dashboard, everyonesCohen }: ComputedDashboard,
): AuditReport {
  const { rows, thresholdSource } = inputs;
  tuningFiguresFrom(thresholdSource, dashboard.pickscore);
  // Outlier flags compare each annotator with the others: under a focus, with everyone's rows.
  const quality = qualityReport(
    rows.columns,
    rows.pairIds,
    project.gold.list(),
    { annotators: dashboard.annotators, cohen: everyonesCohen ?? dashboard.agreement.cohen },
    args.annotator,
  );
  if (args.annotator !== undefined) focusOn(dashboard, args.annotator);
  const threshold = dashboard.pickscore.threshold;
  const verdicts = verdictsByPair(rows, threshold);
  return {
    project: project.file,
    model: inputs.model?.name ?? null,
    filters: args.filters,
    thresholdSource,
    dashboard,
    confusion: confusionMatrix(verdicts, threshold),
    generators: generatorTable(rows, verdicts),
    annotatorNames: project.audit.annotatorNamesInOrder(),
    generatorNames: inputs.generators,
    quality,
    seconds: (performance.now() - inputs.started) / 1000,
  };
}

/** The whole report on this thread, bootstrap included. */
export function audit(project: ProjectStore, args: AuditArgs): AuditReport {
  const inputs = readAuditInputs(project, args);
  return auditReport(project, args, inputs, computeFor(inputs));
}

/**
 * The dashboard sweeps its own verdicts as if they were the tuning split; when the threshold came
 * from elsewhere, the tuning figures are that source's: the other project's sweep, or none for a
 * fixed threshold.
 */
function tuningFiguresFrom(
  source: AuditReport['thresholdSource'],
  pickscore: AuditReport['dashboard']['pickscore'],
): void {
  if (source.kind === 'tuned-on') {
    pickscore.tuningAccuracy = source.tuningAccuracy;
    pickscore.tuningVerdicts = source.verdicts;
  } else if (source.kind === 'fixed') {
    pickscore.tuningAccuracy = pickscore.thresholds.map(() => null);
    pickscore.tuningVerdicts = 0;
  }
}

/**
 * Keeps one annotator's rows in the per-annotator table (the dashboard kept only theirs in the
 * Cohen table); the figures stay everyone's.
 */
function focusOn(dashboard: AuditReport['dashboard'], annotator: string): void {
  dashboard.annotators = dashboard.annotators.filter((a) => a.annotator === annotator);
}

export function listDisagreements(
  project: ProjectStore,
  tieThreshold: number,
  args: ReviewFilters & {
    kind: DisagreementKind;
    includeAdjudicated: boolean;
    offset: number;
    limit: number;
  },
): { total: number; cellVerdicts?: number; items: Disagreement[] } {
  const candidates = project.audit.disagreementCandidates({
    ...args,
    modelId: project.scores.activeModel()?.id ?? null,
    tieThreshold,
  });
  const items = candidates.map(
    (c): Disagreement => ({
      ...project.pairs.description(c.pairId)!,
      pairId: c.pairId,
      verdicts: project.audit.verdictsOn(c.pairId),
      p0: c.p0,
      confidence: c.p0 === null ? null : Math.abs(2 * c.p0 - 1),
      humansDisagree: c.humansDisagree === 1,
      modelDisagrees: c.modelDisagrees === 1,
      prediction: c.p0 === null ? null : predictVerdict(c.p0, tieThreshold),
      adjudication: project.audit.latestAdjudication(c.pairId),
      flags: project.audit.flagsOn(c.pairId),
      gold: project.audit.goldOf(c.pairId),
    }),
  );
  const first =
    candidates[0] ??
    (args.offset > 0
      ? listDisagreements(project, tieThreshold, { ...args, offset: 0, limit: 1 })
      : { total: 0, cellVerdicts: 0 });
  const total = first.total;
  // A confusion cell counts verdicts: the number it shows is this, not the pairs.
  return args.cell?.kind === 'confusion'
    ? { total, cellVerdicts: first.cellVerdicts ?? 0, items }
    : { total, items };
}
