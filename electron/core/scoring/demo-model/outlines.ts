import type { ShapeKind } from '../../demo/scenes';

type Point = readonly [number, number];

/** Harmonics of the outline's normal direction that the image tower measures. */
export const HARMONICS = [2, 3, 4, 5, 6] as const;

function cubic(p0: Point, p1: Point, p2: Point, p3: Point, steps: number): Point[] {
  return Array.from({ length: steps }, (_, i) => {
    const t = i / steps;
    const u = 1 - t;
    const w = [u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t];
    return [
      w[0]! * p0[0] + w[1]! * p1[0] + w[2]! * p2[0] + w[3]! * p3[0],
      w[0]! * p0[1] + w[1]! * p1[1] + w[2]! * p2[1] + w[3]! * p3[1],
    ] as const;
  });
}

function regular(n: number, radius: (i: number) => number, shiftY = 0): Point[] {
  return Array.from({ length: n }, (_, i) => {
    const a = ((2 * Math.PI) / n) * i - Math.PI / 2;
    return [radius(i) * Math.cos(a), shiftY + radius(i) * Math.sin(a)] as const;
  });
}

/**
 * Each shape's outline in a unit square centred on the origin, y down, drawn as the demo renderer
 * (electron/core/demo/render.ts) draws it: the model knows the demo's shapes, nothing more.
 */
function outline(kind: ShapeKind): Point[] {
  switch (kind) {
    case 'circle':
      return regular(96, () => 0.5);
    case 'square': {
      const r = 0.06;
      const corners: [number, number, number][] = [
        [0.5 - r, 0.5 - r, 0],
        [-0.5 + r, 0.5 - r, 90],
        [-0.5 + r, -0.5 + r, 180],
        [0.5 - r, -0.5 + r, 270],
      ];
      return corners.flatMap(([cx, cy, start]) =>
        Array.from({ length: 9 }, (_, i) => {
          const a = ((start + i * 11.25) * Math.PI) / 180;
          return [cx + r * Math.cos(a), cy + r * Math.sin(a)] as const;
        }),
      );
    }
    case 'triangle':
      return [
        [0, -0.5],
        [0.5, 0.5],
        [-0.5, 0.5],
      ];
    case 'hexagon':
      return regular(6, () => 0.5);
    case 'star':
      return regular(
        10,
        (i) => (i % 2 === 0 ? 0.5 : 0.21),
        (0.5 * (1 - Math.cos(Math.PI / 5))) / 2,
      );
    case 'heart': {
      const p = (x: number, y: number): Point => [x - 0.5, y - 0.5];
      const segments: [Point, Point, Point, Point][] = [
        [p(0.5, 0.95), p(0.18, 0.72), p(0, 0.52), p(0, 0.31)],
        [p(0, 0.31), p(0, 0.13), p(0.13, 0.05), p(0.27, 0.05)],
        [p(0.27, 0.05), p(0.38, 0.05), p(0.46, 0.12), p(0.5, 0.22)],
        [p(0.5, 0.22), p(0.54, 0.12), p(0.62, 0.05), p(0.73, 0.05)],
        [p(0.73, 0.05), p(0.87, 0.05), p(1, 0.13), p(1, 0.31)],
        [p(1, 0.31), p(1, 0.52), p(0.82, 0.72), p(0.5, 0.95)],
      ];
      return segments.flatMap(([a, b, c, d]) => cubic(a, b, c, d, 24));
    }
  }
}

/**
 * The length-weighted mean of cos(n * phi) along the outline, phi being the angle of the inward
 * normal measured from straight down. A mask's gradient points inward, so these are what the
 * image tower's gradient statistics approach for a lone, sharp shape; measuring phi from the
 * vertical keeps the cosines of upright, mirror-symmetric shapes and drops their sines, which are
 * zero. A circle's are all zero; a square's 4th is 1, a hexagon's 6th is 1, a star's 5th large.
 */
export function outlineHarmonics(kind: ShapeKind): number[] {
  const pts = outline(kind);
  const next = (i: number): Point => pts[(i + 1) % pts.length]!;
  const area = pts.reduce((sum, [x, y], i) => sum + x * next(i)[1] - next(i)[0] * y, 0);
  const sums = HARMONICS.map(() => 0);
  let perimeter = 0;
  pts.forEach(([x, y], i) => {
    const [dx, dy] = [next(i)[0] - x, next(i)[1] - y];
    const length = Math.hypot(dx, dy);
    // With a positive signed area the interior lies to the left of each edge, at (-dy, dx).
    const [nx, ny] = area > 0 ? [-dy, dx] : [dy, -dx];
    const phi = Math.atan2(nx, ny);
    HARMONICS.forEach((n, k) => (sums[k]! += length * Math.cos(n * phi)));
    perimeter += length;
  });
  return sums.map((s) => s / perimeter);
}
