import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Prng } from '../../electron/core/metrics';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from '../../electron/core/store/migrations';
import { PICKSTUDIO_APPLICATION_ID } from '../../electron/core/store/open';
import { ProjectStore } from '../../electron/core/store/project-store';
import { tempDir } from '../helpers/project';

describe('project file', () => {
  it('is created with WAL, foreign keys, full sync, our application id and the latest schema', () => {
    const file = path.join(tempDir(), 'nested', 'new.pickstudio');
    const store = ProjectStore.open(file, { create: true });
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
    expect(store.db.pragma('application_id', { simple: true })).toBe(PICKSTUDIO_APPLICATION_ID);
    expect(store.schemaVersion).toBe(LATEST_SCHEMA_VERSION);
    store.close();
    expect(fs.existsSync(file)).toBe(true);
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
    const schema = store.db
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
      store.insertPair({
        promptId: 42,
        image0Id: 1,
        image1Id: 2,
        model0: null,
        model1: null,
        createdAt: null,
      }),
    ).toThrow(/FOREIGN KEY/);
    store.close();
  });
});

describe('annotations are append-only', () => {
  function projectWithPair() {
    const store = ProjectStore.open(path.join(tempDir(), 'a.pickstudio'), { create: true });
    const pairId = store.insertPair({
      promptId: store.promptId('a cat'),
      image0Id: store.imageId({ uid: 'x' }),
      image1Id: store.imageId({ uid: 'y' }),
      model0: null,
      model1: null,
      createdAt: null,
    });
    return { store, pairId, annotatorId: store.annotatorId('ana', 'human') };
  }
  const current = (store: ProjectStore) =>
    store.db.prepare('SELECT action, verdict FROM current_annotations ORDER BY id').all();

  it('the latest decision counts; an undo takes it back and exposes the one before', () => {
    const { store, pairId, annotatorId } = projectWithPair();
    const at = Date.now();
    store.insertAnnotation({ pairId, annotatorId, action: 'verdict', verdict: 0, createdAt: at });
    const second = store.insertAnnotation({
      pairId,
      annotatorId,
      action: 'verdict',
      verdict: 1,
      createdAt: at,
    });
    expect(current(store)).toEqual([{ action: 'verdict', verdict: '1' }]);
    store.insertAnnotation({
      pairId,
      annotatorId,
      action: 'undo',
      undoesId: second,
      createdAt: at,
    });
    expect(current(store)).toEqual([{ action: 'verdict', verdict: '0' }]);
    store.insertAnnotation({ pairId, annotatorId, action: 'skip', createdAt: at });
    expect(current(store)).toEqual([{ action: 'skip', verdict: null }]);
    expect(store.counts()).toMatchObject({ annotations: 4, skips: 1, pairsWithVerdict: 0 });
    store.close();
  });

  it('refuses a verdict without a verdict, and an undo without its target', () => {
    const { store, pairId, annotatorId } = projectWithPair();
    expect(() =>
      store.db
        .prepare(
          "INSERT INTO annotations (pair_id, annotator_id, action, created_at) VALUES (?, ?, 'verdict', 0)",
        )
        .run(pairId, annotatorId),
    ).toThrow(/CHECK/);
    expect(() =>
      store.insertAnnotation({ pairId, annotatorId, action: 'undo', createdAt: 0 }),
    ).toThrow(/CHECK/);
    store.close();
  });

  it('an annotator name belongs to one kind', () => {
    const { store } = projectWithPair();
    expect(() => store.annotatorId('ana', 'dataset')).toThrow(/already used by a human annotator/);
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
    sum(action = 'skip') AS skips FROM (${DEFINITION}) GROUP BY annotator ORDER BY annotator`;
  const TALLIES = `SELECT annotator_id AS annotator, verdicts, skips FROM annotator_tallies
    WHERE verdicts + skips > 0 ORDER BY annotator`;

  const PAIR_TALLIES_BY_DEFINITION = `SELECT p.id AS pair,
    (SELECT count(*) FROM (${DEFINITION}) c WHERE c.pair = p.id AND c.action = 'verdict') AS verdicts
    FROM pairs p ORDER BY p.id`;
  const PAIR_TALLIES = 'SELECT pair_id AS pair, verdicts FROM pair_tallies ORDER BY pair_id';

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
    seedPairs(store.db);
    const table = store.db.prepare(TABLE);
    const definition = store.db.prepare(DEFINITION);
    let checked = 0;
    randomHistory(store.db, 400, 7, () => {
      expect(table.all()).toEqual(definition.all());
      checked++;
    });
    expect(checked).toBeGreaterThan(350);
    expect(store.db.prepare(TALLIES).all()).toEqual(store.db.prepare(TALLIES_BY_DEFINITION).all());
    expect(store.db.prepare(PAIR_TALLIES).all()).toEqual(
      store.db.prepare(PAIR_TALLIES_BY_DEFINITION).all(),
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
    expect(store.db.prepare(TABLE).all()).toEqual(expected);
    expect(store.db.prepare(TALLIES).all()).toEqual(expectedTallies);
    expect(store.db.prepare(PAIR_TALLIES).all()).toEqual(expectedPairTallies);
    expect(store.labelProgress(null).total).toBe(3);
    store.close();
  });
});
