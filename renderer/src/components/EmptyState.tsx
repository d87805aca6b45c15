import { UNDO_KEYS } from '../state/keys';
import { useLabeling } from '../state/labeling';
import { useProject } from '../state/project';
import { fileNameOf, returnSteps } from '../state/team';
import { ErrorDetail } from './ErrorDetail';

const number = new Intl.NumberFormat();

/** The package's end: every pair decided, and what the annotator does with the file now. */
function PackageDone({ total }: { total: number }) {
  const project = useProject((s) => s.stats?.project ?? '');
  const door = 'studio' in window ? 'electron' : 'browser';
  return (
    <section className="empty" data-testid="done" data-role="annotator">
      <h2>All {number.format(total)} pairs of this package are done</h2>
      <p>Now return the package file to your lead:</p>
      <ol className="return-steps" data-testid="return-steps">
        {returnSteps(fileNameOf(project), door).map((step) => (
          <li key={step}>{step}</li>
        ))}
      </ol>
      <p className="hint">
        Until then {UNDO_KEYS} takes back your last decision, and a decision in the history below
        opens its pair again.
      </p>
    </section>
  );
}

/** What the image area says when no pair is on screen: loading, all done, or a failure. */
export function EmptyState() {
  const status = useLabeling((s) => s.status);
  const total = useLabeling((s) => s.progress?.total ?? null);
  const error = useLabeling((s) => s.error);
  const errorDetail = useLabeling((s) => s.errorDetail);
  const retry = useLabeling((s) => s.retry);
  const role = useProject((s) => s.team.role);

  if (status === 'done') {
    if (role === 'annotator' && total !== null && total > 0) return <PackageDone total={total} />;
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
        <p className="error" data-testid="error-message">
          {error}
        </p>
        <ErrorDetail detail={errorDetail} />
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
