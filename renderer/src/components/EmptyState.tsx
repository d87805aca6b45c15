import type { LabelProgress } from '../../../shared/api';
import { bindingFor, describeChord, GO_KEYS } from '../../../shared/keys';
import { plural } from '../../../shared/words';
import { UNDO_KEYS } from '../state/keys';
import { useLabeling } from '../state/labeling';
import { useProject } from '../state/project';
import { fileNameOf, returnSteps } from '../state/team';
import { useView } from '../state/view';
import { ErrorDetail } from './ErrorDetail';

const number = new Intl.NumberFormat();

/**
 * What is left once the queue is empty: the heading, and a line on the skips that stay (each
 * came back once, getQueue) and, under an overlap, the pairs others have covered.
 */
function whatIsLeft(
  { decided, skipped, total }: LabelProgress,
  overlap: number | null,
  of: string,
): { heading: string; left: string } {
  const done = decided + skipped;
  const heading =
    done >= total
      ? `All ${number.format(total)} pairs${of} are done`
      : `No pair${of} is left for you`;
  const covered =
    done >= total
      ? ''
      : ` The other ${plural(total - done, 'pair')} already have enough annotators.`;
  const stay = skipped === 1 ? 'stays' : 'stay';
  // Under an overlap, a skip also stays where others' verdicts filled the pair meanwhile.
  const why = overlap === null ? 'skipped twice' : 'skipped twice or filled by others';
  const skips =
    skipped === 0
      ? `${number.format(decided)} decided, none skipped.`
      : `${number.format(decided)} decided. ${plural(skipped, 'pair')} ${why} ${stay} skipped.`;
  return { heading, left: `${skips}${covered}` };
}

function DoneLeft({ of }: { of: string }) {
  const progress = useLabeling((s) => s.progress);
  const overlap = useProject((s) => s.settings?.overlap ?? null);
  if (!progress) return null;
  const { heading, left } = whatIsLeft(progress, overlap, of);
  return (
    <>
      <h2>{heading}</h2>
      <p data-testid="done-left">{left}</p>
    </>
  );
}

/** The lead's end of labeling: the next step is the audit. */
function LeadDone() {
  const go = useView((s) => s.go);
  const chord = describeChord(bindingFor(GO_KEYS, 'audit'));
  return (
    <section className="empty" data-testid="done" data-role="lead">
      <DoneLeft of="" />
      <p className="done-next" data-testid="done-next">
        Next: the audit ({chord}), for agreement and the disagreements to review.
      </p>
      <p>
        <button type="button" onClick={() => go('audit')}>
          Open the audit
        </button>
      </p>
      <p className="hint">
        {UNDO_KEYS} takes back your last decision; a decision in the history below opens its pair
        again.
      </p>
    </section>
  );
}

/** The package's end: every pair decided, and what the annotator does with the file now. */
function PackageDone() {
  const project = useProject((s) => s.stats?.project ?? '');
  const door = 'studio' in window ? 'electron' : 'browser';
  return (
    <section className="empty" data-testid="done" data-role="annotator">
      <DoneLeft of=" of this package" />
      <p data-testid="done-next">Next: return {fileNameOf(project)} to your lead.</p>
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
    if (role === 'annotator' && total !== null && total > 0) return <PackageDone />;
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
    return <LeadDone />;
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
