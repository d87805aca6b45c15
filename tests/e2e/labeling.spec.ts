/**
 * The labeling view end to end: keys in a real page over the real server (or Electron), then the
 * project exported with the CLI and read back by DuckDB, an independent reader. The test keeps
 * its own record of what was on screen at each keypress and derives the expected labels from it.
 */
import { duckdb } from '../helpers/duckdb';
import {
  chooseAnnotator,
  expect,
  exportProject,
  plain,
  pressAndWait,
  setSuggestionModeAsLead,
  shownPair,
  test,
  type ShownPair,
  type Studio,
} from './fixtures';

type Key = string;
const LEFT = new Set(['ArrowLeft', '1']);
const RIGHT = new Set(['ArrowRight', '2']);
const TIE = new Set(['ArrowDown', '3']);
const UNDO = new Set(['Backspace', 'Control+z']);

/** One keypress as the test saw it: the pair on screen and what the key means for it. */
interface Logged extends ShownPair {
  key: Key;
  action: 'verdict' | 'skip' | 'undo';
  /** The better image's uid, 'tie', or null for a skip or an undo. */
  better: string | 'tie' | null;
  /** For an undo: the logged decision it takes back. */
  undoes?: Logged;
}

function meaning(key: Key, pair: ShownPair): Pick<Logged, 'action' | 'better'> {
  if (LEFT.has(key)) return { action: 'verdict', better: pair.leftUid };
  if (RIGHT.has(key)) return { action: 'verdict', better: pair.rightUid };
  if (TIE.has(key)) return { action: 'verdict', better: 'tie' };
  if (key === 'Space') return { action: 'skip', better: null };
  if (UNDO.has(key)) return { action: 'undo', better: null };
  throw new Error(`no meaning for ${key}`);
}

/**
 * Plays keys on the view, checking each step on screen, and returns the log plus the decisions
 * still standing (latest per pair, undone ones removed), as the project must hold them.
 */
async function play(studio: Studio, keys: Key[]) {
  const log: Logged[] = [];
  const standing: Logged[] = [];
  for (const key of keys) {
    const pair = await shownPair(studio);
    const entry: Logged = { key, ...pair, ...meaning(key, pair) };
    if (entry.action === 'undo') {
      entry.undoes = standing.pop();
      expect(entry.undoes, 'an undo needs a decision to take back').toBeDefined();
      await pressAndWait(studio, key, pair);
      // The undone pair is back on screen, the way round it was shown.
      const back = await shownPair(studio);
      expect(back).toEqual({
        pairId: entry.undoes!.pairId,
        leftUid: entry.undoes!.leftUid,
        rightUid: entry.undoes!.rightUid,
      });
    } else {
      await pressAndWait(studio, key, pair);
      const replaced = standing.findIndex((s) => s.pairId === pair.pairId);
      if (replaced !== -1) standing.splice(replaced, 1);
      standing.push(entry);
    }
    log.push(entry);
  }
  return { log, standing };
}

const sortedKey = (a: string, b: string): string => [a, b].sort().join('|');

/** The export's rows must be exactly the standing verdicts, labelled as Pick-a-Pic does. */
async function expectExportMatches(
  rows: Record<string, unknown>[],
  standing: Logged[],
): Promise<void> {
  const expected = new Map<string, string>();
  for (const s of standing) {
    if (s.action === 'verdict') expected.set(sortedKey(s.leftUid, s.rightUid), s.better!);
  }
  expect(rows).toHaveLength(expected.size);
  for (const row of rows) {
    const uid0 = row.image_0_uid as string;
    const uid1 = row.image_1_uid as string;
    const better = expected.get(sortedKey(uid0, uid1));
    expect(better, `a row for ${uid0} / ${uid1} that was never decided`).toBeDefined();
    const labels =
      better === 'tie'
        ? { label_0: 0.5, label_1: 0.5 }
        : better === uid0
          ? { label_0: 1, label_1: 0 }
          : { label_0: 0, label_1: 1 };
    expect({ label_0: row.label_0, label_1: row.label_1 }, `${uid0} / ${uid1}`).toEqual(labels);
    expect(row.num_annotations).toBe(1);
  }
}

/** Every keypress is one row of the raw table, in order, with the side shown left. */
function expectRawMatches(raw: Record<string, unknown>[], log: Logged[], annotator: string) {
  expect(raw).toHaveLength(log.length);
  const idOf = new Map<Logged, number>();
  log.forEach((entry, i) => {
    const row = raw[i]!;
    idOf.set(entry, row.annotation_id as number);
    expect(row.annotator).toBe(annotator);
    expect(row.annotator_kind).toBe('human');
    expect(row.pair_id).toBe(entry.undoes?.pairId ?? entry.pairId);
    expect(row.action).toBe(entry.action);
    if (entry.action === 'undo') {
      expect(row.undoes_id).toBe(idOf.get(entry.undoes!));
      expect(row.verdict).toBeNull();
      return;
    }
    const uid0 = row.image_0_uid as string;
    expect([uid0, row.image_1_uid].sort()).toEqual([entry.leftUid, entry.rightUid].sort());
    expect(row.left_image).toBe(uid0 === entry.leftUid ? 0 : 1);
    expect(row.suggestion_visible).toBe(false);
    expect(row.decision_ms).toBeGreaterThanOrEqual(0);
    const verdict =
      entry.better === null
        ? null
        : entry.better === 'tie'
          ? 'tie'
          : entry.better === uid0
            ? '0'
            : '1';
    expect(row.verdict).toBe(verdict);
  });
}

async function readExport(studio: Studio, project: { dir: string; file: string }) {
  const { out, raw } = await exportProject(project);
  const db = await duckdb();
  try {
    const rows = plain(
      await db.rows(
        `SELECT image_0_uid, image_1_uid, label_0, label_1, num_annotations FROM read_parquet('${out}')`,
      ),
    );
    const annotations = plain(
      await db.rows(`SELECT * FROM read_parquet('${raw}') ORDER BY annotation_id`),
    );
    return { rows, annotations };
  } finally {
    db.close();
  }
}

test('label 20 pairs by keyboard, with undos and skips, and export exactly those verdicts', async ({
  studio,
  project,
}) => {
  const annotator = 'ana e2e';
  await chooseAnnotator(studio, annotator);
  await expect(studio.page.getByTestId('progress')).toHaveAttribute('data-total', '30');

  // 23 verdicts (arrows and digits, ties among them), 3 undos (one Ctrl+Z, two in a row),
  // 2 skips: 20 verdicts stand at the end, each undone pair decided again.
  const keys = [
    'ArrowLeft', '1', 'ArrowRight', '2', 'ArrowDown', '3',
    'Backspace', '2',
    'Space',
    'ArrowLeft', 'ArrowRight', '1',
    'Control+z', 'Backspace', '3', 'ArrowRight',
    '2', 'ArrowDown', '1', 'Space', 'ArrowLeft', '3', '2', 'ArrowRight', '1',
    'ArrowDown', '2', 'ArrowLeft',
  ]; // prettier-ignore
  const { log, standing } = await play(studio, keys);

  const verdicts = standing.filter((s) => s.action === 'verdict');
  expect(verdicts).toHaveLength(20);
  expect(standing.filter((s) => s.action === 'skip')).toHaveLength(2);
  await expect(studio.page.getByTestId('progress')).toHaveAttribute('data-done', '22');
  await expect(studio.page.getByTestId('announcer')).toContainText('Saved pair');

  // Exported while the server still runs: every decision the view moved on from is on disk.
  const { rows, annotations } = await readExport(studio, project);
  await expectExportMatches(rows, standing);
  expectRawMatches(annotations, log, annotator);
  const count = (action: string) => annotations.filter((a) => a.action === action).length;
  expect({ verdict: count('verdict'), skip: count('skip'), undo: count('undo') }).toEqual({
    verdict: 23,
    skip: 2,
    undo: 3,
  });
  // Exactly the standing decisions are current.
  const current = annotations.filter((a) => a.is_current).map((a) => a.pair_id);
  expect(current.sort()).toEqual(standing.map((s) => s.pairId).sort());
});

test('a decision in the history strip can be revisited and changed', async ({
  studio,
  project,
}) => {
  const { page, view } = studio;
  await chooseAnnotator(studio, 'bo');
  const { log } = await play(studio, ['1', '2', '3', 'ArrowLeft', 'ArrowRight']);
  const history = page.getByTestId('history').getByRole('button');
  await expect(history).toHaveCount(5);
  const queueHead = await shownPair(studio);

  // The strip lists newest first: the third entry is the tie on the third pair.
  const older = log[2]!;
  await history.nth(2).click();
  await expect(view).toHaveAttribute('data-pair-id', String(older.pairId));
  const revisited = await shownPair(studio);
  expect(revisited).toEqual({
    pairId: older.pairId,
    leftUid: older.leftUid,
    rightUid: older.rightUid,
  });
  await expect(page.getByTestId('revisit-banner')).toBeVisible();
  await expect(page.getByTestId('verdict-tie')).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('verdict-left')).toHaveAttribute('aria-pressed', 'false');

  // A new key replaces the decision, then the queue picks up where it was.
  await page.keyboard.press('1');
  await expect(view).toHaveAttribute('data-pair-id', String(queueHead.pairId));
  await expect(view).toHaveAttribute('data-state', 'ready');
  await expect(history.first()).toHaveAttribute('data-pair-id', String(older.pairId));
  await expect(history).toHaveCount(5);

  const { rows, annotations } = await readExport(studio, project);
  const changed = { ...older, key: '1', better: older.leftUid };
  await expectExportMatches(rows, [...log.filter((l) => l !== older), changed]);
  expect(annotations.filter((a) => a.action === 'verdict')).toHaveLength(6);
  const onOlder = annotations.filter((a) => a.pair_id === older.pairId);
  expect(onOlder.map((a) => [a.verdict === 'tie', a.is_current])).toEqual([
    [true, false],
    [false, true],
  ]);
});

test.describe('a project with 3 pairs', () => {
  test.use({ pairs: 3 });

  test('shows the done state after the last pair, and undo brings the last pair back', async ({
    studio,
  }) => {
    const { page, view } = studio;
    await chooseAnnotator(studio, 'cy');
    // Suggestions before the verdict, on an unscored project: there is nothing to show.
    await setSuggestionModeAsLead(studio, 'before');
    await expect(page.getByTestId('suggestion-left')).toHaveCount(0);
    const { log } = await play(studio, ['1', '3']);
    const last = await shownPair(studio);
    await page.keyboard.press('ArrowRight');
    await expect(view).toHaveAttribute('data-state', 'done');
    await expect(view).toHaveAttribute('data-pair-id', '');
    await expect(page.getByTestId('done')).toContainText('All 3 pairs are done');
    await expect(page.getByTestId('done')).toContainText('Backspace');
    await expect(page.getByTestId('progress')).toHaveAttribute('data-done', '3');

    // The shortcut sheet opens with ? and closes with Esc.
    await page.keyboard.press('?');
    await expect(page.getByTestId('shortcut-sheet')).toBeVisible();
    await page.keyboard.press('Escape');
    await expect(page.getByTestId('shortcut-sheet')).toBeHidden();

    await page.keyboard.press('Backspace');
    await expect(view).toHaveAttribute('data-pair-id', String(last.pairId));
    expect(await shownPair(studio)).toEqual(last);
    await expect(page.getByTestId('progress')).toHaveAttribute('data-done', '2');
    await page.keyboard.press('Space');
    // Skipped once, it comes back after the last pair (desk.spec.ts); skipped again, it stays.
    await expect(page.getByTestId('skipped-before')).toBeVisible();
    await expect(view).toHaveAttribute('data-state', 'ready');
    await expect(view).toHaveAttribute('data-pair-id', String(last.pairId));
    await page.keyboard.press('Space');
    await expect(view).toHaveAttribute('data-state', 'done');
    expect(log).toHaveLength(2);
  });
});

test.describe(() => {
  test.skip(({ mode }) => mode === 'electron', 'breaks the server on purpose through HTTP routes');

  test('a decision that is not saved stays on screen with the reason; a missing image can only be skipped', async ({
    studio,
    project,
  }) => {
    const { page, view } = studio;
    // The server reports the second pair's image 0 as missing (as for a moved manifest image).
    await page.route('**/api/call/getQueue', async (route) => {
      const response = await route.fetch();
      const json = (await response.json()) as {
        value: { pairs: { pairId: number; image0: { available: boolean } }[] };
      };
      for (const pair of json.value.pairs) if (pair.pairId === 2) pair.image0.available = false;
      await route.fulfill({ response, json });
    });
    await chooseAnnotator(studio, 'di');
    const first = await shownPair(studio);
    expect(first.pairId).toBe(1);

    await page.route('**/api/call/recordDecision', (route) =>
      route.fulfill({
        status: 409,
        json: {
          ok: false,
          error: { code: 'busy', message: 'database is locked: labels.pickstudio' },
        },
      }),
    );
    await page.keyboard.press('1');
    await expect(view).toHaveAttribute('data-state', 'error');
    await expect(page.getByTestId('error')).toContainText('database is locked: labels.pickstudio');
    await expect(view).toHaveAttribute('data-pair-id', '1');
    await expect(page.getByTestId('progress')).toHaveAttribute('data-done', '0');

    // The same key again, with the server back, saves it and moves on.
    await page.unroute('**/api/call/recordDecision');
    await pressAndWait(studio, '1', first);
    await expect(page.getByTestId('error')).toBeHidden();
    const second = await shownPair(studio);
    expect(second.pairId).toBe(2);
    const placeholder = page.getByRole('img', { name: /is missing/ });
    await expect(placeholder).toContainText('Space to skip');
    const uid = await placeholder.getAttribute('data-image-uid');
    await expect(placeholder).toContainText(uid!);

    await page.keyboard.press('2');
    await expect(page.getByTestId('announcer')).toContainText('An image is missing');
    await expect(view).toHaveAttribute('data-pair-id', '2');
    await pressAndWait(studio, 'Space', second);

    const { annotations } = await readExport(studio, project);
    expect(annotations.map((a) => [a.pair_id, a.action, a.verdict !== null])).toEqual([
      [1, 'verdict', true],
      [2, 'skip', false],
    ]);
  });
});
