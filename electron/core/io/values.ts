/** Conversions from what a Parquet/CSV/JSON reader hands back to the plain values the store keeps. */

const utf8 = new TextDecoder('utf-8', { fatal: false });

export function asString(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return utf8.decode(value);
  return String(value);
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
