/**
 * Demo scenes: text-to-image prompts paired with two renderable specs, one faithful to the prompt
 * and one wrong in exactly one aspect the prompt names, so the app has realistic preference pairs
 * to show without downloading anything.
 */

export type ShapeKind = 'circle' | 'square' | 'triangle' | 'star' | 'heart' | 'hexagon';
export type ColorName =
  | 'red'
  | 'orange'
  | 'yellow'
  | 'green'
  | 'blue'
  | 'purple'
  | 'pink'
  | 'brown'
  | 'black'
  | 'white';
export type BackgroundName = 'sky' | 'grass' | 'night' | 'sand' | 'paper' | 'sunset';

/** x and y are the centre of the shape's bounding square, size its side; all in 0..1 of the canvas. */
export interface SceneShape {
  kind: ShapeKind;
  color: ColorName;
  x: number;
  y: number;
  size: number;
}

export interface SceneSpec {
  background: BackgroundName;
  shapes: SceneShape[];
}

export interface DemoScene {
  prompt: string;
  faithful: SceneSpec;
  wrong: SceneSpec;
  /** What `wrong` gets wrong, e.g. "colour: blue instead of red" or "count: two instead of three". */
  mistake: string;
}

export const SHAPE_KINDS: readonly ShapeKind[] = [
  'circle',
  'square',
  'triangle',
  'star',
  'heart',
  'hexagon',
];
export const COLOR_NAMES: readonly ColorName[] = [
  'red',
  'orange',
  'yellow',
  'green',
  'blue',
  'purple',
  'pink',
  'brown',
  'black',
  'white',
];
export const BACKGROUNDS: readonly BackgroundName[] = [
  'sky',
  'grass',
  'night',
  'sand',
  'paper',
  'sunset',
];

export const COLOR_HEX: Record<ColorName, string> = {
  red: '#e53935',
  orange: '#fb8c00',
  yellow: '#fdd835',
  green: '#43a047',
  blue: '#1e88e5',
  purple: '#8e24aa',
  pink: '#f06292',
  brown: '#795548',
  black: '#212121',
  white: '#fafafa',
};

// A shape that nearly vanishes into its background would make the faithful image look wrong too.
const LOW_CONTRAST: Record<BackgroundName, readonly ColorName[]> = {
  sky: ['blue', 'white'],
  grass: ['green'],
  night: ['black', 'brown', 'blue', 'purple'],
  sand: ['yellow', 'white'],
  paper: ['white'],
  sunset: ['red', 'orange', 'pink', 'yellow'],
};

// Swapping between near neighbours is ambiguous even to a person at small sizes, so a mistake never
// does it: the wrong image should be plainly wrong.
const SIMILAR_COLORS: Record<ColorName, readonly ColorName[]> = {
  red: ['orange', 'pink'],
  orange: ['red', 'yellow', 'brown'],
  yellow: ['orange'],
  green: [],
  blue: ['purple'],
  purple: ['blue', 'pink'],
  pink: ['red', 'purple'],
  brown: ['orange', 'black'],
  black: ['brown'],
  white: [],
};
const SIMILAR_KINDS: Record<ShapeKind, readonly ShapeKind[]> = {
  circle: ['hexagon'],
  square: [],
  triangle: [],
  star: [],
  heart: [],
  hexagon: ['circle'],
};

const BACKGROUND_PHRASES: Record<BackgroundName, readonly string[]> = {
  sky: ['in a clear blue sky', 'against a blue sky', 'floating in the sky'],
  grass: ['on a grassy field', 'on green grass', 'in a meadow'],
  night: ['in a night sky', 'against a starry night sky', 'at night'],
  sand: ['on a sandy beach', 'on sand', 'in the desert'],
  paper: ['on white paper', 'on a blank sheet of paper', 'on a plain paper background'],
  sunset: ['at sunset', 'against a sunset sky', 'in front of a sunset'],
};
const BACKGROUND_NOUNS: Record<BackgroundName, string> = {
  sky: 'blue sky',
  grass: 'grass',
  night: 'night sky',
  sand: 'sand',
  paper: 'paper',
  sunset: 'sunset',
};
const STYLE_SUFFIXES = [
  ', flat illustration',
  ', simple vector art',
  ', minimalist',
  ', clip art',
  ', digital art',
];
const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five'];

function numberWord(n: number): string {
  const word = NUMBER_WORDS[n];
  if (word === undefined) throw new RangeError(`no word for ${n} shapes`);
  return word;
}

type SizeWord = 'small' | 'large';
type Relation = 'left' | 'right' | 'above' | 'below';
type Axis = 'horizontal' | 'vertical';

/** A noun phrase of the prompt: "a small red circle", "three yellow stars". */
interface Subject {
  count: number;
  color: ColorName;
  kind: ShapeKind;
  size?: SizeWord;
  // Each subject jitters from its own seed so that changing one subject leaves the others in place.
  layoutSeed: number;
}

type Arrangement =
  | { kind: 'alone' }
  // `relation` is where the first subject sits relative to the second; `vague` says "next to".
  | { kind: 'pair'; relation: Relation; vague: boolean }
  | { kind: 'row'; axis: Axis };

interface Scene {
  background: BackgroundName;
  subjects: Subject[];
  arrangement: Arrangement;
}

interface Region {
  cx: number;
  cy: number;
  w: number;
  h: number;
}

type Rng = () => number;

/** mulberry32: tiny, fast and good enough to make demo data reproducible from a seed. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  const item = items[Math.floor(rng() * items.length)];
  if (item === undefined) throw new RangeError('pick from an empty list');
  return item;
}

function weighted<T>(rng: Rng, options: readonly (readonly [T, number])[]): T {
  const total = options.reduce((sum, [, w]) => sum + w, 0);
  let r = rng() * total;
  // Rounding can leave r a hair above zero after the last option, which then takes it.
  const hit = options.find(([, w]) => (r -= w) < 0) ?? options[options.length - 1];
  if (!hit) throw new RangeError('weighted pick from an empty list');
  return hit[0];
}

function seedFrom(rng: Rng): number {
  return Math.floor(rng() * 4294967296);
}

function round4(v: number): number {
  return Math.round(v * 10000) / 10000;
}

function colorsOf(scene: Scene): ColorName[] {
  return scene.subjects.map((s) => s.color);
}

function fitsBackground(colors: readonly ColorName[], background: BackgroundName): boolean {
  return colors.every((c) => !LOW_CONTRAST[background].includes(c));
}

function randomSubject(rng: Rng, background: BackgroundName, count: number, sized: boolean) {
  const color = pick(
    rng,
    COLOR_NAMES.filter((c) => !LOW_CONTRAST[background].includes(c)),
  );
  const subject: Subject = {
    count,
    color,
    kind: pick(rng, SHAPE_KINDS),
    layoutSeed: seedFrom(rng),
  };
  if (sized) subject.size = pick(rng, ['small', 'large'] as const);
  return subject;
}

function randomScene(rng: Rng): Scene {
  const background = pick(rng, BACKGROUNDS);
  const template = weighted(rng, [
    ['alone', 15],
    ['group', 20],
    ['pair', 45],
    ['row', 20],
  ] as const);
  if (template === 'alone' || template === 'group') {
    const count = template === 'alone' ? 1 : 2 + Math.floor(rng() * 3);
    const subject = randomSubject(rng, background, count, rng() < 0.35);
    return { background, subjects: [subject], arrangement: { kind: 'alone' } };
  }
  const n = template === 'pair' ? 2 : 3;
  const subjects: Subject[] = [];
  while (subjects.length < n) {
    const count =
      template === 'pair'
        ? weighted(rng, [
            [1, 75],
            [2, 15],
            [3, 10],
          ] as const)
        : 1;
    const s = randomSubject(rng, background, count, template === 'pair' && rng() < 0.3);
    // Two identical subjects would make "the red circle" ambiguous when one of them is changed.
    if (!subjects.some((o) => o.color === s.color && o.kind === s.kind)) subjects.push(s);
  }
  if (template === 'row') {
    return {
      background,
      subjects,
      arrangement: { kind: 'row', axis: rng() < 0.7 ? 'horizontal' : 'vertical' },
    };
  }
  const relation = pick(rng, ['left', 'right', 'above', 'below'] as const);
  const vague = (relation === 'left' || relation === 'right') && rng() < 0.4;
  return { background, subjects, arrangement: { kind: 'pair', relation, vague } };
}

/** Identifies a scene's content regardless of wording, so two scenes never show the same thing. */
function sceneKey(scene: Scene): string {
  const subjects = scene.subjects.map((s) => `${s.count} ${s.size ?? ''} ${s.color} ${s.kind}`);
  const a = scene.arrangement;
  const arrangement =
    a.kind === 'pair'
      ? `pair ${a.relation} ${a.vague}`
      : a.kind === 'row'
        ? `row ${a.axis}`
        : a.kind;
  return `${scene.background}|${arrangement}|${subjects.join('|')}`;
}

function describeSubject(s: Subject): string {
  const size = s.size ? `${s.size} ` : '';
  if (s.count > 1) return `${numberWord(s.count)} ${size}${s.color} ${s.kind}s`;
  const words = `${size}${s.color} ${s.kind}`;
  return `${/^[aeiou]/.test(words) ? 'an' : 'a'} ${words}`;
}

function describeScene(scene: Scene, rng: Rng): string {
  const [first, second, third] = scene.subjects.map(describeSubject);
  const a = scene.arrangement;
  let body: string;
  if (a.kind === 'alone') {
    body = `${first}`;
  } else if (a.kind === 'pair') {
    const linking = a.vague
      ? pick(rng, ['next to', 'beside'])
      : pick(
          rng,
          {
            left: ['to the left of', 'left of'],
            right: ['to the right of', 'right of'],
            above: ['above', 'over'],
            below: ['below', 'under', 'beneath'],
          }[a.relation],
        );
    body = `${first} ${linking} ${second}`;
  } else {
    const order =
      a.axis === 'horizontal'
        ? pick(rng, ['in a row', 'from left to right', 'side by side'])
        : pick(rng, ['stacked from top to bottom', 'in a vertical column']);
    body = `${first}, ${second} and ${third} ${order}`;
  }
  const background =
    rng() < 0.75
      ? ` ${pick(rng, BACKGROUND_PHRASES[scene.background])}`
      : `, ${BACKGROUND_NOUNS[scene.background]} background`;
  const style = rng() < 0.4 ? pick(rng, STYLE_SUFFIXES) : '';
  return `${body}${background}${style}`;
}

function regionsFor(arrangement: Arrangement): Region[] {
  if (arrangement.kind === 'alone') return [{ cx: 0.5, cy: 0.5, w: 0.9, h: 0.9 }];
  if (arrangement.kind === 'row') {
    return [0.18, 0.5, 0.82].map((c) =>
      arrangement.axis === 'horizontal'
        ? { cx: c, cy: 0.5, w: 0.31, h: 0.86 }
        : { cx: 0.5, cy: c, w: 0.86, h: 0.31 },
    );
  }
  const first = arrangement.relation === 'left' || arrangement.relation === 'above';
  const [a, b] = first ? [0.26, 0.74] : [0.74, 0.26];
  return arrangement.relation === 'left' || arrangement.relation === 'right'
    ? [
        { cx: a, cy: 0.5, w: 0.46, h: 0.86 },
        { cx: b, cy: 0.5, w: 0.46, h: 0.86 },
      ]
    : [
        { cx: 0.5, cy: a, w: 0.86, h: 0.46 },
        { cx: 0.5, cy: b, w: 0.86, h: 0.46 },
      ];
}

/** Cell centres (relative to the region's centre) and cell size for `count` shapes. */
function cellsFor(
  count: number,
  region: Region,
): { centres: [number, number][]; cellW: number; cellH: number } {
  const { w, h } = region;
  const long = Math.max(w, h);
  const short = Math.min(w, h);
  if (count === 4 && long / short < 1.5) {
    const centres = [-1, 1].flatMap((j) =>
      [-1, 1].map((i): [number, number] => [(i * w) / 4, (j * h) / 4]),
    );
    return { centres, cellW: w / 2, cellH: h / 2 };
  }
  if (count === 5 && long / short < 1.5) {
    // Arranged like the five on a die.
    const die = [
      [-1, -1],
      [1, -1],
      [0, 0],
      [-1, 1],
      [1, 1],
    ] as const;
    return {
      centres: die.map(([i, j]) => [(i * w) / 3, (j * h) / 3]),
      cellW: w / 3,
      cellH: h / 3,
    };
  }
  const horizontal = w >= h;
  const step = long / count;
  const centres = Array.from({ length: count }, (_, i): [number, number] => {
    const along = -long / 2 + step * (i + 0.5);
    return horizontal ? [along, 0] : [0, along];
  });
  return { centres, cellW: horizontal ? step : w, cellH: horizontal ? h : step };
}

function placeSubject(subject: Subject, region: Region): SceneShape[] {
  const rng = mulberry32(subject.layoutSeed);
  const { centres, cellW, cellH } = cellsFor(subject.count, region);
  // The caps keep "large" and "small" meaningful: a lone unsized shape must not fill the canvas.
  const [factor, cap] =
    subject.size === 'small' ? [0.5, 0.18] : subject.size === 'large' ? [0.9, 0.5] : [0.7, 0.32];
  const size = Math.min(Math.min(cellW, cellH) * factor, cap);
  // Jitter stays within the cell's slack, so shapes never overlap or leave their region, and is
  // capped so that shapes "in a row" still look lined up.
  const slackX = Math.min(((cellW - size) / 2) * 0.4, 0.05);
  const slackY = Math.min(((cellH - size) / 2) * 0.4, 0.05);
  return centres.map(([dx, dy]) => ({
    kind: subject.kind,
    color: subject.color,
    x: round4(region.cx + dx + (rng() * 2 - 1) * slackX),
    y: round4(region.cy + dy + (rng() * 2 - 1) * slackY),
    size: round4(size),
  }));
}

function layout(scene: Scene): SceneSpec {
  const regions = regionsFor(scene.arrangement);
  return {
    background: scene.background,
    shapes: scene.subjects.flatMap((subject, i) => {
      const region = regions[i];
      if (!region) throw new Error(`no room for subject ${i} in ${sceneKey(scene)}`);
      return placeSubject(subject, region);
    }),
  };
}

type MistakeKind = 'colour' | 'shape' | 'count' | 'background';

function withSubject(scene: Scene, index: number, change: Partial<Subject>): Scene {
  const subjects = scene.subjects.map((s, i) => (i === index ? { ...s, ...change } : s));
  return { ...scene, subjects };
}

/** Returns the wrong scene and its description, or null when this kind of mistake does not fit. */
function makeMistake(
  scene: Scene,
  kind: MistakeKind,
  rng: Rng,
): { wrong: Scene; mistake: string } | null {
  const subject = pick(rng, scene.subjects);
  const index = scene.subjects.indexOf(subject);
  if (kind === 'colour') {
    const used = colorsOf(scene);
    const options = COLOR_NAMES.filter(
      (c) =>
        !used.includes(c) &&
        !SIMILAR_COLORS[subject.color].includes(c) &&
        !LOW_CONTRAST[scene.background].includes(c),
    );
    if (options.length === 0) return null;
    const color = pick(rng, options);
    return {
      wrong: withSubject(scene, index, { color }),
      mistake: `colour: ${color} instead of ${subject.color}`,
    };
  }
  if (kind === 'shape') {
    const used = scene.subjects.map((s) => s.kind);
    const options = SHAPE_KINDS.filter(
      (k) => !used.includes(k) && !SIMILAR_KINDS[subject.kind].includes(k),
    );
    if (options.length === 0) return null;
    const shape = pick(rng, options);
    return {
      wrong: withSubject(scene, index, { kind: shape }),
      mistake: `shape: ${shape} instead of ${subject.kind}`,
    };
  }
  if (kind === 'count') {
    const max = scene.arrangement.kind === 'alone' ? 5 : scene.arrangement.kind === 'pair' ? 4 : 2;
    const options = [subject.count - 1, subject.count + 1].filter((c) => c >= 1 && c <= max);
    if (options.length === 0) return null;
    const count = pick(rng, options);
    return {
      wrong: withSubject(scene, index, { count }),
      mistake: `count: ${numberWord(count)} instead of ${numberWord(subject.count)}`,
    };
  }
  const options = BACKGROUNDS.filter(
    (b) => b !== scene.background && fitsBackground(colorsOf(scene), b),
  );
  if (options.length === 0) return null;
  const background = pick(rng, options);
  return {
    wrong: { ...scene, background },
    mistake: `background: ${BACKGROUND_NOUNS[background]} instead of ${BACKGROUND_NOUNS[scene.background]}`,
  };
}

function randomMistake(scene: Scene, rng: Rng): { wrong: Scene; mistake: string } {
  const first = weighted(rng, [
    ['colour', 35],
    ['shape', 30],
    ['count', 20],
    ['background', 15],
  ] as const);
  // A shape change always fits: a scene has at most three subjects, which leaves at least two
  // unused kinds that are not look-alikes of the one replaced.
  const result = makeMistake(scene, first, rng) ?? makeMistake(scene, 'shape', rng);
  if (result) return result;
  throw new Error(`no mistake fits scene ${sceneKey(scene)}`);
}

/**
 * Makes `count` demo scenes with unique prompts and unique content. The same seed always gives the
 * same scenes.
 */
export function generateDemoScenes(count: number, seed = 1): DemoScene[] {
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`count must be a non-negative integer, got ${count}`);
  }
  const rng = mulberry32(seed);
  const seenContent = new Set<string>();
  const seenPrompts = new Set<string>();
  const scenes: DemoScene[] = [];
  // The content space holds well over 100,000 scenes, so rejections stay rare for any sane count;
  // the bound only turns an absurd count into an error instead of an endless loop.
  const maxAttempts = count * 20 + 1000;
  for (let attempt = 0; scenes.length < count; attempt++) {
    if (attempt >= maxAttempts) throw new RangeError(`cannot make ${count} unique demo scenes`);
    const scene = randomScene(rng);
    const key = sceneKey(scene);
    if (seenContent.has(key)) continue;
    const prompt = describeScene(scene, rng);
    if (seenPrompts.has(prompt)) continue;
    seenContent.add(key);
    seenPrompts.add(prompt);
    const { wrong, mistake } = randomMistake(scene, rng);
    scenes.push({ prompt, faithful: layout(scene), wrong: layout(wrong), mistake });
  }
  return scenes;
}
