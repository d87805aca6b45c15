/**
 * The lead's guidelines and the annotator's flags, for the labeling view: the guidelines panel
 * (shown before the first pair of each version, and on `h`), and the flag dialog (`f`).
 */
import { create } from 'zustand';
import type { Guidelines } from '../../../shared/api';
import { studio } from '../studio';
import { textHash } from '../../../shared/markdown';
import { describeError } from './project';

export type NotesPanel = 'guidelines' | 'flag' | null;

interface NotesState {
  /** undefined until read; null when the project has none. */
  guidelines: Guidelines | null | undefined;
  projectId: string | null;
  panel: NotesPanel;
  /** Flags set or cleared in this session, by pair: they win over the pair's own `flag`. */
  flags: Record<number, string | null>;
  flagError: string | null;
  load(): Promise<void>;
  setPanel(panel: NotesPanel): void;
  /** Flags the pair with the note, or clears the flag when the note is empty. */
  saveFlag(annotator: string, pairId: number, note: string): Promise<boolean>;
  /** Whether the annotator has read this version of the guidelines (this browser remembers). */
  seen(annotator: string): boolean;
  markSeen(annotator: string): void;
}

const seenKey = (projectId: string, annotator: string): string =>
  `pickstudio.guidelinesSeen.${projectId}.${annotator}`;

function readSeen(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

export const useNotes = create<NotesState>()((set, get) => {
  // The lead's change reaches open views: a new version shows before the next pair.
  studio.on('guidelines', (guidelines) => set({ guidelines }));
  return {
    guidelines: undefined,
    projectId: null,
    panel: null,
    flags: {},
    flagError: null,
    async load() {
      try {
        const [guidelines, project] = await Promise.all([
          studio.getGuidelines({}),
          studio.getProject({}),
        ]);
        set({ guidelines, projectId: project.projectId });
      } catch {
        // Labeling goes on without them; `h` says they could not be read.
        set({ guidelines: null });
      }
    },
    setPanel: (panel) => set({ panel, flagError: null }),
    async saveFlag(annotator, pairId, note) {
      const trimmed = note.trim();
      try {
        if (trimmed === '') await studio.clearFlag({ annotator, pairId });
        else await studio.flagPair({ annotator, pairId, note: trimmed });
        set({ flags: { ...get().flags, [pairId]: trimmed === '' ? null : trimmed } });
        return true;
      } catch (error) {
        set({ flagError: `Flag not saved: ${describeError(error)}` });
        return false;
      }
    },
    seen(annotator) {
      const { guidelines, projectId } = get();
      if (!guidelines || projectId === null) return true;
      return readSeen(seenKey(projectId, annotator)) === textHash(guidelines.text);
    },
    markSeen(annotator) {
      const { guidelines, projectId } = get();
      if (!guidelines || projectId === null) return;
      try {
        localStorage.setItem(seenKey(projectId, annotator), textHash(guidelines.text));
      } catch {
        // A browser that keeps nothing shows them again next time: no harm.
      }
    },
  };
});
