import { create } from 'zustand';
import {
  SUGGESTION_MODES,
  type MethodArgs,
  type ProjectSettings,
  type ProjectStats,
  type SuggestionMode,
} from '../../../shared/api';
import { asStudioError, studio } from '../studio';

interface ProjectState {
  status: 'loading' | 'ready' | 'error';
  stats: ProjectStats | null;
  settings: ProjectSettings | null;
  error: string | null;
  /** Why the last change of the project's settings did not stick. */
  settingsError: string | null;
  load(): Promise<void>;
  setSuggestionMode(mode: SuggestionMode): Promise<void>;
  /** The lead's settings: how many annotators each pair needs, and the queue's order. */
  setAssignment(change: Pick<SettingsChange, 'overlap' | 'queueOrder'>): Promise<void>;
}

type SettingsChange = Omit<MethodArgs<'setSettings'>, 'tieThreshold'>;

/** Replies to setSettings are applied only for the latest request, so fast changes end right. */
let settingsSeq = 0;

/** The open project: checked once at start, so a project that failed to load says why. */
export const useProject = create<ProjectState>()((set, get) => {
  /** Shown at once (the bars follow the key, not the round trip); put back if refused. */
  const change = async (patch: SettingsChange, failure: string): Promise<void> => {
    const previous = get().settings;
    if (!previous) return;
    const seq = ++settingsSeq;
    set({ settings: { ...previous, ...patch }, settingsError: null });
    try {
      const settings = await studio.setSettings(patch);
      if (seq === settingsSeq) set({ settings });
    } catch (error) {
      if (seq === settingsSeq) {
        set({ settings: previous, settingsError: `${failure}: ${describeError(error)}` });
      }
    }
  };

  return {
    status: 'loading',
    stats: null,
    settings: null,
    error: null,
    settingsError: null,
    async load() {
      set({ status: 'loading', error: null });
      try {
        const [stats, settings] = await Promise.all([studio.getStats({}), studio.getSettings({})]);
        set({ status: 'ready', stats, settings });
      } catch (error) {
        set({ status: 'error', error: describeError(error) });
      }
    },
    setSuggestionMode: (suggestionMode) => change({ suggestionMode }, 'Suggestions not changed'),
    setAssignment: (assignment) => change(assignment, 'Project settings not changed'),
  };
});

export function nextSuggestionMode(mode: SuggestionMode): SuggestionMode {
  return SUGGESTION_MODES[(SUGGESTION_MODES.indexOf(mode) + 1) % SUGGESTION_MODES.length]!;
}

export const SUGGESTION_MODE_TEXT: Record<SuggestionMode, string> = {
  hidden: 'hidden (blind)',
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
