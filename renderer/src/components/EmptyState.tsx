import { UNDO_KEYS } from '../state/keys';
import { useLabeling } from '../state/labeling';

const number = new Intl.NumberFormat();

/** What the image area says when no pair is on screen: loading, all done, or a failure. */
export function EmptyState() {
  const status = useLabeling((s) => s.status);
  const total = useLabeling((s) => s.progress?.total ?? null);
  const error = useLabeling((s) => s.error);
  const retry = useLabeling((s) => s.retry);

  if (status === 'done') {
    if (total === 0) {
      return (
        <section className="empty" data-testid="done">
          <h2>This project has no pairs yet</h2>
          <p>
            Import some with <code>pickstudio import PROJECT SOURCE…</code>.
          </p>
        </section>
      );
    }
    return (
      <section className="empty" data-testid="done">
        <h2>All {number.format(total ?? 0)} pairs are done</h2>
        <p className="hint">
          {UNDO_KEYS} takes back your last decision; a decision in the history below opens its pair
          again.
        </p>
      </section>
    );
  }
  if (status === 'error') {
    return (
      <section className="empty" data-testid="load-error">
        <h2>The next pair could not be loaded</h2>
        <p className="error">{error}</p>
        <button type="button" onClick={() => void retry()}>
          Try again
        </button>
      </section>
    );
  }
  return (
    <section className="empty" aria-busy="true">
      <p>Loading the next pair…</p>
    </section>
  );
}
