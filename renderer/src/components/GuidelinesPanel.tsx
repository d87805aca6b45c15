import { useState } from 'react';
import { labelingKeys } from '../state/keys';
import { useLabeling } from '../state/labeling';
import { useNotes } from '../state/notes';
import { useProject } from '../state/project';
import { Markdown } from './Markdown';
import { useFocusWhileOpen, useModalKeys } from './useModalKeys';
import { ModalSheet } from './ModalSheet';

const LINE_PX = 48;

/** Scrolls the panel's text for a key; false for a key that does not scroll. */
function scrollFor(body: HTMLElement, event: KeyboardEvent): boolean {
  const page = Math.max(LINE_PX, body.clientHeight - LINE_PX);
  const by: Record<string, number> = {
    ArrowDown: LINE_PX,
    ArrowUp: -LINE_PX,
    PageDown: page,
    PageUp: -page,
    ' ': event.shiftKey ? -page : page,
  };
  if (event.key === 'Home') body.scrollTop = 0;
  else if (event.key === 'End') body.scrollTop = body.scrollHeight;
  else if (by[event.key] !== undefined) body.scrollTop += by[event.key]!;
  else return false;
  return true;
}

function NoGuidelines() {
  const role = useProject((s) => s.team.role);
  return (
    <div className="guidelines-none" data-testid="guidelines-none">
      <p>This project has no labeling guidelines.</p>
      {role === 'lead' ? (
        <p>
          Write them in the audit view&apos;s Guidelines tab (<kbd>g</kbd> then <kbd>a</kbd>), or
          from a terminal: <code>pickstudio guidelines PROJECT FILE.md</code>.
        </p>
      ) : (
        <p>Your lead wrote none for this package: ask them when in doubt.</p>
      )}
    </div>
  );
}

/**
 * The lead's guidelines over the labeling view: before the annotator's first pair of each
 * version, and on `h`. Keyboard only: the arrows, Page Up/Down, Space, Home and End scroll;
 * Enter, Esc or `h` close; no other key reaches the view (no verdict is given while it is open).
 */
export function GuidelinesPanel({ annotator }: { annotator: string }) {
  const guidelines = useNotes((s) => s.guidelines);
  // Opened by itself (not read yet) or asked for with `h`: said in the title.
  const [unread] = useState(() => !useNotes.getState().seen(annotator));
  const body = useFocusWhileOpen<HTMLDivElement>();
  const close = (): void => {
    const notes = useNotes.getState();
    notes.markSeen(annotator);
    notes.setPanel(null);
    // Reading is not deciding: the pair's decision time starts again now.
    const { shown, painted } = useLabeling.getState();
    if (shown) painted(shown.seq, performance.now());
  };
  useModalKeys((event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return event.key !== 'Tab';
    if (event.key === 'Escape' || event.key === 'Enter' || event.key === 'h') {
      close();
      return true;
    }
    if (body.current && scrollFor(body.current, event)) return true;
    return event.key !== 'Tab';
  });
  const esc = labelingKeys('escape').keys;
  return (
    <ModalSheet
      className="notes-panel guidelines-panel"
      titleId="guidelines-title"
      aria-describedby="guidelines-keys"
      data-testid="guidelines-panel"
      data-unread={unread}
      onClose={close}
    >
      <h2 id="guidelines-title">
        {unread && guidelines ? 'Read the guidelines before labeling' : 'Labeling guidelines'}
      </h2>
      <div
        ref={body}
        className="notes-body"
        tabIndex={0}
        role="document"
        aria-label="Guidelines text"
        data-testid="guidelines-body"
      >
        {guidelines ? <Markdown text={guidelines.text} /> : <NoGuidelines />}
      </div>
      <p className="hint" id="guidelines-keys">
        <kbd>↑</kbd> <kbd>↓</kbd> <kbd>PgUp</kbd> <kbd>PgDn</kbd> scroll · <kbd>Enter</kbd> or{' '}
        <kbd>{esc}</kbd> {unread && guidelines ? 'to start labeling' : 'to close'} · <kbd>H</kbd>{' '}
        shows them again
      </p>
      <button type="button" onClick={close} data-testid="guidelines-close">
        {unread && guidelines ? 'Start labeling' : 'Close'} (Enter)
      </button>
    </ModalSheet>
  );
}
