/** What a key means in the labeling view; the one place that maps keys to commands. */
export type Choice = 'left' | 'right' | 'tie' | 'skip';
export type Command =
  | { kind: 'choose'; choice: Choice }
  | { kind: 'undo' }
  | { kind: 'help' }
  | { kind: 'escape' }
  | { kind: 'suggestions' };

type KeyInfo = Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'altKey' | 'shiftKey'>;

export const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);

export function commandForKey(event: KeyInfo): Command | null {
  const { key, ctrlKey, metaKey, altKey, shiftKey } = event;
  if (altKey) return null;
  // Ctrl+Z anywhere, Cmd+Z on a mac; Shift+Ctrl+Z (redo elsewhere) means nothing here.
  if ((ctrlKey || metaKey) && !shiftKey && key.toLowerCase() === 'z') return { kind: 'undo' };
  if (ctrlKey || metaKey) return null;
  switch (key) {
    case 'ArrowLeft':
    case '1':
      return { kind: 'choose', choice: 'left' };
    case 'ArrowRight':
    case '2':
      return { kind: 'choose', choice: 'right' };
    case 'ArrowDown':
    case '3':
      return { kind: 'choose', choice: 'tie' };
    case ' ':
      return { kind: 'choose', choice: 'skip' };
    case 'Backspace':
      return { kind: 'undo' };
    case '?':
      return { kind: 'help' };
    case 's':
    case 'S':
      return { kind: 'suggestions' };
    case 'Escape':
      return { kind: 'escape' };
    default:
      return null;
  }
}

/** Where a key must keep its usual meaning: typing in a field, or pressing a focused button. */
export function keyBelongsToTarget(event: Pick<KeyboardEvent, 'key' | 'target'>): boolean {
  const target = event.target;
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target.closest('input, textarea, select')) return true;
  return (event.key === ' ' || event.key === 'Enter') && target.closest('button, a[href]') !== null;
}

/** The keys for each command as the shortcut sheet and the buttons describe them. */
export const UNDO_KEYS = isMac ? 'Backspace or ⌘Z' : 'Backspace or Ctrl+Z';
export const UNDO_ARIA_KEYS = isMac ? 'Backspace Meta+Z' : 'Backspace Control+Z';
