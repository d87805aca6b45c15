import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Prng } from '../../electron/core/metrics/prng';
import { insertPairs, openTestProject, sqlite, tempDir } from '../helpers/project';

const HOUR = 3_600_000;

describe('decisions in the last hour', () => {
  it('moves its count with the clock and the log, and always equals counting the hour in full', () => {
    const { store } = openTestProject(path.join(tempDir(), 'p.pickstudio'));
    const db = sqlite(store);
    insertPairs(db, 40);
    const ana = store.decisions.annotatorId('ana', 'human');
    const ben = store.decisions.annotatorId('ben', 'human');
    // Another process writes to the same file: its events count as soon as they are there.
    const other = new Database(store.file);
    const prng = new Prng(11);
    const random = () => prng.next();
    const append = (on: Database.Database, annotator: number, at: number, action: string) => {
      const pair = 1 + Math.floor(random() * 40);
      on.prepare(
        `INSERT INTO annotations (pair_id, annotator_id, action, verdict, undoes_id, created_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ).run(
        pair,
        annotator,
        action,
        action === 'verdict' ? '0' : null,
        action === 'undo' ? on.prepare('SELECT max(id) FROM annotations').pluck().get() : null,
        at,
      );
    };
    const inFull = (annotator: number, now: number) =>
      db
        .prepare(
          `SELECT count(*) FROM annotations WHERE annotator_id = ? AND created_at >= ?
             AND action != 'undo'`,
        )
        .pluck()
        .get(annotator, now - HOUR);
    let now = 1_700_000_000_000;
    const seen: number[] = [];
    for (let step = 0; step < 400; step++) {
      // Mostly forward by seconds to minutes; now and then a jump past the hour, or back.
      const move = random();
      now +=
        move < 0.05 ? 2 * HOUR : move < 0.08 ? -20 * 60_000 : 1000 * Math.floor(random() * 120);
      const annotator = random() < 0.7 ? ana : ben;
      const action = random() < 0.7 ? 'verdict' : random() < 0.5 ? 'skip' : 'undo';
      // Events come stamped a little before the call, some right on the window's edge, some
      // from another machine's clock; in whole seconds, as the clock moves.
      const edge = random() < 0.1;
      const ago = edge
        ? HOUR - 1000 * Math.floor(random() * 3)
        : 1000 * Math.floor(random() * (random() < 0.1 ? 7200 : 5));
      const at = now - ago;
      append(random() < 0.2 ? other : db, annotator, at, step === 0 ? 'verdict' : action);
      for (const who of [ana, ben]) {
        const counted = store.decisions.counts(who, now).lastHour;
        expect(counted).toBe(inFull(who, now));
        seen.push(counted);
      }
    }
    // The history moved through full windows, empty ones and everything between.
    expect(Math.max(...seen)).toBeGreaterThan(20);
    expect(seen).toContain(0);
    other.close();
    store.close();
  });
});
