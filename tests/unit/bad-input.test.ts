/**
 * The inputs a real user produces, fed to every door: the StudioApi (the dispatcher, as the
 * Electron IPC and every other door calls it), the HTTP server of browser mode, and the
 * pickstudio command. Each case checks that the error names the file (or the argument) and the
 * problem, and that nothing already saved is lost (the project's digest, or its bytes).
 *
 * Read-only files: root writes through any file mode, so the CLI and HTTP cases run the command
 * as nobody when the tests run as root (as on this build machine), and chmod the file otherwise.
 * A full disk is simulated twice over: SQLite's max_page_count on the project's connection, and
 * `ulimit -f` under the CLI (a write past it fails with EFBIG, as one fails with ENOSPC).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LabelPair, MethodArgs } from '../../shared/api';
import type { Decision } from '../../shared/labels';
import { StudioError } from '../../shared/errors';
import type { ProjectStore } from '../../electron/core/store/project-store';
import type { Studio } from '../../electron/core/studio';
import { inspectImage } from '../../electron/core/io/images';
import {
  parseClipImageConfig,
  preprocessBatch,
  preprocessImage,
} from '../../electron/core/scoring/preprocess';
import { loadClipTokenizer } from '../../electron/core/scoring/tokenizer';
import { startServer, type RunningServer } from '../../electron/server/server';
import { BIN, isRoot, lastLine, runPickstudio, unprivileged } from '../helpers/cli';
import { duckdb, writeShardWithDuckDB, type ShardRow, shardRow } from '../helpers/duckdb';
import { makeHugeJpeg, makeHugePng } from '../helpers/huge-image';
import {
  makeJpeg,
  makePng,
  openTestProject,
  projectDigest,
  tempDir,
  sqlite,
  writeJsonLines,
} from '../helpers/project';
import { failure } from '../helpers/errors';
import { writeTinyModel } from '../helpers/tiny-model';

let dir: string;
let project: string;
let good: string;

beforeEach(async () => {
  dir = tempDir();
  project = path.join(dir, 'p.pickstudio');
  good = path.join(dir, 'good.parquet');
  await writeShardWithDuckDB(good, [shardRow(1), shardRow(2)], { images: false });
  const { call, store } = openTestProject(project);
  await call('importSources', { sources: [good] });
  store.close();
});

/**
 * Imports `sources` into the project holding the good shard, expects a StudioError whose message
 * matches every pattern, and checks the project holds exactly what it held before.
 */
async function expectRefused(sources: string[], ...patterns: RegExp[]): Promise<StudioError> {
  const before = projectDigest(project);
  const { call, store } = openTestProject(project);
  let caught: unknown;
  try {
    await call('importSources', { sources });
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
    await writeShardWithDuckDB(
      file,
      [shardRow(10), shardRow(11), shardRow(12, { label_0: 0.3, label_1: 0.7 })],
      {
        images: false,
      },
    );
    await expectRefused([file], /labels\.parquet row 3/, /labels \(0\.3, 0\.7\)/);
  });

  it('a JPEG cut in half in jpg_1, named with the row and column', async () => {
    const file = path.join(dir, 'halfjpeg.parquet');
    const whole = await makeJpeg(1);
    const whole2 = await makeJpeg(2, 256, 256);
    const half = whole2.subarray(0, whole2.length / 2);
    await writeShardWithDuckDB(
      file,
      [
        shardRow(20, { jpg_0: whole, jpg_1: await makeJpeg(3) }),
        shardRow(21, { jpg_0: whole, jpg_1: half }),
      ],
      { images: true },
    );
    await expectRefused([file], /halfjpeg\.parquet row 2: jpg_1: truncated JPEG/);
  });

  it('a PNG that is really text', async () => {
    const file = path.join(dir, 'textpng.parquet');
    await writeShardWithDuckDB(
      file,
      [shardRow(30, { jpg_0: Buffer.from('this is not a picture'), jpg_1: await makeJpeg(4) })],
      { images: true },
    );
    await expectRefused([file], /textpng\.parquet row 1: jpg_0: not a decodable image/);
  });

  it('an unreadable file among several: every footer is checked before anything is imported', async () => {
    const second = path.join(dir, 'second.parquet');
    await writeShardWithDuckDB(second, [shardRow(40), shardRow(41)], { images: false });
    const bad = path.join(dir, 'zz-bad.parquet');
    fs.writeFileSync(bad, 'PAR1 not really');
    await expectRefused([second, bad], /zz-bad\.parquet: not a readable Parquet file/);
  });

  it('a bad row in a later file: earlier files are kept and the message says so', async () => {
    const second = path.join(dir, 'second.parquet');
    const bad = path.join(dir, 'zz-bad.parquet');
    await writeShardWithDuckDB(second, [shardRow(40), shardRow(41)], { images: false });
    await writeShardWithDuckDB(bad, [shardRow(50, { caption: null as unknown as string })], {
      images: false,
    });
    const { call, store } = openTestProject(project);
    await expect(call('importSources', { sources: [second, bad] })).rejects.toThrow(
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
    writeJsonLines(file, lines);
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
    const { store } = openTestProject(project);
    sqlite(store).pragma('user_version = 99');
    store.close();
    const bytes = fs.readFileSync(project);
    expect(() => openTestProject(project)).toThrow(
      /written by a newer Pick Studio \(schema version 99/,
    );
    expect(fs.readFileSync(project).equals(bytes)).toBe(true);
  });

  it('a file that is not SQLite', () => {
    const file = path.join(dir, 'notes.pickstudio');
    fs.writeFileSync(file, 'just some notes, not a database'.repeat(100));
    expect(() => openTestProject(file)).toThrow(/notes\.pickstudio: not a Pick Studio project/);
  });

  it('a SQLite file of another application', async () => {
    const file = path.join(dir, 'other.sqlite');
    const Database = (await import('better-sqlite3')).default;
    const other = new Database(file);
    other.exec('CREATE TABLE t (x)');
    other.close();
    expect(() => openTestProject(file)).toThrow(
      /other\.sqlite: a SQLite database, but not a Pick Studio project/,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Every door: the StudioApi (dispatcher), the HTTP server, the CLI.
// ---------------------------------------------------------------------------------------------

/** The good shard cut in half, and a Parquet file of another schema, beside it. */
async function truncatedAndForeignShards(): Promise<{ truncated: string; other: string }> {
  const truncated = path.join(dir, 'truncated.parquet');
  const bytes = fs.readFileSync(good);
  fs.writeFileSync(truncated, bytes.subarray(0, bytes.length >> 1));
  const other = path.join(dir, 'other.parquet');
  const db = await duckdb();
  await db.run(`COPY (SELECT 1 AS id, 'x' AS name) TO '${other}' (FORMAT parquet)`);
  db.close();
  return { truncated, other };
}

/** The pair ids of the project, in order. */
async function pairIds(call: Studio['call']): Promise<number[]> {
  return (await call('listPairs', {})).map((p) => p.pairId);
}

const decision = (pairId: number, made: Decision = 0): MethodArgs<'recordDecision'> => ({
  annotator: 'ann',
  pairId,
  decision: made,
  leftImage: 0,
  suggestionVisible: false,
  decisionMs: 1200,
});

/** `text` as a regular expression that matches it literally. */
const literal = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `count` rows from ranking `first` on, with 256 x 256 JPEGs of noise (about 40 kB each). */
const rowsWithImages = (first: number, count: number): Promise<ShardRow[]> =>
  Promise.all(
    Array.from({ length: count }, async (_, i) =>
      shardRow(first + i, {
        jpg_0: await makeJpeg(first + i, 256, 256),
        jpg_1: await makeJpeg(first + i + 1000, 256, 256),
      }),
    ),
  );

/** A manifest in `folder` of the given rows, with a.jpg, b.jpg, c.jpg and d.jpg beside it. */
async function manifestWithImages(folder: string, name: string, rows: object[]): Promise<string> {
  fs.mkdirSync(folder, { recursive: true });
  for (const [i, image] of ['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg'].entries()) {
    const file = path.join(folder, image);
    if (!fs.existsSync(file)) fs.writeFileSync(file, await makeJpeg(60 + i));
  }
  const file = path.join(folder, name);
  writeJsonLines(file, rows);
  return file;
}

describe('StudioApi: calls with wrong types and unknown fields', () => {
  it('refuses methods outside the contract, by name, whatever the object behind it has', async () => {
    const { dispatch, store } = openTestProject(project);
    for (const method of [
      'frobnicate',
      'constructor',
      '__proto__',
      'toString',
      'hasOwnProperty',
      'readImage',
      'scoreInBackground',
    ]) {
      const error = await failure(dispatch(method, {}));
      expect(error.code, method).toBe('unknown_method');
      expect(error.message).toBe(`unknown method ${JSON.stringify(method)}`);
    }
    store.close();
  });

  it('names the method, the argument and the problem; the project is unchanged', async () => {
    const before = projectDigest(project);
    const { call, dispatch, store } = openTestProject(project);
    const [pairId] = await pairIds(call);
    // Arguments the types refuse, as a door may receive them: sent untyped.
    const cases: [string, unknown, RegExp[]][] = [
      [
        'recordDecision',
        { ...decision(pairId!), decision: 'left' },
        [/^recordDecision: decision: /],
      ],
      ['recordDecision', { ...decision(pairId!), pairId: String(pairId) }, [/pairId: .*number/]],
      ['recordDecision', { ...decision(pairId!), pairId: 1.5 }, [/pairId: .*int/]],
      ['recordDecision', { ...decision(pairId!), leftImage: 2 }, [/leftImage: /]],
      ['recordDecision', { ...decision(pairId!), decisionMs: -1 }, [/decisionMs: .*>=0/]],
      ['recordDecision', { ...decision(pairId!), colour: 'red' }, [/Unrecognized key: "colour"/]],
      ['recordDecision', {}, [/annotator: /, /pairId: /, /decision: /, /suggestionVisible: /]],
      ['recordDecision', { ...decision(pairId!), annotator: '' }, [/annotator: /]],
      ['importSources', { sources: good }, [/^importSources: sources: .*array/]],
      ['importSources', { sources: [] }, [/sources: .*>=1/]],
      ['importSources', { sources: [good], taskId: 7 }, [/taskId: /]],
      ['exportParquet', { out: 5 }, [/^exportParquet: out: .*string/]],
      ['exportParquet', { out: path.join(dir, 'o.parquet'), images: 'no' }, [/images: .*boolean/]],
      ['getQueue', { annotator: 'ann', count: 0 }, [/count: .*>=1/]],
      ['getQueue', { annotator: 'ann', excludePairIds: 'all' }, [/excludePairIds: /]],
      ['listPairs', [1, 2], [/^listPairs: arguments: .*object/]],
      ['listPairs', 'everything', [/^listPairs: arguments: /]],
      ['setSettings', { tieThreshold: 'high' }, [/tieThreshold: /]],
    ];
    for (const [method, args, patterns] of cases) {
      const error = await failure(dispatch(method, args));
      expect(error.code, `${method} ${JSON.stringify(args)}`).toBe('invalid_argument');
      for (const pattern of patterns) expect(error.message).toMatch(pattern);
    }
    store.close();
    expect(projectDigest(project)).toBe(before);
  });

  it('a __proto__ key is an unknown field, not a way into the prototype', async () => {
    const { dispatch, store } = openTestProject(project);
    const error = await failure(
      dispatch('listPairs', JSON.parse('{"__proto__": {"limit": 1000, "polluted": true}}')),
    );
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toMatch(/^listPairs: arguments: Unrecognized key: "__proto__"/);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    store.close();
  });

  it('a pair that is not in the project is named, with the project', async () => {
    const before = projectDigest(project);
    const { call, store } = openTestProject(project);
    for (const error of [
      await failure(call('recordDecision', decision(999))),
      await failure(call('getPair', { annotator: 'ann', pairId: 999 })),
    ]) {
      expect(error.code).toBe('not_found');
      expect(error.message).toBe(`no pair 999 in ${project}`);
    }
    store.close();
    expect(projectDigest(project)).toBe(before);
  });
});

describe('a 20,000 x 20,000 image', () => {
  const TOO_BIG = /20000 x 20000 pixels \(400,000,000\) is over the limit of 178,956,970 pixels/;

  it('in a Parquet jpg column: refused at import, named with the row, the column and its size', async () => {
    const file = path.join(dir, 'huge.parquet');
    await writeShardWithDuckDB(
      file,
      [
        shardRow(60, { jpg_0: await makeJpeg(1), jpg_1: await makeJpeg(2) }),
        shardRow(61, { jpg_0: await makeJpeg(3), jpg_1: makeHugeJpeg(20000, 20000) }),
      ],
      { images: true },
    );
    const error = await expectRefused([file], /huge\.parquet row 2: jpg_1: /, TOO_BIG);
    expect(error.code).toBe('bad_input');
  });

  it('in a manifest: refused at import, named with the row, the column, the path and its size', async () => {
    const folder = path.join(dir, 'set');
    const file = await manifestWithImages(folder, 'm.jsonl', [
      { prompt: 'a cat', image_0: 'a.jpg', image_1: 'huge.png' },
    ]);
    fs.writeFileSync(path.join(folder, 'huge.png'), makeHugePng(20000, 20000));
    await expectRefused([file], /m\.jsonl row 1: image_1 "huge\.png": /, TOO_BIG);
  });

  it("up to Pillow's limit an image is accepted; one block past it, refused", async () => {
    // 13,376^2 = 178,917,376 pixels, within 178,956,970; 13,384^2 = 179,131,456, over it.
    await expect(inspectImage(makeHugeJpeg(13376, 13376))).resolves.toMatchObject({
      format: 'jpeg',
      width: 13376,
      height: 13376,
    });
    await expect(inspectImage(makeHugeJpeg(13384, 13384))).rejects.toThrow(
      /^13384 x 13384 pixels \(179,131,456\) is over the limit/,
    );
  });

  it('preprocessing for the model refuses it from its header, with its size and its index', async () => {
    const config = parseClipImageConfig({}, 'preprocessor_config.json');
    const huge = makeHugePng(20000, 20000);
    await expect(preprocessImage(huge, config)).rejects.toThrow(
      /^cannot decode image: 20000 x 20000 pixels \(400,000,000\) is over the limit/,
    );
    await expect(preprocessBatch([await makeJpeg(1), huge], config)).rejects.toThrow(
      /^image 1: cannot decode image: 20000 x 20000 pixels/,
    );
    // A JPEG's size comes from its frame header, read without the decoder.
    await expect(preprocessImage(makeHugeJpeg(20000, 20000), config)).rejects.toThrow(
      /^cannot decode image: 20000 x 20000 pixels \(400,000,000\) is over the limit/,
    );
  });

  /** Two manifest pairs whose d.jpg the user then re-rendered at full size, as a PNG. */
  async function projectWithHugeImageFile() {
    const folder = path.join(dir, 'set');
    const manifest = await manifestWithImages(folder, 'm.jsonl', [
      { prompt: 'a cat', image_0: 'a.jpg', image_1: 'b.jpg' },
      { prompt: 'a dog', image_0: 'c.jpg', image_1: 'd.jpg' },
    ]);
    const opened = openTestProject(path.join(dir, 'huge.pickstudio'));
    await opened.call('importSources', { sources: [manifest] });
    const huge = path.join(folder, 'd.jpg');
    fs.writeFileSync(huge, makeHugePng(20000, 20000));
    return { ...opened, huge };
  }

  it('an image file that became 20,000 x 20,000 after import: scoring leaves its pair unscored and says which and why', async () => {
    const { call, store, huge } = await projectWithHugeImageFile();
    const modelDir = path.join(dir, 'tiny');
    writeTinyModel(modelDir, 7);
    const report = await call('scorePairs', {
      model: modelDir,
    });
    store.close();
    expect(report).toMatchObject({ imagesEncoded: 3, imagesMissing: 1, pairsScored: 1 });
    // Which image and why: the user has a file to fix.
    expect(report.missingImages).toEqual([
      expect.stringMatching(
        new RegExp(
          `^image [0-9a-f]{64} \\(${literal(huge)}\\): cannot decode image: 20000 x 20000 pixels`,
        ),
      ),
    ]);
  });

  it('an image file that became 20,000 x 20,000 after import: the --jpeg export says which, and writes nothing', async () => {
    const { call, store, huge } = await projectWithHugeImageFile();
    for (const pairId of await pairIds(call)) await call('recordDecision', decision(pairId));
    const out = path.join(dir, 'out.parquet');
    const error = await failure(call('exportParquet', { out, jpeg: true }));
    expect(error.message).toMatch(/out\.parquet: export failed, nothing written/);
    expect(error.message).toMatch(/20000 x 20000 pixels/);
    // Which image: the user has a file to fix.
    expect(error.message).toContain(huge);
    expect(fs.readdirSync(dir).filter((n) => n.includes('out.parquet'))).toEqual([]);
    // Without images, and with the images as they are, the export does not decode it.
    await expect(call('exportParquet', { out, images: false })).resolves.toMatchObject({
      rows: 2,
    });
    await expect(call('exportParquet', { out })).resolves.toMatchObject({ rows: 2 });
    store.close();
    const db = await duckdb();
    const images = await db.rows(`SELECT jpg_0, jpg_1 FROM '${out}'`);
    db.close();
    const written = images.flatMap((row) => [row.jpg_0, row.jpg_1]);
    const file = fs.readFileSync(huge);
    expect(written.filter((bytes) => Buffer.from(bytes as Uint8Array).equals(file))).toHaveLength(
      1,
    );
  });
});

describe('duplicates in a manifest', () => {
  it('one image under several spellings of its path, and one pair in either order, are one of each', async () => {
    const folder = path.join(dir, 'set');
    fs.mkdirSync(path.join(folder, 'sub'), { recursive: true });
    const file = await manifestWithImages(folder, 'm.jsonl', [
      { prompt: 'a cat', image_0: 'a.jpg', image_1: 'b.jpg' },
      { prompt: 'a cat', image_0: './a.jpg', image_1: 'sub/../b.jpg' },
      { prompt: 'a cat', image_0: 'b.jpg', image_1: 'a.jpg' },
      { prompt: 'a cat', image_0: 'a.jpg', image_1: 'b.jpg' },
    ]);
    const { call, store } = openTestProject(project);
    const report = await call('importSources', { sources: [file] });
    expect(report.files[0]).toMatchObject({ rows: 4, pairsAdded: 1, rowsAlreadyPresent: 3 });
    expect(store.counts()).toMatchObject({ pairs: 3, images: 6 });
    store.close();
  });

  it('the same label twice is one label; the same annotator saying otherwise is refused, naming both rows', async () => {
    const folder = path.join(dir, 'set');
    const same = await manifestWithImages(folder, 'same.jsonl', [
      { prompt: 'a cat', image_0: 'a.jpg', image_1: 'b.jpg', label: '0' },
      { prompt: 'a cat', image_0: 'a.jpg', image_1: 'b.jpg', label: '0' },
      // The other way round, the same choice: a.jpg.
      { prompt: 'a cat', image_0: 'b.jpg', image_1: 'a.jpg', label: '1' },
      // Another annotator may disagree.
      { prompt: 'a cat', image_0: 'a.jpg', image_1: 'b.jpg', label: '1', annotator: 'bo' },
    ]);
    const opened = openTestProject(project);
    const report = await opened.call('importSources', { sources: [same] });
    expect(report.files[0]).toMatchObject({ pairsAdded: 1, annotationsAdded: 2 });
    opened.store.close();

    const contradicting = await manifestWithImages(folder, 'both.jsonl', [
      { prompt: 'a dog', image_0: 'c.jpg', image_1: 'd.jpg', label: '0' },
      { prompt: 'a dog', image_0: 'a.jpg', image_1: 'd.jpg' },
      { prompt: 'a dog', image_0: 'd.jpg', image_1: 'c.jpg', label: '0' },
    ]);
    await expectRefused(
      [contradicting],
      /both\.jsonl row 3: contradicts row 1: annotator "import:both\.jsonl" labels the same pair twice, "c\.jpg" the better image there and "d\.jpg" the better image here/,
    );
    const tie = await manifestWithImages(folder, 'tie.jsonl', [
      { prompt: 'a dog', image_0: 'c.jpg', image_1: 'd.jpg', label: 'tie', annotator: 'cy' },
      { prompt: 'a dog', image_0: 'c.jpg', image_1: 'd.jpg', label: '1', annotator: 'cy' },
    ]);
    await expectRefused([tie], /tie\.jsonl row 2: contradicts row 1: .*a tie there and "d\.jpg"/);
  });

  it('a later manifest with another label from the same annotator: the first label stands, the row counts as present', async () => {
    // Pinned as it is: an import never changes a label the project holds (the annotator's
    // later mind is theirs to record in the studio, where it is an append, not an overwrite).
    const folder = path.join(dir, 'set');
    const first = await manifestWithImages(folder, 'first.jsonl', [
      { prompt: 'a cat', image_0: 'a.jpg', image_1: 'b.jpg', label: '0', annotator: 'dee' },
    ]);
    const later = await manifestWithImages(folder, 'later.jsonl', [
      { prompt: 'a cat', image_0: 'a.jpg', image_1: 'b.jpg', label: '1', annotator: 'dee' },
    ]);
    const { call, store } = openTestProject(project);
    await call('importSources', { sources: [first] });
    const report = await call('importSources', { sources: [later] });
    expect(report.files[0]).toMatchObject({ annotationsAdded: 0, rowsAlreadyPresent: 1 });
    const stats = await call('getStats', { annotator: 'dee' });
    expect(stats.annotators[0]!.verdicts).toEqual({ image0: 1, image1: 0, tie: 0 });
    store.close();
  });
});

describe('a prompt of 50,000 characters', () => {
  // Words, punctuation, accents, CJK and an emoji, cut at exactly 50,000 UTF-16 code units on a
  // word boundary: under the import's limit of 64 kB of UTF-8 (bad-input-captions.test.ts).
  const longPrompt = (seed: string): string => {
    const words = ['a', 'red', 'cube,', 'über', 'the', '猫', 'sky', '🐱', 'zebra-striped', seed];
    let text = '';
    for (let i = 0; text.length < 50_000; i++) text += `${words[(i * 7) % words.length]} `;
    return text.slice(0, 49_999).trimEnd().padEnd(50_000, '.');
  };

  it('is imported (manifest and shard), labeled, tokenized to 77 ids, and exported exactly', async () => {
    const fromManifest = longPrompt('manifest');
    const fromShard = longPrompt('shard');
    expect([fromManifest.length, fromShard.length]).toEqual([50_000, 50_000]);
    const manifest = await manifestWithImages(path.join(dir, 'set'), 'long.jsonl', [
      { prompt: fromManifest, image_0: 'a.jpg', image_1: 'b.jpg' },
    ]);
    const shard = path.join(dir, 'long.parquet');
    await writeShardWithDuckDB(shard, [shardRow(70, { caption: fromShard })], { images: false });

    const { call, store } = openTestProject(project);
    await call('importSources', { sources: [manifest, shard] });
    const ids = await pairIds(call);
    for (const pairId of ids) await call('recordDecision', decision(pairId));
    const prompts = await Promise.all(
      ids.map(async (pairId) => (await call('getPair', { annotator: 'ann', pairId })).prompt),
    );
    expect(prompts).toContain(fromManifest);
    expect(prompts).toContain(fromShard);

    const tokenizer = await loadClipTokenizer('resources/demo-model/tokenizer.json');
    const ids77 = tokenizer.encodeOne(fromManifest);
    expect(ids77).toHaveLength(77);
    expect([ids77[0], ids77[76]]).toEqual([49406, 49407]);
    const batch = tokenizer.encode([fromManifest, fromShard]);
    expect(batch.attentionMask.every((m) => m === 1n)).toBe(true);

    const out = path.join(dir, 'long-out.parquet');
    await call('exportParquet', { out, images: false });
    store.close();
    const db = await duckdb();
    const captions = (await db.rows(`SELECT caption FROM '${out}'`)).map((r) => r.caption);
    db.close();
    expect(captions).toContain(fromManifest);
    expect(captions).toContain(fromShard);
  });
});

describe('a read-only project', () => {
  it('StudioApi (simulated with query_only): a decision and an import fail naming the file; reads go on; nothing lost', async () => {
    const before = projectDigest(project);
    const { call, store } = openTestProject(project);
    const [pairId] = await pairIds(call);
    sqlite(store).pragma('query_only = ON');

    const label = await failure(call('recordDecision', decision(pairId!)));
    expect(label.message).toMatch(
      new RegExp(
        `^${literal(project)}: recordDecision failed: the project is read-only, so nothing was saved \\(SQLite: attempt to write a readonly database\\)\\. Everything saved before is intact`,
      ),
    );
    const second = path.join(dir, 'second.parquet');
    await writeShardWithDuckDB(second, [shardRow(80)], { images: false });
    const imported = await failure(call('importSources', { sources: [second] }));
    expect(imported.message).toMatch(
      new RegExp(`^${literal(project)}: import failed: the project is read-only`),
    );
    // It failed before reading anything: no scratch file was made.
    expect(fs.readdirSync(dir).filter((n) => n.includes('.import-'))).toEqual([]);
    await expect(call('getStats', {})).resolves.toMatchObject({ counts: { pairs: 2 } });
    store.close();
    expect(projectDigest(project)).toBe(before);
  });

  it('StudioApi, a project file of mode 0444: it opens, reads work, a decision fails naming the file', async (context) => {
    const before = projectDigest(project);
    fs.chmodSync(project, 0o444);
    let writable = true;
    try {
      fs.closeSync(fs.openSync(project, 'r+'));
    } catch {
      writable = false;
    }
    try {
      context.skip(writable, 'this user writes through mode 0444 (root): see the CLI case below');
      const { call, store } = openTestProject(project);
      const [pairId] = await pairIds(call);
      const error = await failure(call('recordDecision', decision(pairId!)));
      expect(error.message).toMatch(
        /p\.pickstudio: recordDecision failed: the project is read-only/,
      );
      store.close();
      expect(projectDigest(project)).toBe(before);
    } finally {
      fs.chmodSync(project, 0o644);
    }
  });

  it('CLI, a project file this user may not write: stats and export work, an import fails at once naming the file', async () => {
    const before = projectDigest(project);
    // As root: the file stays root's and the command runs as nobody; otherwise: mode 0444.
    fs.chmodSync(dir, 0o777);
    if (!isRoot) fs.chmodSync(project, 0o444);
    try {
      const stats = await runPickstudio(['stats', project, '--json'], unprivileged);
      expect(stats.code, stats.stderr).toBe(0);
      expect(JSON.parse(stats.stdout).counts.pairs).toBe(2);
      const out = path.join(dir, 'out.parquet');
      const exported = await runPickstudio(['export', project, out, '--no-images'], unprivileged);
      expect(exported.code, exported.stderr).toBe(0);

      const second = path.join(dir, 'second.parquet');
      await writeShardWithDuckDB(second, [shardRow(80)], { images: false });
      const imported = await runPickstudio(['import', project, second], unprivileged);
      expect(imported.code).toBe(1);
      expect(lastLine(imported.stderr)).toMatch(
        new RegExp(
          `^pickstudio: ${literal(project)}: import failed: the project is read-only, so nothing was saved`,
        ),
      );
    } finally {
      fs.chmodSync(project, 0o644);
      fs.chmodSync(dir, 0o700);
    }
    expect(projectDigest(project)).toBe(before);
  });

  it('CLI, a project in a folder this user may not write: the message says so, not "not a project"', async () => {
    const before = fs.readFileSync(project);
    fs.chmodSync(dir, isRoot ? 0o755 : 0o555);
    try {
      const stats = await runPickstudio(['stats', project], unprivileged);
      expect(stats.code).toBe(1);
      expect(lastLine(stats.stderr)).toBe(
        `pickstudio: ${project}: cannot open the project: its folder ${dir} is read-only, and SQLite ` +
          'must create p.pickstudio-wal and p.pickstudio-shm beside the project even to read it ' +
          '(attempt to write a readonly database). Make the folder writable, or copy the project ' +
          'to one that is; the file was not changed.',
      );
    } finally {
      fs.chmodSync(dir, 0o700);
    }
    expect(fs.readFileSync(project).equals(before)).toBe(true);
  });

  /**
   * `pickstudio serve` of the project as a user who may not write it (see unprivileged), once it
   * listens: a call to its HTTP API, its stderr so far, and its exit (which fails the test's
   * wait for the first line if it comes first).
   */
  async function serveUnprivileged() {
    const child = spawn(process.execPath, [BIN, 'serve', project, '--port', '0', '--no-open'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...unprivileged,
    });
    const output = { stderr: '' };
    child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      const line = await Promise.race([
        new Promise<string>((resolve) =>
          readline.createInterface({ input: child.stdout }).once('line', resolve),
        ),
        exited.then((code) => {
          throw new Error(`serve exited with ${code}: ${output.stderr}`);
        }),
      ]);
      const url = new URL(/ at (http\S+)$/.exec(line)![1]!);
      const call = (method: string, body: unknown) =>
        fetch(`${url.origin}/api/call/${method}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${url.searchParams.get('token')}`,
          },
          body: JSON.stringify(body),
        });
      return { child, call, exited, output };
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
  }

  it('HTTP (pickstudio serve), a project file this user may not write: reads work, a decision fails naming the file', async () => {
    const before = projectDigest(project);
    fs.chmodSync(dir, 0o777);
    if (!isRoot) fs.chmodSync(project, 0o444);
    const { child, call, exited, output } = await serveUnprivileged();
    try {
      const pairs = (await (await call('listPairs', {})).json()) as {
        value: { pairId: number }[];
      };
      expect(pairs.value).toHaveLength(2);
      const res = await call('recordDecision', decision(pairs.value[0]!.pairId));
      expect(res.status).toBe(409);
      const body = (await res.json()) as { ok: boolean; error: { code: string; message: string } };
      expect(body.ok).toBe(false);
      expect(body.error.code).toBe('read_only');
      expect(body.error.message).toMatch(
        new RegExp(`^${literal(project)}: recordDecision failed: the project is read-only`),
      );
      child.kill('SIGTERM');
      expect(await exited, output.stderr).toBe(0);
    } finally {
      child.kill('SIGKILL');
      fs.chmodSync(project, 0o644);
      fs.chmodSync(dir, 0o700);
    }
    expect(projectDigest(project)).toBe(before);
  });

  it("HTTP (pickstudio serve), a project file this user may not write, open in its owner's app with a label not yet checkpointed: serve's own checkpoints fail, and it serves on", async () => {
    const { call: ownerCall, store: owner } = openTestProject(project);
    const [pairId] = await pairIds(ownerCall);
    await ownerCall('recordDecision', decision(pairId!));
    fs.chmodSync(dir, 0o777);
    if (!isRoot) fs.chmodSync(project, 0o444);
    try {
      // The owner's timer copies nothing back meanwhile, so the label stays in the WAL, which
      // serve's connection, unable to write the project file, cannot copy back either.
      await owner.deferringCheckpoints(async () => {
        const { child, call, exited, output } = await serveUnprivileged();
        try {
          // Long enough for serve's checkpoint timer to fire (every 250 ms) a few times.
          await new Promise((resolve) => setTimeout(resolve, 1000));
          // The owner's label, read through the WAL.
          const pair = (await (await call('getPair', { annotator: 'ann', pairId })).json()) as {
            value: LabelPair;
          };
          expect(pair.value.decision, output.stderr).toBe(0);
          child.kill('SIGTERM');
          expect(await exited, output.stderr).toBe(0);
        } finally {
          child.kill('SIGKILL');
        }
      });
    } finally {
      owner.close();
      fs.chmodSync(project, 0o644);
      fs.chmodSync(dir, 0o700);
    }
  });
});

describe('a full disk', () => {
  /** Lets the project's connection grow by no page: the next write that needs one fails. */
  const fill = (store: ProjectStore) =>
    sqlite(store).pragma(
      `max_page_count = ${sqlite(store).pragma('page_count', { simple: true }) as number}`,
    );

  it('StudioApi, an import that does not fit: refused naming the project and the file, none of it kept; later it fits', async () => {
    const before = projectDigest(project);
    const second = path.join(dir, 'second.parquet');
    await writeShardWithDuckDB(second, await rowsWithImages(90, 6), { images: true });
    const { call, store } = openTestProject(project);
    fill(store);
    const error = await failure(call('importSources', { sources: [second] }));
    expect(error.message).toMatch(
      new RegExp(
        `^${literal(project)}: importing second\\.parquet failed: the disk is full, so nothing was saved \\(SQLite: database or disk is full\\)\\. Everything saved before is intact: free some space and try again\\.`,
      ),
    );
    expect(fs.readdirSync(dir).filter((n) => n.includes('.import-'))).toEqual([]);
    expect(projectDigest(project)).toBe(before);

    sqlite(store).pragma('max_page_count = 1073741823');
    const report = await call('importSources', { sources: [second] });
    expect(report.files[0]).toMatchObject({ rows: 6, pairsAdded: 6 });
    expect(sqlite(store).pragma('integrity_check', { simple: true })).toBe('ok');
    store.close();
  });

  it('StudioApi, decisions until the disk is full: the one that does not fit fails naming the file, every earlier one is kept', async () => {
    const { call, store } = openTestProject(project);
    const ids = await pairIds(call);
    fill(store);
    const saved: number[] = [];
    let error: StudioError | undefined;
    for (let i = 0; i < 5000 && !error; i++) {
      try {
        const result = await call(
          'recordDecision',
          decision(ids[i % ids.length]!, i % 2 === 0 ? 0 : 1),
        );
        saved.push(result.annotationId);
      } catch (caught) {
        error = caught as StudioError;
      }
    }
    expect(saved.length).toBeGreaterThan(0);
    expect(error).toBeInstanceOf(StudioError);
    expect(error!.code).toBe('disk_full');
    expect(error!.message).toMatch(
      new RegExp(
        `^${literal(project)}: recordDecision failed: the disk is full, so nothing was saved`,
      ),
    );
    const annotator = store.decisions.findAnnotator('ann')!.id;
    const kept = sqlite(store)
      .prepare('SELECT id FROM annotations WHERE annotator_id = ? ORDER BY id')
      .pluck()
      .all(annotator);
    expect(kept).toEqual(saved);
    // A second try changes nothing either; with room again, the next one is saved.
    const full = projectDigest(project);
    await failure(call('recordDecision', decision(ids[0]!)));
    expect(projectDigest(project)).toBe(full);
    sqlite(store).pragma('max_page_count = 1073741823');
    await expect(call('recordDecision', decision(ids[0]!))).resolves.toBeTruthy();
    store.close();
  });

  it('CLI, an export that fills the disk (a file size limit): fails naming the file, leaves no file, changes nothing', async () => {
    const shard = path.join(dir, 'images.parquet');
    await writeShardWithDuckDB(shard, await rowsWithImages(100, 6), { images: true });
    const opened = openTestProject(project);
    await opened.call('importSources', { sources: [shard] });
    opened.store.close();
    const before = projectDigest(project);
    const out = path.join(dir, 'out.parquet');
    fs.writeFileSync(out, 'an earlier export');

    // 100 blocks: 51,200 bytes, less than the images; more than the project's -shm (32 kB).
    const result = await runPickstudio(['export', project, out], { fileSizeLimit: 100 });
    expect(result.code).toBe(1);
    expect(lastLine(result.stderr)).toMatch(
      new RegExp(
        `^pickstudio: ${literal(out)}: export failed, nothing written \\(EFBIG: file too large`,
      ),
    );
    expect(fs.readFileSync(out, 'utf8')).toBe('an earlier export');
    expect(fs.readdirSync(dir).filter((n) => n.includes('.partial-'))).toEqual([]);
    expect(projectDigest(project)).toBe(before);
  });

  it('an export into a folder that does not exist (StudioApi) or that this user may not write (CLI)', async () => {
    const { call, store } = openTestProject(project);
    const nowhere = path.join(dir, 'no', 'such', 'out.parquet');
    const error = await failure(call('exportParquet', { out: nowhere }));
    expect(error.message).toBe(`${nowhere}: the folder ${path.dirname(nowhere)} does not exist`);
    store.close();

    const locked = path.join(dir, 'locked');
    fs.mkdirSync(locked, { mode: isRoot ? 0o755 : 0o555 });
    fs.chmodSync(dir, 0o777);
    try {
      const out = path.join(locked, 'out.parquet');
      const result = await runPickstudio(['export', project, out], unprivileged);
      expect(result.code).toBe(1);
      expect(lastLine(result.stderr)).toMatch(
        new RegExp(`^pickstudio: ${literal(out)}: export failed, nothing written \\(EACCES`),
      );
      expect(fs.readdirSync(locked)).toEqual([]);
    } finally {
      fs.chmodSync(dir, 0o700);
    }
  });

  it('an export over something that is not a file (a FIFO; /dev/full would be one) is refused and leaves it be', async () => {
    const fifo = path.join(dir, 'pipe.parquet');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const { call, store } = openTestProject(project);
    const error = await failure(call('exportParquet', { out: fifo }));
    store.close();
    expect(error.message).toMatch(/pipe\.parquet: not a regular file/);
    expect(fs.statSync(fifo).isFIFO()).toBe(true);
  });
});

describe('the CLI door', () => {
  it('a truncated shard, a shard of another schema, a source that is missing: exit 1, one line naming the file and the problem', async () => {
    const before = projectDigest(project);
    const { truncated, other } = await truncatedAndForeignShards();
    const missing = path.join(dir, 'nope.parquet');

    const results = await Promise.all(
      [truncated, other, missing].map((file) => runPickstudio(['import', project, file])),
    );
    expect(results.map((r) => r.code)).toEqual([1, 1, 1]);
    const [first, second, third] = results.map((r) => lastLine(r.stderr));
    expect(first).toMatch(
      new RegExp(`^pickstudio: ${literal(truncated)}: not a readable Parquet file \\(.+\\)$`),
    );
    expect(second).toMatch(
      new RegExp(
        `^pickstudio: ${literal(other)}: not a Pick-a-Pic shard: missing columns are_different, .*ranking_id`,
      ),
    );
    expect(third).toBe(`pickstudio: ${missing}: no such file or folder`);
    expect(projectDigest(project)).toBe(before);
  });

  it('a first import that fails leaves no empty project behind', async () => {
    const fresh = path.join(dir, 'fresh.pickstudio');
    const result = await runPickstudio([
      'import',
      fresh,
      path.join(dir, 'typo.parquet'),
      '--create',
    ]);
    expect(result.code).toBe(1);
    expect(lastLine(result.stderr)).toBe(
      `pickstudio: ${path.join(dir, 'typo.parquet')}: no such file or folder`,
    );
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('fresh'))).toEqual([]);
  });

  it('bad options and values: exit 2 and one line naming the option', async () => {
    const before = projectDigest(project);
    const out = path.join(dir, 'out.parquet');
    const demo = path.join(dir, 'demo.pickstudio');
    const cases: [string[], string][] = [
      [
        ['export', project, out, '--no-imagez'],
        'unknown option --no-imagez (did you mean --no-images?)',
      ],
      [
        ['export', project, out, '--no-images', '--jpeg'],
        '--jpeg re-encodes the images that --no-images leaves out: use one',
      ],
      [
        ['export', project, out, '--annotations'],
        "Option '--annotations <value>' argument missing",
      ],
      [['stats', project, '--threshold', 'high'], '--threshold must be a number from 0 to 1'],
      [['demo', demo, '--pairs', '1e9'], '--pairs must be a whole number from 1 to 20000'],
      [['stats'], 'missing PROJECT (see --help)'],
    ];
    const results = await Promise.all(cases.map(([args]) => runPickstudio(args)));
    results.forEach((result, i) => {
      expect(result.code, cases[i]![0].join(' ')).toBe(2);
      expect(result.stderr.trim().split('\n')).toEqual([`pickstudio: ${cases[i]![1]}`]);
    });
    expect(fs.existsSync(out) || fs.existsSync(demo)).toBe(false);
    expect(projectDigest(project)).toBe(before);
  });

  it('project files that cannot be opened (missing, not SQLite, newer): exit 1 naming the file; none is changed', async () => {
    const notes = path.join(dir, 'notes.pickstudio');
    fs.writeFileSync(notes, 'just some notes, not a database'.repeat(100));
    const { store } = openTestProject(project);
    sqlite(store).pragma('user_version = 99');
    store.close();
    const bytes = [fs.readFileSync(notes), fs.readFileSync(project)];
    const missing = path.join(dir, 'missing.pickstudio');

    const results = await Promise.all(
      [missing, notes, project].map((file) => runPickstudio(['stats', file])),
    );
    expect(results.map((r) => r.code)).toEqual([1, 1, 1]);
    expect(results.map((r) => lastLine(r.stderr))).toEqual([
      `pickstudio: ${missing}: no such project file`,
      `pickstudio: ${notes}: not a Pick Studio project (file is not a database)`,
      expect.stringMatching(
        new RegExp(
          `^pickstudio: ${literal(project)}: written by a newer Pick Studio \\(schema version 99; .*the file was not changed\\.$`,
        ),
      ),
    ]);
    expect(fs.existsSync(missing)).toBe(false);
    expect([fs.readFileSync(notes), fs.readFileSync(project)]).toEqual(bytes);
  });
});

describe('the HTTP door', () => {
  let server: RunningServer;
  let rendererDir: string;

  beforeEach(async () => {
    rendererDir = path.join(dir, 'renderer');
    fs.mkdirSync(rendererDir);
    fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>studio</title>');
    server = await startServer({ file: project, port: 0, rendererDir });
  });
  afterEach(async () => {
    await server.close();
  });

  const post = (method: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`http://127.0.0.1:${server.port}/api/call/${method}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${server.token}`,
        ...headers,
      },
      body,
    });
  const call = (method: string, args: unknown) => post(method, JSON.stringify(args));
  type Reply = { ok: boolean; value?: unknown; error?: { code: string; message: string } };

  it('an import of a truncated shard, or of one of another schema: refused to the page (403); the local door names the file; nothing changes', async () => {
    const before = projectDigest(project);
    const { truncated, other } = await truncatedAndForeignShards();

    const fromPage = await call('importSources', { sources: [truncated] });
    expect(fromPage.status).toBe(403);
    expect(((await fromPage.json()) as Reply).error!.code).toBe('not_allowed');
    await expect(
      server.studio.call('importSources', { sources: [truncated] }),
    ).rejects.toMatchObject({
      code: 'bad_input',
      message: expect.stringMatching(
        new RegExp(`^${literal(truncated)}: not a readable Parquet file`),
      ) as string,
    });
    await expect(server.studio.call('importSources', { sources: [other] })).rejects.toThrow(
      new RegExp(`^${literal(other)}: not a Pick-a-Pic shard: missing columns`),
    );
    expect(projectDigest(project)).toBe(before);
  });

  it('wrong types, unknown fields, bodies that are not JSON objects, an unknown method: refused by name; nothing changes', async () => {
    const before = projectDigest(project);
    const pairs = ((await (await call('listPairs', {})).json()) as Reply).value as {
      pairId: number;
    }[];
    const pairId = pairs[0]!.pairId;

    const wrong = await call('recordDecision', {
      ...decision(pairId),
      pairId: String(pairId),
      decision: 'left',
      suggestionVisible: 'yes',
      colour: 'red',
    });
    expect(wrong.status).toBe(400);
    const wrongBody = (await wrong.json()) as Reply;
    expect(wrongBody.error!.code).toBe('invalid_argument');
    for (const pattern of [
      /^recordDecision: /,
      /pairId: /,
      /decision: /,
      /suggestionVisible: /,
      /Unrecognized key: "colour"/,
    ]) {
      expect(wrongBody.error!.message).toMatch(pattern);
    }

    const refusals: [string, string, number, RegExp][] = [
      ['recordDecision', 'null', 400, /^recordDecision: annotator: .*pairId: /],
      ['recordDecision', '[1, 2]', 400, /^recordDecision: arguments: /],
      ['recordDecision', '"verdict 0"', 400, /^recordDecision: arguments: /],
      ['listPairs', '{"__proto__": {"limit": 1000}}', 400, /Unrecognized key: "__proto__"/],
      ['listPairs', '{"limit": 1e400}', 400, /^listPairs: limit: /],
      ['getStats', '{"annotator": "ann",}', 400, /^request body is not valid JSON$/],
      ['getStats', JSON.stringify({ annotator: 'x'.repeat(1024 * 1024) }), 413, /over 1 MB/],
      ['frobnicate', '{}', 404, /^unknown method "frobnicate"$/],
    ];
    for (const [method, body, status, pattern] of refusals) {
      const res = await post(method, body);
      expect(res.status, `${method} ${body.slice(0, 40)}`).toBe(status);
      const reply = (await res.json()) as Reply;
      expect(reply.ok).toBe(false);
      expect(reply.error!.message).toMatch(pattern);
    }
    const get = await fetch(`http://127.0.0.1:${server.port}/api/call/getStats`, {
      headers: { authorization: `Bearer ${server.token}` },
    });
    expect(get.status).toBe(405);
    expect(projectDigest(project)).toBe(before);
  });

  it('an export into a folder that does not exist: refused to the page (403); the local door names the folder', async () => {
    const out = path.join(dir, 'gone', 'out.parquet');
    const res = await call('exportParquet', { out });
    expect(res.status).toBe(403);
    await expect(server.studio.call('exportParquet', { out })).rejects.toMatchObject({
      code: 'not_found',
      message: `${out}: the folder ${path.dirname(out)} does not exist`,
    });
  });

  it('an image file that became 20,000 x 20,000 is served as it is; a 60,000-character prompt arrives whole', async () => {
    const folder = path.join(dir, 'set');
    const prompt = 'a very long prompt '.repeat(6000).slice(0, 60_000);
    const manifest = await manifestWithImages(folder, 'm.jsonl', [
      { prompt, image_0: 'a.jpg', image_1: 'b.jpg' },
    ]);
    // The page may not name files: the import comes from a local door of the same process.
    await server.studio.call('importSources', { sources: [manifest] });
    const huge = makeHugePng(20000, 20000);
    fs.writeFileSync(path.join(folder, 'b.jpg'), huge);

    const queue = ((await (await call('getQueue', { annotator: 'ann', count: 5 })).json()) as Reply)
      .value as { pairs: LabelPair[] };
    const pair = queue.pairs.find((p) => p.prompt.length > 1000)!;
    expect(pair.prompt).toBe(prompt);
    const image = await fetch(
      `http://127.0.0.1:${server.port}/api/images/${encodeURIComponent(pair.image1.uid)}`,
      { headers: { authorization: `Bearer ${server.token}` } },
    );
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await image.arrayBuffer()).equals(huge)).toBe(true);
    const saved = await call('recordDecision', decision(pair.pairId, 1));
    expect(((await saved.json()) as Reply).ok).toBe(true);
  });

  it('a project that cannot be opened: the server does not start, and says which file and why', async () => {
    const notes = path.join(dir, 'notes.pickstudio');
    fs.writeFileSync(notes, 'just some notes, not a database'.repeat(100));
    await expect(startServer({ file: notes, port: 0, rendererDir })).rejects.toThrow(
      `${notes}: not a Pick Studio project (file is not a database)`,
    );
    await expect(
      startServer({ file: path.join(dir, 'none.pickstudio'), port: 0, rendererDir }),
    ).rejects.toThrow(`${path.join(dir, 'none.pickstudio')}: no such project file`);
    const newer = path.join(dir, 'newer.pickstudio');
    fs.copyFileSync(project, newer);
    const { store } = openTestProject(newer);
    sqlite(store).pragma('user_version = 99');
    store.close();
    const bytes = fs.readFileSync(newer);
    await expect(startServer({ file: newer, port: 0, rendererDir })).rejects.toThrow(
      `${newer}: written by a newer Pick Studio (schema version 99;`,
    );
    expect(fs.readFileSync(newer).equals(bytes)).toBe(true);
  });
});
