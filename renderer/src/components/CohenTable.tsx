import type { CohenPairResult, DashboardResult } from '../../../shared/audit';
import { formatCount, formatEstimate } from '../state/format';

/** Cohen's κ for each two annotators, on the pairs both judged. */
export function CohenTable({
  rows,
  counts,
}: {
  rows: CohenPairResult[];
  /** What the empty state says: whose verdicts are counted, and pairs left out. */
  counts: { annotators: number; belowMinimum: DashboardResult['agreement']['cohenBelowMinimum'] };
}) {
  return (
    <section className="dashboard-panel" aria-labelledby="cohen-title">
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
