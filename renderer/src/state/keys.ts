/**
 * The key tables of shared/keys.ts read for the page: the command a keydown means in each view,
 * and the keys as the buttons and hints name them.
 */
import {
  ariaKeys,
  bindingFor,
  commandFor,
  decisionFor,
  describeKeys,
  GO_KEYS,
  LABELING_KEYS,
  REVIEW_KEYS,
  type DecisionCommand,
  type Destination,
  type KeyInfo,
  type LabelingCommand,
  type ReviewCommand,
} from '../../../shared/keys';
import type { Decision } from '../../../shared/labels';
import type { Shown } from './labeling';

/** Cmd stands in for Ctrl, and the keys are written ⌘Z, on Apple's systems. */
export const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);

export const labelingCommandFor = (event: KeyInfo): LabelingCommand | null =>
  commandFor(LABELING_KEYS, event);

export const reviewCommandFor = (event: KeyInfo): ReviewCommand | null =>
  commandFor(REVIEW_KEYS, event);

/** The destination of the second key of a `g` chord, or null. */
export const destinationFor = (event: KeyInfo): Destination | null => commandFor(GO_KEYS, event);

/** How long after `g` its second key counts. */
export const GO_CHORD_MS = 1500;

/**
 * What a deciding key or button means for the pair on screen: the side becomes an image index
 * here, against the showing the store holds at the keypress, so the decision is the pair's.
 */
export function decisionOnScreen(command: DecisionCommand, shown: Shown | null): Decision | null {
  return shown ? decisionFor(command, shown.prepared.pair.leftImage) : null;
}

/** Inputs that are choices, not text: a click or Space is all they take from the keyboard. */
const CHOICE_INPUTS = 'input[type=radio], input[type=checkbox]';

/** Where a key must keep its usual meaning: typing in a field, or pressing a focused button. */
export function keyBelongsToTarget(event: Pick<KeyboardEvent, 'key' | 'target'>): boolean {
  const target = event.target;
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target.closest(`textarea, select, input:not(${CHOICE_INPUTS})`)) return true;
  // A button, link, radio button or checkbox takes Space and Enter, nothing else: the arrows,
  // which would move a focused filter's choice, stay the view's verdict keys.
  return (
    (event.key === ' ' || event.key === 'Enter') &&
    target.closest(`button, a[href], ${CHOICE_INPUTS}`) !== null
  );
}

/** A labeling command's keys as people read them ("← or 1") and as aria-keyshortcuts has them. */
export function labelingKeys(command: LabelingCommand): { keys: string; aria: string } {
  const binding = bindingFor(LABELING_KEYS, command);
  return { keys: describeKeys(binding, isMac), aria: ariaKeys(binding, isMac) };
}

/** The same for review's commands. */
export function reviewKeys(command: ReviewCommand): { keys: string; aria: string } {
  const binding = bindingFor(REVIEW_KEYS, command);
  return { keys: describeKeys(binding, isMac), aria: ariaKeys(binding, isMac) };
}

export const UNDO_KEYS = labelingKeys('undo').keys;
export const UNDO_ARIA_KEYS = labelingKeys('undo').aria;
