import type { GeneratorRow } from '../../../shared/audit';
import { formatCount, formatPercent } from '../state/format';

/** How each generator's images fare with the humans and with PickScore. */
export function GeneratorTable({ rows }: { rows: GeneratorRow[] }) {
  return (
    <section className="dashboard-panel" aria-labelledby="generators-title">
      <h2 id="generators-title">Generators</h2>
      {rows.length === 0 ? (
        <p className="hint" data-testid="generator-empty">
          No pair names the generators of its images (Pick-a-Pic&apos;s model_0 and model_1).
        </p>
      ) : (
        <table className="figures" data-testid="generator-table">
          <thead>
            <tr>
              <th scope="col">Generator</th>
              <th scope="col">Pairs</th>
              <th scope="col">Wins</th>
              <th scope="col">Losses</th>
              <th scope="col">Ties</th>
              <th scope="col" title="Wins over wins and losses">
                Win rate
              </th>
              <th scope="col" title="Mean PickScore probability of this generator's image">
                PickScore p
              </th>
              <th scope="col" title="PickScore protocol score of the humans' verdicts">
                Humans agree with PickScore
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.generator}>
                <th scope="row">{row.generator}</th>
                <td>{formatCount(row.pairs)}</td>
                <td>{formatCount(row.wins)}</td>
                <td>{formatCount(row.losses)}</td>
                <td>{formatCount(row.ties)}</td>
                <td>{formatPercent(row.winRate)}</td>
                <td>{formatPercent(row.meanModelProbability)}</td>
                <td>{formatPercent(row.pickscoreAgreement)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
