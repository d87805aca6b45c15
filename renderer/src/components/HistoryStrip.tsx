import { memo } from 'react';
import type { HistoryEntry } from '../../../shared/api';
import { describeDecision, useLabeling } from '../state/labeling';

function glyph(decision: HistoryEntry['decision'], leftImage: 0 | 1 | undefined): string {
  if (decision === 'skip') return 'skip';
  if (decision === 'tie') return '=';
  if (leftImage === undefined) return `#${decision + 1}`;
  return decision === leftImage ? '◀' : '▶';
}

/** The latest decisions, newest first; each opens its pair again to change it. */
export const HistoryStrip = memo(function HistoryStrip() {
  const history = useLabeling((s) => s.history);
  const leftImages = useLabeling((s) => s.leftImages);
  const shownId = useLabeling((s) => s.shown?.prepared.pair.pairId ?? null);
  const revisit = useLabeling((s) => s.revisit);

  return (
    <nav className="history" data-testid="history" aria-label="Your latest decisions">
      <h2 className="history-title">Latest</h2>
      {history.length === 0 ? (
        <p className="history-empty">Your decisions will show here.</p>
      ) : (
        <ol className="history-list">
          {history.map((entry) => {
            const left = leftImages[entry.pairId];
            return (
              <li key={entry.annotationId}>
                <button
                  type="button"
                  className={`history-entry history-${entry.decision}`}
                  data-pair-id={entry.pairId}
                  data-decision={String(entry.decision)}
                  aria-current={entry.pairId === shownId ? 'true' : undefined}
                  aria-label={`Revisit pair ${entry.pairId}: ${describeDecision(entry.decision, left)}. ${entry.prompt}`}
                  title={entry.prompt}
                  onMouseDown={(e) => e.preventDefault()}
                  onClick={() => void revisit(entry.pairId)}
                >
                  <span className="history-verdict">{glyph(entry.decision, left)}</span>
                  <span className="history-prompt">{entry.prompt}</span>
                </button>
              </li>
            );
          })}
        </ol>
      )}
    </nav>
  );
});
