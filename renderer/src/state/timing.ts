/**
 * Cheap timing of each keypress: User Timing measures the view always sets
 * (`pickstudio:commit`, `pickstudio:paint`), and, with `?bench` in the page's URL, one record per
 * keypress on `window.__pickstudioTimings` for bench/label.ts.
 */
import type { Decision } from '../../../shared/labels';

export interface KeyTiming {
  /** The decision saved (image 0 or 1, tie, skip), or an undo. */
  action: Decision | 'undo';
  pairId: number | null;
  nextPairId: number | null;
  /** performance.now() at the start of the keydown handler. */
  keyAt: number;
  /**
   * When the StudioApi call (recordDecision, undoLast) resolved: the decision is on disk. A
   * decision saved behind the next pair may resolve after that pair is painted.
   */
  committedAt: number | null;
  /** When React had put the next pair in the DOM (layout effect). */
  renderedAt: number | null;
  /** rAF then a posted message: just after the frame that shows the next pair was produced. */
  nextPaintAt: number | null;
  /** The second requestAnimationFrame callback after the next pair was rendered. */
  paintedAt: number | null;
  /** Whether both <img> elements were complete (decoded bytes available) when rendered. */
  imagesComplete: boolean | null;
}

declare global {
  interface Window {
    __pickstudioTimings?: KeyTiming[];
  }
}

const benchMode =
  typeof location !== 'undefined' && new URLSearchParams(location.search).has('bench');
if (benchMode) {
  window.__pickstudioTimings = [];
  // Resource timings of the API calls give the server's share; keep them all for the bench.
  performance.setResourceTimingBufferSize(1_000_000);
}

let pending: KeyTiming | null = null;
let measures = 0;

function measure(name: string, start: number, end: number, detail: KeyTiming): void {
  try {
    performance.measure(name, {
      start,
      end,
      detail: { action: detail.action, pairId: detail.pairId },
    });
    // A day of labeling must not grow the timeline without bound.
    if (++measures > 2_000) {
      performance.clearMeasures();
      measures = 0;
    }
  } catch {
    // User Timing is a nicety: never let it break labeling.
  }
}

function finish(record: KeyTiming): void {
  if (pending === record) pending = null;
  if (record.paintedAt !== null)
    measure('pickstudio:paint', record.keyAt, record.paintedAt, record);
  window.__pickstudioTimings?.push(record);
}

export const timing = {
  /** A keypress (or click) starts an action on the shown pair; its record, for `committed`. */
  begin(action: KeyTiming['action'], pairId: number | null, keyAt: number): KeyTiming {
    if (pending) finish(pending);
    const record: KeyTiming = {
      action,
      pairId,
      nextPairId: null,
      keyAt,
      committedAt: null,
      renderedAt: null,
      nextPaintAt: null,
      paintedAt: null,
      imagesComplete: null,
    };
    pending = record;
    return record;
  },
  committed(record: KeyTiming): void {
    record.committedAt = performance.now();
    measure('pickstudio:commit', record.keyAt, record.committedAt, record);
  },
  /** The action failed or led nowhere to paint (the done screen): record what there is. */
  end(): void {
    if (pending) finish(pending);
  },
  /** Called from a layout effect when a pair has just been put in the DOM. */
  rendered(pairId: number, imagesComplete: boolean, onPainted: (paintedAt: number) => void): void {
    // The first showing after the key: the next pair (put up before or after the commit).
    const record = pending && pending.renderedAt === null ? pending : null;
    if (record) {
      record.nextPairId = pairId;
      record.renderedAt = performance.now();
      record.imagesComplete = imagesComplete;
    }
    requestAnimationFrame(() => {
      if (record) {
        const channel = new MessageChannel();
        channel.port1.onmessage = () => {
          record.nextPaintAt = performance.now();
          channel.port1.close();
        };
        channel.port2.postMessage(null);
      }
      requestAnimationFrame(() => {
        const paintedAt = performance.now();
        onPainted(paintedAt);
        if (record) {
          record.paintedAt = paintedAt;
          finish(record);
        }
      });
    });
  },
};
