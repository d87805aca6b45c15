import type { AuditReport } from '../../../shared/audit';
import { describeDecision } from '../../../shared/labels';
import { formatCount, formatProbability, sentenceCase } from '../state/format';
import { showPairsBehind } from '../state/review';

/** The matrix's order, rows and columns alike (shared/audit.ts). */
const CATEGORIES = ([0, 'tie', 1] as const).map((verdict) => ({
  verdict,
  id: String(verdict),
  text: sentenceCase(describeDecision(verdict, 'by-index')),
  name: describeDecision(verdict, 'by-index'),
}));
type Category = (typeof CATEGORIES)[number];

/** A cell's count; a button opening review on the pairs of its verdicts where there are some. */
function CellCount(props: { report: AuditReport; human: Category; model: Category; n: number }) {
  const { report, human, model, n } = props;
  const threshold = report.confusion.threshold;
  if (n === 0 || threshold === null) return <>{formatCount(n)}</>;
  const what = `${formatCount(n)} verdicts “${human.name}” where the model predicts “${model.name}”`;
  return (
    <button
      type="button"
      className="cell-link"
      aria-label={`Show the pairs behind the ${what}`}
      onClick={() =>
        showPairsBehind(
          {
            kind: 'confusion',
            human: human.verdict,
            model: model.verdict,
            threshold,
            filters: report.filters,
          },
          `the ${what} (threshold ${formatProbability(threshold)})`,
        )
      }
    >
      {formatCount(n)}
    </button>
  );
}

/** Human verdicts against the model's prediction at the dashboard's threshold. */
export function ConfusionMatrixTable({ report }: { report: AuditReport }) {
  const { counts, threshold } = report.confusion;
  const total = counts.reduce((sum, row) => sum + row[0] + row[1] + row[2], 0);
  const columnTotals = [0, 1, 2].map((c) => counts.reduce((sum, row) => sum + row[c]!, 0));
  const diagonal = counts.reduce((sum, row, r) => sum + row[r]!, 0);
  return (
    <section
      className="dashboard-panel"
      data-testid="confusion-matrix"
      data-threshold={threshold ?? ''}
      aria-labelledby="confusion-title"
    >
      <h2 id="confusion-title">Verdicts × model</h2>
      <table className="confusion">
        <caption>
          Human verdicts (rows) against {report.model}&apos;s prediction (columns) at threshold{' '}
          {formatProbability(threshold)}: {formatCount(diagonal)} of {formatCount(total)} the same.
        </caption>
        <thead>
          <tr>
            <td />
            <th scope="colgroup" colSpan={3}>
              Model predicts
            </th>
            <td />
          </tr>
          <tr>
            <th scope="col">Humans</th>
            {CATEGORIES.map((c) => (
              <th key={c.id} scope="col">
                {c.text}
              </th>
            ))}
            <th scope="col">All</th>
          </tr>
        </thead>
        <tbody>
          {CATEGORIES.map((row, r) => {
            const cells = counts[r] ?? [0, 0, 0];
            return (
              <tr key={row.id}>
                <th scope="row">{row.text}</th>
                {CATEGORIES.map((column, c) => (
                  <td
                    key={column.id}
                    className={r === c ? 'confusion-same' : undefined}
                    data-testid={`confusion-${row.id}-${column.id}`}
                  >
                    <CellCount report={report} human={row} model={column} n={cells[c]!} />
                  </td>
                ))}
                <td className="confusion-total">{formatCount(cells[0] + cells[1] + cells[2])}</td>
              </tr>
            );
          })}
          <tr>
            <th scope="row">All</th>
            {columnTotals.map((n, c) => (
              <td key={c} className="confusion-total">
                {formatCount(n)}
              </td>
            ))}
            <td className="confusion-total">{formatCount(total)}</td>
          </tr>
        </tbody>
      </table>
    </section>
  );
}
