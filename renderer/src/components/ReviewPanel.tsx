import { useEffect } from 'react';
import { DISAGREEMENT_KINDS, type DisagreementKind } from '../../../shared/audit';
import { describeKeys, REVIEW_KEYS } from '../../../shared/keys';
import { formatCount } from '../state/format';
import { isMac } from '../state/keys';
import { useReview } from '../state/review';
import { DisagreementDetail } from './DisagreementDetail';
import { DisagreementRow } from './DisagreementRow';
import { useReviewKeys } from './useReviewKeys';

const KIND_TEXT: Record<DisagreementKind, string> = {
  any: 'Any',
  humans: 'Humans split',
  model: 'Model disagrees',
};

function ReviewToolbar() {
  const kind = useReview((s) => s.kind);
  const includeAdjudicated = useReview((s) => s.includeAdjudicated);
  const total = useReview((s) => s.total);
  const status = useReview((s) => s.status);
  const setKind = useReview((s) => s.setKind);
  const setIncludeAdjudicated = useReview((s) => s.setIncludeAdjudicated);
  return (
    <div className="review-toolbar">
      <fieldset className="review-kinds">
        <legend className="visually-hidden">Which disagreements</legend>
        {DISAGREEMENT_KINDS.map((option) => (
          <label key={option} className="choice">
            <input
              type="radio"
              name="review-kind"
              value={option}
              data-testid={`review-kind-${option}`}
              checked={kind === option}
              onChange={() => void setKind(option)}
            />
            {KIND_TEXT[option]}
          </label>
        ))}
      </fieldset>
      <label className="choice">
        <input
          type="checkbox"
          data-testid="review-hide-adjudicated"
          checked={!includeAdjudicated}
          onChange={(e) => void setIncludeAdjudicated(!e.currentTarget.checked)}
        />
        Hide adjudicated
      </label>
      <span className="review-total" data-testid="review-total">
        {status === 'ready' ? `${formatCount(total)} pairs, surest model first` : ''}
      </span>
      <KeyHint />
    </div>
  );
}

/** Review's keys in one line, written from REVIEW_KEYS: "← or 1 image 0 · … · N note". */
function KeyHint() {
  return (
    <span className="hint review-keys">
      {REVIEW_KEYS.map((binding, i) => (
        <span key={binding.command}>
          {i > 0 && ' · '}
          <kbd>{describeKeys(binding, isMac)}</kbd> {binding.does}
        </span>
      ))}
    </span>
  );
}

/** The disagreements held, the selected one marked, and a button for the rest. */
function ReviewList() {
  const items = useReview((s) => s.items);
  const total = useReview((s) => s.total);
  const selected = useReview((s) => s.selected);
  const select = useReview((s) => s.select);
  const loadMore = useReview((s) => s.loadMore);
  const item = items[selected] ?? null;
  return (
    <div className="review-list-column">
      <ol
        className="review-list"
        role="listbox"
        aria-label="Disagreements"
        aria-activedescendant={item ? `review-row-${item.pairId}` : undefined}
        tabIndex={0}
      >
        {items.map((row, index) => (
          <DisagreementRow
            key={row.pairId}
            item={row}
            index={index}
            selected={index === selected}
            onSelect={select}
          />
        ))}
      </ol>
      {items.length < total && (
        <button type="button" className="review-more" onClick={() => void loadMore()}>
          Show more ({formatCount(total - items.length)} left)
        </button>
      )}
    </div>
  );
}

/** The disagreements, one selected; the keys settle the selected one and move on. */
export function ReviewPanel({ adjudicator }: { adjudicator: string }) {
  const status = useReview((s) => s.status);
  const error = useReview((s) => s.error);
  const items = useReview((s) => s.items);
  const selected = useReview((s) => s.selected);
  const announcement = useReview((s) => s.announcement);
  const load = useReview((s) => s.load);
  const item = items[selected] ?? null;

  useEffect(() => {
    void load();
  }, [load]);
  useReviewKeys(adjudicator);
  useEffect(() => {
    if (item)
      document.getElementById(`review-row-${item.pairId}`)?.scrollIntoView({ block: 'nearest' });
  }, [item]);

  return (
    <div
      className="review"
      data-testid="review"
      data-state={status}
      data-selected-pair-id={item?.pairId ?? ''}
    >
      <ReviewToolbar />
      {status === 'error' && (
        <div className="error-banner" role="alert" data-testid="review-load-error">
          <p>The disagreements could not be loaded: {error}</p>
          <button type="button" onClick={() => void load()}>
            Try again
          </button>
        </div>
      )}
      {status === 'loading' && items.length === 0 && <p className="hint">Loading…</p>}
      {status === 'ready' && items.length === 0 && (
        <section className="dashboard-empty" data-testid="review-empty">
          <h2>Nothing to review</h2>
          <p className="hint">No pair here has annotators split, or the model against them.</p>
        </section>
      )}
      {items.length > 0 && (
        <div className="review-body" aria-busy={status === 'loading'}>
          <ReviewList />
          {item && <DisagreementDetail item={item} adjudicator={adjudicator} />}
        </div>
      )}
      <div
        className="visually-hidden"
        role="status"
        aria-live="polite"
        data-testid="review-announcer"
      >
        {announcement}
      </div>
    </div>
  );
}
