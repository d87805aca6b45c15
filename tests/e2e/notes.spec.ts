/**
 * Guidelines and flags end to end, keyboard only: the lead's guidelines set with the CLI, shown
 * before the first pair (verdict keys do nothing while they are up) and on `h`; a flag set with
 * `f`, edited and cleared, then read back from both exports by DuckDB.
 */
import fs from 'node:fs';
import path from 'node:path';
import { duckdb } from '../helpers/duckdb';
import {
  call,
  chooseAnnotator,
  expect,
  exportProject,
  pickstudio,
  plain,
  REPO,
  shownPair,
  test,
} from './fixtures';
import { expectNoSeriousViolations } from './axe';

const SCREENSHOTS = path.join(REPO, 'reports', 'screenshots');

/** Long enough to scroll at 1280x800, with what the renderer must keep as text. */
const GUIDELINES = [
  '# How to judge a pair',
  '',
  'Pick the image that **follows the prompt** best; image quality only breaks a _near_ tie.',
  '',
  '## In this order',
  '',
  '1. Every object the prompt names is there, in the `count` it asks for.',
  '2. Colours and backgrounds are right.',
  '3. Then overall quality: sharpness, anatomy, artefacts.',
  '',
  '> When both are equally wrong, press ↓ for a tie rather than guess.',
  '',
  'Raw HTML stays text: <b>not bold</b> <img src=x onerror=alert(1)>',
  'Links are shown, not followed: [the paper](https://arxiv.org/abs/2305.01569).',
  '',
  '## Examples',
  '',
  ...Array.from({ length: 30 }, (_, i) => `- Example ${i + 1}: what to prefer and why.`),
  '',
  'The end of the guidelines.',
].join('\n');

test('guidelines from the CLI show before the first pair, once per version, and on h', async ({
  project,
  studio,
}) => {
  const { page, view } = studio;
  const md = path.join(project.dir, 'guidelines.md');
  fs.writeFileSync(md, GUIDELINES);
  await pickstudio(['guidelines', project.file, md]);
  await chooseAnnotator(studio, 'ana');

  const panel = page.getByTestId('guidelines-panel');
  const body = page.getByTestId('guidelines-body');
  await expect(panel).toBeVisible();
  await expect(panel).toHaveAttribute('data-unread', 'true');
  await expect(body).toBeFocused();
  await expect(body.locator('h3')).toHaveText('How to judge a pair');
  await expect(body.locator('strong').first()).toHaveText('follows the prompt');
  await expect(body.locator('ol > li')).toHaveCount(3);
  await expect(body.locator('ul > li')).toHaveCount(30);
  // HTML in the text is text: no element made from it, nothing loaded.
  await expect(body.locator('b, img, a')).toHaveCount(0);
  await expect(body).toContainText('<b>not bold</b> <img src=x onerror=alert(1)>');
  await expect(body).toContainText('the paper (https://arxiv.org/abs/2305.01569)');
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, 'guidelines.png') });
  await expectNoSeriousViolations(page, 'the guidelines panel');

  // The keys scroll the text; verdict keys decide nothing while it is open.
  const scrollTop = () => body.evaluate((el) => el.scrollTop);
  const first = Number(await view.getAttribute('data-pair-id'));
  await page.keyboard.press('PageDown');
  await expect.poll(scrollTop).toBeGreaterThan(100);
  const paged = await scrollTop();
  await page.keyboard.press('ArrowUp');
  await expect.poll(scrollTop).toBeLessThan(paged);
  await page.keyboard.press('End');
  await expect(body.getByText('The end of the guidelines.')).toBeInViewport();
  await page.keyboard.press('Home');
  await expect.poll(scrollTop).toBe(0);
  for (const key of ['1', 'ArrowLeft', 'ArrowDown', 'Space', 'Backspace', 'g', 'a']) {
    await page.keyboard.press(key);
  }
  await expect(panel).toBeVisible();
  await expect(view).toHaveAttribute('data-pair-id', String(first));
  expect(await call<unknown[]>(page, 'getHistory', { annotator: 'ana' })).toEqual([]);

  // Enter starts labeling: the verdict keys work again.
  await page.keyboard.press('Enter');
  await expect(panel).toBeHidden();
  await page.keyboard.press('1');
  await expect(view).not.toHaveAttribute('data-pair-id', String(first));
  expect(await call<unknown[]>(page, 'getHistory', { annotator: 'ana' })).toHaveLength(1);

  // h shows them again, read already; Esc or h closes.
  await page.keyboard.press('h');
  await expect(panel).toHaveAttribute('data-unread', 'false');
  await page.keyboard.press('Escape');
  await expect(panel).toBeHidden();
  await page.keyboard.press('h');
  await expect(panel).toBeVisible();
  await page.keyboard.press('h');
  await expect(panel).toBeHidden();

  // Read once: a reload does not show them again; a new version does, without a reload.
  await page.reload();
  await expect(view).toHaveAttribute('data-state', 'ready');
  await expect(panel).toBeHidden();
  await call(page, 'setGuidelines', { text: `${GUIDELINES}\n\nAlso: *ties are fine*.` });
  await expect(panel).toHaveAttribute('data-unread', 'true');
  await expect(body).toContainText('Also: ties are fine.');
  await page.keyboard.press('Escape');
  await expect(panel).toBeHidden();

  // No guidelines: h says so, and the lead is told how to add them.
  await pickstudio(['guidelines', project.file, '--clear']);
  await page.reload();
  await expect(view).toHaveAttribute('data-state', 'ready');
  await page.keyboard.press('h');
  await expect(page.getByTestId('guidelines-none')).toContainText(
    'This project has no labeling guidelines.',
  );
  await expect(page.getByTestId('guidelines-none')).toContainText(
    'pickstudio guidelines PROJECT FILE.md',
  );
});

test('a flag set with f decides nothing, is edited and cleared, and reaches both exports', async ({
  project,
  studio,
}) => {
  const { page, view } = studio;
  await chooseAnnotator(studio, 'ana');
  const dialog = page.getByTestId('flag-dialog');
  const field = page.getByTestId('flag-note');
  const badge = page.getByTestId('flag-badge');

  // f, then 1 with the field empty: the first quick note; Enter saves. The pair stays.
  const flagged = await shownPair(studio);
  await page.keyboard.press('f');
  await expect(field).toBeFocused();
  await page.keyboard.press('1');
  await expect(field).toHaveValue('broken image');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'flag.png') });
  await expectNoSeriousViolations(page, 'the flag dialog');
  await page.keyboard.press('Enter');
  await expect(dialog).toBeHidden();
  await expect(badge).toContainText('Flagged: broken image');
  await expect(view).toHaveAttribute('data-pair-id', String(flagged.pairId));
  expect(await call<unknown[]>(page, 'getHistory', { annotator: 'ana' })).toEqual([]);

  // f again edits the note: typed, digits and all.
  await page.keyboard.press('f');
  await expect(field).toHaveValue('broken image');
  await page.keyboard.press('Control+a');
  await page.keyboard.type('left image 2 is cut off');
  await page.keyboard.press('Enter');
  await expect(badge).toContainText('Flagged: left image 2 is cut off');
  await page.keyboard.press('ArrowLeft');
  await expect(view).not.toHaveAttribute('data-pair-id', String(flagged.pairId));
  await expect(badge).toBeHidden();

  // On the next pair: Esc cancels; an empty note and Enter removes a flag.
  const next = await shownPair(studio);
  await page.keyboard.press('f');
  await expect(field).toBeFocused();
  await page.keyboard.type('offensive');
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(badge).toBeHidden();
  await page.keyboard.press('f');
  await expect(field).toBeFocused();
  await page.keyboard.press('3');
  await page.keyboard.press('Enter');
  await expect(badge).toContainText('Flagged: prompt unclear');
  await page.keyboard.press('f');
  await expect(field).toHaveValue('prompt unclear');
  await page.keyboard.press('Control+a');
  await page.keyboard.press('Backspace');
  await page.keyboard.press('Enter');
  await expect(badge).toBeHidden();
  expect(
    await call<{ flag: string | null }>(page, 'getPair', { annotator: 'ana', pairId: next.pairId }),
  ).toMatchObject({ flag: null });

  // Revisiting the flagged pair shows its flag.
  const pair = await call<{ flag: string | null }>(page, 'getPair', {
    annotator: 'ana',
    pairId: flagged.pairId,
  });
  expect(pair.flag).toBe('left image 2 is cut off');

  const { out, raw } = await exportProject(project);
  const perAnnotator = path.join(project.dir, 'per-annotator.parquet');
  await pickstudio(['export', project.file, perAnnotator, '--no-images', '--per-annotator']);
  const db = await duckdb();
  const note = 'left image 2 is cut off';
  expect(plain(await db.rows(`SELECT num_flags, flags FROM '${out}' WHERE num_flags > 0`))).toEqual(
    [{ num_flags: 1, flags: JSON.stringify([{ annotator: 'ana', note }]) }],
  );
  expect(
    await db.rows(`SELECT annotator, note, is_current FROM '${raw}' WHERE action = 'flag'`),
  ).toEqual([{ annotator: 'ana', note, is_current: true }]);
  expect(
    await db.rows(`SELECT annotator, flag_note FROM '${perAnnotator}' WHERE flag_note IS NOT NULL`),
  ).toEqual([{ annotator: 'ana', flag_note: note }]);
  db.close();
});
