import sharp from 'sharp';
import { describe, expect, it } from 'vitest';

import { renderSceneJpeg } from '../../electron/core/demo/render';
import {
  COLOR_HEX,
  generateDemoScenes,
  type ColorName,
  type SceneShape,
  type SceneSpec,
  type ShapeKind,
} from '../../electron/core/demo/scenes';

const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five'];

function parseMistake(mistake: string) {
  const m = /^(colour|shape|count|background): (.+) instead of (.+)$/.exec(mistake);
  if (!m) throw new Error(`unexpected mistake text: ${mistake}`);
  const [, aspect = '', wrong = '', right = ''] = m;
  return { aspect, wrong, right };
}

/** Pairs each faithful shape with the wrong spec's shape in the same place in the list. */
function zip(faithful: SceneSpec, wrong: SceneSpec): [SceneShape, SceneShape][] {
  expect(wrong.shapes).toHaveLength(faithful.shapes.length);
  return faithful.shapes.map((f, i) => [f, wrong.shapes[i] as SceneShape]);
}

const placement = (s: SceneShape) => `${s.x},${s.y},${s.size}`;
const identity = (s: SceneShape) => `${s.color} ${s.kind}`;

/** Asserts that `wrong` differs from `faithful` only in the aspect the mistake names. */
function expectOneDifference(faithful: SceneSpec, wrong: SceneSpec, mistake: string): void {
  const { aspect, wrong: bad, right } = parseMistake(mistake);
  if (aspect === 'background') {
    expect(wrong.background).not.toBe(faithful.background);
    expect(wrong.shapes).toEqual(faithful.shapes);
    return;
  }
  expect(wrong.background).toBe(faithful.background);
  if (aspect === 'count') {
    const [f, w] = [faithful.shapes, wrong.shapes];
    expect(w.length).not.toBe(f.length);
    // The changed group keeps its colour and kind; every other shape stays exactly where it was.
    const key = (s: SceneShape) => JSON.stringify(s);
    const [fKeys, wKeys] = [new Set(f.map(key)), new Set(w.map(key))];
    const changedIds = new Set(
      [...f.filter((s) => !wKeys.has(key(s))), ...w.filter((s) => !fKeys.has(key(s)))].map(
        identity,
      ),
    );
    expect(changedIds.size).toBe(1);
    const [id] = changedIds;
    expect(f.filter((s) => identity(s) === id)).toHaveLength(NUMBER_WORDS.indexOf(right));
    expect(w.filter((s) => identity(s) === id)).toHaveLength(NUMBER_WORDS.indexOf(bad));
    return;
  }
  expect(wrong.shapes.map(placement)).toEqual(faithful.shapes.map(placement));
  const changed = zip(faithful, wrong).filter(([f, w]) => f.color !== w.color || f.kind !== w.kind);
  expect(changed.length).toBeGreaterThan(0);
  for (const [f, w] of changed) {
    if (aspect === 'colour') {
      expect([f.kind, f.color, w.color]).toEqual([w.kind, right, bad]);
    } else {
      expect([f.color, f.kind, w.kind]).toEqual([w.color, right, bad]);
    }
  }
}

function hexToRgb(hex: string): number[] {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

async function decode(jpeg: Buffer) {
  const meta = await sharp(jpeg).metadata();
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  const pixel = (shape: SceneShape) => {
    const x = Math.round(shape.x * info.width);
    const y = Math.round(shape.y * info.height);
    const i = (y * info.width + x) * info.channels;
    return [...data.subarray(i, i + 3)];
  };
  return { meta, pixel };
}

function expectColour(rgb: number[], color: ColorName): void {
  const want = hexToRgb(COLOR_HEX[color]);
  const worst = Math.max(...want.map((v, c) => Math.abs(v - (rgb[c] ?? -255))));
  expect(worst, `${color} ${COLOR_HEX[color]} rendered as rgb(${rgb})`).toBeLessThan(40);
}

describe('generateDemoScenes', () => {
  it('is deterministic for a seed and varies with it', () => {
    expect(generateDemoScenes(50, 42)).toEqual(generateDemoScenes(50, 42));
    const other = generateDemoScenes(50, 43).map((s) => s.prompt);
    expect(generateDemoScenes(50, 42).map((s) => s.prompt)).not.toEqual(other);
  });

  it('makes 2000 scenes with unique prompts', () => {
    const scenes = generateDemoScenes(2000);
    expect(scenes).toHaveLength(2000);
    expect(new Set(scenes.map((s) => s.prompt)).size).toBe(2000);
  });

  it('names every faithful shape in the prompt and keeps shapes apart and on the canvas', () => {
    for (const { prompt, faithful, wrong } of generateDemoScenes(500, 7)) {
      expect(faithful.shapes.length).toBeGreaterThan(0);
      for (const s of faithful.shapes) {
        expect(prompt).toContain(s.color);
        expect(prompt).toContain(s.kind);
      }
      for (const spec of [faithful, wrong]) {
        spec.shapes.forEach((a, i) => {
          expect(a.x - a.size / 2).toBeGreaterThanOrEqual(0);
          expect(a.y - a.size / 2).toBeGreaterThanOrEqual(0);
          expect(a.x + a.size / 2).toBeLessThanOrEqual(1);
          expect(a.y + a.size / 2).toBeLessThanOrEqual(1);
          for (const b of spec.shapes.slice(i + 1)) {
            const apart =
              Math.abs(a.x - b.x) >= (a.size + b.size) / 2 ||
              Math.abs(a.y - b.y) >= (a.size + b.size) / 2;
            expect(apart, `${prompt}: overlapping shapes`).toBe(true);
          }
        });
      }
    }
  });

  it('makes the wrong spec differ in exactly the one aspect its mistake names', () => {
    const scenes = generateDemoScenes(1000, 11);
    const aspects = new Set<string>();
    for (const { prompt, faithful, wrong, mistake } of scenes) {
      const { aspect, right } = parseMistake(mistake);
      aspects.add(aspect);
      // What the faithful image has instead is something the prompt says ("one" is spelt "a").
      if (aspect !== 'background' && right !== 'one') expect(prompt).toContain(right);
      expectOneDifference(faithful, wrong, mistake);
    }
    expect([...aspects].sort()).toEqual(['background', 'colour', 'count', 'shape']);
  });

  it('rejects a count that is not a non-negative integer', () => {
    expect(() => generateDemoScenes(-1)).toThrow(RangeError);
    expect(() => generateDemoScenes(1.5)).toThrow(RangeError);
    expect(generateDemoScenes(0)).toEqual([]);
  });
});

describe('renderSceneJpeg', () => {
  it('draws every kind of shape filled with its colour at its centre', async () => {
    const shapes: [ShapeKind, ColorName][] = [
      ['circle', 'red'],
      ['square', 'blue'],
      ['triangle', 'green'],
      ['star', 'purple'],
      ['heart', 'black'],
      ['hexagon', 'orange'],
    ];
    const spec: SceneSpec = {
      background: 'paper',
      shapes: shapes.map(([kind, color], i) => ({
        kind,
        color,
        x: 0.2 + (i % 3) * 0.3,
        y: i < 3 ? 0.3 : 0.7,
        size: 0.15,
      })),
    };
    const { meta, pixel } = await decode(await renderSceneJpeg(spec));
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 512, 512]);
    for (const shape of spec.shapes) expectColour(pixel(shape), shape.color);
  });

  it('shows the colour the prompt names in the faithful image and the other in the wrong one', async () => {
    const scene = generateDemoScenes(100, 5).find((s) => s.mistake.startsWith('colour:'));
    if (!scene) throw new Error('no colour mistake among 100 scenes');
    const [f, w] = await Promise.all([
      renderSceneJpeg(scene.faithful).then(decode),
      renderSceneJpeg(scene.wrong, 256, 80).then(decode),
    ]);
    expect([w.meta.format, w.meta.width, w.meta.height]).toEqual(['jpeg', 256, 256]);
    const changed = zip(scene.faithful, scene.wrong).find(([a, b]) => a.color !== b.color);
    if (!changed) throw new Error(`no shape changes colour: ${scene.mistake}`);
    const { wrong: bad, right } = parseMistake(scene.mistake);
    expectColour(f.pixel(changed[0]), right as ColorName);
    expectColour(w.pixel(changed[1]), bad as ColorName);
  });
});
