import type { AnnotatorResult } from '../../../shared/audit';
import { formatCount, formatMs, formatPercent } from '../state/format';
import { modelWord, NO_MODEL_HINT } from '../../../shared/model-words';
import { MoreRows, useShownRows } from './MoreRows';

/**
 * Each annotator against the others and against the model (named PickScore only when it is),
 * with their habits (ties, sides, time).
 */
export function AnnotatorTable({ rows, model }: { rows: AnnotatorResult[]; model: string | null }) {
  const { shown, more } = useShownRows();
  return (
    <section
      className="dashboard-panel"
      aria-labelledby="annotators-title"
      // A table wider than the panel scrolls: the keyboard must reach it too.
      tabIndex={0}
    >
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
            {model !== null && (
              <th scope="col" title={`PickScore's protocol score of the verdicts against ${model}`}>
                Agrees with {modelWord(model)}
              </th>
            )}
            <th scope="col">Median time</th>
          </tr>
        </thead>
        <tbody>
          {rows.slice(0, shown).map((row) => (
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
              {model !== null && (
                <td title={`over ${formatCount(row.pickscoreVerdicts)} verdicts`}>
                  {formatPercent(row.pickscoreAgreement)}
                </td>
              )}
              <td title={`over ${formatCount(row.timedVerdicts)} timed verdicts`}>
                {formatMs(row.medianDecisionMs)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <MoreRows shown={shown} total={rows.length} onMore={more} testId="annotator-more" />
      {model === null && (
        <p className="hint" data-testid="annotators-no-model">
          {NO_MODEL_HINT}
        </p>
      )}
    </section>
  );
}
