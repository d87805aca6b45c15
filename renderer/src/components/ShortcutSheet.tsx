import { useEffect, useRef } from 'react';
import { shortcutRows } from '../../../shared/keys';
import { isMac, labelingKeys } from '../state/keys';
import { useLabeling } from '../state/labeling';
import { useProject } from '../state/project';
import { ModalSheet } from './ModalSheet';

/**
 * The labeling keys and the `g` chords, written from their tables (shared/keys.ts); in an
 * annotator's package the labeling keys alone, since it has no other view.
 */
export function ShortcutSheet() {
  const setSheetOpen = useLabeling((s) => s.setSheetOpen);
  const role = useProject((s) => s.team.role);
  const rows = shortcutRows(isMac, role);
  const dialog = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const previous = document.activeElement;
    dialog.current?.focus();
    return () => {
      if (previous instanceof HTMLElement) previous.focus();
    };
  }, []);
  return (
    <ModalSheet
      ref={dialog}
      titleId="sheet-title"
      data-testid="shortcut-sheet"
      tabIndex={-1}
      onClose={() => setSheetOpen(false)}
    >
      <h2 id="sheet-title">Keyboard shortcuts</h2>
      <table>
        <tbody>
          {rows.map(({ keys, does }) => (
            <tr key={keys}>
              <th scope="row">
                <kbd>{keys}</kbd>
              </th>
              <td>{does}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="hint">Keys do nothing while you type in a field.</p>
      <button type="button" onClick={() => setSheetOpen(false)}>
        Close ({labelingKeys('escape').keys})
      </button>
    </ModalSheet>
  );
}
