import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { beforeEach, describe, expect, it } from 'vitest';
import { duckdb } from '../helpers/duckdb';
import {
  afterBulkWrites,
  makeJpeg,
  makePng,
  openTestProject,
  projectDigest,
  SOUND_AFTER_BULK_WRITES,
  tempDir,
  sqlite,
  writeJsonLines,
} from '../helpers/project';

let dir: string;
let jpegA: Buffer;
let jpegB: Buffer;
let png: Buffer;
const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

beforeEach(async () => {
  dir = tempDir();
  fs.mkdirSync(path.join(dir, 'images', 'sub'), { recursive: true });
  jpegA = await makeJpeg(1);
  jpegB = await makeJpeg(2);
  png = await makePng(3);
  fs.writeFileSync(path.join(dir, 'images', 'a.jpg'), jpegA);
  fs.writeFileSync(path.join(dir, 'images', 'sub', 'b.jpg'), jpegB);
  fs.writeFileSync(path.join(dir, 'images', 'c.png'), png);
});

describe('manifest import', () => {
  it('JSONL: images keep their path, their uid is their sha256, labels become annotations', async () => {
    const manifest = path.join(dir, 'images', 'pairs.jsonl');
    fs.writeFileSync(
      manifest,
      [
        { prompt: 'a cat', image_0: 'a.jpg', image_1: 'sub/b.jpg', label: '0', annotator: 'ann' },
        { prompt: 'a cat', image_0: 'sub/b.jpg', image_1: 'a.jpg', label: '0', annotator: 'bob' },
        { prompt: 'a dog', image_0: 'a.jpg', image_1: 'c.png', model_0: 'sd', model_1: 'dalle' },
        { caption: 'a bird', image_0: 'c.png', image_1: 'sub/b.jpg', label: 'tie' },
      ]
        .map((line) => JSON.stringify(line))
        .join('\n') + '\n\n',
    );
    const file = path.join(dir, 'p.pickstudio');
    const { call, store } = openTestProject(file);
    const report = await call('importSources', { sources: [manifest] });
    expect(report.files[0]).toMatchObject({
      format: 'manifest-jsonl',
      rows: 4,
      pairsAdded: 3,
      annotationsAdded: 3,
    });
    const images = sqlite(store)
      .prepare('SELECT uid, path, sha256 FROM images ORDER BY path')
      .all();
    expect(images).toEqual([
      { uid: sha(jpegA), path: path.join(dir, 'images', 'a.jpg'), sha256: null },
      { uid: sha(png), path: path.join(dir, 'images', 'c.png'), sha256: null },
      { uid: sha(jpegB), path: path.join(dir, 'images', 'sub', 'b.jpg'), sha256: null },
    ]);
    const stats = await call('getStats', {});
    expect(stats.annotators).toEqual([
      expect.objectContaining({
        name: 'ann',
        kind: 'import',
        verdicts: { image0: 1, image1: 0, tie: 0 },
      }),
      // bob saw the images the other way round: his "0" is the pair's image 1.
      expect.objectContaining({
        name: 'bob',
        kind: 'import',
        verdicts: { image0: 0, image1: 1, tie: 0 },
      }),
      expect.objectContaining({
        name: 'import:pairs.jsonl',
        kind: 'import',
        verdicts: { image0: 0, image1: 0, tie: 1 },
      }),
    ]);
    store.close();

    const before = projectDigest(file);
    const again = openTestProject(file);
    const second = await again.call('importSources', { sources: [manifest] });
    expect(second.files[0]!.rowsAlreadyPresent).toBe(4);

    const out = path.join(dir, 'out.parquet');
    const result = await again.call('exportParquet', { out });
    const jpegOut = path.join(dir, 'jpeg.parquet');
    await again.call('exportParquet', { out: jpegOut, jpeg: true });
    expect(afterBulkWrites(again.store)).toEqual(SOUND_AFTER_BULK_WRITES);
    again.store.close();
    expect(projectDigest(file)).toBe(before);
    expect(result).toMatchObject({ rows: 1, pairsWithoutMajority: 1 });

    const db = await duckdb();
    const [bird] = await db.rows(`SELECT * FROM '${out}'`);
    const [birdAsJpeg] = await db.rows(`SELECT * FROM '${jpegOut}'`);
    db.close();
    expect(bird).toMatchObject({
      caption: 'a bird',
      image_0_uid: sha(png),
      image_1_uid: sha(jpegB),
      label_0: 0.5,
    });
    // By default both files go out byte for byte, the PNG as a PNG.
    expect(Buffer.from(bird!.jpg_0 as Uint8Array).equals(png)).toBe(true);
    expect(Buffer.from(bird!.jpg_1 as Uint8Array).equals(jpegB)).toBe(true);
    // With jpeg, the PNG is re-encoded once as JPEG; the JPEG goes out byte for byte.
    expect(Buffer.from(birdAsJpeg!.jpg_1 as Uint8Array).equals(jpegB)).toBe(true);
    const reencoded = await sharp(Buffer.from(birdAsJpeg!.jpg_0 as Uint8Array)).metadata();
    expect(reencoded).toMatchObject({ format: 'jpeg', width: 40, height: 30 });
  });

  it('the same row twice in one manifest adds one pair and one label', async () => {
    const manifest = path.join(dir, 'images', 'twice.jsonl');
    const row = JSON.stringify({ prompt: 'a cat', image_0: 'a.jpg', image_1: 'c.png', label: '1' });
    const flipped = JSON.stringify({
      prompt: 'a cat',
      image_0: 'c.png',
      image_1: 'a.jpg',
      label: '0',
    });
    fs.writeFileSync(manifest, [row, row, flipped].join('\n'));
    const { call, store } = openTestProject(path.join(dir, 'p.pickstudio'));
    const report = await call('importSources', { sources: [manifest] });
    expect(report.files[0]).toMatchObject({
      rows: 3,
      pairsAdded: 1,
      annotationsAdded: 1,
      rowsAlreadyPresent: 2,
    });
    expect(store.counts()).toMatchObject({ pairs: 1, annotations: 1, verdicts: { image1: 1 } });
    store.close();
  });

  it('a label under a name that a human annotator of the project has refuses the file, whose rows are all kept out', async () => {
    const first = path.join(dir, 'images', 'first.jsonl');
    writeJsonLines(first, [{ prompt: 'a cat', image_0: 'a.jpg', image_1: 'c.png' }]);
    const file = path.join(dir, 'p.pickstudio');
    const { call, store } = openTestProject(file);
    await call('importSources', { sources: [first] });
    await call('recordDecision', {
      annotator: 'ana',
      pairId: 1,
      decision: 0,
      leftImage: 0,
      suggestionVisible: false,
      decisionMs: 1,
    });
    const before = projectDigest(file);
    const clash = path.join(dir, 'images', 'clash.jsonl');
    writeJsonLines(clash, [
      { prompt: 'a dog', image_0: 'a.jpg', image_1: 'sub/b.jpg', label: '0', annotator: 'bob' },
      { prompt: 'a bird', image_0: 'c.png', image_1: 'sub/b.jpg', label: '1', annotator: 'ana' },
    ]);
    await expect(call('importSources', { sources: [clash] })).rejects.toThrow(
      /"ana" is already used by a human annotator/,
    );
    expect(projectDigest(file)).toBe(before);
    expect(store.counts()).toMatchObject({ pairs: 1, annotations: 1 });
    store.close();
  });

  it('CSV with quoted prompts, a BOM and CRLF line ends', async () => {
    const manifest = path.join(dir, 'images', 'pairs.csv');
    fs.writeFileSync(
      manifest,
      '\ufeffprompt,image_0,image_1,label\r\n"a cat, sitting ""politely""",a.jpg,sub/b.jpg,1\r\n' +
        'plain dog,a.jpg,c.png,\r\n',
    );
    const { call, store } = openTestProject(path.join(dir, 'p.pickstudio'));
    await call('importSources', { sources: [manifest] });
    const prompts = sqlite(store).prepare('SELECT text FROM prompts ORDER BY id').all();
    expect(prompts).toEqual([{ text: 'a cat, sitting "politely"' }, { text: 'plain dog' }]);
    expect(store.counts()).toMatchObject({
      pairs: 2,
      annotations: 1,
      verdicts: { image0: 0, image1: 1, tie: 0 },
    });
    store.close();
  });
});
