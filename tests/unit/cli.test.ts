import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { duckdb, writeShardWithDuckDB } from '../helpers/duckdb';
import { ProjectStore } from '../../electron/core/store/project-store';
import { BIN, runPickstudio } from '../helpers/cli';
import {
  makeJpeg,
  makePng,
  openTestProject,
  projectDigest,
  tempDir,
  sqlite,
} from '../helpers/project';

/** A 2-pair demo project and a 300,000-row shard that takes seconds to import. */
async function projectAndBigShard() {
  const dir = tempDir();
  const project = path.join(dir, 'p.pickstudio');
  expect(pickstudio('demo', project, '--pairs', '2').code).toBe(0);
  const shard = path.join(dir, 'big.parquet');
  const db = await duckdb();
  await db.run(`COPY (SELECT i AS ranking_id, 'prompt ' || i AS caption, 'a' || i AS image_0_uid, 'b' || i AS image_1_uid,
      NULL::VARCHAR AS image_0_url, NULL::VARCHAR AS image_1_url, 1.0::DOUBLE AS label_0, 0.0::DOUBLE AS label_1,
      true AS has_label, (i % 50)::BIGINT AS user_id, 'm0' AS model_0, 'm1' AS model_1, true AS are_different,
      'a' || i AS best_image_uid, TIMESTAMP '2023-05-01' AS created_at, 1::BIGINT AS num_example_per_prompt
    FROM range(300000) t(i)) TO '${shard}' (FORMAT parquet, ROW_GROUP_SIZE 5000)`);
  db.close();
  return { project, shard, before: projectDigest(project) };
}

/** Starts an import and sends `signal` once rows are flowing, as a person or a crash would. */
async function interruptImport(project: string, shard: string, signal: NodeJS.Signals) {
  const child = spawn(process.execPath, [BIN, 'import', project, shard], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const [code, exitSignal] = await new Promise<[number | null, NodeJS.Signals | null]>(
    (resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/import [1-9][\d,]*\/300,000/.test(stderr) && !child.killed) child.kill(signal);
      });
      child.on('close', (c, s) => resolve([c, s]));
    },
  );
  return { code, signal: exitSignal, stderr };
}

function pickstudio(...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('pickstudio CLI', () => {
  it('prints help, and refuses unknown commands and options with a one-line reason', () => {
    const help = pickstudio('--help');
    expect(help.code).toBe(0);
    for (const command of ['demo', 'import', 'export', 'stats'])
      expect(help.stdout).toContain(command);
    expect(pickstudio('export', '--help').stdout).toMatch(/--no-images/);
    expect(pickstudio('export', '--help').stdout).toMatch(
      /--jpeg re-encodes images that are not JPEG/,
    );
    expect(pickstudio().code).toBe(2);
    const unknown = pickstudio('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim().split('\n')).toEqual(['pickstudio: unknown command "frobnicate"']);
    const badOption = pickstudio('stats', 'x.pickstudio', '--colour');
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toMatch(/--colour/);
  });

  it('demo, stats, import, export: the whole loop, read back by DuckDB', async () => {
    const dir = tempDir();
    const project = path.join(dir, 'd.pickstudio');
    const demo = pickstudio('demo', project, '--pairs', '6', '--no-annotators');
    expect(demo.code, demo.stderr).toBe(0);
    expect(demo.stdout).toMatch(/6 pairs/);
    expect(pickstudio('demo', project).stderr).toMatch(/already exists/);

    // By default the demo comes with three demo annotators' labels, for the lead's desk.
    const labeled = path.join(dir, 'labeled.pickstudio');
    expect(pickstudio('demo', labeled, '--pairs', '10', '--no-score').code).toBe(0);
    const labeledStats = JSON.parse(
      pickstudio('stats', labeled, '--json', '--resamples', '0').stdout,
    );
    expect(labeledStats.annotators.map((a: { name: string }) => a.name)).toEqual([
      'demo:ana',
      'demo:ben',
      'demo:chen',
    ]);
    expect(labeledStats.audit.dashboard.counts.verdicts).toBe(18);

    const stats = pickstudio('stats', project, '--json');
    expect(stats.code).toBe(0);
    expect(JSON.parse(stats.stdout).counts).toMatchObject({
      pairs: 6,
      images: 12,
      imagesWithBytes: 12,
    });

    const shard = path.join(dir, 'shard.parquet');
    await writeShardWithDuckDB(
      shard,
      [
        {
          ranking_id: 77,
          caption: 'a blue square',
          image_0_uid: 'p',
          image_1_uid: 'q',
          label_0: 0,
          label_1: 1,
          has_label: true,
          user_id: 101,
        },
      ],
      { images: false },
    );
    const imported = pickstudio('import', project, shard);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/1 row, 1 new pair, 1 new annotation,/);
    expect(imported.stderr).toMatch(/import 1\/1 rows/);

    const annotator = JSON.parse(
      pickstudio('stats', project, '--json', '--annotator', 'pickapic:101').stdout,
    );
    expect(annotator.annotators).toEqual([
      {
        name: 'pickapic:101',
        kind: 'dataset',
        pairsDecided: 1,
        verdicts: { image0: 0, image1: 1, tie: 0 },
        skips: 0,
      },
    ]);
    const nobody = pickstudio('stats', project, '--annotator', 'nobody');
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toMatch(/no annotator named "nobody"/);

    const out = path.join(dir, 'out.parquet');
    const raw = path.join(dir, 'raw.parquet');
    const exported = pickstudio('export', project, out, '--no-images', '--annotations', raw);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toMatch(/: 1 row,/);
    const db = await duckdb();
    expect(await db.rows(`SELECT caption, label_1, user_id FROM '${out}'`)).toEqual([
      { caption: 'a blue square', label_1: 1, user_id: 101n },
    ]);
    expect(await db.rows(`SELECT count(*) AS n FROM '${raw}'`)).toEqual([{ n: 1n }]);
    db.close();
  });

  it('export writes a PNG as imported, and as a JPEG with --jpeg', async () => {
    const dir = tempDir();
    const png = await makePng(1);
    const jpeg = await makeJpeg(2);
    fs.writeFileSync(path.join(dir, 'a.png'), png);
    fs.writeFileSync(path.join(dir, 'b.jpg'), jpeg);
    const manifest = path.join(dir, 'm.jsonl');
    fs.writeFileSync(
      manifest,
      JSON.stringify({ prompt: 'a cat', image_0: 'a.png', image_1: 'b.jpg', label: '0' }),
    );
    const project = path.join(dir, 'p.pickstudio');
    expect(pickstudio('import', project, manifest, '--create').code).toBe(0);
    const asImported = path.join(dir, 'as-imported.parquet');
    const asJpeg = path.join(dir, 'as-jpeg.parquet');
    const plain = pickstudio('export', project, asImported);
    expect(plain.code, plain.stderr).toBe(0);
    const reencoded = pickstudio('export', project, asJpeg, '--jpeg');
    expect(reencoded.code, reencoded.stderr).toBe(0);
    const db = await duckdb();
    const images = async (file: string) =>
      (await db.rows(`SELECT jpg_0, jpg_1 FROM '${file}'`)).map((row) => [
        Buffer.from(row.jpg_0 as Uint8Array),
        Buffer.from(row.jpg_1 as Uint8Array),
      ])[0]!;
    const [png0, jpeg1] = await images(asImported);
    const [asJpeg0, stillJpeg1] = await images(asJpeg);
    db.close();
    expect(png0!.equals(png)).toBe(true);
    expect(jpeg1!.equals(jpeg)).toBe(true);
    expect(stillJpeg1!.equals(jpeg)).toBe(true);
    expect(asJpeg0!.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
  });

  it('a bad file fails with exit code 1 and one line naming it; the project is unchanged', () => {
    const dir = tempDir();
    const project = path.join(dir, 'p.pickstudio');
    expect(pickstudio('demo', project, '--pairs', '2').code).toBe(0);
    const before = projectDigest(project);
    const bad = path.join(dir, 'bad.parquet');
    fs.writeFileSync(bad, 'not parquet');
    const result = pickstudio('import', project, bad);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n').at(-1)).toMatch(
      /^pickstudio: .*bad\.parquet: not a readable Parquet file/,
    );
    expect(projectDigest(project)).toBe(before);
  });

  it('Ctrl+C during an import cancels it, exits 130 and keeps nothing of the file', async () => {
    const { project, shard, before } = await projectAndBigShard();
    const { code, stderr } = await interruptImport(project, shard, 'SIGINT');
    expect(stderr).toMatch(/cancelled/);
    expect(code).toBe(130);
    expect(projectDigest(project)).toBe(before);
  });

  it('a kill during an import leaves the project as it was; the next import cleans up', async () => {
    const { project, shard, before } = await projectAndBigShard();
    const { signal } = await interruptImport(project, shard, 'SIGKILL');
    expect(signal).toBe('SIGKILL');
    const folder = path.dirname(project);
    expect(fs.readdirSync(folder).filter((n) => n.includes('.import-'))).toHaveLength(1);
    expect(projectDigest(project)).toBe(before);
    const store = ProjectStore.open(project);
    expect(sqlite(store).pragma('integrity_check', { simple: true })).toBe('ok');
    store.close();

    const small = path.join(folder, 'small.parquet');
    await writeShardWithDuckDB(
      small,
      [
        {
          ranking_id: 1,
          caption: 'c',
          image_0_uid: 'u',
          image_1_uid: 'v',
          label_0: 1,
          label_1: 0,
          has_label: true,
          user_id: 1,
        },
      ],
      { images: false },
    );
    expect(pickstudio('import', project, small).code).toBe(0);
    expect(fs.readdirSync(folder).filter((n) => n.includes('.import-'))).toEqual([]);
  });

  it('model add checks a folder and makes it the active model; score then uses it, and model list shows it', () => {
    const dir = tempDir();
    const project = path.join(dir, 'm.pickstudio');
    expect(pickstudio('demo', project, '--pairs', '3', '--no-score').code).toBe(0);
    expect(pickstudio('model', 'list', project).stdout.trim()).toBe(`${project}: no models yet`);

    const bad = pickstudio('model', 'add', project, dir);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe(
      `pickstudio: model folder ${dir}: missing manifest.json, text_encoder.onnx, image_encoder.onnx, tokenizer.json, preprocessor_config.json`,
    );

    const added = pickstudio('model', 'add', project, 'resources/demo-model');
    expect(added.code).toBe(0);
    expect(added.stdout).toContain(
      'active model is now pickstudio-demo-colour-shape (not PickScore)',
    );
    expect(added.stdout).toContain('scored       0 of 3 pairs');

    const scored = pickstudio('score', project);
    expect(scored.code).toBe(0);
    expect(scored.stdout).toMatch(/3 prompts and 6 images encoded, 3 pairs scored/);
    expect(pickstudio('model', 'list', project).stdout.trim()).toBe(
      `* pickstudio-demo-colour-shape (not PickScore): 3 of 3 pairs scored (${path.resolve('resources/demo-model')})`,
    );
    expect(pickstudio('model', 'remove', project).code).toBe(2);
  });

  it('suggests the command or option meant, and names the missing arguments', async () => {
    const message = async (...args: string[]) => {
      const result = await runPickstudio(args);
      expect(result.code).toBe(2);
      return result.stderr.trim();
    };
    expect(await message('improt', 'p.pickstudio')).toBe(
      'pickstudio: unknown command "improt" (did you mean import?)',
    );
    expect(await message('stat', 'p.pickstudio')).toBe(
      'pickstudio: unknown command "stat" (did you mean stats?)',
    );
    expect(await message('stats', 'p.pickstudio', '--jsn')).toBe(
      'pickstudio: unknown option --jsn (did you mean --json?)',
    );
    expect(await message('stats')).toBe('pickstudio: missing PROJECT (see --help)');
    expect(await message('export')).toBe(
      'pickstudio: missing PROJECT and OUT.parquet (see --help)',
    );
    expect(await message('import', 'p.pickstudio')).toBe('pickstudio: missing SOURCE (see --help)');
    expect(await message('model', 'add', 'p.pickstudio')).toBe(
      'pickstudio: missing DIR (see --help)',
    );
  });

  it('stats --annotator names the annotators meant when none has that name', async () => {
    const project = path.join(tempDir(), 'p.pickstudio');
    expect(pickstudio('demo', project, '--pairs', '1', '--no-score', '--no-annotators').code).toBe(
      0,
    );
    const store = ProjectStore.open(project);
    for (const name of ['pickapic:101', 'pickapic:102']) {
      store.decisions.record([
        {
          pairId: 1,
          annotatorId: store.decisions.annotatorId(name, 'dataset'),
          decision: 0,
          leftImage: null,
          decisionMs: null,
          createdAt: 0,
        },
      ]);
    }
    store.close();
    const line = async (name: string) => {
      const result = await runPickstudio(['stats', project, '--annotator', name]);
      expect(result.code).toBe(1);
      return result.stderr.trim();
    };
    expect(await line('101')).toBe(
      `pickstudio: ${project}: no annotator named "101" (did you mean pickapic:101?)`,
    );
    expect(await line('pickapic:10')).toBe(
      `pickstudio: ${project}: no annotator named "pickapic:10" (did you mean pickapic:101 or pickapic:102?)`,
    );
    expect(await line('zed')).toBe(`pickstudio: ${project}: no annotator named "zed"`);
  });

  it('says one pair, not 1 pairs', async () => {
    const project = path.join(tempDir(), 'p.pickstudio');
    const demo = await runPickstudio(['demo', project, '--pairs', '1', '--no-score']);
    expect(demo.code, demo.stderr).toBe(0);
    expect(demo.stdout.trim()).toBe(`${project}: demo project with 1 pair`);
    const store = ProjectStore.open(project);
    const annotatorId = store.decisions.annotatorId('pickapic:101', 'dataset');
    store.decisions.record([
      { pairId: 1, annotatorId, decision: 0, leftImage: null, decisionMs: null, createdAt: 0 },
    ]);
    store.close();
    const stats = await runPickstudio(['stats', project]);
    expect(stats.code, stats.stderr).toBe(0);
    expect(stats.stdout).toContain('annotations  1 row (undos included)');
    expect(stats.stdout).toContain('pickapic:101 (dataset): 1 pair;');
    expect(stats.stdout).toContain('agreement between annotators (1 verdict on 1 pair;');
  });

  it("the demo's progress has one total from the start and never goes back", async () => {
    const { call, events, store } = openTestProject(path.join(tempDir(), 'p.pickstudio'));
    await call('createDemo', { pairs: 6, score: true, annotators: false });
    store.close();
    const counted = events.filter((e) => e.total !== null);
    expect(counted.length).toBeGreaterThan(1);
    const total = counted[0]!.total!;
    for (const [i, e] of counted.entries()) {
      expect(e.total).toBe(total);
      if (i > 0) expect(e.done).toBeGreaterThanOrEqual(counted[i - 1]!.done);
    }
    expect(counted.at(-1)).toMatchObject({ state: 'done', done: total });
  });
});
