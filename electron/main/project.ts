import fs from 'node:fs';
import type { TaskProgress } from '../../shared/api';
import { createDemoProject } from '../core/demo/create-demo';
import { createDispatcher, type Dispatch } from '../core/dispatcher';
import { StudioService } from '../core/service';
import { ProjectStore } from '../core/store/project-store';
import { TaskRunner } from '../core/tasks';

export const DEMO_PAIRS = 240;

export interface OpenProject {
  store: ProjectStore;
  dispatch: Dispatch;
}

export function openProject(file: string, progress: (p: TaskProgress) => void): OpenProject {
  const store = ProjectStore.open(file);
  return { store, dispatch: createDispatcher(new StudioService(store, { progress })) };
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
    await new TaskRunner(progress).run('demo', 'pairs', undefined, (context) =>
      createDemoProject(store, { pairs: DEMO_PAIRS }, context),
    );
  } finally {
    store.close();
  }
  fs.renameSync(partial, file);
}
