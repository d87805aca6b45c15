/**
 * The lead's desk end to end: three annotators who disagree (their verdicts put in through the
 * StudioApi, as the labeling view would), the dashboard's figures checked against the same
 * figures computed here from those verdicts and the project's scores, two disagreements settled
 * with the labeling keys in review, and the export read back by DuckDB.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Disagreement } from '../../shared/audit';
import type { Verdict } from '../../shared/labels';
import { duckdb } from '../helpers/duckdb';
import {
  call,
  chooseAnnotator,
  collectPageErrors,
  expect,
  pickstudio,
  plain,
  readScores,
  REPO,
  test as base,
} from './fixtures';

const SCREENSHOTS = path.join(REPO, 'reports', 'screenshots');
const ANNOTATORS = ['alice', 'bruno', 'chen'] as const;
/** Verdicts of alice, bruno and chen on the project's pairs, in pair order: agreeing and not. */
const VERDICTS: Verdict[][] = [
  [0, 0, 0],
  [1, 1, 1],
  [0, 0, 1],
  [1, 0, 1],
  ['tie', 0, 0],
  [1, 1, 'tie'],
  [0, 1, 'tie'],
  [0, 0, 0],
  [1, 1, 0],
  ['tie', 'tie', 1],
  [0, 0, 0],
  [1, 1, 1],
];
/** PickScore's thresholds, written as its evaluation script writes them. */
const THRESHOLDS = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
const CATEGORIES: Verdict[] = [0, 'tie', 1];

const test = base.extend({
  // The demo scored by its model, without its made-up annotators: every verdict is this test's.
  project: async ({ pairs }, use) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pickstudio-e2e-audit-'));
    const file = path.join(dir, 'audit.pickstudio');
    await pickstudio(['demo', file, '--pairs', String(pairs), '--no-annotators']);
    await use({ dir, file });
    fs.rmSync(dir, { recursive: true, force: true });
  },
});
test.use({ pairs: VERDICTS.length });

/** Pooled percent agreement: equal pairs of verdicts over all pairs of verdicts on a pair. */
function percentAgreement(perPair: Verdict[][], withoutTies = false): number {
  let pairs = 0;
  let equal = 0;
  for (const verdicts of perPair) {
    const kept = withoutTies ? verdicts.filter((v) => v !== 'tie') : verdicts;
    for (let i = 0; i < kept.length; i++) {
      for (let j = i + 1; j < kept.length; j++) {
        pairs++;
        if (kept[i] === kept[j]) equal++;
      }
    }
  }
  return equal / pairs;
}

/** PickScore's protocol: `get_pred` and `calc_score`. */
function predict(p0: number, threshold: number): Verdict {
  const p1 = 1 - p0;
  if (Math.abs(p1 - p0) <= threshold) return 'tie';
  return p0 > p1 ? 0 : 1;
}
const score = (label: Verdict, prediction: Verdict): number =>
  label === prediction ? 1 : label === 'tie' || prediction === 'tie' ? 0.5 : 0;

const plurality = (verdicts: Verdict[]): Verdict | null => {
  const counts = CATEGORIES.map((c) => verdicts.filter((v) => v === c).length);
  const top = Math.max(...counts);
  return counts.filter((n) => n === top).length === 1 ? CATEGORIES[counts.indexOf(top)]! : null;
};

test('audit: the dashboard counts what the annotators said, review settles by keyboard, the export carries it', async ({
  studio,
  project,
}) => {
  const { page } = studio;
  const problems = collectPageErrors(page, { console: true });

  await chooseAnnotator(studio, 'lead');
  const pairs = await call<{ pairId: number; image0Uid: string; image1Uid: string }[]>(
    page,
    'listPairs',
    { limit: 100 },
  );
  expect(pairs).toHaveLength(VERDICTS.length);
  const verdictsOf = new Map<number, Verdict[]>();
  for (const [index, pair] of pairs.entries()) {
    const verdicts = VERDICTS[index]!;
    verdictsOf.set(pair.pairId, verdicts);
    for (const [a, annotator] of ANNOTATORS.entries()) {
      await call(page, 'recordDecision', {
        annotator,
        pairId: pair.pairId,
        decision: verdicts[a],
        leftImage: (index + a) % 2,
        suggestionVisible: false,
        decisionMs: 1000 + 100 * index,
      });
    }
  }

  // What the dashboard must show, computed here: agreement, and the model at its tuned threshold.
  const scores = readScores(project);
  const examples = pairs.flatMap((pair) =>
    verdictsOf.get(pair.pairId)!.map((verdict) => ({ verdict, p0: scores.get(pair.pairId)!.p0 })),
  );
  const accuracy = THRESHOLDS.map(
    (t) =>
      examples.reduce((sum, e) => sum + score(e.verdict, predict(e.p0, t)), 0) / examples.length,
  );
  const threshold = THRESHOLDS[accuracy.indexOf(Math.max(...accuracy))]!;
  const confusion = CATEGORIES.map((human) =>
    CATEGORIES.map(
      (model) =>
        examples.filter((e) => e.verdict === human && predict(e.p0, threshold) === model).length,
    ),
  );
  const agreement = percentAgreement([...verdictsOf.values()]);
  const agreementWithoutTies = percentAgreement([...verdictsOf.values()], true);

  // To the dashboard by its keys; a labeling key there labels nothing.
  await page.keyboard.press('g');
  await page.keyboard.press('a');
  const view = page.getByTestId('audit-view');
  await expect(view).toHaveAttribute('data-tab', 'dashboard');
  await expect(page.getByTestId('labeling-view')).toHaveCount(0);
  const dashboard = page.getByTestId('audit-dashboard');
  await expect(dashboard).toHaveAttribute('data-state', 'ready');
  await page.keyboard.press('3');

  const percentCard = page.getByTestId('card-percent');
  await expect(percentCard.getByTestId('card-percent-value')).toHaveText(
    `${(agreement * 100).toFixed(1)}%`,
  );
  expect(Number(await percentCard.getAttribute('data-value'))).toBeCloseTo(agreement, 12);
  // With its bootstrap interval beside it.
  await expect(percentCard).toContainText(/%\s*\[\d+\.\d, \d+\.\d\]/);
  await expect(page.getByTestId('card-percent-no-ties-value')).toHaveText(
    `${(agreementWithoutTies * 100).toFixed(1)}%`,
  );
  await expect(page.getByTestId('card-fleiss-value')).toHaveText(/^-?\d\.\d{3}$/);
  await expect(page.getByTestId('card-pickscore-value')).toHaveText(
    `${(accuracy[THRESHOLDS.indexOf(threshold)]! * 100).toFixed(1)}%`,
  );
  await expect(page.getByTestId('card-pickscore')).toContainText(
    `at threshold ${threshold.toFixed(2)}`,
  );

  const matrix = page.getByTestId('confusion-matrix');
  await expect(matrix).toHaveAttribute('data-threshold', String(threshold));
  for (const [r, human] of CATEGORIES.entries()) {
    for (const [c, model] of CATEGORIES.entries()) {
      await expect(matrix.getByTestId(`confusion-${human}-${model}`)).toHaveText(
        String(confusion[r]![c]),
      );
    }
  }
  await expect(page.getByTestId('annotator-table').locator('tbody tr')).toHaveCount(3);
  await expect(page.getByTestId('reliability-chart').locator('.recharts-line')).toHaveCount(1);
  await expect(page.getByTestId('threshold-chart').locator('.recharts-line')).toHaveCount(2);
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, 'audit-dashboard.png'), fullPage: true });

  // Filters re-query: alice and bruno alone agree on the pairs where their verdicts are equal.
  await page.getByTestId('filter-annotators').selectOption(['alice', 'bruno']);
  const twoAgree = VERDICTS.filter(([a, b]) => a === b).length / VERDICTS.length;
  await expect(page.getByTestId('card-percent-value')).toHaveText(
    `${(twoAgree * 100).toFixed(1)}%`,
  );
  await page.getByTestId('filter-clear').click();
  await expect(page.getByTestId('card-percent-value')).toHaveText(
    `${(agreement * 100).toFixed(1)}%`,
  );

  // The lead's settings for the queue.
  await page.getByTestId('setting-queue-order').selectOption('uncertainty');
  await page.getByTestId('setting-overlap').fill('2');
  await page.getByTestId('setting-overlap').press('Enter');
  await expect
    .poll(() => call<{ overlap: number | null; queueOrder: string }>(page, 'getSettings', {}))
    .toMatchObject({ overlap: 2, queueOrder: 'uncertainty' });
  await expect(page.getByTestId('setting-overlap-k')).toBeChecked();

  // Review: every pair whose annotators split is listed, surest model first.
  await page.getByTestId('setting-overlap').press('Escape');
  await page.keyboard.press('g');
  await page.keyboard.press('r');
  await expect(view).toHaveAttribute('data-tab', 'review');
  const review = page.getByTestId('review');
  await expect(review).toHaveAttribute('data-state', 'ready');
  const listed = await call<{ total: number; items: Disagreement[] }>(page, 'listDisagreements', {
    kind: 'humans',
  });
  const split = pairs
    .filter((p) => new Set(verdictsOf.get(p.pairId)).size > 1)
    .map((p) => p.pairId);
  expect(listed.items.map((d) => d.pairId).sort((a, b) => a - b)).toEqual(split);
  const rows = page.getByTestId('review-row');
  const shownIds = (
    await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-pair-id')))
  ).map(Number);
  expect(shownIds.length).toBeGreaterThanOrEqual(split.length);
  const confidence = (pairId: number): number => Math.abs(2 * scores.get(pairId)!.p0 - 1);
  expect(shownIds.map(confidence)).toEqual(shownIds.map(confidence).sort((a, b) => b - a));
  await page.getByTestId('review-kind-humans').check();
  await expect(rows).toHaveCount(split.length);
  // The filter keeps the focus: review's keys still adjudicate, they do not move the filter.
  await page.getByTestId('review-kind-any').check();
  await expect(page.getByTestId('review-kind-any')).toBeFocused();
  await expect(rows).toHaveCount(shownIds.length);
  const first = shownIds[0]!;
  const second = shownIds[1]!;
  await expect(review).toHaveAttribute('data-selected-pair-id', String(first));
  await expect(rows.first().locator('img')).toHaveCount(2);
  await expect(rows.first()).toContainText('alice');

  // Settle the first two against their plurality, so the export shows the adjudication won.
  const against = (pairId: number): 0 | 1 => (plurality(verdictsOf.get(pairId)!) === 0 ? 1 : 0);
  const keyFor = (verdict: 0 | 1): string => (verdict === 0 ? 'ArrowLeft' : '2');
  const firstVerdict = against(first);
  await page.keyboard.press(keyFor(firstVerdict));
  await expect(page.getByTestId('review-kind-any')).toBeChecked();
  await expect(page.locator(`[data-testid=review-row][data-pair-id="${first}"]`)).toHaveAttribute(
    'data-adjudicated',
    String(firstVerdict),
  );
  await expect(review).toHaveAttribute('data-selected-pair-id', String(second));

  const note = 'image 1 keeps the colours the prompt asks for';
  await page.keyboard.press('n');
  await expect(page.getByTestId('review-note')).toBeFocused();
  await page.keyboard.type(note);
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('review-note')).not.toBeFocused();
  const secondVerdict = against(second);
  await page.keyboard.press(keyFor(secondVerdict));
  const secondRow = page.locator(`[data-testid=review-row][data-pair-id="${second}"]`);
  await expect(secondRow).toHaveAttribute('data-adjudicated', String(secondVerdict));
  await expect(secondRow.getByTestId('review-final')).toContainText(`lead · “${note}”`);
  await page.getByTestId('review-row').first().click();
  await page.screenshot({ path: path.join(SCREENSHOTS, 'audit-review.png'), fullPage: true });

  // None of those keys labeled anything: the lead has no decision.
  expect(await call<unknown[]>(page, 'getHistory', { annotator: 'lead' })).toEqual([]);
  const settled = await call<{ items: Disagreement[] }>(page, 'listDisagreements', {});
  const byId = new Map(settled.items.map((d) => [d.pairId, d]));
  expect(byId.get(first)!.adjudication).toMatchObject({
    verdict: firstVerdict,
    adjudicator: 'lead',
  });
  expect(byId.get(second)!.adjudication).toMatchObject({
    verdict: secondVerdict,
    adjudicator: 'lead',
    note,
  });

  const out = path.join(project.dir, 'adjudicated.parquet');
  // The page names no file (exportParquet is local-only): the export is the command's.
  await pickstudio(['export', project.file, out, '--no-images']);
  const db = await duckdb();
  try {
    const exported = plain(
      await db.rows(
        `SELECT image_0_uid, label_0, label_1, verdict_source FROM read_parquet('${out}')`,
      ),
    );
    const uid0 = new Map(pairs.map((p) => [p.image0Uid, p.pairId]));
    const rowOf = (pairId: number) =>
      exported.find((r) => uid0.get(String(r.image_0_uid)) === pairId);
    const labels = (verdict: Verdict) =>
      verdict === 0
        ? { label_0: 1, label_1: 0 }
        : verdict === 1
          ? { label_0: 0, label_1: 1 }
          : { label_0: 0.5, label_1: 0.5 };
    for (const [pairId, verdict] of [
      [first, firstVerdict],
      [second, secondVerdict],
    ] as const) {
      expect(rowOf(pairId)).toMatchObject({ ...labels(verdict), verdict_source: 'adjudication' });
    }
    // Every other pair goes out with its annotators' plurality, or not at all without one.
    const others = pairs.filter((p) => p.pairId !== first && p.pairId !== second);
    for (const { pairId } of others) {
      const verdict = plurality(verdictsOf.get(pairId)!);
      if (verdict === null) expect(rowOf(pairId)).toBeUndefined();
      else expect(rowOf(pairId)).toMatchObject({ ...labels(verdict), verdict_source: 'majority' });
    }
  } finally {
    db.close();
  }

  // Everyone labels every pair again, and back to labeling by its keys: its keys label again.
  await page.keyboard.press('g');
  await page.keyboard.press('d');
  await page.getByTestId('setting-overlap-everyone').check();
  await page.getByTestId('setting-overlap-everyone').press('Escape');
  await expect
    .poll(() => call<{ overlap: number | null }>(page, 'getSettings', {}))
    .toMatchObject({ overlap: null });
  await page.keyboard.press('g');
  await page.keyboard.press('l');
  await expect(studio.view).toHaveAttribute('data-state', 'ready');
  const shown = Number(await studio.view.getAttribute('data-pair-id'));
  await page.keyboard.press('1');
  await expect(studio.view).not.toHaveAttribute('data-pair-id', String(shown));
  expect(await call<{ pairId: number }[]>(page, 'getHistory', { annotator: 'lead' })).toMatchObject(
    [{ pairId: shown }],
  );
  expect(problems, 'no console errors (a CSP refusal would be one)').toEqual([]);
});
