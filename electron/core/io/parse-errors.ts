/**
 * Why a JSON or CSV text did not parse, without the text: parsers quote their input in their
 * messages (V8's JSON.parse the start of the line, csv-parse the field), and the file may be
 * anything a path names (`/etc/passwd` renamed `.jsonl`). Only a position and a short reason go
 * out, never the parser's message.
 */

/** "not valid JSON", with the character where V8 says it broke when it says so. */
export function jsonSyntaxReason(error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  const position = /\bposition (\d+)/.exec(message);
  return position ? `not valid JSON at character ${Number(position[1]) + 1}` : 'not valid JSON';
}

const CSV_REASONS: Record<string, string> = {
  INVALID_OPENING_QUOTE: 'a quote inside a field that does not start with one',
  CSV_INVALID_CLOSING_QUOTE: 'text after a closing quote',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'text after a closing quote',
  CSV_QUOTE_NOT_CLOSED: 'a quote that is never closed',
  CSV_RECORD_INCONSISTENT_FIELDS_LENGTH: 'a row with another number of fields than the header',
  CSV_RECORD_INCONSISTENT_COLUMNS: 'a row with another number of fields than the header',
  CSV_MAX_RECORD_SIZE: 'a row too long',
};

/** "line N: why", from csv-parse's error code and line count; its message is never used. */
export function csvSyntaxReason(error: unknown): string {
  const { code, lines } = (error ?? {}) as { code?: unknown; lines?: unknown };
  const why = (typeof code === 'string' && CSV_REASONS[code]) || 'unreadable';
  return typeof lines === 'number' && Number.isSafeInteger(lines) ? `line ${lines}: ${why}` : why;
}
