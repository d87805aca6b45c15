import { useEffect, useState, type KeyboardEvent } from 'react';
import { MAX_GUIDELINES_BYTES } from '../../../shared/api';
import { studio } from '../studio';
import { useNotes } from '../state/notes';
import { describeError } from '../state/project';
import { Markdown } from './Markdown';
import './notes.css';

const bytesOf = (text: string): number => new TextEncoder().encode(text).length;

type Status = { saving: boolean; message: string | null; error: boolean };

async function saveGuidelines(
  shown: string,
  tooBig: boolean,
  status: Status,
  setStatus: (status: Status) => void,
  setText: (text: string | null) => void,
): Promise<void> {
  if (tooBig || status.saving) return;
  setStatus({ saving: true, message: 'Saving…', error: false });
  try {
    const saved = await studio.setGuidelines({ text: shown });
    useNotes.setState({ guidelines: saved });
    setText(null);
    setStatus({
      saving: false,
      message: saved
        ? 'Saved. Annotators see them before their next pair.'
        : 'Removed: the project has no guidelines now.',
      error: false,
    });
  } catch (error) {
    setStatus({ saving: false, message: `Not saved: ${describeError(error)}`, error: true });
  }
}

/**
 * The lead writes the labeling guidelines here (Markdown), beside a preview as annotators see
 * them. Saved, they show to every annotator before their next pair; packages made afterwards
 * carry them. Ctrl+Enter (⌘Enter) or Ctrl+S saves from the field.
 */
export function GuidelinesEditor() {
  const stored = useNotes((s) => s.guidelines);
  const [text, setText] = useState<string | null>(null);
  const [status, setStatus] = useState<Status>({ saving: false, message: null, error: false });
  useEffect(() => {
    void useNotes.getState().load();
  }, []);
  // The field starts from what the project has, once that is read.
  const shown = text ?? (stored === undefined ? '' : (stored?.text ?? ''));
  const bytes = bytesOf(shown);
  const tooBig = bytes > MAX_GUIDELINES_BYTES;
  const changed = stored !== undefined && shown !== (stored?.text ?? '');

  const save = (): Promise<void> => saveGuidelines(shown, tooBig, status, setStatus, setText);
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>): void => {
    const command = event.ctrlKey || event.metaKey;
    if (command && (event.key === 'Enter' || event.key.toLowerCase() === 's')) {
      event.preventDefault();
      void save();
    }
  };

  return (
    <section
      className="guidelines-editor"
      aria-label="Labeling guidelines"
      data-testid="guidelines-editor"
    >
      <div className="guidelines-editor-column">
        <label htmlFor="guidelines-text">Guidelines (Markdown)</label>
        <textarea
          id="guidelines-text"
          data-testid="guidelines-text"
          value={shown}
          disabled={stored === undefined}
          spellCheck
          aria-describedby="guidelines-size"
          onChange={(e) => {
            setText(e.target.value);
            setStatus({ saving: false, message: null, error: false });
          }}
          onKeyDown={onKeyDown}
        />
      </div>
      <div className="guidelines-editor-column">
        <span>As annotators see them</span>
        <div className="notes-body" data-testid="guidelines-preview">
          {shown.trim() === '' ? <p className="hint">No guidelines.</p> : <Markdown text={shown} />}
        </div>
      </div>
      <div className="guidelines-editor-actions">
        <button
          type="button"
          data-testid="guidelines-save"
          disabled={!changed || tooBig || status.saving}
          onClick={() => void save()}
        >
          Save (Ctrl+Enter)
        </button>
        <p id="guidelines-size" className={tooBig ? 'flag-error' : 'hint'}>
          {bytes.toLocaleString('en')} of {MAX_GUIDELINES_BYTES.toLocaleString('en')} bytes
          {tooBig ? ': too long to save' : ''}
        </p>
        <p
          role="status"
          className={status.error ? 'flag-error' : 'hint'}
          data-testid="guidelines-status"
        >
          {status.message}
        </p>
      </div>
    </section>
  );
}
