/**
 * The model's suggestions in the labeling view, on a project scored by a tiny random model: the
 * bars show each side's probability as the project file holds it, in the mode a lead picks, and
 * the raw annotations export records whether they were on screen before each decision.
 */
import { duckdb } from '../helpers/duckdb';
import {
  chooseAnnotator,
  expect,
  exportProject,
  plain,
  pressAndWait,
  readScores,
  shownPair,
  test,
  type PairScore,
  type ShownPair,
  type Studio,
} from './fixtures';

test.use({ scored: true, pairs: 12 });

const percent = (p: number): string => `${Math.round(p * 100)}%`;

/** Each side's probability, computed as the view must: p0 for image 0, 1 - p0 for image 1. */
function sideProbabilities(score: PairScore, pair: ShownPair) {
  const p = [score.p0, 1 - score.p0];
  const leftImage = pair.leftUid === score.image0Uid ? 0 : 1;
  return { left: p[leftImage]!, right: p[1 - leftImage]! };
}

async function expectBars(studio: Studio, score: PairScore, pair: ShownPair): Promise<void> {
  const expected = sideProbabilities(score, pair);
  for (const side of ['left', 'right'] as const) {
    const bar = studio.page.getByTestId(`suggestion-${side}`);
    await expect(bar).toBeVisible();
    expect(Number(await bar.getAttribute('data-p'))).toBeCloseTo(expected[side], 9);
    await expect(bar).toContainText(percent(expected[side]));
    await expect(bar).toContainText(score.model);
  }
}

async function expectNoBars(studio: Studio): Promise<void> {
  await expect(studio.page.getByTestId('suggestion-left')).toHaveCount(0);
  await expect(studio.page.getByTestId('suggestion-right')).toHaveCount(0);
}

interface Revealed {
  pairId: string | null;
  text: string | null;
  left: string | null;
  right: string | null;
}

/**
 * Records every state of the view in which a disagreement is on screen: it lasts about half a
 * second, too short to rely on polling for. (A string, as the tests compile without DOM types.)
 */
async function recordReveals(studio: Studio): Promise<() => Promise<Revealed[]>> {
  const handle = await studio.page.evaluateHandle(`(() => {
    const seen = [];
    const attr = (testId, name) =>
      document.querySelector('[data-testid=' + testId + ']')?.getAttribute(name) ?? null;
    new MutationObserver(() => {
      const flash = document.querySelector('[data-testid=disagreement]');
      if (!flash) return;
      seen.push({
        pairId: attr('labeling-view', 'data-pair-id'),
        text: flash.textContent,
        left: attr('suggestion-left', 'data-p'),
        right: attr('suggestion-right', 'data-p'),
      });
    }).observe(document.body, { subtree: true, childList: true, attributes: true });
    return seen;
  })()`);
  return async () => (await handle.jsonValue()) as Revealed[];
}

test('suggestion modes: bars before, none when hidden, a disagreement flashed after', async ({
  studio,
  project,
}) => {
  const { page } = studio;
  const scores = readScores(project);
  expect(scores.size).toBe(12);
  const model = [...scores.values()][0]!.model;
  const scoreOf = (pair: ShownPair): PairScore => scores.get(pair.pairId)!;
  const mode = page.getByTestId('suggestion-mode');

  await chooseAnnotator(studio, 'lead');
  // The top bar names the model scoring the project, its provider, and how far it got.
  await expect(page.getByTestId('scoring-status')).toHaveText(/^tiny-random-\d+ .*\d+\/\d+ scored/);
  // A project's default: after the verdict, so nothing shows before it.
  await expect(mode).toHaveValue('after');
  await expectNoBars(studio);

  // S cycles to 'before': the bars show the project's probabilities for the sides on screen.
  await page.keyboard.press('s');
  await expect(mode).toHaveValue('before');
  const first = await shownPair(studio);
  await expectBars(studio, scoreOf(first), first);
  await expect(page.getByText(/PickScore/)).toHaveCount(0);
  await pressAndWait(studio, '1', first);

  // Hidden (blind), picked in the top bar; Esc hands the keys back to labeling. The pair on screen
  // had its bars in view already, so its decision still counts as suggested.
  const second = await shownPair(studio);
  await expectBars(studio, scoreOf(second), second);
  await mode.selectOption('hidden');
  await expect(mode).toHaveValue('hidden');
  await expectNoBars(studio);
  await mode.press('Escape');
  await pressAndWait(studio, '2', second);
  const third = await shownPair(studio);
  await expectNoBars(studio);
  await pressAndWait(studio, '3', third);

  // After: hidden until the verdict. Picking the side the model did not prefer flashes it on the
  // model's side, with the bars, before the next pair comes.
  await page.keyboard.press('s');
  await expect(mode).toHaveValue('after');
  const fourth = await shownPair(studio);
  await expectNoBars(studio);
  const fourthSides = sideProbabilities(scoreOf(fourth), fourth);
  const modelSide = fourthSides.left > fourthSides.right ? 'left' : 'right';
  const reveals = await recordReveals(studio);
  await pressAndWait(studio, modelSide === 'left' ? 'ArrowRight' : 'ArrowLeft', fourth);
  const seen = await reveals();
  expect(seen.length).toBeGreaterThan(0);
  expect(seen[0]).toEqual({
    pairId: String(fourth.pairId),
    text: `${model} preferred the ${modelSide} image (${percent(fourthSides[modelSide])})`,
    left: String(fourthSides.left),
    right: String(fourthSides.right),
  });
  await expect(page.getByTestId('disagreement')).toHaveCount(0);
  await expectNoBars(studio);

  const history = page.getByTestId('history').getByRole('button');
  await expect(history.first()).toHaveAttribute('data-pair-id', String(fourth.pairId));
  await expect(history.first()).toHaveAttribute('data-disagrees', 'true');
  await expect(history.first()).toHaveAccessibleName(new RegExp(`disagrees with ${model}`));

  // Agreeing with the model moves on at once, with nothing flashed.
  const fifth = await shownPair(studio);
  const fifthSides = sideProbabilities(scoreOf(fifth), fifth);
  const agreeing = await recordReveals(studio);
  await pressAndWait(studio, fifthSides.left > fifthSides.right ? '1' : '2', fifth);
  expect(await agreeing()).toEqual([]);
  await expect(history.first()).toHaveAttribute('data-pair-id', String(fifth.pairId));
  await expect(history.first()).not.toHaveAttribute('data-disagrees');

  // The mode is the project's: it is still 'after' when the page is opened again.
  await page.reload();
  await expect(mode).toHaveValue('after');

  const { out, raw } = await exportProject(project);
  const db = await duckdb();
  try {
    const annotations = plain(
      await db.rows(
        `SELECT pair_id, action, suggestion_visible FROM read_parquet('${raw}') ORDER BY annotation_id`,
      ),
    );
    expect(annotations).toEqual([
      { pair_id: first.pairId, action: 'verdict', suggestion_visible: true },
      { pair_id: second.pairId, action: 'verdict', suggestion_visible: true },
      { pair_id: third.pairId, action: 'verdict', suggestion_visible: false },
      { pair_id: fourth.pairId, action: 'verdict', suggestion_visible: false },
      { pair_id: fifth.pairId, action: 'verdict', suggestion_visible: false },
    ]);
    // What the bars showed is what the export carries.
    const exported = await db.rows(
      `SELECT image_0_uid, pickscore_prob_0 FROM read_parquet('${out}')`,
    );
    const byUid = (a: Record<string, unknown>, b: Record<string, unknown>) =>
      String(a.image_0_uid).localeCompare(String(b.image_0_uid));
    const decided = [first, second, third, fourth, fifth].map(scoreOf);
    expect(exported.sort(byUid)).toEqual(
      decided.map((s) => ({ image_0_uid: s.image0Uid, pickscore_prob_0: s.p0 })).sort(byUid),
    );
  } finally {
    db.close();
  }
});
