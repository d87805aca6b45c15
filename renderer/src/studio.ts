import type { StudioApi } from '../../shared/api';
import { StudioError } from '../../shared/errors';

/** The page's one door to the core; it does not know which transport is behind it. */
export const studio: StudioApi = window.studio;

/**
 * Over Electron's context bridge a failure arrives as a plain `{ code, message }`, since the bridge
 * would strip an Error down to its message; this makes any rejection a StudioError again.
 */
export function asStudioError(error: unknown): StudioError {
  return error instanceof StudioError ? error : StudioError.fromJSON(error);
}
