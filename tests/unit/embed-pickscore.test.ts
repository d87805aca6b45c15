// tools/embed_pickscore.py: its fingerprint of a model folder must be the studio's (runs with any
// python3), and end to end (needs torch, transformers, datasets, Pillow: PICKSTUDIO_PYTHON, else
// .venv-export/bin/python, else python3; skipped with the failing import named otherwise) its
// embeddings of a Pick-a-Pic shard, imported, must score the pairs as the studio's own ONNX run of
// the same tiny random CLIPModel does, with no model run on the studio's side.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModelFolder } from '../../electron/core/scoring/model-folder';
import { duckdb, shardRow, writeShardWithDuckDB } from '../helpers/duckdb';
import { makeJpeg, openTestProject, tempDir } from '../helpers/project';
import { missingImport, PYTHON } from '../helpers/python';
import { writeTinyModel } from '../helpers/tiny-model';

const TOOLS = path.resolve('tools');

function run(
  script: string,
  args: string[],
  timeout = 600_000,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [path.join(TOOLS, script), ...args], {
      env: { ...process.env, HF_HUB_OFFLINE: '1', PYTHONUNBUFFERED: '1' },
      timeout,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

const hasPython = spawnSync(PYTHON, ['--version']).status === 0;
const missing = hasPython
  ? missingImport(['torch', 'transformers', 'datasets', 'numpy', 'PIL', 'onnx'])
  : `${PYTHON} cannot run`;

// Protobuf, enough to give an ONNX file an initializer whose weights live in another file.
function varint(n: number): Buffer {
  const bytes: number[] = [];
  while (n >= 0x80) {
    bytes.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  bytes.push(n);
  return Buffer.from(bytes);
}
const field = (number: number, payload: Buffer): Buffer =>
  Buffer.concat([varint((number << 3) | 2), varint(payload.length), payload]);

/** The ONNX file with one more graph initializer, kept in `location` (external data). */
function withExternalInitializer(onnx: Buffer, location: string): Buffer {
  const entry = Buffer.concat([field(1, Buffer.from('location')), field(2, Buffer.from(location))]);
  const tensor = Buffer.concat([field(8, Buffer.from(`w_${location}`)), field(13, entry)]);
  const parts: Buffer[] = [];
  let pos = 0;
  while (pos < onnx.length) {
    const start = pos;
    let tag = 0;
    let shift = 0;
    for (;;) {
      const b = onnx[pos++]!;
      tag |= (b & 0x7f) << shift;
      shift += 7;
      if (b < 0x80) break;
    }
    const wire = tag & 7;
    if (wire === 0) {
      while (onnx[pos++]! >= 0x80);
      parts.push(onnx.subarray(start, pos));
    } else if (wire === 2) {
      let length = 0;
      shift = 0;
      for (;;) {
        const b = onnx[pos++]!;
        length += (b & 0x7f) * 2 ** shift;
        shift += 7;
        if (b < 0x80) break;
      }
      const payload = onnx.subarray(pos, pos + length);
      pos += length;
      parts.push(
        tag >> 3 === 7
          ? field(7, Buffer.concat([payload, field(5, tensor)]))
          : onnx.subarray(start, pos),
      );
    } else {
      throw new Error(`wire type ${wire} in the test's ONNX file`);
    }
  }
  return Buffer.concat(parts);
}

describe.skipIf(!hasPython)('embed_pickscore.py fingerprint', () => {
  it("prints the studio's fingerprint of a model folder, external weight files included", async () => {
    const dir = tempDir();
    const model = path.join(dir, 'tiny');
    writeTinyModel(model, 5);
    const plain = await run('embed_pickscore.py', ['--print-fingerprint', model]);
    expect(plain.code, plain.output).toBe(0);
    expect(plain.output.trim()).toBe((await loadModelFolder(model)).fingerprint);

    for (const [tower, location] of [
      ['image_encoder.onnx', 'image_encoder.onnx.data'],
      ['text_encoder.onnx', 'a-weights.bin'],
    ] as const) {
      const file = path.join(model, tower);
      fs.writeFileSync(file, withExternalInitializer(fs.readFileSync(file), location));
      fs.writeFileSync(path.join(model, location), `weights of ${tower}`);
    }
    const studio = await loadModelFolder(model);
    const external = await run('embed_pickscore.py', ['--print-fingerprint', model]);
    expect(external.code, external.output).toBe(0);
    expect(external.output.trim()).toBe(studio.fingerprint);
    expect(studio.fingerprint).not.toBe(plain.output.trim());
    // A weight file's bytes are part of it.
    fs.appendFileSync(path.join(model, 'a-weights.bin'), '!');
    const changed = await run('embed_pickscore.py', ['--print-fingerprint', model]);
    expect(changed.output.trim()).toBe((await loadModelFolder(model)).fingerprint);
    expect(changed.output.trim()).not.toBe(studio.fingerprint);
  });
});

describe.skipIf(!hasPython)('embed_pickscore.py arguments', () => {
  it('refuses counts below 1 before loading anything, naming the option', async () => {
    const fingerprint = '0'.repeat(64);
    for (const option of ['--workers', '--batch-size', '--num-proc']) {
      const refused = await run('embed_pickscore.py', [
        ...['--fingerprint', fingerprint, '--out', 'x.parquet', 'shard.parquet'],
        ...[option, '0'],
      ]);
      expect(refused.code, refused.output).toBe(2);
      expect(refused.output).toContain(`${option} must be at least 1`);
    }
  });
});

const skipReason = missing
  ? ` [skipped: ${missing}; set PICKSTUDIO_PYTHON to a Python with torch, transformers, datasets, onnx, Pillow]`
  : '';

describe('embed_pickscore.py end to end', () => {
  // Its threads decode, resize and crop, and a lookup table read from the processor's own output
  // does the arithmetic (Preprocessing); where its check against the processor fails, the
  // processor does it all.
  it.skipIf(missing !== null)(
    `prepares images as CLIPImageProcessor does, bit for bit, or leaves them to it${skipReason}`,
    () => {
      const probe = `
import io, json, sys
from pathlib import Path
sys.path.insert(0, ${JSON.stringify(TOOLS)})
import embed_pickscore as em, export_pickscore as ex
deps = em.import_deps()
np, Image = deps.numpy, deps.PIL
processor, _ = ex.image_processor(deps, Path(${JSON.stringify(path.resolve('tests/fixtures/clip-tokenizer'))}))
rng = np.random.default_rng(7)
images = []
for i in range(24):
    w, h = (int(v) for v in rng.integers(20, 900, size=2))
    mode, kind = [("RGB", "JPEG"), ("L", "JPEG"), ("CMYK", "JPEG"), ("RGBA", "PNG"), ("P", "PNG")][i % 5]
    noise = Image.fromarray(rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8))
    out = io.BytesIO()
    noise.convert(mode).save(out, format=kind)
    images.append(out.getvalue())
def agrees(prep):
    alone = processor(images=[prep.open(d) for d in images], return_tensors="np")["pixel_values"]
    ours = prep.pixels(np.concatenate([prep.prepare([d])[0] for d in images]), "cpu").numpy()
    return alone.dtype == ours.dtype and bool(np.array_equal(alone, ours))
ahead = em.Preprocessing(deps, processor)
table = em.Preprocessing._table
em.Preprocessing._table = lambda self: table(self) + np.float32(1e-6)
off_by_a_hair = em.Preprocessing(deps, processor)
em.Preprocessing._table = table
def skips(prep):
    prepared, failures = prep.prepare([b"junk", images[0]])
    return [len(prepared), failures]
print(json.dumps({"ahead": ahead.ahead, "agrees": agrees(ahead), "skips": skips(ahead),
                  "offAhead": off_by_a_hair.ahead, "offAgrees": agrees(off_by_a_hair),
                  "offSkips": skips(off_by_a_hair)}))
`;
      const result = spawnSync(PYTHON, ['-c', probe], { encoding: 'utf8', timeout: 300_000 });
      expect(result.status, result.stderr).toBe(0);
      const lines = result.stdout.trim().split('\n');
      expect(JSON.parse(lines.at(-1)!)).toEqual({
        ahead: true,
        agrees: true,
        skips: [1, ['not an image Pillow reads', null]],
        offAhead: false,
        offAgrees: true,
        offSkips: [1, ['not an image Pillow reads', null]],
      });
    },
    300_000,
  );

  it.skipIf(missing !== null)(
    `names the images that do not decode and leaves them out, embedding the rest${skipReason}`,
    async () => {
      const dir = tempDir();
      const good = await makeJpeg(1, 96, 80);
      const images: Record<string, Buffer> = {
        fine: good,
        cut: good.subarray(0, good.length >> 1),
        text: Buffer.from('not an image at all'),
        other: await makeJpeg(2, 80, 96),
      };
      const uids = Object.keys(images);
      const shard = path.join(dir, 'shard.parquet');
      await writeShardWithDuckDB(
        shard,
        uids.map((uid, i) =>
          shardRow(i, {
            caption: `prompt ${i}`,
            image_0_uid: uid,
            image_1_uid: uids[(i + 1) % uids.length]!,
            jpg_0: images[uid]!,
            jpg_1: images[uids[(i + 1) % uids.length]!]!,
          }),
        ),
        { images: true },
      );
      const emb = path.join(dir, 'emb.parquet');
      const embedded = await run('embed_pickscore.py', [
        ...['--random-init', 'tiny', '--fingerprint', '0'.repeat(64)],
        ...['--processor', path.resolve('tests/fixtures/clip-tokenizer'), '--device', 'cpu'],
        ...['--batch-size', '2', '--workers', '2', '--out', emb, shard],
      ]);
      expect(embedded.code, embedded.output).toBe(0);
      expect(embedded.output).toMatch(
        /image 'cut' left out: it does not decode \(OSError: image file is truncated/,
      );
      expect(embedded.output).toContain(
        "image 'text' left out: it does not decode (not an image Pillow reads)",
      );
      expect(embedded.output).toContain('2 image(s) left out');
      const db = await duckdb();
      const rows = await db.rows(
        `SELECT key, len(embedding) AS n FROM '${emb}' WHERE kind = 'image' ORDER BY key`,
      );
      db.close();
      expect(rows.map((row) => row.key)).toEqual(['fine', 'other']);
      expect(new Set(rows.map((row) => row.n)).size).toBe(1);
    },
    300_000,
  );

  it.skipIf(missing !== null)(
    `embeds a shard with PyTorch; imported, it scores the pairs as the studio's ONNX run does, with no model run${skipReason}`,
    async () => {
      const dir = tempDir();
      const model = path.join(dir, 'tiny');
      const exported = await run('export_pickscore.py', [
        '--random-init',
        'tiny',
        '--seed',
        '3',
        '--out',
        model,
        '--offline',
        '--no-check',
      ]);
      expect(exported.code, exported.output).toBe(0);
      const shard = path.join(dir, 'shard.parquet');
      const rows = [];
      for (let i = 0; i < 6; i++) {
        rows.push(
          shardRow(i, {
            caption: `a photo number ${i % 4}`,
            image_0_uid: `u${i}`,
            image_1_uid: `u${(i + 1) % 6}`,
            jpg_0: await makeJpeg(10 + i, 96 + 8 * i, 80),
            jpg_1: await makeJpeg(10 + ((i + 1) % 6), 96 + 8 * ((i + 1) % 6), 80),
          }),
        );
      }
      await writeShardWithDuckDB(shard, rows, { images: true });
      const emb = path.join(dir, 'emb.parquet');
      const embedded = await run('embed_pickscore.py', [
        '--random-init',
        'tiny',
        '--seed',
        '3',
        '--model-folder',
        model,
        '--device',
        'cpu',
        '--batch-size',
        '4',
        '--out',
        emb,
        shard,
      ]);
      expect(embedded.code, embedded.output).toBe(0);

      // The studio's own scores, through onnxruntime.
      const ref = openTestProject(path.join(dir, 'ref.pickstudio'));
      await ref.call('importSources', { sources: [shard] });
      await ref.call('scorePairs', { model });
      const refModel = ref.store.scores.activeModel()!;
      const expected = new Map(
        (await ref.call('listPairs', { limit: 100 })).map((p) => [
          p.prompt + p.image0Uid,
          ref.store.scores.scoreOf(refModel.id, p.pairId)!.p_0,
        ]),
      );
      ref.store.close();

      // A fresh project: the model registered, its towers then broken, the embeddings imported.
      const copy = path.join(dir, 'tiny-copy');
      fs.cpSync(model, copy, { recursive: true });
      const fresh = openTestProject(path.join(dir, 'fresh.pickstudio'));
      await fresh.call('importSources', { sources: [shard] });
      await fresh.call('addModel', { folder: copy });
      for (const f of ['text_encoder.onnx', 'image_encoder.onnx']) {
        fs.writeFileSync(path.join(copy, f), 'broken');
      }
      const imported = await fresh.call('importEmbeddings', { sources: [emb] });
      expect(imported.files[0]).toMatchObject({
        prompts: 4,
        images: 6,
        unknownPrompts: 0,
        unknownImages: 0,
      });
      const report = await fresh.call('scorePairs', {});
      expect(report).toMatchObject({ provider: null, pairsScored: 6 });
      const freshModel = fresh.store.scores.activeModel()!;
      for (const p of await fresh.call('listPairs', { limit: 100 })) {
        const p0 = fresh.store.scores.scoreOf(freshModel.id, p.pairId)!.p_0;
        // The bound. PyTorch 2.13 (CPU) against onnxruntime 1.30, float32: at most 2.9e-6
        // on these six pairs when first run.
        expect(Math.abs(p0 - expected.get(p.prompt + p.image0Uid)!)).toBeLessThan(1e-5);
      }
      fresh.store.close();
    },
    900_000,
  );
});
