import { useEffect } from 'react';
import { keyBelongsToTarget, reviewCommandForKey } from '../state/keys';
import { useReview } from '../state/review';
import { NOTE_FIELD_ID } from './DisagreementDetail';

/** Review's keys, on the window as labeling's: verdict keys adjudicate, j/k move, n writes a note. */
export function useReviewKeys(adjudicator: string): void {
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent): void => {
      if (event.defaultPrevented || keyBelongsToTarget(event)) return;
      const command = reviewCommandForKey(event);
      if (!command) return;
      event.preventDefault();
      const review = useReview.getState();
      switch (command.kind) {
        case 'move':
          review.move(command.by);
          break;
        case 'note':
          document.getElementById(NOTE_FIELD_ID)?.focus();
          break;
        case 'adjudicate':
          // A held key would otherwise settle pair after pair unseen.
          if (!event.repeat) void review.adjudicate(command.verdict, adjudicator);
          break;
      }
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, [adjudicator]);
}
