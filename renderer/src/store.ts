import { create } from 'zustand';
import type { ProjectStats, TaskProgress } from '../../shared/api';
import { asStudioError, studio } from './studio';

interface StudioState {
  stats: ProjectStats | null;
  error: string | null;
  progress: TaskProgress | null;
  loadStats(): Promise<void>;
  setProgress(progress: TaskProgress): void;
}

export const useStudio = create<StudioState>()((set) => ({
  stats: null,
  error: null,
  progress: null,
  async loadStats() {
    try {
      set({ stats: await studio.getStats({}), error: null });
    } catch (error) {
      const studioError = asStudioError(error);
      set({ error: `${studioError.message} (${studioError.code})` });
    }
  },
  setProgress: (progress) => set({ progress }),
}));
