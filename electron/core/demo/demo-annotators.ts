import type { Verdict } from '../../../shared/labels';
import type { AnnotationRecord } from '../store/decisions';
import type { ProjectStore } from '../store/project-store';
import { mulberry32 } from './scenes';

type MistakeKind = 'colour' | 'shape' | 'count' | 'background';

/**
 * Three made-up annotators whose labels ship with the demo, so the lead's desk has something to
 * show on first start. Each is a plausible kind of labeler: careful, slow and position-biased
 * when unsure, fast and sloppy. Accuracy is per kind of mistake in the wrong image (a changed
 * count is easy to miss at a glance, a changed background hard to miss).
 */
const DEMO_ANNOTATORS = [
  {
    name: 'demo:ana',
    accuracy: { colour: 0.96, shape: 0.9, count: 0.86, background: 0.98 },
    tieRate: 0.04,
    leftWhenUnsure: 0.5,
    medianMs: 1500,
    covers: [0, 0.6],
  },
  {
    name: 'demo:ben',
    accuracy: { colour: 0.88, shape: 0.82, count: 0.75, background: 0.93 },
    tieRate: 0.1,
    leftWhenUnsure: 0.8,
    medianMs: 2300,
    covers: [0.1, 0.7],
  },
  {
    name: 'demo:chen',
    accuracy: { colour: 0.85, shape: 0.72, count: 0.66, background: 0.9 },
    tieRate: 0.05,
    leftWhenUnsure: 0.55,
    medianMs: 900,
    covers: [0.2, 0.8],
  },
] as const;

export interface DemoPairTruth {
  pairId: number;
  /** The image (0 or 1) faithful to the prompt. */
  faithful: 0 | 1;
  mistake: string;
}

/** Records the demo annotators' verdicts on their share of the pairs. */
export function addDemoAnnotations(
  store: ProjectStore,
  pairs: DemoPairTruth[],
  seed: number,
): void {
  const random = mulberry32(seed);
  const createdAt = Date.now();
  const annotations: AnnotationRecord[] = [];
  for (const annotator of DEMO_ANNOTATORS) {
    const annotatorId = store.decisions.annotatorId(annotator.name, 'import');
    const [from, to] = annotator.covers;
    for (const pair of pairs.slice(
      Math.floor(from * pairs.length),
      Math.floor(to * pairs.length),
    )) {
      const kind = pair.mistake.split(':')[0] as MistakeKind;
      const leftImage = random() < 0.5 ? 0 : 1;
      let verdict: Verdict;
      if (random() < annotator.tieRate) verdict = 'tie';
      else if (random() < annotator.accuracy[kind]) verdict = pair.faithful;
      // Unsure: position bias shows here, as it does in real labelers.
      else verdict = random() < annotator.leftWhenUnsure ? leftImage : ((1 - leftImage) as 0 | 1);
      // Log-normal decision times around the annotator's median.
      const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
      annotations.push({
        pairId: pair.pairId,
        annotatorId,
        decision: verdict,
        leftImage,
        suggestionVisible: false,
        decisionMs: Math.round(annotator.medianMs * Math.exp(0.45 * normal)),
        createdAt,
      });
    }
  }
  store.decisions.record(annotations);
}
