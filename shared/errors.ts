/**
 * Errors that cross a door (IPC, HTTP, CLI) carry a code, so every transport can rebuild them and
 * the UI can react to the kind of failure rather than to message text.
 */
export const ERROR_CODES = [
  'invalid_argument',
  'unknown_method',
  'bad_input',
  'newer_project',
  'not_a_project',
  'not_found',
  // The method is the lead's, and this project is an annotator's package; or it names a file,
  // and the call came from the page (only the CLI and the app's main process may name one).
  'not_allowed',
  'busy',
  'read_only',
  'disk_full',
  // The door could not reach the studio: whether the call happened is not known.
  'unreachable',
  // The server refused the page's token or cookie: it was restarted (with a new token) since the
  // page was loaded. Nothing of the call happened.
  'session_ended',
  'cancelled',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class StudioError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StudioError';
    this.code = code;
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }

  static fromJSON(value: unknown): StudioError {
    const obj = (value ?? {}) as { code?: unknown; message?: unknown };
    const code = ERROR_CODES.includes(obj.code as ErrorCode) ? (obj.code as ErrorCode) : 'internal';
    return new StudioError(code, typeof obj.message === 'string' ? obj.message : String(value));
  }
}
