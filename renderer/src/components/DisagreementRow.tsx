import { memo } from 'react';
import type { Disagreement } from '../../../shared/audit';
import { describeDecision } from '../../../shared/labels';
import { formatProbability } from '../state/format';
import { modelDisagreesWith } from '../../../shared/model-words';
import { PairImage } from './PairImage';

export function describeModel(item: Disagreement): string {
  if (item.p0 === null || item.prediction === null) return 'unscored';
  return `p0 ${formatProbability(item.p0)} → ${describeDecision(item.prediction, 'by-index')}`;
}

/** Each flag as "ana: “note”", in the order given. */
export function describeFlags(item: Disagreement): string {
  return item.flags.map((f) => (f.note ? `${f.annotator}: “${f.note}”` : f.annotator)).join(' · ');
}

interface Props {
  item: Disagreement;
  index: number;
  selected: boolean;
  onSelect(index: number): void;
}

/** One disagreement in the list: the pair, who said what, the model, the final verdict if any. */
export const DisagreementRow = memo(function DisagreementRow({
  item,
  index,
  selected,
  onSelect,
}: Props) {
  const final = item.adjudication;
  const disagreesWith = modelDisagreesWith(item);
  return (
    <li
      id={`review-row-${item.pairId}`}
      role="option"
      className="review-row"
      data-testid="review-row"
      data-pair-id={item.pairId}
      data-adjudicated={final ? String(final.verdict) : undefined}
      aria-selected={selected}
      onClick={() => onSelect(index)}
    >
      <div className="review-row-images" aria-hidden="true">
        <PairImage uid={item.image0Uid} index={0} className="review-thumb" />
        <PairImage uid={item.image1Uid} index={1} className="review-thumb" />
      </div>
      <div className="review-row-text">
        <p className="review-row-prompt" title={item.prompt}>
          <span className="review-row-id">#{item.pairId}</span> {item.prompt}
        </p>
        <p className="review-row-facts">
          <span className="review-verdicts">
            {item.verdicts.map((v) => (
              <span
                key={v.annotator}
                className={`verdict-chip verdict-chip-${String(v.verdict)}`}
                title={`${v.annotator}: ${describeDecision(v.verdict, 'by-index')}`}
              >
                {v.annotator} {String(v.verdict)}
              </span>
            ))}
          </span>
          <span className="review-model">model {describeModel(item)}</span>
          {item.humansDisagree && <span className="badge">humans split</span>}
          {disagreesWith !== null && (
            <span className="badge badge-model" data-testid="review-model-badge">
              model disagrees with {disagreesWith}
            </span>
          )}
          {item.gold && (
            <span className="badge badge-gold" data-testid="review-row-gold">
              gold: {describeDecision(item.gold.verdict, 'by-index')}
            </span>
          )}
        </p>
        {item.flags.length > 0 && (
          <p className="review-flags" data-testid="review-flags">
            Flagged: {describeFlags(item)}
          </p>
        )}
        {final && (
          <p className="review-final" data-testid="review-final">
            Final: {describeDecision(final.verdict, 'by-index')} · {final.adjudicator}
            {final.note && <span className="review-note-text"> · “{final.note}”</span>}
          </p>
        )}
      </div>
    </li>
  );
});
