/**
 * The dashboard's long tables, as Pick-a-Pic's thousands of users make them: a page of rows at
 * a time, the Cohen table narrowed by an annotator's name and ordered by κ, checked against the
 * report the page was given.
 */
import Database from 'better-sqlite3';
import { cohenRows as rowsOfTable, type AuditReport } from '../../shared/audit';
import { call, chooseAnnotator, collectPageErrors, expect, test } from './fixtures';

const PAIRS = 12;
const ANNOTATORS = 105;

test.use({ pairs: PAIRS });

const nameOf = (a: number) => `ann${String(a).padStart(3, '0')}`;

test("the dashboard's long tables draw a page at a time, and the Cohen table finds and orders its rows", async ({
  studio,
  project,
}) => {
  const { page } = studio;
  const problems = collectPageErrors(page, { console: true });
  // Every annotator judges every pair: 105 x 104 / 2 = 5,460 Cohen rows.
  const db = new Database(project.file);
  db.transaction(() => {
    const annotator = db.prepare(
      `INSERT INTO annotators (name, kind, created_at, uid) VALUES (?, 'human', 0, ?)`,
    );
    const verdict = db.prepare(
      `INSERT INTO annotations (pair_id, annotator_id, action, verdict, left_image,
         suggestion_visible, decision_ms, created_at)
       SELECT id, ?, 'verdict', ?, 0, 0, 900, 1700000000000 + id FROM pairs WHERE id = ?`,
    );
    const pairIds = db.prepare('SELECT id FROM pairs ORDER BY id').pluck().all() as number[];
    for (let a = 1; a <= ANNOTATORS; a++) {
      const id = annotator.run(nameOf(a), `uid-${a}`).lastInsertRowid;
      for (const [i, pairId] of pairIds.entries()) {
        const spin = (a * 7 + i * 3 + ((a * i) % 5)) % 10;
        verdict.run(id, spin < 5 ? '0' : spin < 8 ? '1' : 'tie', pairId);
      }
    }
  })();
  db.close();

  await chooseAnnotator(studio, 'lead');
  await page.keyboard.press('g');
  await page.keyboard.press('d');
  await expect(page.getByTestId('audit-dashboard')).toHaveAttribute('data-state', 'ready');
  const report = await call<AuditReport>(page, 'getAudit', { resamples: 0 });
  const cohen = rowsOfTable(report.dashboard.agreement.cohen);
  expect(cohen).toHaveLength((ANNOTATORS * (ANNOTATORS - 1)) / 2);

  const annotatorRows = page.locator('[data-testid="annotator-table"] tbody tr');
  await expect(annotatorRows).toHaveCount(100);
  await expect(page.getByTestId('annotator-more')).toContainText('Showing 100 of 105');
  await page.getByTestId('annotator-more').getByRole('button', { name: 'Show 5 more' }).click();
  await expect(annotatorRows).toHaveCount(105);
  await expect(page.getByTestId('annotator-more')).toHaveCount(0);

  const table = page.getByTestId('cohen-table');
  const cohenRows = table.locator('tbody tr');
  await expect(cohenRows).toHaveCount(100);
  await expect(page.getByTestId('cohen-more')).toContainText('Showing 100 of 5,460');
  await page.getByTestId('cohen-more').getByRole('button').click();
  await expect(cohenRows).toHaveCount(200);

  // One annotator's rows, the least agreeing first: the order of the report's own values.
  const mine = cohen.filter((row) => row.a === nameOf(42) || row.b === nameOf(42));
  expect(mine).toHaveLength(ANNOTATORS - 1);
  await page.getByTestId('cohen-search').fill(nameOf(42));
  await expect(table).toHaveAttribute('data-rows', String(ANNOTATORS - 1));
  await expect(cohenRows).toHaveCount(100);
  await page.getByTestId('cohen-order').selectOption('kappa');
  const expected = mine.map((row) => row.unweighted.value!).sort((x, y) => x - y);
  await expect(cohenRows.first()).toHaveAttribute('data-kappa', String(expected[0]));
  const shown = (await cohenRows.evaluateAll((rows) =>
    rows.map((row) => Number(row.getAttribute('data-kappa'))),
  )) as number[];
  expect(shown).toEqual(expected.slice(0, 100));

  await page.getByTestId('cohen-search').fill('nobody');
  await expect(page.getByTestId('cohen-none')).toBeVisible();
  expect(problems).toEqual([]);
});
