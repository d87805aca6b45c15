import fs from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { jpegFrame } from '../../electron/core/io/images';
import { resizeBicubic } from '../../electron/core/scoring/pil-resample';
import {
  decodeRgb,
  parseClipImageConfig,
  preprocessBatch,
  preprocessImage,
  type ClipImageConfig,
} from '../../electron/core/scoring/preprocess';
import {
  pillowClipPreprocess,
  pillowDecodeRgb,
  pillowResize,
  pillowVersion,
} from '../helpers/pillow';

const CONFIG_FILE = 'tests/fixtures/clip-tokenizer/preprocessor_config.json';
const pillow = pillowVersion();
const noPillow = 'missing' in pillow ? pillow.missing : undefined;
if (noPillow) console.warn(`preprocess tests against Pillow skipped: ${noPillow}`);
const againstPillow =
  'missing' in pillow ? `(skipped: ${pillow.missing})` : `(Pillow ${pillow.version})`;

const clip: ClipImageConfig = {
  size: 224,
  cropSize: 224,
  mean: [0.48145466, 0.4578275, 0.40821073],
  std: [0.26862954, 0.26130258, 0.27577711],
  rescaleFactor: 1 / 255,
};

type Content = 'noise' | 'gradient' | 'checker';

/**
 * Deterministic pixels: noise and hard edges overshoot the bicubic lobes (clip8 clamps), gradients
 * do not.
 */
function pixels(width: number, height: number, channels: number, content: Content): Uint8Array {
  const out = new Uint8Array(width * height * channels);
  let seed = width * 7919 + height * 104729 + channels;
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++, i++) {
        if (content === 'noise') {
          seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
          out[i] = seed >>> 24;
        } else if (content === 'checker') {
          out[i] = ((x >> 2) + (y >> 2) + c) % 2 ? 255 : 0;
        } else {
          const t = [
            x / Math.max(1, width - 1),
            y / Math.max(1, height - 1),
            ((x + y) / 512) % 1,
            (x * y) / (width * height),
          ][c]!;
          out[i] = Math.round(255 * t);
        }
      }
    }
  }
  return out;
}

function rawImage(width: number, height: number, channels: 1 | 2 | 3 | 4, content: Content) {
  return sharp(pixels(width, height, channels, content), { raw: { width, height, channels } });
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe.skipIf(noPillow)(
  `resizeBicubic equals Pillow's BICUBIC byte for byte ${againstPillow}`,
  () => {
    const cases: [string, number, number, number, number][] = [
      ['downscale square', 512, 512, 224, 224],
      ['downscale 4:3', 1024, 768, 298, 224],
      ['downscale 4:3 odd', 640, 480, 299, 224],
      ['downscale by 6.7', 2000, 1500, 298, 224],
      ['upscale', 100, 80, 280, 224],
      ['upscale square', 50, 50, 224, 224],
      ['odd sizes', 333, 221, 337, 224],
      ['odd sizes down', 333, 221, 97, 61],
      ['1x1', 1, 1, 224, 224],
      ['3 wide', 3, 500, 224, 37333],
      ['3 wide down', 3, 500, 2, 333],
      ['tall strip', 40, 1200, 224, 6720],
      ['wide strip', 1200, 40, 6720, 224],
      ['width only', 300, 224, 224, 224],
      ['height only', 224, 300, 224, 224],
      ['same size', 64, 48, 64, 48],
      ['1 wide, up', 1, 40, 224, 8960],
      ['1 wide, down', 1, 300, 1, 97],
      ['1 tall, down', 300, 1, 224, 1],
      ['1 tall, both ways', 300, 1, 97, 3],
      ['extreme aspect, down', 4000, 20, 2000, 10],
      ['extreme aspect, up', 700, 5, 31360, 224],
      ['wide to 1 x 1', 513, 2, 1, 1],
      // Over the 64 MB a resident kernel instance may grow to: this one gets its own.
      ['own kernel memory', 2, 2, 5000, 5000],
    ];
    for (const [name, width, height, newWidth, newHeight] of cases) {
      for (const content of ['noise', 'gradient'] as const) {
        it(`${name}: ${width}x${height} -> ${newWidth}x${newHeight}, ${content}`, () => {
          const rgb = pixels(width, height, 3, content);
          const ours = resizeBicubic(rgb, width, height, newWidth, newHeight);
          const theirs = pillowResize(rgb, width, height, newWidth, newHeight);
          expect(ours.length).toBe(newWidth * newHeight * 3);
          expect(Buffer.from(ours).equals(theirs)).toBe(true);
        });
      }
    }

    it('hard edges, where the filter overshoots and clip8 clamps', () => {
      for (const [width, height, newWidth, newHeight] of [
        [97, 61, 224, 140],
        [640, 480, 299, 224],
      ] as const) {
        const rgb = pixels(width, height, 3, 'checker');
        const ours = resizeBicubic(rgb, width, height, newWidth, newHeight);
        expect(
          Buffer.from(ours).equals(pillowResize(rgb, width, height, newWidth, newHeight)),
        ).toBe(true);
      }
    });

    it("windows at odd offsets equal the same pixels of Pillow's whole result", () => {
      for (const [width, height, newWidth, newHeight] of [
        [512, 512, 224, 224],
        [301, 200, 337, 224],
        [200, 301, 224, 337],
        [700, 5, 31360, 224],
        [1, 50, 224, 11200],
        [37, 3, 5, 1],
      ] as const) {
        const rgb = pixels(width, height, 3, 'noise');
        const whole = pillowResize(rgb, width, height, newWidth, newHeight);
        const windows = [
          { left: 0, top: 0, width: 1, height: 1 },
          { left: newWidth - 1, top: newHeight - 1, width: 1, height: 1 },
          {
            left: (newWidth - Math.min(newWidth, 224)) >> 1,
            top: (newHeight - Math.min(newHeight, 224)) >> 1,
            width: Math.min(newWidth, 224),
            height: Math.min(newHeight, 224),
          },
          {
            left: Math.floor(newWidth / 3) | 1,
            top: Math.floor(newHeight / 5) | 1,
            width: Math.max(1, Math.floor(newWidth / 2) - 1),
            height: Math.max(1, Math.floor(newHeight / 3) - 1),
          },
        ].filter((w) => w.left + w.width <= newWidth && w.top + w.height <= newHeight);
        for (const window of windows) {
          const part = resizeBicubic(rgb, width, height, newWidth, newHeight, window);
          const expected = Buffer.alloc(window.width * window.height * 3);
          for (let y = 0; y < window.height; y++) {
            const start = ((window.top + y) * newWidth + window.left) * 3;
            whole.subarray(start, start + window.width * 3).forEach((v, i) => {
              expected[y * window.width * 3 + i] = v;
            });
          }
          expect(
            Buffer.from(part).equals(expected),
            JSON.stringify({ width, height, window }),
          ).toBe(true);
        }
      }
    });

    it('a window of the result equals the same pixels of the whole result', () => {
      const [width, height, newWidth, newHeight] = [640, 480, 299, 224];
      const rgb = pixels(width, height, 3, 'noise');
      const whole = pillowResize(rgb, width, height, newWidth, newHeight);
      const window = { left: 37, top: 11, width: 200, height: 150 };
      const part = resizeBicubic(rgb, width, height, newWidth, newHeight, window);
      for (let y = 0; y < window.height; y++) {
        const start = ((window.top + y) * newWidth + window.left) * 3;
        const row = whole.subarray(start, start + window.width * 3);
        expect(
          Buffer.from(part.subarray(y * window.width * 3, (y + 1) * window.width * 3)),
        ).toEqual(row);
      }
    });
  },
);

describe('resizeBicubic arguments', () => {
  it('rejects a buffer of the wrong size and a window outside the result', () => {
    expect(() => resizeBicubic(new Uint8Array(5), 2, 1, 4, 4)).toThrow(/not 2 x 1 RGB/);
    expect(() => resizeBicubic(new Uint8Array(12), 2, 2, 0, 4)).toThrow(/newWidth/);
    expect(() =>
      resizeBicubic(new Uint8Array(12), 2, 2, 4, 4, { left: 2, top: 0, width: 3, height: 1 }),
    ).toThrow(/window/);
  });
});

describe('parseClipImageConfig', () => {
  it("reads the shared fixture's CLIPImageProcessor config", () => {
    const json: unknown = JSON.parse(fs.readFileSync(CONFIG_FILE, 'utf8'));
    expect(parseClipImageConfig(json, CONFIG_FILE)).toEqual({
      size: 224,
      cropSize: 224,
      mean: [0.48145466, 0.4578275, 0.40821073],
      std: [0.26862954, 0.26130258, 0.27577711],
      rescaleFactor: 0.00392156862745098,
    });
  });

  it("fills what an old CLIPFeatureExtractor config leaves out with CLIP's defaults", () => {
    const old = {
      crop_size: 224,
      do_center_crop: true,
      do_normalize: true,
      do_resize: true,
      feature_extractor_type: 'CLIPFeatureExtractor',
      image_mean: [0.48145466, 0.4578275, 0.40821073],
      image_std: [0.26862954, 0.26130258, 0.27577711],
      resample: 3,
      size: 224,
    };
    expect(parseClipImageConfig(old, 'old.json')).toEqual({ ...clip, rescaleFactor: 1 / 255 });
  });

  it('refuses what is not CLIP preprocessing, naming the file', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ do_center_crop: false }, /do_center_crop/],
      [{ resample: 2 }, /resample/],
      [{ do_convert_rgb: false }, /do_convert_rgb/],
      [{ use_square_size: true }, /use_square_size/],
      [{ size: { height: 224, width: 224 } }, /shortest_edge/],
      [{ size: { shortest_edge: 0 } }, /size.shortest_edge/],
      [{ crop_size: { height: 224, width: 200 } }, /not square/],
      [{ image_mean: [0.5, 0.5] }, /image_mean/],
      [{ image_std: [0.5, 0, 0.5] }, /image_std/],
      [{ rescale_factor: '1/255' }, /rescale_factor/],
      [{ image_processor_type: 'SiglipImageProcessor' }, /SiglipImageProcessor/],
    ];
    for (const [json, message] of bad) {
      expect(() => parseClipImageConfig(json, 'models/pick/preprocessor_config.json')).toThrow(
        message,
      );
      expect(() => parseClipImageConfig(json, 'models/pick/preprocessor_config.json')).toThrow(
        /^models\/pick\/preprocessor_config\.json: /,
      );
    }
    expect(() => parseClipImageConfig([], 'x.json')).toThrow(/x\.json: not a JSON object/);
  });
});

describe.skipIf(noPillow)(
  `preprocessImage equals CLIPImageProcessor with Pillow ${againstPillow}`,
  () => {
    // Each case names the mode PIL opens it in, so that a case cannot quietly test something else.
    const pngs: [string, string, () => Promise<Buffer>][] = [
      ['RGB noise, landscape', 'RGB', () => rawImage(640, 480, 3, 'noise').png().toBuffer()],
      ['RGB gradient, square', 'RGB', () => rawImage(512, 512, 3, 'gradient').png().toBuffer()],
      ['RGB, upscaled', 'RGB', () => rawImage(100, 80, 3, 'noise').png().toBuffer()],
      ['RGB, tall strip', 'RGB', () => rawImage(40, 1200, 3, 'gradient').png().toBuffer()],
      ['RGB, 3 wide', 'RGB', () => rawImage(3, 500, 3, 'noise').png().toBuffer()],
      // Noise in the alpha channel: compositing on any background would change every pixel.
      ['RGBA, alpha dropped', 'RGBA', () => rawImage(300, 400, 4, 'noise').png().toBuffer()],
      [
        'greyscale',
        'L',
        () => rawImage(256, 300, 1, 'noise').toColourspace('b-w').png().toBuffer(),
      ],
      [
        'greyscale with alpha',
        'LA',
        () => rawImage(256, 300, 2, 'noise').toColourspace('b-w').png().toBuffer(),
      ],
      ['palette', 'P', () => rawImage(333, 221, 3, 'noise').png({ palette: true }).toBuffer()],
      [
        'palette with transparency',
        'P',
        () => rawImage(333, 221, 4, 'gradient').png({ palette: true, colours: 64 }).toBuffer(),
      ],
      [
        '16-bit RGB',
        'RGB',
        () => rawImage(300, 260, 3, 'gradient').toColourspace('rgb16').png().toBuffer(),
      ],
      // Pillow 9.4 opens it as mode I, whose convert('RGB') clips instead of scaling to 8 bits.
      [
        '16-bit greyscale',
        'I',
        () => rawImage(300, 260, 1, 'gradient').toColourspace('grey16').png().toBuffer(),
      ],
      // PIL ignores embedded profiles; sharp would convert Display P3 to sRGB unless told not to.
      [
        'Display P3 profile',
        'RGB',
        async () => {
          const png = await rawImage(320, 240, 3, 'noise').withIccProfile('p3').png().toBuffer();
          expect((await sharp(png).metadata()).icc?.length).toBeGreaterThan(0);
          return png;
        },
      ],
      // PIL does not turn images by their EXIF orientation, and neither may we.
      [
        'EXIF orientation 6',
        'RGB',
        async () => {
          const png = await rawImage(320, 240, 3, 'gradient')
            .withMetadata({ orientation: 6 })
            .png()
            .toBuffer();
          expect((await sharp(png).metadata()).orientation).toBe(6);
          return png;
        },
      ],
    ];
    for (const [name, mode, make] of pngs) {
      it(`${name} (PNG, PIL mode ${mode})`, async () => {
        const png = await make();
        const theirs = pillowDecodeRgb(png);
        expect(theirs.mode).toBe(mode);
        expect(Buffer.from((await decodeRgb(png)).rgb).equals(theirs.rgb)).toBe(true);
        const ours = await preprocessImage(png, clip);
        expect(ours.length).toBe(3 * 224 * 224);
        expect(maxAbsDiff(ours, pillowClipPreprocess(png, clip))).toBeLessThan(1e-5);
      });
    }

    it('pads with zeros, as center_crop does, when the crop exceeds the image', async () => {
      const config = { ...clip, size: 64, cropSize: 80 };
      for (const [width, height] of [
        [100, 50],
        [50, 51],
        [64, 64],
      ] as const) {
        const png = await rawImage(width, height, 3, 'noise').png().toBuffer();
        const ours = await preprocessImage(png, config);
        expect(ours.length).toBe(3 * 80 * 80);
        expect(maxAbsDiff(ours, pillowClipPreprocess(png, config))).toBeLessThan(1e-5);
      }
    });

    it('odd crop offsets, 1-pixel sides and extreme aspect ratios', async () => {
      for (const [width, height] of [
        [301, 200],
        [200, 301],
        [1, 1],
        [1, 50],
        [50, 1],
        [700, 5],
        [225, 224],
      ] as const) {
        const png = await rawImage(width, height, 3, 'noise').png().toBuffer();
        expect(
          maxAbsDiff(await preprocessImage(png, clip), pillowClipPreprocess(png, clip)),
          `${width} x ${height}`,
        ).toBeLessThan(1e-5);
      }
    });

    it('crops less than the resized image when the crop is smaller', async () => {
      const config = { ...clip, size: 80, cropSize: 64 };
      const png = await rawImage(123, 77, 3, 'noise').png().toBuffer();
      expect(
        maxAbsDiff(await preprocessImage(png, config), pillowClipPreprocess(png, config)),
      ).toBeLessThan(1e-5);
    });

    it('JPEG: how far sharp and Pillow decode apart (libjpeg builds may differ)', async () => {
      const photo = await rawImage(640, 480, 3, 'gradient')
        .composite([
          { input: await rawImage(160, 120, 3, 'noise').png().toBuffer(), left: 200, top: 100 },
        ])
        .jpeg({ quality: 90 })
        .toBuffer();
      for (const [name, mode, jpeg] of [
        ['4:2:0', 'RGB', photo],
        [
          '4:4:4',
          'RGB',
          await sharp(photo).jpeg({ quality: 90, chromaSubsampling: '4:4:4' }).toBuffer(),
        ],
        [
          'progressive',
          'RGB',
          await sharp(photo).jpeg({ quality: 75, progressive: true }).toBuffer(),
        ],
        ['CMYK', 'CMYK', await sharp(photo).toColourspace('cmyk').jpeg({ quality: 90 }).toBuffer()],
        [
          'greyscale',
          'L',
          await sharp(photo).toColourspace('b-w').jpeg({ quality: 90 }).toBuffer(),
        ],
      ] as const) {
        const theirs = pillowDecodeRgb(jpeg);
        expect(theirs.mode).toBe(mode);
        const pixelDiff = maxAbsDiff((await decodeRgb(jpeg)).rgb, theirs.rgb);
        const valueDiff = maxAbsDiff(
          await preprocessImage(jpeg, clip),
          pillowClipPreprocess(jpeg, clip),
        );
        console.log(
          `JPEG ${name}: max decoded pixel difference ${pixelDiff} levels, ` +
            `max pixel_values difference ${valueDiff.toExponential(2)}`,
        );
        // Not equality: decoders may drift by a level or two. A wrong conversion (CMYK through a
        // colour profile instead of PIL's arithmetic) is off by more than 1.
        expect(valueDiff).toBeLessThan(0.1);
      }
    });
  },
);

describe('jpegFrame: the size decodeRgb reads from a JPEG without asking the decoder', () => {
  it('agrees with the decoder on size and colour components, whatever the encoding', async () => {
    const photo = rawImage(301, 207, 3, 'noise');
    const jpegs = await Promise.all([
      photo.clone().jpeg().toBuffer(),
      photo.clone().jpeg({ progressive: true }).toBuffer(),
      photo.clone().toColourspace('b-w').jpeg().toBuffer(),
      photo.clone().toColourspace('cmyk').jpeg().toBuffer(),
      // EXIF and an ICC profile before the frame header.
      photo.clone().withMetadata({ orientation: 6 }).withIccProfile('p3').jpeg().toBuffer(),
    ]);
    for (const jpeg of jpegs) {
      const { width, height, channels } = await sharp(jpeg).metadata();
      expect(jpegFrame(jpeg)).toEqual({ width, height, components: channels });
    }
    expect(jpegFrame(jpegs[3]!)?.components).toBe(4);
    // Fill bytes before a marker, which the standard allows and decoders skip.
    const frameAt = jpegs[0]!.indexOf(Buffer.from([0xff, 0xc0]));
    const filled = Buffer.concat([
      jpegs[0]!.subarray(0, frameAt),
      Buffer.from([0xff, 0xff, 0xff]),
      jpegs[0]!.subarray(frameAt),
    ]);
    const { width, height } = await sharp(filled).metadata();
    expect(jpegFrame(filled)).toEqual({ width, height, components: 3 });
  });

  it('gives up, leaving the decoder to say why, on what it cannot read', async () => {
    const jpeg = await rawImage(64, 48, 3, 'noise').jpeg().toBuffer();
    const frameAt = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
    expect(frameAt).toBeGreaterThan(0);
    for (const bytes of [
      await rawImage(64, 48, 3, 'noise').png().toBuffer(),
      jpeg.subarray(0, frameAt + 6), // cut inside the frame header
      jpeg.subarray(0, 2),
      new Uint8Array(0),
    ]) {
      expect(jpegFrame(bytes)).toBeNull();
    }
    // A height of 0: the real one comes after the first scan (DNL), which only the decoder reads.
    const noHeight = Buffer.from(jpeg);
    noHeight.writeUInt16BE(0, frameAt + 5);
    expect(jpegFrame(noHeight)).toBeNull();
  });
});

describe('preprocessBatch', () => {
  it('lays images out as [B, 3, crop, crop], in order', async () => {
    const images = await Promise.all([
      rawImage(640, 480, 3, 'noise').png().toBuffer(),
      rawImage(300, 400, 4, 'gradient').png().toBuffer(),
      rawImage(50, 50, 1, 'noise').toColourspace('b-w').png().toBuffer(),
    ]);
    const batch = await preprocessBatch(images, clip, { concurrency: 2 });
    expect(batch.length).toBe(3 * 3 * 224 * 224);
    for (const [i, image] of images.entries()) {
      const size = 3 * 224 * 224;
      expect(batch.subarray(i * size, (i + 1) * size)).toEqual(await preprocessImage(image, clip));
    }
  });

  it('names the image it cannot decode', async () => {
    const good = await rawImage(32, 32, 3, 'noise').png().toBuffer();
    await expect(preprocessBatch([good, new Uint8Array([1, 2, 3])], clip)).rejects.toThrow(
      /^image 1: cannot decode image/,
    );
  });
});
