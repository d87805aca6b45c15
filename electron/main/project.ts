import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app } from 'electron';
import type { TaskProgress } from '../../shared/api';
import { createDemoProject } from '../core/demo/create-demo';
import { createDispatcher, type Dispatch } from '../core/dispatcher';
import type { ImageBytes } from '../core/io/images';
import { StudioService } from '../core/service';
import { ProjectStore } from '../core/store/project-store';
import { TaskRunner } from '../core/tasks';

export const DEMO_PAIRS = 240;

/** The scoring worker, built beside this bundle (see electron.vite.config.ts). */
const scoringWorker = { file: fileURLToPath(new URL('./scoring-worker.js', import.meta.url)) };

export interface OpenProject {
  store: ProjectStore;
  dispatch: Dispatch;
  readImage(uid: string): Promise<ImageBytes>;
}

export function openProject(
  file: string,
  progress: (p: TaskProgress) => void,
  options: { create?: boolean } = {},
): OpenProject {
  const store = ProjectStore.open(file, options);
  const service = new StudioService(store, { progress }, { scoringWorker });
  void service.scoreInBackground();
  return { store, dispatch: createDispatcher(service), readImage: (uid) => service.readImage(uid) };
}

/**
 * The project the window shows. Calls wait for it rather than fail while the first one is still
 * being opened (the demo being drawn); replacing it closes the one before.
 */
export class CurrentProject {
  private pending!: Promise<OpenProject>;
  private opened: OpenProject | undefined;

  constructor(first: Promise<OpenProject>) {
    this.use(first);
  }

  get ready(): Promise<OpenProject> {
    return this.pending;
  }

  async replace(next: OpenProject): Promise<void> {
    const previous = await this.pending.catch(() => undefined);
    this.use(Promise.resolve(next));
    previous?.store.close();
  }

  close(): void {
    this.opened?.store.close();
  }

  private use(next: Promise<OpenProject>): void {
    this.pending = next;
    next.then(
      (project) => {
        this.opened = project;
      },
      (error: unknown) => console.error('Pick Studio: cannot open the project:', error),
    );
  }
}

/** The demo model (not PickScore) shipped with the app, beside the built code. */
function demoModelDir(): string {
  return path.join(
    app.isPackaged ? process.resourcesPath : app.getAppPath(),
    'resources',
    'demo-model',
  );
}

/**
 * Builds the demo next to its final name and renames it once closed, so a run interrupted halfway
 * (quit, crash) leaves no half-filled project behind to be opened next time as if it were whole.
 */
export async function createDemoFile(
  file: string,
  progress: (p: TaskProgress) => void,
): Promise<void> {
  const partial = `${file}.partial`;
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(partial + suffix, { force: true });
  const store = ProjectStore.open(partial, { create: true });
  try {
    await new TaskRunner(progress).run('demo', 'items', undefined, (context) =>
      createDemoProject(
        store,
        { pairs: DEMO_PAIRS, scoreWith: demoModelDir(), worker: scoringWorker, annotators: true },
        context,
      ),
    );
  } finally {
    store.close();
  }
  fs.renameSync(partial, file);
}
