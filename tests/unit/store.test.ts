import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Prng } from '../../electron/core/metrics';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from '../../electron/core/store/migrations';
import { PICKSTUDIO_APPLICATION_ID } from '../../electron/core/store/open';
import { ProjectStore } from '../../electron/core/store/project-store';
import {
  DecisionPacking,
  LONG_TIME,
  NO_TIME,
  packVerdictSide,
  unpackVerdictSide,
  type PackedDecision,
} from '../../electron/core/store/decision-packing';
import type { AnnotationRecord } from '../../electron/core/store/decisions';
import {
  IMAGE_0,
  IMAGE_1,
  TIE,
  verdictCategory,
  type VerdictCategory,
} from '../../electron/core/metrics/categories';
import { VERDICTS } from '../../shared/labels';
import { tempDir, sqlite } from '../helpers/project';

describe('project file', () => {
  it('is created with WAL, foreign keys, full sync, our application id and the latest schema', () => {
    const file = path.join(tempDir(), 'nested', 'new.pickstudio');
    const store = ProjectStore.open(file, { create: true });
    expect(sqlite(store).pragma('journal_mode', { simple: true })).toBe('wal');
    expect(sqlite(store).pragma('foreign_keys', { simple: true })).toBe(1);
    expect(sqlite(store).pragma('synchronous', { simple: true })).toBe(2);
    expect(sqlite(store).pragma('application_id', { simple: true })).toBe(
      PICKSTUDIO_APPLICATION_ID,
    );
    expect(store.schemaVersion).toBe(LATEST_SCHEMA_VERSION);
    store.close();
    expect(fs.existsSync(file)).toBe(true);
  });

  it("derived writes (embeddings, scores) skip the fsync, and leave labels' full sync in place, even when one fails", () => {
    const store = ProjectStore.open(path.join(tempDir(), 'derived.pickstudio'), { create: true });
    const db = sqlite(store);
    const model = store.scores.activate({
      fingerprint: 'f',
      name: 'm',
      manifest: '{}',
      folder: '.',
    });
    db.prepare("INSERT INTO prompts (text) VALUES ('a')").run();
    const set: string[] = [];
    const pragma = db.pragma.bind(db);
    db.pragma = ((source: string, options?: { simple?: boolean }) => {
      if (source.startsWith('synchronous =')) set.push(source);
      return pragma(source, options);
    }) as typeof db.pragma;

    store.scores.putPromptEmbeddings(model, [{ id: 1, embedding: new Float32Array([1, 0]) }]);
    expect(set).toEqual(['synchronous = NORMAL', 'synchronous = 2']);
    // No such prompt: the write fails, and full sync is back all the same.
    expect(() =>
      store.scores.putPromptEmbeddings(model, [{ id: 999, embedding: new Float32Array([1]) }]),
    ).toThrow();
    expect(pragma('synchronous', { simple: true })).toBe(2);
    store.close();
  });

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  /**
   * A new project with a scratch table, its first checkpoint made: the main file's size, and
   * `insert` to add a page to the WAL per call.
   */
  async function walProject(name: string) {
    const file = path.join(tempDir(), name);
    const store = ProjectStore.open(file, { create: true });
    const db = sqlite(store);
    db.exec('CREATE TABLE t (x BLOB)'); // scratch rows only, in a test's own project
    await sleep(1500);
    const insert = db.prepare('INSERT INTO t VALUES (randomblob(3000))');
    return { file, store, fileSize: fs.statSync(file).size, insert: () => insert.run() };
  }

  it('checkpoints the WAL on a timer between calls, never inside a commit', async () => {
    const { file, store, fileSize, insert } = await walProject('wal.pickstudio');
    // 1,500 commits of a 4 kB page each: past the 1,000 pages at which SQLite checkpoints.
    for (let i = 0; i < 1500; i++) insert();
    expect(fs.statSync(file).size).toBe(fileSize);
    expect(fs.statSync(`${file}-wal`).size).toBeGreaterThan(1000 * 4096);
    await sleep(1500);
    expect(fs.statSync(file).size).toBeGreaterThan(fileSize + 1000 * 3000);
    store.close();
  });

  it("holds the timer's checkpoints back while a bulk write runs, and makes them after it", async () => {
    const { file, store, fileSize, insert } = await walProject('bulk.pickstudio');
    await store.deferringCheckpoints(async () => {
      for (let i = 0; i < 500; i++) insert();
      // The timer fires twice meanwhile, between the bulk write's steps.
      await sleep(2500);
      expect(fs.statSync(file).size).toBe(fileSize);
    });
    await sleep(2500);
    expect(fs.statSync(file).size).toBeGreaterThan(fileSize + 500 * 3000);
    store.close();
  });

  it('is not created unless asked', () => {
    const file = path.join(tempDir(), 'absent.pickstudio');
    expect(() => ProjectStore.open(file)).toThrow(/absent\.pickstudio: no such project file/);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('migrations are numbered 1, 2, … with no gap', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
  });

  it('schema snapshot: a change to the schema is a visible diff', () => {
    const store = ProjectStore.open(path.join(tempDir(), 's.pickstudio'), { create: true });
    const schema = sqlite(store)
      .prepare(
        'SELECT type, name, sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY type, name',
      )
      .all() as { type: string; name: string; sql: string }[];
    store.close();
    expect(
      schema.map((s) => `${s.type} ${s.name}\n${s.sql.replace(/\s+/g, ' ')}`).join('\n\n'),
    ).toMatchSnapshot();
  });

  it('refuses foreign keys that point nowhere', () => {
    const store = ProjectStore.open(path.join(tempDir(), 'fk.pickstudio'), { create: true });
    expect(() =>
      sqlite(store)
        .prepare(
          'INSERT INTO pairs (prompt_id, image_0_id, image_1_id, added_at) VALUES (42, 1, 2, 0)',
        )
        .run(),
    ).toThrow(/FOREIGN KEY/);
    store.close();
  });
});

describe('annotations are append-only', () => {
  function projectWithPair() {
    const store = ProjectStore.open(path.join(tempDir(), 'a.pickstudio'), { create: true });
    const db = sqlite(store);
    const promptId = db
      .prepare("INSERT INTO prompts (text) VALUES ('a cat')")
      .run().lastInsertRowid;
    const [image0Id, image1Id] = ['x', 'y'].map(
      (uid) => db.prepare('INSERT INTO images (uid) VALUES (?)').run(uid).lastInsertRowid,
    );
    const pairId = Number(
      db
        .prepare(
          'INSERT INTO pairs (prompt_id, image_0_id, image_1_id, added_at) VALUES (?, ?, ?, ?)',
        )
        .run(promptId, image0Id, image1Id, Date.now()).lastInsertRowid,
    );
    return { store, pairId, annotatorId: store.decisions.annotatorId('ana', 'human') };
  }
  const current = (store: ProjectStore) =>
    sqlite(store).prepare('SELECT action, verdict FROM current_annotations ORDER BY id').all();

  it('the latest decision counts; an undo takes it back and exposes the one before', () => {
    const { store, pairId, annotatorId } = projectWithPair();
    const at = Date.now();
    store.decisions.record([{ pairId, annotatorId, decision: 0, createdAt: at }]);
    const [second] = store.decisions.record([{ pairId, annotatorId, decision: 1, createdAt: at }]);
    expect(current(store)).toEqual([{ action: 'verdict', verdict: '1' }]);
    store.decisions.record([{ pairId, annotatorId, undoes: second!, createdAt: at }]);
    expect(current(store)).toEqual([{ action: 'verdict', verdict: '0' }]);
    store.decisions.record([{ pairId, annotatorId, decision: 'skip', createdAt: at }]);
    expect(current(store)).toEqual([{ action: 'skip', verdict: null }]);
    expect(store.counts()).toMatchObject({ annotations: 4, skips: 1, pairsWithVerdict: 0 });
    store.close();
  });

  it('refuses a verdict without a verdict, and an undo without its target', () => {
    // Rows the typed API cannot express, written as SQL: the schema's CHECKs refuse them.
    const { store, pairId, annotatorId } = projectWithPair();
    expect(() =>
      sqlite(store)
        .prepare(
          "INSERT INTO annotations (pair_id, annotator_id, action, created_at) VALUES (?, ?, 'verdict', 0)",
        )
        .run(pairId, annotatorId),
    ).toThrow(/CHECK/);
    expect(() =>
      sqlite(store)
        .prepare(
          "INSERT INTO annotations (pair_id, annotator_id, action, created_at) VALUES (?, ?, 'undo', 0)",
        )
        .run(pairId, annotatorId),
    ).toThrow(/CHECK/);
    store.close();
  });

  it('an annotator name belongs to one kind', () => {
    const { store } = projectWithPair();
    expect(() => store.decisions.annotatorId('ana', 'dataset')).toThrow(
      /already used by a human annotator/,
    );
    store.close();
  });
});

describe('the decisions table (migration 4)', () => {
  // A decision as migration 1's view defined it: per (pair, annotator) the latest verdict or
  // skip that no undo took back.
  const DEFINITION = `
    SELECT a.pair_id AS pair, a.annotator_id AS annotator, a.id, a.action, a.verdict
    FROM annotations a
    WHERE a.action IN ('verdict', 'skip')
      AND NOT EXISTS (SELECT 1 FROM annotations u WHERE u.undoes_id = a.id)
      AND a.id = (SELECT max(b.id) FROM annotations b
        WHERE b.pair_id = a.pair_id AND b.annotator_id = a.annotator_id
          AND b.action IN ('verdict', 'skip')
          AND NOT EXISTS (SELECT 1 FROM annotations u WHERE u.undoes_id = b.id))
    ORDER BY 1, 2`;
  const TABLE = `SELECT pair_id AS pair, annotator_id AS annotator, annotation_id AS id, action,
    verdict FROM decisions ORDER BY 1, 2`;
  const TALLIES_BY_DEFINITION = `SELECT annotator, sum(action = 'verdict') AS verdicts,
    sum(action = 'skip') AS skips, sum(action = 'verdict' AND verdict = '0') AS image0,
    sum(action = 'verdict' AND verdict = '1') AS image1,
    sum(action = 'verdict' AND verdict = 'tie') AS ties
    FROM (${DEFINITION}) GROUP BY annotator ORDER BY annotator`;
  const TALLIES = `SELECT annotator_id AS annotator, verdicts, skips, image0, image1, ties
    FROM annotator_tallies WHERE verdicts + skips > 0 ORDER BY annotator`;

  const PAIR_TALLIES_BY_DEFINITION = `SELECT p.id AS pair,
    count(c.pair) AS verdicts, count(c.verdict = '0' OR NULL) AS image0,
    count(c.verdict = '1' OR NULL) AS image1, count(c.verdict = 'tie' OR NULL) AS ties
    FROM pairs p LEFT JOIN (${DEFINITION}) c ON c.pair = p.id AND c.action = 'verdict'
    GROUP BY p.id ORDER BY p.id`;
  const PAIR_TALLIES =
    'SELECT pair_id AS pair, verdicts, image0, image1, ties FROM pair_tallies ORDER BY pair_id';

  /** Random verdicts, skips, and undos of any decision still standing, current or not. */
  function randomHistory(
    db: Database.Database,
    steps: number,
    seed: number,
    check?: () => void,
  ): void {
    const rng = new Prng(seed);
    const insert = db.prepare(
      `INSERT INTO annotations (pair_id, annotator_id, action, verdict, undoes_id, created_at)
       VALUES (?, ?, ?, ?, ?, 0)`,
    );
    const undoable = db
      .prepare(
        `SELECT a.id, a.pair_id, a.annotator_id FROM annotations a WHERE a.action != 'undo'
           AND NOT EXISTS (SELECT 1 FROM annotations u WHERE u.undoes_id = a.id) ORDER BY a.id`,
      )
      .raw();
    for (let step = 0; step < steps; step++) {
      const pair = 1 + rng.nextIndex(3);
      const annotator = 1 + rng.nextIndex(2);
      const roll = rng.next();
      if (roll < 0.5)
        insert.run(pair, annotator, 'verdict', ['0', '1', 'tie'][rng.nextIndex(3)], null);
      else if (roll < 0.65) insert.run(pair, annotator, 'skip', null, null);
      else {
        const standing = undoable.all() as [number, number, number][];
        if (standing.length === 0) continue;
        const [id, p, a] = standing[rng.nextIndex(standing.length)]!;
        insert.run(p, a, 'undo', null, id);
      }
      check?.();
    }
  }

  function seedPairs(db: Database.Database): void {
    db.exec(`INSERT INTO prompts (id, text) VALUES (1, 'a cat');
      INSERT INTO images (id, uid) VALUES (1, 'a'), (2, 'b'), (3, 'c');
      INSERT INTO pairs (id, prompt_id, image_0_id, image_1_id, added_at)
        VALUES (1, 1, 1, 2, 0), (2, 1, 2, 3, 0), (3, 1, 1, 3, 0);
      INSERT INTO annotators (id, name, kind, created_at)
        VALUES (1, 'ana', 'human', 0), (2, 'ben', 'human', 0);`);
  }

  it('the triggers keep it equal to the definition of a decision, step by step', () => {
    const store = ProjectStore.open(path.join(tempDir(), 'd.pickstudio'), { create: true });
    seedPairs(sqlite(store));
    const table = sqlite(store).prepare(TABLE);
    const definition = sqlite(store).prepare(DEFINITION);
    let checked = 0;
    const tallies = sqlite(store).prepare(TALLIES);
    const talliesByDefinition = sqlite(store).prepare(TALLIES_BY_DEFINITION);
    const pairTallies = sqlite(store).prepare(PAIR_TALLIES);
    const pairTalliesByDefinition = sqlite(store).prepare(PAIR_TALLIES_BY_DEFINITION);
    randomHistory(sqlite(store), 400, 7, () => {
      expect(table.all()).toEqual(definition.all());
      expect(tallies.all()).toEqual(talliesByDefinition.all());
      expect(pairTallies.all()).toEqual(pairTalliesByDefinition.all());
      checked++;
    });
    expect(checked).toBeGreaterThan(350);
    expect(sqlite(store).prepare(TALLIES).all()).toEqual(
      sqlite(store).prepare(TALLIES_BY_DEFINITION).all(),
    );
    expect(sqlite(store).prepare(PAIR_TALLIES).all()).toEqual(
      sqlite(store).prepare(PAIR_TALLIES_BY_DEFINITION).all(),
    );
    store.close();
  });

  it('a project file of version 3 gains it, filled from its annotations, on opening', () => {
    const file = path.join(tempDir(), 'v3.pickstudio');
    const old = new Database(file);
    old.pragma(`application_id = ${PICKSTUDIO_APPLICATION_ID}`);
    for (const migration of MIGRATIONS.filter((m) => m.version <= 3)) old.exec(migration.sql);
    old.pragma('user_version = 3');
    seedPairs(old);
    randomHistory(old, 200, 11);
    const expected = old.prepare(DEFINITION).all();
    const expectedTallies = old.prepare(TALLIES_BY_DEFINITION).all();
    const expectedPairTallies = old.prepare(PAIR_TALLIES_BY_DEFINITION).all();
    old.close();
    expect(expected.length).toBeGreaterThan(0);

    const store = ProjectStore.open(file);
    expect(store.schemaVersion).toBe(LATEST_SCHEMA_VERSION);
    expect(sqlite(store).prepare(TABLE).all()).toEqual(expected);
    expect(sqlite(store).prepare(TALLIES).all()).toEqual(expectedTallies);
    expect(sqlite(store).prepare(PAIR_TALLIES).all()).toEqual(expectedPairTallies);
    expect(store.pairs.count()).toBe(3);
    store.close();
  });
});

describe('decision packing (store/decision-packing.ts)', () => {
  const CATEGORIES: VerdictCategory[] = [IMAGE_0, TIE, IMAGE_1];
  const SIDES: (0 | 1 | null)[] = [0, 1, null];
  const CODES = CATEGORIES.flatMap((category) =>
    SIDES.map((leftImage) => packVerdictSide(category, leftImage)),
  );

  /** A project with pairs of these ids, each with its own prompt. */
  function projectWithPairs(name: string, pairIds: number[]): ProjectStore {
    const store = ProjectStore.open(path.join(tempDir(), name), { create: true });
    const db = sqlite(store);
    db.exec("INSERT INTO images (id, uid) VALUES (1, 'a'), (2, 'b')");
    for (const id of pairIds) {
      db.prepare('INSERT INTO prompts (id, text) VALUES (?, ?)').run(id, `prompt ${id}`);
      db.prepare(
        'INSERT INTO pairs (id, prompt_id, image_0_id, image_1_id, added_at) VALUES (?, ?, 1, 2, 0)',
      ).run(id, id);
    }
    return store;
  }

  it('verdict_side: every category and side packs to its own code and unpacks back', () => {
    for (const category of CATEGORIES) {
      for (const leftImage of SIDES) {
        const code = packVerdictSide(category, leftImage);
        expect(unpackVerdictSide(code)).toEqual({ category, leftImage });
      }
    }
    expect(new Set(CODES).size).toBe(9);
    // Codes that name no category (3 mod 4) or no side (above 2) are refused.
    for (const code of [3, 7, 11, 12, 13, 15]) {
      expect(() => unpackVerdictSide(code)).toThrow(RangeError);
    }
  });

  it("SQLite's generated column decisions.verdict_side is packVerdictSide's, for every verdict and side", () => {
    const cases = VERDICTS.flatMap((verdict) => SIDES.map((leftImage) => ({ verdict, leftImage })));
    // One pair per case: a pair has one current decision per annotator.
    const store = projectWithPairs(
      'vs.pickstudio',
      cases.map((_, i) => i + 1),
    );
    const db = sqlite(store);
    const annotatorId = store.decisions.annotatorId('ana', 'human');
    store.decisions.record(
      cases.map(({ verdict, leftImage }, i) => ({
        pairId: i + 1,
        annotatorId,
        decision: verdict,
        leftImage,
        createdAt: 0,
      })),
    );
    const column = db
      .prepare<[], number>('SELECT verdict_side FROM decisions ORDER BY pair_id')
      .pluck()
      .all();
    expect(column).toEqual(
      cases.map(({ verdict, leftImage }) => packVerdictSide(verdictCategory(verdict), leftImage)),
    );
    expect(new Set(column).size).toBe(9);
    // A skip names no image: it has no verdict_side.
    store.decisions.record([{ pairId: 1, annotatorId, decision: 'skip', createdAt: 0 }]);
    expect(db.prepare('SELECT verdict_side FROM decisions WHERE pair_id = 1').pluck().get()).toBe(
      null,
    );
    store.close();
  });

  it('a decision packs into one safe integer and unpacks back, at small and large sizes', () => {
    for (const [lastPairId, lastAnnotatorId] of [
      [3, 2],
      [1_000_000, 5_000],
    ] as const) {
      const packing = new DecisionPacking(lastPairId, lastAnnotatorId);
      expect(packing.annotatorSpan).toBeGreaterThan(lastAnnotatorId);
      const longest = packing.timeSpan - 3;
      const times: [number, number][] = [
        // [time packed, time unpacked]
        [NO_TIME, NO_TIME],
        [0, 0],
        [850, 850],
        [longest, longest],
        [longest + 1, LONG_TIME],
        [3 * 86_400_000, LONG_TIME],
        [LONG_TIME, LONG_TIME],
      ];
      const into: PackedDecision = { pairId: -1, annotatorId: -1, verdictSide: -1, time: 0 };
      const seen = new Set<number>();
      for (const pairId of [1, 2, lastPairId]) {
        for (const annotatorId of [1, lastAnnotatorId]) {
          for (const verdictSide of CODES) {
            for (const [time, unpacked] of times) {
              const value = packing.pack({ pairId, annotatorId, verdictSide, time });
              expect(Number.isSafeInteger(value)).toBe(true);
              expect(packing.unpackInto(value, into)).toEqual({
                pairId,
                annotatorId,
                verdictSide,
                time: unpacked,
              });
              seen.add(value);
            }
          }
        }
      }
      // Distinct decisions pack to distinct values; the three times too long are one value.
      expect(seen.size).toBe(3 * 2 * CODES.length * (times.length - 2));
    }
    // With a million pairs and 5,000 annotators the time field is below 2^24 ms, but holds a minute.
    expect(new DecisionPacking(1_000_000, 5_000).timeSpan).toBeLessThan(2 ** 24);
    expect(new DecisionPacking(1_000_000, 5_000).timeSpan).toBeGreaterThan(60_000);
    expect(() => new DecisionPacking(2 ** 40, 2 ** 20)).toThrow(/too many/);
  });

  it("its SQL over real decisions rows is pack()'s value, and unpacks to the rows' columns", () => {
    // Pair ids and an annotator id far apart, as in a large project.
    const store = projectWithPairs('pack.pickstudio', [1, 2, 1_000_000]);
    const db = sqlite(store);
    db.exec("INSERT INTO annotators (id, name, kind, created_at) VALUES (5000, 'zed', 'human', 0)");
    const ana = store.decisions.annotatorId('ana', 'human');
    const ben = store.decisions.annotatorId('ben', 'human');
    const packing = new DecisionPacking(store.pairs.lastPairId(), 5000);
    const longest = packing.timeSpan - 3;
    const times = [null, 0, 850, longest, longest + 1, 3 * 86_400_000];
    const decisions: AnnotationRecord[] = [];
    let i = 0;
    for (const pairId of [1, 2, 1_000_000]) {
      for (const annotatorId of [ana, ben, 5000]) {
        // Every verdict with every side, and every time, spread over the nine keys.
        decisions.push({
          pairId,
          annotatorId,
          decision: VERDICTS[i % 3]!,
          leftImage: SIDES[Math.floor(i / 3)]!,
          decisionMs: times[i % times.length]!,
          createdAt: 0,
        });
        i++;
      }
    }
    store.decisions.record(decisions);
    const rows = db
      .prepare<
        [],
        {
          pairId: number;
          annotatorId: number;
          verdictSide: number;
          decisionMs: number | null;
          packed: number;
        }
      >(
        `SELECT pair_id AS pairId, annotator_id AS annotatorId, verdict_side AS verdictSide,
           decision_ms AS decisionMs, ${packing.sql()} AS packed
         FROM decisions ORDER BY pair_id, annotator_id`,
      )
      .all();
    expect(rows).toHaveLength(9);
    expect(new Set(rows.map((r) => r.verdictSide)).size).toBe(9);
    expect(new Set(rows.map((r) => r.decisionMs)).size).toBe(times.length);
    const into: PackedDecision = { pairId: -1, annotatorId: -1, verdictSide: -1, time: 0 };
    for (const { pairId, annotatorId, verdictSide, decisionMs, packed } of rows) {
      const time = decisionMs ?? NO_TIME;
      expect(packed).toBe(packing.pack({ pairId, annotatorId, verdictSide, time }));
      expect(packing.unpackInto(packed, into)).toEqual({
        pairId,
        annotatorId,
        verdictSide,
        time: decisionMs === null ? NO_TIME : decisionMs <= longest ? decisionMs : LONG_TIME,
      });
    }
    // The times too long for the field are the ones timeFitsSql() leaves out.
    expect(
      db
        .prepare(
          `SELECT decision_ms FROM decisions
           WHERE decision_ms IS NOT NULL AND NOT ${packing.timeFitsSql()} ORDER BY decision_ms`,
        )
        .pluck()
        .all(),
    ).toEqual([longest + 1, 3 * 86_400_000]);
    store.close();
  });
});
