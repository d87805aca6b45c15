import sharp from 'sharp';

import { COLOR_HEX, type BackgroundName, type SceneShape, type SceneSpec } from './scenes';

// Everything is drawn in a 1000-unit viewBox and scaled to the output size, so the look of a scene
// does not depend on the resolution it is rendered at.
const UNIT = 1000;

function fmt(v: number): string {
  return (Math.round(v * 100) / 100).toString();
}

function points(pts: readonly (readonly [number, number])[]): string {
  return pts.map(([x, y]) => `${fmt(x)},${fmt(y)}`).join(' ');
}

/** Mixes a #rrggbb colour toward black by `amount` (0..1), for outlines that match their fill. */
function darken(hex: string, amount: number): string {
  const channels = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) * (1 - amount));
  return `#${channels.map((c) => Math.round(c).toString(16).padStart(2, '0')).join('')}`;
}

/** Every shape fits the square of side `s` centred on (cx, cy), so layouts never overlap. */
function shapeElement(kind: SceneShape['kind'], cx: number, cy: number, s: number): string {
  const r = s / 2;
  switch (kind) {
    case 'circle':
      return `<circle cx="${fmt(cx)}" cy="${fmt(cy)}" r="${fmt(r)}"/>`;
    case 'square':
      return `<rect x="${fmt(cx - r)}" y="${fmt(cy - r)}" width="${fmt(s)}" height="${fmt(s)}" rx="${fmt(s * 0.06)}"/>`;
    case 'triangle':
      return `<polygon points="${points([
        [cx, cy - r],
        [cx + r, cy + r],
        [cx - r, cy + r],
      ])}"/>`;
    case 'hexagon':
      return `<polygon points="${points(
        Array.from({ length: 6 }, (_, i) => {
          const a = (Math.PI / 3) * i - Math.PI / 2;
          return [cx + r * Math.cos(a), cy + r * Math.sin(a)] as const;
        }),
      )}"/>`;
    case 'star': {
      // A star's lowest points sit above the bottom of its circumcircle; shifting it down by half
      // the gap centres it in its square.
      const shift = (r * (1 - Math.cos(Math.PI / 5))) / 2;
      return `<polygon points="${points(
        Array.from({ length: 10 }, (_, i) => {
          const a = (Math.PI / 5) * i - Math.PI / 2;
          const radius = i % 2 === 0 ? r : r * 0.42;
          return [cx + radius * Math.cos(a), cy + shift + radius * Math.sin(a)] as const;
        }),
      )}"/>`;
    }
    case 'heart': {
      const p = (x: number, y: number) => `${fmt(cx - r + x * s)} ${fmt(cy - r + y * s)}`;
      return (
        `<path d="M ${p(0.5, 0.95)} C ${p(0.18, 0.72)} ${p(0, 0.52)} ${p(0, 0.31)} ` +
        `C ${p(0, 0.13)} ${p(0.13, 0.05)} ${p(0.27, 0.05)} C ${p(0.38, 0.05)} ${p(0.46, 0.12)} ${p(0.5, 0.22)} ` +
        `C ${p(0.54, 0.12)} ${p(0.62, 0.05)} ${p(0.73, 0.05)} C ${p(0.87, 0.05)} ${p(1, 0.13)} ${p(1, 0.31)} ` +
        `C ${p(1, 0.52)} ${p(0.82, 0.72)} ${p(0.5, 0.95)} Z"/>`
      );
    }
  }
}

function linear(id: string, stops: readonly (readonly [number, string])[]): string {
  const s = stops.map(([o, c]) => `<stop offset="${o}" stop-color="${c}"/>`).join('');
  return `<linearGradient id="${id}" x1="0" y1="0" x2="0" y2="1">${s}</linearGradient>`;
}

/** A rectangle over the whole canvas. */
function full(fill: string): string {
  return `<rect width="${UNIT}" height="${UNIT}" fill="${fill}"/>`;
}

/** A cloud of three ellipses around (x, y), scaled by k. */
function cloud(x: number, y: number, k: number): string {
  return (
    `<g fill="#ffffff" opacity="0.75">` +
    `<ellipse cx="${x}" cy="${y}" rx="${90 * k}" ry="${32 * k}"/>` +
    `<ellipse cx="${x - 40 * k}" cy="${y - 18 * k}" rx="${45 * k}" ry="${34 * k}"/>` +
    `<ellipse cx="${x + 30 * k}" cy="${y - 26 * k}" rx="${55 * k}" ry="${42 * k}"/></g>`
  );
}

/** 70 stars in a fixed low-discrepancy scatter: evenly spread without a random generator. */
function stars(): string {
  const circles = Array.from({ length: 70 }, (_, i) => {
    const x = ((i * 0.6180339887 + 0.13) % 1) * UNIT;
    const y = ((i * 0.7548776662 + 0.29) % 1) * UNIT;
    const r = 1.2 + (i % 3) * 0.8;
    return `<circle cx="${fmt(x)}" cy="${fmt(y)}" r="${r}"/>`;
  });
  return `<g fill="#ffffff" opacity="0.8">${circles.join('')}</g>`;
}

/** Returns gradient definitions and the elements that paint the background. */
function background(name: BackgroundName): { defs: string; body: string } {
  switch (name) {
    case 'sky':
      return {
        defs: linear('bg', [
          [0, '#5ea8ee'],
          [1, '#d6edff'],
        ]),
        body: full('url(#bg)') + cloud(180, 140, 1) + cloud(800, 300, 0.8) + cloud(420, 880, 1.2),
      };
    case 'grass':
      return {
        defs:
          linear('sky', [
            [0, '#9fd3ff'],
            [1, '#dff1ff'],
          ]) +
          linear('bg', [
            [0, '#8fd16a'],
            [1, '#3f8f33'],
          ]),
        body:
          full('url(#sky)') +
          `<path d="M 0 200 Q 250 150 500 190 T ${UNIT} 180 V ${UNIT} H 0 Z" fill="url(#bg)"/>` +
          `<path d="M 0 600 Q 300 540 620 600 T ${UNIT} 580 V ${UNIT} H 0 Z" fill="#2f7d2a" opacity="0.18"/>`,
      };
    case 'night':
      return {
        defs: linear('bg', [
          [0, '#070b24'],
          [1, '#27346a'],
        ]),
        body: full('url(#bg)') + stars(),
      };
    case 'sand':
      return {
        defs: linear('bg', [
          [0, '#f7e7bd'],
          [1, '#dcb878'],
        ]),
        body:
          full('url(#bg)') +
          `<path d="M 0 700 Q 250 620 520 690 T ${UNIT} 660 V ${UNIT} H 0 Z" fill="#c9a060" opacity="0.3"/>` +
          `<path d="M 0 860 Q 300 800 640 870 T ${UNIT} 840 V ${UNIT} H 0 Z" fill="#b88c4c" opacity="0.25"/>`,
      };
    case 'paper':
      return {
        defs:
          `<radialGradient id="bg" cx="0.5" cy="0.45" r="0.75">` +
          `<stop offset="0" stop-color="#fdfcf8"/><stop offset="1" stop-color="#e6e0cf"/></radialGradient>`,
        body: full('url(#bg)'),
      };
    case 'sunset':
      return {
        defs:
          linear('bg', [
            [0, '#ff7043'],
            [0.55, '#ffa270'],
            [1, '#ffd49a'],
          ]) +
          `<radialGradient id="glow" cx="0.5" cy="1" r="0.6">` +
          `<stop offset="0" stop-color="#fff3c4" stop-opacity="0.9"/>` +
          `<stop offset="1" stop-color="#fff3c4" stop-opacity="0"/></radialGradient>`,
        body: full('url(#bg)') + full('url(#glow)'),
      };
  }
}

/** Builds the SVG for a scene; exported separately so it can be inspected without rasterising. */
export function sceneSvg(spec: SceneSpec, size = 512): string {
  const bg = background(spec.background);
  const shadows: string[] = [];
  const shapes: string[] = [];
  for (const shape of spec.shapes) {
    const [cx, cy, s] = [shape.x * UNIT, shape.y * UNIT, shape.size * UNIT];
    const fill = COLOR_HEX[shape.color];
    shadows.push(shapeElement(shape.kind, cx + s * 0.03, cy + s * 0.04, s));
    shapes.push(
      `<g fill="${fill}" stroke="${darken(fill, 0.35)}">${shapeElement(shape.kind, cx, cy, s)}</g>`,
    );
  }
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 ${UNIT} ${UNIT}">` +
    `<defs>${bg.defs}</defs>` +
    bg.body +
    // A hard, faint shadow: a Gaussian blur made rendering four times slower for little gain.
    `<g fill="#000000" opacity="0.18">${shadows.join('')}</g>` +
    `<g stroke-width="6" stroke-linejoin="round">${shapes.join('')}</g>` +
    `</svg>`
  );
}

/** Renders a scene to a size x size JPEG. */
export async function renderSceneJpeg(spec: SceneSpec, size = 512, quality = 90): Promise<Buffer> {
  return sharp(Buffer.from(sceneSvg(spec, size)))
    .jpeg({ quality })
    .toBuffer();
}
