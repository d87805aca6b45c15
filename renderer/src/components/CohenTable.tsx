import type { AuditFilters, CohenPairResult, DashboardResult } from '../../../shared/audit';
import { formatCount, formatEstimate } from '../state/format';
import { showPairsBehind } from '../state/review';

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

/**
 * Cohen's κ for each two annotators, on the pairs both judged; `filters`: those the figures
 * were computed under, which the pairs behind a row keep.
 */
export function CohenTable({
  rows,
  filters = {},
  counts,
}: {
  rows: CohenPairResult[];
  filters?: AuditFilters;
  /** What the empty state says: whose verdicts are counted, and pairs left out. */
  counts: { annotators: number; belowMinimum: DashboardResult['agreement']['cohenBelowMinimum'] };
}) {
  return (
    <section
      className="dashboard-panel"
      aria-labelledby="cohen-title"
      // A table wider than the panel scrolls: the keyboard must reach it too.
      tabIndex={0}
    >
      <h2 id="cohen-title">Cohen&apos;s κ by pair of annotators</h2>
      {rows.length === 0 ? (
        <p className="hint" data-testid="cohen-empty">
          {counts.annotators < 2
            ? 'Only one annotator’s verdicts are counted here: κ needs two annotators.'
            : `No two annotators have judged ${counts.belowMinimum.minimumShared} of the same pairs yet.`}
        </p>
      ) : (
        <table className="figures" data-testid="cohen-table">
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
            {rows.map((row) => (
              <tr key={`${row.a}\u0000${row.b}`}>
                <th scope="row">
                  {row.a} · {row.b}
                </th>
                <td>
                  <CommonPairs row={row} filters={filters} />
                </td>
                <td>{formatEstimate(row.unweighted, 'coefficient')}</td>
                <td>{formatEstimate(row.linear, 'coefficient')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
