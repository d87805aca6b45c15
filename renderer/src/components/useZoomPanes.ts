import { useEffect, useLayoutEffect, type MouseEvent, type RefObject } from 'react';
import { commandFor, isDecisionCommand, ZOOM_KEYS } from '../../../shared/keys';
import { keyBelongsToTarget, labelingCommandFor, labelingKeys } from '../state/keys';
import { useLabeling } from '../state/labeling';
import { shownOffset, useZoom, type Focus } from '../state/zoom';

/** The zoomed images' views, each scrolled by the zoom's offset. */
const PANE = '.zoom-pane';

const panesIn = (root: HTMLElement | null): HTMLElement[] => [
  ...(root?.querySelectorAll<HTMLElement>(PANE) ?? []),
];

const fraction = (value: number): number => Math.min(1, Math.max(0, value));

/** The point of the image clicked, where it is drawn whole in its panel (object-fit: contain). */
export function focusOfClick(event: MouseEvent<HTMLImageElement>): Focus {
  const image = event.currentTarget;
  const box = image.getBoundingClientRect();
  const scale = Math.min(box.width / image.naturalWidth, box.height / image.naturalHeight);
  const width = image.naturalWidth * scale;
  const height = image.naturalHeight * scale;
  if (!(width > 0 && height > 0)) return { fx: 0.5, fy: 0.5 };
  return {
    fx: fraction((event.clientX - box.left - (box.width - width) / 2) / width),
    fy: fraction((event.clientY - box.top - (box.height - height) / 2) / height),
  };
}

/** A click on an image zooms in there, or, zoomed, goes back. */
export function toggleZoomOnClick(event: MouseEvent<HTMLImageElement>): void {
  const zoom = useZoom.getState();
  if (zoom.zoomed) zoom.zoomOut();
  else zoom.zoomIn(focusOfClick(event));
}

/**
 * `z` zooms; while zoomed, the arrows pan and `z` or Esc ends it. Listening in the capture phase,
 * before the labeling keys (useLabelingKeys, which leaves a key already handled alone), so that
 * an arrow pans and never decides; the deciding keys and undo wait for the zoom's end.
 */
function useZoomKeys(): void {
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent): void => {
      if (event.defaultPrevented || keyBelongsToTarget(event)) return;
      const labeling = useLabeling.getState();
      if (labeling.sheetOpen) return;
      const zoom = useZoom.getState();
      const command = labelingCommandFor(event);
      if (!zoom.zoomed) {
        if (command !== 'zoom') return;
        event.preventDefault();
        if (event.repeat) return;
        zoom.zoomIn();
        labeling.announce(
          `Zoomed to full size. The arrows pan both images; ${labelingKeys('zoom').keys} or ${labelingKeys('escape').keys} goes back.`,
        );
        return;
      }
      const pan = commandFor(ZOOM_KEYS, event);
      if (pan) {
        event.preventDefault();
        zoom.pan(pan, event.shiftKey);
      } else if (command === 'zoom' || command === 'escape') {
        event.preventDefault();
        if (!event.repeat) zoom.zoomOut();
      } else if (command !== null && (isDecisionCommand(command) || command === 'undo')) {
        event.preventDefault();
        labeling.announce(
          `Zoomed in: press ${labelingKeys('zoom').keys} or ${labelingKeys('escape').keys} to go back, then decide.`,
        );
      }
    };
    window.addEventListener('keydown', onKeyDown, true);
    return () => window.removeEventListener('keydown', onKeyDown, true);
  }, []);
}

/**
 * The zoom of the showing `seq` under `root`: its keys, the panes measured (again when a pane or
 * its image changes size) and scrolled to the offset. A new showing, or leaving the view, ends
 * it. Returns whether the pair is zoomed.
 */
export function useZoomPanes(root: RefObject<HTMLElement | null>, seq: number): boolean {
  const zoomed = useZoom((s) => s.zoomed);
  const room = useZoom((s) => s.room);
  const panned = useZoom((s) => s.offset);
  const focus = useZoom((s) => s.focus);
  useZoomKeys();
  useEffect(() => () => useZoom.getState().zoomOut(), [seq]);

  useLayoutEffect(() => {
    if (!zoomed) return;
    const measure = (): void => {
      const panes = panesIn(root.current);
      if (panes.length === 0) return;
      useZoom.getState().measured({
        maxX: Math.max(...panes.map((p) => p.scrollWidth - p.clientWidth)),
        maxY: Math.max(...panes.map((p) => p.scrollHeight - p.clientHeight)),
        viewWidth: Math.min(...panes.map((p) => p.clientWidth)),
        viewHeight: Math.min(...panes.map((p) => p.clientHeight)),
      });
    };
    measure();
    const observer = new ResizeObserver(measure);
    for (const pane of panesIn(root.current)) {
      observer.observe(pane);
      const image = pane.querySelector('img');
      if (image) observer.observe(image);
    }
    return () => observer.disconnect();
  }, [zoomed, root, seq]);

  useLayoutEffect(() => {
    const offset = shownOffset({ room, offset: panned, focus });
    if (!zoomed || !offset) return;
    for (const pane of panesIn(root.current)) {
      pane.scrollLeft = offset.x;
      pane.scrollTop = offset.y;
    }
  }, [zoomed, room, panned, focus, root]);

  return zoomed;
}
