/**
 * The IPC wire format, shared by main and the preload (which bundles this file, so it imports
 * nothing from Electron or core).
 */
import type { StudioEventName } from '../../shared/api';
import type { ErrorCode } from '../../shared/errors';

/**
 * What every `studio:*` channel answers. Electron passes only the message of an error thrown in a
 * handler, so failures travel as data and keep their code.
 */
export type IpcReply =
  | { ok: true; value: unknown }
  | { ok: false; error: { code: ErrorCode; message: string } };

export const methodChannel = (method: string): string => `studio:${method}`;
export const eventChannel = (event: StudioEventName): string => `studio:event:${event}`;

/**
 * Images reach the page through a custom protocol rather than IPC, so <img> can load them
 * directly; the uid is a lookup key in the project, encoded as one path segment.
 */
export const IMAGE_SCHEME = 'pickstudio-image';
const IMAGE_HOST = 'image';
export const imageUrl = (uid: string): string =>
  `${IMAGE_SCHEME}://${IMAGE_HOST}/${encodeURIComponent(uid)}`;

/** The uid an image URL names, or null for any other URL. */
export function uidFromImageUrl(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  const match = /^\/([^/]+)$/.exec(parsed.pathname);
  if (parsed.protocol !== `${IMAGE_SCHEME}:` || parsed.host !== IMAGE_HOST || !match) return null;
  try {
    return decodeURIComponent(match[1]!);
  } catch {
    return null;
  }
}
