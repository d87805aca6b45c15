import type {
  Guidelines,
  MethodArgs,
  MethodResult,
  ProjectSettings,
  StudioMethod,
  TaskProgress,
} from '../../shared/api';
import { createDispatcher, type Dispatch } from './dispatcher';
import type { ImageBytes } from './io/images';
import { StudioService, type ServiceOptions } from './service';
import type { OpenOptions } from './store/open';
import { ProjectStore } from './store/project-store';

export interface StudioOptions extends OpenOptions, ServiceOptions {
  /** Progress of long calls (imports, exports, scoring, the demo), for the door to show. */
  progress?: (progress: TaskProgress) => void;
  /** The project's settings after each change, for the door to pass to every open view. */
  settings?: (settings: ProjectSettings) => void;
  /** The guidelines after the lead set or removed them, for the door to pass on. */
  guidelines?: (guidelines: Guidelines | null) => void;
}

/** One open project as every door uses it. */
export interface Studio {
  readonly file: string;
  /**
   * The local doors' entry (the CLI, the app's main process, tests): a method name and arguments
   * as they arrived, checked against the contract.
   */
  readonly dispatch: Dispatch;
  /**
   * The page's doors' entry (IPC, HTTP): the same, refusing every method of LOCAL_ONLY_METHODS
   * (`not_allowed`), since the page never names a file.
   */
  readonly dispatchFromPage: Dispatch;
  /** The same entry, typed: the result's type follows from the method. */
  call<M extends StudioMethod>(method: M, args: MethodArgs<M>): Promise<MethodResult<M>>;
  /** An image's bytes for the doors' image routes (not a contract method: no path crosses). */
  readImage(uid: string): Promise<ImageBytes>;
  /** Scores what the active model has not scored yet; doors start it when they open a project. */
  scoreInBackground(log?: (message: string) => void): Promise<void>;
  /** The project's store, for in-process tools (tests, benchmarks); doors use `call`. */
  readonly store: ProjectStore;
  close(): void;
}

/** Opens a project file (creating or migrating it as asked) behind the dispatcher. */
export function openStudio(file: string, options: StudioOptions = {}): Studio {
  const store = ProjectStore.open(file, { create: options.create, readonly: options.readonly });
  const service = new StudioService(
    store,
    {
      progress: options.progress ?? (() => {}),
      settings: options.settings ?? (() => {}),
      guidelines: options.guidelines,
    },
    options,
  );
  const identity = { role: store.role, annotator: store.packageAnnotator };
  const dispatch = createDispatcher(service, store.file, identity, 'local');
  const dispatchFromPage = createDispatcher(service, store.file, identity, 'page');
  // The dispatcher checks the arguments against M's schema and runs M's handler, which returns
  // MethodResult<M> (StudioHandlers): the one place where the two are joined.
  function call<M extends StudioMethod>(method: M, args: MethodArgs<M>): Promise<MethodResult<M>> {
    return dispatch(method, args) as Promise<MethodResult<M>>;
  }
  return {
    file: store.file,
    dispatch,
    dispatchFromPage,
    call,
    readImage: (uid) => service.readImage(uid),
    scoreInBackground: (log) => service.scoreInBackground(log),
    store,
    close: () => {
      service.close();
      store.close();
    },
  };
}
