import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { parseClipImageConfig, preprocessImage } from '../../electron/core/scoring/preprocess';
import {
  startPreprocessPool,
  type ImagePreprocessor,
} from '../../electron/core/scoring/preprocess-pool';
import { sourceScoringWorker } from '../../electron/core/scoring/score-project';

const clip = parseClipImageConfig(
  JSON.parse(fs.readFileSync('tests/fixtures/clip-tokenizer/preprocessor_config.json', 'utf8')),
  'preprocessor_config.json',
);

function noisePng(width: number, height: number, seed: number): Promise<Buffer> {
  const raw = new Uint8Array(width * height * 3);
  for (let i = 0; i < raw.length; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    raw[i] = seed >>> 24;
  }
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

describe('the preprocessing pool', () => {
  let pool: ImagePreprocessor | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });

  it('finds the worker source when run from the sources', () => {
    expect(sourceScoringWorker()).toMatchObject({
      source: expect.stringMatching(/scoring-worker\.ts/),
    });
  });

  it('gives the same pixel_values as preprocessing on this thread, for every image in flight', async () => {
    pool = startPreprocessPool(sourceScoringWorker()!, 2);
    const images = await Promise.all([
      noisePng(640, 480, 1),
      noisePng(300, 700, 2),
      noisePng(224, 224, 3),
      noisePng(97, 31, 4),
    ]);
    const viaPool = await Promise.all(images.map((image) => pool!.preprocess(image, clip)));
    for (const [i, image] of images.entries()) {
      expect(viaPool[i]).toEqual(await preprocessImage(image, clip));
    }
  });

  it('leaves the caller its bytes, transferring only a copy', async () => {
    pool = startPreprocessPool(sourceScoringWorker()!, 1);
    const image = new Uint8Array(await noisePng(64, 64, 5));
    await pool.preprocess(image, clip);
    expect(image.byteLength).toBeGreaterThan(0);
    expect(sharp(image).metadata()).resolves.toMatchObject({ width: 64 });
  });

  it('rejects an image it cannot decode with the decoder reason, and goes on working', async () => {
    pool = startPreprocessPool(sourceScoringWorker()!, 1);
    await expect(pool.preprocess(new Uint8Array([1, 2, 3]), clip)).rejects.toThrow(
      /cannot decode image/,
    );
    const image = await noisePng(50, 80, 6);
    expect(await pool.preprocess(image, clip)).toEqual(await preprocessImage(image, clip));
  });

  it('fails the images of a worker that dies, and starts a fresh worker for the next', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pool-'));
    const flag = path.join(dir, 'died-once');
    const worker = path.join(dir, 'worker.mjs');
    const source = (sourceScoringWorker() as { source: string }).source;
    // Dies on its first start, then behaves as the real worker.
    fs.writeFileSync(
      worker,
      `import fs from 'node:fs';
       if (!fs.existsSync(${JSON.stringify(flag)})) { fs.writeFileSync(${JSON.stringify(flag)}, ''); process.exit(3); }
       await ${source};`,
    );
    pool = startPreprocessPool({ file: worker }, 1);
    const image = await noisePng(40, 30, 7);
    await expect(pool.preprocess(image, clip)).rejects.toThrow(/exited with code 3/);
    expect(await pool.preprocess(image, clip)).toEqual(await preprocessImage(image, clip));
  });

  it('refuses work once closed', async () => {
    const closed = startPreprocessPool(sourceScoringWorker()!, 1);
    await closed.close();
    await expect(closed.preprocess(await noisePng(8, 8, 8), clip)).rejects.toThrow(/closed/);
  });
});
