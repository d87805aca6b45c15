import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { audit } from '../../electron/core/audit/audit';
import { mulberry32 } from '../../electron/core/demo/scenes';
import { predictVerdict, protocolScore } from '../../electron/core/metrics';
import { MIGRATIONS } from '../../electron/core/store/migrations';
import { openStudio } from '../../electron/core/studio';
import type { ProjectStore } from '../../electron/core/store/project-store';
import { PICKSTUDIO_APPLICATION_ID } from '../../electron/core/store/open';
import { cohenRows, type AuditFilters, type AuditReport } from '../../shared/audit';
import { isDisagreement } from '../../shared/api';
import type { Decision, Verdict } from '../../shared/labels';
import { duckdb, writeShardWithDuckDB, type ShardRow } from '../helpers/duckdb';
import { insertPairs, makeJpeg, openTestProject, tempDir, sqlite } from '../helpers/project';
import { writeTinyModel } from '../helpers/tiny-model';

const BIN = path.resolve('bin/pickstudio.js');

function pickstudio(...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** PickScore's protocol written out again, independently of electron/core/metrics. */
function protocolByHand(examples: { p0: number; verdict: Verdict }[]) {
  const thresholds = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
  const accuracy = thresholds.map((t) => {
    let sum = 0;
    for (const { p0, verdict } of examples) {
      const prediction: Verdict = Math.abs(1 - 2 * p0) <= t ? 'tie' : p0 > 0.5 ? 0 : 1;
      sum += prediction === verdict ? 1 : prediction === 'tie' || verdict === 'tie' ? 0.5 : 0;
    }
    return sum / examples.length;
  });
  const best = accuracy.indexOf(Math.max(...accuracy));
  return { threshold: thresholds[best]!, accuracy: accuracy[best]! };
}

/**
 * A model disagreement written out: the model names an image (its margin |2 p0 - 1| is over the
 * tie threshold) and the person named the other one. A tie on either side is no disagreement.
 */
function disagreesByHand(verdict: Verdict, p0: number, tieThreshold: number): boolean {
  if (verdict === 'tie' || Math.abs(1 - 2 * p0) <= tieThreshold) return false;
  return (p0 > 0.5 ? 0 : 1) !== verdict;
}

/** Makes a model of the folder the project's active one, with these p0 (other scores 0). */
function scoreWith(store: ProjectStore, folder: string, p0s: { pairId: number; p0: number }[]) {
  const model = store.scores.activate({ fingerprint: 'f', name: 'm', manifest: '{}', folder });
  store.scores.putScores(
    model,
    p0s.map(({ pairId, p0 }) => ({ pairId, score0: 0, score1: 0, p0 })),
  );
}

describe("the lead's desk", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('pickstudio stats --json on a Pick-a-Pic shard labeled by several users: per-annotator figures and the protocol accuracy with its threshold', async () => {
    const dir = tempDir();
    const users = [101, 102, 103];
    // Pair i: user 101 prefers image 0 when i % 3 != 0, 102 agrees except on i % 4 == 0, 103
    // says tie on i % 5 == 0 and otherwise the opposite of 101 on i % 2 == 0. The verdicts are
    // the test's own; so is their spelling in Pick-a-Pic's labels, written out here rather than
    // taken from shared/labels, so that an import that decodes them wrongly cannot agree with it.
    const choice = (user: number, i: number): Verdict => {
      const first: Verdict = i % 3 !== 0 ? 0 : 1;
      const flip = (v: Verdict): Verdict => (v === 0 ? 1 : 0);
      if (user === 101) return first;
      if (user === 102) return i % 4 === 0 ? flip(first) : first;
      if (i % 5 === 0) return 'tie';
      return i % 2 === 0 ? flip(first) : first;
    };
    const LABELS: Record<string, { label_0: number; label_1: number }> = {
      '0': { label_0: 1, label_1: 0 },
      '1': { label_0: 0, label_1: 1 },
      tie: { label_0: 0.5, label_1: 0.5 },
    };
    const verdictOfRow: Verdict[] = [];
    const rows: ShardRow[] = [];
    for (let i = 0; i < 16; i++) {
      const [jpg0, jpg1] = await Promise.all([makeJpeg(2 * i + 1), makeJpeg(2 * i + 2)]);
      for (const user of users) {
        const verdict = choice(user, i);
        verdictOfRow.push(verdict);
        const { label_0, label_1 } = LABELS[String(verdict)]!;
        rows.push({
          ranking_id: 1000 + rows.length,
          caption: `prompt number ${i}`,
          image_0_uid: `img-${i}-a`,
          image_1_uid: `img-${i}-b`,
          label_0,
          label_1,
          has_label: true,
          user_id: user,
          model_0: i % 2 ? 'sdxl' : 'sd-2.1',
          model_1: i % 2 ? 'sd-2.1' : 'sdxl',
          jpg_0: jpg0,
          jpg_1: jpg1,
        });
      }
    }
    const shard = path.join(dir, 'train-00000.parquet');
    await writeShardWithDuckDB(shard, rows, { images: true });
    const project = path.join(dir, 'p.pickstudio');
    const modelDir = path.join(dir, 'tiny');
    writeTinyModel(modelDir, 3);
    expect(pickstudio('import', project, shard, '--create').code).toBe(0);
    expect(pickstudio('score', project, '--model', modelDir).code).toBe(0);

    const run = pickstudio('stats', project, '--json', '--resamples', '50');
    expect(run.stderr).not.toMatch(/failure/);
    expect(run.code).toBe(0);
    const { audit } = JSON.parse(run.stdout) as { audit: AuditReport };

    // The same figures from the shard's rows and the project's stored p0, by hand.
    const { store } = openTestProject(project);
    const p0OfCaption = new Map(
      sqlite(store)
        .prepare(
          `SELECT pr.text AS caption, s.p_0 AS p0 FROM scores s JOIN pairs p ON p.id = s.pair_id
           JOIN prompts pr ON pr.id = p.prompt_id`,
        )
        .all()
        .map((r) => [(r as { caption: string }).caption, (r as { p0: number }).p0]),
    );
    store.close();
    const examples = rows.map((r, row) => ({
      p0: p0OfCaption.get(r.caption)!,
      verdict: verdictOfRow[row]!,
      user: r.user_id,
      pair: r.caption,
    }));
    const expected = protocolByHand(examples);
    expect(audit.dashboard.pickscore.threshold).toBe(expected.threshold);
    expect(audit.dashboard.pickscore.accuracy.value).toBeCloseTo(expected.accuracy, 12);
    expect(audit.thresholdSource).toEqual({ kind: 'tuned-here' });

    expect(audit.dashboard.annotators.map((a) => a.annotator)).toEqual([
      'pickapic:101',
      'pickapic:102',
      'pickapic:103',
    ]);
    for (const user of users) {
      const mine = examples.filter((e) => e.user === user);
      const row = audit.dashboard.annotators.find((a) => a.annotator === `pickapic:${user}`)!;
      expect(row.verdicts).toBe(16);
      expect(row.tieRate).toBeCloseTo(mine.filter((e) => e.verdict === 'tie').length / 16, 12);
      // Majority of the two others: a strict plurality exists only where they agree.
      let agree = 0;
      let counted = 0;
      for (const e of mine) {
        const others = examples.filter((o) => o.pair === e.pair && o.user !== user);
        if (others[0]!.verdict !== others[1]!.verdict) continue;
        counted++;
        if (others[0]!.verdict === e.verdict) agree++;
      }
      expect(row.majorityPairs).toBe(counted);
      expect(row.majorityAgreement).toBeCloseTo(agree / counted, 12);
      // Imported labels have no display side or timing.
      expect(row.leftRate).toBeNull();
      expect(row.medianDecisionMs).toBeNull();
    }
    // Percent agreement over pairs of verdicts on the same pair.
    let same = 0;
    let total = 0;
    for (let i = 0; i < 16; i++) {
      const verdicts = examples
        .filter((e) => e.pair === `prompt number ${i}`)
        .map((e) => e.verdict);
      for (let a = 0; a < 3; a++) {
        for (let b = a + 1; b < 3; b++, total++) if (verdicts[a] === verdicts[b]) same++;
      }
    }
    expect(audit.dashboard.agreement.percent.value).toBeCloseTo(same / total, 12);
    expect(audit.dashboard.agreement.percent.interval).not.toBeNull();
    // The confusion matrix holds every verdict once.
    expect(audit.confusion.counts.flat().reduce((a, b) => a + b, 0)).toBe(48);
    expect(audit.generators.map((g) => g.generator).sort()).toEqual(['sd-2.1', 'sdxl']);
    expect(audit.generators.every((g) => g.pairs === 16)).toBe(true);

    // --tune-on: the threshold comes from the other project (here: the same file).
    const tuned = pickstudio('stats', project, '--json', '--resamples', '0', '--tune-on', project);
    const other = (JSON.parse(tuned.stdout) as { audit: AuditReport }).audit;
    expect(other.thresholdSource).toMatchObject({
      kind: 'tuned-on',
      threshold: expected.threshold,
      verdicts: 48,
    });

    // The text report names the figures.
    const text = pickstudio('stats', project, '--annotator', 'pickapic:102', '--resamples', '0');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/tie threshold t +\d\.\d \(tuned on these verdicts\)/);
    expect(text.stdout).toContain('pickapic:102: 16;');
    expect(text.stdout).not.toContain('pickapic:101: 16;');
  });

  it('lists disagreements surest model first, and an adjudication wins in the export', async () => {
    const dir = tempDir();
    const { store, call } = openTestProject(path.join(dir, 'p.pickstudio'));
    insertPairs(sqlite(store), 3);
    const scores = store.scores;
    const model = scores.activate({ fingerprint: 'f', name: 'm', manifest: '{}', folder: dir });
    // p0: pair 1 sure of image 0, pair 2 unsure, pair 3 sure of image 1.
    scores.putScores(model, [
      { pairId: 1, score0: 2, score1: 0, p0: 0.95 },
      { pairId: 2, score0: 0, score1: 0, p0: 0.55 },
      { pairId: 3, score0: 0, score1: 2, p0: 0.1 },
    ]);
    const decide = (annotator: string, pairId: number, decision: Verdict) =>
      call('recordDecision', {
        annotator,
        pairId,
        decision,
        leftImage: 0,
        suggestionVisible: false,
        decisionMs: 800,
      });
    await decide('ana', 1, 1); // against a sure model
    await decide('ana', 2, 0);
    await decide('bob', 2, 1); // humans split
    await decide('ana', 3, 1); // agrees with the model
    await decide('bob', 3, 1);

    const any = await call('listDisagreements', {});
    expect(any.items.map((d) => [d.pairId, d.humansDisagree, d.modelDisagrees])).toEqual([
      [1, false, true],
      [2, true, true],
    ]);
    expect(any.items[0]).toMatchObject({ prompt: 'prompt 1', prediction: 0 });
    expect(any.items[0]!.confidence).toBeCloseTo(0.9, 12);
    expect(any.items[1]!.verdicts).toEqual([
      { annotator: 'ana', verdict: 0 },
      { annotator: 'bob', verdict: 1 },
    ]);
    expect((await call('listDisagreements', { kind: 'humans' })).total).toBe(1);

    await call('adjudicate', {
      pairId: 2,
      verdict: 'tie',
      adjudicator: 'lead',
      note: 'both fine',
    });
    await expect(
      call('adjudicate', { pairId: 99, verdict: 0, adjudicator: 'lead' }),
    ).rejects.toMatchObject({ code: 'not_found' });
    const after = await call('listDisagreements', {});
    expect(after.items[1]!.adjudication).toMatchObject({
      verdict: 'tie',
      adjudicator: 'lead',
      note: 'both fine',
    });
    expect(
      (await call('listDisagreements', { includeAdjudicated: false })).items.map((d) => d.pairId),
    ).toEqual([1]);

    const out = path.join(dir, 'out.parquet');
    await call('exportParquet', { out, images: false });
    const db = await duckdb();
    const exported = await db.rows(
      `SELECT caption, label_0, label_1, verdict_source FROM '${out}' ORDER BY caption`,
    );
    db.close();
    expect(exported).toContainEqual({
      caption: 'prompt 2',
      label_0: 0.5,
      label_1: 0.5,
      verdict_source: 'adjudication',
    });
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("the review list's model disagreements are isDisagreement's, at every margin and threshold", async () => {
    const dir = tempDir();
    const { store, call } = openTestProject(path.join(dir, 'p.pickstudio'));
    const p0s = [0, 0.05, 0.25, 0.4, 0.45, 0.5, 0.55, 0.6, 0.75, 0.95, 1];
    const verdicts: Verdict[] = [0, 1, 'tie'];
    insertPairs(sqlite(store), p0s.length * verdicts.length);
    const scores = store.scores;
    const model = scores.activate({ fingerprint: 'f', name: 'm', manifest: '{}', folder: dir });
    const cases = p0s.flatMap((p0) => verdicts.map((verdict) => ({ p0, verdict })));
    scores.putScores(
      model,
      cases.map(({ p0 }, i) => ({ pairId: i + 1, score0: 0, score1: 0, p0 })),
    );
    for (const [i, { verdict }] of cases.entries()) {
      await call('recordDecision', {
        annotator: 'ana',
        pairId: i + 1,
        decision: verdict,
        leftImage: 0,
        suggestionVisible: false,
        decisionMs: 800,
      });
    }
    for (const tieThreshold of [0, 0.1, 0.5, 0.9, 1]) {
      await call('setSettings', { tieThreshold });
      const listed = await call('listDisagreements', {
        kind: 'model',
        limit: 500,
      });
      // isDisagreement is the renderer's rule; it is checked here against the rule written out.
      for (const c of cases) {
        expect(isDisagreement(c.verdict, c.p0, tieThreshold), JSON.stringify(c)).toBe(
          disagreesByHand(c.verdict, c.p0, tieThreshold),
        );
      }
      const expected = cases
        .map((c, i) => ({ ...c, pairId: i + 1 }))
        .filter((c) => disagreesByHand(c.verdict, c.p0, tieThreshold))
        .sort((a, b) => Math.abs(2 * b.p0 - 1) - Math.abs(2 * a.p0 - 1) || a.pairId - b.pairId);
      expect(listed.items.map((d) => d.pairId)).toEqual(expected.map((c) => c.pairId));
      expect(listed.total).toBe(expected.length);
    }
    // A page past the end is empty and still says how many there are.
    await call('setSettings', { tieThreshold: 0 });
    const past = await call('listDisagreements', {
      kind: 'model',
      offset: 400,
    });
    expect(past.items).toEqual([]);
    expect(past.total).toBeGreaterThan(0);
    store.close();
  });

  it('hands each pair to at most k annotators at once, finishing pairs first, and frees abandoned leases', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-26T12:00:00Z'));
    const dir = tempDir();
    const { store, call } = openTestProject(path.join(dir, 'p.pickstudio'));
    insertPairs(sqlite(store), 6);
    await call('setSettings', { overlap: 2 });
    const queue = async (annotator: string, count = 3, excludePairIds: number[] = []) =>
      (
        await call('getQueue', {
          annotator,
          count,
          excludePairIds,
        })
      ).pairs.map((p) => p.pairId);
    expect(await queue('ana')).toEqual([1, 2, 3]);
    // Pairs ana holds are still short of k = 2.
    expect(await queue('bob')).toEqual([1, 2, 3]);
    // Pairs 1-3 are held by two annotators: cy gets the others.
    expect(await queue('cy')).toEqual([4, 5, 6]);
    await call('recordDecision', {
      annotator: 'ana',
      pairId: 1,
      decision: 0,
      leftImage: 1,
      suggestionVisible: false,
      decisionMs: 500,
    });
    // Pairs 4-6 are held by cy alone.
    expect(await queue('dee', 6)).toEqual([4, 5, 6]);
    expect(await queue('eve', 6)).toEqual([]);
    // 16 minutes later every lease has lapsed; ana's verdict on pair 1 stands.
    vi.setSystemTime(new Date('2026-11-26T12:16:00Z'));
    expect(await queue('eve', 6)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await queue('fay', 6)).toEqual([2, 3, 4, 5, 6]);
    // A view still holding pairs (excludePairIds) keeps their leases running.
    vi.setSystemTime(new Date('2026-11-26T12:20:00Z'));
    expect(await queue('eve', 1, [1, 2])).toEqual([3]);
    // fay's leases (12:16) and eve's on 4-6 lapse at 12:31; eve's on 1-3 run to 12:35.
    vi.setSystemTime(new Date('2026-11-26T12:32:00Z'));
    expect(await queue('gus', 6)).toEqual([2, 3, 4, 5, 6]);
    // Leases commit without waiting for the disk; labels still do (synchronous = FULL).
    expect(sqlite(store).pragma('synchronous', { simple: true })).toBe(2);
    store.close();
  });

  it('under an overlap, pairs with the most verdicts come first; leases fill pairs without reordering them', async () => {
    const dir = tempDir();
    const { store, call } = openTestProject(path.join(dir, 'p.pickstudio'));
    insertPairs(sqlite(store), 5);
    await call('setSettings', { overlap: 3 });
    const decide = (annotator: string, pairId: number) =>
      call('recordDecision', {
        annotator,
        pairId,
        decision: 0,
        leftImage: 0,
        suggestionVisible: false,
        decisionMs: 500,
      });
    await decide('ana', 4);
    await decide('bob', 4);
    await decide('ana', 2);
    await decide('bob', 5);
    await call('getQueue', { annotator: 'cy', count: 1, excludePairIds: [1] });
    const queue = await call('getQueue', {
      annotator: 'dee',
      count: 5,
    });
    // Pair 4 has two verdicts, 2 and 5 one, 1 and 3 none; cy's leases (1, then 4) count
    // toward k = 3: pair 4 is full.
    expect(queue.pairs.map((p) => p.pairId)).toEqual([2, 5, 1, 3]);
    store.close();
  });

  it('tunes the threshold on a project of an older schema without changing it', async () => {
    const dir = tempDir();
    // The validation project, as the previous version (schema 3) left it.
    const validation = path.join(dir, 'validation.pickstudio');
    const old = new Database(validation);
    old.pragma(`application_id = ${PICKSTUDIO_APPLICATION_ID}`);
    for (const migration of MIGRATIONS.filter((m) => m.version <= 3)) old.exec(migration.sql);
    old.pragma('user_version = 3');
    old.exec(`INSERT INTO models (id, fingerprint, name, manifest, folder, created_at)
      VALUES (1, 'f', 'm', '{}', '${dir}', 0);
      INSERT INTO annotators (id, name, kind, created_at) VALUES (1, 'ana', 'human', 0);`);
    insertPairs(old, 4);
    // Sure of image 0 and right, sure of image 1 and right, unsure on two ties: t = 0.1 is best.
    const examples: [number, string][] = [
      [0.9, '0'],
      [0.1, '1'],
      [0.52, 'tie'],
      [0.47, 'tie'],
    ];
    examples.forEach(([p0, verdict], i) => {
      old
        .prepare(
          'INSERT INTO scores (model_id, pair_id, score_0, score_1, p_0) VALUES (1, ?, 0, 0, ?)',
        )
        .run(i + 1, p0);
      old
        .prepare(
          "INSERT INTO annotations (pair_id, annotator_id, action, verdict, created_at) VALUES (?, 1, 'verdict', ?, 0)",
        )
        .run(i + 1, verdict);
    });
    old.close();
    const before = fs.readFileSync(validation);

    const { store, call } = openTestProject(path.join(dir, 'test.pickstudio'));
    store.scores.activate({ fingerprint: 'f', name: 'm', manifest: '{}', folder: dir });
    const report = await call('getAuditTunedOn', {
      tuneOn: validation,
      resamples: 0,
    });
    expect(report.thresholdSource).toMatchObject({ kind: 'tuned-on', verdicts: 4, threshold: 0.1 });
    expect(fs.readFileSync(validation).equals(before)).toBe(true);
    store.close();
  });

  // The long times are read by a scan where many are long, and looked up one by one where few
  // are (2 of 6 verdicts, and 2 of 51 with cy's: below the read's one in twenty).
  it.each([0, 45])(
    'reads decision times exactly, short and long, missing, and on pairs the filters leave out (%i more short)',
    async (moreShort) => {
      const dir = tempDir();
      const { store, call } = openTestProject(path.join(dir, 'p.pickstudio'));
      insertPairs(sqlite(store), 6 + moreShort);
      const ana = store.decisions.annotatorId('ana', 'human');
      const ben = store.decisions.annotatorId('ben', 'human');
      const cy = store.decisions.annotatorId('cy', 'human');
      for (let pairId = 7; pairId < 7 + moreShort; pairId++) {
        store.decisions.record([
          { pairId, annotatorId: cy, decision: 1, leftImage: 1, decisionMs: 800, createdAt: 0 },
        ]);
      }
      // A day is longer than the audit packs beside a decision at this size; so is a week.
      const day = 86_400_000;
      const times: [number, number, number | null][] = [
        [1, ana, 700],
        [2, ana, day],
        [3, ana, null],
        [1, ben, 3 * day],
        [2, ben, 0],
        [6, ben, 900],
      ];
      for (const [pairId, annotatorId, decisionMs] of times) {
        store.decisions.record([
          { pairId, annotatorId, decision: 0, leftImage: 0, decisionMs, createdAt: Date.now() },
        ]);
      }
      // For the generator filter below (a pair's generators are set when it is added).
      sqlite(store).prepare("UPDATE pairs SET model_0 = 'sdxl' WHERE id > 1").run();
      const medians = async (filters: AuditFilters) =>
        (await call('getAudit', { filters, resamples: 0 })).dashboard.annotators
          .filter((a) => a.annotator !== 'cy')
          .map((a) => [a.annotator, a.medianDecisionMs]);
      // ana: 700 and a day (one missing); ben: 0, 900 and 3 days.
      expect(await medians({})).toEqual([
        ['ana', (700 + day) / 2],
        ['ben', 900],
      ]);
      expect(await medians({ annotators: ['ben'] })).toEqual([['ben', 900]]);
      // Leaving out pair 1 (ben's 3 days) must not shift the long times after it.
      expect(await medians({ generator: 'sdxl' })).toEqual([
        ['ana', day],
        ['ben', 450],
      ]);
      store.close();
    },
  );

  it("counts each annotator's current verdict only: a changed mind, an undo and a skip", async () => {
    const dir = tempDir();
    const { store, call } = openTestProject(path.join(dir, 'p.pickstudio'));
    insertPairs(sqlite(store), 2);
    const decide = (annotator: string, pairId: number, decision: Decision) =>
      call('recordDecision', {
        annotator,
        pairId,
        decision,
        leftImage: 1,
        suggestionVisible: false,
        decisionMs: 700,
      });
    await decide('ana', 1, 0);
    await decide('ana', 1, 1); // changed her mind: 1 stands
    await decide('ana', 2, 1);
    await call('undoLast', { annotator: 'ana' }); // takes back pair 2
    await decide('bob', 1, 'tie');
    await decide('bob', 2, 'skip'); // a skip is no verdict
    await decide('cy', 1, 0);
    await decide('cy', 1, 'tie');
    await call('undoLast', { annotator: 'cy' }); // back to 0
    const report = await call('getAudit', { resamples: 0 });
    const current = sqlite(store)
      .prepare(
        `SELECT an.name, c.pair_id AS pair, c.verdict FROM current_annotations c
         JOIN annotators an ON an.id = c.annotator_id WHERE c.action = 'verdict' ORDER BY an.name`,
      )
      .all();
    expect(current).toEqual([
      { name: 'ana', pair: 1, verdict: '1' },
      { name: 'bob', pair: 1, verdict: 'tie' },
      { name: 'cy', pair: 1, verdict: '0' },
    ]);
    expect(report.dashboard.counts).toMatchObject({ verdicts: 3, judgedPairs: 1 });
    expect(report.dashboard.annotators.map((a) => [a.annotator, a.verdicts, a.ties])).toEqual([
      ['ana', 1, 0],
      ['bob', 1, 1],
      ['cy', 1, 0],
    ]);
    // Three different verdicts on one pair: no two agree.
    expect(report.dashboard.agreement.percent.value).toBe(0);
    store.close();
  });

  it("orders the queue by the model's uncertainty when asked (active labeling)", async () => {
    const dir = tempDir();
    const { store, call } = openTestProject(path.join(dir, 'p.pickstudio'));
    const p0s = [0.9, 0.52, 0.3, 0.45, 0.99];
    insertPairs(sqlite(store), p0s.length);
    const scores = store.scores;
    const model = scores.activate({ fingerprint: 'f', name: 'm', manifest: '{}', folder: dir });
    scores.putScores(
      model,
      p0s.slice(0, 4).map((p0, i) => ({ pairId: i + 1, score0: 0, score1: 0, p0 })),
    );
    await call('setSettings', { queueOrder: 'uncertainty' });
    const result = await call('getQueue', {
      annotator: 'ana',
      count: 5,
    });
    // |p0 - 0.5|: 0.02, 0.05, 0.2, 0.4; the unscored pair last.
    expect(result.pairs.map((p) => p.pairId)).toEqual([2, 4, 3, 1, 5]);
    // Without an overlap a lease would count for nothing: asking writes none.
    const leases = () =>
      sqlite(store)
        .prepare(
          'SELECT a.name, l.pair_id FROM pair_leases l JOIN annotators a ON a.id = l.annotator_id ORDER BY 1, 2',
        )
        .raw()
        .all();
    expect(leases()).toEqual([]);
    // Under an overlap too, where the walk has no mark; there the pairs handed out, and those
    // the view holds, are leased.
    await call('setSettings', { overlap: 2 });
    const underOverlap = await call('getQueue', { annotator: 'bea', count: 5 });
    expect(underOverlap.pairs.map((p) => p.pairId)).toEqual([2, 4, 3, 1, 5]);
    const held = await call('getQueue', { annotator: 'ana', count: 1, excludePairIds: [2, 4] });
    expect(held.pairs.map((p) => p.pairId)).toEqual([3]);
    expect(leases()).toEqual([
      ...[2, 3, 4].map((pair) => ['ana', pair]),
      ...[1, 2, 3, 4, 5].map((pair) => ['bea', pair]),
    ]);
    store.close();
  });

  it('active labeling resumes where the annotator got to, and still hands out what an undo, a rescore, a let-go pair or another process reopened', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'p.pickstudio');
    const { store, call } = openTestProject(file);
    // |p0 - 0.5| of pair i is i / 100 (pairs 1..12): pair 1 is the least certain, ties none.
    const pairs = 12;
    insertPairs(sqlite(store), pairs);
    const scores = store.scores;
    const model = scores.activate({ fingerprint: 'f', name: 'm', manifest: '{}', folder: dir });
    const score = (pairId: number, p0: number) => ({ pairId, score0: 0, score1: 0, p0 });
    scores.putScores(
      model,
      Array.from({ length: pairs }, (_, i) => score(i + 1, 0.5 + (i + 1) / 100)),
    );
    await call('setSettings', { queueOrder: 'uncertainty' });
    const next = async (count: number, excludePairIds: number[] = []) =>
      (await call('getQueue', { annotator: 'ana', count, excludePairIds })).pairs.map(
        (p) => p.pairId,
      );
    const decide = (pairId: number) =>
      call('recordDecision', {
        annotator: 'ana',
        pairId,
        decision: 0,
        leftImage: 0,
        suggestionVisible: false,
        decisionMs: 700,
      });

    expect(await next(2)).toEqual([1, 2]);
    await decide(1);
    expect(await next(1, [2])).toEqual([3]);
    await decide(2);
    await decide(3);
    expect(await next(1)).toEqual([4]);
    await decide(4);
    expect(await next(1)).toEqual([5]);
    expect(await next(1, [5])).toEqual([6]);
    // The view lets its held pairs go (a reload): they are the first again.
    expect(await next(2)).toEqual([5, 6]);
    await decide(5);
    await decide(6);
    expect(await next(1)).toEqual([7]);
    // An undo gives back its pair, the least certain open one.
    await call('undoLast', { annotator: 'ana' });
    expect(await next(1)).toEqual([6]);
    await decide(6);
    expect(await next(1)).toEqual([7]);
    // Rescored: pair 12 becomes the least certain of all.
    scores.putScores(model, [score(12, 0.5)]);
    expect(await next(1)).toEqual([12]);
    await decide(12);
    expect(await next(1)).toEqual([7]);
    // Another process takes back ana's last decision: seen here at once.
    const other = openStudio(file);
    await other.call('undoLast', { annotator: 'ana' });
    other.close();
    expect(await next(1)).toEqual([12]);
    store.close();
  });

  it("counts a pair of one generator's two images once in its agreement with the model", async () => {
    const dir = tempDir();
    const { store, call } = openTestProject(path.join(dir, 'p.pickstudio'));
    insertPairs(sqlite(store), 2);
    sqlite(store)
      .prepare(
        "UPDATE pairs SET model_0 = 'sdxl', model_1 = CASE id WHEN 1 THEN 'sdxl' ELSE 'dalle' END",
      )
      .run();
    scoreWith(store, dir, [
      { pairId: 1, p0: 0.9 },
      { pairId: 2, p0: 0.9 },
    ]);
    const decide = (pairId: number, decision: Verdict) =>
      call('recordDecision', {
        annotator: 'ana',
        pairId,
        decision,
        leftImage: 0,
        suggestionVisible: false,
        decisionMs: 800,
      });
    await decide(1, 0); // sdxl against sdxl, as the model says: 1
    await decide(2, 1); // sdxl against dalle, against the model: 0
    const report = await call('getAudit', { threshold: 0, resamples: 0 });
    const agreement = Object.fromEntries(
      report.generators.map((g) => [g.generator, g.pickscoreAgreement]),
    );
    // sdxl: one verdict of 1 and one of 0, each pair once.
    expect(agreement).toEqual({ sdxl: 0.5, dalle: 0 });
    store.close();
  });

  it('counts the confusion matrix and the generator table verdict by verdict, under any threshold and filter', async () => {
    const dir = tempDir();
    const { store, call } = openTestProject(path.join(dir, 'p.pickstudio'));
    insertPairs(sqlite(store), 60);
    const generators = ['sdxl', 'dalle', 'kand', null];
    const random = mulberry32(5);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const pairs = Array.from({ length: 60 }, (_, i) => ({
      id: i + 1,
      m0: pick(generators),
      m1: pick(generators),
      // Some pairs unscored.
      p0: random() < 0.2 ? null : Math.round(random() * 100) / 100,
    }));
    const setGenerators = sqlite(store).prepare(
      'UPDATE pairs SET model_0 = ?, model_1 = ? WHERE id = ?',
    );
    for (const p of pairs) setGenerators.run(p.m0, p.m1, p.id);
    scoreWith(
      store,
      dir,
      pairs.filter((p) => p.p0 !== null).map((p) => ({ pairId: p.id, p0: p.p0! })),
    );
    const verdicts: { pairId: number; verdict: Verdict }[] = [];
    for (const annotator of ['ana', 'ben', 'cy']) {
      for (const p of pairs) {
        if (random() < 0.3) continue;
        const verdict = pick<Verdict>([0, 1, 'tie']);
        verdicts.push({ pairId: p.id, verdict });
        await call('recordDecision', {
          annotator,
          pairId: p.id,
          decision: verdict,
          leftImage: 0,
          suggestionVisible: false,
          decisionMs: 800,
        });
      }
    }
    const categories: Verdict[] = [0, 'tie', 1];
    for (const [threshold, filters] of [
      [0.3, {}],
      [0, { generator: 'sdxl' }],
      [0.5, { minConfidence: 0.2 }],
    ] as const) {
      const report = await call('getAudit', { threshold, filters, resamples: 0 });
      const kept = pairs.filter(
        (p) =>
          (filters.generator === undefined || p.m0 === 'sdxl' || p.m1 === 'sdxl') &&
          (!('minConfidence' in filters) || (p.p0 !== null && Math.abs(p.p0 - 0.5) >= 0.2)),
      );
      const confusion = categories.map(() => [0, 0, 0]);
      const table = new Map<
        string,
        { wins: number; losses: number; ties: number; sum: number; n: number }
      >();
      for (const { pairId, verdict } of verdicts) {
        const p = kept.find((k) => k.id === pairId);
        if (p === undefined) continue;
        const predicted = p.p0 === null ? null : predictVerdict(p.p0, threshold);
        if (predicted !== null) {
          confusion[categories.indexOf(verdict)]![categories.indexOf(predicted)]! += 1;
        }
        const score = predicted === null ? null : protocolScore(verdict, predicted);
        for (const [generator, side] of [
          [p.m0, 0],
          [p.m1, 1],
        ] as const) {
          if (generator === null) continue;
          const row = table.get(generator) ?? { wins: 0, losses: 0, ties: 0, sum: 0, n: 0 };
          table.set(generator, row);
          if (p.m0 !== p.m1) {
            if (verdict === 'tie') row.ties++;
            else if (verdict === side) row.wins++;
            else row.losses++;
          }
          if (score !== null && (p.m0 !== p.m1 || side === 0)) {
            row.sum += score;
            row.n++;
          }
        }
      }
      expect(report.confusion.counts).toEqual(confusion);
      expect(
        Object.fromEntries(
          report.generators.map((g) => [
            g.generator,
            [g.wins, g.losses, g.ties, g.pickscoreAgreement],
          ]),
        ),
      ).toEqual(
        Object.fromEntries(
          [...table].map(([g, r]) => [g, [r.wins, r.losses, r.ties, r.n > 0 ? r.sum / r.n : null]]),
        ),
      );
    }
    store.close();
  });

  it('--tune-on reports the tuning figures of the project tuned on; --threshold reports none', async () => {
    const dir = tempDir();
    // Tuning project: five verdicts; |p0 - p1| is 0.76, 0.76, 0.04, 0.06, 0.44.
    const tuning = openTestProject(path.join(dir, 'validation.pickstudio'));
    const examples: [number, Verdict][] = [
      [0.88, 0],
      [0.12, 1],
      [0.52, 'tie'],
      [0.47, 'tie'],
      [0.72, 1],
    ];
    const evaluated = openTestProject(path.join(dir, 'test.pickstudio'));
    const evaluation: [number, Verdict][] = [
      [0.9, 0],
      [0.3, 0],
    ];
    for (const [{ store, call }, rows] of [
      [tuning, examples],
      [evaluated, evaluation],
    ] as const) {
      insertPairs(sqlite(store), rows.length);
      scoreWith(
        store,
        dir,
        rows.map(([p0], i) => ({ pairId: i + 1, p0 })),
      );
      for (const [i, [, decision]] of rows.entries()) {
        await call('recordDecision', {
          annotator: 'ana',
          pairId: i + 1,
          decision,
          leftImage: 0,
          suggestionVisible: false,
          decisionMs: 800,
        });
      }
    }
    tuning.store.close();
    // By hand: t = 0 calls no tie (3 of 5); 0.1 to 0.4 the two ties (4); 0.5 to 0.7 the last
    // pair too (4.5); from 0.8 the two sure pairs become ties as well (3.5).
    const expected = [0.6, 0.8, 0.8, 0.8, 0.8, 0.9, 0.9, 0.9, 0.7, 0.7, 0.7];
    const report = await evaluated.call('getAuditTunedOn', {
      tuneOn: path.join(dir, 'validation.pickstudio'),
      resamples: 0,
    });
    const p = report.dashboard.pickscore;
    expect(p.threshold).toBe(0.5);
    expect(p.tuningVerdicts).toBe(5);
    expect(p.tuningAccuracy).toHaveLength(expected.length);
    expected.forEach((a, i) => expect(p.tuningAccuracy[i]).toBeCloseTo(a, 12));
    expect(p.evaluationVerdicts).toBe(2);

    const fixed = (await evaluated.call('getAudit', { threshold: 0.3, resamples: 0 })).dashboard
      .pickscore;
    expect(fixed.tuningVerdicts).toBe(0);
    expect(fixed.tuningAccuracy).toEqual(Array(11).fill(null));
    expect(fixed.evaluationVerdicts).toBe(2);
    evaluated.store.close();
  });

  it('audits a project of 200,000 annotators (more than a spread of their ids can pass)', async () => {
    const { store, call } = openTestProject(path.join(tempDir(), 'p.pickstudio'));
    insertPairs(sqlite(store), 2);
    sqlite(store).exec(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000)
       INSERT INTO annotators (name, kind, created_at, uid)
       SELECT 'pickapic:' || i, 'dataset', 0, 'uid-' || i FROM n`,
    );
    for (const annotator of ['ana', 'ben']) {
      await call('recordDecision', {
        annotator,
        pairId: 1,
        decision: 0,
        leftImage: 0,
        suggestionVisible: false,
        decisionMs: 800,
      });
    }
    // Through the worker, and on this thread, whose stack is the smaller.
    for (const report of [
      await call('getAudit', { resamples: 0 }),
      audit(store, { filters: {}, resamples: 0 }),
    ]) {
      expect(report.dashboard.counts).toMatchObject({ verdicts: 2, annotators: 2 });
      expect(report.dashboard.annotators.map((a) => a.annotator)).toEqual(['ana', 'ben']);
    }
    store.close();
  });

  it("says how many annotator pairs share too few pairs for Cohen's kappa", async () => {
    const dir = tempDir();
    const project = path.join(dir, 'p.pickstudio');
    const { store, call } = openTestProject(project);
    insertPairs(sqlite(store), 12);
    // ana judges 1-12, bob 1-10, cy 11-12, dan 1: ana/bob share 10 pairs (a row); ana/cy 2,
    // ana/dan 1 and bob/dan 1 are left out; bob/cy and cy/dan share none.
    const judged: [string, number[]][] = [
      ['ana', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]],
      ['bob', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]],
      ['cy', [11, 12]],
      ['dan', [1]],
    ];
    for (const [annotator, pairIds] of judged) {
      for (const pairId of pairIds) {
        await call('recordDecision', {
          annotator,
          pairId,
          decision: pairId % 3 === 0 ? 'tie' : ((pairId % 2) as 0 | 1),
          leftImage: 0,
          suggestionVisible: false,
          decisionMs: 800,
        });
      }
    }
    const all = (await call('getAudit', { resamples: 0 })).dashboard.agreement;
    expect(cohenRows(all.cohen).map((c) => [c.a, c.b])).toEqual([['ana', 'bob']]);
    expect(all.cohenBelowMinimum).toEqual({ count: 3, minimumShared: 10 });
    const cy = (await call('getAudit', { annotator: 'cy', resamples: 0 })).dashboard.agreement;
    expect(cohenRows(cy.cohen)).toEqual([]);
    expect(cy.cohenBelowMinimum).toEqual({ count: 1, minimumShared: 10 });
    store.close();

    const text = pickstudio('stats', project);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('3 annotator pairs left out: fewer than 10 shared pairs');
    expect(pickstudio('stats', project, '--annotator', 'cy').stdout).toContain(
      '1 annotator pair left out: fewer than 10 shared pairs',
    );
  });
});
