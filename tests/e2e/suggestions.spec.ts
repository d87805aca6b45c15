/**
 * The model's suggestions in the labeling view, on a project scored by a tiny random model: the
 * bars show each side's probability as the project file holds it, in the mode the lead picks in
 * the project settings (open views follow at once), and the raw annotations export records
 * whether they were on screen before each decision.
 */
import { duckdb } from '../helpers/duckdb';
import {
  call,
  chooseAnnotator,
  chooseSuggestionMode,
  expect,
  exportProject,
  openServedPage,
  plain,
  pressAndWait,
  readScores,
  serve,
  setSuggestionModeAsLead,
  shownPair,
  test,
  type OpenedPage,
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

  await chooseAnnotator(studio, 'lead');
  // The top bar names the model scoring the project, its provider, and how far it got.
  await expect(page.getByTestId('scoring-status')).toHaveText(/^tiny-random-\d+ .*\d+\/\d+ scored/);
  // A project's default: after the verdict, so nothing shows before it.
  await expectNoBars(studio);

  // The lead picks 'before' in the dashboard's project settings, by the keyboard alone: the
  // radio group's arrows move the choice.
  await page.keyboard.press('g');
  await page.keyboard.press('d');
  const after = page.getByTestId('setting-suggestions-after');
  await expect(after).toBeChecked();
  await after.focus();
  await page.keyboard.press('ArrowDown');
  await expect(page.getByTestId('setting-suggestions-before')).toBeChecked();
  await page.keyboard.press('Escape');
  await page.keyboard.press('g');
  await page.keyboard.press('l');

  // Before: the bars show the project's probabilities for the sides on screen.
  const first = await shownPair(studio);
  await expectBars(studio, scoreOf(first), first);
  await expect(page.getByText(/PickScore/)).toHaveCount(0);
  await pressAndWait(studio, '1', first);
  const second = await shownPair(studio);
  await expectBars(studio, scoreOf(second), second);
  await pressAndWait(studio, '2', second);

  // Hidden (blind): no bars.
  await setSuggestionModeAsLead(studio, 'hidden');
  const third = await shownPair(studio);
  await expectNoBars(studio);
  await pressAndWait(studio, '3', third);

  // After: hidden until the verdict. Picking the side the model did not prefer flashes it on the
  // model's side, with the bars, before the next pair comes.
  await setSuggestionModeAsLead(studio, 'after');
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
  await expect(studio.view).toHaveAttribute('data-state', 'ready');
  await page.keyboard.press('g');
  await page.keyboard.press('d');
  await expect(page.getByTestId('setting-suggestions-after')).toBeChecked();

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

test.describe(() => {
  test.skip(
    ({ mode }) => mode !== 'browser',
    'several people on one pickstudio serve: browser mode',
  );

  test("the lead's change reaches labeling views already open, without a reload", async ({
    project,
    studioBrowser,
    viewport,
  }) => {
    const scores = readScores(project);
    const scoreOf = (pair: ShownPair): PairScore => scores.get(pair.pairId)!;
    const served = await serve(project.file);
    const pages: OpenedPage[] = [];
    const open = async (): Promise<Studio> => {
      const opened = await openServedPage(studioBrowser!, served.url, viewport);
      pages.push(opened);
      return opened.studio;
    };
    try {
      const annotator = await open();
      await chooseAnnotator(annotator, 'ana');
      // Gone if the page were reloaded: what follows must reach this page as it is.
      await annotator.page.evaluate('window.notReloaded = true');
      const lead = await open();
      await chooseAnnotator(lead, 'lead');
      await lead.page.keyboard.press('g');
      await lead.page.keyboard.press('d');
      await expect(lead.page.getByTestId('setting-suggestions-after')).toBeChecked();

      // The lead shows the suggestions before the verdict: the annotator's pair gets its bars.
      const first = await shownPair(annotator);
      await expectNoBars(annotator);
      await chooseSuggestionMode(lead.page, 'before');
      await expectBars(annotator, scoreOf(first), first);

      // And hides them again: the bars go, the pair stays. Its decision counts as suggested, the
      // bars having been on screen before it.
      await chooseSuggestionMode(lead.page, 'hidden');
      await expectNoBars(annotator);
      expect(await shownPair(annotator)).toEqual(first);
      await pressAndWait(annotator, '1', first);
      const second = await shownPair(annotator);
      await expectNoBars(annotator);

      // After the verdict: a verdict against the model is marked in the history as a disagreement,
      // until the lead widens the tie threshold past every probability (the model predicts a tie).
      await chooseSuggestionMode(lead.page, 'after');
      const sides = sideProbabilities(scoreOf(second), second);
      await pressAndWait(annotator, sides.left > sides.right ? '2' : '1', second);
      const latest = annotator.page.getByTestId('history').getByRole('button').first();
      await expect(latest).toHaveAttribute('data-pair-id', String(second.pairId));
      await expect(latest).toHaveAttribute('data-disagrees', 'true');
      await call(lead.page, 'setSettings', { tieThreshold: 1 });
      await expect(latest).not.toHaveAttribute('data-disagrees');

      // A second lead's change shows in the first lead's settings panel too.
      const otherLead = await open();
      await chooseAnnotator(otherLead, 'lead-2');
      await setSuggestionModeAsLead(otherLead, 'before');
      await expect(lead.page.getByTestId('setting-suggestions-before')).toBeChecked();
      const third = await shownPair(annotator);
      await expectBars(annotator, scoreOf(third), third);
      expect(await annotator.page.evaluate('window.notReloaded')).toBe(true);

      // The setting is the project's: a page opened afterwards has it.
      const latecomer = await open();
      await chooseAnnotator(latecomer, 'cy');
      const theirs = await shownPair(latecomer);
      await expectBars(latecomer, scoreOf(theirs), theirs);

      const { raw } = await exportProject(project);
      const db = await duckdb();
      try {
        const annotations = plain(
          await db.rows(
            `SELECT annotator, pair_id, suggestion_visible FROM read_parquet('${raw}') ORDER BY annotation_id`,
          ),
        );
        expect(annotations).toEqual([
          { annotator: 'ana', pair_id: first.pairId, suggestion_visible: true },
          { annotator: 'ana', pair_id: second.pairId, suggestion_visible: false },
        ]);
      } finally {
        db.close();
      }
    } finally {
      for (const opened of pages) await opened.close();
      await served.stop();
    }
  });
});
