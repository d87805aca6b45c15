/**
 * Crash safety of labeling: `pickstudio serve` is killed with SIGKILL at random moments while the
 * page labels by keyboard, then started again on the same file and port, and the page reloaded.
 * A verdict counts as saved only when the page showed it so: its entry in the history strip marked
 * saved (`data-saved="saved"`), which it is only once recordDecision has resolved, that is after
 * the SQLite commit. The next pair going up is no such sign: it shows while the save is on its
 * way, the entry marked saving.
 * After every kill, the file as the kill left it is opened read-only: it passes
 * `PRAGMA integrity_check`, every verdict shown as saved is in it (pair, verdict, annotator, the
 * side shown left), and everything in it was a key the test pressed. A key whose save the kill
 * cut short may or may not be in it; either is right. A key pressed once the server is gone must
 * say that the server is not answering and the decision may not be saved (the page cannot know),
 * and not be on disk, and the restarted server must count exactly the decisions on disk.
 *
 * The plan (when and how each kill comes, which keys) is drawn from a seeded PRNG; the seed is
 * printed, and CRASH_SEED=<seed> draws the same plan again (where a kill lands within a request
 * still depends on timing).
 */
import type { Page, Request } from '@playwright/test';
import Database from 'better-sqlite3';
import { chooseAnnotator, expect, serve, test, type Studio } from './fixtures';
import { crashSeed } from '../helpers/seed';

const ANNOTATOR = 'crash e2e';
const CYCLES = 4;
const KEYS = ['1', '2', '3', 'ArrowLeft', 'ArrowRight', 'ArrowDown'] as const;
type Key = (typeof KEYS)[number];

/**
 * A cycle's kill: armed once `warmup` verdicts are shown as saved (so every cycle labels), then
 * a while later, or 0 to 4 ms after the page sends its n-th save from then on (so that kills also
 * land before the commit, and between the commit and the reply).
 */
type KillPlan = { warmup: number } & (
  | { kind: 'timer'; afterMs: number }
  | { kind: 'save'; nth: number; afterMs: number }
);

function drawPlan(random: () => number): KillPlan {
  const warmup = 1 + Math.floor(random() * 4);
  return random() < 0.5
    ? { warmup, kind: 'timer', afterMs: Math.floor(random() * 1200) }
    : {
        warmup,
        kind: 'save',
        nth: 1 + Math.floor(random() * 5),
        afterMs: Math.floor(random() * 5),
      };
}

/** One keypress: the pair on screen, what the key says, and what the page showed after it. */
interface Press {
  cycle: number;
  pairId: number;
  key: Key;
  leftUid: string;
  /** The better image's uid, or 'tie'. */
  better: string;
  /**
   * 'saved': the history strip showed it saved; 'not confirmed': the page said the studio did not
   * answer (the server was gone), so the decision may or may not be on disk.
   */
  outcome: 'saved' | 'not confirmed';
  /** The history strip's verdict (image 0, 1 or tie, in the pair's order), when saved. */
  shownDecision: string | null;
  /** Pressed once the server was known to be gone. */
  afterDeath: boolean;
}

/** The few DOM calls the page functions below make (tests compile without the DOM library). */
interface PageElement {
  getAttribute(name: string): string | null;
  readonly textContent: string | null;
  readonly classList: { contains(name: string): boolean };
}
type PageGlobal = { document: { querySelector(selector: string): PageElement | null } };

/** Waits for the view to settle: a pair on screen, all done, or an error. */
async function settled(page: Page): Promise<'ready' | 'done' | 'error'> {
  const handle = await page.waitForFunction(
    () => {
      const { document } = globalThis as unknown as PageGlobal;
      const state = document
        .querySelector('[data-testid="labeling-view"]')
        ?.getAttribute('data-state');
      return state === 'ready' || state === 'done' || state === 'error' ? state : null;
    },
    undefined,
    { polling: 'raf', timeout: 15_000 },
  );
  return (await handle.jsonValue()) as 'ready' | 'done' | 'error';
}

/** The pair on screen: its id, which image uid is on the left and right, and whether both show. */
function onScreen(page: Page) {
  return page.evaluate(() => {
    const { document } = globalThis as unknown as PageGlobal;
    const view = document.querySelector('[data-testid="labeling-view"]')!;
    const side = (id: string) => document.querySelector(`[data-testid="${id}"]`);
    const left = side('image-left');
    const right = side('image-right');
    return {
      state: view.getAttribute('data-state'),
      pairId: Number(view.getAttribute('data-pair-id')),
      leftUid: left?.getAttribute('data-image-uid') ?? '',
      rightUid: right?.getAttribute('data-image-uid') ?? '',
      bothShown:
        !!left && !!right && ![left, right].some((e) => e.classList.contains('panel-missing')),
    };
  });
}

/**
 * After a key on `pairId`: 'saved' once the history strip lists the pair as saved (with the verdict
 * it shows), not merely saving; 'not confirmed' once the view reports that the studio did not
 * answer.
 */
async function outcomeOf(page: Page, pairId: number) {
  const handle = await page.waitForFunction(
    (id) => {
      const { document } = globalThis as unknown as PageGlobal;
      const entry = document.querySelector(
        `[data-testid="history"] [data-pair-id="${id}"][data-decision][data-saved="saved"]`,
      );
      if (entry) return { outcome: 'saved', decision: entry.getAttribute('data-decision') };
      const view = document.querySelector('[data-testid="labeling-view"]');
      const error = document.querySelector('[data-testid="error-message"]')?.textContent ?? '';
      if (view?.getAttribute('data-state') === 'error' && error.includes('may not be saved')) {
        return { outcome: 'not confirmed', decision: null };
      }
      return null;
    },
    pairId,
    { polling: 'raf', timeout: 15_000 },
  );
  return (await handle.jsonValue()) as {
    outcome: Press['outcome'];
    decision: string | null;
  };
}

/**
 * Presses a key drawn from `random` on the pair on screen and waits for what the page shows.
 * Returns null, pressing nothing, where there is no pair to decide (an error, all done, or an
 * image the page could not load).
 */
async function pressKey(
  page: Page,
  random: () => number,
  fields: Pick<Press, 'cycle' | 'afterDeath'>,
): Promise<Press | null> {
  const shown = await onScreen(page);
  if (shown.state !== 'ready' || !shown.bothShown) return null;
  const key = KEYS[Math.floor(random() * KEYS.length)]!;
  const better =
    key === '1' || key === 'ArrowLeft'
      ? shown.leftUid
      : key === '2' || key === 'ArrowRight'
        ? shown.rightUid
        : 'tie';
  await page.keyboard.press(key);
  const { outcome, decision } = await outcomeOf(page, shown.pairId);
  return {
    ...fields,
    pairId: shown.pairId,
    key,
    leftUid: shown.leftUid,
    better,
    outcome,
    shownDecision: decision,
  };
}

interface DiskRow {
  pairId: number;
  action: string;
  better: string;
  leftUid: string;
}

/**
 * Opens the file as the kill left it (read-only), checks its integrity and that it holds every
 * verdict shown as saved and nothing the test did not press; returns the annotator's rows.
 */
function checkFile(file: string, presses: Press[]): DiskRow[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  let rows: (DiskRow & { verdict: string | null; uid0: string })[];
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
    rows = db
      .prepare(
        `SELECT a.pair_id AS pairId, a.action, a.verdict, i0.uid AS uid0,
           CASE a.verdict WHEN '0' THEN i0.uid WHEN '1' THEN i1.uid ELSE a.verdict END AS better,
           CASE a.left_image WHEN 0 THEN i0.uid ELSE i1.uid END AS leftUid
         FROM annotations a
         JOIN annotators n ON n.id = a.annotator_id
         JOIN pairs p ON p.id = a.pair_id
         JOIN images i0 ON i0.id = p.image_0_id
         JOIN images i1 ON i1.id = p.image_1_id
         WHERE n.name = ? ORDER BY a.id`,
      )
      .all(ANNOTATOR) as typeof rows;
  } finally {
    db.close();
  }
  const onDisk = new Map<number, DiskRow>();
  for (const row of rows) {
    expect(row.action, `pair ${row.pairId}`).toBe('verdict');
    expect(onDisk.has(row.pairId), `pair ${row.pairId} decided once`).toBe(false);
    onDisk.set(row.pairId, {
      pairId: row.pairId,
      action: row.action,
      better: row.better,
      leftUid: row.leftUid,
    });
  }
  const expected = (p: Press): DiskRow => ({
    pairId: p.pairId,
    action: 'verdict',
    better: p.better,
    leftUid: p.leftUid,
  });
  for (const press of presses.filter((p) => p.outcome === 'saved')) {
    const row = onDisk.get(press.pairId);
    expect(row, `pair ${press.pairId} was shown as saved (${press.key})`).toEqual(expected(press));
    // The strip showed the verdict in the pair's own order; it must be the one on disk.
    const db0 = rows.find((r) => r.pairId === press.pairId)!;
    expect(press.shownDecision, `pair ${press.pairId}`).toBe(db0.verdict);
  }
  for (const row of onDisk.values()) {
    const pressed = presses.filter((p) => p.pairId === row.pairId).map(expected);
    expect(pressed, `pair ${row.pairId} is on disk: a key must have said so`).toContainEqual(row);
  }
  return [...onDisk.values()];
}

test.skip(({ mode }) => mode === 'electron', 'kills the pickstudio serve process: browser mode');
test.use({ pairs: 150 });
// Four server starts and a 150-pair demo project: room for a loaded 2-core machine.
test.describe.configure({ timeout: 90_000 });

test('SIGKILL of the server while labeling: every verdict shown as saved is on disk, the file is intact', async ({
  project,
  studioBrowser,
  viewport,
}, testInfo) => {
  const { seed, replay, random } = crashSeed();
  // Two streams: how many keys a cycle gets to press depends on timing, and must not shift the
  // kill plans of the cycles after it.
  const plans = random('labeling: kill plans');
  const keys = random('labeling: keys');
  console.log(`[crash] seed ${seed} (${replay} draws the same plan)`);
  testInfo.annotations.push({ type: 'seed', description: `${replay} draws the same plan` });

  const context = await studioBrowser!.newContext({ viewport });
  const page = await context.newPage();
  const studio: Studio = { page, view: page.getByTestId('labeling-view') };
  const presses: Press[] = [];
  let onDisk: DiskRow[] = [];
  let port = 0;
  let server: Awaited<ReturnType<typeof serve>> | null = null;
  try {
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      const current = await serve(project.file, { port, detached: true });
      server = current;
      port = current.port;
      await page.goto(current.url);
      await chooseAnnotator(studio, ANNOTATOR);
      // The restarted server counts exactly the decisions the killed one left on disk.
      await expect(page.getByTestId('progress')).toHaveAttribute(
        'data-done',
        String(onDisk.length),
      );

      let killed = false;
      let killing: Promise<void> | null = null;
      let signalKilled!: () => void;
      const whenKilled = new Promise<'killed'>((resolve) => {
        signalKilled = () => resolve('killed');
      });
      const kill = (): Promise<void> => {
        if (!killing) {
          killed = true;
          killing = current.kill();
          signalKilled();
        }
        return killing;
      };
      const plan = drawPlan(plans);
      let armed = false;
      let saves = 0;
      let timer: NodeJS.Timeout | undefined;
      const onRequest = (request: Request): void => {
        if (!armed || plan.kind !== 'save') return;
        if (!request.url().endsWith('/api/call/recordDecision')) return;
        if (++saves !== plan.nth) return;
        if (plan.afterMs === 0) void kill();
        else setTimeout(() => void kill(), plan.afterMs);
      };
      page.on('request', onRequest);
      const arm = (): void => {
        armed = true;
        if (plan.kind === 'timer') timer = setTimeout(() => void kill(), plan.afterMs);
      };

      const before = presses.length;
      let savedThisCycle = 0;
      while (!killed) {
        const state = await Promise.race([settled(page), whenKilled]);
        if (state === 'killed') break;
        if (state === 'done') {
          await kill();
          break;
        }
        const press = await pressKey(page, keys, { cycle, afterDeath: false });
        if (!press) {
          // Only a dead server makes the view fail, or an image go missing, here.
          const shown = JSON.stringify(await onScreen(page));
          expect(killed, `the view failed without a kill: ${shown}`).toBe(true);
          break;
        }
        presses.push(press);
        if (press.outcome === 'not confirmed') {
          expect(killed, `a save failed without a kill: pair ${press.pairId}`).toBe(true);
        } else if (++savedThisCycle === plan.warmup) {
          arm();
        }
      }
      clearTimeout(timer);
      page.off('request', onRequest);
      await kill();

      // A key pressed with the server gone must not show as saved.
      if ((await settled(page)) === 'ready') {
        const press = await pressKey(page, keys, { cycle, afterDeath: true });
        if (press) {
          expect(press.outcome, `pair ${press.pairId}, pressed after the kill`).toBe(
            'not confirmed',
          );
          presses.push(press);
        }
      }

      onDisk = checkFile(project.file, presses);
      const mine = presses.slice(before);
      for (const press of mine.filter((p) => p.afterDeath)) {
        expect(onDisk.map((r) => r.pairId)).not.toContain(press.pairId);
      }
      const unconfirmed = mine.filter((p) => p.outcome === 'not confirmed' && !p.afterDeath);
      const unconfirmedOnDisk = unconfirmed.filter((p) =>
        onDisk.some((r) => r.pairId === p.pairId),
      ).length;
      console.log(
        `[crash] cycle ${cycle}: kill ${JSON.stringify(plan)}; ${mine.length} keys ` +
          `(${mine.length - savedThisCycle - unconfirmed.length} after the kill, not saved), ` +
          `${savedThisCycle} shown as saved, ${unconfirmed.length} cut short by the kill ` +
          `(${unconfirmedOnDisk} of them committed); ${onDisk.length} verdicts on disk`,
      );
    }
  } finally {
    await context.close();
    await server?.kill();
  }
  // Each cycle showed at least its warm-up verdicts as saved, so the checks above had work.
  expect(presses.filter((p) => p.outcome === 'saved').length).toBeGreaterThanOrEqual(CYCLES);
});
