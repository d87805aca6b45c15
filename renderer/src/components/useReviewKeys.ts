import { useEffect } from 'react';
import { REVIEW_LEFT_IMAGE, verdictFor } from '../../../shared/keys';
import { keyBelongsToTarget, reviewCommandFor } from '../state/keys';
import { useReview } from '../state/review';
import { NOTE_FIELD_ID } from './DisagreementDetail';

/** Review's keys, on the window as labeling's: verdict keys adjudicate, j/k move, n writes a note. */
export function useReviewKeys(adjudicator: string): void {
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent): void => {
      if (event.defaultPrevented || keyBelongsToTarget(event)) return;
      const command = reviewCommandFor(event);
      if (!command) return;
      event.preventDefault();
      const review = useReview.getState();
      switch (command) {
        case 'next':
          review.move(1);
          break;
        case 'previous':
          review.move(-1);
          break;
        case 'note':
          document.getElementById(NOTE_FIELD_ID)?.focus();
          break;
        default:
          // A held key would otherwise settle pair after pair unseen.
          if (!event.repeat) {
            void review.adjudicate(verdictFor(command, REVIEW_LEFT_IMAGE), adjudicator);
          }
      }
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, [adjudicator]);
}
