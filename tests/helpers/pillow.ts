import { spawnSync } from 'node:child_process';

/**
 * Debian's Pillow (python3-pil, 9.4 on bookworm) as the reference for the scorer's preprocessing.
 * Scripts get arguments through argv and bytes through stdin, and answer raw bytes on stdout.
 */
const PYTHON = '/usr/bin/python3';

function python(script: string, args: string[], input: Uint8Array): Buffer {
  const result = spawnSync(PYTHON, ['-W', 'ignore', '-c', script, ...args], {
    input,
    maxBuffer: 1 << 30,
  });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${PYTHON} failed (${result.status}): ${result.stderr.toString()}`);
  }
  return result.stdout;
}

/** Pillow's version, or why it cannot be used: tests skip with this reason. */
export function pillowVersion(): { version: string } | { missing: string } {
  const result = spawnSync(PYTHON, ['-c', 'import PIL; print(PIL.__version__)'], {
    encoding: 'utf8',
  });
  if (result.error) return { missing: `${PYTHON} cannot run (${result.error.message})` };
  if (result.status !== 0) {
    return { missing: `${PYTHON} has no PIL (apt-get install python3-pil): ${result.stderr}` };
  }
  return { version: result.stdout.trim() };
}

/** `Image.frombytes('RGB', ...).resize((newWidth, newHeight), Image.BICUBIC)`'s bytes. */
export function pillowResize(
  rgb: Uint8Array,
  width: number,
  height: number,
  newWidth: number,
  newHeight: number,
): Uint8Array {
  const script = `
import sys
from PIL import Image
w, h, nw, nh = map(int, sys.argv[1:5])
im = Image.frombytes('RGB', (w, h), sys.stdin.buffer.read())
sys.stdout.buffer.write(im.resize((nw, nh), Image.BICUBIC).tobytes())
`;
  return python(script, [width, height, newWidth, newHeight].map(String), rgb);
}

/** An encoded image as PIL opens it and `convert('RGB')` leaves it. */
export function pillowDecodeRgb(bytes: Uint8Array): {
  mode: string;
  width: number;
  height: number;
  rgb: Uint8Array;
} {
  const script = `
import io, sys
from PIL import Image
im = Image.open(io.BytesIO(sys.stdin.buffer.read()))
sys.stdout.buffer.write(('%s %d %d\\n' % (im.mode, im.width, im.height)).encode())
sys.stdout.buffer.write(im.convert('RGB').tobytes())
`;
  const out = python(script, [], bytes);
  const newline = out.indexOf(10);
  const [mode, width, height] = out.subarray(0, newline).toString().split(' ');
  return {
    mode: mode!,
    width: Number(width),
    height: Number(height),
    rgb: out.subarray(newline + 1),
  };
}

export interface PillowClipConfig {
  size: number;
  cropSize: number;
  mean: number[];
  std: number[];
  rescaleFactor: number;
}

/**
 * CLIPImageProcessor.preprocess's steps for one image, written after transformers'
 * image_transforms (convert_to_rgb, get_resize_output_image_size with default_to_square=False,
 * resize through PIL, center_crop with its zero padding, rescale, normalize), in plain Python:
 * numpy is not assumed, so float32 arithmetic is done by rounding each double result to float32,
 * which equals numpy's float32 operation. Returns float32 CHW.
 */
export function pillowClipPreprocess(bytes: Uint8Array, config: PillowClipConfig): Float32Array {
  const script = `
import io, json, math, sys
from array import array
from PIL import Image

cfg = json.loads(sys.argv[1])
def f32(x):
    return array('f', [x])[0]

image = Image.open(io.BytesIO(sys.stdin.buffer.read()))
if image.mode != 'RGB':
    image = image.convert('RGB')

# get_resize_output_image_size(default_to_square=False)
width, height = image.size
short, long = (width, height) if width <= height else (height, width)
new_short, new_long = cfg['size'], int(cfg['size'] * long / short)
out_h, out_w = (new_long, new_short) if width <= height else (new_short, new_long)
image = image.resize((out_w, out_h), resample=Image.BICUBIC)
pixels = image.tobytes()

# center_crop, padding with zeros when the image is smaller than the crop
crop = cfg['cropSize']
top = (out_h - crop) // 2
left = (out_w - crop) // 2
new_h, new_w = max(crop, out_h), max(crop, out_w)
top_pad = math.ceil((new_h - out_h) / 2)
left_pad = math.ceil((new_w - out_w) / 2)
def padded(y, x, c):
    y -= top_pad
    x -= left_pad
    if 0 <= y < out_h and 0 <= x < out_w:
        return pixels[(y * out_w + x) * 3 + c]
    return 0
top += top_pad
left += left_pad

# rescale: float64 multiply, then astype(float32); normalize: float32 subtract and divide
mean = [f32(m) for m in cfg['mean']]
std = [f32(s) for s in cfg['std']]
out = array('f')
for c in range(3):
    for y in range(top, top + crop):
        for x in range(left, left + crop):
            v = f32(padded(y, x, c) * cfg['rescaleFactor'])
            out.append(f32(f32(v - mean[c]) / std[c]))
sys.stdout.buffer.write(out.tobytes())
`;
  const out = python(script, [JSON.stringify(config)], bytes);
  return new Float32Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.length));
}
