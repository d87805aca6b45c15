import path from 'node:path';
import { StudioError } from '../../../shared/errors';

/**
 * A later file's failure in a run of files that each land in a transaction of their own: the
 * message adds that nothing of this file was taken and names the earlier files that were.
 */
export function failureAfterKept(
  error: unknown,
  kept: readonly { file: string }[],
  taken: 'imported' | 'merged',
): unknown {
  if (kept.length === 0 || !(error instanceof StudioError)) return error;
  const names = kept.map((r) => path.basename(r.file)).join(', ');
  return new StudioError(
    error.code,
    `${error.message} (nothing from this file was ${taken}; already ${taken} and kept: ${names})`,
    { cause: error },
  );
}
