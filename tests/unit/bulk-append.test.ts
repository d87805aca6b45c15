import path from 'node:path';
import type Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { appendInBulk, DECISION_TRIGGERS } from '../../electron/core/store/bulk-append';
import { openDatabase } from '../../electron/core/store/open';
import { insertPairs, tempDir } from '../helpers/project';

const PAIRS = 40;
const ANNOTATORS = 4;

/** A small deterministic generator, so a failing seed can be run again. */
function prng(seed: number): (below: number) => number {
  let state = seed >>> 0;
  return (below) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % below;
  };
}

type Event = [
  pairId: number,
  annotatorId: number,
  action: 'verdict' | 'skip' | 'undo',
  verdict: string | null,
  undoesId: number | null,
  leftImage: number | null,
];

/**
 * A random stretch of annotation log, following ids from `nextId` on: verdicts, skips, changed
 * minds, and undos of any decision of the same key before it (the current one, an older one, one
 * undone already, one of this stretch). Now and then an undo names another pair than its target's,
 * as a crafted annotation log could: the triggers go by the target.
 */
function randomEvents(
  random: (below: number) => number,
  count: number,
  nextId: number,
  earlier: Map<string, number[]>,
  undos: boolean,
): Event[] {
  const events: Event[] = [];
  for (let i = 0; i < count; i++) {
    const pairId = 1 + random(PAIRS);
    const annotatorId = 1 + random(ANNOTATORS);
    const key = `${pairId}:${annotatorId}`;
    const decided = earlier.get(key) ?? [];
    const roll = random(10);
    if (undos && roll < 3 && decided.length > 0) {
      const target = decided[random(decided.length)]!;
      const stray = roll === 0 ? 1 + random(PAIRS) : pairId;
      events.push([stray, annotatorId, 'undo', null, target, null]);
    } else {
      const skip = roll === 3;
      const verdict = skip ? null : ['0', '1', 'tie'][random(3)]!;
      events.push([pairId, annotatorId, skip ? 'skip' : 'verdict', verdict, null, random(2)]);
      earlier.set(key, [...decided, nextId + i]);
    }
  }
  return events;
}

function project(dir: string, name: string): Database.Database {
  const db = openDatabase(path.join(dir, `${name}.pickstudio`), { create: true });
  insertPairs(db, PAIRS);
  const annotator = db.prepare(
    `INSERT INTO annotators (name, kind, created_at, uid) VALUES (?, 'human', 0, ?)`,
  );
  for (let i = 1; i <= ANNOTATORS; i++) annotator.run(`a${i}`, `uid-${i}`);
  return db;
}

function append(db: Database.Database, events: Event[], firstId: number): number {
  const insert = db.prepare(
    `INSERT INTO annotations (id, pair_id, annotator_id, action, verdict, undoes_id, left_image,
       created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0)`,
  );
  for (const [i, event] of events.entries()) insert.run(firstId + i, ...event);
  return events.length;
}

/** What the decision triggers keep, whole. */
function kept(db: Database.Database) {
  return {
    decisions: db.prepare('SELECT * FROM decisions ORDER BY pair_id, annotator_id').all(),
    annotators: db.prepare('SELECT * FROM annotator_tallies ORDER BY annotator_id').all(),
    pairs: db.prepare('SELECT * FROM pair_tallies ORDER BY pair_id').all(),
  };
}

const triggers = (db: Database.Database) =>
  db
    .prepare(
      `SELECT name, sql FROM sqlite_master
       WHERE type = 'trigger' AND tbl_name IN ('annotations', 'decisions') ORDER BY name`,
    )
    .all();

describe('appending annotations in bulk', () => {
  it('leaves the decisions and tallies the per-row triggers leave, whatever the log', () => {
    const dir = tempDir();
    for (let seed = 1; seed <= 12; seed++) {
      const random = prng(seed);
      const byTriggers = project(dir, `triggers-${seed}`);
      const inBulk = project(dir, `bulk-${seed}`);
      // As in a merge: another project attached, with tables and triggers of the same names.
      project(dir, `attached-${seed}`).close();
      inBulk.prepare(`ATTACH DATABASE ? AS src`).run(path.join(dir, `attached-${seed}.pickstudio`));
      const earlier = new Map<string, number[]>();
      let nextId = 1;
      // Stretches with undos and one without: the first lands on an empty log, the later ones
      // on decisions standing, changed and undone.
      for (const [size, undos] of [
        [60, true],
        [90, false],
        [120, true],
      ] as const) {
        const events = randomEvents(random, size, nextId, earlier, undos);
        byTriggers.transaction(() => append(byTriggers, events, nextId))();
        const added = inBulk.transaction(() =>
          appendInBulk(inBulk, () => append(inBulk, events, nextId)),
        )();
        expect(added).toBe(size);
        nextId += size;
        expect(kept(inBulk), `seed ${seed}, through id ${nextId - 1}`).toEqual(kept(byTriggers));
      }
      expect(kept(byTriggers).decisions.length).toBeGreaterThan(PAIRS / 2);
      expect(triggers(inBulk)).toEqual(triggers(byTriggers));
      expect(inBulk.prepare('SELECT count(*) FROM src.annotations').pluck().get()).toBe(0);
      byTriggers.close();
      inBulk.close();
    }
  });

  it('knows every trigger on the annotation log and the decisions of the latest schema', () => {
    const db = project(tempDir(), 'schema');
    expect(triggers(db).map((t) => (t as { name: string }).name)).toEqual([...DECISION_TRIGGERS]);
  });

  it('puts the triggers back when the append fails, and needs a transaction', () => {
    const db = project(tempDir(), 'failing');
    const before = triggers(db);
    expect(() =>
      db.transaction(() =>
        appendInBulk(db, () => {
          append(db, [[1, 1, 'verdict', '0', null, 0]], 1);
          throw new Error('the append failed');
        }),
      )(),
    ).toThrow('the append failed');
    expect(triggers(db)).toEqual(before);
    expect(db.prepare('SELECT count(*) FROM annotations').pluck().get()).toBe(0);
    expect(() => appendInBulk(db, () => 0)).toThrow('inside a transaction');
    // The triggers still keep the table for the next writer.
    db.transaction(() => append(db, [[1, 1, 'verdict', '0', null, 0]], 1))();
    expect(kept(db).decisions).toHaveLength(1);
  });
});
