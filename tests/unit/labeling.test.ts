import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LabelPair, MethodResult } from '../../shared/api';
import { duckdb } from '../helpers/duckdb';
import { makeJpeg, makePng, openService, tempDir } from '../helpers/project';

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
  const opened = openService(path.join(dir, 'p.pickstudio'));
  await opened.dispatch('importSources', { sources: [path.join(dir, 'm.jsonl')] });
  const call = <M extends string>(method: M, args: unknown) => opened.dispatch(method, args);
  return { dir, ...opened, call };
}

const decide = (
  call: (m: string, a: unknown) => Promise<unknown>,
  pairId: number,
  verdict: unknown,
) =>
  call('recordDecision', {
    annotator: 'ana',
    pairId,
    verdict,
    leftImage: 1,
    suggestionVisible: false,
    decisionMs: 850,
  }) as Promise<MethodResult<'recordDecision'>>;

describe('labeling', () => {
  it('the queue hands out undecided pairs, skipping those the view holds', async () => {
    const { call, store } = await projectWithManifest(5);
    const first = (await call('getQueue', {
      annotator: 'ana',
      count: 3,
    })) as MethodResult<'getQueue'>;
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
    const more = (await call('getQueue', {
      annotator: 'ana',
      count: 3,
      excludePairIds: [1, 2, 3],
    })) as MethodResult<'getQueue'>;
    expect(more.pairs.map((p) => p.pairId)).toEqual([4, 5]);

    const recorded = await decide(call, 2, 1);
    expect(recorded.progress).toMatchObject({ decided: 1, skipped: 0, lastHour: 1 });
    await decide(call, 4, null);
    const after = (await call('getQueue', {
      annotator: 'ana',
      count: 10,
    })) as MethodResult<'getQueue'>;
    expect(after.pairs.map((p) => p.pairId)).toEqual([1, 3, 5]);
    expect(after.progress).toMatchObject({ decided: 1, skipped: 1, total: 5 });
    // Another annotator's queue is untouched by ana's decisions.
    const bob = (await call('getQueue', {
      annotator: 'bob',
      count: 10,
    })) as MethodResult<'getQueue'>;
    expect(bob.pairs).toHaveLength(5);
    store.close();
  });

  it('stores the verdict by image index with the side shown left, and undo is repeatable', async () => {
    const { call, store } = await projectWithManifest(4);
    await decide(call, 1, 0);
    await decide(call, 2, 'tie');
    await decide(call, 3, 1);
    const row = store.db
      .prepare(
        'SELECT verdict, left_image, suggestion_visible, decision_ms FROM annotations WHERE pair_id = 1',
      )
      .get();
    expect(row).toEqual({ verdict: '0', left_image: 1, suggestion_visible: 0, decision_ms: 850 });

    const history = (await call('getHistory', { annotator: 'ana' })) as MethodResult<'getHistory'>;
    expect(history.map((h) => [h.pairId, h.decision])).toEqual([
      [3, 1],
      [2, 'tie'],
      [1, 0],
    ]);

    const undo1 = (await call('undoLast', { annotator: 'ana' })) as MethodResult<'undoLast'>;
    const undo2 = (await call('undoLast', { annotator: 'ana' })) as MethodResult<'undoLast'>;
    expect([undo1.undone?.pairId, undo2.undone?.pairId]).toEqual([3, 2]);
    expect(undo2.progress.decided).toBe(1);
    const queue = (await call('getQueue', {
      annotator: 'ana',
      count: 10,
    })) as MethodResult<'getQueue'>;
    expect(queue.pairs.map((p) => p.pairId)).toEqual([2, 3, 4]);
    await call('undoLast', { annotator: 'ana' });
    expect(
      ((await call('undoLast', { annotator: 'ana' })) as MethodResult<'undoLast'>).undone,
    ).toBeNull();
    // Nothing was deleted: three decisions and three undos.
    expect(
      store.db.prepare('SELECT action, count(*) AS n FROM annotations GROUP BY action').all(),
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
        (await call('getQueue', {
          annotator: 'ana',
          count: 2,
          excludePairIds,
        })) as MethodResult<'getQueue'>
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
    store.insertAnnotation({
      pairId: 1,
      annotatorId: store.findAnnotator('ana')!.id,
      action: 'undo',
      undoesId: store.db
        .prepare<[], number>("SELECT id FROM annotations WHERE pair_id = 1 AND action = 'verdict'")
        .pluck()
        .get()!,
      createdAt: Date.now(),
    });
    expect(await queue()).toEqual([1, 5]);
    store.close();
  });

  it('revisiting a pair from the history shows and replaces the decision', async () => {
    const { call, store } = await projectWithManifest(2);
    await decide(call, 1, 0);
    expect(((await call('getPair', { annotator: 'ana', pairId: 1 })) as LabelPair).decision).toBe(
      0,
    );
    await decide(call, 1, 'tie');
    expect(((await call('getPair', { annotator: 'ana', pairId: 1 })) as LabelPair).decision).toBe(
      'tie',
    );
    const history = (await call('getHistory', { annotator: 'ana' })) as MethodResult<'getHistory'>;
    expect(history.map((h) => [h.pairId, h.decision])).toEqual([[1, 'tie']]);
    await expect(call('getPair', { annotator: 'ana', pairId: 99 })).rejects.toThrow(/no pair 99/);
    await expect(decide(call, 99, 0)).rejects.toThrow(/no pair 99/);
    store.close();
  });

  it('an image whose file is gone is marked unavailable, and cannot be read', async () => {
    const { call, service, store, dir } = await projectWithManifest(2);
    fs.rmSync(path.join(dir, '1b.png'));
    const queue = (await call('getQueue', { annotator: 'ana' })) as MethodResult<'getQueue'>;
    expect(queue.pairs.map((p) => [p.image0.available, p.image1.available])).toEqual([
      [true, true],
      [true, false],
    ]);
    const png = await service.readImage(queue.pairs[0]!.image1.uid);
    expect(png.mime).toBe('image/png');
    expect(Buffer.from(png.bytes).equals(fs.readFileSync(path.join(dir, '0b.png')))).toBe(true);
    await expect(service.readImage(queue.pairs[1]!.image1.uid)).rejects.toThrow(
      /cannot read .*1b\.png/,
    );
    await expect(service.readImage('../../etc/passwd')).rejects.toThrow(/no image/);
    store.close();
  });

  it('a dataset annotator name cannot label in the app; names are trimmed and checked', async () => {
    const { call, store } = await projectWithManifest(1);
    store.annotatorId('pickapic:7', 'dataset');
    await expect(
      call('recordDecision', {
        annotator: 'pickapic:7',
        pairId: 1,
        verdict: 0,
        leftImage: 0,
        suggestionVisible: false,
        decisionMs: 1,
      }),
    ).rejects.toThrow(/already used by a dataset annotator/);
    await expect(call('getQueue', { annotator: '   ' })).rejects.toThrow(/annotator/);
    await expect(call('getQueue', { annotator: 'a\u0007b' })).rejects.toThrow(/control characters/);
    await expect(
      call('recordDecision', {
        annotator: 'ana',
        pairId: 1,
        verdict: 'left',
        leftImage: 0,
        suggestionVisible: false,
        decisionMs: 1,
      }),
    ).rejects.toThrow(/verdict/);
    store.close();
  });
});

describe('labeling during an import', () => {
  it('a decision saved while a file is being imported stays, even when that import fails', async () => {
    const { call, dispatch, store, events, dir } = await projectWithManifest(2);
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
    const outcome = dispatch('importSources', { sources: [shard], taskId: 'late' }).then(
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
