import { memo, type MouseEvent } from 'react';
import { UNDO_ARIA_KEYS, UNDO_KEYS, type Choice } from '../state/keys';
import { useLabeling } from '../state/labeling';

interface ChoiceButton {
  choice: Choice;
  text: string;
  keys: string;
  label: string;
  shortcuts: string;
}

export const CHOICE_BUTTONS: ChoiceButton[] = [
  {
    choice: 'left',
    text: 'Left is better',
    keys: '← or 1',
    label: 'Left image is better (Left arrow or 1)',
    shortcuts: 'ArrowLeft 1',
  },
  {
    choice: 'tie',
    text: 'Tie',
    keys: '↓ or 3',
    label: 'Tie: both images are as good (Down arrow or 3)',
    shortcuts: 'ArrowDown 3',
  },
  {
    choice: 'right',
    text: 'Right is better',
    keys: '→ or 2',
    label: 'Right image is better (Right arrow or 2)',
    shortcuts: 'ArrowRight 2',
  },
  {
    choice: 'skip',
    text: 'Skip',
    keys: 'Space',
    label: 'Skip this pair (Space)',
    shortcuts: 'Space',
  },
];

/** Clicking must not leave focus on a button, where Space would press it again. */
const keepFocus = (event: MouseEvent): void => event.preventDefault();

function currentChoice(decision: 0 | 1 | 'tie' | 'skip' | null, leftImage: 0 | 1): Choice | null {
  if (decision === null || decision === 'tie' || decision === 'skip') return decision;
  return decision === leftImage ? 'left' : 'right';
}

/** The verdict keys as buttons: every key has one, so the mouse works too. */
export const VerdictBar = memo(function VerdictBar() {
  const shown = useLabeling((s) => s.shown);
  const choose = useLabeling((s) => s.choose);
  const undo = useLabeling((s) => s.undo);
  const setSheetOpen = useLabeling((s) => s.setSheetOpen);
  const pair = shown?.prepared.pair;
  // Revisiting, the buttons show the decision that stands; in the queue they are plain buttons.
  const revisiting = pair !== undefined && shown?.origin !== 'queue';
  const current = revisiting ? currentChoice(pair.decision, pair.leftImage) : null;

  return (
    <div className="verdicts" role="toolbar" aria-label="Decision">
      {CHOICE_BUTTONS.map((button) => (
        <button
          key={button.choice}
          type="button"
          className={`verdict verdict-${button.choice}`}
          aria-label={button.label}
          aria-keyshortcuts={button.shortcuts}
          aria-pressed={revisiting ? current === button.choice : undefined}
          data-testid={`verdict-${button.choice}`}
          disabled={!shown}
          onMouseDown={keepFocus}
          onClick={() => void choose(button.choice)}
        >
          <span className="verdict-text">{button.text}</span>
          <kbd>{button.keys}</kbd>
        </button>
      ))}
      <button
        type="button"
        className="verdict verdict-undo"
        aria-label={`Undo the last decision (${UNDO_KEYS})`}
        aria-keyshortcuts={UNDO_ARIA_KEYS}
        data-testid="verdict-undo"
        onMouseDown={keepFocus}
        onClick={() => void undo()}
      >
        <span className="verdict-text">Undo</span>
        <kbd>{UNDO_KEYS.replace(' or ', ' / ')}</kbd>
      </button>
      <button
        type="button"
        className="verdict verdict-help"
        aria-label="Keyboard shortcuts (?)"
        aria-keyshortcuts="?"
        onMouseDown={keepFocus}
        onClick={() => setSheetOpen(true)}
      >
        <kbd>?</kbd>
      </button>
    </div>
  );
});
