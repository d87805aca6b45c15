import type { AuditReport, Estimate } from '../../../shared/audit';
import { isPickScore, NO_MODEL_HINT } from '../../../shared/model-words';
import {
  formatCoefficient,
  formatCount,
  formatInterval,
  formatPercent,
  formatProbability,
  type Scale,
} from '../state/format';

interface CardProps {
  id: string;
  title: string;
  estimate: Estimate;
  scale: Scale;
  detail: string;
}

/** One headline figure: its value large, its interval beside it, what it rests on below. */
function Card({ id, title, estimate, scale, detail }: CardProps) {
  const { value, interval } = estimate;
  const shown = scale === 'percent' ? formatPercent(value) : formatCoefficient(value);
  return (
    <section
      className="card"
      data-testid={`card-${id}`}
      data-value={value ?? ''}
      aria-labelledby={`card-${id}-title`}
    >
      <h3 id={`card-${id}-title`} className="card-title">
        {title}
      </h3>
      <p className="card-figure">
        <span className="card-value" data-testid={`card-${id}-value`}>
          {shown}
        </span>
        {value !== null && interval && (
          <span className="card-interval" title="Bootstrap percentile interval">
            {' '}
            {formatInterval(interval, scale)}
          </span>
        )}
      </p>
      <p className="card-detail">{detail}</p>
    </section>
  );
}

const pairs = (n: number): string => `${formatCount(n)} verdict pairs`;

/** Agreement between humans, chance-corrected several ways, and PickScore's accuracy. */
export function AgreementCards({ report }: { report: AuditReport }) {
  const { agreement, pickscore } = report.dashboard;
  const { fleissKappa } = agreement;
  const thresholdFrom =
    report.thresholdSource.kind === 'fixed'
      ? 'fixed'
      : report.thresholdSource.kind === 'tuned-on'
        ? `tuned on ${report.thresholdSource.project}`
        : 'tuned on these verdicts';
  const pickscoreDetail =
    report.model === null
      ? NO_MODEL_HINT
      : `at threshold ${formatProbability(pickscore.threshold)} (${thresholdFrom}) · random ` +
        `baseline ${formatPercent(pickscore.randomBaselineAtThreshold)} · ` +
        `${formatCount(pickscore.evaluationVerdicts)} verdicts`;
  return (
    <div className="cards" data-testid="agreement-cards">
      <Card
        id="percent"
        title="Agreement"
        estimate={agreement.percent}
        scale="percent"
        detail={`${pairs(agreement.percent.verdictPairs)} on the same pair`}
      />
      <Card
        id="percent-no-ties"
        title="Agreement without ties"
        estimate={agreement.percentWithoutTies}
        scale="percent"
        detail={`${pairs(agreement.percentWithoutTies.verdictPairs)}, neither a tie`}
      />
      <Card
        id="fleiss"
        title="Fleiss' κ"
        estimate={fleissKappa}
        scale="coefficient"
        detail={`${formatCount(fleissKappa.pairs)} pairs × ${formatCount(fleissKappa.ratersPerPair)} annotators`}
      />
      <Card
        id="alpha-nominal"
        title="Krippendorff's α, nominal"
        estimate={agreement.krippendorffNominal}
        scale="coefficient"
        detail="every disagreement counts the same"
      />
      <Card
        id="alpha-ordinal"
        title="Krippendorff's α, ordinal"
        estimate={agreement.krippendorffOrdinal}
        scale="coefficient"
        detail="a tie is half way between the images"
      />
      <Card
        id="gwet"
        title="Gwet's AC1"
        estimate={agreement.gwetAC1}
        scale="coefficient"
        detail="steady when one verdict dominates"
      />
      <Card
        id="pickscore"
        title={`${report.model !== null && isPickScore(report.model) ? 'PickScore' : 'Model'} accuracy, PickScore's protocol`}
        estimate={pickscore.accuracy}
        scale="percent"
        detail={pickscoreDetail}
      />
    </div>
  );
}
