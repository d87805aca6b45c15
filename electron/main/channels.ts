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
