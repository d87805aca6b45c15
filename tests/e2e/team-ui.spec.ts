/**
 * The team's two ends in the UI. An annotator's package (made with `pickstudio pack`) opens
 * straight into labeling under its annotator, with no way to the lead's views and no call to a
 * lead-only method, and its labels are recorded under that annotator. A lead's project lists what
 * `pickstudio merge` brought in, in the audit view's Merged tab, reached by the keyboard.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Page } from '@playwright/test';
import { LEAD_ONLY_METHODS, type StudioMethod } from '../../shared/api';
import {
  chooseAnnotator,
  expect,
  pickstudio,
  pressAndWait,
  serve,
  shownPair,
  test,
  type Studio,
} from './fixtures';

const ANNOTATOR = 'Ana Lima';
const PACKAGE_PAIRS = 4;

/** The methods the page calls over HTTP (browser mode; Electron's IPC is not seen here). */
function recordCalls(page: Page): StudioMethod[] {
  const calls: StudioMethod[] = [];
  page.on('request', (request) => {
    const method = /\/api\/call\/(\w+)$/.exec(new URL(request.url()).pathname)?.[1];
    if (method) calls.push(method as StudioMethod);
  });
  return calls;
}

/** Presses the `g` chords to every lead's view; the package must stay in labeling. */
async function tryLeadChords(studio: Studio): Promise<void> {
  const { page, view } = studio;
  for (const second of ['a', 'd', 'r']) {
    await page.keyboard.press('g');
    await page.keyboard.press(second);
    await expect(page.getByTestId('audit-view')).toHaveCount(0);
    await expect(view).toBeVisible();
  }
}

/** Who the package's annotations belong to, read from the file itself (read-only). */
function annotationsByAnnotator(file: string): { name: string; kind: string; count: number }[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare(
        `SELECT n.name, n.kind, count(a.id) AS count FROM annotators n
         LEFT JOIN annotations a ON a.annotator_id = n.id GROUP BY n.id ORDER BY n.id`,
      )
      .all() as { name: string; kind: string; count: number }[];
  } finally {
    db.close();
  }
}

const inPackage = test.extend({
  // The app opens the package made from the test's demo project, not the project itself.
  project: async ({ project }, use) => {
    const file = path.join(project.dir, `${ANNOTATOR}.pickstudio`);
    await pickstudio([
      'pack',
      project.file,
      file,
      '--annotator',
      ANNOTATOR,
      '--pairs',
      String(PACKAGE_PAIRS),
    ]);
    await use({ dir: project.dir, file });
  },
});

inPackage(
  "a package opens into labeling under its annotator's name, and labels only",
  async ({ studio, project, mode }) => {
    const { page, view } = studio;
    const calls = recordCalls(page);
    // A name this browser remembers from a lead's project does not label in the package.
    await page.evaluate("localStorage.setItem('pickstudio.annotator', 'someone else')");
    await page.reload();

    await expect(view).toHaveAttribute('data-state', 'ready');
    await expect(page.getByTestId('annotator-name')).toHaveCount(0);
    await expect(page.getByTestId('annotator')).toHaveText(ANNOTATOR);
    await expect(page.getByTestId('package-badge')).toHaveText(`Package for ${ANNOTATOR}`);
    await expect(page.getByTestId('progress')).toHaveAttribute('data-total', String(PACKAGE_PAIRS));
    // No way out of labeling: no view switch, no name switch, no chord, no chord in the sheet.
    await expect(page.getByTestId('view-audit')).toHaveCount(0);
    await expect(page.getByTestId('switch-annotator')).toHaveCount(0);
    await tryLeadChords(studio);
    await page.keyboard.press('?');
    await expect(page.getByTestId('shortcut-sheet')).toBeVisible();
    await expect(page.getByTestId('shortcut-sheet')).not.toContainText('g then');
    await page.keyboard.press('Escape');
    await expect(page.getByTestId('shortcut-sheet')).toHaveCount(0);

    for (const key of ['ArrowLeft', 'ArrowRight', 'ArrowDown']) {
      await pressAndWait(studio, key, await shownPair(studio));
    }
    // The last pair skipped comes back at once, the only one left; skipped again, it stays so.
    const last = await shownPair(studio);
    await page.keyboard.press('Space');
    await expect(page.getByTestId('skipped-before')).toBeVisible();
    await expect(view).toHaveAttribute('data-pair-id', String(last.pairId));
    await expect(view).toHaveAttribute('data-state', 'ready');
    await page.keyboard.press('Space');
    await expect(view).toHaveAttribute('data-state', 'done');
    const done = page.getByTestId('done');
    await expect(done).toHaveAttribute('data-role', 'annotator');
    await expect(done).toContainText(`All ${PACKAGE_PAIRS} pairs of this package are done`);
    await expect(page.getByTestId('return-steps')).toContainText(
      `Send ${ANNOTATOR}.pickstudio back to your lead`,
    );
    await tryLeadChords(studio);

    // Three verdicts and two skips, all the package's annotator's: nobody else labeled in it.
    expect(annotationsByAnnotator(project.file)).toEqual([
      { name: ANNOTATOR, kind: 'human', count: PACKAGE_PAIRS + 1 },
    ]);
    if (mode === 'browser') {
      expect(calls).toContain('recordDecision');
      expect(calls.filter((method) => LEAD_ONLY_METHODS.has(method))).toEqual([]);
    }
  },
);

/** Labels the package's pairs over its own server, as its annotator's app would (image 0 each). */
async function labelPackage(file: string, annotator: string, count: number): Promise<void> {
  const served = await serve(file);
  try {
    const token = new URL(served.url).searchParams.get('token')!;
    const api = async <T>(method: string, args: unknown): Promise<T> => {
      const response = await fetch(`http://127.0.0.1:${served.port}/api/call/${method}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(args),
      });
      const reply = (await response.json()) as { ok: boolean; value: T; error?: unknown };
      if (!reply.ok) throw new Error(`${method}: ${JSON.stringify(reply.error)}`);
      return reply.value;
    };
    type Queue = { pairs: { pairId: number; leftImage: 0 | 1 }[] };
    const { pairs } = await api<Queue>('getQueue', { annotator, count });
    expect(pairs).toHaveLength(count);
    for (const pair of pairs) {
      await api('recordDecision', {
        annotator,
        pairId: pair.pairId,
        decision: 0,
        leftImage: pair.leftImage,
        suggestionVisible: false,
        decisionMs: 800,
      });
    }
  } finally {
    await served.stop();
  }
}

const MERGED_LABELS = 3;

const withMerge = test.extend({
  // The demo project with a returned package merged into it before the app opens.
  project: async ({ project }, use) => {
    const returned = path.join(project.dir, 'ben.pickstudio');
    await pickstudio(['pack', project.file, returned, '--annotator', 'Ben', '--pairs', '5']);
    await labelPackage(returned, 'Ben', MERGED_LABELS);
    await pickstudio(['merge', project.file, returned]);
    await use(project);
  },
});

/** From labeling to the audit view's Merged tab by keys alone: `g a`, Tab to the tabs, arrows. */
async function openMergedTabByKeys(studio: Studio): Promise<void> {
  const { page } = studio;
  await page.keyboard.press('g');
  await page.keyboard.press('d');
  await expect(page.getByTestId('audit-view')).toHaveAttribute('data-tab', 'dashboard');
  const dashboardTab = page.getByTestId('audit-tab-dashboard');
  for (let presses = 0; presses < 10; presses++) {
    if (await dashboardTab.evaluate((tab) => tab.matches(':focus'))) break;
    await page.keyboard.press('Tab');
  }
  await expect(dashboardTab).toBeFocused();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('audit-tab-merges')).toBeFocused();
  await expect(page.getByTestId('audit-view')).toHaveAttribute('data-tab', 'merges');
}

withMerge(
  "the audit view's Merged tab lists a merged package: who, when, how many",
  async ({ studio }) => {
    const { page } = studio;
    await chooseAnnotator(studio, 'lead');
    const before = Date.now();
    await openMergedTabByKeys(studio);
    const panel = page.getByTestId('merges-panel');
    await expect(panel).toHaveAttribute('data-state', 'ready');
    const rows = page.getByTestId('merge-row');
    await expect(rows).toHaveCount(1);
    await expect(rows.first()).toHaveAttribute('data-file', 'ben.pickstudio');
    await expect(rows.first().getByTestId('merge-who')).toHaveText('Ben');
    await expect(rows.first().getByTestId('merge-added')).toHaveText(String(MERGED_LABELS));
    await expect(rows.first()).toContainText('(package)');
    const mergedAt = Date.parse((await rows.first().locator('time').getAttribute('datetime'))!);
    // Merged by the fixture, moments before this test's first key.
    expect(before - mergedAt).toBeGreaterThanOrEqual(0);
    expect(before - mergedAt).toBeLessThan(120_000);
    await expect(page.getByTestId('merges-empty')).toHaveCount(0);
  },
);

test('the Merged tab says so when nothing was merged yet', async ({ studio }) => {
  const { page } = studio;
  await chooseAnnotator(studio, 'lead');
  await page.keyboard.press('g');
  await page.keyboard.press('a');
  await page.getByTestId('audit-tab-merges').click();
  await expect(page.getByTestId('merges-panel')).toHaveAttribute('data-state', 'ready');
  await expect(page.getByTestId('merges-empty')).toContainText('Nothing merged yet');
  await expect(page.getByTestId('merge-row')).toHaveCount(0);
});
