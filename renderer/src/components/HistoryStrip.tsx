import { memo, useMemo } from 'react';
import { isDisagreement, type HistoryEntry } from '../../../shared/api';
import { describeDecision, sideOf, type Seen } from '../../../shared/labels';
import { useLabeling } from '../state/labeling';
import { useProject } from '../state/project';

/** How the entry's pair was seen: by side, or by index where no side was recorded (a dataset's). */
const seenFor = (entry: HistoryEntry): Seen =>
  entry.leftImage === null ? 'by-index' : { leftImage: entry.leftImage };

/** The chip's mark: the side chosen (◀, ▶), as the keys name sides; else the image's index. */
function glyph(entry: HistoryEntry): string {
  const { decision, leftImage } = entry;
  // A symbol, as the others: the button's name says it in words ("skipped").
  if (decision === 'skip') return '↷';
  if (decision === 'tie') return '=';
  if (leftImage === null) return String(decision);
  return sideOf(decision, leftImage) === 'left' ? '◀' : '▶';
}

/** Entries in the strip (as in state/labeling/history.ts). */
const LENGTH = 10;

/**
 * The latest decisions, newest first; each opens its pair again to change it. A decision whose
 * save has not answered yet heads the strip marked saving (`data-saved`), in place of the pair's
 * standing entry, which comes back if the save fails. Decisions the model disagrees with are
 * marked, except in blind labeling, where the model's opinion is never shown.
 */
export const HistoryStrip = memo(function HistoryStrip() {
  const saved = useLabeling((s) => s.history);
  const saving = useLabeling((s) => s.savingEntry);
  const history = useMemo(
    () =>
      saving === null
        ? saved
        : [saving, ...saved.filter((h) => h.pairId !== saving.pairId)].slice(0, LENGTH),
    [saved, saving],
  );
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
            const disagrees =
              settings !== null &&
              settings.suggestionMode !== 'hidden' &&
              isDisagreement(entry.decision, entry.p0, settings.tieThreshold);
            const described = describeDecision(entry.decision, seenFor(entry));
            const modelName = entry.model ?? 'the model';
            const verdict = disagrees ? `${described}, disagrees with ${modelName}` : described;
            const isSaving = entry === saving;
            const state = isSaving ? ', saving' : '';
            return (
              <li key={isSaving ? `saving:${entry.pairId}` : entry.annotationId}>
                <button
                  type="button"
                  className={`history-entry history-${entry.decision}${isSaving ? ' history-saving' : ''}`}
                  data-pair-id={entry.pairId}
                  data-decision={String(entry.decision)}
                  data-saved={isSaving ? 'saving' : 'saved'}
                  data-disagrees={disagrees ? 'true' : undefined}
                  aria-current={entry.pairId === shownId ? 'true' : undefined}
                  aria-label={`Revisit pair ${entry.pairId}: ${verdict}${state}. ${entry.prompt}`}
                  title={disagrees ? `${entry.prompt} (disagrees with ${modelName})` : entry.prompt}
                  onMouseDown={(e) => e.preventDefault()}
                  onClick={() => void revisit(entry.pairId)}
                >
                  {disagrees && <span className="history-disagrees" aria-hidden="true" />}
                  <span className="history-verdict">{glyph(entry)}</span>
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
