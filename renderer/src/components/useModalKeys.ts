import { useEffect, useLayoutEffect, useRef } from 'react';

/**
 * While a notes panel is open, every key is its own: a listener on the window's capture phase
 * sees each keydown before the view's keys (verdicts, undo, the `g` chords) and stops it there.
 * `handle` returns true for a key it used (its default action is then prevented too); other keys
 * keep their default action, so typing in the panel's field still types.
 */
export function useModalKeys(handle: (event: KeyboardEvent) => boolean): void {
  const latest = useRef(handle);
  useLayoutEffect(() => {
    latest.current = handle;
  });
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent): void => {
      event.stopPropagation();
      if (latest.current(event)) event.preventDefault();
    };
    window.addEventListener('keydown', onKeyDown, { capture: true });
    return () => window.removeEventListener('keydown', onKeyDown, { capture: true });
  }, []);
}

/** Focuses the element on open, and gives focus back to where it was on close. */
export function useFocusWhileOpen<T extends HTMLElement>() {
  const ref = useRef<T>(null);
  useEffect(() => {
    const previous = document.activeElement;
    ref.current?.focus();
    return () => {
      if (previous instanceof HTMLElement && previous.isConnected) previous.focus();
    };
  }, []);
  return ref;
}
