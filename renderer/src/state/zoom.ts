/**
 * The pair at full size: both images at 100% (one image pixel per CSS pixel), each in a view of
 * its panel, scrolled to one offset so that the same part of each is on screen. The offset lives
 * here; the panes (components/useZoomPanes.ts) measure how far they can scroll and apply it.
 */
import { create } from 'zustand';
import type { ZoomCommand } from '../../../shared/keys';

/** How far the zoomed images are scrolled, in CSS pixels, the same for both. */
export interface Offset {
  x: number;
  y: number;
}

/** What the panes measured: the most either scrolls, and the size of a pane's view. */
export interface Room {
  maxX: number;
  maxY: number;
  viewWidth: number;
  viewHeight: number;
}

/** A point of the image, as fractions of its width and height. */
export interface Focus {
  fx: number;
  fy: number;
}

export const CENTRE: Focus = { fx: 0.5, fy: 0.5 };

/** An arrow moves a quarter of a view; with Shift, most of one, keeping a strip in sight. */
const STEP = 0.25;
const BIG_STEP = 0.9;

const clamp = (value: number, max: number): number =>
  Math.round(Math.min(Math.max(0, value), Math.max(0, max)));

export const clampOffset = (offset: Offset, room: Room): Offset => ({
  x: clamp(offset.x, room.maxX),
  y: clamp(offset.y, room.maxY),
});

/** The offset that puts `focus` in the middle of the view, as near as the edges allow. */
export function offsetFor(focus: Focus, room: Room): Offset {
  const width = room.maxX + room.viewWidth;
  const height = room.maxY + room.viewHeight;
  return clampOffset(
    { x: focus.fx * width - room.viewWidth / 2, y: focus.fy * height - room.viewHeight / 2 },
    room,
  );
}

/** Where a pan key leads from `offset`. */
export function panned(offset: Offset, command: ZoomCommand, big: boolean, room: Room): Offset {
  if (command === 'centre') return offsetFor(CENTRE, room);
  const share = big ? BIG_STEP : STEP;
  const dx = Math.max(1, Math.round(room.viewWidth * share));
  const dy = Math.max(1, Math.round(room.viewHeight * share));
  const moves: Record<Exclude<ZoomCommand, 'centre'>, Offset> = {
    'pan-left': { x: -dx, y: 0 },
    'pan-right': { x: dx, y: 0 },
    'pan-up': { x: 0, y: -dy },
    'pan-down': { x: 0, y: dy },
  };
  const move = moves[command];
  return clampOffset({ x: offset.x + move.x, y: offset.y + move.y }, room);
}

const sameRoom = (a: Room, b: Room): boolean =>
  a.maxX === b.maxX &&
  a.maxY === b.maxY &&
  a.viewWidth === b.viewWidth &&
  a.viewHeight === b.viewHeight;

interface ZoomState {
  zoomed: boolean;
  /** Where the zoom looks first: the centre, or the point of the image clicked. */
  focus: Focus;
  /** Null until the panes have measured their room. */
  room: Room | null;
  /** Where a key or the wheel panned to; null until then, the focus being in the middle. */
  offset: Offset | null;
  zoomIn(focus?: Focus): void;
  zoomOut(): void;
  /** Pans by a key's step (or to the centre). */
  pan(command: ZoomCommand, big: boolean): void;
  /** Pans by pixels (the mouse wheel). */
  panBy(dx: number, dy: number): void;
  /** The panes report their room (again when a pane or an image changes size). */
  measured(room: Room): void;
}

/**
 * Where the panes are scrolled: the offset panned to, or the focus in the middle, within the room
 * measured last (an image that loads late, or a window resized, changes it); null until measured.
 */
export function shownOffset({
  room,
  offset,
  focus,
}: Pick<ZoomState, 'room' | 'offset' | 'focus'>): Offset | null {
  if (!room) return null;
  return offset ? clampOffset(offset, room) : offsetFor(focus, room);
}

const NOT_ZOOMED = { zoomed: false, focus: CENTRE, room: null, offset: null } as const;

export const useZoom = create<ZoomState>()((set, get) => {
  const current = (room: Room): Offset => shownOffset(get()) ?? offsetFor(get().focus, room);
  return {
    ...NOT_ZOOMED,
    zoomIn: (focus = CENTRE) => set({ zoomed: true, focus, room: null, offset: null }),
    zoomOut: () => set(NOT_ZOOMED),
    pan(command, big) {
      const { zoomed, room } = get();
      if (zoomed && room) set({ offset: panned(current(room), command, big, room) });
    },
    panBy(dx, dy) {
      const { zoomed, room } = get();
      if (!zoomed || !room) return;
      const from = current(room);
      set({ offset: clampOffset({ x: from.x + dx, y: from.y + dy }, room) });
    },
    measured(room) {
      const { zoomed, room: known } = get();
      if (zoomed && !(known && sameRoom(known, room))) set({ room });
    },
  };
});
