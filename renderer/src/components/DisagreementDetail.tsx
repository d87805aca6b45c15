import type { KeyboardEvent } from 'react';
import type { Disagreement } from '../../../shared/audit';
import { REVIEW_LEFT_IMAGE, verdictFor, type VerdictCommand } from '../../../shared/keys';
import { describeDecision, verdictOfSide, type Verdict } from '../../../shared/labels';
import { sentenceCase } from '../state/format';
import { reviewKeys } from '../state/keys';
import { noteFor, useReview } from '../state/review';
import { describeFlags, describeModel } from './DisagreementRow';
import { GoldControl } from './GoldControl';
import { PairImage } from './PairImage';

/** The adjudicating buttons, left to right as the images are; their keys are REVIEW_KEYS'. */
const ADJUDICATE_COMMANDS: VerdictCommand[] = ['left', 'tie', 'right'];

export const NOTE_FIELD_ID = 'review-note';

function ChosenBy({ item, verdict }: { item: Disagreement; verdict: Verdict }) {
  const who = item.verdicts.filter((v) => v.verdict === verdict).map((v) => v.annotator);
  return (
    <p className="review-chosen-by">
      {who.length === 0 ? 'chosen by nobody' : `chosen by ${who.join(', ')}`}
    </p>
  );
}

/** One image, large, with the keys that choose it, its generator and who chose it. */
function DetailFigure({ item, side }: { item: Disagreement; side: 'left' | 'right' }) {
  const index = verdictOfSide(side, REVIEW_LEFT_IMAGE);
  const final = item.adjudication;
  const generator = index === 0 ? item.model0 : item.model1;
  const isFinal = final?.verdict === index || final?.verdict === 'tie';
  return (
    <figure className={`review-figure${isFinal ? ' review-figure-final' : ''}`}>
      <PairImage uid={index === 0 ? item.image0Uid : item.image1Uid} index={index} />
      <figcaption>
        <strong>{sentenceCase(describeDecision(index, 'by-index'))}</strong>{' '}
        <kbd>{reviewKeys(side).keys}</kbd>
        {generator && <span className="hint"> · {generator}</span>}
        <ChosenBy item={item} verdict={index} />
      </figcaption>
    </figure>
  );
}

/** The note for the final verdict; Enter keeps it, and saves it at once on an adjudicated pair. */
function NoteField({ item, adjudicator }: { item: Disagreement; adjudicator: string }) {
  const note = useReview((s) => noteFor(s, item));
  const setDraft = useReview((s) => s.setDraft);
  const adjudicate = useReview((s) => s.adjudicate);
  const announce = useReview((s) => s.announce);
  const final = item.adjudication;

  // Esc leaves the field as it leaves every field of the audit view (AuditView).
  const onNoteKey = (event: KeyboardEvent<HTMLInputElement>): void => {
    if (event.key !== 'Enter') return;
    event.preventDefault();
    event.currentTarget.blur();
    // An adjudicated pair keeps its verdict and takes the new note; otherwise the note waits for
    // the verdict key.
    if (final) void adjudicate(final.verdict, adjudicator);
    else {
      const keys = ADJUDICATE_COMMANDS.map((command) => reviewKeys(command).keys).join(', ');
      announce(`Note kept: press a verdict key (${keys}) to decide the pair with it.`);
    }
  };

  return (
    <>
      <label htmlFor={NOTE_FIELD_ID} className="review-note-label">
        Note <kbd>{reviewKeys('note').keys}</kbd>
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
    </>
  );
}

/** The final verdict as buttons, one per verdict key; the one given is pressed. */
function AdjudicateButtons({ item, adjudicator }: { item: Disagreement; adjudicator: string }) {
  // Keys and buttons wait while a verdict is saved or the list reloads (review.ts).
  const busy = useReview((s) => s.saving || s.status !== 'ready');
  const adjudicate = useReview((s) => s.adjudicate);
  const final = item.adjudication;
  return (
    <div className="verdicts" role="toolbar" aria-label="Adjudicate">
      {ADJUDICATE_COMMANDS.map((command) => {
        const verdict = verdictFor(command, REVIEW_LEFT_IMAGE);
        const name = sentenceCase(describeDecision(verdict, 'by-index'));
        const text = verdict === 'tie' ? name : `${name} is better`;
        const { keys, aria } = reviewKeys(command);
        return (
          <button
            key={command}
            type="button"
            className="verdict"
            data-testid={`adjudicate-${String(verdict)}`}
            aria-label={`${text}, ${keys}`}
            aria-keyshortcuts={aria}
            aria-pressed={final ? final.verdict === verdict : undefined}
            disabled={busy}
            onMouseDown={(e) => e.preventDefault()}
            onClick={() => void adjudicate(verdict, adjudicator)}
          >
            <span className="verdict-text">{text}</span> <kbd>{keys}</kbd>
          </button>
        );
      })}
    </div>
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
  const saveError = useReview((s) => s.saveError);
  const final = item.adjudication;
  const ties = item.verdicts.filter((v) => v.verdict === 'tie').map((v) => v.annotator);
  return (
    <section
      className="review-detail"
      data-testid="review-detail"
      data-pair-id={item.pairId}
      aria-label={`Pair ${item.pairId}`}
    >
      <p className="review-detail-prompt">{item.prompt}</p>
      <div className="review-images">
        <DetailFigure item={item} side="left" />
        <DetailFigure item={item} side="right" />
      </div>
      <p className="review-detail-facts">
        {ties.length > 0 && <span>Tie: {ties.join(', ')} · </span>}
        <span data-testid="review-model">Model {describeModel(item)}</span>
        {item.gold && (
          <span data-testid="review-detail-gold">
            {' '}
            · Gold: {describeDecision(item.gold.verdict, 'by-index')} (set by {item.gold.setBy})
          </span>
        )}
      </p>
      {item.flags.length > 0 && (
        <p className="review-flags" data-testid="review-detail-flags">
          Flagged: {describeFlags(item)}
        </p>
      )}
      <p className="review-detail-final" data-testid="review-detail-final">
        {final
          ? `Final: ${describeDecision(final.verdict, 'by-index')}, by ${final.adjudicator}.`
          : 'Not adjudicated yet.'}
      </p>
      <NoteField item={item} adjudicator={adjudicator} />
      <AdjudicateButtons item={item} adjudicator={adjudicator} />
      <GoldControl item={item} setBy={adjudicator} />
      {saveError !== null && (
        <p className="error" role="alert" data-testid="review-error">
          {saveError}
        </p>
      )}
    </section>
  );
}
