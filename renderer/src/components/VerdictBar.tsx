import { memo, type MouseEvent } from 'react';
import type { DecisionCommand } from '../../../shared/keys';
import { decisionOnScreen, labelingKeys, UNDO_ARIA_KEYS, UNDO_KEYS } from '../state/keys';
import { useLabeling } from '../state/labeling';

/** The deciding buttons, left to right as on screen; their keys come from LABELING_KEYS. */
const DECISION_BUTTONS: { command: DecisionCommand; text: string }[] = [
  { command: 'left', text: 'Left is better' },
  { command: 'tie', text: 'Tie' },
  { command: 'right', text: 'Right is better' },
  { command: 'skip', text: 'Skip' },
];

const UNDO_SHOWN = UNDO_KEYS.replace(' or ', ' / ');

/** Clicking must not leave focus on a button, where Space would press it again. */
const keepFocus = (event: MouseEvent): void => event.preventDefault();

/** A click decides as the key does: against the pair the store has on screen at that moment. */
function chooseOnScreen(command: DecisionCommand): void {
  const state = useLabeling.getState();
  const decision = decisionOnScreen(command, state.shown);
  if (decision !== null) void state.choose(decision);
}

/** The verdict keys as buttons: every key has one, so the mouse works too. */
export const VerdictBar = memo(function VerdictBar() {
  const shown = useLabeling((s) => s.shown);
  const undo = useLabeling((s) => s.undo);
  const setSheetOpen = useLabeling((s) => s.setSheetOpen);
  // Revisiting, the buttons show the decision that stands; in the queue they are plain buttons.
  const revisiting = shown !== null && shown.origin !== 'queue';
  const help = labelingKeys('help');

  return (
    <div className="verdicts" role="toolbar" aria-label="Decision">
      {DECISION_BUTTONS.map(({ command, text }) => {
        const { keys, aria } = labelingKeys(command);
        return (
          <button
            key={command}
            type="button"
            className={`verdict verdict-${command}`}
            // The name starts with the words on the button (WCAG 2.5.3, label in name).
            aria-label={`${text}, ${keys}`}
            aria-keyshortcuts={aria}
            aria-pressed={
              revisiting
                ? shown.prepared.pair.decision === decisionOnScreen(command, shown)
                : undefined
            }
            data-testid={`verdict-${command}`}
            disabled={!shown}
            onMouseDown={keepFocus}
            onClick={() => chooseOnScreen(command)}
          >
            <span className="verdict-text">{text}</span> <kbd>{keys}</kbd>
          </button>
        );
      })}
      <button
        type="button"
        className="verdict verdict-undo"
        aria-label={`Undo, ${UNDO_SHOWN}`}
        aria-keyshortcuts={UNDO_ARIA_KEYS}
        data-testid="verdict-undo"
        onMouseDown={keepFocus}
        onClick={() => void undo()}
      >
        <span className="verdict-text">Undo</span> <kbd>{UNDO_SHOWN}</kbd>
      </button>
      <button
        type="button"
        className="verdict verdict-help"
        aria-label={`Keyboard shortcuts (${help.keys})`}
        aria-keyshortcuts={help.aria}
        onMouseDown={keepFocus}
        onClick={() => setSheetOpen(true)}
      >
        <kbd>{help.keys}</kbd>
      </button>
    </div>
  );
});
