import type { AnnotatorResult } from '../../../shared/audit';
import { formatCount, formatMs, formatPercent } from '../state/format';

/** Each annotator against the others and against PickScore, with their habits (ties, sides, time). */
export function AnnotatorTable({ rows }: { rows: AnnotatorResult[] }) {
  return (
    <section className="dashboard-panel" aria-labelledby="annotators-title">
      <h2 id="annotators-title">Annotators</h2>
      <table className="figures" data-testid="annotator-table">
        <thead>
          <tr>
            <th scope="col">Annotator</th>
            <th scope="col">Verdicts</th>
            <th scope="col">Tie rate</th>
            <th scope="col" title="Share of non-tie verdicts for the image shown on the left">
              Left rate
            </th>
            <th scope="col" title="Share of verdicts equal to the other annotators' majority">
              Agrees with others
            </th>
            <th scope="col" title="PickScore protocol score of the verdicts against the model">
              Agrees with PickScore
            </th>
            <th scope="col">Median time</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.annotator} data-annotator={row.annotator}>
              <th scope="row">{row.annotator}</th>
              <td>{formatCount(row.verdicts)}</td>
              <td>{formatPercent(row.tieRate)}</td>
              <td title={`over ${formatCount(row.leftRateVerdicts)} verdicts`}>
                {formatPercent(row.leftRate)}
              </td>
              <td
                title={`over ${formatCount(row.majorityPairs)} pairs; ${formatCount(row.noMajorityPairs)} without a majority`}
              >
                {formatPercent(row.majorityAgreement)}
              </td>
              <td title={`over ${formatCount(row.pickscoreVerdicts)} verdicts`}>
                {formatPercent(row.pickscoreAgreement)}
              </td>
              <td title={`over ${formatCount(row.timedVerdicts)} timed verdicts`}>
                {formatMs(row.medianDecisionMs)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
