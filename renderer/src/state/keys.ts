import type { Verdict } from '../../../shared/labels';
import type { Destination } from './view';

/** What a key means in each view; the one place that maps keys to commands. */
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

/**
 * In review, image 0 is always on the left and image 1 on the right, so the labeling keys for the
 * left image, the right image and a tie are the verdicts 0, 1 and tie as they are.
 */
export type ReviewCommand =
  | { kind: 'adjudicate'; verdict: Verdict }
  | { kind: 'move'; by: 1 | -1 }
  | { kind: 'note' };

export function reviewCommandForKey(event: KeyInfo): ReviewCommand | null {
  const command = commandForKey(event);
  if (command?.kind === 'choose') {
    const { choice } = command;
    if (choice === 'skip') return null;
    return { kind: 'adjudicate', verdict: choice === 'tie' ? 'tie' : choice === 'left' ? 0 : 1 };
  }
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  switch (event.key) {
    case 'j':
      return { kind: 'move', by: 1 };
    case 'k':
      return { kind: 'move', by: -1 };
    case 'n':
      return { kind: 'note' };
    default:
      return null;
  }
}

/**
 * `g` then a letter goes to a view. No single-key command uses these letters, so a chord never
 * decides a pair; the labeling keys stay single keys.
 */
/** How long after `g` its second key counts. */
export const GO_CHORD_MS = 1500;
const GO_KEYS: Record<string, Destination> = {
  l: 'labeling',
  a: 'audit',
  d: 'dashboard',
  r: 'review',
};

export function isGoPrefix(event: KeyInfo): boolean {
  return event.key === 'g' && !event.ctrlKey && !event.metaKey && !event.altKey;
}

/** The destination of the second key of a `g` chord, or null. */
export function destinationForKey(event: KeyInfo): Destination | null {
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  return GO_KEYS[event.key] ?? null;
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
