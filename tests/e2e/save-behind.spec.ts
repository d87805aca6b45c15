/**
 * Issue #15, part 4: the next pair goes up in the frame of the key, while the decision is saved
 * behind it. The history strip marks the decision saving until recordDecision answers, the
 * progress counts it only then, an undo pressed meanwhile takes back that decision once it is
 * saved, and a save that fails brings its pair back on screen with the reason, never shown saved.
 * recordDecision's HTTP request is held with page.route to look at the page while it is on its way.
 */
import type { Page, Route } from '@playwright/test';
import {
  chooseAnnotator,
  expect,
  openServedPage,
  serve,
  shownPair,
  test,
  type Studio,
} from './fixtures';

test.skip(({ mode }) => mode !== 'browser', 'holds HTTP requests: browser mode');

/** Holds each recordDecision request until released; `held` resolves when one is waiting. */
async function holdSaves(page: Page) {
  let waiting: Route[] = [];
  let arrived: () => void = () => {};
  await page.route('**/api/call/recordDecision', (route) => {
    waiting.push(route);
    arrived();
  });
  return {
    held: (): Promise<void> =>
      waiting.length > 0 ? Promise.resolve() : new Promise((resolve) => (arrived = resolve)),
    /** Lets the held requests through; a dead server makes them fail in the page. */
    async release(): Promise<void> {
      const routes = waiting;
      waiting = [];
      for (const route of routes) await route.continue().catch(() => route.abort('failed'));
    },
  };
}

function historyEntry(studio: Studio, pairId: number) {
  return studio.page.locator(`[data-testid="history"] [data-pair-id="${pairId}"]`);
}

test('the next pair shows before the save answers; the strip says saving until it does, and an undo meanwhile takes back that decision', async ({
  studio,
}) => {
  const { page, view } = studio;
  await chooseAnnotator(studio, 'save behind e2e');
  const saves = await holdSaves(page);
  const progress = page.getByTestId('progress');

  const first = await shownPair(studio);
  // The next pair decoded: only then does a decision put it up before its save answers.
  await expect(view).toHaveAttribute('data-next-ready', 'true');
  await page.keyboard.press('1');
  await saves.held();
  // The next pair is up while the save is held: the strip marks the decision saving, uncounted.
  await expect(view).not.toHaveAttribute('data-pair-id', String(first.pairId));
  await expect(view).toHaveAttribute('data-state', 'ready');
  await expect(historyEntry(studio, first.pairId)).toHaveAttribute('data-saved', 'saving');
  await expect(historyEntry(studio, first.pairId)).toHaveAccessibleName(/, saving\./);
  await expect(progress).toHaveAttribute('data-done', '0');
  await saves.release();
  await expect(historyEntry(studio, first.pairId)).toHaveAttribute('data-saved', 'saved');
  await expect(progress).toHaveAttribute('data-done', '1');

  // Undo pressed while the next decision is on its way takes back that one, once it is saved.
  const second = await shownPair(studio);
  await expect(view).toHaveAttribute('data-next-ready', 'true');
  await page.keyboard.press('2');
  await saves.held();
  await expect(view).not.toHaveAttribute('data-pair-id', String(second.pairId));
  await expect(historyEntry(studio, second.pairId)).toHaveAttribute('data-saved', 'saving');
  await page.keyboard.press('Backspace');
  await expect(historyEntry(studio, second.pairId)).toHaveAttribute('data-saved', 'saving');
  await saves.release();
  await expect(view).toHaveAttribute('data-pair-id', String(second.pairId));
  await expect(page.getByTestId('revisit-banner')).toContainText('Undone');
  await expect(historyEntry(studio, second.pairId)).toHaveCount(0);
  await expect(historyEntry(studio, first.pairId)).toHaveAttribute('data-saved', 'saved');
  await expect(progress).toHaveAttribute('data-done', '1');
});

test('a save that fails brings its pair back with the reason, and the strip never shows it saved', async ({
  project,
  studioBrowser,
  viewport,
}) => {
  const served = await serve(project.file);
  const opened = await openServedPage(studioBrowser!, served.url, viewport);
  try {
    const { studio } = opened;
    const { page, view } = studio;
    await chooseAnnotator(studio, 'save fails e2e');
    const saves = await holdSaves(page);
    const progress = page.getByTestId('progress');

    const pair = await shownPair(studio);
    await expect(view).toHaveAttribute('data-next-ready', 'true');
    await page.keyboard.press('ArrowLeft');
    await saves.held();
    await expect(view).not.toHaveAttribute('data-pair-id', String(pair.pairId));
    await expect(historyEntry(studio, pair.pairId)).toHaveAttribute('data-saved', 'saving');

    // The server goes away before the request reaches it.
    await served.stop();
    await saves.release();
    await expect(view).toHaveAttribute('data-pair-id', String(pair.pairId));
    await expect(view).toHaveAttribute('data-state', 'error');
    await expect(page.getByTestId('error-message')).toHaveText(
      "Pick Studio's server is not answering. Your last decision may not be saved. " +
        'Check that pickstudio serve is still running, then reload.',
    );
    // The same pair, the same way round, and nothing of its decision kept or counted.
    await expect(page.getByTestId('image-left')).toHaveAttribute('data-image-uid', pair.leftUid);
    await expect(historyEntry(studio, pair.pairId)).toHaveCount(0);
    await expect(page.locator('[data-testid="history"] [data-saved]')).toHaveCount(0);
    await expect(progress).toHaveAttribute('data-done', '0');
  } finally {
    await opened.close();
    await served.stop();
  }
});
