/**
 * Finding the pairs behind a number: review's search and filters, and the pairs behind a κ row or
 * a confusion cell of the dashboard, on the demo project with its three made-up annotators. Every
 * expected set is computed here from the project's tables read raw, independently of the review's
 * SQL; the counts are compared with the audit report's own figures.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cohenRow,
  cohenRows,
  type AuditFilters,
  type ReviewCell,
  type ReviewFilters,
} from '../../shared/audit';
import type { Verdict } from '../../shared/labels';
import { openTestProject, sqlite, tempDir } from '../helpers/project';

type DbVerdict = '0' | '1' | 'tie';
interface Row {
  pairId: number;
  annotator: string;
  verdict: DbVerdict;
  createdAt: number;
}
interface PairRow {
  id: number;
  prompt: string;
  model0: string | null;
  model1: string | null;
}

const PAIRS = 80;
const GENERATORS = ['sdxl', 'sd-2.1', 'dall-e'];
let project: ReturnType<typeof openTestProject>;
let rows: Row[];
let pairs: PairRow[];
let p0: Map<number, number>;
let flagged: Set<number>;
let gold: Map<number, DbVerdict>;
let tieThreshold: number;

/** PickScore's get_pred, written out. */
function predict(p: number, threshold: number): DbVerdict {
  const p1 = 1 - p;
  if (Math.abs(p1 - p) <= threshold) return 'tie';
  return p > p1 ? '0' : '1';
}

function plurality(verdicts: DbVerdict[]): DbVerdict | null {
  const counts = (['0', 'tie', '1'] as const).map((c) => verdicts.filter((v) => v === c).length);
  const top = Math.max(...counts);
  return counts.filter((n) => n === top).length === 1
    ? (['0', 'tie', '1'] as const)[counts.indexOf(top)]!
    : null;
}

const byPair = (): Map<number, Row[]> => {
  const map = new Map<number, Row[]>();
  for (const r of rows) map.set(r.pairId, [...(map.get(r.pairId) ?? []), r]);
  return map;
};

/** The pair ids review lists (kind `all`), every page, in list order. */
async function listed(filters: ReviewFilters, kind: 'all' | 'any' | 'humans' = 'all') {
  const ids: number[] = [];
  let total = -1;
  let cellVerdicts: number | undefined;
  for (let offset = 0; total < 0 || offset < total; offset += 50) {
    const page = await project.call('listDisagreements', { kind, offset, limit: 50, ...filters });
    total = page.total;
    cellVerdicts = page.cellVerdicts;
    ids.push(...page.items.map((d) => d.pairId));
    if (page.items.length === 0) break;
  }
  return { ids, total, cellVerdicts, set: [...ids].sort((a, b) => a - b) };
}

const sorted = (ids: Iterable<number>): number[] => [...new Set(ids)].sort((a, b) => a - b);

/** The verdicts an audit's filters select, written out (audit.ts readVerdicts). */
function selected(filters: AuditFilters): Row[] {
  const pairOf = new Map(pairs.map((p) => [p.id, p]));
  return rows.filter((r) => {
    const pair = pairOf.get(r.pairId)!;
    const score = p0.get(r.pairId);
    return (
      (filters.annotators === undefined || filters.annotators.includes(r.annotator)) &&
      (filters.from === undefined || r.createdAt >= filters.from) &&
      (filters.to === undefined || r.createdAt < filters.to) &&
      (filters.generator === undefined ||
        pair.model0 === filters.generator ||
        pair.model1 === filters.generator) &&
      (filters.minConfidence === undefined ||
        (score !== undefined && Math.abs(score - 0.5) >= filters.minConfidence))
    );
  });
}

beforeAll(async () => {
  project = openTestProject(path.join(tempDir(), 'review.pickstudio'));
  const { call, store } = project;
  await call('createDemo', { pairs: PAIRS, score: false, annotators: true });
  const db = sqlite(store);
  // Generators, times and a few prompts with LIKE's wildcards, set in the file.
  db.prepare(
    `UPDATE pairs SET model_0 = json_extract(@g, '$[' || (id % 3) || ']'),
       model_1 = json_extract(@g, '$[' || ((id + 1) % 3) || ']')`,
  ).run({ g: JSON.stringify(GENERATORS) });
  db.exec(`UPDATE decisions SET created_at = 1000000 + pair_id * 1000 + annotator_id`);
  const ids = db.prepare('SELECT id FROM pairs ORDER BY id').pluck().all() as number[];
  const setPrompt = db.prepare(
    'UPDATE prompts SET text = ? WHERE id = (SELECT prompt_id FROM pairs WHERE id = ?)',
  );
  setPrompt.run('A 50% OFF sign_board in Red', ids[0]);
  setPrompt.run('a 50 off signXboard in red', ids[1]);
  setPrompt.run('a red sign board', ids[2]);
  // Scores that spread over the thresholds, unscored pairs among them.
  const model = store.scores.activate({ fingerprint: 'f', name: 'm', manifest: '{}', folder: '' });
  store.scores.putScores(
    model,
    ids
      .filter((id) => id % 7 !== 0)
      .map((id) => ({ pairId: id, score0: 0, score1: 0, p0: ((id * 37) % 101) / 100 })),
  );
  // Flags and gold rows, as the labeling view and the dashboard write them.
  const insertFlag = db.prepare(
    `INSERT INTO flags (pair_id, annotator_id, note, created_at)
     VALUES (?, (SELECT id FROM annotators WHERE name = ?), ?, ?)`,
  );
  insertFlag.run(ids[4], 'demo:ana', 'wrong prompt', 5);
  insertFlag.run(ids[4], 'demo:ben', 'both broken', 6);
  insertFlag.run(ids[30], 'demo:chen', 'nsfw?', 7);
  const insertGold = db.prepare(
    `INSERT INTO gold_pairs (pair_id, verdict, set_by, created_at) VALUES (?, ?, 'lead', 1)`,
  );
  for (const [i, v] of [
    [4, '0'],
    [10, 'tie'],
    [31, '1'],
    [50, '0'],
  ] as const) {
    insertGold.run(ids[i], v);
  }

  rows = db
    .prepare(
      `SELECT d.pair_id AS pairId, a.name AS annotator, d.verdict, d.created_at AS createdAt
       FROM decisions d JOIN annotators a ON a.id = d.annotator_id WHERE d.action = 'verdict'`,
    )
    .all() as Row[];
  pairs = db
    .prepare(
      `SELECT p.id, t.text AS prompt, p.model_0 AS model0, p.model_1 AS model1
       FROM pairs p JOIN prompts t ON t.id = p.prompt_id`,
    )
    .all() as PairRow[];
  p0 = new Map(
    (db.prepare('SELECT pair_id, p_0 FROM scores').raw().all() as [number, number][]).map(
      ([id, p]) => [id, p],
    ),
  );
  flagged = new Set(db.prepare('SELECT pair_id FROM flags').pluck().all() as number[]);
  gold = new Map(
    (
      db.prepare('SELECT pair_id, verdict FROM gold_pairs').raw().all() as [number, DbVerdict][]
    ).map(([id, v]) => [id, v]),
  );
  tieThreshold = (await call('getSettings', {})).tieThreshold;
}, 60_000);

afterAll(() => project.studio.close());

describe('review: search and filters', () => {
  it('each filter alone lists exactly the judged pairs it names', async () => {
    const judged = byPair();
    const judgedIds = [...judged.keys()];
    const pairOf = new Map(pairs.map((p) => [p.id, p]));
    const majority = (id: number) => plurality(judged.get(id)!.map((r) => r.verdict));
    const cases: [ReviewFilters, number[]][] = [
      [{}, judgedIds],
      [
        { annotator: 'demo:ben' },
        judgedIds.filter((id) => judged.get(id)!.some((r) => r.annotator === 'demo:ben')),
      ],
      [
        { generator: 'dall-e' },
        judgedIds.filter((id) =>
          [pairOf.get(id)!.model0, pairOf.get(id)!.model1].includes('dall-e'),
        ),
      ],
      [{ flagged: true }, judgedIds.filter((id) => flagged.has(id))],
      [{ gold: true }, judgedIds.filter((id) => gold.has(id))],
      [{ noMajority: true }, judgedIds.filter((id) => majority(id) === null)],
      [
        { modelVsMajority: true },
        judgedIds.filter((id) => {
          const m = majority(id);
          const p = p0.get(id);
          if (m === null || m === 'tie' || p === undefined) return false;
          if (Math.abs(2 * p - 1) <= tieThreshold) return false;
          return (p > 0.5 ? '0' : '1') !== m;
        }),
      ],
      [
        { search: 'RED' },
        judgedIds.filter((id) => pairOf.get(id)!.prompt.toLowerCase().includes('red')),
      ],
    ];
    for (const [filters, expected] of cases) {
      const got = await listed(filters);
      expect(got.set, JSON.stringify(filters)).toEqual(sorted(expected));
      expect(got.total, JSON.stringify(filters)).toBe(new Set(expected).size);
      // Not every filter is trivially everything or nothing here.
      if (Object.keys(filters).length > 0) {
        expect(got.total, JSON.stringify(filters)).toBeGreaterThan(0);
        expect(got.total, JSON.stringify(filters)).toBeLessThan(judgedIds.length);
      }
    }
  });

  it('lists as humans disagreeing exactly the pairs whose verdicts are not all the same', async () => {
    const disagreeing = [...byPair()]
      .filter(([, verdicts]) => new Set(verdicts.map((r) => r.verdict)).size > 1)
      .map(([id]) => id);
    expect(disagreeing.length).toBeGreaterThan(0);
    for (const filters of [{}, { annotator: 'demo:ben' }]) {
      const expected = disagreeing.filter(
        (id) =>
          !filters.annotator ||
          byPair()
            .get(id)!
            .some((r) => r.annotator === filters.annotator),
      );
      const got = await listed(filters, 'humans');
      expect(got.set, JSON.stringify(filters)).toEqual(sorted(expected));
      expect(got.total).toBe(expected.length);
    }
  });

  it("search takes LIKE's wildcards literally, and any case", async () => {
    const texts = (ids: number[]) => ids.map((id) => pairs.find((p) => p.id === id)!.prompt).sort();
    expect(texts((await listed({ search: '50% off' })).ids)).toEqual([
      'A 50% OFF sign_board in Red',
    ]);
    expect(texts((await listed({ search: 'SIGN_BOARD' })).ids)).toEqual([
      'A 50% OFF sign_board in Red',
    ]);
    expect(texts((await listed({ search: '\\' })).ids)).toEqual([]);
    expect(texts((await listed({ search: 'sign' })).ids)).toHaveLength(3);
  });

  it('filters combine with each other and with the kind, and items carry flags and gold', async () => {
    const judged = byPair();
    const pairOf = new Map(pairs.map((p) => [p.id, p]));
    const expected = [...judged.keys()].filter((id) => {
      const pair = pairOf.get(id)!;
      const verdicts = judged.get(id)!;
      const humansSplit = new Set(verdicts.map((r) => r.verdict)).size > 1;
      return (
        humansSplit &&
        verdicts.some((r) => r.annotator === 'demo:chen') &&
        (pair.model0 === 'sdxl' || pair.model1 === 'sdxl') &&
        pair.prompt.toLowerCase().includes('a')
      );
    });
    const filters = { annotator: 'demo:chen', generator: 'sdxl', search: 'A' };
    const page = await project.call('listDisagreements', {
      kind: 'humans',
      limit: 500,
      ...filters,
    });
    expect(page.items.map((d) => d.pairId).sort((a, b) => a - b)).toEqual(sorted(expected));
    expect(page.total).toBe(expected.length);
    expect(expected.length).toBeGreaterThan(0);

    const flaggedPair = [...flagged][0]!;
    const both = await project.call('listDisagreements', {
      kind: 'all',
      flagged: true,
      gold: true,
    });
    expect(both.items.map((d) => d.pairId)).toEqual(
      [...flagged].filter((id) => gold.has(id) && judged.has(id)),
    );
    const item = both.items.find((d) => d.pairId === flaggedPair)!;
    expect(item.flags).toEqual([
      { annotator: 'demo:ana', note: 'wrong prompt', createdAt: 5 },
      { annotator: 'demo:ben', note: 'both broken', createdAt: 6 },
    ]);
    expect(item.gold).toEqual({ verdict: 0, setBy: 'lead' });
    // The old callers' arguments still work, and still mean disagreements only.
    const plain = await project.call('listDisagreements', {});
    expect(plain.cellVerdicts).toBeUndefined();
    expect(plain.items.every((d) => d.humansDisagree || d.modelDisagrees)).toBe(true);
  });
});

describe('review: the pairs behind a dashboard number', () => {
  const scopes: AuditFilters[] = [
    {},
    { generator: 'sdxl', from: 1_030_000 },
    { annotators: ['demo:ana', 'demo:chen'], minConfidence: 0.1, to: 1_060_000 },
  ];

  it("a κ row's pairs are the pairs both annotators judged, as many as the report says", async () => {
    let rowsSeen = 0;
    for (const filters of scopes) {
      const report = await project.call('getAudit', { filters, resamples: 0 });
      expect(report.dashboard.agreement.cohen.a.length).toBeGreaterThan(0);
      const verdicts = selected(filters);
      for (const row of cohenRows(report.dashboard.agreement.cohen)) {
        const cell: ReviewCell = { kind: 'cohen', a: row.a, b: row.b, filters };
        const got = await listed({ cell });
        const of = (name: string) =>
          new Set(verdicts.filter((r) => r.annotator === name).map((r) => r.pairId));
        const a = of(row.a);
        const expected = [...of(row.b)].filter((id) => a.has(id));
        expect(got.total, `${row.a} ${row.b} ${JSON.stringify(filters)}`).toBe(row.commonPairs);
        expect(got.set).toEqual(sorted(expected));
        rowsSeen++;
      }
    }
    expect(rowsSeen).toBeGreaterThanOrEqual(4);
  });

  it("a confusion cell's pairs hold exactly the verdicts it counts", async () => {
    const categories: Verdict[] = [0, 'tie', 1];
    const db = (v: Verdict): DbVerdict => (v === 'tie' ? 'tie' : v === 0 ? '0' : '1');
    let nonEmpty = 0;
    for (const filters of scopes) {
      const report = await project.call('getAudit', { filters, resamples: 0 });
      const threshold = report.confusion.threshold!;
      expect(threshold).not.toBeNull();
      const verdicts = selected(filters).filter((r) => p0.has(r.pairId));
      for (const [r, human] of categories.entries()) {
        for (const [c, model] of categories.entries()) {
          const cell: ReviewCell = { kind: 'confusion', human, model, threshold, filters };
          const got = await listed({ cell });
          const counted = verdicts.filter(
            (v) => v.verdict === db(human) && predict(p0.get(v.pairId)!, threshold) === db(model),
          );
          const label = `${r},${c} ${JSON.stringify(filters)}`;
          expect(got.cellVerdicts, label).toBe(report.confusion.counts[r]![c]);
          expect(got.cellVerdicts, label).toBe(counted.length);
          expect(got.set, label).toEqual(sorted(counted.map((v) => v.pairId)));
          if (counted.length > 0) nonEmpty++;
        }
      }
    }
    expect(nonEmpty).toBeGreaterThanOrEqual(10);
  });

  it('a cell narrows further with the other filters', async () => {
    const report = await project.call('getAudit', { filters: {}, resamples: 0 });
    const row = cohenRow(report.dashboard.agreement.cohen, 0);
    const cell: ReviewCell = { kind: 'cohen', a: row.a, b: row.b, filters: {} };
    const all = await listed({ cell });
    const withSearch = await listed({ cell, search: 'red' });
    const red = new Set(
      pairs.filter((p) => p.prompt.toLowerCase().includes('red')).map((p) => p.id),
    );
    expect(withSearch.set).toEqual(all.set.filter((id) => red.has(id)));
    const disagreements = await listed({ cell }, 'any');
    expect(disagreements.total).toBeLessThan(all.total);
  });
});
