/**
 * Issue #14, the desk, round two, by keyboard only: `z` shows the pair at full size, both images
 * panned together by the arrows (which decide nothing meanwhile); and the pairs skipped come back
 * once after the last undecided one, marked, before the end screen says what is left and what
 * comes next. Screenshots at 1280x800 go to reports/screenshots/desk-zoom.png and desk-end.png.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Locator, Page } from '@playwright/test';
import sharp from 'sharp';
import type { HistoryEntry } from '../../shared/api';
import {
  call,
  chooseAnnotator,
  expect,
  pickstudio,
  pressAndWait,
  REPO,
  shownPair,
  test,
  type Project,
} from './fixtures';
import { expectNoSeriousViolations } from './axe';

const SCREENSHOTS = path.join(REPO, 'reports', 'screenshots');

/** A size x size image with a labelled grid, so that a screenshot shows where the pan is. */
function gridImage(size: number, hue: number): Promise<Buffer> {
  const cell = size / 8;
  const lines: string[] = [];
  for (let i = 0; i < 8; i++) {
    for (let j = 0; j < 8; j++) {
      const light = 30 + ((i + j) % 2) * 14;
      lines.push(
        `<rect x="${j * cell}" y="${i * cell}" width="${cell}" height="${cell}" fill="hsl(${hue},45%,${light}%)"/>`,
        `<text x="${j * cell + cell / 2}" y="${i * cell + cell / 2}" font-size="${cell / 3}" fill="#fff" text-anchor="middle" dominant-baseline="middle" font-family="sans-serif">${String.fromCharCode(65 + j)}${i + 1}</text>`,
      );
    }
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}">${lines.join('')}</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

const zoomTest = test.extend<{ project: Project }>({
  // Two pairs from a manifest: 1024x1024 images, then 256x256 ones (smaller than a pane).
  // Playwright reads a fixture's dependencies from this pattern: this one has none.
  // eslint-disable-next-line no-empty-pattern
  project: async ({}, use) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pickstudio-e2e-desk-'));
    const file = path.join(dir, 'labels.pickstudio');
    fs.mkdirSync(path.join(dir, 'images'));
    const rows = [];
    for (const [i, size] of [1024, 256].entries()) {
      const images = [`images/${size}a.png`, `images/${size}b.png`];
      fs.writeFileSync(path.join(dir, images[0]!), await gridImage(size, 210));
      fs.writeFileSync(path.join(dir, images[1]!), await gridImage(size, 20));
      rows.push({
        prompt: `grid ${i + 1}, ${size} pixels`,
        image_0: images[0],
        image_1: images[1],
      });
    }
    const manifest = path.join(dir, 'manifest.jsonl');
    fs.writeFileSync(manifest, rows.map((row) => JSON.stringify(row)).join('\n'));
    await pickstudio(['import', file, manifest, '--create']);
    await use({ dir, file });
    fs.rmSync(dir, { recursive: true, force: true });
  },
});

interface Pan {
  x: number;
  y: number;
  maxX: number;
  maxY: number;
}

/** Each zoomed pane's scroll position and how far it can scroll, read in one go. */
function panes(page: Page): Promise<Pan[]> {
  return page.getByTestId('labeling-view').evaluate((root) =>
    ['left', 'right'].map((side) => {
      const el = root.querySelector(`[data-testid="zoom-${side}"]`)!;
      return {
        x: el.scrollLeft,
        y: el.scrollTop,
        maxX: el.scrollWidth - el.clientWidth,
        maxY: el.scrollHeight - el.clientHeight,
      };
    }),
  );
}

/** The pan of both panes, which must be the same. */
async function pan(page: Page): Promise<Pan> {
  const [left, right] = await panes(page);
  expect(right, 'the right pane where the left one is').toEqual(left);
  return left!;
}

/** An image's natural size and the size it is drawn at. */
const sizes = (image: Locator) =>
  image.evaluate((img) => {
    const box = img.getBoundingClientRect();
    const { naturalWidth, naturalHeight } = img as unknown as Record<string, number>;
    return { natural: [naturalWidth, naturalHeight], shown: [box.width, box.height] };
  });

zoomTest.skip(({ mode }) => mode !== 'browser', 'the layout is the same page in Electron');
zoomTest.use({ viewport: { width: 1280, height: 800 } });

zoomTest(
  'z shows a 1024x1024 pair at full size, the arrows pan both and decide nothing; z and Esc go back',
  async ({ studio }) => {
    const { page, view } = studio;
    await chooseAnnotator(studio, 'zoe');
    const first = await shownPair(studio);
    expect(first.pairId).toBe(1);
    const left = page.getByTestId('image-left');
    const right = page.getByTestId('image-right');
    expect((await sizes(left)).shown[0]).toBeLessThan(1024);

    await page.keyboard.press('z');
    await expect(page.getByTestId('zoom-left')).toBeVisible();
    await expect(page.getByTestId('zoom-right')).toBeVisible();
    await expect(page.getByTestId('zoom-hint')).toBeVisible();
    for (const image of [left, right]) {
      expect(await sizes(image)).toEqual({ natural: [1024, 1024], shown: [1024, 1024] });
    }
    // The sides stay as they were drawn for this showing.
    expect(await left.getAttribute('data-image-uid')).toBe(first.leftUid);
    expect(await right.getAttribute('data-image-uid')).toBe(first.rightUid);

    // Centred first, and the whole image within reach: 1024 = the pane plus how far it scrolls.
    const centre = await pan(page);
    const view0 = await page
      .getByTestId('zoom-left')
      .evaluate((el) => [el.clientWidth, el.clientHeight]);
    expect(centre.maxX + view0[0]!).toBe(1024);
    expect(centre.maxY + view0[1]!).toBe(1024);
    expect(centre.maxX).toBeGreaterThan(100);
    expect(centre.maxY).toBeGreaterThan(100);
    expect(Math.abs(centre.x - centre.maxX / 2)).toBeLessThanOrEqual(1);
    expect(Math.abs(centre.y - centre.maxY / 2)).toBeLessThanOrEqual(1);

    await page.keyboard.press('ArrowRight');
    await expect.poll(async () => (await pan(page)).x).toBeGreaterThan(centre.x);
    await page.keyboard.press('ArrowDown');
    await expect.poll(async () => (await pan(page)).y).toBeGreaterThan(centre.y);
    const stepped = await pan(page);
    expect(stepped.x - centre.x).toBeLessThan(centre.maxX / 2 + 1);
    // Shift: a screenful; to the top left corner, then the bottom right one.
    for (let i = 0; i < 3; i++) await page.keyboard.press('Shift+ArrowLeft');
    for (let i = 0; i < 3; i++) await page.keyboard.press('Shift+ArrowUp');
    await expect.poll(() => pan(page)).toMatchObject({ x: 0, y: 0 });
    for (let i = 0; i < 3; i++) await page.keyboard.press('Shift+ArrowRight');
    for (let i = 0; i < 3; i++) await page.keyboard.press('Shift+ArrowDown');
    await expect.poll(() => pan(page)).toMatchObject({ x: centre.maxX, y: centre.maxY });
    await page.keyboard.press('Home');
    await expect.poll(() => pan(page)).toMatchObject({ x: centre.x, y: centre.y });
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowUp');
    await expect.poll(async () => (await pan(page)).x).toBeLessThan(centre.x);

    // The deciding keys wait for the zoom's end; nothing was recorded.
    await page.keyboard.press('1');
    await page.keyboard.press('Space');
    await expect(page.getByTestId('announcer')).toContainText('Zoomed in');
    await expect(view).toHaveAttribute('data-pair-id', '1');
    await expect(page.getByTestId('progress')).toHaveAttribute('data-done', '0');
    expect(await call<HistoryEntry[]>(page, 'getHistory', { annotator: 'zoe' })).toEqual([]);
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'desk-zoom.png') });
    await expectNoSeriousViolations(page, 'the zoomed pair');

    // The sheet lists the zoom's keys; Esc closes the sheet first, the zoom stays.
    await page.keyboard.press('?');
    const sheet = page.getByTestId('shortcut-sheet');
    await expect(sheet).toContainText('Zoom both images to full size');
    await expect(sheet).toContainText('← → ↑ ↓');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'desk-sheet.png') });
    await page.keyboard.press('Escape');
    await expect(sheet).toHaveCount(0);
    await expect(page.getByTestId('zoom-left')).toBeVisible();

    // z goes back; z again and Esc too.
    await page.keyboard.press('z');
    await expect(page.getByTestId('zoom-left')).toHaveCount(0);
    expect((await sizes(left)).shown[0]).toBeLessThan(1024);
    await page.keyboard.press('z');
    await expect(page.getByTestId('zoom-left')).toBeVisible();
    await page.keyboard.press('Escape');
    await expect(page.getByTestId('zoom-left')).toHaveCount(0);
    await expect(page.getByTestId('zoom-hint')).toHaveCount(0);

    // Back to normal, the arrow decides again: the left image, as shown.
    await pressAndWait(studio, 'ArrowLeft', first);
    const [saved] = await call<HistoryEntry[]>(page, 'getHistory', { annotator: 'zoe' });
    expect(saved).toMatchObject({ pairId: 1, decision: saved!.leftImage });

    // Smaller than a pane: 100%, centred, nothing to pan.
    const second = await shownPair(studio);
    await page.keyboard.press('z');
    await expect(page.getByTestId('zoom-left')).toBeVisible();
    for (const image of [left, right]) {
      expect(await sizes(image)).toEqual({ natural: [256, 256], shown: [256, 256] });
    }
    const small = await pan(page);
    expect(small).toEqual({ x: 0, y: 0, maxX: 0, maxY: 0 });
    const [paneBox, imageBox] = [
      (await page.getByTestId('zoom-left').boundingBox())!,
      (await left.boundingBox())!,
    ];
    expect(Math.abs(paneBox.x + paneBox.width / 2 - (imageBox.x + 128))).toBeLessThanOrEqual(1);
    expect(Math.abs(paneBox.y + paneBox.height / 2 - (imageBox.y + 128))).toBeLessThanOrEqual(1);
    await page.keyboard.press('ArrowRight');
    await expect(view).toHaveAttribute('data-pair-id', String(second.pairId));
    expect(await pan(page)).toEqual(small);
    await page.keyboard.press('Escape');
    await expect(page.getByTestId('zoom-left')).toHaveCount(0);
    expect(await call<HistoryEntry[]>(page, 'getHistory', { annotator: 'zoe' })).toHaveLength(1);
  },
);

test.describe('a project of 4 pairs', () => {
  test.use({ pairs: 4, viewport: { width: 1280, height: 800 } });

  test('skipped pairs come back once, marked, after the last pair; then the end screen says what is left', async ({
    studio,
  }) => {
    const { page, view } = studio;
    const progress = page.getByTestId('progress');
    const badge = page.getByTestId('skipped-before');
    await chooseAnnotator(studio, 'sam');
    const skipped = [];
    for (const key of ['Space', 'Space', '1', '2']) {
      const pair = await shownPair(studio);
      await expect(badge).toHaveCount(0);
      if (key === 'Space') skipped.push(pair);
      await pressAndWait(studio, key, pair);
    }
    // Every pair is done (2 decided, 2 skipped), and the first skipped is back, as it was shown.
    await expect(progress).toHaveAttribute('data-done', '4');
    await expect(progress).toContainText('2 decided · 2 skipped');
    expect(await shownPair(studio)).toEqual(skipped[0]);
    await expect(badge).toContainText('Skipped before');
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'desk-skipped.png') });
    await expectNoSeriousViolations(page, 'a skipped pair come back');

    // It is still coming back after a reload: the log says it was skipped once.
    await page.reload();
    expect(await shownPair(studio)).toEqual(skipped[0]);
    await expect(badge).toBeVisible();

    // Decided: the verdict replaces the skip; the next skipped one comes back.
    await pressAndWait(studio, '1', skipped[0]!);
    expect(await shownPair(studio)).toEqual(skipped[1]);
    await expect(badge).toBeVisible();
    await expect(progress).toHaveAttribute('data-done', '4');
    await expect(progress).toContainText('3 decided · 1 skipped');
    // Skipped again: it stays skipped, and that is the end.
    await page.keyboard.press('Space');
    await expect(view).toHaveAttribute('data-state', 'done');
    const done = page.getByTestId('done');
    await expect(done).toContainText('All 4 pairs are done');
    await expect(page.getByTestId('done-left')).toHaveText(
      '3 decided. 1 pair skipped twice stays skipped.',
    );
    await expect(page.getByTestId('done-next')).toContainText('the audit (g then a)');
    await expect(progress).toHaveAttribute('data-done', '4');
    await expect(progress).toContainText('3 decided · 1 skipped');

    // Not a second time, after a reload either.
    await page.reload();
    await expect(view).toHaveAttribute('data-state', 'done');
    await expect(page.getByTestId('done-left')).toHaveText(
      '3 decided. 1 pair skipped twice stays skipped.',
    );
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'desk-end.png') });
    await expectNoSeriousViolations(page, 'the end screen');
    const history = await call<HistoryEntry[]>(page, 'getHistory', { annotator: 'sam' });
    expect(history.map((h) => [h.pairId, h.decision === 'skip'])).toContainEqual([
      skipped[1]!.pairId,
      true,
    ]);

    // The next step, by its keys.
    await page.keyboard.press('g');
    await page.keyboard.press('a');
    await expect(page.getByTestId('view-audit')).toHaveAttribute('aria-current', 'page');
  });

  test('a skipped pair queued to come back and decided from the history does not come back', async ({
    studio,
  }) => {
    const { page, view } = studio;
    await chooseAnnotator(studio, 'rae');
    const first = await shownPair(studio);
    await pressAndWait(studio, 'Space', first);
    const second = await shownPair(studio);
    await pressAndWait(studio, 'Space', second);
    // The view queues the two skips behind pair 4 now; the first is decided from the history.
    const third = await shownPair(studio);
    await page.getByTestId('history').locator(`[data-pair-id="${first.pairId}"]`).click();
    await expect(page.getByTestId('revisit-banner')).toBeVisible();
    expect(await shownPair(studio)).toEqual(first);
    await pressAndWait(studio, '1', first);
    // Back in the queue: pair 3, pair 4, then the second skip alone comes back.
    expect(await shownPair(studio)).toEqual(third);
    await pressAndWait(studio, '1', third);
    const fourth = await shownPair(studio);
    await pressAndWait(studio, '2', fourth);
    expect(await shownPair(studio)).toEqual(second);
    await expect(page.getByTestId('skipped-before')).toBeVisible();
    await page.keyboard.press('1');
    await expect(view).toHaveAttribute('data-state', 'done');
    await expect(page.getByTestId('done-left')).toHaveText('4 decided, none skipped.');
  });
});
