import { CartesianGrid, Line, LineChart, ReferenceLine, Tooltip, XAxis, YAxis } from 'recharts';
import type { Calibration } from '../../../shared/audit';
import {
  chartPercent,
  chartPercentTick,
  chartProbability,
  formatCoefficient,
  formatCount,
} from '../state/format';

const TICKS = [0, 0.25, 0.5, 0.75, 1];

/**
 * PickScore's p0 against how often humans chose image 0, bin by bin: a calibrated model's points
 * lie on the diagonal. ECE weighs each bin's gap by its verdicts.
 */
export function ReliabilityChart({ calibration }: { calibration: Calibration }) {
  const points = calibration.bins
    .filter((bin) => bin.meanP0 !== null && bin.humanShare0 !== null)
    .map((bin) => ({ p0: bin.meanP0!, share0: bin.humanShare0!, verdicts: bin.verdicts }));
  const summary =
    points.length === 0
      ? 'No verdicts on scored pairs.'
      : `ECE ${formatCoefficient(calibration.ece)} over ${formatCount(calibration.verdicts)} verdicts on scored pairs.`;
  return (
    <figure
      className="dashboard-panel chart"
      data-testid="reliability-chart"
      data-ece={calibration.ece ?? ''}
    >
      <h2>Calibration</h2>
      {points.length > 0 && (
        <>
          <LineChart
            className="chart-plot"
            responsive
            data={points}
            margin={{ top: 8, right: 16, bottom: 20, left: 4 }}
            title="Reliability: model p0 against the humans' share choosing image 0"
          >
            <CartesianGrid />
            <XAxis
              type="number"
              dataKey="p0"
              domain={[0, 1]}
              ticks={TICKS}
              label={{ value: 'model p0 (bin mean)', position: 'insideBottom', offset: -12 }}
            />
            <YAxis
              type="number"
              domain={[0, 1]}
              ticks={TICKS}
              tickFormatter={chartPercentTick}
              width={44}
            />
            <ReferenceLine
              className="chart-diagonal"
              segment={[
                { x: 0, y: 0 },
                { x: 1, y: 1 },
              ]}
              stroke="var(--muted)"
              strokeDasharray="4 4"
              ifOverflow="hidden"
            />
            <Tooltip
              formatter={chartPercent}
              labelFormatter={(p0) => `p0 ${chartProbability(p0)}`}
            />
            <Line
              dataKey="share0"
              name="humans choosing image 0"
              stroke="var(--accent)"
              strokeWidth={2}
              dot={{ r: 4 }}
              isAnimationActive={false}
            />
          </LineChart>
          <ul className="chart-key">
            <li>humans choosing image 0, by bin of p0</li>
            <li className="key-diagonal">calibrated</li>
          </ul>
        </>
      )}
      <figcaption>{summary}</figcaption>
    </figure>
  );
}
