/**
 * The model folder (DESIGN.md, "PickScore model directory"): checks that a folder holds a dual
 * encoder the scorer can run, without starting it, and fingerprints it for the embedding cache.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { StudioError } from '../../../shared/errors';
import { jsonSyntaxReason } from '../io/parse-errors';
import { parseClipImageConfig } from './preprocess';

export const MODEL_FORMAT = 'pickstudio-dual-encoder/1';
export const MAX_TEXT_LEN = 77;

export interface ModelManifest {
  format: typeof MODEL_FORMAT;
  name: string;
  /** Already exponentiated: scores are logit_scale * cosine. */
  logit_scale: number;
  embed_dim: number;
  max_text_len: typeof MAX_TEXT_LEN;
  source: string;
}

export interface ModelFolder {
  /** Absolute. */
  dir: string;
  manifest: ModelManifest;
  paths: {
    manifest: string;
    textEncoder: string;
    imageEncoder: string;
    tokenizer: string;
    preprocessorConfig: string;
  };
  /** sha256 (hex) over the manifest's bytes and the sha256 of every other file, external ONNX
   * weights included: any change to what the model computes gives a new fingerprint. */
  fingerprint: string;
}

const FILES = {
  manifest: 'manifest.json',
  textEncoder: 'text_encoder.onnx',
  imageEncoder: 'image_encoder.onnx',
  tokenizer: 'tokenizer.json',
  preprocessorConfig: 'preprocessor_config.json',
} as const;

/** A reason a folder is not a model; loadModelFolder gathers them into one error. */
class Problem extends Error {}

// ---------------------------------------------------------------------------------------------
// Reading an ONNX file's signature. A ModelProto is protobuf; the graph's inputs and outputs are
// read in place, stepping over nodes and weights, so a multi-GB tower costs a few small reads.

// TensorProto.DataType, from onnx.proto.
const ELEM_NAMES: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  16: 'bfloat16',
};
const FLOAT32 = 1;
const INT64 = 7;

/** A dimension: its fixed size, its symbolic name, or null when the file leaves it blank. */
type Dim = number | string | null;

interface ValueSignature {
  name: string;
  /** Undefined for a value that is not a tensor (a sequence, a map). */
  elemType?: number;
  /** Undefined when the file gives no shape. */
  dims?: Dim[];
}

interface OnnxSignature {
  inputs: ValueSignature[];
  outputs: ValueSignature[];
  /** Files that hold weights outside the ONNX file, as the file names them. */
  externalData: string[];
}

class NotProtobuf extends Error {}

class FileSource {
  private window = Buffer.alloc(0);
  private windowStart = 0;

  constructor(
    private readonly file: fs.FileHandle,
    readonly size: number,
  ) {}

  async bytes(pos: number, length: number): Promise<Buffer> {
    const offset = pos - this.windowStart;
    if (offset >= 0 && offset + length <= this.window.length) {
      return this.window.subarray(offset, offset + length);
    }
    if (pos + length > this.size) throw new NotProtobuf('a field runs past the end of the file');
    const buffer = Buffer.alloc(Math.min(Math.max(length, 1 << 16), this.size - pos));
    const { bytesRead } = await this.file.read(buffer, 0, buffer.length, pos);
    if (bytesRead < length) throw new NotProtobuf('the file changed while being read');
    this.window = buffer.subarray(0, bytesRead);
    this.windowStart = pos;
    return this.window.subarray(0, length);
  }

  async varint(pos: number, end: number): Promise<{ value: bigint; next: number }> {
    const bytes = await this.bytes(pos, Math.min(10, end - pos));
    let value = 0n;
    for (let i = 0; i < bytes.length; i++) {
      value |= BigInt(bytes[i]! & 0x7f) << BigInt(7 * i);
      if (bytes[i]! < 0x80) return { value, next: pos + i + 1 };
    }
    throw new NotProtobuf('a varint does not end');
  }
}

interface Field {
  number: number;
  /** A varint field's value. */
  value: bigint;
  /** A length-delimited field's payload. */
  start: number;
  end: number;
}

/** Calls `visit` on each field of the message in [start, end). */
async function eachField(
  src: FileSource,
  start: number,
  end: number,
  visit: (field: Field) => Promise<void> | void,
): Promise<void> {
  let pos = start;
  while (pos < end) {
    const tag = await src.varint(pos, end);
    const number = Number(tag.value >> 3n);
    const wire = Number(tag.value & 7n);
    pos = tag.next;
    if (number === 0) throw new NotProtobuf('field number 0');
    if (wire === 0) {
      const v = await src.varint(pos, end);
      pos = v.next;
      await visit({ number, value: v.value, start: pos, end: pos });
    } else if (wire === 2) {
      const length = await src.varint(pos, end);
      const payloadEnd = length.next + Number(length.value);
      if (payloadEnd > end) throw new NotProtobuf('a field runs past its message');
      await visit({ number, value: 0n, start: length.next, end: payloadEnd });
      pos = payloadEnd;
    } else if (wire === 1 || wire === 5) {
      pos += wire === 1 ? 8 : 4;
    } else {
      throw new NotProtobuf(`wire type ${wire}`);
    }
  }
  if (pos !== end) throw new NotProtobuf('a field runs past its message');
}

async function text(src: FileSource, field: Field): Promise<string> {
  return (await src.bytes(field.start, field.end - field.start)).toString('utf8');
}

/** int64 varints of negative values are 64-bit two's complement. */
const int64 = (v: bigint) => Number(BigInt.asIntN(64, v));

async function readValueInfo(src: FileSource, at: Field): Promise<ValueSignature> {
  const info: ValueSignature = { name: '' };
  // ValueInfoProto { 1: name, 2: TypeProto { 1: Tensor { 1: elem_type, 2: shape { 1: dim } } } }
  await eachField(src, at.start, at.end, async (f) => {
    if (f.number === 1) info.name = await text(src, f);
    if (f.number !== 2) return;
    await eachField(src, f.start, f.end, async (type) => {
      if (type.number !== 1) return;
      info.elemType = 0;
      await eachField(src, type.start, type.end, async (tensor) => {
        if (tensor.number === 1) info.elemType = Number(tensor.value);
        if (tensor.number !== 2) return;
        const dims: Dim[] = [];
        await eachField(src, tensor.start, tensor.end, async (dim) => {
          if (dim.number !== 1) return;
          let d: Dim = null;
          await eachField(src, dim.start, dim.end, async (v) => {
            if (v.number === 1) d = int64(v.value);
            if (v.number === 2) d = await text(src, v);
          });
          dims.push(d);
        });
        info.dims = dims;
      });
    });
  });
  return info;
}

async function readOnnxSignature(file: string): Promise<OnnxSignature> {
  const handle = await fs.open(file, 'r');
  try {
    const src = new FileSource(handle, (await handle.stat()).size);
    const inputs: ValueSignature[] = [];
    const outputs: ValueSignature[] = [];
    const initializers = new Set<string>();
    const externalData = new Set<string>();
    let graphs = 0;
    // ModelProto { 7: GraphProto { 5: initializer, 11: input, 12: output } }
    await eachField(src, 0, src.size, async (model) => {
      if (model.number !== 7) return;
      graphs += 1;
      await eachField(src, model.start, model.end, async (g) => {
        if (g.number === 11) inputs.push(await readValueInfo(src, g));
        if (g.number === 12) outputs.push(await readValueInfo(src, g));
        if (g.number !== 5) return;
        // TensorProto { 8: name, 13: external_data { 1: key, 2: value } }
        await eachField(src, g.start, g.end, async (t) => {
          if (t.number === 8) initializers.add(await text(src, t));
          if (t.number !== 13) return;
          const entry: Record<string, string> = {};
          await eachField(src, t.start, t.end, async (e) => {
            if (e.number === 1) entry.key = await text(src, e);
            if (e.number === 2) entry.value = await text(src, e);
          });
          if (entry.key === 'location' && entry.value) externalData.add(entry.value);
        });
      });
    });
    if (graphs !== 1) throw new NotProtobuf('no graph');
    return {
      // Before IR version 4 every weight was also listed as a graph input; those are not inputs.
      inputs: inputs.filter((i) => !initializers.has(i.name)),
      outputs,
      externalData: [...externalData],
    };
  } finally {
    await handle.close();
  }
}

// ---------------------------------------------------------------------------------------------

/** What the scorer feeds or reads: a name, an element type, and dims ('batch' is dynamic). */
interface Expected {
  name: string;
  elemType: number;
  dims: (number | 'batch')[];
  /** Where the expected sizes come from, when another file sets them. */
  sizesFrom?: string;
}

function describeDims(dims: Dim[] | undefined): string {
  return dims ? `[${dims.map((d) => (d === null ? '?' : d)).join(', ')}]` : 'no shape';
}

function checkValue(
  file: string,
  role: 'input' | 'output',
  actual: ValueSignature,
  expected: Expected,
): string[] {
  const at = `${file} ${role} ${expected.name}`;
  const want = `[${expected.dims.map((d) => (d === 'batch' ? 'B' : d)).join(', ')}]`;
  if (actual.elemType === undefined) return [`${at} is not a tensor`];
  const problems: string[] = [];
  if (actual.elemType !== expected.elemType) {
    const name = ELEM_NAMES[actual.elemType] ?? `type ${actual.elemType}`;
    problems.push(`${at} is ${name}, not ${ELEM_NAMES[expected.elemType]}`);
  }
  const dims = actual.dims;
  const fixedBatch = dims?.[0];
  if (dims && typeof fixedBatch === 'number') {
    problems.push(
      `${at} has a fixed batch of ${fixedBatch}; the scorer needs a dynamic batch axis`,
    );
  }
  const fits =
    dims?.length === expected.dims.length &&
    expected.dims.every((e, i) => {
      const d = dims[i];
      // A symbolic input dimension takes the size the scorer feeds; an output's must be known.
      return e === 'batch' || d === e || (role === 'input' && typeof d === 'string');
    });
  if (!fits) {
    const from = expected.sizesFrom ? ` (${expected.sizesFrom})` : '';
    problems.push(`${at} has shape ${describeDims(dims)}, not ${want}${from}`);
  }
  return problems;
}

async function checkTower(
  dir: string,
  file: string,
  inputs: Expected[],
  outputs: Expected[],
): Promise<OnnxSignature> {
  let signature: OnnxSignature;
  try {
    signature = await readOnnxSignature(path.join(dir, file));
  } catch (error) {
    if (!(error instanceof NotProtobuf)) throw error;
    throw new Problem(`${file} is not an ONNX model (${error.message})`);
  }
  const problems: string[] = [];
  const compare = (role: 'input' | 'output', actual: ValueSignature[], expected: Expected[]) => {
    const names = actual.map((v) => v.name);
    const wanted = expected.map((e) => e.name);
    if (names.length !== wanted.length || !wanted.every((n) => names.includes(n))) {
      problems.push(`${file} has ${role}s [${names.join(', ')}], not [${wanted.join(', ')}]`);
    }
    for (const e of expected) {
      const v = actual.find((a) => a.name === e.name);
      if (v) problems.push(...checkValue(file, role, v, e));
    }
  };
  compare('input', signature.inputs, inputs);
  compare('output', signature.outputs, outputs);
  for (const location of signature.externalData) {
    const resolved = path.resolve(dir, location);
    const inside = path.relative(dir, resolved);
    if (path.isAbsolute(location) || inside === '..' || inside.startsWith(`..${path.sep}`)) {
      problems.push(`${file} keeps weights outside the folder, at ${location}`);
    } else if (!(await isFile(resolved))) {
      problems.push(`${file} keeps weights in ${location}, which is missing`);
    }
  }
  if (problems.length > 0) throw new Problem(problems.join('; '));
  return signature;
}

function checkManifest(json: unknown): ModelManifest {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Problem(`${FILES.manifest} is not a JSON object`);
  }
  const m = json as Record<string, unknown>;
  if (m.format !== MODEL_FORMAT) {
    throw new Problem(
      m.format === undefined
        ? `${FILES.manifest} has no "format"; expected "${MODEL_FORMAT}"`
        : `${FILES.manifest} has format ${JSON.stringify(m.format)}; this version reads "${MODEL_FORMAT}"`,
    );
  }
  const problems: string[] = [];
  const field = (key: string, ok: (v: unknown) => boolean, what: string) => {
    if (!(key in m)) problems.push(`${FILES.manifest} lacks "${key}" (${what})`);
    else if (!ok(m[key])) {
      problems.push(`${FILES.manifest} "${key}" is ${JSON.stringify(m[key])}, not ${what}`);
    }
  };
  const isText = (v: unknown) => typeof v === 'string' && v.trim() !== '';
  field('name', isText, 'a non-empty string');
  field(
    'logit_scale',
    (v) => typeof v === 'number' && Number.isFinite(v) && v > 0,
    'a positive number',
  );
  field(
    'embed_dim',
    (v) => typeof v === 'number' && Number.isInteger(v) && v > 0,
    'a positive integer',
  );
  field('max_text_len', (v) => v === MAX_TEXT_LEN, `${MAX_TEXT_LEN}`);
  field('source', (v) => typeof v === 'string', 'a string');
  if (problems.length > 0) throw new Problem(problems.join('; '));
  return m as unknown as ModelManifest;
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await fs.stat(file)).isFile();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function folderError(root: string, code: 'not_found' | 'bad_input', why: string): StudioError {
  return new StudioError(code, `model folder ${root}: ${why}`);
}

/** Throws unless `root` is an existing folder holding all five files; returns their paths. */
async function folderPaths(root: string): Promise<ModelFolder['paths']> {
  let stat;
  try {
    stat = await fs.stat(root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw folderError(root, 'not_found', 'not found');
    }
    throw error;
  }
  if (!stat.isDirectory()) throw folderError(root, 'bad_input', 'not a folder');

  const paths = {
    manifest: path.join(root, FILES.manifest),
    textEncoder: path.join(root, FILES.textEncoder),
    imageEncoder: path.join(root, FILES.imageEncoder),
    tokenizer: path.join(root, FILES.tokenizer),
    preprocessorConfig: path.join(root, FILES.preprocessorConfig),
  };
  const present = await Promise.all(Object.values(paths).map(isFile));
  const missing = Object.values(FILES).filter((_, i) => !present[i]);
  if (missing.length > 0) throw folderError(root, 'bad_input', `missing ${missing.join(', ')}`);
  return paths;
}

/** The manifest's bytes (for the fingerprint) and its checked content. */
async function readManifest(file: string): Promise<{ bytes: Buffer; manifest: ModelManifest }> {
  const bytes = await fs.readFile(file);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new Problem(`${FILES.manifest} is ${jsonSyntaxReason(error)}`);
  }
  return { bytes, manifest: checkManifest(json) };
}

/** The crop size of the preprocessor config, which must be CLIP's. */
async function readCropSize(file: string): Promise<number> {
  let json: unknown;
  try {
    json = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw new Problem((error as Error).message);
    throw new Problem(`${FILES.preprocessorConfig} is ${jsonSyntaxReason(error)}`);
  }
  try {
    return parseClipImageConfig(json, FILES.preprocessorConfig).cropSize;
  } catch (error) {
    throw new Problem((error as Error).message);
  }
}

/**
 * Checks both towers against the manifest's embed_dim and the preprocessor's crop, and returns
 * the external weight files they name. Both towers' problems are reported at once, so that one
 * round of fixing is enough.
 */
async function checkTowers(root: string, embedDim: number, crop: number): Promise<Set<string>> {
  const batch = 'batch' as const;
  const sizesFrom = `${FILES.manifest} embed_dim is ${embedDim}`;
  const towers = await Promise.allSettled([
    checkTower(
      root,
      FILES.textEncoder,
      [
        { name: 'input_ids', elemType: INT64, dims: [batch, MAX_TEXT_LEN] },
        { name: 'attention_mask', elemType: INT64, dims: [batch, MAX_TEXT_LEN] },
      ],
      [{ name: 'text_embeds', elemType: FLOAT32, dims: [batch, embedDim], sizesFrom }],
    ),
    checkTower(
      root,
      FILES.imageEncoder,
      [
        {
          name: 'pixel_values',
          elemType: FLOAT32,
          dims: [batch, 3, crop, crop],
          sizesFrom: `${FILES.preprocessorConfig} crops to ${crop}`,
        },
      ],
      [{ name: 'image_embeds', elemType: FLOAT32, dims: [batch, embedDim], sizesFrom }],
    ),
  ]);
  const problems: string[] = [];
  const externalData = new Set<string>();
  for (const tower of towers) {
    if (tower.status === 'fulfilled') {
      for (const file of tower.value.externalData) externalData.add(file);
    } else if (tower.reason instanceof Problem) {
      problems.push(tower.reason.message);
    } else {
      throw tower.reason;
    }
  }
  if (problems.length > 0) throw new Problem(problems.join('; '));
  return externalData;
}

/** ModelFolder.fingerprint: the manifest's bytes, then each other file's name and sha256. */
async function fingerprintFolder(
  root: string,
  manifestBytes: Buffer,
  externalData: Set<string>,
): Promise<string> {
  const others = [
    FILES.textEncoder,
    FILES.imageEncoder,
    FILES.tokenizer,
    FILES.preprocessorConfig,
    ...[...externalData].sort(),
  ];
  const digests = await Promise.all(others.map((f) => sha256File(path.join(root, f))));
  const hash = createHash('sha256').update(manifestBytes);
  others.forEach((f, i) => hash.update(`\n${f}\0${digests[i]}`));
  return hash.digest('hex');
}

/**
 * Reads and checks a model folder: all five files present, the manifest of this format with
 * every field, the preprocessor config CLIP's, each tower's inputs and outputs by name, element
 * type and shape, the embedding width equal to embed_dim, and the image size equal to the
 * preprocessor's crop. Throws a StudioError naming the folder and what is wrong with it: the
 * checks run in that order and stop at the first step that fails, which reports all it found
 * (every missing file; every bad field of a manifest of this format; both towers' problems).
 */
export async function loadModelFolder(dir: string): Promise<ModelFolder> {
  const root = path.resolve(dir);
  const paths = await folderPaths(root);
  try {
    const { bytes, manifest } = await readManifest(paths.manifest);
    const crop = await readCropSize(paths.preprocessorConfig);
    const externalData = await checkTowers(root, manifest.embed_dim, crop);
    const fingerprint = await fingerprintFolder(root, bytes, externalData);
    return { dir: root, manifest, paths, fingerprint };
  } catch (error) {
    if (error instanceof Problem) throw folderError(root, 'bad_input', error.message);
    throw error;
  }
}
