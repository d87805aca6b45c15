import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Studio } from '../../electron/core/studio';
import type { Decision } from '../../shared/labels';
import { duckdb } from '../helpers/duckdb';
import { makeJpeg, makePng, openTestProject, tempDir, sqlite } from '../helpers/project';

async function projectWithManifest(pairs: number) {
  const dir = tempDir();
  const lines = [];
  for (let i = 0; i < pairs; i++) {
    fs.writeFileSync(path.join(dir, `${i}a.jpg`), await makeJpeg(2 * i));
    fs.writeFileSync(path.join(dir, `${i}b.png`), await makePng(2 * i + 1));
    lines.push(
      JSON.stringify({ prompt: `prompt ${i}`, image_0: `${i}a.jpg`, image_1: `${i}b.png` }),
    );
  }
  fs.writeFileSync(path.join(dir, 'm.jsonl'), lines.join('\n'));
  const opened = openTestProject(path.join(dir, 'p.pickstudio'));
  await opened.call('importSources', { sources: [path.join(dir, 'm.jsonl')] });
  return { dir, ...opened };
}

const decide = (call: Studio['call'], pairId: number, decision: Decision, leftImage: 0 | 1 = 1) =>
  call('recordDecision', {
    annotator: 'ana',
    pairId,
    decision,
    leftImage,
    suggestionVisible: false,
    decisionMs: 850,
  });

describe('labeling', () => {
  it('the queue hands out undecided pairs, skipping those the view holds', async () => {
    const { call, store } = await projectWithManifest(5);
    const first = await call('getQueue', {
      annotator: 'ana',
      count: 3,
    });
    expect(first.pairs.map((p) => p.pairId)).toEqual([1, 2, 3]);
    expect(first.progress).toEqual({
      annotator: 'ana',
      decided: 0,
      skipped: 0,
      total: 5,
      lastHour: 0,
    });
    for (const pair of first.pairs) {
      expect([0, 1]).toContain(pair.leftImage);
      expect(pair.image0.available && pair.image1.available).toBe(true);
      expect(pair.decision).toBeNull();
    }
    const more = await call('getQueue', {
      annotator: 'ana',
      count: 3,
      excludePairIds: [1, 2, 3],
    });
    expect(more.pairs.map((p) => p.pairId)).toEqual([4, 5]);

    const recorded = await decide(call, 2, 1);
    expect(recorded.progress).toMatchObject({ decided: 1, skipped: 0, lastHour: 1 });
    await decide(call, 4, 'skip');
    const after = await call('getQueue', {
      annotator: 'ana',
      count: 10,
    });
    // The skipped pair 4 comes back after the undecided ones (tests/unit/skipped.test.ts).
    expect(after.pairs.map((p) => p.pairId)).toEqual([1, 3, 5, 4]);
    expect(after.progress).toMatchObject({ decided: 1, skipped: 1, total: 5 });
    // Another annotator's queue is untouched by ana's decisions.
    const bob = await call('getQueue', {
      annotator: 'bob',
      count: 10,
    });
    expect(bob.pairs).toHaveLength(5);
    store.close();
  });

  it('stores the verdict by image index with the side shown left, and undo is repeatable', async () => {
    const { call, store } = await projectWithManifest(4);
    await decide(call, 1, 0);
    await decide(call, 2, 'tie', 0);
    await decide(call, 3, 1);
    const row = sqlite(store)
      .prepare(
        'SELECT verdict, left_image, suggestion_visible, decision_ms FROM annotations WHERE pair_id = 1',
      )
      .get();
    expect(row).toEqual({ verdict: '0', left_image: 1, suggestion_visible: 0, decision_ms: 850 });

    // Each entry with the side its decision was made on.
    const history = await call('getHistory', { annotator: 'ana' });
    expect(history.map((h) => [h.pairId, h.decision, h.leftImage])).toEqual([
      [3, 1, 1],
      [2, 'tie', 0],
      [1, 0, 1],
    ]);

    const undo1 = await call('undoLast', { annotator: 'ana' });
    const undo2 = await call('undoLast', { annotator: 'ana' });
    expect([undo1.undone?.pairId, undo2.undone?.pairId]).toEqual([3, 2]);
    expect(undo2.progress.decided).toBe(1);
    const queue = await call('getQueue', {
      annotator: 'ana',
      count: 10,
    });
    expect(queue.pairs.map((p) => p.pairId)).toEqual([2, 3, 4]);
    await call('undoLast', { annotator: 'ana' });
    expect((await call('undoLast', { annotator: 'ana' })).undone).toBeNull();
    // Nothing was deleted: three decisions and three undos.
    expect(
      sqlite(store).prepare('SELECT action, count(*) AS n FROM annotations GROUP BY action').all(),
    ).toEqual([
      { action: 'undo', n: 3 },
      { action: 'verdict', n: 3 },
    ]);
    store.close();
  });

  it('the queue picks up where the annotator is, and gives back pairs undone or let go', async () => {
    const { call, store } = await projectWithManifest(6);
    const queue = async (excludePairIds: number[] = []) =>
      (
        await call('getQueue', {
          annotator: 'ana',
          count: 2,
          excludePairIds,
        })
      ).pairs.map((p) => p.pairId);
    expect(await queue()).toEqual([1, 2]);
    await decide(call, 1, 0);
    // The view still holds pair 2 and asks for more.
    expect(await queue([2])).toEqual([3, 4]);
    await decide(call, 3, 1);
    await decide(call, 4, 1);
    // The view let pair 2 go undecided: it comes back first.
    expect(await queue()).toEqual([2, 5]);
    await decide(call, 2, 'tie');
    await decide(call, 5, 0);
    expect(await queue()).toEqual([6]);
    await call('undoLast', { annotator: 'ana' });
    expect(await queue()).toEqual([5, 6]);
    // A decision taken back on a pair long behind the annotator.
    store.decisions.record([
      {
        pairId: 1,
        annotatorId: store.decisions.findAnnotator('ana')!.id,
        undoes: sqlite(store)
          .prepare<
            [],
            number
          >("SELECT id FROM annotations WHERE pair_id = 1 AND action = 'verdict'")
          .pluck()
          .get()!,
        createdAt: Date.now(),
      },
    ]);
    expect(await queue()).toEqual([1, 5]);
    store.close();
  });

  it('revisiting a pair from the history shows and replaces the decision', async () => {
    const { call, store } = await projectWithManifest(2);
    /** The pair as 20 showings of it present it: its decision, and the sides drawn. */
    const shown = async (pairId: number) => {
      const showings = [];
      for (let i = 0; i < 20; i++)
        showings.push(await call('getPair', { annotator: 'ana', pairId }));
      return {
        decisions: new Set(showings.map((p) => p.decision)),
        sides: new Set(showings.map((p) => p.leftImage)),
      };
    };
    // Undecided: the side is drawn at random for each showing.
    expect(await shown(1)).toEqual({ decisions: new Set([null]), sides: new Set([0, 1]) });
    await decide(call, 1, 0, 0);
    expect(await shown(1)).toEqual({ decisions: new Set([0]), sides: new Set([0]) });
    await decide(call, 1, 'tie', 1);
    expect(await shown(1)).toEqual({ decisions: new Set(['tie']), sides: new Set([1]) });
    await decide(call, 2, 'skip', 0);
    expect(await shown(2)).toEqual({ decisions: new Set(['skip']), sides: new Set([0]) });
    const history = await call('getHistory', { annotator: 'ana' });
    expect(history.map((h) => [h.pairId, h.decision, h.leftImage])).toEqual([
      [2, 'skip', 0],
      [1, 'tie', 1],
    ]);
    await expect(call('getPair', { annotator: 'ana', pairId: 99 })).rejects.toThrow(/no pair 99/);
    await expect(decide(call, 99, 0)).rejects.toThrow(/no pair 99/);
    store.close();
  });

  it("lists the project's pairs a page at a time, with their verdicts and the latest adjudication", async () => {
    const { call, store } = await projectWithManifest(3);
    const uids = (await call('getQueue', { annotator: 'lead', count: 3 })).pairs.map((p) => [
      p.image0.uid,
      p.image1.uid,
    ]);
    await decide(call, 1, 0);
    await call('recordDecision', {
      annotator: 'bob',
      pairId: 1,
      decision: 1,
      leftImage: 0,
      suggestionVisible: false,
      decisionMs: 600,
    });
    await decide(call, 2, 'skip'); // a skip is no verdict
    await decide(call, 3, 'tie');
    await call('undoLast', { annotator: 'ana' }); // nor is a verdict taken back
    await call('adjudicate', { pairId: 2, verdict: 'tie', adjudicator: 'lead' });
    await call('adjudicate', { pairId: 2, verdict: 0, adjudicator: 'lead' }); // the latest counts
    const pairs = [
      { annotations: 2, verdict: null },
      { annotations: 0, verdict: 0 },
      { annotations: 0, verdict: null },
    ].map((expected, i) => ({
      pairId: i + 1,
      prompt: `prompt ${i}`,
      image0Uid: uids[i]![0],
      image1Uid: uids[i]![1],
      model0: null,
      model1: null,
      ...expected,
    }));
    expect(await call('listPairs', {})).toEqual(pairs);
    expect(await call('listPairs', { offset: 1, limit: 1 })).toEqual([pairs[1]]);
    expect(store.pairs.summaries(2, 5)).toEqual([pairs[2]]);
    expect(store.pairs.summaries(3, 5)).toEqual([]);
    store.close();
  });

  it('an image whose file is gone is marked unavailable, and cannot be read', async () => {
    const { call, studio, store, dir } = await projectWithManifest(2);
    fs.rmSync(path.join(dir, '1b.png'));
    const queue = await call('getQueue', { annotator: 'ana' });
    expect(queue.pairs.map((p) => [p.image0.available, p.image1.available])).toEqual([
      [true, true],
      [true, false],
    ]);
    const png = await studio.readImage(queue.pairs[0]!.image1.uid);
    expect(png.mime).toBe('image/png');
    expect(Buffer.from(png.bytes).equals(fs.readFileSync(path.join(dir, '0b.png')))).toBe(true);
    await expect(studio.readImage(queue.pairs[1]!.image1.uid)).rejects.toThrow(
      /cannot read .*1b\.png/,
    );
    await expect(studio.readImage('../../etc/passwd')).rejects.toThrow(/no image/);
    store.close();
  });

  it("another kind's annotator name cannot label in the app; names are trimmed and checked", async () => {
    const { call, dispatch, store } = await projectWithManifest(1);
    store.decisions.annotatorId('import:old.csv', 'import');
    await expect(
      call('recordDecision', {
        annotator: 'import:old.csv',
        pairId: 1,
        decision: 0,
        leftImage: 0,
        suggestionVisible: false,
        decisionMs: 1,
      }),
    ).rejects.toThrow(/already used by an import annotator/);
    // The dataset's names are refused before any lookup: no person may take that namespace.
    await expect(
      call('recordDecision', {
        annotator: 'pickapic:7',
        pairId: 1,
        decision: 0,
        leftImage: 0,
        suggestionVisible: false,
        decisionMs: 1,
      }),
    ).rejects.toThrow(/names starting with pickapic: belong to the dataset's annotators/);
    await expect(call('getQueue', { annotator: '   ' })).rejects.toThrow(/annotator/);
    await expect(call('getQueue', { annotator: 'a\u0007b' })).rejects.toThrow(/control characters/);
    // Arguments the types refuse, as a door may receive them.
    await expect(
      dispatch('recordDecision', {
        annotator: 'ana',
        pairId: 1,
        decision: 'left',
        leftImage: 0,
        suggestionVisible: false,
        decisionMs: 1,
      }),
    ).rejects.toThrow(/^recordDecision: decision:/);
    store.close();
  });
});

describe('labeling during an import', () => {
  it('a decision saved while a file is being imported stays, even when that import fails', async () => {
    const { call, store, events, dir } = await projectWithManifest(2);
    const shard = path.join(dir, 'late-bad.parquet');
    const db = await duckdb();
    // Large enough to be read in many row groups; the last row's labels are invalid.
    await db.run(`COPY (SELECT i AS ranking_id, 'caption ' || i AS caption, 'x' || i AS image_0_uid,
        'y' || i AS image_1_uid, NULL::VARCHAR AS image_0_url, NULL::VARCHAR AS image_1_url,
        (CASE WHEN i = 29999 THEN 0.2 ELSE 1.0 END)::DOUBLE AS label_0,
        (CASE WHEN i = 29999 THEN 0.8 ELSE 0.0 END)::DOUBLE AS label_1,
        true AS has_label, 5::BIGINT AS user_id, 'm' AS model_0, 'm' AS model_1, true AS are_different,
        NULL::VARCHAR AS best_image_uid, TIMESTAMP '2023-05-01' AS created_at, 1::BIGINT AS num_example_per_prompt
      FROM range(30000) t(i)) TO '${shard}' (FORMAT parquet, ROW_GROUP_SIZE 1000)`);
    db.close();
    events.length = 0;
    let saved: Promise<unknown> | null = null;
    const outcome = call('importSources', { sources: [shard], taskId: 'late' }).then(
      () => null,
      (error: unknown) => error,
    );
    // As soon as the import has read rows, an annotator presses a key.
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (events.some((e) => e.taskId === 'late' && e.done > 0)) {
          clearInterval(poll);
          saved = decide(call, 1, 'tie');
          resolve();
        }
      }, 1);
    });
    expect(String(await outcome)).toMatch(/late-bad\.parquet row 30000: labels/);
    await saved;
    expect(store.counts()).toMatchObject({ pairs: 2, annotations: 1, verdicts: { tie: 1 } });
    expect(fs.readdirSync(dir).filter((name) => name.includes('.import-'))).toEqual([]);
    store.close();
  });
});
