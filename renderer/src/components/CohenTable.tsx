import { useMemo, useState } from 'react';
import {
  cohenRow,
  type AuditFilters,
  type CohenPairResult,
  type CohenTable as CohenColumns,
  type DashboardResult,
} from '../../../shared/audit';
import { formatCount, formatEstimate } from '../state/format';
import { showPairsBehind } from '../state/review';
import { MoreRows, useShownRows } from './MoreRows';

type CohenOrder = 'annotators' | 'kappa';

/** Rows from which the table offers its search and order: a handful reads at a glance. */
const CONTROLS_FROM_ROWS = 10;

/** The rows (their indices) naming an annotator that contains `search`, in the chosen order. */
function chosenRows(table: CohenColumns, search: string, order: CohenOrder): number[] {
  const needle = search.trim().toLowerCase();
  // Each name tested once, not once for each of its rows (thousands, at Pick-a-Pic's size).
  const named = table.annotators.map((name) => name.toLowerCase().includes(needle));
  const found: number[] = [];
  for (let i = 0; i < table.a.length; i++) {
    if (named[table.a[i]!] || named[table.b[i]!]) found.push(i);
  }
  if (order === 'annotators') return found;
  // Lowest first: the pairs of annotators who agree least are the ones to look at.
  const kappa = (i: number) => table.unweighted.value[i] ?? Infinity;
  return found.sort((x, y) => kappa(x) - kappa(y));
}

/** Narrowing and ordering a table too long to read whole. */
function CohenControls({
  search,
  order,
  onSearch,
  onOrder,
}: {
  search: string;
  order: CohenOrder;
  onSearch: (search: string) => void;
  onOrder: (order: CohenOrder) => void;
}) {
  return (
    <div className="table-controls">
      <label htmlFor="cohen-search">Annotator</label>
      <input
        id="cohen-search"
        data-testid="cohen-search"
        type="search"
        value={search}
        placeholder="any"
        onChange={(e) => onSearch(e.currentTarget.value)}
      />
      <label htmlFor="cohen-order">Order</label>
      <select
        id="cohen-order"
        data-testid="cohen-order"
        value={order}
        onChange={(e) => onOrder(e.currentTarget.value as CohenOrder)}
      >
        <option value="annotators">by annotators</option>
        <option value="kappa">lowest κ first</option>
      </select>
    </div>
  );
}

/** The pairs in common as a button that opens review on exactly those pairs. */
function CommonPairs({ row, filters }: { row: CohenPairResult; filters: AuditFilters }) {
  const what = `${formatCount(row.commonPairs)} pairs ${row.a} and ${row.b} both judged`;
  return (
    <button
      type="button"
      className="cell-link"
      data-testid="cohen-pairs"
      data-a={row.a}
      data-b={row.b}
      aria-label={`Show the ${what}`}
      onClick={() => showPairsBehind({ kind: 'cohen', a: row.a, b: row.b, filters }, `the ${what}`)}
    >
      {formatCount(row.commonPairs)}
    </button>
  );
}

/** The table itself: the first `shown` of the chosen rows. */
function CohenRows({
  table,
  chosen,
  shown,
  filters,
}: {
  table: CohenColumns;
  chosen: number[];
  shown: number;
  filters: AuditFilters;
}) {
  return (
    <table className="figures" data-testid="cohen-table" data-rows={chosen.length}>
      <thead>
        <tr>
          <th scope="col">Annotators</th>
          <th scope="col">Pairs in common</th>
          <th scope="col">κ</th>
          <th scope="col" title="Linear weights: a tie is half a disagreement">
            κ, linear weights
          </th>
        </tr>
      </thead>
      <tbody>
        {chosen.slice(0, shown).map((i) => {
          const row = cohenRow(table, i);
          return (
            <tr key={`${row.a}\u0000${row.b}`} data-kappa={row.unweighted.value ?? undefined}>
              <th scope="row">
                {row.a} · {row.b}
              </th>
              <td>
                <CommonPairs row={row} filters={filters} />
              </td>
              <td>{formatEstimate(row.unweighted, 'coefficient')}</td>
              <td>{formatEstimate(row.linear, 'coefficient')}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/**
 * Cohen's κ for each two annotators, on the pairs both judged; `filters`: those the figures
 * were computed under, which the pairs behind a row keep.
 */
export function CohenTable({
  rows,
  filters = {},
  counts,
}: {
  rows: CohenColumns;
  filters?: AuditFilters;
  /** What the empty state says: whose verdicts are counted, and pairs left out. */
  counts: { annotators: number; belowMinimum: DashboardResult['agreement']['cohenBelowMinimum'] };
}) {
  const [search, setSearch] = useState('');
  const [order, setOrder] = useState<CohenOrder>('annotators');
  const { shown, more, reset } = useShownRows();
  const chosen = useMemo(() => chosenRows(rows, search, order), [rows, search, order]);
  return (
    <section
      className="dashboard-panel"
      aria-labelledby="cohen-title"
      // A table wider than the panel scrolls: the keyboard must reach it too.
      tabIndex={0}
    >
      <h2 id="cohen-title">Cohen&apos;s κ by pair of annotators</h2>
      {rows.a.length === 0 ? (
        <p className="hint" data-testid="cohen-empty">
          {counts.annotators < 2
            ? 'Only one annotator’s verdicts are counted here: κ needs two annotators.'
            : `No two annotators have judged ${counts.belowMinimum.minimumShared} of the same pairs yet.`}
        </p>
      ) : (
        <>
          {rows.a.length > CONTROLS_FROM_ROWS && (
            <CohenControls
              search={search}
              order={order}
              onSearch={(next) => {
                setSearch(next);
                reset();
              }}
              onOrder={(next) => {
                setOrder(next);
                reset();
              }}
            />
          )}
          {chosen.length === 0 && (
            <p className="hint" data-testid="cohen-none">
              No pair of annotators has a name containing “{search.trim()}”.
            </p>
          )}
          <CohenRows table={rows} chosen={chosen} shown={shown} filters={filters} />
          <MoreRows shown={shown} total={chosen.length} onMore={more} testId="cohen-more" />
        </>
      )}
    </section>
  );
}
