/**
 * Gold pairs and outliers end to end: the lead marks pairs gold with `pickstudio gold` (a CSV),
 * an annotator labels them by keyboard in browser mode without a word that they are gold, a
 * scripted annotator labels every pair in 40 ms picking the left image, and the dashboard shows
 * the annotator's gold accuracy and the script's flags; review marks one more pair gold.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Verdict } from '../../shared/labels';
import {
  call,
  chooseAnnotator,
  collectPageErrors,
  expect,
  pickstudio,
  REPO,
  shownPair,
  pressAndWait,
  test,
} from './fixtures';
import { expectNoSeriousViolations } from './axe';

const SCREENSHOTS = path.join(REPO, 'reports', 'screenshots');

test.use({ pairs: 40 });

test('gold: an annotator is scored on gold pairs labeled by keyboard, a scripted annotator is flagged with its reasons', async ({
  studio,
  project,
}) => {
  const { page } = studio;
  const problems = collectPageErrors(page, { console: true });
  await chooseAnnotator(studio, 'ana e2e');
  const pairs = await call<{ pairId: number; image0Uid: string }[]>(page, 'listPairs', {
    limit: 100,
  });
  const [p1, p2, p3] = pairs;
  // The lead's CSV: the first three pairs of the queue, with the verdict the lead expects.
  const csv = path.join(project.dir, 'gold.csv');
  fs.writeFileSync(csv, `pair_id,verdict\n${p1!.pairId},0\n${p2!.pairId},1\n${p3!.pairId},tie\n`);
  const marked = await pickstudio(['gold', project.file, csv]);
  expect(marked).toContain('3 gold pairs set');

  // ana labels them by keyboard, as any pair: right on the first, wrong on the second (image 0
  // where gold says image 1), right on the tie.
  const want: Verdict[] = [0, 0, 'tie'];
  for (const [index, verdict] of want.entries()) {
    const shown = await shownPair(studio);
    expect(shown.pairId).toBe(pairs[index]!.pairId);
    // Nothing on screen says gold.
    await expect(studio.view.getByText(/\bgold\b/i)).toHaveCount(0);
    const image0Left = shown.leftUid === pairs[index]!.image0Uid;
    const key =
      verdict === 'tie' ? 'ArrowDown' : (verdict === 0) === image0Left ? 'ArrowLeft' : 'ArrowRight';
    await pressAndWait(studio, key, shown);
  }

  // A script: every pair in 40 ms, always the image on the left.
  for (const [index, pair] of pairs.entries()) {
    const leftImage = index % 2;
    await call(page, 'recordDecision', {
      annotator: 'script',
      pairId: pair.pairId,
      decision: leftImage,
      leftImage,
      suggestionVisible: false,
      decisionMs: 40,
    });
  }

  await page.keyboard.press('g');
  await page.keyboard.press('a');
  await expect(page.getByTestId('audit-dashboard')).toHaveAttribute('data-state', 'ready');
  const checks = page.getByTestId('checks-table');
  const ana = checks.locator('tr[data-annotator="ana e2e"]');
  await expect(ana.getByTestId('gold-judged')).toHaveText('3');
  await expect(ana.getByTestId('gold-correct')).toHaveText('2');
  await expect(ana.getByTestId('gold-accuracy')).toHaveText('66.7%');
  await expect(ana).not.toHaveAttribute('data-flagged', 'true');
  const script = checks.locator('tr[data-annotator="script"]');
  await expect(script).toHaveAttribute('data-flagged', 'true');
  await expect(script.locator('li[data-reason="fast"]')).toContainText(
    'median 40 ms per verdict over 40 (under 300 ms',
  );
  await expect(script.locator('li[data-reason="position-bias"]')).toContainText(
    'picks the left image in 100% of 40 verdicts',
  );
  await expect(page.getByTestId('checks-summary')).toContainText('3 gold pairs');
  // No model in this project: its columns give way to what to do about it.
  await expect(page.getByTestId('annotators-no-model')).toContainText('No model');

  await page.setViewportSize({ width: 1280, height: 800 });
  await page.locator('#annotators-title').evaluate((el) => el.scrollIntoView({ block: 'start' }));
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, 'gold.png') });
  await expectNoSeriousViolations(page, 'the dashboard with gold pairs and outliers');

  // One annotator filtered: the Cohen section says why there is no κ.
  await page.getByTestId('filter-annotators').selectOption(['script']);
  await expect(page.getByTestId('cohen-empty')).toHaveText(
    'Only one annotator’s verdicts are counted here: κ needs two annotators.',
  );
  await page.getByTestId('filter-clear').click();
  await expect(page.getByTestId('cohen-empty')).toHaveText(
    'No two annotators have judged 10 of the same pairs yet.',
  );

  // Review: settle a pair where ana and the script split, then mark it gold with that verdict.
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.keyboard.press('g');
  await page.keyboard.press('r');
  const review = page.getByTestId('review');
  await expect(review).toHaveAttribute('data-state', 'ready');
  const first = Number(await review.getAttribute('data-selected-pair-id'));
  await page.keyboard.press('ArrowLeft');
  const row = page.locator(`[data-testid=review-row][data-pair-id="${first}"]`);
  await expect(row).toHaveAttribute('data-adjudicated', '0');
  await row.click();
  // Both split pairs are gold already (the CSV's): review says so, and marking changes the verdict.
  expect([p2!.pairId, p3!.pairId]).toContain(first);
  await expect(page.getByTestId('review-gold-state')).toContainText('Gold:');
  await page.getByTestId('mark-gold').click();
  await expect(page.getByTestId('review-gold-state')).toHaveText('Gold: image 0.');
  const gold = await call<{ pairId: number; verdict: Verdict }[]>(page, 'listGold', {});
  expect(gold.find((g) => g.pairId === first)?.verdict).toBe(0);
  expect(gold).toHaveLength(3);
  expect(problems).toEqual([]);
});
