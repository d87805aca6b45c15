import { useEffect } from 'react';
import type { Disagreement } from '../../../shared/audit';
import { describeDecision } from '../../../shared/labels';
import { useGold } from '../state/gold';

/**
 * Marks the pair as gold with its final verdict (the lead's adjudication), or takes the mark off:
 * gold pairs go into every package unannounced and score each annotator (the dashboard's "Gold
 * pairs and outliers").
 */
export function GoldControl({ item, setBy }: { item: Disagreement; setBy: string }) {
  const gold = useGold((s) => s.gold);
  const saving = useGold((s) => s.saving);
  const error = useGold((s) => s.error);
  const load = useGold((s) => s.load);
  const setGold = useGold((s) => s.set);
  useEffect(() => {
    if (gold === null) void load();
  }, [gold, load]);

  const current = gold?.get(item.pairId);
  const final = item.adjudication?.verdict;
  return (
    <div className="review-gold" data-testid="review-gold">
      {current !== undefined && (
        <span data-testid="review-gold-state">Gold: {describeDecision(current, 'by-index')}. </span>
      )}
      {final !== undefined && final !== current && (
        <button
          type="button"
          data-testid="mark-gold"
          disabled={saving || gold === null}
          onMouseDown={(e) => e.preventDefault()}
          onClick={() => void setGold(item.pairId, final, setBy)}
        >
          Mark as gold: {describeDecision(final, 'by-index')}
        </button>
      )}
      {current !== undefined && (
        <button
          type="button"
          data-testid="clear-gold"
          disabled={saving}
          onMouseDown={(e) => e.preventDefault()}
          onClick={() => void setGold(item.pairId, null, setBy)}
        >
          Not gold
        </button>
      )}
      {current === undefined && final === undefined && (
        <span className="hint">Give the pair a final verdict to mark it as gold.</span>
      )}
      {error !== null && (
        <span className="error" role="alert">
          {' '}
          {error}
        </span>
      )}
    </div>
  );
}
