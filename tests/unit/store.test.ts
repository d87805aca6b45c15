import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
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
