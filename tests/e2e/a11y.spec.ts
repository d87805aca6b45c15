/**
 * axe-core on the five screens a person spends time on, in the light and the dark theme (the app
 * follows prefers-color-scheme): the annotator form, the labeling view, the shortcut sheet, the
 * audit dashboard and the review list. No serious or critical violation is allowed. The demo
 * project with its made-up annotators and its model's scores gives the dashboard and the review
 * real figures and disagreements. Screenshots of labeling and the dashboard in each theme go to
 * reports/screenshots for a person to look at.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expectNoSeriousViolations } from './axe';
import {
  chooseAnnotator,
  expect,
  pickstudio,
  pressAndWait,
  REPO,
  setSuggestionModeAsLead,
  shownPair,
  test as base,
} from './fixtures';

const SCREENSHOTS = path.join(REPO, 'reports', 'screenshots');

const test = base.extend({
  // The demo as `pickstudio demo` makes it: scored, with demo:ana, demo:ben and demo:chen.
  project: async ({ pairs }, use) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pickstudio-e2e-a11y-'));
    const file = path.join(dir, 'a11y.pickstudio');
    await pickstudio(['demo', file, '--pairs', String(pairs)]);
    await use({ dir, file });
    fs.rmSync(dir, { recursive: true, force: true });
  },
});
test.use({ pairs: 30, viewport: { width: 1280, height: 800 } });

for (const scheme of ['light', 'dark'] as const) {
  test(`a11y: no serious axe violations on the five screens, ${scheme} theme`, async ({
    studio,
  }) => {
    // Five axe runs and a demo with its annotators: about 20 s alone, over 50 s on a busy machine.
    test.setTimeout(120_000);
    const { page, view } = studio;
    await page.emulateMedia({ colorScheme: scheme });
    // Every screen is checked and reported before the test fails.
    const soft = { soft: true };

    await expect(page.getByTestId('annotator-name')).toBeVisible();
    await expectNoSeriousViolations(page, 'the annotator form', soft);

    await chooseAnnotator(studio, 'lead');
    await setSuggestionModeAsLead(studio, 'before');
    // Two decisions, so the history strip has entries and the bars are on screen.
    await pressAndWait(studio, '1', await shownPair(studio));
    await pressAndWait(studio, '2', await shownPair(studio));
    await expect(view).toHaveAttribute('data-state', 'ready');
    await expect(page.locator('.suggestion').first()).toBeVisible();
    await expectNoSeriousViolations(page, 'the labeling view', soft);
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, `${scheme}-labeling.png`) });

    await page.keyboard.press('?');
    await expect(page.getByTestId('shortcut-sheet')).toBeVisible();
    await expectNoSeriousViolations(page, 'the shortcut sheet', soft);
    await page.keyboard.press('Escape');
    await expect(page.getByTestId('shortcut-sheet')).toHaveCount(0);

    await page.keyboard.press('g');
    await page.keyboard.press('d');
    await expect(page.getByTestId('audit-dashboard')).toHaveAttribute('data-state', 'ready');
    await expect(page.getByTestId('threshold-chart').locator('.recharts-line')).toHaveCount(2);
    await expect(page.getByTestId('reliability-chart').locator('.recharts-line')).toHaveCount(1);
    await expectNoSeriousViolations(page, 'the audit dashboard', soft);
    await page.screenshot({ path: path.join(SCREENSHOTS, `${scheme}-dashboard.png`) });

    await page.keyboard.press('g');
    await page.keyboard.press('r');
    await expect(page.getByTestId('review')).toHaveAttribute('data-state', 'ready');
    await expect(page.getByTestId('review-row').first()).toBeVisible();
    await expect(page.getByTestId('review-detail')).toBeVisible();
    // One settled, so an adjudicated row and a pressed verdict are on screen too.
    const first = page.getByTestId('review-row').first();
    await page.keyboard.press('1');
    await expect(first).toHaveAttribute('data-adjudicated', '0');
    await first.click();
    await expect(page.getByTestId('adjudicate-0')).toHaveAttribute('aria-pressed', 'true');
    await expectNoSeriousViolations(page, 'the review list', soft);
    await page.screenshot({ path: path.join(SCREENSHOTS, `${scheme}-review.png`) });
  });
}
