import { useEffect } from 'react';
import { isGoPrefix } from '../../../shared/keys';
import { destinationFor, GO_CHORD_MS, keyBelongsToTarget } from '../state/keys';
import { useView } from '../state/view';

/** The `g` chords (shared/keys.ts GO_KEYS) on the window, in every view. */
export function useNavigationKeys(): void {
  useEffect(() => {
    let prefixAt: number | null = null;
    const onKeyDown = (event: KeyboardEvent): void => {
      if (event.defaultPrevented || keyBelongsToTarget(event) || event.repeat) {
        prefixAt = null;
        return;
      }
      if (prefixAt !== null && event.timeStamp - prefixAt <= GO_CHORD_MS) {
        prefixAt = null;
        const destination = destinationFor(event);
        if (destination) {
          event.preventDefault();
          useView.getState().go(destination);
          return;
        }
      }
      prefixAt = isGoPrefix(event) ? event.timeStamp : null;
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, []);
}
