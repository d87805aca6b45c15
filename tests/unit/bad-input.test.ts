import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeEach, describe, expect, it } from 'vitest';
import { StudioError } from '../../shared/errors';
import { writeShardWithDuckDB, type ShardRow } from '../helpers/duckdb';
import { makeJpeg, makePng, openService, projectDigest, tempDir } from '../helpers/project';

let dir: string;
let project: string;
let good: string;

const row = (i: number, extra: Partial<ShardRow> = {}): ShardRow => ({
  ranking_id: i,
  caption: `caption ${i}`,
  image_0_uid: `a${i}`,
  image_1_uid: `b${i}`,
  label_0: 1,
  label_1: 0,
  has_label: true,
  user_id: 3,
  ...extra,
});

beforeEach(async () => {
  dir = tempDir();
  project = path.join(dir, 'p.pickstudio');
  good = path.join(dir, 'good.parquet');
  await writeShardWithDuckDB(good, [row(1), row(2)], { images: false });
  const { dispatch, store } = openService(project);
  await dispatch('importSources', { sources: [good] });
  store.close();
});

/**
 * Imports `sources` into the project holding the good shard, expects a StudioError whose message
 * matches every pattern, and checks the project holds exactly what it held before.
 */
async function expectRefused(sources: string[], ...patterns: RegExp[]): Promise<StudioError> {
  const before = projectDigest(project);
  const { dispatch, store } = openService(project);
  let caught: unknown;
  try {
    await dispatch('importSources', { sources });
  } catch (error) {
    caught = error;
  } finally {
    store.close();
  }
  expect(caught).toBeInstanceOf(StudioError);
  for (const pattern of patterns) expect((caught as Error).message).toMatch(pattern);
  expect(projectDigest(project)).toBe(before);
  return caught as StudioError;
}

describe('bad Parquet input leaves the project as it was', () => {
  it('an empty file', async () => {
    const file = path.join(dir, 'empty.parquet');
    fs.writeFileSync(file, '');
    await expectRefused([file], /empty\.parquet/, /empty file/);
  });

  it('a truncated file', async () => {
    const file = path.join(dir, 'truncated.parquet');
    const bytes = fs.readFileSync(good);
    fs.writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expectRefused([file], /truncated\.parquet/, /not a readable Parquet file/);
  });

  it('a file that is not Parquet at all', async () => {
    const file = path.join(dir, 'text.parquet');
    fs.writeFileSync(file, 'caption,image_0\nhello,world\n'.repeat(20));
    await expectRefused([file], /text\.parquet/, /not a readable Parquet file/);
  });

  it('corrupt column data behind an intact footer', async () => {
    const file = path.join(dir, 'corrupt.parquet');
    const bytes = Buffer.from(fs.readFileSync(good));
    // Overwrite the first data pages (after the 4-byte magic) with noise; the footer survives.
    for (let i = 4; i < Math.min(bytes.length - 200, 400); i++) bytes[i] = (i * 37) & 0xff;
    fs.writeFileSync(file, bytes);
    await expectRefused([file], /corrupt\.parquet/);
  });

  it('a missing column', async () => {
    const file = path.join(dir, 'missing.parquet');
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    await connection.run(
      `COPY (SELECT * EXCLUDE (ranking_id, user_id) FROM '${good}') TO '${file}' (FORMAT parquet)`,
    );
    connection.closeSync();
    instance.closeSync();
    await expectRefused([file], /missing\.parquet/, /missing columns ranking_id, user_id/);
  });

  it('a column of the wrong type', async () => {
    const file = path.join(dir, 'types.parquet');
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    await connection.run(
      `COPY (SELECT * REPLACE (label_0::VARCHAR AS label_0) FROM '${good}') TO '${file}' (FORMAT parquet)`,
    );
    connection.closeSync();
    instance.closeSync();
    await expectRefused([file], /types\.parquet/, /label_0 is BYTE_ARRAY, expected float64/);
  });

  it('labels that are none of Pick-a-Pic encodings, named with the row', async () => {
    const file = path.join(dir, 'labels.parquet');
    await writeShardWithDuckDB(file, [row(10), row(11), row(12, { label_0: 0.3, label_1: 0.7 })], {
      images: false,
    });
    await expectRefused([file], /labels\.parquet row 3/, /labels \(0\.3, 0\.7\)/);
  });

  it('a JPEG cut in half in jpg_1, named with the row and column', async () => {
    const file = path.join(dir, 'halfjpeg.parquet');
    const whole = await makeJpeg(1);
    const whole2 = await makeJpeg(2, 256, 256);
    const half = whole2.subarray(0, whole2.length / 2);
    await writeShardWithDuckDB(
      file,
      [row(20, { jpg_0: whole, jpg_1: await makeJpeg(3) }), row(21, { jpg_0: whole, jpg_1: half })],
      { images: true },
    );
    await expectRefused([file], /halfjpeg\.parquet row 2: jpg_1: truncated JPEG/);
  });

  it('a PNG that is really text', async () => {
    const file = path.join(dir, 'textpng.parquet');
    await writeShardWithDuckDB(
      file,
      [row(30, { jpg_0: Buffer.from('this is not a picture'), jpg_1: await makeJpeg(4) })],
      { images: true },
    );
    await expectRefused([file], /textpng\.parquet row 1: jpg_0: not a decodable image/);
  });

  it('an unreadable file among several: every footer is checked before anything is imported', async () => {
    const second = path.join(dir, 'second.parquet');
    await writeShardWithDuckDB(second, [row(40), row(41)], { images: false });
    const bad = path.join(dir, 'zz-bad.parquet');
    fs.writeFileSync(bad, 'PAR1 not really');
    await expectRefused([second, bad], /zz-bad\.parquet: not a readable Parquet file/);
  });

  it('a bad row in a later file: earlier files are kept and the message says so', async () => {
    const second = path.join(dir, 'second.parquet');
    const bad = path.join(dir, 'zz-bad.parquet');
    await writeShardWithDuckDB(second, [row(40), row(41)], { images: false });
    await writeShardWithDuckDB(bad, [row(50, { caption: null as unknown as string })], {
      images: false,
    });
    const { dispatch, store } = openService(project);
    await expect(dispatch('importSources', { sources: [second, bad] })).rejects.toThrow(
      /zz-bad\.parquet row 1: caption is empty.*already imported and kept: second\.parquet/,
    );
    expect(store.counts().pairs).toBe(4);
    store.close();
  });

  it('a source that does not exist is refused before anything is imported', async () => {
    await expectRefused([good, path.join(dir, 'nope.parquet')], /nope\.parquet: no such file/);
  });
});

describe('bad manifests leave the project as it was', () => {
  let images: string;
  beforeEach(async () => {
    images = path.join(dir, 'set');
    fs.mkdirSync(images);
    fs.writeFileSync(path.join(images, 'a.jpg'), await makeJpeg(7));
    fs.writeFileSync(path.join(images, 'b.png'), await makePng(8));
    const jpeg = await makeJpeg(9, 256, 256);
    fs.writeFileSync(path.join(images, 'cut.jpg'), jpeg.subarray(0, jpeg.length / 2));
    fs.writeFileSync(path.join(images, 'header.jpg'), jpeg.subarray(0, 120));
  });
  const manifest = (name: string, lines: object[]): string => {
    const file = path.join(images, name);
    fs.writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n'));
    return file;
  };
  const ok = { prompt: 'a cat', image_0: 'a.jpg', image_1: 'b.png' };

  it('an image path that does not exist', async () => {
    const file = manifest('m1.jsonl', [ok, { ...ok, image_1: 'missing.jpg' }]);
    await expectRefused([file], /m1\.jsonl row 2: image_1 "missing\.jpg" does not exist/);
  });

  it('an absolute path', async () => {
    const file = manifest('m2.jsonl', [{ ...ok, image_0: path.join(images, 'a.jpg') }]);
    await expectRefused([file], /m2\.jsonl row 1: image_0 .* is an absolute path/);
  });

  it("a path escaping the manifest's folder", async () => {
    fs.copyFileSync(path.join(images, 'a.jpg'), path.join(dir, 'outside.jpg'));
    const file = manifest('m3.jsonl', [{ ...ok, image_0: '../outside.jpg' }]);
    await expectRefused(
      [file],
      /m3\.jsonl row 1: image_0 "\.\.\/outside\.jpg" is outside the manifest's folder/,
    );
  });

  it('an undecodable image: cut in half, or cut inside its header', async () => {
    const file = manifest('m4.jsonl', [ok, ok, { ...ok, image_1: 'cut.jpg' }]);
    await expectRefused([file], /m4\.jsonl row 3: image_1 "cut\.jpg": truncated JPEG/);
    const header = manifest('m4b.jsonl', [{ ...ok, image_0: 'header.jpg' }]);
    await expectRefused(
      [header],
      /m4b\.jsonl row 1: image_0 "header\.jpg": not a decodable image \(.*premature end/,
    );
  });

  it('the same image on both sides', async () => {
    const file = manifest('m5.jsonl', [{ ...ok, image_1: 'a.jpg' }]);
    await expectRefused([file], /m5\.jsonl row 1: image_0 and image_1 are the same image/);
  });

  it('a missing field, a bad label, and a line that is not JSON', async () => {
    await expectRefused(
      [manifest('m6.jsonl', [{ prompt: 'x', image_0: 'a.jpg' }])],
      /m6\.jsonl row 1: missing image_1/,
    );
    await expectRefused(
      [manifest('m7.jsonl', [{ ...ok, label: 'left' }])],
      /m7\.jsonl row 1: label "left" is not 0, 1 or tie/,
    );
    const broken = path.join(images, 'm8.jsonl');
    fs.writeFileSync(broken, `${JSON.stringify(ok)}\n{"prompt": "unterminated`);
    await expectRefused([broken], /m8\.jsonl row 2: not valid JSON/);
  });

  it('a CSV with an unbalanced quote', async () => {
    const file = path.join(images, 'm9.csv');
    fs.writeFileSync(file, 'prompt,image_0,image_1\n"a cat,a.jpg,b.png\n');
    await expectRefused([file], /m9\.csv: not valid CSV/);
  });
});

describe('project files that cannot be opened', () => {
  it('a project from a newer version is refused and left untouched', async () => {
    const { store } = openService(project);
    store.db.pragma('user_version = 99');
    store.close();
    const bytes = fs.readFileSync(project);
    expect(() => openService(project)).toThrow(
      /written by a newer Pick Studio \(schema version 99/,
    );
    expect(fs.readFileSync(project).equals(bytes)).toBe(true);
  });

  it('a file that is not SQLite', () => {
    const file = path.join(dir, 'notes.pickstudio');
    fs.writeFileSync(file, 'just some notes, not a database'.repeat(100));
    expect(() => openService(file)).toThrow(/notes\.pickstudio: not a Pick Studio project/);
  });

  it('a SQLite file of another application', async () => {
    const file = path.join(dir, 'other.sqlite');
    const Database = (await import('better-sqlite3')).default;
    const other = new Database(file);
    other.exec('CREATE TABLE t (x)');
    other.close();
    expect(() => openService(file)).toThrow(
      /other\.sqlite: a SQLite database, but not a Pick Studio project/,
    );
  });
});
