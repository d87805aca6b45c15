import fs from 'node:fs';
import path from 'node:path';
import { mulberry32 } from '../../electron/core/demo/scenes';
import { GraphBuilder } from '../../electron/core/scoring/demo-model/onnx-writer';

export const TINY = { vocab: 49408, dim: 8, pool: 32, grid: 7 } as const;

export interface TinyWeights {
  /** [vocab, dim]: token embeddings, summed over the prompt's real tokens. */
  table: Float32Array;
  /** [dim, dim]: text projection. */
  textProjection: Float32Array;
  /** [3 * 7 * 7, dim]: projection of the image's 32 x 32 block means. */
  imageProjection: Float32Array;
  logitScale: number;
}

/**
 * A tiny dual encoder with random weights in the model-folder format: the text tower sums token
 * embeddings under the attention mask and projects them; the image tower averages 32 x 32
 * blocks of the normalised pixels and projects those. Small enough that a test can compute the
 * same embeddings itself.
 */
export function writeTinyModel(dir: string, seed: number): TinyWeights {
  const next = mulberry32(seed);
  const normal = (n: number) => Float32Array.from({ length: n }, () => next() * 2 - 1);
  const { vocab, dim, pool, grid } = TINY;
  const weights: TinyWeights = {
    table: normal(vocab * dim),
    textProjection: normal(dim * dim),
    imageProjection: normal(3 * grid * grid * dim),
    logitScale: 100,
  };

  const text = new GraphBuilder();
  const gathered = text.op('Gather', [
    text.floats([vocab, dim], weights.table, 'table'),
    'input_ids',
  ]);
  const mask = text.op('Unsqueeze', [
    text.op('Cast', ['attention_mask'], { to: { int: 1 } }),
    text.int64s([2]),
  ]);
  const summed = text.op('ReduceSum', [text.op('Mul', [gathered, mask]), text.int64s([1])], {
    keepdims: { int: 0 },
  });
  text.op('MatMul', [summed, text.floats([dim, dim], weights.textProjection)], {}, 'text_embeds');

  const image = new GraphBuilder();
  const pooled = image.op('AveragePool', ['pixel_values'], {
    kernel_shape: { ints: [pool, pool] },
    strides: { ints: [pool, pool] },
  });
  const flat = image.op('Flatten', [pooled], { axis: { int: 1 } });
  image.op(
    'MatMul',
    [flat, image.floats([3 * grid * grid, dim], weights.imageProjection)],
    {},
    'image_embeds',
  );

  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'text_encoder.onnx'),
    text.encode({
      name: 'tiny-text',
      doc: 'random weights, for tests',
      inputs: [
        { name: 'input_ids', type: 'int64', shape: ['batch', 77] },
        { name: 'attention_mask', type: 'int64', shape: ['batch', 77] },
      ],
      outputs: [{ name: 'text_embeds', type: 'float', shape: ['batch', dim] }],
    }),
  );
  fs.writeFileSync(
    path.join(dir, 'image_encoder.onnx'),
    image.encode({
      name: 'tiny-image',
      doc: 'random weights, for tests',
      inputs: [{ name: 'pixel_values', type: 'float', shape: ['batch', 3, 224, 224] }],
      outputs: [{ name: 'image_embeds', type: 'float', shape: ['batch', dim] }],
    }),
  );
  for (const file of ['tokenizer.json', 'preprocessor_config.json']) {
    fs.copyFileSync(path.resolve('tests/fixtures/clip-tokenizer', file), path.join(dir, file));
  }
  fs.writeFileSync(
    path.join(dir, 'manifest.json'),
    JSON.stringify({
      format: 'pickstudio-dual-encoder/1',
      name: `tiny-random-${seed}`,
      logit_scale: weights.logitScale,
      embed_dim: dim,
      max_text_len: 77,
      source: 'random weights written by tests/helpers/tiny-model.ts',
    }),
  );
  return weights;
}
