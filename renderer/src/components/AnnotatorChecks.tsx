import type { OutlierReason, QualityReport } from '../../../shared/quality';
import { formatCount, formatPercent } from '../state/format';

/** Each reason as the table names it; the flag's detail gives the figures. */
const REASON_NAMES: Record<OutlierReason, string> = {
  fast: 'Implausibly fast',
  'low-agreement': 'Agrees with no one',
  'position-bias': 'Position bias',
  'tie-rate': 'Unusual tie rate',
  gold: 'Low gold accuracy',
};

/**
 * Each annotator on the lead's gold pairs (judged, right, accuracy), and why their behaviour
 * stands out, if it does (electron/core/metrics/outliers.ts).
 */
export function AnnotatorChecks({ quality }: { quality: QualityReport }) {
  const flagged = quality.annotators.filter((a) => a.flags.length > 0).length;
  return (
    <section
      className="dashboard-panel"
      aria-labelledby="checks-title"
      // A table wider than the panel scrolls: the keyboard must reach it too.
      tabIndex={0}
    >
      <h2 id="checks-title">Gold pairs and outliers</h2>
      <p className="hint" data-testid="checks-summary">
        {quality.goldPairs === 0
          ? 'No gold pairs yet: in Review (g r), give a pair its final verdict, then Mark as gold; or many at once with pickstudio gold. '
          : `${formatCount(quality.goldPairs)} gold pair${quality.goldPairs === 1 ? '' : 's'}, mixed into queues and packages unannounced; a tie is right only on a gold tie, skips do not count. `}
        {flagged === 0
          ? 'No annotator stands out.'
          : `${formatCount(flagged)} annotator${flagged === 1 ? '' : 's'} flagged.`}
      </p>
      <table className="figures" data-testid="checks-table">
        <thead>
          <tr>
            <th scope="col">Annotator</th>
            <th scope="col" title="Verdicts on gold pairs">
              Gold judged
            </th>
            <th scope="col" title="Verdicts equal to the gold verdict">
              Correct
            </th>
            <th scope="col">Gold accuracy</th>
            <th scope="col" className="checks-flags">
              Flags
            </th>
          </tr>
        </thead>
        <tbody>
          {quality.annotators.map((row) => (
            <tr
              key={row.annotator}
              data-annotator={row.annotator}
              data-flagged={row.flags.length > 0 ? 'true' : undefined}
            >
              <th scope="row">{row.annotator}</th>
              <td data-testid="gold-judged">{formatCount(row.gold.judged)}</td>
              <td data-testid="gold-correct">{formatCount(row.gold.correct)}</td>
              <td data-testid="gold-accuracy">{formatPercent(row.gold.accuracy)}</td>
              <td className="checks-flags">
                {row.flags.length === 0 ? (
                  <span className="hint">none</span>
                ) : (
                  <ul>
                    {row.flags.map((flag) => (
                      <li key={flag.reason} data-reason={flag.reason}>
                        <span className="badge badge-flag">{REASON_NAMES[flag.reason]}</span>{' '}
                        <span className="checks-detail">{flag.detail}</span>
                      </li>
                    ))}
                  </ul>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
