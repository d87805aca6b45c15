/** Conversions from what a Parquet/CSV/JSON reader hands back to the plain values the store keeps. */

const utf8 = new TextDecoder('utf-8', { fatal: false });
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The longest caption an import takes, in bytes of UTF-8. Pick-a-Pic's longest is under 2 kB
 * and CLIP reads 77 tokens; a longer one is a broken file, and stored whole it would be carried
 * by every reply that shows its pair (four 100 MB captions made an 800 MB project).
 */
export const MAX_CAPTION_BYTES = 64 * 1024;

/** Why a caption cannot be imported (its size), or null. */
export function captionProblem(caption: string, column: string): string | null {
  const bytes = Buffer.byteLength(caption);
  return bytes > MAX_CAPTION_BYTES
    ? `${column} is ${bytes.toLocaleString('en-US')} bytes long; captions are limited to ${MAX_CAPTION_BYTES.toLocaleString('en-US')} bytes of UTF-8`
    : null;
}

export function asString(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return utf8.decode(value);
  return String(value);
}

/**
 * Like asString, but bytes that are not UTF-8 are refused (a thrown Error saying so) rather
 * than turned into U+FFFD: the text would be changed without a word.
 */
export function asUtf8String(value: unknown): string | null {
  if (!(value instanceof Uint8Array)) return asString(value);
  try {
    return strictUtf8.decode(value);
  } catch {
    throw new Error('not valid UTF-8');
  }
}

export function asNumber(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return null;
}

/**
 * An int64 id exactly: Pick-a-Pic's ranking_id and user_id go past 2^53, where a number would
 * round two ids into one.
 */
export function asInt64(value: unknown): bigint | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) return BigInt(value.trim());
  return null;
}

export function asBoolean(value: unknown): boolean | null {
  if (value === null || value === undefined) return null;
  return Boolean(value);
}

/** Milliseconds since the epoch. */
export function asTimeMs(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'bigint') return Number(value / 1000n);
  if (typeof value === 'number') return value;
  return null;
}

export function asBytes(value: unknown): Uint8Array | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Uint8Array) return value;
  return null;
}
