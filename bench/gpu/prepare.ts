/**
 * Inputs for the GPU machine's parity check (bench/gpu/run.sh), made here by the studio's own
 * tokenizer and preprocessing: images of the kinds users bring (JPEG, PNG with alpha, grey,
 * palette, extreme aspect ratios, up- and downscales), token ids and pixel_values for each.
 *
 *   node --import tsx bench/gpu/prepare.ts OUT_DIR
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { mulberry32 } from '../../electron/core/demo/scenes';
import { parseClipImageConfig, preprocessImage } from '../../electron/core/scoring/preprocess';
import { loadClipTokenizer } from '../../electron/core/scoring/tokenizer';

const out = process.argv[2];
if (!out) throw new Error('usage: prepare.ts OUT_DIR');
const FIXTURES = 'tests/fixtures/clip-tokenizer';
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });

/** A smooth scene with noise: enough structure that resampling errors show in the embedding. */
function scene(width: number, height: number, channels: 3 | 4, seed: number): Buffer {
  const next = mulberry32(seed);
  const [a, b, c] = [next() * 6, next() * 6, next() * 6];
  const raw = Buffer.alloc(width * height * channels);
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = x / width;
      const v = y / height;
      const base = [
        128 + 100 * Math.sin(a * u + b * v),
        128 + 100 * Math.sin(b * u * v * 3 + c),
        128 + 100 * Math.cos(c * v - a * u),
        255 * u,
      ];
      for (let k = 0; k < channels; k++, i++) {
        raw[i] = Math.max(0, Math.min(255, Math.round(base[k]! + (next() - 0.5) * 40)));
      }
    }
  }
  return raw;
}

const raw = (w: number, h: number, ch: 3 | 4, seed: number) =>
  sharp(scene(w, h, ch, seed), { raw: { width: w, height: h, channels: ch } });

const images: Record<string, Promise<Buffer>> = {
  'photo-640x480.jpg': raw(640, 480, 3, 1).jpeg({ quality: 90 }).toBuffer(),
  'square-1024.jpg': raw(1024, 1024, 3, 2).jpeg({ quality: 85 }).toBuffer(),
  'rgba-333x221.png': raw(333, 221, 4, 3).png().toBuffer(),
  'grey-300x500.png': raw(300, 500, 3, 4).greyscale().png().toBuffer(),
  'wide-1024x300.png': raw(1024, 300, 3, 5).png().toBuffer(),
  'tall-200x900.jpg': raw(200, 900, 3, 6).jpeg({ quality: 80 }).toBuffer(),
  'small-100x80.png': raw(100, 80, 3, 7).png().toBuffer(),
  'palette-256.png': raw(256, 256, 3, 8).png({ palette: true, colours: 64 }).toBuffer(),
  'sdxl-768.jpg': raw(768, 768, 3, 9).jpeg({ quality: 95 }).toBuffer(),
  'odd-513x287.webp': raw(513, 287, 3, 10).webp({ quality: 90 }).toBuffer(),
};
const prompts = [
  'a photo of a cat',
  'an astronaut riding a horse on the moon, oil painting by van gogh, trending on artstation',
  'café crème brûlée, 8k, studio lighting',
  '東京の夜景 neon city at night',
  'a 🦊 in the snow 🌨️',
  'Two   red    cubes\tand a blue sphere',
  Array.from({ length: 90 }, (_, i) => `word${i}`).join(' '),
  'a medieval castle on a hill at sunset, highly detailed, cinematic',
  'portrait of an old fisherman, watercolor',
  'HEXAGONS, STARS AND HEARTS!!!',
];

const config = parseClipImageConfig(
  JSON.parse(fs.readFileSync(path.join(FIXTURES, 'preprocessor_config.json'), 'utf8')),
  'preprocessor_config.json',
);
const tokenizer = await loadClipTokenizer(path.join(FIXTURES, 'tokenizer.json'));
const names = Object.keys(images);
const pixels: Record<string, string> = {};
for (const name of names) {
  const bytes = await images[name]!;
  fs.writeFileSync(path.join(out, name), bytes);
  const values = await preprocessImage(bytes, config);
  fs.writeFileSync(path.join(out, `${name}.f32`), values);
  pixels[name] = `${name}.f32`;
}
const tokens = tokenizer.encode(prompts);
const cases = prompts.map((prompt, i) => ({
  prompt,
  inputIds: Array.from(tokens.inputIds.subarray(i * 77, (i + 1) * 77), Number),
  attentionMask: Array.from(tokens.attentionMask.subarray(i * 77, (i + 1) * 77), Number),
  images: [names[i % names.length]!, names[(i + 3) % names.length]!],
}));
fs.writeFileSync(path.join(out, 'inputs.json'), JSON.stringify({ cases, pixels }));
console.log(`${out}: ${names.length} images, ${cases.length} cases`);
