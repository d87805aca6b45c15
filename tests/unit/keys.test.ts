/**
 * The key tables of shared/keys.ts are the one definition of every key: each key means what its
 * binding says, no key means two things in one view, and README's table is written from them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { describe, expect, it } from 'vitest';
import {
  commandFor,
  decisionFor,
  describeKeys,
  GO_KEYS,
  GO_PREFIX,
  isGoPrefix,
  LABELING_KEYS,
  REVIEW_KEYS,
  REVIEW_LEFT_IMAGE,
  verdictFor,
  ZOOM_KEYS,
  type KeyBinding,
  type KeyInfo,
} from '../../shared/keys';

const README = fileURLToPath(new URL('../../README.md', import.meta.url));

const TABLES: [string, readonly KeyBinding<string>[]][] = [
  ['labeling', LABELING_KEYS],
  ['review', REVIEW_KEYS],
  ['go', GO_KEYS],
  ['zoom', ZOOM_KEYS],
];

const press = (key: string, modifiers: Partial<KeyInfo> = {}): KeyInfo => ({
  key,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  shiftKey: false,
  ...modifiers,
});

/** Every key a binding answers to, Ctrl+ and Cmd+ ones spelled as "Mod+z". */
const keysOf = (binding: KeyBinding<string>): string[] => [
  ...binding.keys,
  ...(binding.withCommandKey ? [`Mod+${binding.withCommandKey}`] : []),
];

/** README's table as Prettier lays it out, written from LABELING_KEYS. */
async function labelingTable(): Promise<string> {
  const rows = LABELING_KEYS.map(
    (binding) => `| ${describeKeys(binding, false)} | ${binding.does} |`,
  );
  const markdown = ['| key | does |', '| --- | --- |', ...rows].join('\n');
  const options = await prettier.resolveConfig(README);
  return (await prettier.format(markdown, { ...options, parser: 'markdown' })).trimEnd();
}

/** The first table under README's "## Labeling". */
function readmeTable(): string {
  const readme = fs.readFileSync(README, 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith('Labeling\n'));
  if (section === undefined) throw new Error(`${README} has no "## Labeling" section`);
  const lines = section.split('\n');
  const first = lines.findIndex((line) => line.startsWith('|'));
  const end = lines.findIndex((line, i) => i > first && !line.startsWith('|'));
  return lines.slice(first, end === -1 ? undefined : end).join('\n');
}

describe('the key tables', () => {
  it("README's labeling table is the one LABELING_KEYS writes", async () => {
    expect(readmeTable(), `${path.basename(README)}, under "## Labeling"`).toBe(
      await labelingTable(),
    );
  });

  for (const [name, bindings] of TABLES) {
    it(`binds no key twice in the ${name} table`, () => {
      const keys = bindings.flatMap(keysOf);
      const twice = keys.filter((key, i) => keys.indexOf(key) !== i);
      expect(twice).toEqual([]);
    });

    it(`gives each key of the ${name} table its binding's command`, () => {
      for (const binding of bindings) {
        for (const key of binding.keys) {
          expect(commandFor(bindings, press(key)), key).toBe(binding.command);
          // Shift is part of the key ('?'); Ctrl, Cmd and Alt make it another key.
          expect(commandFor(bindings, press(key, { shiftKey: true })), key).toBe(binding.command);
          for (const modifier of ['ctrlKey', 'metaKey', 'altKey'] as const) {
            // Another key, if any (z zooms, Ctrl+Z undoes).
            expect(commandFor(bindings, press(key, { [modifier]: true })), key).not.toBe(
              binding.command,
            );
          }
        }
        const withCommand = binding.withCommandKey;
        if (withCommand === undefined) continue;
        for (const modifier of ['ctrlKey', 'metaKey'] as const) {
          expect(commandFor(bindings, press(withCommand, { [modifier]: true }))).toBe(
            binding.command,
          );
          // Caps Lock on: the same key.
          expect(commandFor(bindings, press(withCommand.toUpperCase(), { [modifier]: true }))).toBe(
            binding.command,
          );
        }
        // The key alone is not the command (a plain z zooms, Ctrl+Z undoes).
        expect(commandFor(bindings, press(withCommand))).not.toBe(binding.command);
        expect(
          commandFor(bindings, press(withCommand, { ctrlKey: true, altKey: true })),
        ).toBeNull();
      }
      expect(commandFor(bindings, press('F13'))).toBeNull();
    });
  }

  it('takes Ctrl+Z and Cmd+Z for undo, and not Shift+Ctrl+Z (redo elsewhere)', () => {
    expect(commandFor(LABELING_KEYS, press('z', { ctrlKey: true }))).toBe('undo');
    expect(commandFor(LABELING_KEYS, press('z', { metaKey: true }))).toBe('undo');
    expect(commandFor(LABELING_KEYS, press('Z', { ctrlKey: true, shiftKey: true }))).toBeNull();
    expect(commandFor(LABELING_KEYS, press('Z', { metaKey: true, shiftKey: true }))).toBeNull();
    expect(commandFor(LABELING_KEYS, press('z', { ctrlKey: true, shiftKey: true }))).toBeNull();
  });

  it("leaves the suggestion mode to the lead's settings: S means nothing while labeling", () => {
    for (const key of ['s', 'S']) expect(commandFor(LABELING_KEYS, press(key)), key).toBeNull();
  });

  it('keeps the g chords clear of every single-key command', () => {
    const single = [...LABELING_KEYS, ...REVIEW_KEYS].flatMap((binding) => binding.keys);
    for (const key of [GO_PREFIX, ...GO_KEYS.flatMap((binding) => binding.keys)]) {
      expect(single, key).not.toContain(key);
    }
    expect(isGoPrefix(press(GO_PREFIX))).toBe(true);
    expect(isGoPrefix(press(GO_PREFIX, { ctrlKey: true }))).toBe(false);
  });

  it('turns sides into image indices by the image shown on the left', () => {
    expect([0, 1].map((left) => decisionFor('left', left as 0 | 1))).toEqual([0, 1]);
    expect([0, 1].map((left) => decisionFor('right', left as 0 | 1))).toEqual([1, 0]);
    expect(decisionFor('tie', 1)).toBe('tie');
    expect(decisionFor('skip', 1)).toBe('skip');
    // Review shows image 0 on the left: its side keys adjudicate 0, 1 and tie.
    expect(
      (['left', 'right', 'tie'] as const).map((c) => verdictFor(c, REVIEW_LEFT_IMAGE)),
    ).toEqual([0, 1, 'tie']);
  });
});
