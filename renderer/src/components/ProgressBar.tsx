import { useEffect, useState } from 'react';
import { useLabeling } from '../state/labeling';

const number = new Intl.NumberFormat();

function clock(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return `${m}:${String(s).padStart(2, '0')}`;
}

/** Time on the pair on screen; ticks on its own so the rest of the view does not re-render. */
function PairTimer() {
  const shownAt = useLabeling((s) => s.shown?.shownAt ?? null);
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    if (shownAt === null) return;
    const id = setInterval(() => setNow(performance.now()), 1000);
    return () => clearInterval(id);
  }, [shownAt]);
  if (shownAt === null) return null;
  const seconds = Math.max(0, Math.floor((now - shownAt) / 1000));
  return (
    <span className="progress-timer" data-testid="pair-timer" title="Time on this pair">
      this pair {clock(seconds)}
    </span>
  );
}

export function ProgressBar() {
  const progress = useLabeling((s) => s.progress);
  if (!progress) {
    return (
      <div className="progress" data-testid="progress">
        <span>…</span>
      </div>
    );
  }
  const { decided, skipped, total, lastHour } = progress;
  const done = decided + skipped;
  const share = total === 0 ? 0 : Math.min(1, done / total);
  return (
    <div className="progress" data-testid="progress" data-done={done} data-total={total}>
      <div
        className="progress-track"
        role="progressbar"
        aria-label="Pairs done"
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={done}
        aria-valuetext={`${done} of ${total} pairs done`}
      >
        <div className="progress-fill" style={{ width: `${(share * 100).toFixed(2)}%` }} />
      </div>
      <span className="progress-count">
        {number.format(done)} / {number.format(total)} done
      </span>
      <span className="progress-detail">
        {number.format(decided)} decided · {number.format(skipped)} skipped
      </span>
      <span className="progress-rate" title="Decisions in the last hour">
        {number.format(lastHour)}/h
      </span>
      <PairTimer />
    </div>
  );
}
