import type { GeneratorRow } from '../../../shared/audit';
import { formatCount, formatPercent } from '../state/format';
import { modelWord, NO_MODEL_HINT } from '../../../shared/model-words';

/**
 * How each generator's images fare with the humans and with the model. "Judged pairs" counts
 * pairs; wins, losses and ties count verdicts (a pair judged by three annotators is three).
 */
export function GeneratorTable({ rows, model }: { rows: GeneratorRow[]; model: string | null }) {
  const word = modelWord(model);
  return (
    <section
      className="dashboard-panel"
      aria-labelledby="generators-title"
      // A table wider than the panel scrolls: the keyboard must reach it too.
      tabIndex={0}
    >
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
              <th
                scope="col"
                title="Pairs with at least one verdict showing this generator's image"
              >
                Judged pairs
              </th>
              <th scope="col" title="Verdicts preferring this generator's image">
                Verdicts won
              </th>
              <th scope="col" title="Verdicts preferring the other image">
                Verdicts lost
              </th>
              <th scope="col" title="Tie verdicts">
                Tie verdicts
              </th>
              <th scope="col" title="Verdicts won over verdicts won and lost">
                Win rate
              </th>
              {model !== null && (
                <>
                  <th scope="col" title={`Mean probability ${model} gives this generator's image`}>
                    {word} p
                  </th>
                  <th
                    scope="col"
                    title={`PickScore's protocol score of the humans' verdicts against ${model}`}
                  >
                    Humans agree with {word}
                  </th>
                </>
              )}
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
                {model !== null && (
                  <>
                    <td>{formatPercent(row.meanModelProbability)}</td>
                    <td>{formatPercent(row.pickscoreAgreement)}</td>
                  </>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {rows.length > 0 && model === null && (
        <p className="hint" data-testid="generators-no-model">
          {NO_MODEL_HINT}
        </p>
      )}
    </section>
  );
}
