import { useEffect } from 'react';
import { isDecisionCommand, type LabelingCommand } from '../../../shared/keys';
import { decisionOnScreen, keyBelongsToTarget, labelingCommandFor } from '../state/keys';
import { useLabeling } from '../state/labeling';
import { useNotes } from '../state/notes';

function run(command: LabelingCommand, keyAt: number): void {
  const state = useLabeling.getState();
  if (isDecisionCommand(command)) {
    const decision = decisionOnScreen(command, state.shown);
    if (decision !== null) void state.choose(decision, keyAt);
    return;
  }
  switch (command) {
    case 'help':
      state.setSheetOpen(true);
      break;
    case 'escape':
      void state.backToQueue();
      break;
    case 'undo':
      void state.undo(keyAt);
      break;
    // Their panels take every key while open (notes panels' own listeners), closing included.
    case 'guidelines':
      useNotes.getState().setPanel('guidelines');
      break;
    case 'flag':
      if (state.shown) useNotes.getState().setPanel('flag');
      break;
  }
}

/** The labeling keys, on the window: no focus needed, nothing needs the mouse. */
export function useLabelingKeys(): void {
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent): void => {
      const keyAt = performance.now();
      if (event.defaultPrevented || keyBelongsToTarget(event)) return;
      const command = labelingCommandFor(event);
      if (!command) return;
      event.preventDefault();
      if (useLabeling.getState().sheetOpen) {
        if (command === 'help' || command === 'escape') useLabeling.getState().setSheetOpen(false);
        return;
      }
      // A held key would otherwise decide pair after pair unseen.
      if (event.repeat) return;
      run(command, keyAt);
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, []);
}
