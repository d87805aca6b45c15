import { create } from 'zustand';
import type {
  MethodArgs,
  ProjectSettings,
  ProjectStats,
  SuggestionMode,
} from '../../../shared/api';
import { asStudioError, studio } from '../studio';
import { LEAD_PROJECT, type ProjectRole } from './team';

/** What the lead's settings panel changes; the tie threshold is set elsewhere. */
type SettingsChange = Omit<MethodArgs<'setSettings'>, 'tieThreshold'>;

interface ProjectState {
  status: 'loading' | 'ready' | 'error';
  stats: ProjectStats | null;
  settings: ProjectSettings | null;
  /** A lead's project, or an annotator's package (labeling only), and whom it is for. */
  team: ProjectRole;
  error: string | null;
  /** Why the last change of the project's settings did not stick. */
  settingsError: string | null;
  load(): Promise<void>;
  /**
   * The lead's settings: when the model's suggestions show, how many annotators each pair
   * needs, and the queue's order.
   */
  changeSettings(change: SettingsChange): Promise<void>;
}

/** Replies to setSettings are applied only for the latest request, so fast changes end right. */
let settingsSeq = 0;
/**
 * This page's changes not answered yet. The core announces each change to every open view,
 * this one included, and that event can arrive before the reply to a later change of this page;
 * applied, it would undo that change on screen until its reply came.
 */
let changesInFlight = 0;

/** The open project: checked once at start, so a project that failed to load says why. */
export const useProject = create<ProjectState>()((set, get) => {
  // Another view's change (the lead's, elsewhere) reaches this one without a reload.
  studio.on('settings', (settings) => {
    if (changesInFlight === 0) set({ settings });
  });

  return {
    status: 'loading',
    stats: null,
    settings: null,
    team: LEAD_PROJECT,
    error: null,
    settingsError: null,
    async load() {
      set({ status: 'loading', error: null });
      try {
        const [stats, settings, project] = await Promise.all([
          studio.getStats({}),
          studio.getSettings({}),
          studio.getProject({}),
        ]);
        const team = { role: project.role, annotator: project.annotator };
        set({ status: 'ready', stats, settings, team });
      } catch (error) {
        set({ status: 'error', error: describeError(error) });
      }
    },
    // Shown at once (the control follows the choice, not the round trip); put back if refused.
    async changeSettings(change) {
      const previous = get().settings;
      if (!previous) return;
      const seq = ++settingsSeq;
      changesInFlight++;
      set({ settings: { ...previous, ...change }, settingsError: null });
      try {
        const settings = await studio.setSettings(change);
        if (seq === settingsSeq) set({ settings });
      } catch (error) {
        if (seq === settingsSeq) {
          set({
            settings: previous,
            settingsError: `Project settings not changed: ${describeError(error)}`,
          });
        }
      } finally {
        changesInFlight--;
      }
    },
  };
});

export const SUGGESTION_MODE_TEXT: Record<SuggestionMode, string> = {
  hidden: 'hidden (blind labeling)',
  after: 'after the verdict',
  before: 'before the verdict',
};

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
