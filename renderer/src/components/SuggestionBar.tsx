import { percent, type Side } from '../state/suggestion';

interface Props {
  side: Side;
  model: string;
  /** This side's probability of being the better image, under the model. */
  p: number;
}

/** The model's probability for one image, under that image. */
export function SuggestionBar({ side, model, p }: Props) {
  return (
    <div
      className="suggestion"
      data-testid={`suggestion-${side}`}
      data-p={p}
      role="meter"
      aria-label={`${model}: ${side} image is better`}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(p * 100)}
      aria-valuetext={percent(p)}
      title={`${model}: ${(p * 100).toFixed(1)}% that the ${side} image is better`}
    >
      <span className="suggestion-model">{model}</span>
      <span className="suggestion-track">
        <span className="suggestion-fill" style={{ width: `${(p * 100).toFixed(2)}%` }} />
      </span>
      <span className="suggestion-percent">{percent(p)}</span>
    </div>
  );
}
