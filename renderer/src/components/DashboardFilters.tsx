import { useAudit } from '../state/audit';
import { dayEnd, dayOf, dayStart } from '../state/format';

/**
 * How sure the model must be, as the probability it gives its preferred image; the filter takes
 * |p0 - 0.5|, so 80% is 0.3.
 */
const CONFIDENCE_STEPS = [0.6, 0.7, 0.8, 0.9, 0.95];

function AnnotatorFilter() {
  // Defaults outside the selectors: a fresh [] from a selector would be a change on every render.
  const chosen = useAudit((s) => s.filters.annotators) ?? [];
  const names = useAudit((s) => s.report?.annotatorNames) ?? [];
  const setFilters = useAudit((s) => s.setFilters);
  return (
    <>
      <label htmlFor="filter-annotators">Annotators</label>
      <select
        id="filter-annotators"
        data-testid="filter-annotators"
        multiple
        size={Math.min(6, Math.max(3, names.length))}
        value={chosen}
        aria-describedby="filter-annotators-hint"
        onChange={(e) =>
          void setFilters({
            annotators: [...e.currentTarget.selectedOptions].map((option) => option.value),
          })
        }
      >
        {names.map((name) => (
          <option key={name} value={name}>
            {name}
          </option>
        ))}
      </select>
      <p id="filter-annotators-hint" className="hint">
        {chosen.length === 0 ? 'None chosen: everyone.' : `${chosen.length} chosen.`} Ctrl+click to
        choose several.
      </p>
    </>
  );
}

function GeneratorFilter() {
  const generator = useAudit((s) => s.filters.generator);
  const names = useAudit((s) => s.report?.generatorNames) ?? [];
  const setFilters = useAudit((s) => s.setFilters);
  return (
    <>
      <label htmlFor="filter-generator">Generator</label>
      <select
        id="filter-generator"
        data-testid="filter-generator"
        value={generator ?? ''}
        onChange={(e) => void setFilters({ generator: e.currentTarget.value || undefined })}
      >
        <option value="">All generators</option>
        {names.map((name) => (
          <option key={name} value={name}>
            {name}
          </option>
        ))}
      </select>
    </>
  );
}

function DateFilter() {
  const from = useAudit((s) => s.filters.from);
  const to = useAudit((s) => s.filters.to);
  const setFilters = useAudit((s) => s.setFilters);
  return (
    <fieldset className="filter-dates">
      <legend>Verdicts given</legend>
      <label htmlFor="filter-from">from</label>
      <input
        id="filter-from"
        type="date"
        data-testid="filter-from"
        value={from === undefined ? '' : dayOf(from)}
        onChange={(e) => void setFilters({ from: dayStart(e.currentTarget.value) })}
      />
      <label htmlFor="filter-to">to</label>
      <input
        id="filter-to"
        type="date"
        data-testid="filter-to"
        // `to` is the first moment after the chosen day: the day shown is the one before.
        value={to === undefined ? '' : dayOf(to - 1)}
        onChange={(e) => void setFilters({ to: dayEnd(e.currentTarget.value) })}
      />
    </fieldset>
  );
}

function ConfidenceFilter() {
  const minConfidence = useAudit((s) => s.filters.minConfidence ?? 0);
  const setFilters = useAudit((s) => s.setFilters);
  return (
    <>
      <label htmlFor="filter-confidence">Model at least</label>
      <select
        id="filter-confidence"
        data-testid="filter-confidence"
        value={minConfidence}
        onChange={(e) => void setFilters({ minConfidence: Number(e.currentTarget.value) })}
      >
        <option value={0}>any confidence</option>
        {CONFIDENCE_STEPS.map((p) => (
          <option key={p} value={Number((p - 0.5).toFixed(2))}>
            {Math.round(p * 100)}% sure of its image
          </option>
        ))}
      </select>
    </>
  );
}

/** Which verdicts the figures count: whose, on which generator's pairs, when, how sure the model. */
export function DashboardFilters() {
  const filtered = useAudit((s) => Object.keys(s.filters).length > 0);
  const clearFilters = useAudit((s) => s.clearFilters);
  return (
    // A section, not a form: the page has nothing to submit anywhere (security.spec.ts).
    <section className="side-panel" data-testid="audit-filters" aria-labelledby="filters-title">
      <h2 id="filters-title">Filters</h2>
      <AnnotatorFilter />
      <GeneratorFilter />
      <DateFilter />
      <ConfidenceFilter />
      <button
        type="button"
        data-testid="filter-clear"
        disabled={!filtered}
        onClick={() => void clearFilters()}
      >
        Clear filters
      </button>
    </section>
  );
}
