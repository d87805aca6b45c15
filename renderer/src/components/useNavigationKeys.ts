import { useEffect } from 'react';
import { destinationForKey, GO_CHORD_MS, isGoPrefix, keyBelongsToTarget } from '../state/keys';
import { useView } from '../state/view';

/** `g l` labeling, `g a` audit, `g d` its dashboard, `g r` its review; on the window, as labeling. */
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
        const destination = destinationForKey(event);
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
