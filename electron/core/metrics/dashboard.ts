/**
 * The agreement dashboard: every statistic of this folder from one flat list of verdicts, with
 * bootstrap intervals, fast enough for 100,000 pairs x 3 verdicts in well under a second.
 *
 * Shape of the input: one entry per current verdict (pairIndex, annotator, verdict, leftImage,
 * durationMs) and PickScore's p0 per pair (null = unscored); pairs are 0..p0.length-1. An
 * annotator has at most one verdict per pair (the store's current_annotations view guarantees
 * it); should the input hold more, the last one in input order counts and the others are
 * counted in `duplicatesDropped`. Skips are no verdicts and must not be passed. leftImage and
 * durationMs may be null (imported dataset labels have neither); such verdicts count everywhere
 * except in the left-position rate and the median time.
 *
 * How it stays fast: the input is turned into typed columns and grouped by pair once (a
 * counting sort). The between-human statistics and the PickScore accuracy depend on a pair only
 * through its verdict counts (n image 0, n tie, n image 1) and the model's prediction for it, so
 * pairs reduce to a few dozen distinct "types", each with its number of pairs. Resampling n pairs
 * with replacement gives the types Multinomial(n; type frequencies) totals (sampling.ts), drawn
 * in O(types); every statistic is then recomputed from the type totals. Each annotator pair's
 * Cohen's kappa depends on a pair only through its cell of that pair's confusion matrix (or
 * "not judged by both"), so its resample is a 10-cell multinomial. A resample thus costs
 * O(types + 10 x annotator pairs) instead of O(pairs), with the same distribution as drawing n
 * pairs one by one. The agreement statistics and the PickScore accuracy share each resample;
 * each annotator pair's kappa has its own draws of the same distribution (every interval is
 * marginal, so this changes none of them).
 *
 * The bootstrap resamples pairs (items) with replacement; the PickScore threshold, the Fleiss
 * rater count and the set of annotator pairs are fixed at their full-sample values.
 */
import type { Verdict } from '../../../shared/labels';
import {
  cohenKappaFromMatrix,
  fleissKappa,
  gwetAC1,
  krippendorffAlpha,
  modalRatingCount,
  percentAgreement,
  type CountTable,
} from './agreement';
import {
  DEFAULT_LEVEL,
  DEFAULT_RESAMPLES,
  DEFAULT_SEED,
  medianInPlace,
  percentileInterval,
} from './bootstrap';
import type {
  AnnotatorResult,
  CohenTable,
  DashboardResult,
  Estimate,
  EstimateColumns,
} from '../../../shared/audit';
import { calibrationFromCounts, DEFAULT_CALIBRATION_BINS } from './calibration';
import * as categories from './categories';
import { firstArgmax, PICKSCORE_THRESHOLDS, randomBaselineFromCounts } from './pickscore-protocol';
import { Prng } from './prng';
import { multinomial } from './sampling';

// Local copies: module bindings may compile to getters (tsx, vitest), too slow for hot loops.
const IMAGE_0 = categories.IMAGE_0;
const TIE = categories.TIE;
const IMAGE_1 = categories.IMAGE_1;
const K = categories.VERDICT_CATEGORIES;
const verdictCategory = categories.verdictCategory;

// ---------------------------------------------------------------------------------------------
// Input

export interface DashboardAnnotation {
  pairIndex: number;
  annotator: string;
  /** 0: image 0 better, 1: image 1 better, 'tie'. */
  verdict: Verdict;
  /** The image (0 or 1) shown on the left when the verdict was given; null when unknown. */
  leftImage: 0 | 1 | null;
  /** Time to decide, in ms; null when unknown. */
  durationMs: number | null;
}

export interface DashboardInput {
  annotations: readonly DashboardAnnotation[];
  /** PickScore's p0 = P(image 0 better) per pair, by pair index; null for an unscored pair. */
  p0: ArrayLike<number | null>;
}

/**
 * The same input as typed columns, one entry per verdict (the fast path: fill these straight
 * from a SQLite cursor and no object per verdict is made).
 */
export interface DashboardColumns {
  /** Annotator names; `annotator` holds indices into this list. */
  annotators: readonly string[];
  pairIndex: Int32Array;
  annotator: Int32Array;
  /** Verdict categories: IMAGE_0 (0), TIE (1), IMAGE_1 (2); see categories.ts. */
  verdict: Uint8Array;
  /** 0, 1, or LEFT_UNKNOWN (255). */
  leftImage: Uint8Array;
  /** NaN where unknown. */
  durationMs: Float64Array;
  /** p0 per pair, NaN where unscored; its length is the number of pairs. */
  p0: Float64Array;
}

/** `DashboardColumns.leftImage` where the side shown on the left is unknown (imported labels). */
export const LEFT_UNKNOWN = 255;

/**
 * Typed columns from the object form. Annotators are numbered in sorted order of their names
 * (UTF-16 code units), so results list them in that order whatever the input order.
 */
export function toColumns(input: DashboardInput): DashboardColumns {
  const n = input.annotations.length;
  const distinct = new Set<string>();
  for (let i = 0; i < n; i++) distinct.add(input.annotations[i]!.annotator);
  const names = [...distinct].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  const ids = new Map(names.map((name, id) => [name, id]));
  const pairIndex = new Int32Array(n);
  const annotator = new Int32Array(n);
  const verdict = new Uint8Array(n);
  const leftImage = new Uint8Array(n);
  const durationMs = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = input.annotations[i]!;
    if (!Number.isInteger(a.pairIndex)) {
      throw new RangeError(`annotation ${i}: pairIndex ${a.pairIndex} is not an integer`);
    }
    if (a.leftImage !== 0 && a.leftImage !== 1 && a.leftImage !== null) {
      throw new RangeError(`annotation ${i}: leftImage ${String(a.leftImage)} is not 0, 1 or null`);
    }
    pairIndex[i] = a.pairIndex;
    annotator[i] = ids.get(a.annotator)!;
    verdict[i] = verdictCategory(a.verdict);
    leftImage[i] = a.leftImage ?? LEFT_UNKNOWN;
    durationMs[i] = a.durationMs ?? NaN;
  }
  const p0 = new Float64Array(input.p0.length);
  for (let i = 0; i < p0.length; i++) p0[i] = input.p0[i] ?? NaN;
  return { annotators: names, pairIndex, annotator, verdict, leftImage, durationMs, p0 };
}

// ---------------------------------------------------------------------------------------------
// Options and result

export type DashboardPart =
  | 'columns'
  | 'prepare'
  | 'agreement'
  | 'pickscore'
  | 'annotators'
  | 'calibration'
  | 'bootstrap';

export interface DashboardOptions {
  /** Bootstrap resamples (default 200; 0: no intervals). */
  resamples?: number;
  /** Coverage of the percentile intervals (default 0.95). */
  level?: number;
  /** Bootstrap PRNG seed (default 1). */
  seed?: number;
  /** Candidate tie thresholds (default PickScore's 0, 0.1, ..., 1). */
  thresholds?: readonly number[];
  /** A fixed tie threshold (e.g. the project's setting): no tuning. */
  threshold?: number;
  /**
   * Per pair: truthy = tuning pair, falsy = evaluation pair. Absent: every pair is in both (the
   * threshold is tuned and reported on the same verdicts).
   */
  tuningMask?: ArrayLike<number | boolean>;
  /** Calibration bins (default 10). */
  calibrationBins?: number;
  /** Annotator pairs with fewer common pairs get no Cohen's kappa row (default 10). */
  minCommonPairs?: number;
  /** Only the annotator pairs with this annotator get a Cohen row (or count as left out). */
  cohenAnnotator?: string;
  /**
   * With `cohenAnnotator`: called with the Cohen rows of every annotator pair, point estimates
   * only, which the focus leaves out of the result (an audit's outlier flags compare everyone).
   * They come from the same counts, so a focus costs no second pass over the verdicts.
   */
  everyonesCohen?: (rows: CohenTable) => void;
  /**
   * Called as the bootstrap advances, with the resamples' worth of work done and the total (for
   * progress and cancelling), each count once; the last call is (total, total).
   */
  onResample?: (done: number, total: number) => void;
  /** Called with each part's wall time, in ms (for benchmarks). */
  onTiming?: (part: DashboardPart, ms: number) => void;
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

// ---------------------------------------------------------------------------------------------
// Preparation: validation, grouping by pair, verdict counts

interface Prepared {
  pairs: number;
  /** Kept verdict indices grouped by pair: members[start[p] .. start[p + 1]). */
  start: Int32Array;
  members: Int32Array;
  count0: Int32Array;
  countTie: Int32Array;
  count1: Int32Array;
  /** Kept verdicts per annotator. */
  verdictsOf: Int32Array;
  duplicatesDropped: number;
}

/**
 * Checks every column, and counts each pair's verdicts (perPair[p + 1]); and whether they come in
 * pair order, as read from a project: then they are grouped by pair already.
 */
function validate(c: DashboardColumns): { perPair: Int32Array; inPairOrder: boolean } {
  const n = c.pairIndex.length;
  const pairs = c.p0.length;
  const annotators = c.annotators.length;
  for (const [name, column] of [
    ['annotator', c.annotator],
    ['verdict', c.verdict],
    ['leftImage', c.leftImage],
    ['durationMs', c.durationMs],
  ] as const) {
    if (column.length !== n) {
      throw new RangeError(`column ${name} has ${column.length} entries, pairIndex has ${n}`);
    }
  }
  for (let p = 0; p < pairs; p++) {
    const p0 = c.p0[p]!;
    if (p0 < 0 || p0 > 1) throw new RangeError(`pair ${p}: p0 ${p0} is not a probability`);
  }
  const perPair = new Int32Array(pairs + 1);
  let inPairOrder = true;
  for (let i = 0; i < n; i++) {
    const p = c.pairIndex[i]!;
    if (i > 0 && p < c.pairIndex[i - 1]!) inPairOrder = false;
    if (p < 0 || p >= pairs) {
      throw new RangeError(`verdict ${i}: pairIndex ${p} is outside 0..${pairs - 1} (p0 length)`);
    }
    const a = c.annotator[i]!;
    if (a < 0 || a >= annotators) throw new RangeError(`verdict ${i}: unknown annotator ${a}`);
    if (c.verdict[i]! > IMAGE_1) throw new RangeError(`verdict ${i}: category ${c.verdict[i]}`);
    const left = c.leftImage[i]!;
    if (left > 1 && left !== LEFT_UNKNOWN) throw new RangeError(`verdict ${i}: leftImage ${left}`);
    perPair[p + 1]! += 1;
  }
  return { perPair, inPairOrder };
}

function prepare(c: DashboardColumns): Prepared {
  const n = c.pairIndex.length;
  const pairs = c.p0.length;
  const { perPair, inPairOrder } = validate(c);
  for (let p = 0; p < pairs; p++) perPair[p + 1]! += perPair[p]!;
  // Stable counting sort by pair: within a pair, input order.
  let grouped: Int32Array | null = null;
  if (!inPairOrder) {
    grouped = new Int32Array(n);
    const fill = perPair.slice(0, pairs);
    for (let i = 0; i < n; i++) grouped[fill[c.pairIndex[i]!]!++] = i;
  }

  const start = new Int32Array(pairs + 1);
  const members = new Int32Array(n);
  const count0 = new Int32Array(pairs);
  const countTie = new Int32Array(pairs);
  const count1 = new Int32Array(pairs);
  const verdictsOf = new Int32Array(c.annotators.length);
  let kept = 0;
  for (let p = 0; p < pairs; p++) {
    start[p] = kept;
    const end = perPair[p + 1]!;
    for (let g = perPair[p]!; g < end; g++) {
      const i = grouped === null ? g : grouped[g]!;
      const a = c.annotator[i]!;
      // A later verdict by the same annotator on this pair replaces this one.
      let replaced = false;
      for (let h = g + 1; h < end; h++) {
        if (c.annotator[grouped === null ? h : grouped[h]!] === a) {
          replaced = true;
          break;
        }
      }
      if (replaced) continue;
      members[kept++] = i;
      verdictsOf[a]! += 1;
      const v = c.verdict[i]!;
      if (v === IMAGE_0) count0[p]! += 1;
      else if (v === TIE) countTie[p]! += 1;
      else count1[p]! += 1;
    }
  }
  start[pairs] = kept;
  return {
    pairs,
    start,
    members: members.subarray(0, kept),
    count0,
    countTie,
    count1,
    verdictsOf,
    duplicatesDropped: n - kept,
  };
}

/** Judged pairs (at least one verdict) and their verdict-count types. */
interface Items {
  /** Pair index of each item. */
  pair: Int32Array;
  /** Count-vector type of each item. */
  type: Int32Array;
  /** Types x K verdict counts. */
  typeCounts: Float64Array;
  /** Items per type. */
  typeWeights: Float64Array;
}

function countTypes(prep: Prepared): Items {
  const { pairs, start, count0, countTie, count1 } = prep;
  let itemCount = 0;
  let maxRatings = 0;
  for (let p = 0; p < pairs; p++) {
    const m = start[p + 1]! - start[p]!;
    if (m > 0) itemCount++;
    if (m > maxRatings) maxRatings = m;
  }
  const pair = new Int32Array(itemCount);
  const type = new Int32Array(itemCount);
  const base = maxRatings + 1;
  const dense = base * base * base <= 1 << 20 ? new Int32Array(base * base * base).fill(-1) : null;
  const sparse = new Map<number, number>();
  const counts: number[] = [];
  const weights: number[] = [];
  for (let p = 0, i = 0; p < pairs; p++) {
    if (start[p + 1] === start[p]) continue;
    const key = (count0[p]! * base + countTie[p]!) * base + count1[p]!;
    let t = dense ? dense[key]! : (sparse.get(key) ?? -1);
    if (t < 0) {
      t = weights.length;
      if (dense) dense[key] = t;
      else sparse.set(key, t);
      counts.push(count0[p]!, countTie[p]!, count1[p]!);
      weights.push(0);
    }
    weights[t]! += 1;
    pair[i] = p;
    type[i] = t;
    i++;
  }
  return {
    pair,
    type,
    typeCounts: Float64Array.from(counts),
    typeWeights: Float64Array.from(weights),
  };
}

// ---------------------------------------------------------------------------------------------
// Between humans

interface AgreementPoint {
  percent: number;
  percentPairs: number;
  noTies: number;
  noTiesPairs: number;
  fleiss: number;
  kNominal: number;
  kOrdinal: number;
  ac1: number;
}

function agreementOf(table: CountTable, fleissRaters: number): AgreementPoint {
  const percent = percentAgreement(table);
  const noTies = percentAgreement(table, TIE);
  return {
    percent: percent.value,
    percentPairs: percent.pairs,
    noTies: noTies.value,
    noTiesPairs: noTies.pairs,
    fleiss: fleissKappa(table, fleissRaters).value,
    kNominal: krippendorffAlpha(table, 'nominal').value,
    kOrdinal: krippendorffAlpha(table, 'ordinal').value,
    ac1: gwetAC1(table).value,
  };
}

/** A Cohen row's cells: K x K, then the judged pairs the two did not share. */
const COHEN_CELLS = K * K + 1;

interface CohenRow {
  a: number;
  b: number;
  common: number;
  /** K*K confusion cells (row: annotator a), then the judged pairs the two did not share. */
  cells: Float64Array;
}

/**
 * The confusion matrix of every annotator pair (a < b, by annotator index) with at least
 * `minCommon` shared pairs, in order of a then b; and how many that share fewer, but one at least,
 * were left out, in all and per annotator.
 */
function cohenRows(
  c: DashboardColumns,
  prep: Prepared,
  items: Items,
  minCommon: number,
): { rows: CohenRow[]; belowMinimum: number; belowMinimumOf: Uint32Array } {
  const A = c.annotators.length;
  const { members } = prep;
  // Two passes: count each annotator pair's shared pairs, then fill the confusion cells of those
  // with enough. With thousands of annotators (Pick-a-Pic's users) most of the millions of
  // annotator pairs share a pair or two, and cells for all of them would be most of the work.
  const dense = A * A <= 1 << 24;
  // The dense table's passes are loops of their own: through a callback, each visit was a call
  // (the call site saw both passes' callbacks) and the passes took twice as long.
  const commonOf = dense ? denseTable(prep, A) : null;
  if (commonOf) denseVisits(c, prep, items, A, commonOf, null);
  const commonMap = dense ? null : countSharedSparse(c, prep, items, A);
  const common = (key: number): number => (commonOf ? commonOf[key]! : (commonMap!.get(key) ?? 0));
  const keys: number[] = [];
  let belowMinimum = 0;
  const belowMinimumOf = new Uint32Array(A);
  const consider = (key: number, n: number): void => {
    if (n >= minCommon) {
      keys.push(key);
    } else {
      belowMinimum++;
      belowMinimumOf[Math.floor(key / A)]!++;
      belowMinimumOf[key % A]!++;
    }
  };
  if (commonOf) {
    // Most of the table's millions of entries are 0: tested here, not in a call each.
    for (let key = 0; key < commonOf.length; key++) {
      if (commonOf[key] !== 0) consider(key, commonOf[key]!);
    }
  } else {
    for (const [key, n] of commonMap!) consider(key, n);
    // In key order, a then b, as the dense table's scan gives them.
    keys.sort((x, y) => x - y);
  }
  // Views into one buffer: an ArrayBuffer of its own for each of hundreds of thousands of rows
  // kept the garbage collector busy for longer than the counting took.
  const allCells = new Float64Array(keys.length * COHEN_CELLS);
  const rows: CohenRow[] = keys.map((key, slot) => ({
    a: Math.floor(key / A),
    b: key % A,
    common: common(key),
    cells: allCells.subarray(slot * COHEN_CELLS, (slot + 1) * COHEN_CELLS),
  }));
  // With no row (annotators who share fewer pairs than a row needs, as Pick-a-Pic's users mostly
  // do), no pass fills any.
  if (commonOf && keys.length > 0) {
    // Each row's slot, looked up once per annotator pair of every pair: in the dense table, its
    // counts done with, as slot + 1 (0: no row); a Map lookup there took most of this pass.
    const slotOf =
      commonOf instanceof Uint32Array || keys.length < 0xffff ? commonOf : new Uint32Array(A * A);
    if (slotOf === commonOf) commonOf.fill(0);
    const inRows = new Uint8Array(A);
    keys.forEach((key, slot) => {
      slotOf[key] = slot + 1;
      inRows[Math.floor(key / A)] = inRows[key % A] = 1;
    });
    denseVisits(c, prep, items, A, slotOf, { cells: allCells, inRows });
  } else if (keys.length > 0) {
    const slots = new Map(keys.map((key, slot) => [key, slot]));
    eachAnnotatorPair(c, prep, items, A, (key, u, v) => {
      const slot = slots.get(key);
      if (slot === undefined) return;
      allCells[slot * COHEN_CELLS + c.verdict[members[u]!]! * K + c.verdict[members[v]!]!]! += 1;
    });
  }
  for (const row of rows) row.cells[K * K] = items.pair.length - row.common;
  return { rows, belowMinimum, belowMinimumOf };
}

/**
 * The Cohen rows the result shows: every annotator pair's, or under `cohenAnnotator` those with
 * that annotator (none when they have no verdict here), with the count of those left out.
 */
function shownCohenRows(
  c: DashboardColumns,
  prep: Prepared,
  items: Items,
  options: DashboardOptions,
): {
  all: CohenRow[];
  rows: CohenRow[];
  belowMinimum: { count: number; minimumShared: number };
} {
  const minimumShared = Math.max(1, options.minCommonPairs ?? 10);
  const all = cohenRows(c, prep, items, minimumShared);
  if (options.cohenAnnotator === undefined) {
    return {
      all: all.rows,
      rows: all.rows,
      belowMinimum: { count: all.belowMinimum, minimumShared },
    };
  }
  const only = c.annotators.indexOf(options.cohenAnnotator);
  return {
    all: all.rows,
    rows: all.rows.filter((row) => row.a === only || row.b === only),
    belowMinimum: { count: only < 0 ? 0 : all.belowMinimumOf[only]!, minimumShared },
  };
}

/**
 * The dense table of shared pairs by annotator pair, A x A. In 16 bits unless two annotators
 * have more verdicts than that (a shared count is at most the smaller one's): half the bytes,
 * which the counting pass reads and writes at random, so more of it stays in the cache (the
 * agreement part's median 260 -> 183 ms at 1M pairs and 2,000 annotators).
 */
function denseTable(prep: Prepared, A: number): Uint16Array | Uint32Array {
  let most = 0;
  let secondMost = 0;
  for (let a = 0; a < A; a++) {
    const n = prep.verdictsOf[a]!;
    if (n > most) [most, secondMost] = [n, most];
    else if (n > secondMost) secondMost = n;
  }
  return secondMost <= 0xffff ? new Uint16Array(A * A) : new Uint32Array(A * A);
}

/**
 * The dense table's two passes over every annotator pair of every judged pair, by key a x A + b
 * (a < b): without `fill`, counts each key's shared pairs into `table`; with it, adds each pair's
 * verdicts to the cells of the row whose slot + 1 `table` holds (0: no row), skipping the pairs
 * where fewer than two of the annotators have a row at all (`inRows`): with thousands of
 * annotators, a few share enough pairs for a row, and this pass looked up the keys of every
 * other pair for nothing (333 -> 230 ms of the dashboard at 1M pairs and 2,000 annotators).
 */
function denseVisits(
  c: DashboardColumns,
  prep: Prepared,
  items: Items,
  A: number,
  table: Uint16Array | Uint32Array,
  fill: { cells: Float64Array; inRows: Uint8Array } | null,
): void {
  const { start, members } = prep;
  const cells = fill?.cells ?? null;
  const inRows = fill?.inRows ?? null;
  for (let i = 0; i < items.pair.length; i++) {
    const p = items.pair[i]!;
    const end = start[p + 1]!;
    if (inRows !== null) {
      let rowed = 0;
      for (let u = start[p]!; u < end && rowed < 2; u++) {
        rowed += inRows[c.annotator[members[u]!]!]!;
      }
      if (rowed < 2) continue;
    }
    for (let u = start[p]!; u < end; u++) {
      const a = c.annotator[members[u]!]!;
      for (let v = u + 1; v < end; v++) {
        const b = c.annotator[members[v]!]!;
        const key = a < b ? a * A + b : b * A + a;
        if (cells === null) {
          table[key]! += 1;
          continue;
        }
        const slot = table[key]!;
        if (slot === 0) continue;
        const va = c.verdict[members[u]!]!;
        const vb = c.verdict[members[v]!]!;
        cells[(slot - 1) * COHEN_CELLS + (a < b ? va * K + vb : vb * K + va)]! += 1;
      }
    }
  }
}

/** Past the dense table's size: every annotator pair of every judged pair, by key a x A + b. */
function eachAnnotatorPair(
  c: DashboardColumns,
  prep: Prepared,
  items: Items,
  A: number,
  visit: (key: number, u: number, v: number) => void,
): void {
  const { start, members } = prep;
  for (let i = 0; i < items.pair.length; i++) {
    const p = items.pair[i]!;
    const end = start[p + 1]!;
    for (let u = start[p]!; u < end; u++) {
      for (let v = u + 1; v < end; v++) {
        const a = c.annotator[members[u]!]!;
        const b = c.annotator[members[v]!]!;
        if (a < b) visit(a * A + b, u, v);
        else visit(b * A + a, v, u);
      }
    }
  }
}

/** Each annotator pair's shared judged pairs, by key, past the dense table's size. */
function countSharedSparse(
  c: DashboardColumns,
  prep: Prepared,
  items: Items,
  A: number,
): Map<number, number> {
  const commonMap = new Map<number, number>();
  eachAnnotatorPair(c, prep, items, A, (key) => commonMap.set(key, (commonMap.get(key) ?? 0) + 1));
  return commonMap;
}

// ---------------------------------------------------------------------------------------------
// PickScore

interface Protocol {
  tuningAccuracy: number[];
  evaluationAccuracy: number[];
  threshold: number | null;
  tuned: boolean;
  tuningVerdicts: number;
  evaluationVerdicts: number;
  evaluationTies: number;
  scoredPairs: number;
}

/** The threshold sweep, from per-pair verdict counts (one protocol example per verdict). */
function protocolSweep(
  c: DashboardColumns,
  prep: Prepared,
  thresholds: readonly number[],
  mask: ArrayLike<number | boolean> | undefined,
  fixed: number | undefined,
): Protocol {
  const { pairs, count0, countTie, count1 } = prep;
  const T = thresholds.length;
  const tuneSum = new Float64Array(T);
  const evalSum = new Float64Array(T);
  let tuneN = 0;
  let evalN = 0;
  let evalTies = 0;
  let scoredPairs = 0;
  for (let p = 0; p < pairs; p++) {
    const p0 = c.p0[p]!;
    if (Number.isNaN(p0)) continue;
    scoredPairs++;
    const n0 = count0[p]!;
    const nt = countTie[p]!;
    const n1 = count1[p]!;
    const m = n0 + nt + n1;
    if (m === 0) continue;
    const tuning = mask === undefined || Boolean(mask[p]);
    const evaluation = mask === undefined || !mask[p];
    const p1 = 1 - p0;
    const gap = Math.abs(p1 - p0);
    const sideScore = p0 > p1 ? n0 + 0.5 * nt : n1 + 0.5 * nt;
    const tieScore = nt + 0.5 * (n0 + n1);
    for (let k = 0; k < T; k++) {
      const score = gap <= thresholds[k]! ? tieScore : sideScore;
      if (tuning) tuneSum[k]! += score;
      if (evaluation) evalSum[k]! += score;
    }
    if (tuning) tuneN += m;
    if (evaluation) {
      evalN += m;
      evalTies += nt;
    }
  }
  const tuningAccuracy = Array.from(tuneSum, (s) => s / tuneN);
  const best = firstArgmax(tuningAccuracy);
  return {
    tuningAccuracy,
    evaluationAccuracy: Array.from(evalSum, (s) => s / evalN),
    threshold: fixed ?? (best >= 0 ? thresholds[best]! : null),
    tuned: fixed === undefined,
    tuningVerdicts: tuneN,
    evaluationVerdicts: evalN,
    evaluationTies: evalTies,
    scoredPairs,
  };
}

/** Per pair: the predicted category at `threshold` (get_pred), or -1 when unscored. */
export function predictions(p0: Float64Array, threshold: number | null): Int8Array {
  const out = new Int8Array(p0.length).fill(-1);
  if (threshold === null) return out;
  for (let p = 0; p < p0.length; p++) {
    const x = p0[p]!;
    if (Number.isNaN(x)) continue;
    const p1 = 1 - x;
    out[p] = Math.abs(p1 - x) <= threshold ? TIE : x > p1 ? IMAGE_0 : IMAGE_1;
  }
  return out;
}

/** calc_score summed over a pair's verdicts against the prediction. */
export const pairScore = (predicted: number, n0: number, nt: number, n1: number): number =>
  predicted === TIE ? nt + 0.5 * (n0 + n1) : predicted === IMAGE_0 ? n0 + 0.5 * nt : n1 + 0.5 * nt;

/** Bootstrap types: (count-vector type, prediction on an evaluation pair or none). */
interface ResampleTypes {
  frequency: Float64Array;
  countType: Int32Array;
  score: Float64Array;
  scored: Float64Array;
}

function resampleTypes(
  prep: Prepared,
  items: Items,
  predicted: Int8Array,
  mask: ArrayLike<number | boolean> | undefined,
): ResampleTypes {
  const { count0, countTie, count1 } = prep;
  const index = new Int32Array(items.typeWeights.length * 4).fill(-1);
  const frequency: number[] = [];
  const countType: number[] = [];
  const score: number[] = [];
  const scored: number[] = [];
  for (let i = 0; i < items.pair.length; i++) {
    const p = items.pair[i]!;
    const cls = mask !== undefined && mask[p] ? -1 : predicted[p]!;
    const key = items.type[i]! * 4 + cls + 1;
    let r = index[key]!;
    if (r < 0) {
      r = frequency.length;
      index[key] = r;
      frequency.push(0);
      countType.push(items.type[i]!);
      const n0 = count0[p]!;
      const nt = countTie[p]!;
      const n1 = count1[p]!;
      score.push(cls < 0 ? 0 : pairScore(cls, n0, nt, n1));
      scored.push(cls < 0 ? 0 : n0 + nt + n1);
    }
    frequency[r]! += 1;
  }
  return {
    frequency: Float64Array.from(frequency),
    countType: Int32Array.from(countType),
    score: Float64Array.from(score),
    scored: Float64Array.from(scored),
  };
}

// ---------------------------------------------------------------------------------------------
// Per annotator

/** Per-annotator counts, indexed by annotator. */
interface AnnotatorTallies {
  verdicts: Int32Array;
  ties: Float64Array;
  nonTies: Float64Array;
  /** Non-tie verdicts choosing the image shown on the left, of `leftKnown` with a known side. */
  leftChosen: Float64Array;
  leftKnown: Float64Array;
  /** Verdicts equal to the other annotators' strict plurality, of `majorityPairs` that have one. */
  majorityAgree: Float64Array;
  majorityPairs: Float64Array;
  noMajority: Float64Array;
  /** Summed protocol scores against the model's prediction, over `psN` verdicts on scored pairs. */
  psSum: Float64Array;
  psN: Float64Array;
  /** Verdicts with a known decision time. */
  timed: Int32Array;
}

function tallyAnnotators(
  c: DashboardColumns,
  prep: Prepared,
  predicted: Int8Array,
): AnnotatorTallies {
  const A = c.annotators.length;
  const { pairs, start, members, count0, countTie, count1 } = prep;
  const ties = new Float64Array(A);
  const nonTies = new Float64Array(A);
  const leftChosen = new Float64Array(A);
  const leftKnown = new Float64Array(A);
  const majorityAgree = new Float64Array(A);
  const majorityPairs = new Float64Array(A);
  const noMajority = new Float64Array(A);
  const psSum = new Float64Array(A);
  const psN = new Float64Array(A);
  const timed = new Int32Array(A);
  for (let p = 0; p < pairs; p++) {
    const prediction = predicted[p]!;
    const end = start[p + 1]!;
    for (let u = start[p]!; u < end; u++) {
      const i = members[u]!;
      const a = c.annotator[i]!;
      const v = c.verdict[i]!;
      if (v === TIE) ties[a]! += 1;
      else {
        nonTies[a]! += 1;
        const left = c.leftImage[i]!;
        if (left !== LEFT_UNKNOWN) {
          leftKnown[a]! += 1;
          if ((v === IMAGE_0 ? 0 : 1) === left) leftChosen[a]! += 1;
        }
      }
      // The other annotators' verdicts on this pair.
      const o0 = count0[p]! - (v === IMAGE_0 ? 1 : 0);
      const ot = countTie[p]! - (v === TIE ? 1 : 0);
      const o1 = count1[p]! - (v === IMAGE_1 ? 1 : 0);
      if (o0 + ot + o1 > 0) {
        const top = Math.max(o0, ot, o1);
        const atTop = (o0 === top ? 1 : 0) + (ot === top ? 1 : 0) + (o1 === top ? 1 : 0);
        if (atTop > 1) noMajority[a]! += 1;
        else {
          majorityPairs[a]! += 1;
          const majority = o0 === top ? IMAGE_0 : ot === top ? TIE : IMAGE_1;
          if (majority === v) majorityAgree[a]! += 1;
        }
      }
      if (prediction >= 0) {
        psSum[a]! += v === prediction ? 1 : v === TIE || prediction === TIE ? 0.5 : 0;
        psN[a]! += 1;
      }
      if (!Number.isNaN(c.durationMs[i]!)) timed[a]! += 1;
    }
  }
  return {
    verdicts: prep.verdictsOf,
    ties,
    nonTies,
    leftChosen,
    leftKnown,
    majorityAgree,
    majorityPairs,
    noMajority,
    psSum,
    psN,
    timed,
  };
}

/**
 * The known decision times of the kept verdicts grouped by annotator (a counting sort, input
 * order within an annotator): annotator a's are durations[start[a] .. start[a + 1]).
 */
function durationsByAnnotator(
  c: DashboardColumns,
  members: Int32Array,
  timed: Int32Array,
): { durations: Float64Array; start: Int32Array } {
  const A = timed.length;
  const start = new Int32Array(A + 1);
  for (let a = 0; a < A; a++) start[a + 1] = start[a]! + timed[a]!;
  const durations = new Float64Array(start[A]!);
  const fill = start.slice(0, A);
  for (let u = 0; u < members.length; u++) {
    const i = members[u]!;
    const d = c.durationMs[i]!;
    if (!Number.isNaN(d)) durations[fill[c.annotator[i]!]!++] = d;
  }
  return { durations, start };
}

function annotatorStats(
  c: DashboardColumns,
  prep: Prepared,
  predicted: Int8Array,
): AnnotatorResult[] {
  const t = tallyAnnotators(c, prep, predicted);
  const { durations, start } = durationsByAnnotator(c, prep.members, t.timed);
  return c.annotators.map((name, a) => {
    const mine = durations.subarray(start[a]!, start[a + 1]!);
    return {
      annotator: name,
      verdicts: t.verdicts[a]!,
      ties: t.ties[a]!,
      tieRate: finite(t.ties[a]! / t.verdicts[a]!),
      majorityAgreement: finite(t.majorityAgree[a]! / t.majorityPairs[a]!),
      majorityPairs: t.majorityPairs[a]!,
      noMajorityPairs: t.noMajority[a]!,
      pickscoreAgreement: finite(t.psSum[a]! / t.psN[a]!),
      pickscoreVerdicts: t.psN[a]!,
      leftRate: finite(t.leftChosen[a]! / t.leftKnown[a]!),
      leftRateVerdicts: t.leftKnown[a]!,
      nonTieVerdicts: t.nonTies[a]!,
      medianDecisionMs: finite(medianInPlace(mine)),
      timedVerdicts: mine.length,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Bootstrap

interface Replicates {
  percent: Float64Array;
  noTies: Float64Array;
  fleiss: Float64Array;
  kNominal: Float64Array;
  kOrdinal: Float64Array;
  ac1: Float64Array;
  accuracy: Float64Array;
}

/**
 * Counts resampling work done towards onResample's `done of R`: the R resamples of the agreement
 * figures, then R per Cohen row, each reported once as it completes a whole resample's share.
 */
function resampleProgress(
  R: number,
  cohenRows: number,
  onResample: DashboardOptions['onResample'],
): (units: number) => void {
  const total = R * (1 + cohenRows);
  let done = 0;
  let reported = 0;
  return (units) => {
    done += units;
    const resamples = Math.floor((done / total) * R);
    if (onResample && resamples > reported) {
      reported = resamples;
      onResample(resamples, R);
    }
  };
}

function bootstrap(
  R: number,
  prng: Prng,
  items: Items,
  types: ResampleTypes,
  fleissRaters: number,
  advance: (units: number) => void,
): Replicates {
  const rep: Replicates = {
    percent: new Float64Array(R),
    noTies: new Float64Array(R),
    fleiss: new Float64Array(R),
    kNominal: new Float64Array(R),
    kOrdinal: new Float64Array(R),
    ac1: new Float64Array(R),
    accuracy: new Float64Array(R),
  };
  const n = items.pair.length;
  const drawn = new Float64Array(types.frequency.length);
  const weights = new Float64Array(items.typeWeights.length);
  const table: CountTable = { categories: K, counts: items.typeCounts, weights };
  for (let r = 0; r < R; r++) {
    multinomial(prng, n, types.frequency, drawn);
    weights.fill(0);
    let scoreSum = 0;
    let scoredN = 0;
    for (let g = 0; g < drawn.length; g++) {
      const k = drawn[g]!;
      weights[types.countType[g]!]! += k;
      scoreSum += k * types.score[g]!;
      scoredN += k * types.scored[g]!;
    }
    const stats = agreementOf(table, fleissRaters);
    rep.percent[r] = stats.percent;
    rep.noTies[r] = stats.noTies;
    rep.fleiss[r] = stats.fleiss;
    rep.kNominal[r] = stats.kNominal;
    rep.kOrdinal[r] = stats.kOrdinal;
    rep.ac1[r] = stats.ac1;
    rep.accuracy[r] = scoredN > 0 ? scoreSum / scoredN : NaN;
    advance(1);
  }
  return rep;
}

// ---------------------------------------------------------------------------------------------
// The entry point

/** A lap timer: each call reports the part's wall time since the previous call (or creation). */
function stopwatch(onTiming: DashboardOptions['onTiming']): (part: DashboardPart) => void {
  let mark = performance.now();
  return (part) => {
    if (!onTiming) return;
    const now = performance.now();
    onTiming(part, now - mark);
    mark = now;
  };
}

type Estimator = (value: number, replicates: Float64Array) => Estimate;

/** An estimate's point value, and its interval when there are resamples and the value is finite. */
function estimator(R: number, level: number): Estimator {
  return (value, replicates) => ({
    value: finite(value),
    interval: R > 0 && Number.isFinite(value) ? percentileInterval(replicates, level) : null,
  });
}

/** PickScore's accuracy at the chosen threshold over the full sample's evaluation verdicts. */
function accuracyOf(types: ResampleTypes): number {
  let accSum = 0;
  let accN = 0;
  for (let g = 0; g < types.frequency.length; g++) {
    accSum += types.frequency[g]! * types.score[g]!;
    accN += types.frequency[g]! * types.scored[g]!;
  }
  return accN > 0 ? accSum / accN : NaN;
}

/** A column of estimates, filled row by row. */
function estimateColumns(rows: number): EstimateColumns {
  return {
    value: new Array<number | null>(rows),
    lower: new Array<number | null>(rows),
    upper: new Array<number | null>(rows),
  };
}

function setEstimate(columns: EstimateColumns, i: number, estimate: Estimate): void {
  columns.value[i] = estimate.value;
  columns.lower[i] = estimate.interval?.lower ?? null;
  columns.upper[i] = estimate.interval?.upper ?? null;
}

/**
 * Each annotator pair's Cohen's kappas, with intervals from its own R resamples of its pairs,
 * drawn row after row: only one row's replicates are held. Held for every row at once, they were
 * 2 x R x rows doubles (Pick-a-Pic-sized: 200 x 112,094 rows, 360 MB), and as much again in
 * per-row copies.
 */
function cohenResults(
  c: DashboardColumns,
  cohen: CohenRow[],
  R: number,
  prng: Prng,
  pairs: number,
  estimate: Estimator,
  advance: (units: number) => void,
): CohenTable {
  const unweighted = new Float64Array(R);
  const linear = new Float64Array(R);
  const cells = new Float64Array(COHEN_CELLS);
  const table: CohenTable = {
    annotators: [...c.annotators],
    a: cohen.map((row) => row.a),
    b: cohen.map((row) => row.b),
    commonPairs: cohen.map((row) => row.common),
    unweighted: estimateColumns(cohen.length),
    linear: estimateColumns(cohen.length),
  };
  cohen.forEach((row, i) => {
    for (let r = 0; r < R; r++) {
      multinomial(prng, pairs, row.cells, cells);
      unweighted[r] = cohenKappaFromMatrix(cells, K, 'unweighted');
      linear[r] = cohenKappaFromMatrix(cells, K, 'linear');
    }
    advance(R);
    setEstimate(
      table.unweighted,
      i,
      estimate(cohenKappaFromMatrix(row.cells, K, 'unweighted'), unweighted),
    );
    setEstimate(table.linear, i, estimate(cohenKappaFromMatrix(row.cells, K, 'linear'), linear));
  });
  return table;
}

function agreementResult(
  point: AgreementPoint,
  rep: Replicates,
  fleiss: { pairs: number; raters: number },
  cohen: {
    rows: CohenTable;
    belowMinimum: DashboardResult['agreement']['cohenBelowMinimum'];
  },
  estimate: Estimator,
): DashboardResult['agreement'] {
  return {
    percent: { ...estimate(point.percent, rep.percent), verdictPairs: point.percentPairs },
    percentWithoutTies: {
      ...estimate(point.noTies, rep.noTies),
      verdictPairs: point.noTiesPairs,
    },
    fleissKappa: {
      ...estimate(point.fleiss, rep.fleiss),
      pairs: fleiss.pairs,
      ratersPerPair: fleiss.raters,
    },
    krippendorffNominal: estimate(point.kNominal, rep.kNominal),
    krippendorffOrdinal: estimate(point.kOrdinal, rep.kOrdinal),
    gwetAC1: estimate(point.ac1, rep.ac1),
    cohen: cohen.rows,
    cohenBelowMinimum: cohen.belowMinimum,
  };
}

function pickscoreResult(
  thresholds: number[],
  protocol: Protocol,
  accuracy: Estimate,
): DashboardResult['pickscore'] {
  const baseline = (t: number): number =>
    randomBaselineFromCounts(protocol.evaluationTies, protocol.evaluationVerdicts, t);
  return {
    thresholds,
    tuningAccuracy: protocol.tuningAccuracy.map(finite),
    evaluationAccuracy: protocol.evaluationAccuracy.map(finite),
    threshold: protocol.threshold,
    tuned: protocol.tuned,
    accuracy,
    randomBaseline: thresholds.map((t) => finite(baseline(t))),
    randomBaselineAtThreshold:
      protocol.threshold === null ? null : finite(baseline(protocol.threshold)),
    tuningVerdicts: protocol.tuningVerdicts,
    evaluationVerdicts: protocol.evaluationVerdicts,
  };
}

/** Every dashboard statistic from one flat input (objects or typed columns). */
export function computeDashboard(
  input: DashboardInput | DashboardColumns,
  options: DashboardOptions = {},
): DashboardResult {
  const lap = stopwatch(options.onTiming);
  const c = 'annotations' in input ? toColumns(input) : input;
  if ('annotations' in input) lap('columns');

  const level = options.level ?? DEFAULT_LEVEL;
  const seed = options.seed ?? DEFAULT_SEED;
  const thresholds = [...(options.thresholds ?? PICKSCORE_THRESHOLDS)];
  const mask = options.tuningMask;
  if (mask !== undefined && mask.length !== c.p0.length) {
    throw new RangeError(`tuningMask has ${mask.length} entries for ${c.p0.length} pairs`);
  }

  const prep = prepare(c);
  const items = countTypes(prep);
  lap('prepare');

  const table: CountTable = { categories: K, counts: items.typeCounts, weights: items.typeWeights };
  const fleissRaters = modalRatingCount(table);
  const fleissPairs = fleissKappa(table, fleissRaters).items;
  const point = agreementOf(table, fleissRaters);
  const { all: allCohen, rows: cohen, belowMinimum } = shownCohenRows(c, prep, items, options);
  lap('agreement');

  const protocol = protocolSweep(c, prep, thresholds, mask, options.threshold);
  const predicted = predictions(c.p0, protocol.threshold);
  const types = resampleTypes(prep, items, predicted, mask);
  const accuracy = accuracyOf(types);
  lap('pickscore');

  const annotators = annotatorStats(c, prep, predicted);
  lap('annotators');

  const calibration = calibrationFromCounts(
    c.p0,
    prep.count0,
    prep.countTie,
    prep.count1,
    options.calibrationBins ?? DEFAULT_CALIBRATION_BINS,
  );
  lap('calibration');

  const n = items.pair.length;
  const R = n > 0 ? Math.max(0, Math.floor(options.resamples ?? DEFAULT_RESAMPLES)) : 0;
  const prng = new Prng(seed);
  const advance = resampleProgress(R, cohen.length, options.onResample);
  const rep = bootstrap(R, prng, items, types, fleissRaters, advance);
  const estimate = estimator(R, level);
  const cohenPairs = cohenResults(c, cohen, R, prng, n, estimate, advance);
  if (options.cohenAnnotator !== undefined && options.everyonesCohen) {
    options.everyonesCohen(cohenResults(c, allCohen, 0, prng, n, estimator(0, level), () => {}));
  }
  lap('bootstrap');

  return {
    counts: {
      pairs: prep.pairs,
      judgedPairs: n,
      verdicts: prep.members.length,
      duplicatesDropped: prep.duplicatesDropped,
      annotators: c.annotators.length,
      scoredPairs: protocol.scoredPairs,
    },
    agreement: agreementResult(
      point,
      rep,
      { pairs: fleissPairs, raters: fleissRaters },
      { rows: cohenPairs, belowMinimum },
      estimate,
    ),
    pickscore: pickscoreResult(thresholds, protocol, estimate(accuracy, rep.accuracy)),
    annotators,
    calibration,
    bootstrap: { resamples: R, level, seed, method: 'percentile' },
  };
}
