import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { openStudio } from '../../electron/core/studio';
import { shardRow, writeShardWithDuckDB } from '../helpers/duckdb';
import { failure } from '../helpers/errors';
import { stagesInWorker, WORKER_MIN_ROWS } from '../../electron/core/io/import-stage';
import {
  makeJpeg,
  makePng,
  projectDigest,
  sqlite,
  tempDir,
  writeJsonLines,
} from '../helpers/project';

/** Rows of each of the two big shards. */
const HALF = WORKER_MIN_ROWS / 2 + 10;

let dir: string;
let sources: string[];

const scratchFiles = (): string[] => fs.readdirSync(dir).filter((n) => n.includes('.import-'));

/** What a project holds, without its ids or the times of this run. */
function contents(file: string) {
  const studio = openStudio(file);
  const db = sqlite(studio.store);
  const all = (sql: string) => db.prepare(sql).raw().all();
  try {
    return {
      pairs: all(`SELECT pr.text, i0.uid, i0.sha256, i0.path, i1.uid, i1.sha256, i1.path,
                    p.model_0, p.model_1
                  FROM pairs p JOIN prompts pr ON pr.id = p.prompt_id
                  JOIN images i0 ON i0.id = p.image_0_id JOIN images i1 ON i1.id = p.image_1_id
                  ORDER BY p.id`),
      sources: all(`SELECT ranking_id, pair_id, swapped, user_id, label_0, label_1
                    FROM pair_sources ORDER BY ranking_id`),
      annotations: all(`SELECT a.pair_id, n.name, n.kind, a.verdict, a.ranking_id,
                          -- A manifest's labels are made at the time of the import.
                          iif(a.ranking_id IS NULL, NULL, a.created_at)
                        FROM annotations a JOIN annotators n ON n.id = a.annotator_id
                        ORDER BY a.id`),
      decisions: all(`SELECT pair_id, annotator_id, verdict FROM decisions
                      ORDER BY pair_id, annotator_id`),
      tallies: all('SELECT * FROM pair_tallies ORDER BY pair_id'),
      blobs: all('SELECT sha256, length(bytes), format FROM image_blobs ORDER BY sha256'),
    };
  } finally {
    studio.close();
  }
}

describe('starting the import worker', () => {
  it('happens for several files with rows enough to pay for it, never for one file', () => {
    expect(stagesInWorker([{ rows: 10 * WORKER_MIN_ROWS }])).toBe(false);
    expect(stagesInWorker([{ rows: 10 }, { rows: 10 }])).toBe(false);
    expect(stagesInWorker([{ rows: WORKER_MIN_ROWS - 10 }, { rows: 10 }])).toBe(true);
  });
});

describe('the import worker', () => {
  beforeEach(async () => {
    dir = tempDir();
    // Three shards whose rankings overlap (the second repeats five of the first, the third one of
    // its own rows), a user labeling a pair of the first again in the second, and a manifest: rows
    // enough for the worker (stagesInWorker).
    const first = path.join(dir, 'a.parquet');
    const second = path.join(dir, 'b.parquet');
    const third = path.join(dir, 'c.parquet');
    await writeShardWithDuckDB(
      first,
      Array.from({ length: HALF }, (_, i) => shardRow(i + 1)),
      { images: false, rowGroupSize: 10_000 },
    );
    await writeShardWithDuckDB(
      second,
      [
        ...Array.from({ length: HALF }, (_, i) => shardRow(i + HALF - 4, { user_id: 3 + (i % 4) })),
        shardRow(3 * HALF, {
          caption: 'caption 1',
          image_0_uid: 'a1',
          image_1_uid: 'b1',
          label_0: 0,
          label_1: 1,
        }),
      ],
      { images: false, rowGroupSize: 10_000 },
    );
    const jpeg = await makeJpeg(1);
    const png = await makePng(2);
    await writeShardWithDuckDB(
      third,
      [
        shardRow(3 * HALF + 1, { jpg_0: jpeg, jpg_1: png }),
        shardRow(3 * HALF + 2, { caption: 'caption 2', image_0_uid: 'a2', image_1_uid: 'b2' }),
        shardRow(3 * HALF + 1, { jpg_0: jpeg, jpg_1: png }),
        shardRow(3 * HALF + 3, { jpg_0: png, jpg_1: jpeg, caption: 'caption x' }),
      ].map((row) => ({ ...row, jpg_0: row.jpg_0 ?? jpeg, jpg_1: row.jpg_1 ?? png })),
      { images: true },
    );
    fs.mkdirSync(path.join(dir, 'images'));
    fs.writeFileSync(path.join(dir, 'images', 'x.jpg'), jpeg);
    fs.writeFileSync(path.join(dir, 'images', 'y.png'), png);
    const manifest = path.join(dir, 'images', 'pairs.jsonl');
    writeJsonLines(manifest, [
      { prompt: 'a cat', image_0: 'x.jpg', image_1: 'y.png', label: '0', annotator: 'ann' },
      { prompt: 'a cat', image_0: 'y.png', image_1: 'x.jpg', label: '0', annotator: 'bob' },
    ]);
    sources = [first, second, third, manifest];
  });

  it('stages the next file while this thread merges, with the same project and report as staging here', async () => {
    const imported = await Promise.all(
      [undefined, null].map(async (importWorker) => {
        const file = path.join(dir, `${importWorker === null ? 'here' : 'worker'}.pickstudio`);
        const studio = openStudio(file, { create: true, importWorker });
        const report = await studio.call('importSources', { sources });
        studio.close();
        return { report: report.files, contents: contents(file) };
      }),
    );
    const [inWorker, here] = imported;
    expect(stagesInWorker(here!.report)).toBe(true);
    expect(inWorker!.report).toEqual(here!.report);
    expect(inWorker!.contents).toEqual(here!.contents);
    // The rankings repeated across files and within one are counted once, whichever thread saw
    // them first: the worker may read the second file before the first is merged.
    expect(here!.report.map((f) => f.rowsAlreadyPresent)).toEqual([0, 5, 1, 0]);
    expect(here!.contents.sources).toHaveLength(HALF + (HALF + 1 - 5) + 3);
    expect(here!.contents.blobs).toHaveLength(2);
    expect(scratchFiles()).toEqual([]);
  });

  it('a merge that fails stops the next file being staged, removes its scratch file and keeps nothing of either', async () => {
    const file = path.join(dir, 'p.pickstudio');
    const studio = openStudio(file, { create: true });
    await studio.call('importSources', { sources: [sources[3]!] });
    studio.close();
    const before = projectDigest(file);

    const again = openStudio(file);
    const db = sqlite(again.store);
    // No page to grow by: the first shard's merge fails while the worker stages the second.
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    const shards = sources.slice(0, 3);
    expect(stagesInWorker(shards.map(() => ({ rows: HALF })))).toBe(true);
    const error = await failure(again.call('importSources', { sources: shards }));
    expect(error.code).toBe('disk_full');
    expect(error.message).toMatch(/importing a\.parquet failed: the disk is full/);
    expect(scratchFiles()).toEqual([]);
    again.close();
    expect(projectDigest(file)).toBe(before);
  });

  it('closing the project while the worker stages stops the import: it answers, and the project holds whole files only', async () => {
    const file = path.join(dir, 'p.pickstudio');
    let reading: () => void;
    const read = new Promise<void>((resolve) => (reading = resolve));
    const studio = openStudio(file, {
      create: true,
      progress: (p) => p.kind === 'import' && p.done > 0 && reading(),
    });
    const importing = failure(studio.call('importSources', { sources }));
    await read;
    // Ending the worker's thread while DuckDB read in it aborted the whole process.
    studio.close();
    const error = await importing;
    expect(error.code).toBe('cancelled');
    expect(error.message).toMatch(/import cancelled/);
    expect(scratchFiles()).toEqual([]);
    const reopened = openStudio(file);
    expect(sqlite(reopened.store).pragma('integrity_check', { simple: true })).toBe('ok');
    // Closed during the first file or after it: the shards' rows land whole, or not at all.
    expect([0, HALF]).toContain(reopened.store.counts().pairs);
    reopened.close();
  });
});
