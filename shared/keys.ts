/**
 * Every key the studio answers to, defined once. The labeling and review views read their
 * commands from these tables; the shortcut sheet, the app menu's list, the buttons' key hints and
 * README's table are written from them (README's is checked by tests/unit/keys.test.ts).
 */
import { describeDecision, verdictOfSide, type Decision, type Verdict } from './labels';
import type { Role } from './api';

/** A key as a keydown event reports it (KeyboardEvent's fields; no DOM needed). */
export type KeyInfo = {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
};

/** The commands that decide a pair, named by the side of the screen (or neither). */
const VERDICT_COMMANDS = ['left', 'right', 'tie'] as const;
export type VerdictCommand = (typeof VERDICT_COMMANDS)[number];
export type DecisionCommand = VerdictCommand | 'skip';

export const isVerdictCommand = (command: string): command is VerdictCommand =>
  (VERDICT_COMMANDS as readonly string[]).includes(command);

export const isDecisionCommand = (command: string): command is DecisionCommand =>
  command === 'skip' || isVerdictCommand(command);

export type LabelingCommand =
  | DecisionCommand
  | 'undo'
  | 'escape'
  | 'help'
  | 'zoom'
  | 'guidelines'
  | 'flag';

export interface KeyBinding<C extends string> {
  command: C;
  /** The keys, as KeyboardEvent.key spells them, pressed without Ctrl, Cmd or Alt. */
  keys: readonly string[];
  /** Also this key with Ctrl (Cmd on a mac), without Shift. */
  withCommandKey?: string;
  /** What it does, as the shortcut sheet, the menu's list and README say it. */
  does: string;
}

export const LABELING_KEYS: readonly KeyBinding<LabelingCommand>[] = [
  { command: 'left', keys: ['ArrowLeft', '1'], does: 'The left image is better' },
  { command: 'right', keys: ['ArrowRight', '2'], does: 'The right image is better' },
  { command: 'tie', keys: ['ArrowDown', '3'], does: 'Tie: both are as good' },
  { command: 'skip', keys: [' '], does: 'Skip this pair' },
  {
    command: 'undo',
    keys: ['Backspace'],
    withCommandKey: 'z',
    does: 'Undo the last decision (again to go further back)',
  },
  {
    command: 'escape',
    keys: ['Escape'],
    does: 'Back to the queue from a revisited pair; closes the zoom, the shortcut sheet or a dialog',
  },
  { command: 'help', keys: ['?'], does: 'Show or hide the shortcut sheet' },
  { command: 'guidelines', keys: ['h'], does: "Show or hide the lead's labeling guidelines" },
  {
    command: 'flag',
    keys: ['f'],
    does: 'Flag this pair with a note, or edit its flag (decides nothing)',
  },
  { command: 'zoom', keys: ['z', 'Z'], does: 'Zoom both images to full size (1:1), or back' },
];

export type ZoomCommand = 'pan-left' | 'pan-right' | 'pan-up' | 'pan-down' | 'centre';

/**
 * While the pair is zoomed the arrows pan both images together, and decide nothing; with Shift a
 * step is most of a screen. `z` or Esc (LABELING_KEYS) ends the zoom; the deciding keys wait.
 */
export const ZOOM_KEYS: readonly KeyBinding<ZoomCommand>[] = [
  { command: 'pan-left', keys: ['ArrowLeft'], does: 'Zoomed: pan left (Shift: a screenful)' },
  { command: 'pan-right', keys: ['ArrowRight'], does: 'Zoomed: pan right (Shift: a screenful)' },
  { command: 'pan-up', keys: ['ArrowUp'], does: 'Zoomed: pan up (Shift: a screenful)' },
  { command: 'pan-down', keys: ['ArrowDown'], does: 'Zoomed: pan down (Shift: a screenful)' },
  { command: 'centre', keys: ['Home'], does: 'Zoomed: back to the centre' },
];

/** The verdict a deciding command gives, given the image shown on the left. */
export function verdictFor(command: VerdictCommand, leftImage: 0 | 1): Verdict {
  return command === 'tie' ? 'tie' : verdictOfSide(command, leftImage);
}

/** The decision a deciding command gives, given the image shown on the left. */
export function decisionFor(command: DecisionCommand, leftImage: 0 | 1): Decision {
  return command === 'skip' ? 'skip' : verdictFor(command, leftImage);
}

/** Review always shows image 0 on the left, so labeling's side keys adjudicate 0, 1 and tie. */
export const REVIEW_LEFT_IMAGE = 0;

export type ReviewCommand = VerdictCommand | 'next' | 'previous' | 'note';

/** `does` here is the review panel's hint: "image 0", "next pair". */
export const REVIEW_KEYS: readonly KeyBinding<ReviewCommand>[] = [
  ...LABELING_KEYS.filter((binding): binding is KeyBinding<VerdictCommand> =>
    isVerdictCommand(binding.command),
  ).map((binding) => ({
    ...binding,
    does: describeDecision(verdictFor(binding.command, REVIEW_LEFT_IMAGE), 'by-index'),
  })),
  { command: 'next', keys: ['j'], does: 'next pair' },
  { command: 'previous', keys: ['k'], does: 'previous pair' },
  { command: 'note', keys: ['n'], does: 'note' },
];

export type Destination = 'labeling' | 'audit' | 'dashboard' | 'review' | 'merges';

/**
 * `g` then a letter goes to a view. No labeling or review key uses `g` or these letters, so a
 * chord never decides a pair.
 */
export const GO_PREFIX = 'g';
export const GO_KEYS: readonly KeyBinding<Destination>[] = [
  { command: 'labeling', keys: ['l'], does: 'Labeling' },
  { command: 'audit', keys: ['a'], does: "The lead's audit view, where it was left" },
  { command: 'dashboard', keys: ['d'], does: 'The audit dashboard' },
  { command: 'review', keys: ['r'], does: 'The review list' },
  { command: 'merges', keys: ['m'], does: 'The packages and projects merged in' },
];

/** The binding of a command; every command has exactly one. */
export function bindingFor<C extends string>(
  bindings: readonly KeyBinding<C>[],
  command: C,
): KeyBinding<C> {
  const binding = bindings.find((b) => b.command === command);
  if (!binding) throw new Error(`no key is bound to ${command}`);
  return binding;
}

const hasModifier = (event: KeyInfo): boolean => event.ctrlKey || event.metaKey || event.altKey;

/** The command a keydown means under these bindings, or null. Shift is part of the key. */
export function commandFor<C extends string>(
  bindings: readonly KeyBinding<C>[],
  event: KeyInfo,
): C | null {
  // Shift+Ctrl+Z (redo elsewhere) means nothing here.
  const commandKey = (event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey;
  for (const binding of bindings) {
    if (!hasModifier(event) && binding.keys.includes(event.key)) return binding.command;
    if (commandKey && binding.withCommandKey === event.key.toLowerCase()) return binding.command;
  }
  return null;
}

export function isGoPrefix(event: KeyInfo): boolean {
  return event.key === GO_PREFIX && !hasModifier(event);
}

const KEY_NAMES: Record<string, string> = {
  ArrowLeft: '←',
  ArrowRight: '→',
  ArrowDown: '↓',
  ArrowUp: '↑',
  ' ': 'Space',
  Escape: 'Esc',
};

/** A binding's keys as people read them: "← or 1", "Backspace or Ctrl+Z" (⌘Z on a mac). */
export function describeKeys(binding: KeyBinding<string>, mac: boolean): string {
  const names = [
    ...new Set(binding.keys.map((k) => KEY_NAMES[k] ?? (k.length === 1 ? k.toUpperCase() : k))),
  ];
  if (binding.withCommandKey) {
    const key = binding.withCommandKey.toUpperCase();
    names.push(mac ? `⌘${key}` : `Ctrl+${key}`);
  }
  return names.join(' or ');
}

/** The keys as Playwright and aria-keyshortcuts spell them: "Backspace Control+Z". */
export function ariaKeys(binding: KeyBinding<string>, mac: boolean): string {
  const names = binding.keys.map((k) => (k === ' ' ? 'Space' : k));
  if (binding.withCommandKey) {
    names.push(`${mac ? 'Meta' : 'Control'}+${binding.withCommandKey.toUpperCase()}`);
  }
  return names.join(' ');
}

/** A `g` chord as people read it: "g then a". */
export function describeChord(binding: KeyBinding<Destination>): string {
  return `${GO_PREFIX} then ${binding.keys.join(' or ')}`;
}

/** The zoom's rows of the shortcut sheet: the four pan keys in one, then the rest. */
export function zoomRows(mac: boolean): { keys: string; does: string }[] {
  const pans = ZOOM_KEYS.filter((b) => b.command.startsWith('pan-'));
  return [
    {
      keys: pans.map((b) => describeKeys(b, mac)).join(' '),
      does: 'Zoomed: pan both images (Shift: a screenful); no verdict',
    },
    ...ZOOM_KEYS.filter((b) => !pans.includes(b)).map((b) => ({
      keys: describeKeys(b, mac),
      does: b.does,
    })),
  ];
}

/** The shortcut sheet's rows: the labeling keys, the zoom's, then the `g` chords. */
export function shortcutRows(mac: boolean, role: Role = 'lead'): { keys: string; does: string }[] {
  return [
    ...LABELING_KEYS.map((b) => ({ keys: describeKeys(b, mac), does: b.does })),
    ...zoomRows(mac),
    // A package labels only: there is no view to go to.
    ...(role === 'lead' ? GO_KEYS.map((b) => ({ keys: describeChord(b), does: b.does })) : []),
  ];
}

/** The shortcut list as lines of text ("keys  –  what"), for the app menu's dialog. */
export function shortcutLines(mac: boolean, role: Role = 'lead'): string[] {
  return shortcutRows(mac, role).map((row) => `${row.keys}  –  ${row.does}`);
}
