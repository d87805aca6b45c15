/**
 * Issue #14: skipped pairs come back. Once the annotator's undecided pairs run out, getQueue hands
 * out the pairs they skipped once, each once: a second skip keeps a pair skipped, across reloads,
 * and the overlap's rules and leases apply to them as to any pair.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Studio } from '../../electron/core/studio';
import { makePng, openTestProject, sqlite, tempDir } from '../helpers/project';
import { decide } from '../helpers/team';

async function project(pairs: number) {
  const dir = tempDir();
  const lines = [];
  for (let i = 0; i < pairs; i++) {
    fs.writeFileSync(path.join(dir, `${i}a.png`), await makePng(2 * i));
    fs.writeFileSync(path.join(dir, `${i}b.png`), await makePng(2 * i + 1));
    lines.push(
      JSON.stringify({ prompt: `prompt ${i}`, image_0: `${i}a.png`, image_1: `${i}b.png` }),
    );
  }
  fs.writeFileSync(path.join(dir, 'm.jsonl'), lines.join('\n'));
  const file = path.join(dir, 'p.pickstudio');
  const opened = openTestProject(file);
  await opened.call('importSources', { sources: [path.join(dir, 'm.jsonl')] });
  return { file, ...opened };
}

async function queue(
  call: Studio['call'],
  annotator: string,
  count = 10,
  excludePairIds: number[] = [],
) {
  const reply = await call('getQueue', { annotator, count, excludePairIds });
  return {
    ids: reply.pairs.map((p) => p.pairId),
    pairs: reply.pairs,
    progress: reply.progress,
  };
}

describe('skipped pairs come back', () => {
  it('after the undecided pairs, once each, the way round they were skipped; for good after a reload', async () => {
    const opened = await project(5);
    const { call, file } = opened;
    await decide(call, 'ana', 2, 'skip', 0);
    await decide(call, 'ana', 4, 'skip', 1);

    // The undecided first, then the skipped, the earliest skip first, marked by their decision.
    const all = await queue(call, 'ana');
    expect(all.ids).toEqual([1, 3, 5, 2, 4]);
    expect(all.pairs.map((p) => p.decision)).toEqual([null, null, null, 'skip', 'skip']);
    expect(all.pairs.slice(3).map((p) => p.leftImage)).toEqual([0, 1]);
    // A full queue of undecided pairs brings no skip; the view's held pairs are left out.
    expect((await queue(call, 'ana', 3)).ids).toEqual([1, 3, 5]);
    expect((await queue(call, 'ana', 4, [1, 2])).ids).toEqual([3, 5, 4]);

    for (const pairId of [1, 3, 5]) await decide(call, 'ana', pairId, 0);
    expect((await queue(call, 'ana')).ids).toEqual([2, 4]);
    // Skipped again: it stays skipped. Decided: the verdict replaces the skip.
    await decide(call, 'ana', 2, 'skip', 0);
    expect((await queue(call, 'ana')).ids).toEqual([4]);
    await decide(call, 'ana', 4, 'tie');
    const end = await queue(call, 'ana');
    expect(end.ids).toEqual([]);
    expect(end.progress).toMatchObject({ decided: 4, skipped: 1, total: 5 });
    // Another annotator's skips are theirs: bob has every pair still to decide.
    expect((await queue(call, 'bob')).ids).toEqual([1, 2, 3, 4, 5]);

    // Read back from the file alone, as after a reload or a restart.
    opened.store.close();
    const reopened = openTestProject(file);
    expect((await queue(reopened.call, 'ana')).ids).toEqual([]);
    // Undo takes back the verdict on 4: its first skip stands again, and it comes back.
    await reopened.call('undoLast', { annotator: 'ana' });
    expect((await queue(reopened.call, 'ana')).ids).toEqual([4]);
    // Undo takes back the second skip of 2: its first stands alone, and it comes back too.
    const undone = await reopened.call('undoLast', { annotator: 'ana' });
    expect(undone.undone?.pairId).toBe(2);
    expect((await queue(reopened.call, 'ana')).ids).toEqual([2, 4]);
    expect(undone.progress).toMatchObject({ decided: 3, skipped: 2, total: 5 });
    reopened.store.close();
  });

  it('under an overlap, a skipped pair comes back leased, and stays skipped once others fill it', async () => {
    const { call, store } = await project(3);
    await call('setSettings', { overlap: 2 });
    await decide(call, 'ana', 1, 'skip', 1);
    await decide(call, 'ana', 2, 0);
    await decide(call, 'ana', 3, 1);

    const back = await queue(call, 'ana');
    expect(back.ids).toEqual([1]);
    expect(back.pairs[0]!.decision).toBe('skip');
    // Ana holds pair 1 now: with bob's leases on every pair, cy gets none.
    expect((await queue(call, 'bob')).ids).toEqual([2, 3, 1]);
    expect((await queue(call, 'cy')).ids).toEqual([]);

    // Bob and cy decide pair 1: it has its two verdicts, so ana's skip stays.
    await decide(call, 'bob', 1, 0);
    await decide(call, 'cy', 1, 0);
    const end = await queue(call, 'ana');
    expect(end.ids).toEqual([]);
    expect(end.progress).toMatchObject({ decided: 2, skipped: 1, total: 3 });
    store.close();
  });
});

describe("the queue's mark (pairs decided up to it) is kept in the project", () => {
  it('is read back on opening, and lowered by an undo written since by another connection', async () => {
    const first = await project(6);
    for (const pairId of [1, 2, 3]) await decide(first.call, 'ana', pairId, 0);
    expect((await queue(first.call, 'ana')).ids).toEqual([4, 5, 6]);
    const saved = () =>
      sqlite(first.store).prepare('SELECT decided_through FROM queue_marks').pluck().all();
    // Saved between calls, on the store's timer.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(saved()).toEqual([3]);

    // Another connection undoes pair 3: the mark read back starts the queue below it.
    const other = openTestProject(first.file);
    await other.call('undoLast', { annotator: 'ana' });
    other.store.close();
    first.store.close();
    const reopened = openTestProject(first.file);
    expect((await queue(reopened.call, 'ana')).ids).toEqual([3, 4, 5, 6]);

    // The queue starts at the mark it reads: one that claims pair 4 decided hides it.
    sqlite(reopened.store).exec(
      'UPDATE queue_marks SET decided_through = 4, as_of = (SELECT max(id) FROM annotations)',
    );
    reopened.store.close();
    const lied = openTestProject(first.file);
    expect((await queue(lied.call, 'ana')).ids).toEqual([5, 6]);
    lied.store.close();
  });
});
