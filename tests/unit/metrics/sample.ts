/**
 * reference/pick-sample.json (written by reference/make_sample.py): 300 pairs, 5 annotators,
 * 818 verdicts; pairs 295-299 have none, ~10% of pairs are unscored (p0 null).
 */
import fs from 'node:fs';
import type { Verdict } from '../../../shared/labels';
import type {
  DashboardAnnotation,
  DashboardInput,
  ProtocolExample,
} from '../../../electron/core/metrics';

interface Sample {
  annotators: string[];
  p0: (number | null)[];
  annotations: Row[];
}

// Read, not imported: a JSON import would have to be listed in tsconfig.node.json.
const sample = JSON.parse(
  fs.readFileSync(new URL('./reference/pick-sample.json', import.meta.url), 'utf8'),
) as Sample;

type Row = [
  pair: number,
  annotator: number,
  verdict: '0' | '1' | 'tie',
  left: 0 | 1,
  ms: number | null,
];

const VERDICT: Record<string, Verdict> = { '0': 0, '1': 1, tie: 'tie' };

function rows(): Row[] {
  return sample.annotations;
}

/** The sample as dashboard input, verdicts in file order. */
export function sampleInput(): DashboardInput {
  const annotations: DashboardAnnotation[] = rows().map(([pair, a, verdict, left, ms]) => ({
    pairIndex: pair,
    annotator: sample.annotators[a]!,
    verdict: VERDICT[verdict]!,
    leftImage: left,
    durationMs: ms,
  }));
  return { annotations, p0: sample.p0 };
}

/** One protocol example per verdict on a scored pair, in file order (optionally some pairs). */
export function sampleExamples(keep: (pair: number) => boolean = () => true): ProtocolExample[] {
  return rows()
    .filter(([pair]) => sample.p0[pair] !== null && keep(pair))
    .map(([pair, , verdict]) => ({ p0: sample.p0[pair]!, verdict: VERDICT[verdict]! }));
}
