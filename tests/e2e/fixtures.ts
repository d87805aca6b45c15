/**
 * Fixtures for the end-to-end tests: a fresh demo project per test (scored by a tiny random model
 * where a test asks), and the app on it, either in Chromium through `pickstudio serve` (the
 * `browser` project) or in Electron (the `electron` project, skipped with its reason where the
 * Electron binary is not installed).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  test as base,
  expect,
  type Browser,
  type Locator,
  type Page,
  type ViewportSize,
} from '@playwright/test';
import Database from 'better-sqlite3';
import { _electron, type ElectronApplication } from 'playwright';
import type { SuggestionMode } from '../../shared/api';
import { electronBinary } from '../../scripts/electron-binary.js';
import { writeTinyModel } from '../helpers/tiny-model';
import { pickstudio, REPO, serve } from './serve';

export { expect, pickstudio, REPO, serve };

/**
 * The Electron binary, or why there is none. Found without `require('electron')`, which (since
 * Electron 42) would try to download the binary on every call where it is missing.
 */
export { electronBinary };

export interface Project {
  dir: string;
  file: string;
}

export interface Studio {
  page: Page;
  /** The labeling view's root, with data-state and data-pair-id. */
  view: Locator;
}

interface Options {
  /** Which door the app is driven through; set per Playwright project. */
  mode: 'browser' | 'electron';
  /** Pairs in each test's demo project. */
  pairs: number;
  /** Whether the project is scored (by a tiny random model) before the app opens it. */
  scored: boolean;
}

export interface OpenedPage {
  studio: Studio;
  close(): Promise<void>;
}

/**
 * A served project's URL in a browser context of its own: its own cookie and storage, as another
 * person's browser would have.
 */
export async function openServedPage(
  browser: Browser,
  url: string,
  viewport: ViewportSize | null,
): Promise<OpenedPage> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  await page.goto(url);
  return {
    studio: { page, view: page.getByTestId('labeling-view') },
    close: () => context.close(),
  };
}

export const test = base.extend<
  Omit<Options, 'mode'> & { project: Project; studio: Studio; electronGate: void },
  Pick<Options, 'mode'> & { studioBrowser: Browser | null }
>({
  // Per worker: a `test.skip(({ mode }) => ...)` on a file or a describe then depends on worker
  // fixtures only, so Playwright runs it before the test's own fixtures (electronGate among
  // them), and a test that does not apply in this mode is skipped as such, with a binary or not.
  mode: ['browser', { option: true, scope: 'worker' }],
  pairs: [30, { option: true }],
  scored: [false, { option: true }],

  // Runs first of the test's fixtures, so a missing binary skips the test before any project
  // is drawn (after the modifiers on `mode`, which say when a test does not apply at all).
  electronGate: [
    async ({ mode }, use, testInfo) => {
      if (mode === 'electron') {
        const binary = electronBinary();
        if ('missing' in binary) {
          const reason = `Electron binary not installed: ${binary.missing}`;
          // The list reporter shows a skip without its reason; say it where it is read.
          console.log(`[electron] ${testInfo.title}: skipped, ${reason}`);
          testInfo.skip(true, reason);
        }
      }
      await use();
    },
    { auto: true },
  ],

  // Launched here rather than through the `page` fixture, so the electron project starts none.
  studioBrowser: [
    async ({ playwright, launchOptions, headless }, use, workerInfo) => {
      const mode = (workerInfo.project.use as Partial<Options>).mode ?? 'browser';
      if (mode !== 'browser') {
        await use(null);
        return;
      }
      const browser = await playwright.chromium.launch({ ...launchOptions, headless });
      await use(browser);
      await browser.close();
    },
    { scope: 'worker' },
  ],

  project: async ({ pairs, scored }, use) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pickstudio-e2e-'));
    const file = path.join(dir, 'labels.pickstudio');
    await pickstudio(['demo', file, '--pairs', String(pairs), '--no-score', '--no-annotators']);
    if (scored) {
      const model = path.join(dir, 'model');
      writeTinyModel(model, 7);
      await pickstudio(['score', file, '--model', model]);
    }
    await use({ dir, file });
    fs.rmSync(dir, { recursive: true, force: true });
  },

  studio: async ({ mode, project, studioBrowser, viewport }, use, testInfo) => {
    let studio: Studio;
    let close: () => Promise<void>;
    if (mode === 'electron') {
      const app: ElectronApplication = await _electron.launch({
        args: [
          path.join(REPO, 'out', 'main', 'index.js'),
          project.file,
          `--user-data-dir=${path.join(project.dir, 'electron-user-data')}`,
        ],
        cwd: REPO,
      });
      const page = await app.firstWindow();
      studio = { page, view: page.getByTestId('labeling-view') };
      close = () => app.close();
    } else {
      const served = await serve(project.file);
      const opened = await openServedPage(studioBrowser!, served.url, viewport);
      studio = opened.studio;
      close = async () => {
        await opened.close();
        await served.stop();
      };
    }
    try {
      await use(studio);
      if (testInfo.status !== testInfo.expectedStatus) {
        await testInfo.attach('screenshot', {
          body: await studio.page.screenshot(),
          contentType: 'image/png',
        });
      }
    } finally {
      await close();
    }
  },
});

/** Names the annotator in the start form (switching first where a name is remembered). */
export async function chooseAnnotator(studio: Studio, name: string): Promise<void> {
  const { page, view } = studio;
  const input = page.getByTestId('annotator-name');
  const switcher = page.getByTestId('switch-annotator');
  await expect(input.or(switcher)).toBeVisible();
  if (await switcher.isVisible()) await switcher.click();
  await input.fill(name);
  await page.getByTestId('annotator-submit').click();
  await expect(page.getByTestId('annotator')).toHaveText(name);
  await expect(view).toHaveAttribute('data-state', 'ready');
}

/**
 * Picks the project's suggestion mode as a lead does, in the audit dashboard's project settings
 * (on screen); Esc then hands the keys back to the view.
 */
export async function chooseSuggestionMode(page: Page, mode: SuggestionMode): Promise<void> {
  const choice = page.getByTestId(`setting-suggestions-${mode}`);
  await choice.check();
  await expect(choice).toBeChecked();
  await choice.press('Escape');
}

/** From the labeling view to the dashboard's settings and back, by the `g` keys. */
export async function setSuggestionModeAsLead(studio: Studio, mode: SuggestionMode): Promise<void> {
  const { page, view } = studio;
  await page.keyboard.press('g');
  await page.keyboard.press('d');
  await chooseSuggestionMode(page, mode);
  await page.keyboard.press('g');
  await page.keyboard.press('l');
  await expect(view).toHaveAttribute('data-state', /^(ready|done)$/);
}

/** A StudioApi call from the page, through whichever door it has (window.studio, or HTTP). */
/**
 * The page's uncaught errors, and with `console` its console errors too (a CSP refusal is one),
 * collected from now on into the array returned.
 */
export function collectPageErrors(page: Page, options: { console: boolean }): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  if (options.console) {
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
  }
  return problems;
}

export async function call<T>(page: Page, method: string, args: unknown): Promise<T> {
  return (await page.evaluate(
    async ({ method, args }) => {
      type Door = Record<string, (args: unknown) => Promise<unknown>>;
      const door = (globalThis as { studio?: Door }).studio;
      if (door) return door[method]!(args);
      const response = await fetch(`api/call/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(args),
      });
      const reply = (await response.json()) as { ok: boolean; value?: unknown; error?: unknown };
      if (!reply.ok) throw new Error(`${method}: ${JSON.stringify(reply.error)}`);
      return reply.value;
    },
    { method, args },
  )) as T;
}

/** The pair on screen, once the view is ready: its id and which image uid is on which side. */
export interface ShownPair {
  pairId: number;
  leftUid: string;
  rightUid: string;
}

export async function shownPair(studio: Studio): Promise<ShownPair> {
  const { page, view } = studio;
  await expect(view).toHaveAttribute('data-state', 'ready');
  const pairId = Number(await view.getAttribute('data-pair-id'));
  const leftUid = await page.getByTestId('image-left').getAttribute('data-image-uid');
  const rightUid = await page.getByTestId('image-right').getAttribute('data-image-uid');
  expect(pairId).toBeGreaterThan(0);
  return { pairId, leftUid: leftUid!, rightUid: rightUid! };
}

/**
 * Presses a key and waits until the view has moved on from `from` and is ready (or done), and the
 * decision is saved: the next pair goes up before the save answers, while the history strip marks
 * the decision saving.
 */
export async function pressAndWait(studio: Studio, key: string, from: ShownPair): Promise<void> {
  const { page, view } = studio;
  await page.keyboard.press(key);
  await expect(view).not.toHaveAttribute('data-pair-id', String(from.pairId));
  await expect(view).toHaveAttribute('data-state', /^(ready|done)$/);
  await expect(page.locator('[data-testid="history"] [data-saved="saving"]')).toHaveCount(0);
}

export interface PairScore {
  model: string;
  image0Uid: string;
  /** P(image 0 is better) under the model. */
  p0: number;
}

/** The scores the project holds, by pair id, read straight from the file (read-only). */
export function readScores(project: Project): Map<number, PairScore> {
  const db = new Database(project.file, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare(
        `SELECT s.pair_id AS pairId, m.name AS model, i0.uid AS image0Uid, s.p_0 AS p0
         FROM scores s JOIN models m ON m.id = s.model_id
         JOIN pairs p ON p.id = s.pair_id JOIN images i0 ON i0.id = p.image_0_id`,
      )
      .all() as (PairScore & { pairId: number })[];
    return new Map(rows.map(({ pairId, ...score }) => [pairId, score]));
  } finally {
    db.close();
  }
}

export async function exportProject(project: Project) {
  const out = path.join(project.dir, 'out.parquet');
  const raw = path.join(project.dir, 'raw.parquet');
  await pickstudio(['export', project.file, out, '--no-images', '--annotations', raw]);
  return { out, raw };
}

/** DuckDB's own rows, with BIGINT (bigint in JS) as plain numbers. */
export function plain(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map((row) =>
    Object.fromEntries(
      Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v]),
    ),
  );
}
