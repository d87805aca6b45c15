import { create } from 'zustand';

const STORAGE_KEY = 'pickstudio.annotator';

function remembered(): string | null {
  try {
    const name = localStorage.getItem(STORAGE_KEY)?.trim();
    return name ? name : null;
  } catch {
    return null;
  }
}

/** Checks a name as the contract does (1 to 100 characters, no control characters). */
export function annotatorNameProblem(name: string): string | null {
  const trimmed = name.trim();
  if (trimmed.length === 0) return 'Enter your name.';
  if (trimmed.length > 100) return 'Use at most 100 characters.';
  if (/\p{C}/u.test(trimmed)) return 'The name may not contain control characters.';
  return null;
}

interface AnnotatorState {
  /** Who is labeling; null until someone says (the form shows). */
  name: string | null;
  /** The last name used, to prefill the form when switching. */
  lastName: string;
  choose(name: string): void;
  /** Back to the form, to label as someone else. */
  switchAnnotator(): void;
}

export const useAnnotator = create<AnnotatorState>()((set, get) => ({
  name: remembered(),
  lastName: remembered() ?? '',
  choose(name) {
    const trimmed = name.trim();
    try {
      localStorage.setItem(STORAGE_KEY, trimmed);
    } catch {
      // Storage can be off (private mode); the name still holds for this session.
    }
    set({ name: trimmed, lastName: trimmed });
  },
  switchAnnotator() {
    set({ name: null, lastName: get().name ?? get().lastName });
  },
}));
