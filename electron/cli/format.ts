/** Counts as people read them: 20,000 rather than 20000. */
export const number = new Intl.NumberFormat('en-US');

/** C0 controls but newline and tab, DEL, and C1 controls (0x9b alone starts a sequence, as ESC [). */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Text for the terminal, with each control character spelt out as `\u001b` instead. Captions,
 * file names and annotator names come from other people's files, and a terminal obeys the escape
 * sequences in them: clearing the screen, rewriting what was printed above, setting the window's
 * title or the clipboard. The spelling is JSON's, so JSON passes through with the same value.
 */
export function terminalText(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
