import { useEffect } from 'react';
import { DISAGREEMENT_KINDS, type DisagreementKind } from '../../../shared/audit';
import { describeKeys, REVIEW_KEYS } from '../../../shared/keys';
import { useAudit } from '../state/audit';
import { formatCount } from '../state/format';
import { isMac } from '../state/keys';
import { useProject } from '../state/project';
import { useReview } from '../state/review';
import { DisagreementDetail } from './DisagreementDetail';
import { DisagreementRow } from './DisagreementRow';
import { useReviewKeys } from './useReviewKeys';

const KIND_TEXT: Record<DisagreementKind, string> = {
  any: 'Any',
  humans: 'Humans split',
  model: 'Model disagrees',
  all: 'All judged',
};

/** The yes/no filters, each a checkbox. */
const CHECKS = [
  { key: 'flagged', text: 'Flagged' },
  { key: 'gold', text: 'Gold' },
  { key: 'noMajority', text: 'No majority' },
  { key: 'modelVsMajority', text: 'Model vs majority' },
] as const;

function SearchBox() {
  const text = useReview((s) => s.searchText);
  const setSearch = useReview((s) => s.setSearch);
  return (
    // Text, not type=search: Esc there would clear the search as it hands the keys back.
    <input
      type="text"
      className="review-search"
      data-testid="review-search"
      aria-label="Search prompts"
      placeholder="Search prompts"
      autoComplete="off"
      maxLength={500}
      value={text}
      onChange={(e) => setSearch(e.currentTarget.value)}
    />
  );
}

/** A choice of one name or none, for the annotator and generator filters. */
function NameFilter(props: {
  id: string;
  label: string;
  anyText: string;
  names: readonly string[];
  value: string | undefined;
  onChange(value: string | undefined): void;
}) {
  const names = props.value && !props.names.includes(props.value) ? [props.value] : [];
  return (
    <label className="review-filter">
      {props.label}
      <select
        data-testid={props.id}
        value={props.value ?? ''}
        onChange={(e) => props.onChange(e.currentTarget.value || undefined)}
      >
        <option value="">{props.anyText}</option>
        {[...props.names, ...names].map((name) => (
          <option key={name} value={name}>
            {name}
          </option>
        ))}
      </select>
    </label>
  );
}

/** Who judged, whose images, flags, gold and the majority: each narrows the list (AND). */
function ReviewFilterBar() {
  const filters = useReview((s) => s.filters);
  const setFilters = useReview((s) => s.setFilters);
  // Names from the dashboard's report where it was opened, else the project's annotators.
  const reportAnnotators = useAudit((s) => s.report?.annotatorNames);
  const generators = useAudit((s) => s.report?.generatorNames) ?? [];
  const stats = useProject((s) => s.stats);
  const annotators = reportAnnotators ?? stats?.annotators.map((a) => a.name) ?? [];
  const any = Object.keys(filters).some((key) => key !== 'cell');
  return (
    <div className="review-filters" role="group" aria-label="Filters">
      <SearchBox />
      <NameFilter
        id="review-annotator"
        label="Annotator"
        anyText="Anyone"
        names={annotators}
        value={filters.annotator}
        onChange={(annotator) => void setFilters({ annotator })}
      />
      <NameFilter
        id="review-generator"
        label="Generator"
        anyText="Any"
        names={generators}
        value={filters.generator}
        onChange={(generator) => void setFilters({ generator })}
      />
      {CHECKS.map(({ key, text }) => (
        <label key={key} className="choice">
          <input
            type="checkbox"
            data-testid={`review-${key}`}
            checked={filters[key] === true}
            onChange={(e) => void setFilters({ [key]: e.currentTarget.checked })}
          />
          {text}
        </label>
      ))}
      {any && (
        <button
          type="button"
          data-testid="review-clear-filters"
          onClick={() => {
            useReview.getState().setSearch('');
            void setFilters({
              search: undefined,
              annotator: undefined,
              generator: undefined,
              flagged: undefined,
              gold: undefined,
              noMajority: undefined,
              modelVsMajority: undefined,
            });
          }}
        >
          Clear filters
        </button>
      )}
    </div>
  );
}

/** Which dashboard number the list shows the pairs of, with the way back to every pair. */
function CellBanner() {
  const cell = useReview((s) => s.filters.cell);
  const label = useReview((s) => s.cellLabel);
  const setFilters = useReview((s) => s.setFilters);
  if (!cell) return null;
  return (
    <p className="review-cell" data-testid="review-cell">
      <span>
        From the dashboard: <strong>{label ?? 'a cell'}</strong>
      </span>
      <button
        type="button"
        data-testid="review-cell-clear"
        onClick={() => void setFilters({ cell: undefined })}
      >
        Leave the cell
      </button>
    </p>
  );
}

/** "37 pairs", or for a confusion cell "37 verdicts on 30 pairs": the cell's own number first. */
function TotalText() {
  const total = useReview((s) => s.total);
  const cellVerdicts = useReview((s) => s.cellVerdicts);
  const status = useReview((s) => s.status);
  return (
    <span
      className="review-total"
      data-testid="review-total"
      data-total={status === 'ready' ? total : ''}
      data-cell-verdicts={cellVerdicts ?? ''}
    >
      {status !== 'ready'
        ? ''
        : cellVerdicts !== null
          ? `${formatCount(cellVerdicts)} verdicts on ${formatCount(total)} pairs, surest model first`
          : `${formatCount(total)} pairs, surest model first`}
    </span>
  );
}

function ReviewToolbar() {
  const kind = useReview((s) => s.kind);
  const includeAdjudicated = useReview((s) => s.includeAdjudicated);
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
      <TotalText />
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
  const filtered = useReview((s) => Object.keys(s.filters).length > 0 || s.kind === 'all');
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
      <ReviewFilterBar />
      <CellBanner />
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
          {filtered ? (
            <>
              <h2>No pair matches</h2>
              <p className="hint">Widen the filters, or clear them.</p>
            </>
          ) : (
            <>
              <h2>Nothing to review</h2>
              <p className="hint">No pair here has annotators split, or the model against them.</p>
            </>
          )}
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
