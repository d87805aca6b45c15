import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../electron/core/demo/scenes';
import {
  binomialTwoSided,
  normalUpperTail,
  outlierFlags,
  wilsonUpper,
} from '../../electron/core/metrics/outliers';
import type { AnnotatorResult, CohenTable } from '../../shared/audit';
import { mixInGold } from '../../electron/core/team/package';
import type { Disagreement } from '../../shared/audit';
import type { Verdict } from '../../shared/labels';
import { isPickScore, modelDisagreesWith, modelWord } from '../../shared/model-words';
import { runPickstudio } from '../helpers/cli';
import { failure } from '../helpers/errors';
import { insertPairs, openTestProject, sqlite, tempDir } from '../helpers/project';
import { decide, decisionsOf, leadProject } from '../helpers/team';

function project(pairs: number) {
  const opened = openTestProject(path.join(tempDir(), 'p.pickstudio'));
  insertPairs(sqlite(opened.store), pairs);
  return opened;
}

describe('gold pairs', () => {
  it('sets, lists and clears gold pairs; an unknown pair refuses the whole list', async () => {
    const { call } = project(4);
    expect(await call('listGold', {})).toEqual([]);
    const done = await call('setGold', {
      pairs: [
        { pairId: 2, verdict: 'tie' },
        { pairId: 1, verdict: 0 },
      ],
      setBy: 'lead',
    });
    expect(done).toEqual({ set: 2, cleared: 0, goldPairs: 2 });
    expect((await call('listGold', {})).map((g) => [g.pairId, g.verdict, g.setBy])).toEqual([
      [1, 0, 'lead'],
      [2, 'tie', 'lead'],
    ]);
    // Again with another verdict: replaced; null: cleared.
    await call('setGold', { pairs: [{ pairId: 1, verdict: 1 }], setBy: 'lea' });
    const cleared = await call('setGold', { pairs: [{ pairId: 2, verdict: null }], setBy: 'lea' });
    expect(cleared).toEqual({ set: 0, cleared: 1, goldPairs: 1 });
    expect((await call('listGold', {})).map((g) => [g.pairId, g.verdict, g.setBy])).toEqual([
      [1, 1, 'lea'],
    ]);
    const unknown = await failure(
      call('setGold', {
        pairs: [
          { pairId: 3, verdict: 0 },
          { pairId: 99, verdict: 0 },
        ],
        setBy: 'lead',
      }),
    );
    expect(unknown.message).toMatch(/no pair 99 .*nothing was changed/);
    expect(await call('listGold', {})).toHaveLength(1);
  });

  it("scores each annotator's current verdicts on gold pairs: skips and undone verdicts do not count, a tie is right only on a gold tie", async () => {
    const { call } = project(6);
    await call('setGold', {
      pairs: [
        { pairId: 1, verdict: 0 },
        { pairId: 2, verdict: 1 },
        { pairId: 3, verdict: 'tie' },
        { pairId: 4, verdict: 0 },
      ],
      setBy: 'lead',
    });
    // ann: 1 right, 2 right, 3 wrong (0 on a gold tie), 4 skipped: 2 of 3.
    for (const [pair, decision] of [
      [1, 0],
      [2, 1],
      [3, 0],
      [4, 'skip'],
    ] as const) {
      await decide(call, 'ann', pair, decision);
    }
    // bea: 1 wrong (a tie on a gold image 0), 2 right, 3 right (tie), 4 wrong, 5 not gold: 2 of 4.
    for (const [pair, decision] of [
      [1, 'tie'],
      [2, 1],
      [3, 'tie'],
      [4, 1],
      [5, 0],
    ] as const) {
      await decide(call, 'bea', pair, decision);
    }
    // cy: a right verdict on pair 1, undone; then only pair 6, not gold: 0 judged.
    await decide(call, 'cy', 1, 0);
    await call('undoLast', { annotator: 'cy' });
    await decide(call, 'cy', 6, 1);

    const report = await call('getAudit', { resamples: 0 });
    expect(report.quality.goldPairs).toBe(4);
    expect(report.quality.annotators.map((a) => [a.annotator, a.gold])).toEqual([
      ['ann', { judged: 3, correct: 2, accuracy: 2 / 3 }],
      ['bea', { judged: 4, correct: 2, accuracy: 0.5 }],
      ['cy', { judged: 0, correct: 0, accuracy: null }],
    ]);
    // The filters choose the verdicts, as for every other figure; --annotator keeps one row.
    const onlyBea = await call('getAudit', { resamples: 0, filters: { annotators: ['bea'] } });
    expect(onlyBea.quality.annotators.map((a) => [a.annotator, a.gold.judged])).toEqual([
      ['bea', 4],
    ]);
    const focus = await call('getAudit', { resamples: 0, annotator: 'ann' });
    expect(focus.quality.annotators.map((a) => [a.annotator, a.gold.correct])).toEqual([
      ['ann', 2],
    ]);
  });

  it("mixes gold pairs into a package, counted within --pairs, never in the package's gold table; the labels merge back", async () => {
    const lead = await leadProject(12);
    const prompt = (id: number) => `prompt ${id - 1}`;
    await lead.call('setGold', {
      pairs: [
        { pairId: 3, verdict: 0 },
        { pairId: 7, verdict: 1 },
        { pairId: 11, verdict: 'tie' },
      ],
      setBy: 'lead',
    });
    const file = path.join(lead.dir, 'ana.pickstudio');
    // 5 pairs: a fifth of them (1) gold by default.
    const made = await lead.call('makePackage', { out: file, annotator: 'ana', pairs: 5 });
    expect([made.pairs, made.goldPairs]).toEqual([5, 1]);
    const second = path.join(lead.dir, 'ana-2.pickstudio');
    const more = await lead.call('makePackage', {
      out: second,
      annotator: 'ana',
      pairs: 6,
      gold: 3,
    });
    // The gold pair of the first package is not met again: two are left for her.
    expect([more.pairs, more.goldPairs]).toEqual([6, 2]);

    const promptsOf = (opened: ReturnType<typeof openTestProject>) =>
      sqlite(opened.store)
        .prepare<[], string>('SELECT pr.text FROM pairs p JOIN prompts pr ON pr.id = p.prompt_id')
        .pluck()
        .all();
    const ana = openTestProject(file);
    const ana2 = openTestProject(second);
    const goldPrompts = [3, 7, 11].map(prompt);
    const inPackages = [...promptsOf(ana), ...promptsOf(ana2)];
    expect(goldPrompts.every((p) => inPackages.includes(p))).toBe(true);
    expect(new Set(inPackages).size).toBe(inPackages.length);
    for (const pkg of [ana, ana2]) {
      expect(sqlite(pkg.store).prepare('SELECT count(*) AS n FROM gold_pairs').get()).toEqual({
        n: 0,
      });
      // Numbered in the order they are handed out: no id sets a gold pair apart.
      expect(
        sqlite(pkg.store).prepare<[], number>('SELECT id FROM pairs ORDER BY id').pluck().all(),
      ).toEqual(Array.from({ length: promptsOf(pkg).length }, (_, i) => i + 1));
      expect((await failure(pkg.call('listGold', {}))).code).toBe('not_allowed');
      expect(
        (await failure(pkg.call('setGold', { pairs: [{ pairId: 1, verdict: 0 }], setBy: 'ana' })))
          .code,
      ).toBe('not_allowed');
    }
    // She labels everything; merged back, her verdicts land on the lead's pairs by content.
    for (const p of (await ana.call('getQueue', { annotator: 'ana', count: 10 })).pairs) {
      await decide(ana.call, 'ana', p.pairId, 0);
    }
    await lead.call('merge', { sources: [file] });
    const byPrompt = (rows: ReturnType<typeof decisionsOf>) =>
      rows.map((r) => [r.prompt, r.verdict]).sort();
    expect(byPrompt(decisionsOf(lead.store))).toEqual(byPrompt(decisionsOf(ana.store)));
  });

  it('pickstudio gold: a CSV sets and clears, --pair sets one, no file lists; bad lines are named; stats --json carries the scores', async () => {
    const { studio, store } = project(5);
    const file = store.file;
    await decide(studio.call, 'ann', 2, 1);
    studio.close();
    const dir = path.dirname(file);
    const csv = path.join(dir, 'gold.csv');
    fs.writeFileSync(csv, 'note,pair_id,verdict\nclear,1,0\n\n# later\nx,2,1\ny,3,TIE\n');
    const set = await runPickstudio(['gold', file, csv]);
    expect(set.stderr).toBe('');
    expect(set.stdout).toBe(`${file}: 3 gold pairs set, 0 cleared; 3 gold pairs in all\n`);
    const one = await runPickstudio(['gold', file, '--pair', '1', '--verdict', 'none']);
    expect(one.stdout).toMatch(/0 gold pairs set, 1 cleared; 2 gold pairs in all/);
    const list = await runPickstudio(['gold', file, '--json']);
    expect(
      (JSON.parse(list.stdout) as { pairId: number; verdict: Verdict }[]).map((g) => [
        g.pairId,
        g.verdict,
      ]),
    ).toEqual([
      [2, 1],
      [3, 'tie'],
    ]);
    fs.writeFileSync(csv, 'pair_id,verdict\n4,0\n4,1\n');
    const twice = await runPickstudio(['gold', file, csv]);
    expect([twice.code, twice.stderr]).toEqual([
      1,
      `pickstudio: ${csv} line 3: pair 4 again (line 2)\n`,
    ]);
    fs.writeFileSync(csv, '4,image 0\n');
    expect((await runPickstudio(['gold', file, csv])).stderr).toMatch(
      /line 1: verdict must be 0, 1, tie or none/,
    );
    const usage = await runPickstudio(['gold', file, '--pair', '4']);
    expect(usage.code).toBe(2);
    const stats = await runPickstudio(['stats', file, '--json', '--resamples', '0']);
    const audit = (JSON.parse(stats.stdout) as { audit: { quality: unknown } }).audit;
    expect(audit.quality).toEqual({
      goldPairs: 2,
      annotators: [{ annotator: 'ann', gold: { judged: 1, correct: 1, accuracy: 1 }, flags: [] }],
    });
    const text = await runPickstudio(['stats', file, '--resamples', '0']);
    expect(text.stdout).toMatch(
      /gold pairs: 2; per annotator.*\n {2}ann: 1, 1, 100\.0%\noutliers: none flagged/,
    );
  });

  it('spreads gold pairs one to each stretch of the package, never first or last', () => {
    const regular = Array.from({ length: 95 }, (_, i) => 100 + i);
    const gold = [1, 2, 3, 4, 5];
    for (const pick of [() => 0, (n: number) => n - 1]) {
      const mixed = mixInGold(regular, gold, pick);
      expect(mixed).toHaveLength(100);
      expect(mixed.filter((id) => id >= 100)).toEqual(regular);
      const positions = gold.map((g) => mixed.indexOf(g));
      positions.forEach((at, j) => {
        expect(at).toBeGreaterThanOrEqual(Math.max(1, j * 20));
        expect(at).toBeLessThan(Math.min(99, (j + 1) * 20));
      });
    }
    expect(mixInGold([10, 11], [], () => 0)).toEqual([10, 11]);
    expect(mixInGold([10], [1], () => 0)).toEqual([1, 10]);
  });
});

describe('outliers', () => {
  it('binomial, normal and Wilson figures match published values', () => {
    // scipy.stats.binomtest(k, n, p).pvalue (R's binom.test gives the same).
    expect(binomialTwoSided(8, 10, 0.5)).toBeCloseTo(0.109375, 12);
    expect(binomialTwoSided(70, 100, 0.5)).toBeCloseTo(7.85013e-5, 9);
    expect(binomialTwoSided(3, 20, 0.3)).toBeCloseTo(0.2204182673807, 12);
    expect(normalUpperTail(1.959963984540054)).toBeCloseTo(0.025, 6);
    // Wilson's 95% interval for 5 of 10: [0.2366, 0.7634].
    expect(wilsonUpper(5, 10)).toBeCloseTo(0.7634, 4);
  });

  /**
   * Three careful annotators (right 90% of the time, 5% ties, either side, 1.2-2.5 s) and a
   * scripted one (38 ms, random image, the left one 85% of the time, no ties), on `pairs` pairs
   * each; gold on every fifth pair with the true verdict.
   */
  async function seeded(pairs: number, botPairs = pairs) {
    const opened = project(pairs);
    const random = mulberry32(7);
    const truth: Verdict[] = Array.from({ length: pairs + 1 }, (_, i) => (i % 2 === 0 ? 0 : 1));
    await opened.call('setGold', {
      pairs: Array.from({ length: Math.floor(pairs / 5) }, (_, i) => ({
        pairId: 5 * (i + 1),
        verdict: truth[5 * (i + 1)]!,
      })),
      setBy: 'lead',
    });
    const store = opened.store;
    const annotations = [];
    for (const name of ['ann', 'bea', 'cy', 'bot']) {
      const annotatorId = store.decisions.annotatorId(name, 'human');
      for (let pairId = 1; pairId <= (name === 'bot' ? botPairs : pairs); pairId++) {
        const leftImage: 0 | 1 = random() < 0.5 ? 0 : 1;
        let decision: Verdict;
        let decisionMs: number;
        if (name === 'bot') {
          decision = random() < 0.85 ? leftImage : leftImage === 0 ? 1 : 0;
          decisionMs = 30 + Math.floor(random() * 16);
        } else {
          const r = random();
          decision = r < 0.05 ? 'tie' : r < 0.9 ? truth[pairId]! : truth[pairId] === 0 ? 1 : 0;
          decisionMs = 1200 + Math.floor(random() * 1300);
        }
        annotations.push({ pairId, annotatorId, decision, leftImage, decisionMs, createdAt: 1 });
      }
    }
    store.decisions.record(annotations);
    return opened;
  }

  it('flags a scripted annotator (fast, random, left-biased) with its reasons, and no careful one', async () => {
    const { call } = await seeded(120);
    const report = await call('getAudit', { resamples: 0 });
    const flags = Object.fromEntries(
      report.quality.annotators.map((a) => [a.annotator, a.flags.map((f) => f.reason)]),
    );
    expect(flags).toEqual({
      ann: [],
      bea: [],
      bot: ['fast', 'low-agreement', 'position-bias', 'gold'],
      cy: [],
    });
    const bot = report.quality.annotators.find((a) => a.annotator === 'bot')!;
    expect(bot.flags[0]!.detail).toMatch(/^median \d+ ms per verdict over 120 \(under 300 ms/);
    expect(bot.flags[2]!.detail).toMatch(/picks the left image in 8\d% of 120 verdicts/);
    // Focused on the bot (its Cohen rows only), the flags are the same: they compare with all.
    const focus = await call('getAudit', { resamples: 0, annotator: 'bot' });
    expect(focus.quality.annotators).toEqual([bot]);
  });

  it('flags a median far below the others, and a tie rate far from theirs, on the figures alone', () => {
    const row = (annotator: string, medianDecisionMs: number, ties: number): AnnotatorResult => ({
      annotator,
      verdicts: 100,
      ties,
      tieRate: ties / 100,
      majorityAgreement: null,
      majorityPairs: 0,
      noMajorityPairs: 0,
      pickscoreAgreement: null,
      pickscoreVerdicts: 0,
      leftRate: 0.5,
      leftRateVerdicts: 100 - ties,
      nonTieVerdicts: 100 - ties,
      medianDecisionMs,
      timedVerdicts: 100,
    });
    const none = { value: [], lower: [], upper: [] };
    const noCohenRows: CohenTable = {
      annotators: [],
      a: [],
      b: [],
      commonPairs: [],
      unweighted: none,
      linear: none,
    };
    const flags = outlierFlags(
      [row('a', 4000, 5), row('b', 5000, 4), row('c', 4500, 6), row('d', 900, 45)],
      noCohenRows,
      new Map(),
    );
    expect(
      Object.fromEntries([...flags].map(([name, f]) => [name, f.map((x) => x.reason)])),
    ).toEqual({
      a: [],
      b: [],
      c: [],
      d: ['fast', 'tie-rate'],
    });
    expect(flags.get('d')![0]!.detail).toBe(
      "median 900 ms per verdict over 100 (under a quarter of the others'; the others' typical median 4.5 s)",
    );
    expect(flags.get('d')![1]!.detail).toMatch(
      /^ties 45% of 100 verdicts against 5% for the others/,
    );
  });

  it('says nothing on small samples', async () => {
    const { call } = await seeded(120, 12);
    const report = await call('getAudit', { resamples: 0 });
    expect(report.quality.annotators.map((a) => [a.annotator, a.flags])).toEqual([
      ['ann', []],
      ['bea', []],
      ['bot', []],
      ['cy', []],
    ]);
  });
});

describe('labels that say what they mean', () => {
  it('names PickScore only when the model is PickScore', () => {
    expect(isPickScore('PickScore_v1')).toBe(true);
    expect(isPickScore('pickstudio-demo-colour-shape (not PickScore)')).toBe(false);
    expect(modelWord('pickstudio-demo-colour-shape (not PickScore)')).toBe('model');
    expect(modelWord('PickScore_v1')).toBe('PickScore');
    expect(modelWord(null)).toBe('model');
  });

  it('says with whom the model disagrees', () => {
    const item = (prediction: Verdict | null, verdicts: [string, Verdict][]) =>
      ({
        prediction,
        verdicts: verdicts.map(([annotator, verdict]) => ({ annotator, verdict })),
      }) as Pick<Disagreement, 'verdicts' | 'prediction'>;
    // The majority agrees with the model: it disagrees with ann-b alone.
    expect(
      modelDisagreesWith(
        item(0, [
          ['ann-a', 0],
          ['ann-b', 1],
          ['ann-c', 0],
        ]),
      ),
    ).toBe('ann-b');
    expect(
      modelDisagreesWith(
        item(0, [
          ['ann-a', 1],
          ['ann-b', 1],
          ['ann-c', 0],
        ]),
      ),
    ).toBe('the majority');
    expect(
      modelDisagreesWith(
        item(1, [
          ['ann-a', 0],
          ['ann-b', 0],
        ]),
      ),
    ).toBe('every annotator');
    // Humans split, the model with them all or predicting a tie: no model disagreement.
    expect(
      modelDisagreesWith(
        item(0, [
          ['ann-a', 0],
          ['ann-b', 'tie'],
        ]),
      ),
    ).toBeNull();
    expect(
      modelDisagreesWith(
        item('tie', [
          ['ann-a', 0],
          ['ann-b', 1],
        ]),
      ),
    ).toBeNull();
    expect(modelDisagreesWith(item(null, [['ann-a', 0]]))).toBeNull();
  });
});
