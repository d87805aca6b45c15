import { create } from 'zustand';
import type { ProjectStats } from '../../../shared/api';
import { asStudioError, studio } from '../studio';

interface ProjectState {
  status: 'loading' | 'ready' | 'error';
  stats: ProjectStats | null;
  error: string | null;
  load(): Promise<void>;
}

/** The open project: checked once at start, so a project that failed to load says why. */
export const useProject = create<ProjectState>()((set) => ({
  status: 'loading',
  stats: null,
  error: null,
  async load() {
    set({ status: 'loading', error: null });
    try {
      set({ status: 'ready', stats: await studio.getStats({}) });
    } catch (error) {
      set({ status: 'error', error: describeError(error) });
    }
  },
}));

export function describeError(error: unknown): string {
  const studioError = asStudioError(error);
  return studioError.code === 'internal'
    ? studioError.message
    : `${studioError.message} (${studioError.code})`;
}

export function projectName(stats: ProjectStats | null): string {
  if (!stats) return '';
  return stats.project.split(/[\\/]/).pop() ?? stats.project;
}
