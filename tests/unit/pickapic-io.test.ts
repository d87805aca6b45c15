import fs from 'node:fs';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { readParquet } from 'parquet-wasm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PICKAPIC_COLUMNS } from '../../electron/core/io/pickapic-schema';
import { duckdb, writeShardWithDuckDB, type ShardRow } from '../helpers/duckdb';
import { makeJpeg, openTestProject, projectDigest, tempDir, sqlite } from '../helpers/project';

/** The Arrow types of the HF dataset's features, as an Arrow reader names them. */
const ARROW_TYPES: Record<string, string> = {
  bool: 'Bool',
  string: 'Utf8',
  timestamp: 'Timestamp<MICROSECOND>',
  binary: 'Binary',
  float64: 'Float64',
  int64: 'Int64',
};

const HF_TYPES: Record<string, string> = {
  bool: 'BOOLEAN',
  string: 'VARCHAR',
  timestamp: 'TIMESTAMP',
  binary: 'BLOB',
  float64: 'DOUBLE',
  int64: 'BIGINT',
};

let dir: string;
let db: Awaited<ReturnType<typeof duckdb>>;
beforeEach(async () => {
  dir = tempDir();
  db = await duckdb();
});
afterEach(() => db.close());

const blob = (value: unknown): Buffer => Buffer.from(value as Uint8Array);

async function labeledRows(count: number, images: boolean): Promise<ShardRow[]> {
  const labels: [number, number][] = [
    [1, 0],
    [0, 1],
    [0.5, 0.5],
  ];
  return Promise.all(
    Array.from({ length: count }, async (_, i) => ({
      ranking_id: 5000 + i,
      caption: `prompt ${i}: a red fox in the snow, “quoted” émoji 🦊`,
      image_0_uid: `uid-${i}-a`,
      image_1_uid: `uid-${i}-b`,
      label_0: labels[i % 3]![0],
      label_1: labels[i % 3]![1],
      has_label: true,
      user_id: 100 + (i % 4),
      created_at: `2023-04-0${1 + (i % 9)} 10:11:12`,
      ...(images ? { jpg_0: await makeJpeg(2 * i), jpg_1: await makeJpeg(2 * i + 1) } : {}),
    })),
  );
}

describe('Pick-a-Pic shards written by DuckDB', () => {
  it('round-trip: the export has the HF names and types, and equal captions, uids, labels and jpg bytes', async () => {
    const input = path.join(dir, 'train-0.parquet');
    const rows = await labeledRows(30, true);
    await writeShardWithDuckDB(input, rows, { images: true, rowGroupSize: 7 });
    const { call, store } = openTestProject(path.join(dir, 'p.pickstudio'));
    const report = await call('importSources', { sources: [input] });
    expect(report.files[0]).toMatchObject({ rows: 30, pairsAdded: 30, annotationsAdded: 30 });

    const out = path.join(dir, 'export.parquet');
    await call('exportParquet', { out });
    store.close();

    const described = await db.rows(`DESCRIBE SELECT * FROM '${out}'`);
    const types = Object.fromEntries(described.map((r) => [r.column_name, r.column_type]));
    for (const column of PICKAPIC_COLUMNS) {
      expect(types[column.name], column.name).toBe(HF_TYPES[column.kind]);
    }
    expect(types).toMatchObject({ num_annotations: 'BIGINT', agreement: 'DOUBLE' });

    // A second, independent reader (Rust's parquet crate, into Arrow as pyarrow would see it).
    const arrow = tableFromIPC(readParquet(new Uint8Array(fs.readFileSync(out))).intoIPCStream());
    expect(arrow.numRows).toBe(30);
    for (const column of PICKAPIC_COLUMNS) {
      const field = arrow.schema.fields.find((f) => f.name === column.name);
      expect(String(field?.type), column.name).toBe(ARROW_TYPES[column.kind]);
    }
    expect(arrow.getChild('caption')!.get(4)).toBe(rows[4]!.caption);

    const inputRows = await db.rows(`SELECT * FROM '${input}' ORDER BY ranking_id`);
    const exported = await db.rows(`SELECT * FROM '${out}' ORDER BY ranking_id`);
    expect(exported).toHaveLength(30);
    exported.forEach((row, i) => {
      const source = inputRows[i]!;
      for (const key of [
        'caption',
        'image_0_uid',
        'image_1_uid',
        'image_0_url',
        'label_0',
        'label_1',
        'model_0',
        'model_1',
        'ranking_id',
        'user_id',
        'best_image_uid',
        'are_different',
        'has_label',
      ]) {
        expect(row[key], `row ${i} ${key}`).toEqual(source[key]);
      }
      expect((row.created_at as Date).getTime()).toBe((source.created_at as Date).getTime());
      expect(blob(row.jpg_0).equals(blob(source.jpg_0)), `row ${i} jpg_0`).toBe(true);
      expect(blob(row.jpg_1).equals(blob(source.jpg_1)), `row ${i} jpg_1`).toBe(true);
      expect(row.num_annotations).toBe(1n);
      expect(row.agreement).toBe(1);
    });
  });

  it('merges several users over the same caption and images into one pair, keeping each ranking', async () => {
    const input = path.join(dir, 'multi.parquet');
    const base = {
      caption: 'a lighthouse at dusk',
      image_0_uid: 'L0',
      image_1_uid: 'L1',
      has_label: true,
    };
    await writeShardWithDuckDB(
      input,
      [
        { ...base, ranking_id: 1, user_id: 11, label_0: 1, label_1: 0 },
        { ...base, ranking_id: 2, user_id: 12, label_0: 1, label_1: 0 },
        // The same pair shown the other way round: its verdict must flip to the pair's order.
        {
          ...base,
          ranking_id: 3,
          user_id: 13,
          image_0_uid: 'L1',
          image_1_uid: 'L0',
          label_0: 0,
          label_1: 1,
        },
        {
          ...base,
          ranking_id: 4,
          user_id: 14,
          label_0: null,
          label_1: null,
          has_label: false,
          caption: 'unlabeled',
        },
      ],
      { images: false },
    );
    const file = path.join(dir, 'p.pickstudio');
    const { call, store } = openTestProject(file);
    await call('importSources', { sources: [input] });
    const stats = await call('getStats', {});
    expect(stats.counts).toMatchObject({ pairs: 2, annotations: 3, pairsWithVerdict: 1 });
    expect(stats.annotators.map((a) => a.name)).toEqual([
      'pickapic:11',
      'pickapic:12',
      'pickapic:13',
    ]);
    expect(stats.annotators.every((a) => a.kind === 'dataset' && a.verdicts.image0 === 1)).toBe(
      true,
    );
    const rankings = sqlite(store)
      .prepare('SELECT ranking_id, swapped FROM pair_sources ORDER BY 1')
      .all();
    expect(rankings).toEqual([
      { ranking_id: 1, swapped: 0 },
      { ranking_id: 2, swapped: 0 },
      { ranking_id: 3, swapped: 1 },
      { ranking_id: 4, swapped: 0 },
    ]);

    const out = path.join(dir, 'out.parquet');
    const annotationsOut = path.join(dir, 'annotations.parquet');
    await call('exportParquet', { out, images: false, annotationsOut });
    store.close();
    const exported = await db.rows(`SELECT * FROM '${out}'`);
    expect(exported).toHaveLength(1);
    expect(exported[0]).toMatchObject({
      caption: 'a lighthouse at dusk',
      image_0_uid: 'L0',
      best_image_uid: 'L0',
      label_0: 1,
      label_1: 0,
      ranking_id: 1n,
      user_id: null,
      num_annotations: 3n,
      agreement: 1,
      verdict_source: 'majority',
    });
    const columns = (await db.rows(`DESCRIBE SELECT * FROM '${out}'`)).map((r) => r.column_name);
    expect(columns).not.toContain('jpg_0');
    const raw = await db.rows(
      `SELECT annotator, ranking_id, verdict, is_current FROM '${annotationsOut}' ORDER BY ranking_id`,
    );
    expect(raw).toEqual([
      { annotator: 'pickapic:11', ranking_id: 1n, verdict: '0', is_current: true },
      { annotator: 'pickapic:12', ranking_id: 2n, verdict: '0', is_current: true },
      { annotator: 'pickapic:13', ranking_id: 3n, verdict: '0', is_current: true },
    ]);
  });

  it('re-importing the same rows, and a folder of shards, adds nothing twice', async () => {
    const folder = path.join(dir, 'data');
    fs.mkdirSync(path.join(folder, 'nested'), { recursive: true });
    const rows = await labeledRows(12, false);
    await writeShardWithDuckDB(path.join(folder, 'a.parquet'), rows.slice(0, 6), { images: false });
    await writeShardWithDuckDB(path.join(folder, 'nested', 'b.parquet'), rows.slice(6), {
      images: false,
    });
    const file = path.join(dir, 'p.pickstudio');
    const { call, store } = openTestProject(file);
    await call('importSources', { sources: [folder] });
    store.close();
    const before = projectDigest(file);

    const again = openTestProject(file);
    const report = await again.call('importSources', {
      sources: [folder, path.join(folder, 'a.parquet')],
    });
    again.store.close();
    expect(report.files).toHaveLength(2);
    expect(report.files.map((f) => [f.rows, f.rowsAlreadyPresent, f.pairsAdded])).toEqual([
      [6, 6, 0],
      [6, 6, 0],
    ]);
    expect(projectDigest(file)).toBe(before);
  });

  it('a ranking repeated inside one shard is imported once', async () => {
    const input = path.join(dir, 'dupes.parquet');
    const rows = await labeledRows(3, false);
    await writeShardWithDuckDB(
      input,
      [...rows, rows[1]!, { ...rows[2]!, label_0: 0, label_1: 1 }],
      { images: false },
    );
    const { call, store } = openTestProject(path.join(dir, 'p.pickstudio'));
    const report = await call('importSources', { sources: [input] });
    expect(report.files[0]).toMatchObject({
      rows: 5,
      pairsAdded: 3,
      annotationsAdded: 3,
      rowsAlreadyPresent: 2,
    });
    // The first occurrence of ranking 5002 wins: its tie stands, not the later (0, 1).
    expect(store.counts().verdicts).toEqual({ image0: 1, image1: 1, tie: 1 });
    store.close();
  });

  it('a no-images import followed by the shard with images fills in the bytes', async () => {
    const rows = await labeledRows(4, true);
    const withImages = path.join(dir, 'with.parquet');
    const without = path.join(dir, 'without.parquet');
    await writeShardWithDuckDB(without, rows, { images: false });
    await writeShardWithDuckDB(
      withImages,
      rows.map((r) => ({ ...r, ranking_id: BigInt(r.ranking_id) + 1000n })),
      {
        images: true,
      },
    );
    const { call, store } = openTestProject(path.join(dir, 'p.pickstudio'));
    await call('importSources', { sources: [without] });
    expect(store.counts().imagesWithBytes).toBe(0);
    await call('importSources', { sources: [withImages] });
    expect(store.counts()).toMatchObject({
      pairs: 4,
      images: 8,
      imagesWithBytes: 8,
      annotations: 8,
    });
    store.close();
  });
});

describe('export verdicts', () => {
  it('uses the latest adjudication first, then a strict majority, and leaves out pairs without one', async () => {
    const input = path.join(dir, 'votes.parquet');
    const pair = (caption: string) => ({
      caption,
      image_0_uid: `${caption}-0`,
      image_1_uid: `${caption}-1`,
      has_label: true,
    });
    let id = 1;
    const vote = (caption: string, user: number, label0: number, label1: number): ShardRow => ({
      ...pair(caption),
      ranking_id: id++,
      user_id: user,
      label_0: label0,
      label_1: label1,
    });
    await writeShardWithDuckDB(
      input,
      [
        vote('majority-1', 1, 0, 1),
        vote('majority-1', 2, 0, 1),
        vote('majority-1', 3, 1, 0),
        vote('split', 1, 1, 0),
        vote('split', 2, 0, 1),
        vote('adjudicated', 1, 1, 0),
        vote('adjudicated', 2, 1, 0),
        vote('tie', 4, 0.5, 0.5),
      ],
      { images: false },
    );
    const { call, store } = openTestProject(path.join(dir, 'p.pickstudio'));
    await call('importSources', { sources: [input] });
    const adjudicatedPair = sqlite(store)
      .prepare(
        "SELECT p.id FROM pairs p JOIN prompts t ON t.id = p.prompt_id WHERE t.text = 'adjudicated'",
      )
      .get() as { id: number };
    store.decisions.adjudicate({
      pairId: adjudicatedPair.id,
      verdict: 0,
      adjudicator: 'lead',
      note: '',
    });
    store.decisions.adjudicate({
      pairId: adjudicatedPair.id,
      verdict: 1,
      adjudicator: 'lead',
      note: 'on reflection',
    });
    const out = path.join(dir, 'out.parquet');
    const report = await call('exportParquet', { out, images: false });
    store.close();
    expect(report).toMatchObject({ rows: 3, pairsWithoutMajority: 1 });
    const rows = await db.rows(
      `SELECT caption, label_0, label_1, best_image_uid, verdict_source, agreement, num_annotations, user_id FROM '${out}' ORDER BY caption`,
    );
    expect(rows).toEqual([
      {
        caption: 'adjudicated',
        label_0: 0,
        label_1: 1,
        best_image_uid: 'adjudicated-1',
        verdict_source: 'adjudication',
        agreement: 0,
        num_annotations: 2n,
        user_id: null,
      },
      {
        caption: 'majority-1',
        label_0: 0,
        label_1: 1,
        best_image_uid: 'majority-1-1',
        verdict_source: 'majority',
        agreement: 2 / 3,
        num_annotations: 3n,
        user_id: null,
      },
      {
        caption: 'tie',
        label_0: 0.5,
        label_1: 0.5,
        best_image_uid: null,
        verdict_source: 'majority',
        agreement: 1,
        num_annotations: 1n,
        user_id: 4n,
      },
    ]);
  });

  it('an app undo takes a decision back without deleting it', async () => {
    const input = path.join(dir, 'one.parquet');
    await writeShardWithDuckDB(
      input,
      [
        {
          ranking_id: 9,
          caption: 'c',
          image_0_uid: 'x',
          image_1_uid: 'y',
          has_label: false,
          label_0: null,
          label_1: null,
          user_id: 1,
        },
      ],
      { images: false },
    );
    const { call, store } = openTestProject(path.join(dir, 'p.pickstudio'));
    await call('importSources', { sources: [input] });
    const annotatorId = store.decisions.annotatorId('ana', 'human');
    const [first] = store.decisions.record([
      {
        pairId: 1,
        annotatorId,
        decision: 0,
        leftImage: 1,
        suggestionVisible: true,
        decisionMs: 900,
        createdAt: Date.now(),
      },
    ]);
    store.decisions.record([{ pairId: 1, annotatorId, undoes: first!, createdAt: Date.now() }]);
    store.decisions.record([
      {
        pairId: 1,
        annotatorId,
        decision: 'tie',
        leftImage: 0,
        suggestionVisible: false,
        decisionMs: 1200,
        createdAt: Date.now(),
      },
    ]);
    const out = path.join(dir, 'out.parquet');
    const annotationsOut = path.join(dir, 'raw.parquet');
    await call('exportParquet', { out, images: false, annotationsOut });
    store.close();
    expect(await db.rows(`SELECT label_0, label_1, num_annotations FROM '${out}'`)).toEqual([
      { label_0: 0.5, label_1: 0.5, num_annotations: 1n },
    ]);
    expect(
      await db.rows(
        `SELECT action, verdict, undoes_id, is_current, left_image, suggestion_visible, decision_ms FROM '${annotationsOut}' ORDER BY annotation_id`,
      ),
    ).toEqual([
      {
        action: 'verdict',
        verdict: '0',
        undoes_id: null,
        is_current: false,
        left_image: 1n,
        suggestion_visible: true,
        decision_ms: 900n,
      },
      {
        action: 'undo',
        verdict: null,
        undoes_id: 1n,
        is_current: false,
        left_image: null,
        suggestion_visible: null,
        decision_ms: null,
      },
      {
        action: 'verdict',
        verdict: 'tie',
        undoes_id: null,
        is_current: true,
        left_image: 0n,
        suggestion_visible: false,
        decision_ms: 1200n,
      },
    ]);
  });

  it('a failed export leaves no file under the real name and keeps an earlier export', async () => {
    const input = path.join(dir, 'in.parquet');
    await writeShardWithDuckDB(input, await labeledRows(3, false), { images: false });
    const { call, store } = openTestProject(path.join(dir, 'p.pickstudio'));
    await call('importSources', { sources: [input] });
    const out = path.join(dir, 'out.parquet');
    await call('exportParquet', { out, images: false });
    const earlier = fs.readFileSync(out);
    // Point an image at a file that is gone: reading it fails half way through the export.
    sqlite(store)
      .prepare("UPDATE images SET path = ? WHERE uid = 'uid-2-a'")
      .run(path.join(dir, 'gone.jpg'));
    await expect(call('exportParquet', { out, images: true })).rejects.toThrow(/gone\.jpg/);
    store.close();
    expect(fs.readFileSync(out).equals(earlier)).toBe(true);
    expect(fs.readdirSync(dir).filter((name) => name.includes('partial'))).toEqual([]);
  });
});

describe("the dataset's annotators", () => {
  const base = { caption: 'a kite over dunes', image_0_uid: 'K0', image_1_uid: 'K1' };
  const label = (verdict: 0 | 1) =>
    verdict === 0
      ? { label_0: 1, label_1: 0, has_label: true }
      : { label_0: 0, label_1: 1, has_label: true };

  it('keeps int64 ids exact past 2^53, through the import and both exports', async () => {
    const big = 2n ** 53n;
    const input = path.join(dir, 'big.parquet');
    // As doubles, the two rankings are one number and the two users one person.
    await writeShardWithDuckDB(
      input,
      [
        { ...base, ...label(0), ranking_id: big + 1n, user_id: 2n ** 60n + 3n },
        {
          ...base,
          ...label(1),
          caption: 'another kite',
          ranking_id: big + 2n,
          user_id: 2n ** 60n + 5n,
        },
      ],
      { images: false },
    );
    const { call, store } = openTestProject(path.join(dir, 'p.pickstudio'));
    const report = await call('importSources', { sources: [input] });
    expect(report.files[0]).toMatchObject({ rows: 2, pairsAdded: 2, annotationsAdded: 2 });
    const stats = await call('getStats', {});
    expect(stats.annotators.map((a) => a.name)).toEqual([
      `pickapic:${2n ** 60n + 3n}`,
      `pickapic:${2n ** 60n + 5n}`,
    ]);
    const out = path.join(dir, 'out.parquet');
    const annotationsOut = path.join(dir, 'annotations.parquet');
    await call('exportParquet', { out, images: false, annotationsOut });
    // Importing the same shard again adds nothing: both rankings are known, exactly.
    const again = await call('importSources', { sources: [input] });
    expect(again.files[0]).toMatchObject({
      pairsAdded: 0,
      annotationsAdded: 0,
      rowsAlreadyPresent: 2,
    });
    store.close();
    expect(
      await db.rows(
        `SELECT ranking_id::VARCHAR AS ranking, user_id::VARCHAR AS user FROM '${out}' ORDER BY ranking_id`,
      ),
    ).toEqual([
      { ranking: String(big + 1n), user: String(2n ** 60n + 3n) },
      { ranking: String(big + 2n), user: String(2n ** 60n + 5n) },
    ]);
    expect(
      await db.rows(`SELECT ranking_id::VARCHAR AS ranking FROM '${annotationsOut}' ORDER BY 1`),
    ).toEqual([{ ranking: String(big + 1n) }, { ranking: String(big + 2n) }]);
  });

  it('rankings without a user are votes of their own, not one unknown person', async () => {
    const input = path.join(dir, 'anonymous.parquet');
    await writeShardWithDuckDB(
      input,
      [
        { ...base, ...label(0), ranking_id: 1, user_id: null },
        { ...base, ...label(0), ranking_id: 2, user_id: null },
        { ...base, ...label(1), ranking_id: 3, user_id: null },
      ],
      { images: false },
    );
    const { call, store } = openTestProject(path.join(dir, 'p.pickstudio'));
    await call('importSources', { sources: [input] });
    const [pair] = await call('listPairs', {});
    expect(pair).toMatchObject({ annotations: 3 });
    const stats = await call('getStats', {});
    expect(stats.counts.verdicts).toEqual({ image0: 2, image1: 1, tie: 0 });
    expect(stats.annotators.map((a) => a.name)).toEqual([
      'pickapic:unknown:1',
      'pickapic:unknown:2',
      'pickapic:unknown:3',
    ]);
    const out = path.join(dir, 'out.parquet');
    await call('exportParquet', { out, images: false });
    store.close();
    expect(await db.rows(`SELECT num_annotations, label_0, user_id FROM '${out}'`)).toEqual([
      { num_annotations: 3n, label_0: 1, user_id: null },
    ]);
  });

  it("a user's latest label on a pair counts, by created_at whatever the order, in a file and across files", async () => {
    const first = path.join(dir, 'first.parquet');
    await writeShardWithDuckDB(
      first,
      [
        // The later label comes first in the file; the earlier one, after it, is dropped.
        { ...base, ...label(1), ranking_id: 10, user_id: 7, created_at: '2023-05-02 10:00:00' },
        { ...base, ...label(0), ranking_id: 11, user_id: 7, created_at: '2023-05-01 10:00:00' },
        { ...base, ...label(0), ranking_id: 12, user_id: 8, created_at: '2023-05-01 10:00:00' },
      ],
      { images: false },
    );
    const { call, store } = openTestProject(path.join(dir, 'p.pickstudio'));
    const report = await call('importSources', { sources: [first] });
    expect(report.files[0]).toMatchObject({
      rows: 3,
      annotationsAdded: 2,
      duplicatesDropped: 1,
      rowsAlreadyPresent: 0,
    });
    const verdictOf = async (user: string) =>
      (await call('getStats', { annotator: user })).annotators[0]!.verdicts;
    expect(await verdictOf('pickapic:7')).toEqual({ image0: 0, image1: 1, tie: 0 });

    // A later file: an older label of user 7 is dropped, a newer label of user 8 counts.
    const second = path.join(dir, 'second.parquet');
    await writeShardWithDuckDB(
      second,
      [
        { ...base, ...label(0), ranking_id: 13, user_id: 7, created_at: '2023-04-30 10:00:00' },
        { ...base, ...label(1), ranking_id: 14, user_id: 8, created_at: '2023-05-03 10:00:00' },
      ],
      { images: false },
    );
    const later = await call('importSources', { sources: [second] });
    expect(later.files[0]).toMatchObject({ annotationsAdded: 1, duplicatesDropped: 1 });
    expect(await verdictOf('pickapic:7')).toEqual({ image0: 0, image1: 1, tie: 0 });
    expect(await verdictOf('pickapic:8')).toEqual({ image0: 0, image1: 1, tie: 0 });
    // Every ranking is kept as the dataset had it, dropped labels included.
    expect(sqlite(store).prepare('SELECT count(*) FROM pair_sources').pluck().get()).toBe(5);
    store.close();
  });

  it("nobody labels under the dataset's names, and nobody undoes the dataset's or a manifest's labels", async () => {
    const input = path.join(dir, 'one.parquet');
    await writeShardWithDuckDB(input, [{ ...base, ...label(0), ranking_id: 1, user_id: 7 }], {
      images: false,
    });
    const file = path.join(dir, 'p.pickstudio');
    const { call, store } = openTestProject(file);
    await call('importSources', { sources: [input] });
    store.decisions.annotatorId('demo:ana', 'import');
    const before = projectDigest(file);
    for (const annotator of ['pickapic:7', 'PICKAPIC:99', ' pickapic:new']) {
      await expect(
        call('recordDecision', {
          annotator,
          pairId: 1,
          decision: 1,
          leftImage: 0,
          suggestionVisible: false,
          decisionMs: 1,
        }),
      ).rejects.toThrow(
        /annotator: names starting with pickapic: belong to the dataset's annotators/,
      );
      await expect(call('undoLast', { annotator })).rejects.toThrow(/pickapic:/);
    }
    await expect(call('undoLast', { annotator: 'demo:ana' })).rejects.toThrow(
      /"demo:ana" is already used by an import annotator/,
    );
    expect(projectDigest(file)).toBe(before);
    store.close();
  });
});
