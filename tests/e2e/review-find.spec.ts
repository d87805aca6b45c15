/**
 * Finding the pairs behind a number: a κ row's pairs and a confusion cell's, opened from the
 * dashboard by keyboard, checked against the pairs read from the project file with SQL; review's
 * search with a filter; and review's keys with a filter focused. Ends with a screenshot of the
 * filtered review at 1280×800.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Verdict } from '../../shared/labels';
import {
  call,
  chooseAnnotator,
  collectPageErrors,
  expect,
  REPO,
  test,
  type Project,
} from './fixtures';

const SCREENSHOTS = path.join(REPO, 'reports', 'screenshots');
const PAIRS = 16;

test.use({ pairs: PAIRS, scored: true });

/** alice judges every pair, bruno the first 14, chen the last 13: each two share 11 or more. */
function verdictOf(annotator: string, i: number): Verdict | null {
  if (annotator === 'alice') return i % 3 === 0 ? 1 : 0;
  if (annotator === 'bruno') return i >= 14 ? null : i % 4 === 0 ? 'tie' : i % 2 ? 0 : 1;
  return i < 3 ? null : i % 5 === 0 ? 1 : 0;
}

/** The project file read apart from the app: the answers the page must show. */
function fromFile<T>(project: Project, read: (db: Database.Database) => T): T {
  const db = new Database(project.file, { readonly: true, fileMustExist: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

const bothJudged = (project: Project, a: string, b: string): number[] =>
  fromFile(
    project,
    (db) =>
      db
        .prepare(
          `SELECT x.pair_id FROM decisions x JOIN decisions y ON y.pair_id = x.pair_id
           WHERE x.annotator_id = (SELECT id FROM annotators WHERE name = ?)
             AND y.annotator_id = (SELECT id FROM annotators WHERE name = ?)
             AND x.action = 'verdict' AND y.action = 'verdict' ORDER BY x.pair_id`,
        )
        .pluck()
        .all(a, b) as number[],
  );

test('review finds the pairs behind a number, searches and filters, and keeps its keys', async ({
  studio,
  project,
}) => {
  const { page } = studio;
  const problems = collectPageErrors(page, { console: false });
  await chooseAnnotator(studio, 'lead');
  const pairs = await call<{ pairId: number; prompt: string }[]>(page, 'listPairs', { limit: 100 });
  expect(pairs).toHaveLength(PAIRS);
  for (const [i, pair] of pairs.entries()) {
    for (const annotator of ['alice', 'bruno', 'chen']) {
      const decision = verdictOf(annotator, i);
      if (decision === null) continue;
      await call(page, 'recordDecision', {
        annotator,
        pairId: pair.pairId,
        decision,
        leftImage: i % 2,
        suggestionVisible: false,
        decisionMs: 900,
      });
    }
  }
  // A flag and a gold verdict, written as the labeling view and the dashboard write them.
  const flaggedPair = pairs[4]!.pairId;
  const db = new Database(project.file);
  db.prepare(
    `INSERT INTO flags (pair_id, annotator_id, note, created_at)
     VALUES (?, (SELECT id FROM annotators WHERE name = 'chen'), 'the dog is a cat', 1)`,
  ).run(flaggedPair);
  db.prepare(
    `INSERT INTO gold_pairs (pair_id, verdict, set_by, created_at) VALUES (?, '1', 'lead', 1)`,
  ).run(flaggedPair);
  db.close();

  // The dashboard by its keys; the κ row's count is a button, reached and pressed by keyboard.
  await page.keyboard.press('g');
  await page.keyboard.press('d');
  await expect(page.getByTestId('audit-dashboard')).toHaveAttribute('data-state', 'ready');
  const expected = bothJudged(project, 'alice', 'bruno');
  expect(expected).toHaveLength(14);
  const cohen = page.getByRole('button', {
    name: `Show the ${expected.length} pairs alice and bruno both judged`,
  });
  await expect(cohen).toHaveText(String(expected.length));
  expect(await cohen.evaluate((el) => (el as { tabIndex: number }).tabIndex)).toBe(0);
  await cohen.focus();
  await page.keyboard.press('Enter');

  const view = page.getByTestId('audit-view');
  const review = page.getByTestId('review');
  const total = page.getByTestId('review-total');
  const rows = page.getByTestId('review-row');
  const shown = async () =>
    (await rows.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-pair-id'))))).sort(
      (a, b) => a - b,
    );
  await expect(view).toHaveAttribute('data-tab', 'review');
  await expect(review).toHaveAttribute('data-state', 'ready');
  await expect(total).toHaveAttribute('data-total', String(expected.length));
  await expect(page.getByTestId('review-cell')).toContainText('alice and bruno both judged');
  await expect(rows).toHaveCount(expected.length);
  expect(await shown()).toEqual(expected);

  // A confusion cell: its verdicts, on the pairs listed.
  await page.keyboard.press('g');
  await page.keyboard.press('d');
  const matrix = page.getByTestId('confusion-matrix');
  const cellButton = matrix.getByRole('button').first();
  const cellCount = Number(await cellButton.textContent());
  expect(cellCount).toBeGreaterThan(0);
  await cellButton.focus();
  await page.keyboard.press('Enter');
  await expect(total).toHaveAttribute('data-cell-verdicts', String(cellCount));
  await expect(total).toContainText(`${cellCount} verdicts on`);

  // Out of the cell; search, then a filter on top, against the file.
  await page.getByTestId('review-cell-clear').click();
  await expect(page.getByTestId('review-cell')).toHaveCount(0);
  const prompts = new Map(pairs.map((p) => [p.pairId, p.prompt.toLowerCase()]));
  const word = pairs[4]!.prompt
    .split(/\s+/)
    .find((w) => w.length > 3)!
    .toLowerCase();
  const search = page.getByTestId('review-search');
  await search.click();
  await page.keyboard.type(word.toUpperCase());
  const chenJudged = new Set([...bothJudged(project, 'chen', 'chen')]);
  const matching = pairs
    .filter((p) => prompts.get(p.pairId)!.includes(word))
    .map((p) => p.pairId)
    .sort((a, b) => a - b);
  await expect(total).toHaveAttribute('data-total', String(matching.length));
  expect(await shown()).toEqual(matching);
  await page.getByTestId('review-annotator').selectOption('chen');
  const matchingChen = matching.filter((id) => chenJudged.has(id));
  expect(matchingChen.length).toBeGreaterThan(0);
  await expect(total).toHaveAttribute('data-total', String(matchingChen.length));
  expect(await shown()).toEqual(matchingChen);
  await expect(
    page.locator(`[data-testid=review-row][data-pair-id="${flaggedPair}"]`),
  ).toContainText('chen: “the dog is a cat”');

  // The screenshot of the filtered review, at 1280×800.
  await page.locator(`[data-testid=review-row][data-pair-id="${flaggedPair}"]`).click();
  await expect(page.getByTestId('review-detail-gold')).toContainText('Gold: image 1');
  await expect(page.locator('.review-detail img').first()).toBeVisible();
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  expect(page.viewportSize()).toEqual({ width: 1280, height: 800 });
  await page.screenshot({ path: path.join(SCREENSHOTS, 'review-find.png') });

  // Typing in the search box is typing: "1" adjudicates nothing.
  await search.focus();
  await page.keyboard.press('End');
  await page.keyboard.type('1');
  await expect(search).toHaveValue(`${word.toUpperCase()}1`);
  await expect(total).toHaveAttribute('data-total', '0');
  await page.keyboard.press('Backspace');
  await expect(total).toHaveAttribute('data-total', String(matchingChen.length));
  const adjudicated = async () =>
    fromFile(
      project,
      (d) =>
        d.prepare('SELECT pair_id, verdict FROM adjudications ORDER BY id').raw().all() as [
          number,
          string,
        ][],
    );
  expect(await adjudicated()).toEqual([]);

  // With a checkbox or a radio button focused, the number and arrow keys adjudicate.
  await page.getByTestId('review-annotator').selectOption('');
  await page.getByTestId('review-search').fill('');
  await page.getByTestId('review-kind-all').check();
  await expect(review).toHaveAttribute('data-state', 'ready');
  await expect(total).toHaveAttribute('data-total', String(PAIRS));
  const first = Number(await review.getAttribute('data-selected-pair-id'));
  const gold = page.getByRole('checkbox', { name: 'Gold' });
  await gold.focus();
  await page.keyboard.press('2');
  await expect(page.locator(`[data-testid=review-row][data-pair-id="${first}"]`)).toHaveAttribute(
    'data-adjudicated',
    '1',
  );
  await expect(gold).toBeFocused();
  await expect(gold).not.toBeChecked();
  const second = Number(await review.getAttribute('data-selected-pair-id'));
  expect(second).not.toBe(first);
  const radio = page.getByTestId('review-kind-all');
  await radio.focus();
  await page.keyboard.press('ArrowLeft');
  await expect(page.locator(`[data-testid=review-row][data-pair-id="${second}"]`)).toHaveAttribute(
    'data-adjudicated',
    '0',
  );
  await expect(radio).toBeChecked();
  await expect(radio).toBeFocused();
  expect(await adjudicated()).toEqual([
    [first, '1'],
    [second, '0'],
  ]);
  expect(problems).toEqual([]);
});
