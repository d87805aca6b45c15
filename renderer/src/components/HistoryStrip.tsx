import { memo } from 'react';
import { isDisagreement, type HistoryEntry } from '../../../shared/api';
import { describeDecision, useLabeling } from '../state/labeling';
import { useProject } from '../state/project';

function glyph(decision: HistoryEntry['decision'], leftImage: 0 | 1 | undefined): string {
  if (decision === 'skip') return 'skip';
  if (decision === 'tie') return '=';
  if (leftImage === undefined) return `#${decision + 1}`;
  return decision === leftImage ? '◀' : '▶';
}

/**
 * The latest decisions, newest first; each opens its pair again to change it. Decisions the
 * model disagrees with are marked, except in blind labeling, where the model's opinion is never
 * shown.
 */
export const HistoryStrip = memo(function HistoryStrip() {
  const history = useLabeling((s) => s.history);
  const leftImages = useLabeling((s) => s.leftImages);
  const shownId = useLabeling((s) => s.shown?.prepared.pair.pairId ?? null);
  const revisit = useLabeling((s) => s.revisit);
  const settings = useProject((s) => s.settings);

  return (
    <nav className="history" data-testid="history" aria-label="Your latest decisions">
      <h2 className="history-title">Latest</h2>
      {history.length === 0 ? (
        <p className="history-empty">Your decisions will show here.</p>
      ) : (
        <ol className="history-list">
          {history.map((entry) => {
            const left = leftImages[entry.pairId];
            const disagrees =
              settings !== null &&
              settings.suggestionMode !== 'hidden' &&
              isDisagreement(entry.decision, entry.p0, settings.tieThreshold);
            const described = describeDecision(entry.decision, left);
            const modelName = entry.model ?? 'the model';
            const verdict = disagrees ? `${described}, disagrees with ${modelName}` : described;
            return (
              <li key={entry.annotationId}>
                <button
                  type="button"
                  className={`history-entry history-${entry.decision}`}
                  data-pair-id={entry.pairId}
                  data-decision={String(entry.decision)}
                  data-disagrees={disagrees ? 'true' : undefined}
                  aria-current={entry.pairId === shownId ? 'true' : undefined}
                  aria-label={`Revisit pair ${entry.pairId}: ${verdict}. ${entry.prompt}`}
                  title={disagrees ? `${entry.prompt} (disagrees with ${modelName})` : entry.prompt}
                  onMouseDown={(e) => e.preventDefault()}
                  onClick={() => void revisit(entry.pairId)}
                >
                  {disagrees && <span className="history-disagrees" aria-hidden="true" />}
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
