import { CartesianGrid, Line, LineChart, ReferenceLine, Tooltip, XAxis, YAxis } from 'recharts';
import type { AuditReport } from '../../../shared/audit';
import {
  chartPercent,
  chartPercentTick,
  chartProbability,
  formatCount,
  formatPercent,
  formatProbability,
} from '../state/format';

type Pickscore = AuditReport['dashboard']['pickscore'];

/** The y axis zoomed to the lines, in tenths: on 0 to 100% they would lie flat in the middle. */
function yTicksFor(values: number[]): number[] {
  const lowest = Math.max(0, Math.floor((Math.min(...values) - 0.05) * 10));
  const highest = Math.min(10, Math.ceil((Math.max(...values) + 0.05) * 10));
  return Array.from({ length: highest - lowest + 1 }, (_, i) => (lowest + i) / 10);
}

function ThresholdPlot({ pickscore }: { pickscore: Pickscore }) {
  const data = pickscore.thresholds.map((threshold, i) => ({
    threshold,
    accuracy: pickscore.tuningAccuracy[i] ?? null,
    baseline: pickscore.randomBaseline[i] ?? null,
  }));
  const yTicks = yTicksFor(data.flatMap((d) => [d.accuracy, d.baseline]).filter((v) => v !== null));
  return (
    <LineChart
      className="chart-plot"
      responsive
      data={data}
      margin={{ top: 8, right: 16, bottom: 20, left: 4 }}
      title="PickScore protocol accuracy and the random baseline at each tie threshold"
    >
      <CartesianGrid />
      <XAxis
        type="number"
        dataKey="threshold"
        domain={[0, 1]}
        ticks={pickscore.thresholds.filter((_, i) => i % 2 === 0)}
        label={{ value: 'tie threshold |p0 − p1|', position: 'insideBottom', offset: -12 }}
      />
      <YAxis
        type="number"
        domain={[yTicks[0]!, yTicks[yTicks.length - 1]!]}
        ticks={yTicks}
        tickFormatter={chartPercentTick}
        width={44}
      />
      {pickscore.threshold !== null && (
        <ReferenceLine x={pickscore.threshold} stroke="var(--accent)" strokeDasharray="2 3" />
      )}
      <Tooltip
        formatter={chartPercent}
        labelFormatter={(t) => `threshold ${chartProbability(t)}`}
      />
      <Line
        dataKey="accuracy"
        name="accuracy"
        stroke="var(--accent)"
        strokeWidth={2}
        dot={{ r: 3 }}
        isAnimationActive={false}
      />
      <Line
        dataKey="baseline"
        name="random baseline"
        stroke="var(--muted)"
        strokeDasharray="5 4"
        dot={false}
        isAnimationActive={false}
      />
    </LineChart>
  );
}

/**
 * PickScore's protocol over its tie thresholds: the accuracy the threshold was tuned on, and what
 * guessing would score at each threshold; the chosen threshold marked.
 */
export function ThresholdChart({ report }: { report: AuditReport }) {
  const { pickscore } = report.dashboard;
  const hasData = pickscore.tuningAccuracy.some((accuracy) => accuracy !== null);
  return (
    <figure
      className="dashboard-panel chart"
      data-testid="threshold-chart"
      data-threshold={pickscore.threshold ?? ''}
    >
      <h2>Accuracy by tie threshold</h2>
      {hasData && (
        <>
          <ThresholdPlot pickscore={pickscore} />
          <ul className="chart-key">
            <li>accuracy on {formatCount(pickscore.tuningVerdicts)} tuning verdicts</li>
            <li className="key-baseline">random baseline</li>
            <li className="key-threshold">threshold used</li>
          </ul>
        </>
      )}
      <figcaption>
        {hasData
          ? `Threshold ${formatProbability(pickscore.threshold)}: ${formatPercent(pickscore.accuracy.value)} against ${formatPercent(pickscore.randomBaselineAtThreshold)} by chance.`
          : 'No verdicts on scored pairs.'}
      </figcaption>
    </figure>
  );
}
