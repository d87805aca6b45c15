/**
 * Embeddings Parquet: PickScore's prompt and image embeddings computed elsewhere (by the
 * reference model on a cluster: tools/embed_pickscore.py) into the project's embedding cache,
 * and the cache back out in the same form. One row per embedding:
 *
 *   kind         string   'prompt' | 'image'
 *   key          string   the prompt's text, or the image's uid
 *   embedding    list<float32>   (a fixed_size_list reads the same) of the model's embed_dim
 *   fingerprint  string   the model folder's fingerprint (model-folder.ts), the cache's key
 *
 * plus the key-value metadata `pickstudio.fingerprint` where the studio wrote the file. Vectors
 * are stored as unit vectors, as the cache keeps them; the import normalises whatever it reads.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { EmbeddingsExportReport, EmbeddingsFileReport } from '../../../shared/api';
import { StudioError } from '../../../shared/errors';
import { normalised } from '../scoring/pickscore';
import type { ProjectStore } from '../store/project-store';
import type { ModelRecord } from '../store/scores';
import type { TaskContext } from '../tasks';
import type { WorkerEntry } from '../worker-client';
import { failureAfterKept } from './batch';
import { writeAtomically, type Columns } from './export/parquet-file';
import { openParquet, type ParquetSource } from './parquet-source';
import { refuseProjectFileAsOutput } from './same-file';
import { asUtf8String } from './values';

export const EMBEDDING_KINDS = ['prompt', 'image'] as const;
export const FINGERPRINT_KEY = 'pickstudio.fingerprint';

/** The columns, in order, of an embeddings file. */
export const EMBEDDING_COLUMNS: Columns = [
  { name: 'kind', kind: 'string' },
  { name: 'key', kind: 'string' },
  { name: 'embedding', kind: 'list<float32>' },
  { name: 'fingerprint', kind: 'string' },
];

const PAGE = 5000;

/** A model the project knows, as the import and the export need it. */
interface KnownModel {
  id: number;
  name: string;
  fingerprint: string;
  embedDim: number;
}

function known(record: ModelRecord & { id: number }): KnownModel {
  const manifest = JSON.parse(record.manifest) as { embed_dim: number };
  return {
    id: record.id,
    name: record.name,
    fingerprint: record.fingerprint,
    embedDim: manifest.embed_dim,
  };
}

const bad = (file: string, problem: string) => new StudioError('bad_input', `${file}: ${problem}`);

/** Refuses a file without the four columns of the right physical types. */
function checkColumns(source: ParquetSource): void {
  const problems: string[] = [];
  for (const name of ['kind', 'key', 'fingerprint']) {
    const element = source.columns.get(name);
    if (!element) problems.push(`no ${name} column`);
    else if (element.type !== 'BYTE_ARRAY') {
      problems.push(`${name} is ${element.type ?? 'a group'}, expected string`);
    }
  }
  const embedding = source.columns.get('embedding');
  if (!embedding) problems.push('no embedding column');
  else if (!embedding.num_children) {
    problems.push(`embedding is ${embedding.type ?? 'a group'}, expected a list of float32`);
  }
  if (problems.length > 0) {
    throw bad(
      source.file,
      `not an embeddings file (${problems.join('; ')}); expected columns kind, key, embedding ` +
        '(list<float32>), fingerprint, as tools/embed_pickscore.py writes',
    );
  }
}

/** The fingerprint of a file: every row's must be the same one. */
function fileFingerprint(source: ParquetSource, column: unknown[], at: number) {
  const fingerprints = new Set<string>();
  column.forEach((fingerprint, i) => {
    let value: string | null;
    try {
      value = asUtf8String(fingerprint);
    } catch (error) {
      throw bad(source.file, `row ${at + i + 1}: fingerprint is ${(error as Error).message}`);
    }
    if (!value) throw bad(source.file, `row ${at + i + 1}: no fingerprint`);
    fingerprints.add(value);
  });
  return fingerprints;
}

/** A row's vector as float32, checked: the model's width, every value finite, not all zero. */
function vectorOf(value: unknown, dim: number, where: () => string): Float32Array {
  const values =
    Array.isArray(value) || value instanceof Float32Array || value instanceof Float64Array
      ? (value as ArrayLike<unknown>)
      : null;
  if (values === null) throw new Error(`${where()}: embedding is not a list of numbers`);
  if (values.length !== dim) {
    throw new Error(
      `${where()}: embedding has ${values.length} values; the model's embed_dim is ${dim}`,
    );
  }
  const vector = new Float32Array(dim);
  let zero = true;
  for (let i = 0; i < dim; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new Error(`${where()}: embedding value ${i + 1} is ${String(v)}, not a finite number`);
    }
    vector[i] = v;
    if (v !== 0) zero = false;
  }
  if (zero) throw new Error(`${where()}: embedding is all zeros`);
  return normalised(vector);
}

interface FileRows {
  prompts: { id: number; embedding: Float32Array }[];
  images: { id: number; embedding: Float32Array }[];
  unknownPrompts: number;
  unknownImages: number;
  rows: number;
}

/** The model of a file's fingerprint: the project's, or the folder's given with --model. */
function modelOfFile(
  store: ProjectStore,
  file: string,
  fingerprint: string,
  given: KnownModel | null,
): KnownModel {
  if (given) {
    if (given.fingerprint !== fingerprint) {
      throw bad(
        file,
        `embeddings of another model: the file's fingerprint is ${fingerprint.slice(0, 16)}…, ` +
          `the model folder's (${given.name}) ${given.fingerprint.slice(0, 16)}…; compute them ` +
          'with tools/embed_pickscore.py --model-folder pointing at this folder',
      );
    }
    return given;
  }
  const record = store.scores.modelByFingerprint(fingerprint);
  if (!record) {
    throw new StudioError(
      'not_found',
      `${file}: embeddings of a model ${store.file} does not know (fingerprint ` +
        `${fingerprint.slice(0, 16)}…): add its model folder first ('pickstudio model add ` +
        `PROJECT DIR') or name it with --model DIR`,
    );
  }
  return known(record);
}

/**
 * Reads and checks one file, row group by row group, resolving keys to the project's prompts
 * and images; writes nothing. Rows of prompts or images the project lacks are counted.
 */
async function readFile(
  store: ProjectStore,
  source: ParquetSource,
  given: KnownModel | null,
  context: TaskContext,
  onRows: (rows: number) => void,
): Promise<{ model: KnownModel | null; read: FileRows }> {
  const read: FileRows = { prompts: [], images: [], unknownPrompts: 0, unknownImages: 0, rows: 0 };
  let model: KnownModel | null = null;
  for (const group of source.batches) {
    context.throwIfCancelled();
    const { columns } = await source.readColumns(group.start, group.end, [
      'kind',
      'key',
      'embedding',
      'fingerprint',
    ]);
    for (const fingerprint of fileFingerprint(source, columns.fingerprint!, group.start)) {
      if (model && model.fingerprint !== fingerprint) {
        throw bad(
          source.file,
          `rows of two models (fingerprints ${model.fingerprint.slice(0, 16)}… and ` +
            `${fingerprint.slice(0, 16)}…); one file holds one model's embeddings`,
        );
      }
      model ??= modelOfFile(store, source.file, fingerprint, given);
    }
    const count = group.end - group.start;
    for (let i = 0; i < count; i++) {
      const row = {
        kind: columns.kind![i],
        key: columns.key![i],
        embedding: columns.embedding![i],
      };
      readRow(store, source.file, model!, row, group.start + i, read);
    }
    read.rows += count;
    onRows(count);
  }
  return { model, read };
}

function readRow(
  store: ProjectStore,
  file: string,
  model: KnownModel,
  row: { kind: unknown; key: unknown; embedding: unknown },
  index: number,
  read: FileRows,
): void {
  const where = () => `${file}: row ${index + 1}`;
  let kind: string | null;
  let key: string | null;
  try {
    kind = asUtf8String(row.kind);
    key = asUtf8String(row.key);
  } catch (error) {
    throw new StudioError('bad_input', `${where()}: ${(error as Error).message}`);
  }
  if (kind !== 'prompt' && kind !== 'image') {
    throw new StudioError(
      'bad_input',
      `${where()}: kind is ${JSON.stringify(kind)}, expected 'prompt' or 'image'`,
    );
  }
  if (key === null) throw new StudioError('bad_input', `${where()}: no key`);
  let embedding: Float32Array;
  try {
    embedding = vectorOf(row.embedding, model.embedDim, where);
  } catch (error) {
    throw new StudioError('bad_input', (error as Error).message);
  }
  if (kind === 'prompt') {
    const id = store.scores.promptIdByText(key);
    if (id === undefined) read.unknownPrompts++;
    else read.prompts.push({ id, embedding });
  } else {
    const id = store.scores.imageIdByUid(key);
    if (id === undefined) read.unknownImages++;
    else read.images.push({ id, embedding });
  }
}

/**
 * Loads embeddings files into the project's embedding cache, one transaction per file: a file
 * with any bad row changes nothing (and the message names the earlier files that were kept).
 * Then the pairs whose prompt and images are all cached can be scored with no model run.
 */
export async function importEmbeddings(
  store: ProjectStore,
  files: readonly string[],
  given: ModelRecord | null,
  context: TaskContext,
): Promise<EmbeddingsFileReport[]> {
  const sources: ParquetSource[] = [];
  for (const file of files) {
    const source = await openParquet(file);
    checkColumns(source);
    sources.push(source);
  }
  const total = sources.reduce((n, s) => n + s.numRows, 0);
  let done = 0;
  // A model folder named with --model is registered and made active, as addModel does, once
  // a file of its embeddings has passed every check (id -1 until then).
  const givenModel = given ? known({ ...given, id: -1 }) : null;
  const reports: EmbeddingsFileReport[] = [];
  for (const source of sources) {
    try {
      const { model, read } = await readFile(store, source, givenModel, context, (rows) => {
        done += rows;
        context.progress(done, total, path.basename(source.file));
      });
      context.throwIfCancelled();
      if (model && model.id === -1 && given) model.id = store.scores.activate(given);
      if (model) store.scores.putEmbeddings(model.id, read.prompts, read.images);
      reports.push({
        file: path.resolve(source.file),
        model: model?.name ?? null,
        fingerprint: model?.fingerprint ?? null,
        rows: read.rows,
        prompts: read.prompts.length,
        images: read.images.length,
        unknownPrompts: read.unknownPrompts,
        unknownImages: read.unknownImages,
      });
    } catch (error) {
      throw failureAfterKept(error, reports, 'imported');
    }
  }
  return reports;
}

/** What the model's cache holds, written as an embeddings file (unit vectors). */
export async function exportEmbeddings(
  store: ProjectStore,
  options: { out: string; model?: string },
  context: TaskContext,
  parquetWorker: WorkerEntry | null,
): Promise<EmbeddingsExportReport> {
  const started = performance.now();
  refuseProjectFileAsOutput(options.out, store.file, 'the project');
  if (path.extname(options.out).toLowerCase() !== '.parquet') {
    throw new StudioError(
      'invalid_argument',
      `${options.out}: an export is a Parquet file, and this name says otherwise; name it *.parquet`,
    );
  }
  const snapshot = store.snapshot();
  try {
    const record =
      options.model === undefined
        ? snapshot.scores.activeModel()
        : snapshot.scores.models().find((m) => m.name === options.model);
    if (!record) {
      throw new StudioError(
        'not_found',
        options.model === undefined
          ? `${store.file} has no model yet: add one ('pickstudio model add') or import embeddings with --model`
          : `${store.file} has no model named ${JSON.stringify(options.model)}`,
      );
    }
    const counts = { prompt: 0, image: 0 };
    await writeAtomically(
      options.out,
      EMBEDDING_COLUMNS,
      async (writeBatch) => {
        for (const kind of EMBEDDING_KINDS) {
          for (let after = 0; ; ) {
            context.throwIfCancelled();
            const page = snapshot.scores.embeddingPage(record.id, kind, after, PAGE);
            if (page.length === 0) break;
            after = page[page.length - 1]!.id;
            await writeBatch(
              {
                kind: page.map(() => kind),
                key: page.map((e) => e.key),
                embedding: page.map((e) => e.embedding),
                fingerprint: page.map(() => record.fingerprint),
              },
              page.length,
            );
            counts[kind] += page.length;
            context.progress(counts.prompt + counts.image, null, `${kind}s`);
          }
        }
      },
      {
        keyValues: { [FINGERPRINT_KEY]: record.fingerprint, 'pickstudio.model': record.name },
        worker: parquetWorker,
      },
    );
    return {
      out: path.resolve(options.out),
      model: record.name,
      fingerprint: record.fingerprint,
      prompts: counts.prompt,
      images: counts.image,
      bytes: fs.statSync(options.out).size,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    snapshot.close();
  }
}
