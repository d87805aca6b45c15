import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { StudioError } from '../../shared/errors';
import { loadModelFolder } from '../../electron/core/scoring/model-folder';
import { tempDir } from '../helpers/project';

// ONNX towers are written by hand here, as raw protobuf, so that each test can declare exactly
// the signature it needs (and an external weights file); the loader reads only signatures.
const bytes = (...parts: Uint8Array[]) => Buffer.concat(parts);
function varint(value: number): Uint8Array {
  const out: number[] = [];
  for (let v = value; ; v = Math.floor(v / 128)) {
    if (v < 128) return Uint8Array.from([...out, v]);
    out.push(v % 128 | 128);
  }
}
const int = (field: number, value: number) => bytes(varint(field << 3), varint(value));
const msg = (field: number, ...parts: Uint8Array[]) => {
  const body = bytes(...parts);
  return bytes(varint((field << 3) | 2), varint(body.length), body);
};
const str = (field: number, text: string) => msg(field, Buffer.from(text));

type Dim = number | string;
interface Value {
  name: string;
  type?: number;
  dims: Dim[];
}
const FLOAT = 1;
const INT32 = 6;
const INT64 = 7;

function valueInfo(field: number, v: Value): Uint8Array {
  const dims = v.dims.map((d) => msg(1, typeof d === 'number' ? int(1, d) : str(2, d)));
  return msg(field, str(1, v.name), msg(2, msg(1, int(1, v.type ?? FLOAT), msg(2, ...dims))));
}

function onnx(inputs: Value[], outputs: Value[], externalData?: string): Buffer {
  const initializer = externalData
    ? [
        msg(
          5,
          int(1, 4),
          int(2, FLOAT),
          str(8, 'w'),
          msg(13, str(1, 'location'), str(2, externalData)),
          int(14, 1),
        ),
      ]
    : [];
  const graph = msg(
    7,
    msg(1, str(1, inputs[0]!.name), str(2, outputs[0]!.name), str(4, 'Identity')),
    str(2, 'g'),
    ...initializer,
    ...inputs.map((v) => valueInfo(11, v)),
    ...outputs.map((v) => valueInfo(12, v)),
  );
  return bytes(int(1, 8), graph, msg(8, str(1, ''), int(2, 17)));
}

const D = 8;
const textTower = (patch: { inputs?: Value[]; outputs?: Value[]; external?: string } = {}) =>
  onnx(
    patch.inputs ?? [
      { name: 'input_ids', type: INT64, dims: ['batch', 77] },
      { name: 'attention_mask', type: INT64, dims: ['batch', 77] },
    ],
    patch.outputs ?? [{ name: 'text_embeds', dims: ['batch', D] }],
    patch.external,
  );
const imageTower = (patch: { inputs?: Value[]; outputs?: Value[] } = {}) =>
  onnx(
    patch.inputs ?? [{ name: 'pixel_values', dims: ['batch', 3, 224, 224] }],
    patch.outputs ?? [{ name: 'image_embeds', dims: ['batch', D] }],
  );

const TOKENIZER_DIR = path.resolve('resources/demo-model');
const MANIFEST = {
  format: 'pickstudio-dual-encoder/1',
  name: 'test model',
  logit_scale: 100,
  embed_dim: D,
  max_text_len: 77,
  source: 'written by model-folder.test.ts',
};

/** A valid folder, then `change` applied to it. */
function folder(change: (dir: string) => void = () => {}): string {
  const dir = tempDir('pickstudio-model-');
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(MANIFEST));
  fs.writeFileSync(path.join(dir, 'text_encoder.onnx'), textTower());
  fs.writeFileSync(path.join(dir, 'image_encoder.onnx'), imageTower());
  for (const f of ['tokenizer.json', 'preprocessor_config.json']) {
    fs.copyFileSync(path.join(TOKENIZER_DIR, f), path.join(dir, f));
  }
  change(dir);
  return dir;
}

const write = (dir: string, file: string, data: string | Buffer) =>
  fs.writeFileSync(path.join(dir, file), data);
const manifest = (dir: string, fields: Record<string, unknown>) =>
  write(dir, 'manifest.json', JSON.stringify(fields));

async function failure(dir: string): Promise<StudioError> {
  const error = await loadModelFolder(dir).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StudioError);
  expect((error as StudioError).message).toContain(dir);
  return error as StudioError;
}

describe('loadModelFolder', () => {
  it('accepts a folder in the format and returns its paths and manifest', async () => {
    const dir = folder();
    const loaded = await loadModelFolder(dir);
    expect(loaded.dir).toBe(dir);
    expect(loaded.manifest).toEqual(MANIFEST);
    expect(loaded.paths.textEncoder).toBe(path.join(dir, 'text_encoder.onnx'));
    expect(loaded.paths.preprocessorConfig).toBe(path.join(dir, 'preprocessor_config.json'));
    expect(loaded.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it('accepts symbolic sizes where the scorer feeds fixed ones', async () => {
    const dir = folder((d) =>
      write(
        d,
        'image_encoder.onnx',
        imageTower({ inputs: [{ name: 'pixel_values', dims: ['b', 3, 'h', 'w'] }] }),
      ),
    );
    await expect(loadModelFolder(dir)).resolves.toMatchObject({ dir });
  });

  it('names a missing folder and missing files', async () => {
    const gone = path.join(tempDir(), 'nope');
    expect((await failure(gone)).code).toBe('not_found');
    const dir = folder((d) => {
      fs.rmSync(path.join(d, 'tokenizer.json'));
      fs.rmSync(path.join(d, 'image_encoder.onnx'));
    });
    const error = await failure(dir);
    expect(error.code).toBe('bad_input');
    expect(error.message).toMatch(/missing image_encoder\.onnx, tokenizer\.json$/);
  });

  it('refuses a manifest of another format, or lacking fields', async () => {
    expect(
      (await failure(folder((d) => manifest(d, { ...MANIFEST, format: 'openclip/2' })))).message,
    ).toContain(
      'manifest.json has format "openclip/2"; this version reads "pickstudio-dual-encoder/1"',
    );
    expect(
      (await failure(folder((d) => write(d, 'manifest.json', '{"format":')))).message,
    ).toContain('manifest.json is not valid JSON');
    const noScale: Record<string, unknown> = { ...MANIFEST };
    delete noScale.logit_scale;
    const error = await failure(
      folder((d) => manifest(d, { ...noScale, max_text_len: 64, embed_dim: 7.5 })),
    );
    expect(error.message).toContain('manifest.json lacks "logit_scale" (a positive number)');
    expect(error.message).toContain('"embed_dim" is 7.5, not a positive integer');
    expect(error.message).toContain('"max_text_len" is 64, not 77');
  });

  it('refuses a tower with other input or output names', async () => {
    const dir = folder((d) =>
      write(
        d,
        'text_encoder.onnx',
        textTower({
          inputs: [
            { name: 'ids', type: INT64, dims: ['batch', 77] },
            { name: 'attention_mask', type: INT64, dims: ['batch', 77] },
          ],
        }),
      ),
    );
    expect((await failure(dir)).message).toContain(
      'text_encoder.onnx has inputs [ids, attention_mask], not [input_ids, attention_mask]',
    );
    const extra = folder((d) =>
      write(
        d,
        'image_encoder.onnx',
        imageTower({
          outputs: [
            { name: 'last_hidden_state', dims: ['batch', 257, D] },
            { name: 'image_embeds', dims: ['batch', D] },
          ],
        }),
      ),
    );
    expect((await failure(extra)).message).toContain(
      'image_encoder.onnx has outputs [last_hidden_state, image_embeds], not [image_embeds]',
    );
  });

  it('refuses wrong element types, shapes and a fixed batch', async () => {
    const dir = folder((d) => {
      write(
        d,
        'text_encoder.onnx',
        textTower({
          inputs: [
            { name: 'input_ids', type: INT32, dims: ['batch', 77] },
            { name: 'attention_mask', type: INT64, dims: [1, 77] },
          ],
        }),
      );
      write(
        d,
        'image_encoder.onnx',
        imageTower({ outputs: [{ name: 'image_embeds', dims: ['batch', 1, D] }] }),
      );
    });
    const { message } = await failure(dir);
    expect(message).toContain('text_encoder.onnx input input_ids is int32, not int64');
    expect(message).toContain(
      'text_encoder.onnx input attention_mask has a fixed batch of 1; the scorer needs a dynamic batch axis',
    );
    expect(message).toContain(
      `image_encoder.onnx output image_embeds has shape [batch, 1, ${D}], not [B, ${D}]`,
    );
  });

  it('refuses an image input the preprocessor does not produce', async () => {
    const dir = folder((d) =>
      write(
        d,
        'image_encoder.onnx',
        imageTower({ inputs: [{ name: 'pixel_values', dims: ['batch', 3, 336, 336] }] }),
      ),
    );
    expect((await failure(dir)).message).toContain(
      'image_encoder.onnx input pixel_values has shape [batch, 3, 336, 336], not [B, 3, 224, 224]',
    );
  });

  it('refuses an embed_dim the towers do not output', async () => {
    const { message } = await failure(folder((d) => manifest(d, { ...MANIFEST, embed_dim: 1024 })));
    expect(message).toContain(
      `text_encoder.onnx output text_embeds has shape [batch, ${D}], not [B, 1024]`,
    );
    expect(message).toContain(
      `image_encoder.onnx output image_embeds has shape [batch, ${D}], not [B, 1024]`,
    );
  });

  it('refuses a file that is not ONNX, and weights kept outside the folder or missing', async () => {
    expect(
      (await failure(folder((d) => write(d, 'image_encoder.onnx', 'not a model\n')))).message,
    ).toContain('image_encoder.onnx is not an ONNX model');
    expect(
      (
        await failure(
          folder((d) => write(d, 'text_encoder.onnx', textTower({ external: 'w.bin' }))),
        )
      ).message,
    ).toContain('text_encoder.onnx keeps weights in w.bin, which is missing');
    expect(
      (
        await failure(
          folder((d) => write(d, 'text_encoder.onnx', textTower({ external: '../w.bin' }))),
        )
      ).message,
    ).toContain('text_encoder.onnx keeps weights outside the folder, at ../w.bin');
  });

  it('fingerprints every byte that matters, external weights included', async () => {
    const dir = folder((d) => {
      write(d, 'text_encoder.onnx', textTower({ external: 'w.bin' }));
      write(d, 'w.bin', Buffer.alloc(16));
    });
    const fingerprint = async () => (await loadModelFolder(dir)).fingerprint;
    const first = await fingerprint();
    expect(await fingerprint()).toBe(first);
    const seen = new Set([first]);
    const changes: [string, (file: string) => void][] = [
      ['w.bin', (f) => fs.writeFileSync(f, Buffer.alloc(16, 1))],
      ['tokenizer.json', (f) => fs.appendFileSync(f, ' ')],
      ['preprocessor_config.json', (f) => fs.appendFileSync(f, ' ')],
      [
        'manifest.json',
        (f) => fs.writeFileSync(f, JSON.stringify({ ...MANIFEST, logit_scale: 50 })),
      ],
      [
        'image_encoder.onnx',
        (f) =>
          fs.writeFileSync(
            f,
            imageTower({ inputs: [{ name: 'pixel_values', dims: ['n', 3, 224, 224] }] }),
          ),
      ],
    ];
    for (const [file, change] of changes) {
      change(path.join(dir, file));
      const next = await fingerprint();
      expect(seen.has(next), `fingerprint after changing ${file}`).toBe(false);
      seen.add(next);
    }
  });
});
