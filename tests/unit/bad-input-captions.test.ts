import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StudioError } from '../../shared/errors';
import { MAX_CAPTION_BYTES } from '../../electron/core/io/values';
import { PROMPT_SHOWN_CHARS } from '../../electron/core/store/pairs';
import { writeShardWithDuckDB, shardRow } from '../helpers/duckdb';
import { makeJpeg, openTestProject, projectDigest, sqlite, tempDir } from '../helpers/project';

let dir: string;
let project: string;

beforeEach(async () => {
  dir = tempDir();
  project = path.join(dir, 'p.pickstudio');
  const good = path.join(dir, 'good.parquet');
  await writeShardWithDuckDB(good, [shardRow(1), shardRow(2)], { images: false });
  const { call, store } = openTestProject(project);
  await call('importSources', { sources: [good] });
  store.close();
});

afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Imports `sources`, expects a StudioError matching every pattern, and the project unchanged. */
async function expectRefused(sources: string[], ...patterns: RegExp[]): Promise<void> {
  const before = projectDigest(project);
  const { call, store } = openTestProject(project);
  const error = await call('importSources', { sources }).catch((e: unknown) => e);
  store.close();
  expect(error).toBeInstanceOf(StudioError);
  for (const pattern of patterns) expect((error as StudioError).message).toMatch(pattern);
  expect(projectDigest(project)).toBe(before);
}

const literal = (text: string): RegExp => new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));

/** A manifest beside two images; `lines` are written as they are (bytes or text). */
async function manifest(name: string, lines: (string | Buffer)[]): Promise<string> {
  for (const [i, image] of ['a.jpg', 'b.jpg'].entries()) {
    const file = path.join(dir, image);
    if (!fs.existsSync(file)) fs.writeFileSync(file, await makeJpeg(70 + i));
  }
  const file = path.join(dir, name);
  const bytes = lines.flatMap((l) => [Buffer.from(l), Buffer.from('\n')]);
  fs.writeFileSync(file, Buffer.concat(bytes));
  return file;
}

const jsonl = (prompt: string): string =>
  JSON.stringify({ prompt, image_0: 'a.jpg', image_1: 'b.jpg' });

/** `bytes` bytes of UTF-8 text that ends in a 3-byte character and has no space. */
const captionOf = (bytes: number): string => 'x'.repeat(bytes - 3) + '猫';

describe('caption size', () => {
  it('takes a caption of exactly the limit, and refuses one byte more in a JSONL manifest, naming the row', async () => {
    expect(Buffer.byteLength(captionOf(MAX_CAPTION_BYTES))).toBe(MAX_CAPTION_BYTES);
    const atLimit = await manifest('at-limit.jsonl', [jsonl(captionOf(MAX_CAPTION_BYTES))]);
    const { call, store } = openTestProject(project);
    await call('importSources', { sources: [atLimit] });
    store.close();

    const over = await manifest('over.jsonl', [
      jsonl('a cat'),
      jsonl(captionOf(MAX_CAPTION_BYTES + 1)),
    ]);
    await expectRefused(
      [over],
      literal(`${over} row 2: prompt is 65,537 bytes long`),
      /limited to 65,536 bytes of UTF-8/,
    );
  });

  it('refuses a 10 MB caption in a CSV manifest, naming the row', async () => {
    const csv = await manifest('big.csv', [
      'caption,image_0,image_1',
      'a cat,a.jpg,b.jpg',
      `${'x'.repeat(10_000_000)},a.jpg,b.jpg`,
    ]);
    await expectRefused([csv], literal(`${csv} row 2: caption is 10,000,000 bytes long`));
  });

  it('refuses a 1 MB caption in a Pick-a-Pic shard, naming the row', async () => {
    const shard = path.join(dir, 'big.parquet');
    await writeShardWithDuckDB(
      shard,
      [shardRow(10), shardRow(11, { caption: 'y'.repeat(1_000_000) })],
      {
        images: false,
      },
    );
    await expectRefused(
      [shard],
      literal(`${shard} row 2: caption is 1,000,000 bytes long; captions are limited`),
    );
  });
});

describe('captions that are not UTF-8', () => {
  it('are refused in a JSONL manifest, naming the row, not imported with U+FFFD', async () => {
    const broken = Buffer.concat([
      Buffer.from('{"prompt": "caf'),
      Buffer.from([0xe9]), // é in Latin-1
      Buffer.from('", "image_0": "a.jpg", "image_1": "b.jpg"}'),
    ]);
    const file = await manifest('latin1.jsonl', [jsonl('a cat'), jsonl('a dog'), broken]);
    await expectRefused([file], literal(`${file} row 3: not valid UTF-8`));
  });

  it('are refused in a CSV manifest, naming the line', async () => {
    const broken = Buffer.concat([
      Buffer.from('caf'),
      Buffer.from([0xe9]),
      Buffer.from(',a.jpg,b.jpg'),
    ]);
    const file = await manifest('latin1.csv', ['prompt,image_0,image_1', broken]);
    await expectRefused([file], literal(`${file} line 2: not valid UTF-8`));
  });

  it('are refused in a Pick-a-Pic shard, naming the row and the column', async () => {
    const shard = path.join(dir, 'latin1.parquet');
    const marker = 'zqxj-marker-kwv';
    await writeShardWithDuckDB(shard, [shardRow(20), shardRow(21, { caption: `a ${marker} b` })], {
      images: false,
    });
    // One byte of the caption, wherever the file holds it (the page and its statistics), made
    // a lone Latin-1 byte: the same length, so every offset in the file still holds.
    const bytes = fs.readFileSync(shard);
    let found = 0;
    for (let at = bytes.indexOf(marker); at !== -1; at = bytes.indexOf(marker, at + 1)) {
      bytes[at + marker.indexOf('-marker')] = 0xe9;
      found++;
    }
    expect(found).toBeGreaterThan(0);
    fs.writeFileSync(shard, bytes);
    await expectRefused([shard], literal(`${shard} row 2: caption is not valid UTF-8`));
  });
});

describe('getQueue in a project holding a caption from before the limit', () => {
  it('carries at most PROMPT_SHOWN_CHARS characters of it, marked as cut', async () => {
    const huge = '🐱 a cat '.repeat(250_000); // 2 MB, astral characters across the cut
    const { call, store } = openTestProject(project);
    sqlite(store).prepare('UPDATE prompts SET text = ? WHERE id = 1').run(huge);
    const { pairs } = await call('getQueue', { annotator: 'ann', count: 50 });
    const pair = pairs.find((p) => p.prompt.startsWith('🐱'))!;
    const pairId = pair.pairId;
    const again = await call('getPair', { annotator: 'ann', pairId });
    store.close();

    for (const prompt of [pair.prompt, again.prompt]) {
      const [shown, marker] = prompt.split(' … ');
      expect(Array.from(shown!)).toHaveLength(PROMPT_SHOWN_CHARS);
      expect(huge.startsWith(shown!)).toBe(true);
      expect(marker).toBe('[caption cut: the first 65,536 characters shown]');
    }
    expect(pairs.find((p) => p.pairId !== pairId)!.prompt).toBe('caption 2');
  });
});
