import type { KeyboardEvent } from 'react';
import type { Disagreement } from '../../../shared/audit';
import type { Verdict } from '../../../shared/labels';
import { describeVerdict } from '../state/format';
import type { Choice } from '../state/keys';
import { noteFor, useReview } from '../state/review';
import { describeModel } from './DisagreementRow';
import { PairImage } from './PairImage';
import { CHOICE_BUTTONS } from './VerdictBar';

/** The labeling view's keys for the left image, a tie and the right image. */
function keysFor(choice: Choice): { keys: string; shortcuts: string } {
  const { keys, shortcuts } = CHOICE_BUTTONS.find((button) => button.choice === choice)!;
  return { keys, shortcuts };
}

/** Image 0 is always on the left and image 1 on the right, so the keys are labeling's. */
const ADJUDICATE_BUTTONS: { verdict: Verdict; text: string; keys: string; shortcuts: string }[] = [
  { verdict: 0, text: 'Image 0 is better', ...keysFor('left') },
  { verdict: 'tie', text: 'Tie', ...keysFor('tie') },
  { verdict: 1, text: 'Image 1 is better', ...keysFor('right') },
];

export const NOTE_FIELD_ID = 'review-note';

function ChosenBy({ item, verdict }: { item: Disagreement; verdict: Verdict }) {
  const who = item.verdicts.filter((v) => v.verdict === verdict).map((v) => v.annotator);
  return (
    <p className="review-chosen-by">
      {who.length === 0 ? 'chosen by nobody' : `chosen by ${who.join(', ')}`}
    </p>
  );
}

/** The selected disagreement, large: both images, who chose which, the model, and the decision. */
export function DisagreementDetail({
  item,
  adjudicator,
}: {
  item: Disagreement;
  adjudicator: string;
}) {
  const note = useReview((s) => noteFor(s, item));
  // Keys and buttons wait while a verdict is saved or the list reloads (review.ts).
  const busy = useReview((s) => s.saving || s.status !== 'ready');
  const saveError = useReview((s) => s.saveError);
  const setDraft = useReview((s) => s.setDraft);
  const adjudicate = useReview((s) => s.adjudicate);
  const announce = useReview((s) => s.announce);
  const final = item.adjudication;
  const ties = item.verdicts.filter((v) => v.verdict === 'tie').map((v) => v.annotator);

  // Esc leaves the field as it leaves every field of the audit view (AuditView).
  const onNoteKey = (event: KeyboardEvent<HTMLInputElement>): void => {
    if (event.key !== 'Enter') return;
    event.preventDefault();
    event.currentTarget.blur();
    // An adjudicated pair keeps its verdict and takes the new note; otherwise the note waits for
    // the verdict key.
    if (final) void adjudicate(final.verdict, adjudicator);
    else announce('Note kept: press ←, → or ↓ to decide the pair with it.');
  };

  return (
    <section
      className="review-detail"
      data-testid="review-detail"
      data-pair-id={item.pairId}
      aria-label={`Pair ${item.pairId}`}
    >
      <p className="review-detail-prompt">{item.prompt}</p>
      <div className="review-images">
        {([0, 1] as const).map((index) => (
          <figure
            key={index}
            className={`review-figure${final?.verdict === index || final?.verdict === 'tie' ? ' review-figure-final' : ''}`}
          >
            <PairImage uid={index === 0 ? item.image0Uid : item.image1Uid} index={index} />
            <figcaption>
              <strong>Image {index}</strong>{' '}
              <kbd>{index === 0 ? keysFor('left').keys : keysFor('right').keys}</kbd>
              {(index === 0 ? item.model0 : item.model1) && (
                <span className="hint"> · {index === 0 ? item.model0 : item.model1}</span>
              )}
              <ChosenBy item={item} verdict={index} />
            </figcaption>
          </figure>
        ))}
      </div>
      <p className="review-detail-facts">
        {ties.length > 0 && <span>Tie: {ties.join(', ')} · </span>}
        <span data-testid="review-model">Model {describeModel(item)}</span>
      </p>
      <p className="review-detail-final" data-testid="review-detail-final">
        {final
          ? `Final: ${describeVerdict(final.verdict)}, by ${final.adjudicator}.`
          : 'Not adjudicated yet.'}
      </p>
      <label htmlFor={NOTE_FIELD_ID} className="review-note-label">
        Note <kbd>n</kbd>
      </label>
      <input
        id={NOTE_FIELD_ID}
        data-testid="review-note"
        className="review-note"
        value={note}
        maxLength={2000}
        placeholder="Why (optional); Enter keeps it"
        autoComplete="off"
        onChange={(e) => setDraft(item.pairId, e.currentTarget.value)}
        onKeyDown={onNoteKey}
      />
      <div className="verdicts" role="toolbar" aria-label="Adjudicate">
        {ADJUDICATE_BUTTONS.map((button) => (
          <button
            key={String(button.verdict)}
            type="button"
            className="verdict"
            data-testid={`adjudicate-${String(button.verdict)}`}
            aria-label={`${button.text} (${button.keys})`}
            aria-keyshortcuts={button.shortcuts}
            aria-pressed={final ? final.verdict === button.verdict : undefined}
            disabled={busy}
            onMouseDown={(e) => e.preventDefault()}
            onClick={() => void adjudicate(button.verdict, adjudicator)}
          >
            <span className="verdict-text">{button.text}</span>
            <kbd>{button.keys}</kbd>
          </button>
        ))}
      </div>
      {saveError !== null && (
        <p className="error" role="alert" data-testid="review-error">
          {saveError}
        </p>
      )}
    </section>
  );
}
