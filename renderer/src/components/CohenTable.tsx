import type { CohenPairResult } from '../../../shared/audit';
import { formatCount, formatEstimate } from '../state/format';

/** Cohen's κ for each two annotators, on the pairs both judged. */
export function CohenTable({ rows }: { rows: CohenPairResult[] }) {
  return (
    <section className="dashboard-panel" aria-labelledby="cohen-title">
      <h2 id="cohen-title">Cohen&apos;s κ by pair of annotators</h2>
      {rows.length === 0 ? (
        <p className="hint" data-testid="cohen-empty">
          No two annotators have judged enough of the same pairs yet.
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
                <td>{formatCount(row.commonPairs)}</td>
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
