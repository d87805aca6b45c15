import { useState } from 'react';
import { MAX_FLAG_NOTE } from '../../../shared/api';
import { labelingKeys } from '../state/keys';
import { useLabeling } from '../state/labeling';
import { useNotes } from '../state/notes';
import { useFocusWhileOpen, useModalKeys } from './useModalKeys';
import { ModalSheet } from './ModalSheet';

/** Notes offered by number key while the field is empty. */
export const QUICK_NOTES = ['broken image', 'offensive', 'prompt unclear'] as const;

/** The annotator's flag on the pair on screen: this session's change, else the pair's own. */
export function useFlagOnScreen(): { pairId: number; note: string | null } | null {
  const pair = useLabeling((s) => s.shown?.prepared.pair ?? null);
  const flags = useNotes((s) => s.flags);
  if (!pair) return null;
  return {
    pairId: pair.pairId,
    note: pair.pairId in flags ? flags[pair.pairId]! : (pair.flag ?? null),
  };
}

function QuickNotes({ pick }: { pick: (note: string) => void }) {
  return (
    <ol className="flag-quick" aria-label="Quick notes (number keys, field empty)">
      {QUICK_NOTES.map((text, i) => (
        <li key={text}>
          <button
            type="button"
            tabIndex={-1}
            onMouseDown={(e) => e.preventDefault()}
            onClick={() => pick(text)}
          >
            <kbd>{i + 1}</kbd> {text}
          </button>
        </li>
      ))}
    </ol>
  );
}

function FlagKeys({ editing }: { editing: boolean }) {
  return (
    <p className="hint" id="flag-keys">
      With the field empty, <kbd>1</kbd>–<kbd>{QUICK_NOTES.length}</kbd> pick a note.{' '}
      <kbd>Enter</kbd> saves{editing ? ' (an empty note removes the flag)' : ''},{' '}
      <kbd>{labelingKeys('escape').keys}</kbd> cancels. A flag decides nothing.
    </p>
  );
}

/**
 * `f`: flags the pair on screen with a short note. Type it, or with the field empty press 1 to 3
 * for a quick note; Enter saves, Esc cancels, Enter on an empty field removes the flag. A flag
 * decides nothing: the pair stays on screen.
 */
export function FlagDialog({ annotator }: { annotator: string }) {
  // The pair on screen when `f` was pressed, even if another comes up meanwhile (a reveal ending).
  const [flag] = useState(useFlagOnScreen());
  const error = useNotes((s) => s.flagError);
  const [note, setNote] = useState(flag?.note ?? '');
  const [saving, setSaving] = useState(false);
  const field = useFocusWhileOpen<HTMLInputElement>();
  const close = (): void => useNotes.getState().setPanel(null);
  const save = async (): Promise<void> => {
    if (!flag || saving) return;
    if (note.trim() === '' && flag.note === null) return close();
    setSaving(true);
    const saved = await useNotes.getState().saveFlag(annotator, flag.pairId, note);
    setSaving(false);
    if (saved) {
      close();
      useLabeling
        .getState()
        .announce(note.trim() === '' ? 'Flag removed.' : `Pair flagged: ${note.trim()}.`);
    }
  };
  useModalKeys((event) => {
    if (event.key === 'Escape') {
      close();
      return true;
    }
    if (event.key === 'Enter') {
      void save();
      return true;
    }
    const quick = QUICK_NOTES[Number(event.key) - 1];
    if (note === '' && quick !== undefined && !event.ctrlKey && !event.metaKey && !event.altKey) {
      setNote(quick);
      return true;
    }
    return false;
  });
  if (!flag) return null;
  return (
    <ModalSheet
      className="notes-panel flag-dialog"
      titleId="flag-title"
      data-testid="flag-dialog"
      onClose={close}
    >
      <h2 id="flag-title">{flag.note === null ? 'Flag this pair' : 'Edit the flag'}</h2>
      <label htmlFor="flag-note">What is wrong with it?</label>
      <input
        ref={field}
        id="flag-note"
        className="flag-note"
        data-testid="flag-note"
        type="text"
        autoComplete="off"
        maxLength={MAX_FLAG_NOTE}
        value={note}
        disabled={saving}
        aria-describedby="flag-keys"
        onChange={(e) => setNote(e.target.value)}
      />
      <QuickNotes pick={setNote} />
      {error !== null && (
        <p className="flag-error" role="alert" data-testid="flag-error">
          {error}
        </p>
      )}
      <FlagKeys editing={flag.note !== null} />
    </ModalSheet>
  );
}

/** The pair on screen is flagged: its note, above the verdict keys. */
export function FlagBadge() {
  const flag = useFlagOnScreen();
  if (!flag || flag.note === null) return null;
  return (
    <p className="flag-badge" data-testid="flag-badge">
      <span aria-hidden="true">⚑ </span>
      Flagged: <span className="flag-badge-note">{flag.note}</span>{' '}
      <span className="hint">
        (<kbd>F</kbd> to edit)
      </span>
    </p>
  );
}
