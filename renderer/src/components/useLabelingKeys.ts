import { useEffect } from 'react';
import { commandForKey, keyBelongsToTarget } from '../state/keys';
import { useLabeling } from '../state/labeling';
import { nextSuggestionMode, SUGGESTION_MODE_TEXT, useProject } from '../state/project';

function cycleSuggestionMode(): void {
  const project = useProject.getState();
  if (!project.settings) return;
  const mode = nextSuggestionMode(project.settings.suggestionMode);
  void project.setSuggestionMode(mode);
  useLabeling.getState().announce(`Model suggestions: ${SUGGESTION_MODE_TEXT[mode]}.`);
}

/** The labeling keys, on the window: no focus needed, nothing needs the mouse. */
export function useLabelingKeys(): void {
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent): void => {
      const keyAt = performance.now();
      if (event.defaultPrevented || keyBelongsToTarget(event)) return;
      const command = commandForKey(event);
      if (!command) return;
      event.preventDefault();
      const state = useLabeling.getState();
      if (state.sheetOpen) {
        if (command.kind === 'help' || command.kind === 'escape') state.setSheetOpen(false);
        return;
      }
      // A held key would otherwise decide pair after pair unseen.
      if (event.repeat) return;
      switch (command.kind) {
        case 'help':
          state.setSheetOpen(true);
          break;
        case 'escape':
          void state.backToQueue();
          break;
        case 'undo':
          void state.undo(keyAt);
          break;
        case 'choose':
          void state.choose(command.choice, keyAt);
          break;
        case 'suggestions':
          cycleSuggestionMode();
          break;
      }
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, []);
}
