import type { PageApi } from '../../shared/api';
import { StudioError } from '../../shared/errors';
import { createHttpStudio } from './transport/http';

/**
 * The page's one door to the core; it does not know which transport is behind it: the preload's
 * IPC in Electron, or HTTP to `pickstudio serve` in a browser.
 */
export const studio: PageApi = 'studio' in window ? window.studio : createHttpStudio();

/**
 * Over Electron's context bridge a failure arrives as a plain `{ code, message }`, since the bridge
 * would strip an Error down to its message; this makes any rejection a StudioError again.
 */
export function asStudioError(error: unknown): StudioError {
  return error instanceof StudioError ? error : StudioError.fromJSON(error);
}
