import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app } from 'electron';
import type { StudioEventName, StudioEvents, TaskProgress } from '../../shared/api';
import { openStudio, type Studio } from '../core/studio';

/** The workers, built beside this bundle (see electron.vite.config.ts). */
const scoringWorker = { file: fileURLToPath(new URL('./scoring-worker.js', import.meta.url)) };
const dashboardWorker = { file: fileURLToPath(new URL('./dashboard-worker.js', import.meta.url)) };
const importWorker = { file: fileURLToPath(new URL('./import-worker.js', import.meta.url)) };
const parquetWorker = { file: fileURLToPath(new URL('./parquet-worker.js', import.meta.url)) };

/** The demo model (not PickScore) shipped with the app, beside the built code. */
function demoModelDir(): string {
  return path.join(
    app.isPackaged ? process.resourcesPath : app.getAppPath(),
    'resources',
    'demo-model',
  );
}

/**
 * Where the project's events go: one listener per event of the contract, so an event added there
 * does not compile here until the window is given it.
 */
export type ProjectEvents = { [E in StudioEventName]: (payload: StudioEvents[E]) => void };

/** Opens a project for the window, and scores in the background what its model has not. */
export function openProject(
  file: string,
  events: ProjectEvents,
  options: { create?: boolean } = {},
): Studio {
  const studio = openStudio(file, {
    ...options,
    ...events,
    scoringWorker,
    dashboardWorker,
    importWorker,
    parquetWorker,
    demoModel: demoModelDir(),
  });
  void studio.scoreInBackground();
  return studio;
}

/**
 * The project the window shows. Calls wait for it rather than fail while the first one is still
 * being opened (the demo being drawn); replacing it closes the one before. `onOpened` hears of
 * each project once it is open (the menu follows its role).
 */
export class CurrentProject {
  private pending!: Promise<Studio>;
  private opened: Studio | undefined;

  constructor(
    first: Promise<Studio>,
    private readonly onOpened: (project: Studio) => void = () => {},
  ) {
    this.use(first);
  }

  get ready(): Promise<Studio> {
    return this.pending;
  }

  async replace(next: Studio): Promise<void> {
    const previous = await this.pending.catch(() => undefined);
    this.use(Promise.resolve(next));
    previous?.close();
  }

  close(): void {
    this.opened?.close();
  }

  private use(next: Promise<Studio>): void {
    this.pending = next;
    next.then(
      (project) => {
        this.opened = project;
        this.onOpened(project);
      },
      (error: unknown) => console.error('Pick Studio: cannot open the project:', error),
    );
  }
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
  const studio = openStudio(partial, {
    create: true,
    progress,
    scoringWorker,
    demoModel: demoModelDir(),
  });
  try {
    await studio.call('createDemo', {});
  } finally {
    studio.close();
  }
  fs.renameSync(partial, file);
}
