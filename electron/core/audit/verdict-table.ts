/**
 * What the dashboard reads of a project: every current verdict, unpacked into typed columns in
 * pair then annotator order (a VerdictTable), and per pair its model's p0 and its generators
 * (PairFacts). audit.ts turns them into the metrics' columns under the filters.
 *
 * KeptVerdicts keeps the whole project's between two asks of the dashboard worker and brings them
 * up to date from the annotation log: the log is only appended to, and every change to the
 * decisions is an event of it, so the pairs of the events since the last read are the only ones
 * to read again. Reading all of them is most of the figures' time at Pick-a-Pic's size (5,000,000
 * verdicts: 4 s); a lead watching the dashboard while annotators label pays it once. Kept here,
 * not by triggers in the label's transaction: each page such a table adds to a label's commit
 * costs every label (a verdict already writes ten).
 */
import { StudioError } from '../../../shared/errors';
import {
  DecisionPacking,
  LONG_TIME,
  NO_TIME,
  type PackedDecision,
} from '../store/decision-packing';
import type { ProjectStore } from '../store/project-store';
import type { AuditFilters } from '../../../shared/audit';

/** Current verdicts (no skips), in pair then annotator order. */
export interface VerdictTable {
  pairId: Int32Array;
  annotatorId: Int32Array;
  /** decisions.verdict_side (store/decision-packing.ts). */
  verdictSide: Uint8Array;
  /** The decision time in ms; NaN where none was recorded. */
  time: Float64Array;
}

/** Per pair id: the active model's p0 (NaN where unscored) and the pair's generators. */
export interface PairFacts {
  p0: Float64Array;
  /** Index into generatorPairs by pair id. */
  generators: Int32Array;
  generatorPairs: [string | null, string | null][];
}

/**
 * The current verdicts the filters select (`pairs`: only on those pairs), read in one read
 * transaction. Each crosses from SQLite as one packed integer: the crossing is most of the read.
 */
export function readVerdictTable(
  store: ProjectStore,
  filters: Pick<AuditFilters, 'annotators' | 'from' | 'to'>,
  pairs?: readonly number[],
): VerdictTable {
  return store.audit.snapshot(() => {
    let packing: DecisionPacking;
    try {
      packing = new DecisionPacking(store.pairs.lastPairId(), store.audit.lastAnnotatorId());
    } catch {
      throw new StudioError('internal', `${store.file}: too many pairs and annotators to audit`);
    }
    const { packed, longTimes } = store.audit.packedVerdicts(packing, filters, pairs);
    return unpack(packing, packed, longTimes);
  });
}

function unpack(packing: DecisionPacking, packed: number[], longTimes: number[]): VerdictTable {
  const n = packed.length;
  const table: VerdictTable = {
    pairId: new Int32Array(n),
    annotatorId: new Int32Array(n),
    verdictSide: new Uint8Array(n),
    time: new Float64Array(n),
  };
  const d: PackedDecision = { pairId: 0, annotatorId: 0, verdictSide: 0, time: 0 };
  let longTime = 0;
  for (let i = 0; i < n; i++) {
    packing.unpackInto(packed[i]!, d);
    table.pairId[i] = d.pairId;
    table.annotatorId[i] = d.annotatorId;
    table.verdictSide[i] = d.verdictSide;
    table.time[i] =
      d.time === NO_TIME ? NaN : d.time === LONG_TIME ? longTimes[longTime++]! : d.time;
  }
  return table;
}

export function readPairFacts(store: ProjectStore, modelId: number | null): PairFacts {
  const lastPairId = store.pairs.lastPairId();
  const generatorPairs = store.audit.generatorPairs();
  return {
    p0: store.audit.p0ByPair(modelId, lastPairId),
    generators: store.audit.generatorIndexByPair(generatorPairs, lastPairId),
    generatorPairs,
  };
}

/** Where the project stood at a read: what, moved, says which part to read again. */
interface Mark {
  annotationId: number;
  lastPairId: number;
  modelId: number | null;
  scoresWritten: number;
}

/** Changed pairs past this share of the verdicts: reading everything again is cheaper. */
const PATCH_LIMIT = 1 / 8;

export class KeptVerdicts {
  private kept: { mark: Mark; table: VerdictTable; facts: PairFacts } | null = null;

  /** The whole project's current verdicts and pair facts, as they are now. */
  read(store: ProjectStore): { table: VerdictTable; facts: PairFacts } {
    // One read transaction: the mark is the moment the verdicts are of.
    const { mark, table, facts } = store.audit.snapshot(() => {
      const modelId = store.scores.activeModel()?.id ?? null;
      const mark: Mark = {
        annotationId: store.audit.lastAnnotationId(),
        lastPairId: store.pairs.lastPairId(),
        modelId,
        scoresWritten: store.scores.scoresWritten(),
      };
      const kept = this.kept;
      const factsHold =
        kept !== null &&
        kept.mark.lastPairId === mark.lastPairId &&
        kept.mark.modelId === mark.modelId &&
        kept.mark.scoresWritten === mark.scoresWritten;
      return {
        mark,
        table: kept === null ? readVerdictTable(store, {}) : this.brought(store, kept, mark),
        facts: factsHold ? kept.facts : readPairFacts(store, modelId),
      };
    });
    this.kept = { mark, table, facts };
    return { table, facts };
  }

  private brought(
    store: ProjectStore,
    kept: { mark: Mark; table: VerdictTable },
    mark: Mark,
  ): VerdictTable {
    if (mark.annotationId === kept.mark.annotationId) return kept.table;
    // Behind the mark: not the log this table was read from.
    if (mark.annotationId < kept.mark.annotationId) return readVerdictTable(store, {});
    const changed = store.audit.pairsChangedSince(kept.mark.annotationId);
    if (changed.length > kept.table.pairId.length * PATCH_LIMIT) return readVerdictTable(store, {});
    return patched(kept.table, changed, readVerdictTable(store, {}, changed));
  }
}

/**
 * `table` with the verdicts on the `changed` pairs (ascending) replaced by `fresh`'s: the rows
 * between two changed pairs are copied as one run (a few changed pairs among millions of rows).
 */
export function patched(
  table: VerdictTable,
  changed: readonly number[],
  fresh: VerdictTable,
): VerdictTable {
  // Where each changed pair's rows start and end in `table` (both sorted by pair).
  const ranges = changed.map((pair) => [
    firstRowAtOrAfter(table.pairId, pair),
    firstRowAtOrAfter(table.pairId, pair + 1),
  ]);
  const dropped = ranges.reduce((sum, [from, to]) => sum + to! - from!, 0);
  const n = table.pairId.length - dropped + fresh.pairId.length;
  const out: VerdictTable = {
    pairId: new Int32Array(n),
    annotatorId: new Int32Array(n),
    verdictSide: new Uint8Array(n),
    time: new Float64Array(n),
  };
  let written = 0;
  const append = (from: VerdictTable, start: number, end: number): void => {
    out.pairId.set(from.pairId.subarray(start, end), written);
    out.annotatorId.set(from.annotatorId.subarray(start, end), written);
    out.verdictSide.set(from.verdictSide.subarray(start, end), written);
    out.time.set(from.time.subarray(start, end), written);
    written += end - start;
  };
  let kept = 0;
  changed.forEach((pair, c) => {
    const [from, to] = ranges[c]!;
    append(table, kept, from!);
    append(fresh, firstRowAtOrAfter(fresh.pairId, pair), firstRowAtOrAfter(fresh.pairId, pair + 1));
    kept = to!;
  });
  append(table, kept, table.pairId.length);
  return out;
}

/** The first row whose pair is `pair` or later (binary search over rows sorted by pair). */
function firstRowAtOrAfter(pairIds: Int32Array, pair: number): number {
  let lo = 0;
  let hi = pairIds.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (pairIds[mid]! < pair) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
