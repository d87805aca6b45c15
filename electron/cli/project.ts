import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { openStudio, type Studio, type StudioOptions } from '../core/studio';
import { createProgressBar } from './progress-bar';

/** Opens the project for calls through the dispatcher, with a progress bar, and closes it. */
export async function withProject<T>(
  project: string,
  options: Pick<StudioOptions, 'create' | 'readonly'>,
  calls: (studio: Studio) => Promise<T>,
): Promise<T> {
  const studio = openStudio(project, { ...options, progress: createProgressBar() });
  try {
    return await calls(studio);
  } finally {
    studio.close();
  }
}

/**
 * Runs one long call as the task `taskId`, so that Ctrl+C cancels it (it then fails as
 * `cancelled`, and the command exits with 130) instead of killing the process mid-write.
 */
export async function asTask<T>(studio: Studio, call: (taskId: string) => Promise<T>): Promise<T> {
  const taskId = randomUUID();
  const onInterrupt = (): void => {
    process.stderr.write('\ncancelling…\n');
    void studio.call('cancelTask', { taskId });
  };
  process.on('SIGINT', onInterrupt);
  try {
    return await call(taskId);
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}

/** The project file and the files SQLite keeps beside it. */
export function removeProject(project: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) {
    fs.rmSync(`${project}${suffix}`, { force: true });
  }
}

/** Removes a project this command created when a failed call left it without a pair. */
export async function removeIfEmpty(project: string): Promise<void> {
  let empty: boolean;
  try {
    empty = await withProject(
      project,
      { readonly: true },
      async (studio) => (await studio.call('getStats', {})).counts.pairs === 0,
    );
  } catch {
    return;
  }
  if (empty) removeProject(project);
}
