import { useEffect, useRef } from 'react';
import { UNDO_KEYS } from '../state/keys';
import { useLabeling } from '../state/labeling';

const ROWS: [string, string][] = [
  ['← or 1', 'Left image is better'],
  ['→ or 2', 'Right image is better'],
  ['↓ or 3', 'Tie: both are as good'],
  ['Space', 'Skip this pair'],
  [UNDO_KEYS, 'Undo the last decision (again to go further back)'],
  ['Esc', 'Back to the queue from a revisited pair; closes this sheet'],
  ['S', "Cycle the model's suggestions (whole project): hidden, after the verdict, before it"],
  ['?', 'Show or hide this sheet'],
  ['g then a', "The lead's audit view: dashboard (g d) and review (g r); g l comes back"],
];

export function ShortcutSheet() {
  const setSheetOpen = useLabeling((s) => s.setSheetOpen);
  const dialog = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const previous = document.activeElement;
    dialog.current?.focus();
    return () => {
      if (previous instanceof HTMLElement) previous.focus();
    };
  }, []);
  return (
    <div className="sheet-backdrop" onClick={() => setSheetOpen(false)}>
      <div
        ref={dialog}
        className="sheet"
        role="dialog"
        aria-modal="true"
        aria-labelledby="sheet-title"
        data-testid="shortcut-sheet"
        tabIndex={-1}
        onClick={(e) => e.stopPropagation()}
      >
        <h2 id="sheet-title">Keyboard shortcuts</h2>
        <table>
          <tbody>
            {ROWS.map(([keys, what]) => (
              <tr key={what}>
                <th scope="row">
                  <kbd>{keys}</kbd>
                </th>
                <td>{what}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p className="hint">Keys do nothing while you type in a field.</p>
        <button type="button" onClick={() => setSheetOpen(false)}>
          Close (Esc)
        </button>
      </div>
    </div>
  );
}
