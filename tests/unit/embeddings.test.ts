// Embeddings computed elsewhere (tools/embed_pickscore.py on a cluster) into the project's cache,
// and pairs scored from it with no model run: importEmbeddings, exportEmbeddings, scorePairs'
// cache-only path, background scoring, the CLI, and bad files.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDemoProject } from '../../electron/core/demo/create-demo';
import { readImage } from '../../electron/core/io/images';
import { pickscore } from '../../electron/core/scoring/pickscore';
import type { ProjectStore } from '../../electron/core/store/project-store';
import { lastLine, runPickstudio } from '../helpers/cli';
import { duckdb } from '../helpers/duckdb';
import { failure } from '../helpers/errors';
import { noopContext, openTestProject, projectDigest, tempDir } from '../helpers/project';
import { writeTinyModel } from '../helpers/tiny-model';

const PAIRS = 6;

/** Expects the call to fail with this code and a message matching `message`. */
async function expectStudioError(call: Promise<unknown>, code: string, message: RegExp) {
  const error = await failure(call);
  expect(error.message).toMatch(message);
  expect(error.code).toBe(code);
}

interface EmbeddingRow {
  kind: 'prompt' | 'image';
  key: string;
  embedding: number[] | null;
  fingerprint: string;
}

const sqlText = (value: string): string => `'${value.replaceAll("'", "''")}'`;

/** Every embedding the model has cached in `store`, with its key. */
function cachedRows(store: ProjectStore, modelId: number, fingerprint: string): EmbeddingRow[] {
  return (['prompt', 'image'] as const).flatMap((kind) =>
    store.scores.embeddingPage(modelId, kind, 0, 1_000_000).map((e) => ({
      kind,
      key: e.key,
      embedding: Array.from(e.embedding),
      fingerprint,
    })),
  );
}

/** Writes an embeddings file with DuckDB (a writer that is not the studio's). */
async function writeEmbeddingsWithDuckDB(
  out: string,
  rows: EmbeddingRow[],
  embeddingType = 'FLOAT[]',
): Promise<void> {
  const json = `${out}.jsonl`;
  fs.writeFileSync(json, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const db = await duckdb();
  try {
    await db.run(`
      COPY (SELECT kind, key, embedding::${embeddingType} AS embedding, fingerprint
            FROM read_json('${json}', format = 'newline_delimited', columns = {
              kind: 'VARCHAR', key: 'VARCHAR', embedding: 'DOUBLE[]', fingerprint: 'VARCHAR'}))
      TO '${out}' (FORMAT parquet)`);
  } finally {
    db.close();
    fs.rmSync(json);
  }
}

/** A folder like `modelDir` whose towers are garbage: any attempt to load or run them fails. */
function breakTowers(modelDir: string): void {
  for (const file of ['text_encoder.onnx', 'image_encoder.onnx']) {
    fs.writeFileSync(path.join(modelDir, file), 'not an onnx model');
  }
}

/** A project scored by the studio itself with the tiny model: the reference. */
async function referenceProject(dir: string) {
  const modelDir = path.join(dir, 'tiny-ref');
  writeTinyModel(modelDir, 11);
  const opened = openTestProject(path.join(dir, 'ref.pickstudio'));
  await createDemoProject(opened.store, { pairs: PAIRS }, noopContext);
  const report = await opened.call('scorePairs', { model: modelDir });
  expect(report.pairsScored).toBe(PAIRS);
  const model = opened.store.scores.activeModel()!;
  const p0s = new Map(
    (await opened.call('listPairs', { limit: 1000 })).map((pair) => [
      `${pair.prompt}\0${pair.image0Uid}\0${pair.image1Uid}`,
      opened.store.scores.scoreOf(model.id, pair.pairId)!.p_0,
    ]),
  );
  return {
    ...opened,
    modelDir,
    model,
    p0s,
    rows: cachedRows(opened.store, model.id, model.fingerprint),
  };
}

/** A fresh project over the same pairs, with a copy of the model registered, then broken. */
async function freshProject(dir: string, name: string, referenceModelDir: string) {
  const modelDir = path.join(dir, `${name}-model`);
  fs.cpSync(referenceModelDir, modelDir, { recursive: true });
  const file = path.join(dir, `${name}.pickstudio`);
  const opened = openTestProject(file);
  await createDemoProject(opened.store, { pairs: PAIRS }, noopContext);
  await opened.call('addModel', { folder: modelDir });
  breakTowers(modelDir);
  return { ...opened, file, modelDir };
}

async function p0sOf(opened: {
  call: ReturnType<typeof openTestProject>['call'];
  store: ProjectStore;
}) {
  const model = opened.store.scores.activeModel()!;
  return new Map(
    (await opened.call('listPairs', { limit: 1000 })).map((pair) => [
      `${pair.prompt}\0${pair.image0Uid}\0${pair.image1Uid}`,
      opened.store.scores.scoreOf(model.id, pair.pairId)?.p_0,
    ]),
  );
}

function expectSameScores(actual: Map<string, number | undefined>, expected: Map<string, number>) {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [key, p0] of expected) {
    expect(actual.get(key), key).toBeDefined();
    expect(Math.abs(actual.get(key)! - p0), key).toBeLessThan(1e-5);
  }
}

describe('import-embeddings', () => {
  it("scores a fresh project from another writer's embeddings with no model run, as the studio scored them", async () => {
    const dir = tempDir();
    const ref = await referenceProject(dir);
    const file = path.join(dir, 'emb.parquet');
    await writeEmbeddingsWithDuckDB(file, [
      ...ref.rows,
      // Rows of a prompt and an image the project does not have: counted and skipped.
      {
        kind: 'prompt',
        key: 'a prompt nobody imported',
        embedding: ref.rows[0]!.embedding,
        fingerprint: ref.model.fingerprint,
      },
      {
        kind: 'image',
        key: 'no-such-uid',
        embedding: ref.rows[0]!.embedding,
        fingerprint: ref.model.fingerprint,
      },
    ]);
    const fresh = await freshProject(dir, 'fresh', ref.modelDir);
    const imported = await fresh.call('importEmbeddings', { sources: [file] });
    expect(imported.files).toEqual([
      expect.objectContaining({
        model: ref.model.name,
        fingerprint: ref.model.fingerprint,
        rows: ref.rows.length + 2,
        prompts: PAIRS,
        images: 2 * PAIRS,
        unknownPrompts: 1,
        unknownImages: 1,
      }),
    ]);
    // The towers are garbage now: scoring works only if it never loads them.
    const report = await fresh.call('scorePairs', {});
    expect(report).toMatchObject({
      provider: null,
      promptsEncoded: 0,
      imagesEncoded: 0,
      pairsScored: PAIRS,
    });
    expectSameScores(await p0sOf(fresh), ref.p0s);
    const events = fresh.events.filter((e) => e.kind === 'import');
    expect(events.at(-1)).toMatchObject({
      state: 'done',
      done: ref.rows.length + 2,
      total: ref.rows.length + 2,
    });
    fresh.store.close();
    ref.store.close();
  });

  it('a pair added later whose prompt and images are cached is scored by background scoring, with no model run', async () => {
    const dir = tempDir();
    const ref = await referenceProject(dir);
    const file = path.join(dir, 'emb.parquet');
    await writeEmbeddingsWithDuckDB(file, ref.rows);
    const fresh = await freshProject(dir, 'fresh', ref.modelDir);
    await fresh.call('importEmbeddings', { sources: [file] });
    await fresh.call('scorePairs', {});
    // A new pair: the first pair's prompt with the second pair's images, from a manifest.
    const [first, second] = await fresh.call('listPairs', { limit: 2 });
    const images = path.join(dir, 'more');
    fs.mkdirSync(images);
    for (const [i, uid] of [second!.image0Uid, second!.image1Uid].entries()) {
      fs.writeFileSync(
        path.join(images, `${i}.jpg`),
        (await readImage(fresh.store.images, uid)).bytes,
      );
    }
    fs.writeFileSync(
      path.join(images, 'm.jsonl'),
      JSON.stringify({ prompt: first!.prompt, image_0: '0.jpg', image_1: '1.jpg' }) + '\n',
    );
    await fresh.call('importSources', { sources: [path.join(images, 'm.jsonl')] });
    expect(await fresh.call('getScoringStatus', {})).toMatchObject({
      scoredPairs: PAIRS,
      totalPairs: PAIRS + 1,
    });
    const logged: string[] = [];
    await fresh.studio.scoreInBackground((m) => logged.push(m));
    expect(logged).toEqual([]);
    expect(await fresh.call('getScoringStatus', {})).toMatchObject({
      scoredPairs: PAIRS + 1,
      provider: null,
    });
    const vector = (kind: string, key: string) =>
      Float32Array.from(ref.rows.find((r) => r.kind === kind && r.key === key)!.embedding!);
    const expected = pickscore(
      100,
      vector('prompt', first!.prompt),
      vector('image', second!.image0Uid),
      vector('image', second!.image1Uid),
    ).p0;
    const p0 = (await p0sOf(fresh)).get(
      `${first!.prompt}\0${second!.image0Uid}\0${second!.image1Uid}`,
    );
    expect(Math.abs(p0! - expected)).toBeLessThan(1e-6);
    fresh.store.close();
    ref.store.close();
  });

  it('round trip through the CLI: export --embeddings, import-embeddings, score with no model run', async () => {
    const dir = tempDir();
    const ref = await referenceProject(dir);
    ref.store.close();
    const out = path.join(dir, 'pairs.parquet');
    const emb = path.join(dir, 'emb.parquet');
    const exported = await runPickstudio([
      'export',
      path.join(dir, 'ref.pickstudio'),
      out,
      '--embeddings',
      emb,
    ]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toContain(
      `${emb}: 6 prompts and 12 images embedded by ${ref.model.name}`,
    );
    // DuckDB reads back exactly the studio's cache.
    const db = await duckdb();
    const read = await db.rows(
      `SELECT kind, key, embedding, fingerprint FROM '${emb}' ORDER BY kind DESC, key`,
    );
    const meta = await db.rows(
      `SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${emb}')`,
    );
    db.close();
    const byKey = (rows: EmbeddingRow[]) =>
      [...rows].sort((a, b) =>
        a.kind === b.kind ? (a.key < b.key ? -1 : 1) : a.kind < b.kind ? 1 : -1,
      );
    expect(read).toEqual(byKey(ref.rows));
    expect(meta).toContainEqual({ k: 'pickstudio.fingerprint', v: ref.model.fingerprint });

    const fresh = await freshProject(dir, 'fresh', ref.modelDir);
    fresh.store.close();
    const imported = await runPickstudio(['import-embeddings', fresh.file, emb]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toContain('6 prompts and 12 images of tiny-random-11 cached');
    const scored = await runPickstudio(['score', fresh.file]);
    expect(scored.code, scored.stderr).toBe(0);
    expect(scored.stdout).toContain('no model run: every prompt and image was in the cache');
    expect(scored.stdout).toContain('6 pairs scored');
    const reopened = openTestProject(fresh.file);
    expectSameScores(await p0sOf(reopened), ref.p0s);
    reopened.store.close();

    // A project that does not know the model: exit 1, one line saying what to do.
    const other = openTestProject(path.join(dir, 'other.pickstudio'));
    await createDemoProject(other.store, { pairs: PAIRS }, noopContext);
    other.store.close();
    const refused = await runPickstudio(['import-embeddings', other.store.file, emb]);
    expect(refused.code).toBe(1);
    expect(lastLine(refused.stderr)).toMatch(
      /^pickstudio: .*emb\.parquet: embeddings of a model .* does not know .*'pickstudio model add PROJECT DIR'.*--model DIR$/,
    );
  });

  it('--model names the folder of a model the project does not know yet; without it the error says what to do', async () => {
    const dir = tempDir();
    const ref = await referenceProject(dir);
    const file = path.join(dir, 'emb.parquet');
    await writeEmbeddingsWithDuckDB(file, ref.rows, 'FLOAT[8]');
    ref.store.close();
    const opened = openTestProject(path.join(dir, 'new.pickstudio'));
    await createDemoProject(opened.store, { pairs: PAIRS }, noopContext);
    const before = projectDigest(opened.store.file);
    await expectStudioError(
      opened.call('importEmbeddings', { sources: [file] }),
      'not_found',
      /emb\.parquet: embeddings of a model .* does not know .*'pickstudio model add PROJECT DIR'.*--model DIR/,
    );
    expect(projectDigest(opened.store.file)).toBe(before);
    const imported = await opened.call('importEmbeddings', {
      sources: [file],
      model: ref.modelDir,
    });
    expect(imported.files[0]).toMatchObject({ prompts: PAIRS, images: 2 * PAIRS });
    expect(await opened.call('listModels', {})).toEqual([
      expect.objectContaining({ name: ref.model.name, active: true, scoredPairs: 0 }),
    ]);
    expect((await opened.call('scorePairs', {})).pairsScored).toBe(PAIRS);
    opened.store.close();
  });
});

describe('import-embeddings refuses bad files, naming the file and the problem, and changes nothing', () => {
  it('not Parquet, wrong columns, wrong length, NaN, another model, two models; a later bad file keeps the earlier', async () => {
    const dir = tempDir();
    const ref = await referenceProject(dir);
    const fp = ref.model.fingerprint;
    const fresh = await freshProject(dir, 'fresh', ref.modelDir);
    const good = ref.rows.slice(0, 3);
    const make = async (name: string, rows: EmbeddingRow[]) => {
      const file = path.join(dir, name);
      await writeEmbeddingsWithDuckDB(file, rows);
      return file;
    };
    const notParquet = path.join(dir, 'notes.parquet');
    fs.writeFileSync(notParquet, 'kind,key\nprompt,hello\n');
    const wrongColumns = path.join(dir, 'columns.parquet');
    const db = await duckdb();
    await db.run(
      `COPY (SELECT 'prompt' AS kind, 'x' AS key, 1.5 AS vector) TO '${wrongColumns}' (FORMAT parquet)`,
    );
    db.close();
    const otherModel = path.join(dir, 'other-model');
    writeTinyModel(otherModel, 12);
    const cases: [string, string | Promise<string>, string, RegExp, string?][] = [
      ['not Parquet', notParquet, 'bad_input', /notes\.parquet: not a readable Parquet file/],
      [
        'wrong columns',
        wrongColumns,
        'bad_input',
        /columns\.parquet: not an embeddings file \(no fingerprint column; no embedding column\)/,
      ],
      [
        'wrong length',
        make('short.parquet', [...good, { ...good[0]!, embedding: [1, 2, 3] }]),
        'bad_input',
        /short\.parquet: row 4: embedding has 3 values; the model's embed_dim is 8/,
      ],
      [
        'NaN',
        (async () => {
          const file = path.join(dir, 'nan.parquet');
          const nan = await duckdb();
          await nan.run(`COPY (SELECT 'prompt' AS kind, ${sqlText(good[0]!.key)} AS key,
              list_transform(range(8), x -> CASE WHEN x = 2 THEN 'nan'::FLOAT ELSE 0.5::FLOAT END)
                AS embedding, '${fp}' AS fingerprint) TO '${file}' (FORMAT parquet)`);
          nan.close();
          return file;
        })(),
        'bad_input',
        /nan\.parquet: row 1: embedding value 3 is NaN, not a finite number/,
      ],
      [
        'a null in a vector',
        make('null.parquet', [
          { ...good[0]!, embedding: good[0]!.embedding!.map((v, i) => (i === 2 ? NaN : v)) },
        ]),
        'bad_input',
        /null\.parquet: row 1: embedding value 3 is null, not a finite number/,
      ],
      [
        'an unknown kind',
        make('kind.parquet', [{ ...good[0]!, kind: 'text' as 'prompt' }]),
        'bad_input',
        /kind\.parquet: row 1: kind is "text", expected 'prompt' or 'image'/,
      ],
      [
        "another model's fingerprint",
        make(
          'other.parquet',
          good.map((r) => ({ ...r, fingerprint: 'f'.repeat(64) })),
        ),
        'not_found',
        /other\.parquet: embeddings of a model .* does not know \(fingerprint ffffffffffffffff…\)/,
      ],
      [
        'rows of two models',
        make('two.parquet', [good[0]!, { ...good[1]!, fingerprint: 'e'.repeat(64) }]),
        'bad_input',
        /two\.parquet: rows of two models/,
      ],
      [
        "--model of another model's folder",
        make('mismatch.parquet', good),
        'bad_input',
        /mismatch\.parquet: embeddings of another model: the file's fingerprint is .*, the model folder's \(tiny-random-12\)/,
        otherModel,
      ],
    ];
    for (const [what, file, code, message, model] of cases) {
      const before = projectDigest(fresh.file);
      await expectStudioError(
        fresh.call('importEmbeddings', { sources: [await file], ...(model ? { model } : {}) }),
        code,
        message,
      );
      expect(projectDigest(fresh.file), what).toBe(before);
    }
    // A cancel stops the import before its file lands.
    const before = projectDigest(fresh.file);
    const cancelled = fresh.call('importEmbeddings', {
      sources: [await make('cancel.parquet', good)],
      taskId: 'stop-me',
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(await fresh.call('cancelTask', { taskId: 'stop-me' })).toEqual({ cancelled: true });
    await expectStudioError(cancelled, 'cancelled', /import cancelled/);
    expect(projectDigest(fresh.file)).toBe(before);
    // Two files: the first lands, the second fails and says the first was kept.
    const first = await make('first.parquet', good);
    const second = await make('second.parquet', [
      { ...good[0]!, embedding: [0, 0, 0, 0, 0, 0, 0, 0] },
    ]);
    await expectStudioError(
      fresh.call('importEmbeddings', { sources: [first, second] }),
      'bad_input',
      /second\.parquet: row 1: embedding is all zeros \(nothing from this file was imported; already imported and kept: first\.parquet\)/,
    );
    fresh.store.close();
    ref.store.close();
  });
});
