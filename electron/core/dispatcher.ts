import {
  LABELING_METHODS,
  LEAD_ONLY_METHODS,
  LOCAL_ONLY_METHODS,
  studioContract,
  type Role,
  type StudioMethod,
} from '../../shared/api';
import { StudioError } from '../../shared/errors';
import type { StudioHandlers } from './service';
import { storageError } from './store/open';

export type Dispatch = (method: string, args: unknown) => Promise<unknown>;

/**
 * Which door a dispatch serves: `local` (the CLI, the app's main process: every method) or `page`
 * (IPC and HTTP, what the renderer reaches: no method of LOCAL_ONLY_METHODS).
 */
export type Door = 'local' | 'page';

const isStudioMethod = (method: string): method is StudioMethod =>
  Object.prototype.hasOwnProperty.call(studioContract, method);

/**
 * The one place a call from any door enters core: the method must be in the contract, open to the
 * door (the page names no file: local-only methods are refused to it), allowed in the project's
 * role (a package refuses the lead's methods), and its arguments must pass the
 * method's schema (wrong types and unknown fields are refused). A call
 * that cannot write the project (read-only, disk full, locked) fails with a StudioError naming
 * the project file and the problem, whichever door it came through.
 */
export function createDispatcher(
  handlers: StudioHandlers,
  projectFile: string,
  identity: { role: Role; annotator: string | null },
  door: Door,
): Dispatch {
  return async (method, args) => {
    if (!isStudioMethod(method)) {
      throw new StudioError('unknown_method', `unknown method ${JSON.stringify(method)}`);
    }
    if (door === 'page' && LOCAL_ONLY_METHODS.has(method)) {
      throw new StudioError(
        'not_allowed',
        `${method} names a file or folder of this computer, which the page may not: use the app's menu or the pickstudio command`,
      );
    }
    if (identity.role === 'annotator' && LEAD_ONLY_METHODS.has(method)) {
      throw new StudioError(
        'not_allowed',
        `${method}: ${projectFile} is an annotator's package, which labels only; the lead's project does the rest`,
      );
    }
    const parsed = studioContract[method].args.safeParse(args ?? {});
    if (!parsed.success) {
      const problems = parsed.error.issues
        .map(
          (issue) =>
            `${issue.path.length > 0 ? issue.path.join('.') : 'arguments'}: ${issue.message}`,
        )
        .join('; ');
      throw new StudioError('invalid_argument', `${method}: ${problems}`);
    }
    if (identity.role === 'annotator' && LABELING_METHODS.has(method)) {
      checkPackageAnnotator(method, parsed.data as { annotator: string }, projectFile, identity);
    }
    const handler = handlers[method] as (args: unknown) => Promise<unknown>;
    try {
      return await handler.call(handlers, parsed.data);
    } catch (error) {
      throw storageError(error, projectFile, method) ?? error;
    }
  };
}

/**
 * A package is one annotator's: labels under another name would come back to the lead as another
 * person's, whom nobody handed these pairs.
 */
function checkPackageAnnotator(
  method: string,
  args: { annotator: string },
  projectFile: string,
  identity: { annotator: string | null },
): void {
  if (args.annotator !== identity.annotator) {
    throw new StudioError(
      'not_allowed',
      `${method}: ${projectFile} is ${JSON.stringify(identity.annotator)}'s package; ${JSON.stringify(args.annotator)} cannot label in it`,
    );
  }
}
