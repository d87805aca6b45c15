/**
 * Images the studio cannot show the way the model sees them. Formats the page cannot show (SVG,
 * TIFF) are refused at import, from a manifest and from Parquet, naming the file, the row and the
 * format, with nothing imported; JPEGs whose EXIF orientation would make the browser turn them are
 * served with that orientation neutralised, so annotators see the pixels the model scores.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StudioError } from '../../shared/errors';
import { decodeRgb } from '../../electron/core/scoring/preprocess';
import { writeShardWithDuckDB, shardRow } from '../helpers/duckdb';
import {
  makeJpeg,
  openTestProject,
  projectDigest,
  tempDir,
  writeJsonLines,
} from '../helpers/project';

let dir: string;
let project: string;
let opened: ReturnType<typeof openTestProject>;

/** A picture wider than tall, so a quarter turn shows in its size as well as its pixels. */
const picture = (seed: number) =>
  sharp(makeGradient(seed, 60, 24), { raw: { width: 60, height: 24, channels: 3 } });

function makeGradient(seed: number, width: number, height: number): Buffer {
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    pixels[3 * i] = (i * 7 + seed) & 0xff;
    pixels[3 * i + 1] = ((i % width) * 4) & 0xff;
    pixels[3 * i + 2] = (Math.floor(i / width) * 10) & 0xff;
  }
  return pixels;
}

/** A JPEG whose EXIF says to turn it a quarter clockwise (orientation 6), as phones write them. */
const turnedJpeg = (seed: number) =>
  picture(seed).withMetadata({ orientation: 6 }).jpeg().toBuffer();

beforeEach(async () => {
  dir = tempDir();
  project = path.join(dir, 'p.pickstudio');
  fs.writeFileSync(path.join(dir, 'a.jpg'), await makeJpeg(1));
  fs.writeFileSync(path.join(dir, 'b.jpg'), await makeJpeg(2));
  fs.writeFileSync(
    path.join(dir, 'good.jsonl'),
    JSON.stringify({ prompt: 'kept', image_0: 'a.jpg', image_1: 'b.jpg' }),
  );
  opened = openTestProject(project);
  await opened.call('importSources', { sources: [path.join(dir, 'good.jsonl')] });
});

afterEach(() => {
  opened.store.close();
});

/** Imports `source`, expects a StudioError matching every pattern, and nothing changed. */
async function expectRefused(source: string, ...patterns: RegExp[]): Promise<void> {
  opened.store.close();
  const before = projectDigest(project);
  opened = openTestProject(project);
  const caught = await opened.call('importSources', { sources: [source] }).then(
    () => null,
    (error: unknown) => error,
  );
  expect(caught).toBeInstanceOf(StudioError);
  expect((caught as StudioError).code).toBe('bad_input');
  for (const pattern of patterns) expect((caught as Error).message).toMatch(pattern);
  opened.store.close();
  expect(projectDigest(project)).toBe(before);
  opened = openTestProject(project);
}

function writeManifest(name: string, rows: object[]): string {
  const file = path.join(dir, name);
  writeJsonLines(file, rows);
  return file;
}

const svg = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48"><rect width="64" height="48" fill="red"/></svg>',
);

describe('formats the page cannot show are refused at import', () => {
  it('an SVG or a TIFF in a manifest, named with the row, the column, the file and the format', async () => {
    fs.writeFileSync(path.join(dir, 'scene.svg'), svg);
    fs.writeFileSync(path.join(dir, 'scan.tif'), await picture(3).tiff().toBuffer());
    const svgRows = writeManifest('svg.jsonl', [
      { prompt: 'one', image_0: 'a.jpg', image_1: 'b.jpg' },
      { prompt: 'two', image_0: 'scene.svg', image_1: 'b.jpg' },
    ]);
    await expectRefused(
      svgRows,
      /svg\.jsonl row 2: image_0 "scene\.svg": SVG image, which the studio cannot show/,
      /shows JPEG, PNG, WebP, GIF and AVIF only; convert it/,
    );
    const tiffRows = writeManifest('tiff.jsonl', [
      { prompt: 'three', image_0: 'a.jpg', image_1: 'scan.tif' },
    ]);
    await expectRefused(
      tiffRows,
      /tiff\.jsonl row 1: image_1 "scan\.tif": TIFF image, which the studio cannot show/,
    );
  });

  it('an SVG or a TIFF in a Parquet shard, named with the row and the column', async () => {
    const file = path.join(dir, 'shard.parquet');
    await writeShardWithDuckDB(
      file,
      [
        shardRow(1, { jpg_0: await makeJpeg(3), jpg_1: await makeJpeg(4) }),
        shardRow(2, { jpg_0: await makeJpeg(5), jpg_1: svg }),
      ],
      { images: true },
    );
    await expectRefused(file, /shard\.parquet row 2: jpg_1: SVG image, which the studio cannot/);
    const tiff = path.join(dir, 'tiff.parquet');
    await writeShardWithDuckDB(
      tiff,
      [shardRow(3, { jpg_0: await picture(6).tiff().toBuffer(), jpg_1: await makeJpeg(7) })],
      { images: true },
    );
    await expectRefused(tiff, /tiff\.parquet row 1: jpg_0: TIFF image, which the studio cannot/);
  });

  it('takes AVIF, and serves it as image/avif', async () => {
    fs.writeFileSync(path.join(dir, 'c.avif'), await picture(8).avif().toBuffer());
    const file = writeManifest('avif.jsonl', [
      { prompt: 'avif', image_0: 'c.avif', image_1: 'a.jpg' },
    ]);
    await opened.call('importSources', { sources: [file] });
    const shard = path.join(dir, 'avif.parquet');
    await writeShardWithDuckDB(
      shard,
      [shardRow(9, { jpg_0: await picture(9).avif().toBuffer(), jpg_1: await makeJpeg(10) })],
      { images: true },
    );
    await opened.call('importSources', { sources: [shard] });
    const pairs = await opened.call('listPairs', {});
    const uids = pairs
      .filter((p) => ['avif', 'caption 9'].includes(p.prompt))
      .map((p) => p.image0Uid);
    expect(uids).toHaveLength(2);
    for (const uid of uids) expect((await opened.studio.readImage(uid)).mime).toBe('image/avif');
  });
});

describe('EXIF orientation: annotators see what the model decodes', () => {
  /** The pixels a browser shows for these bytes: it turns them as their EXIF orientation says. */
  async function asBrowserShows(bytes: Uint8Array) {
    const { data, info } = await sharp(bytes).rotate().removeAlpha().raw().toBuffer({
      resolveWithObject: true,
    });
    return { width: info.width, height: info.height, rgb: new Uint8Array(data) };
  }

  it('serves a JPEG with orientation 6, from a manifest or from Parquet, as stored (orientation 1, the same pixels); an upright one byte for byte', async () => {
    const original = await turnedJpeg(11);
    expect((await sharp(original).metadata()).orientation).toBe(6);
    fs.writeFileSync(path.join(dir, 'phone.jpg'), original);
    const manifest = writeManifest('phone.jsonl', [
      { prompt: 'phone', image_0: 'phone.jpg', image_1: 'a.jpg' },
    ]);
    const shard = path.join(dir, 'phone.parquet');
    await writeShardWithDuckDB(
      shard,
      [shardRow(12, { jpg_0: original, jpg_1: await makeJpeg(13) })],
      {
        images: true,
      },
    );
    await opened.call('importSources', { sources: [manifest, shard] });
    const pairs = await opened.call('listPairs', {});
    const uids = pairs
      .filter((p) => ['phone', 'caption 12'].includes(p.prompt))
      .map((p) => p.image0Uid);
    expect(uids).toHaveLength(2);

    const model = await decodeRgb(original);
    expect([model.width, model.height]).toEqual([60, 24]);
    for (const uid of uids) {
      const served = await opened.studio.readImage(uid);
      expect(served.mime).toBe('image/jpeg');
      expect([1, undefined]).toContain((await sharp(served.bytes).metadata()).orientation);
      // Only the tag's value changed: same length, the pixels not re-encoded.
      expect(served.bytes.length).toBe(original.length);
      const shown = await asBrowserShows(served.bytes);
      expect({ width: shown.width, height: shown.height }).toEqual({ width: 60, height: 24 });
      expect(Buffer.from(shown.rgb).equals(Buffer.from(model.rgb))).toBe(true);
    }
    // The project keeps the file as it was given.
    expect(fs.readFileSync(path.join(dir, 'phone.jpg')).equals(original)).toBe(true);

    // A JPEG that needs no turning goes out byte for byte.
    const upright = await picture(14).withMetadata({ orientation: 1 }).jpeg().toBuffer();
    const plain = await picture(15).jpeg().toBuffer();
    fs.writeFileSync(path.join(dir, 'upright.jpg'), upright);
    fs.writeFileSync(path.join(dir, 'plain.jpg'), plain);
    const straight = writeManifest('upright.jsonl', [
      { prompt: 'upright', image_0: 'upright.jpg', image_1: 'plain.jpg' },
    ]);
    await opened.call('importSources', { sources: [straight] });
    const pair = (await opened.call('listPairs', {})).find((p) => p.prompt === 'upright')!;
    const servedUpright = await opened.studio.readImage(pair.image0Uid);
    expect(Buffer.from(servedUpright.bytes).equals(upright)).toBe(true);
    expect(Buffer.from((await opened.studio.readImage(pair.image1Uid)).bytes).equals(plain)).toBe(
      true,
    );
  });
});
