/**
 * The whole team loop (issue #12), end to end and as people do it. The lead imports a manifest of
 * 30 pairs (real JPEG and PNG files) and packs it for two annotators with an overlap of 2; each
 * package moves to a folder of its own and the manifest's images are deleted, so a package has
 * only what it carries. Two annotators label at once, each in a browser of their own against
 * `pickstudio serve` on their package, with the keys: verdicts, skips and undos. The test keeps
 * its own record of each keypress from what was on screen (prompt, which image on which side), so
 * every decision is known as a verdict on image 0 or 1 of a pair. The servers stop on Ctrl+C
 * (SIGINT) and only the project files travel back; the lead merges them, twice (the second adds
 * nothing), then checks, against that record: the log and the current decisions, Cohen's kappa
 * between the two in `pickstudio stats --json` (computed here as well), an adjudication made by
 * keyboard in the lead's review and carried by both exports (read by DuckDB), and the
 * per-annotator export imported into a fresh project, decision by decision.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { CohenPairResult, Disagreement } from '../../shared/audit';
import type { Verdict } from '../../shared/labels';
import { duckdb } from '../helpers/duckdb';
import { makeJpeg, makePng } from '../helpers/project';
import {
  call,
  chooseAnnotator,
  expect,
  openServedPage,
  pickstudio,
  plain,
  pressAndWait,
  REPO,
  shownPair,
  test,
  type ShownPair,
  type Studio,
} from './fixtures';

const PAIRS = 30;
const ANNOTATORS = ['ana', 'ben'] as const;
type Annotator = (typeof ANNOTATORS)[number];
const LEAD = 'lead';
/** The verdict categories in the metrics' order: image 0, tie, image 1. */
const CATEGORIES: readonly Verdict[] = [0, 'tie', 1];

/** What an annotator means to do with the pair on screen at each step. */
type Intent = Verdict | 'skip' | 'undo';

/**
 * Both packages hold the 30 pairs in the lead's order, so both annotators see pair 0, 1, 2, ... in
 * turn; the comments name the pair each step meets. They agree on some pairs and not on others,
 * skip (and undo a skip), undo a verdict and decide again, and undo twice in a row.
 */
const PLANS: Record<Annotator, Intent[]> = {
  ana: [
    0, //     pair 0
    1, //     pair 1
    'tie', // pair 2
    'skip', // pair 3
    0, //     pair 4, undone next
    'undo',
    1, //     pair 4 again
    0, //     pair 5
    1, //     pair 6, undone by the second undo below
    0, //     pair 7, undone by the first undo
    'undo',
    'undo',
    0, //     pair 6 again
    'tie', // pair 7 again
    1, //     pair 8
    0, //     pair 9
    0, //     pair 10
    'tie', // pair 11
  ],
  ben: [
    0, //     pair 0
    0, //     pair 1
    'tie', // pair 2
    'skip', // pair 3, undone next
    'undo',
    1, //     pair 3 again
    1, //     pair 4
    'tie', // pair 5
    0, //     pair 6
    'tie', // pair 7
    0, //     pair 8, undone next
    'undo',
    1, //     pair 8 again
    0, //     pair 9
    1, //     pair 10
    'skip', // pair 11
    0, //     pair 12
  ],
};

const NOTE = 'neither: both images miss what the prompt asks for';

/** A manifest pair: its prompt and the uids of image 0 and image 1 (the sha256 of each file). */
interface ManifestPair {
  prompt: string;
  uids: [string, string];
}

/**
 * Writes PAIRS pairs of real images (JPEG and PNG, alternating) under `dir/images`, and
 * `dir/manifest.jsonl` naming them; returns the pairs by prompt.
 */
async function writeManifest(dir: string): Promise<Map<string, ManifestPair>> {
  fs.mkdirSync(path.join(dir, 'images'));
  const pairs = new Map<string, ManifestPair>();
  const lines: string[] = [];
  for (let i = 0; i < PAIRS; i++) {
    const prompt = `a lighthouse on a cliff at dusk, study ${i}`;
    const files: string[] = [];
    const uids: string[] = [];
    for (const side of [0, 1]) {
      const seed = 2 * i + side + 1;
      const png = (i + side) % 2 === 1;
      const bytes = png ? await makePng(seed) : await makeJpeg(seed);
      const file = `images/pair-${i}-${side}.${png ? 'png' : 'jpg'}`;
      fs.writeFileSync(path.join(dir, file), bytes);
      files.push(file);
      uids.push(createHash('sha256').update(bytes).digest('hex'));
    }
    pairs.set(prompt, { prompt, uids: uids as [string, string] });
    lines.push(JSON.stringify({ prompt, image_0: files[0], image_1: files[1] }));
  }
  fs.writeFileSync(path.join(dir, 'manifest.jsonl'), lines.join('\n') + '\n');
  return pairs;
}

interface Serving {
  url: string;
  /** Ctrl+C, as a person stops it; resolves with the exit code once the process is gone. */
  stop(): Promise<number | null>;
}

const SERVING = /^Pick Studio is serving .* at (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/m;

/**
 * `pickstudio serve FILE`, stopped by SIGINT (serve.ts's `serve` stops with SIGTERM and does not
 * report the exit code, which this test checks).
 */
async function serveUntilCtrlC(file: string): Promise<Serving> {
  const child = spawn(
    process.execPath,
    [path.join(REPO, 'bin', 'pickstudio.js'), 'serve', file, '--port', '0', '--no-open'],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    const fail = (why: string): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`pickstudio serve ${file}: ${why}\n${output}`));
    };
    const timer = setTimeout(() => fail('no URL within 30 s'), 30_000);
    child.stdout.on('data', () => {
      const match = SERVING.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    void exited.then((code) => fail(`exited with ${code} before serving`));
  });
  let stopping: Promise<number | null> | null = null;
  return {
    url,
    stop: () => {
      if (stopping) return stopping;
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      stopping = exited.finally(() => clearTimeout(timer));
      return stopping;
    },
  };
}

/** The pair on screen: ids and uids from the view's attributes, its prompt, image 0's side. */
interface Shown extends ShownPair {
  prompt: string;
  /** Which image of the pair (0 or 1) is on the left. */
  leftImage: 0 | 1;
}

async function readShown(studio: Studio, pairs: Map<string, ManifestPair>): Promise<Shown> {
  const pair = await shownPair(studio);
  const prompt = (await studio.page.getByTestId('prompt').textContent())!.trim();
  const known = pairs.get(prompt);
  expect(known, `a prompt of the manifest on screen: ${prompt}`).toBeDefined();
  expect([pair.leftUid, pair.rightUid].sort()).toEqual([...known!.uids].sort());
  // The images are drawn from the package alone: the manifest's files are gone.
  for (const side of ['left', 'right']) {
    const width = await studio.page
      .getByTestId(`image-${side}`)
      .evaluate((el) =>
        el.tagName === 'IMG' ? (el as unknown as { naturalWidth: number }).naturalWidth : 0,
      );
    expect(width, `the ${side} image of "${prompt}" is decoded`).toBeGreaterThan(0);
  }
  return { ...pair, prompt, leftImage: known!.uids.indexOf(pair.leftUid) as 0 | 1 };
}

/** One keypress as the test saw it. */
interface Logged {
  action: 'verdict' | 'skip' | 'undo';
  /** The pair decided, or for an undo the pair whose decision it took back. */
  prompt: string;
  /** The image shown on the left (a decision's); null for an undo. */
  leftImage: 0 | 1 | null;
  verdict: Verdict | null;
  /** For an undo: the logged decision it took back. */
  undoes?: Logged;
}

/** Verdict keys: arrows on even steps, digits on odd ones, so both are pressed. */
function keyFor(intent: Intent, shown: Shown, step: number): string {
  const digits = step % 2 === 1;
  if (intent === 'undo') return 'Backspace';
  if (intent === 'skip') return 'Space';
  if (intent === 'tie') return digits ? '3' : 'ArrowDown';
  const left = intent === shown.leftImage;
  return left ? (digits ? '1' : 'ArrowLeft') : digits ? '2' : 'ArrowRight';
}

/** What a key does to the pair on screen, read from the key and the screen alone. */
function meaning(key: string, shown: Shown): Pick<Logged, 'action' | 'verdict'> {
  if (key === 'ArrowLeft' || key === '1') return { action: 'verdict', verdict: shown.leftImage };
  if (key === 'ArrowRight' || key === '2') {
    return { action: 'verdict', verdict: shown.leftImage === 0 ? 1 : 0 };
  }
  if (key === 'ArrowDown' || key === '3') return { action: 'verdict', verdict: 'tie' };
  if (key === 'Space') return { action: 'skip', verdict: null };
  throw new Error(`no meaning for ${key}`);
}

interface Labeled {
  log: Logged[];
  /** The decisions standing at the end (undone ones taken out), by prompt. */
  standing: Map<string, Logged>;
}

/** Plays an annotator's plan with the keys, checking each step on screen. */
async function label(
  studio: Studio,
  plan: Intent[],
  pairs: Map<string, ManifestPair>,
): Promise<Labeled> {
  const log: Logged[] = [];
  // In the order decided: an undo takes back the last.
  const standing: Logged[] = [];
  for (const [step, intent] of plan.entries()) {
    const shown = await readShown(studio, pairs);
    const key = keyFor(intent, shown, step);
    await pressAndWait(studio, key, shown);
    if (intent === 'undo') {
      const undone = standing.pop();
      expect(undone, 'an undo needs a decision to take back').toBeDefined();
      // The undone pair is back on screen, the way round it was decided.
      const back = await readShown(studio, pairs);
      expect({ prompt: back.prompt, leftImage: back.leftImage }).toEqual({
        prompt: undone!.prompt,
        leftImage: undone!.leftImage,
      });
      log.push({
        action: 'undo',
        prompt: undone!.prompt,
        leftImage: null,
        verdict: null,
        undoes: undone,
      });
      continue;
    }
    const entry: Logged = {
      prompt: shown.prompt,
      leftImage: shown.leftImage,
      ...meaning(key, shown),
    };
    expect(entry.action === 'skip' ? 'skip' : entry.verdict, `step ${step}`).toBe(intent);
    const replaced = standing.findIndex((s) => s.prompt === entry.prompt);
    if (replaced !== -1) standing.splice(replaced, 1);
    standing.push(entry);
    log.push(entry);
  }
  return { log, standing: new Map(standing.map((s) => [s.prompt, s])) };
}

/** The standing verdicts (skips are no verdict) of an annotator, by prompt. */
function verdictsOf(labeled: Labeled): Map<string, Verdict> {
  const verdicts = new Map<string, Verdict>();
  for (const [prompt, s] of labeled.standing)
    if (s.action === 'verdict') verdicts.set(prompt, s.verdict!);
  return verdicts;
}

/**
 * Cohen's kappa of two raters over the items both rated, in the categories image 0, tie, image 1:
 * (p_o - p_e) / (1 - p_e), p_o the share of items they agree on, p_e the agreement expected from
 * each rater's own shares of the categories.
 */
function cohenKappa(
  a: Map<string, Verdict>,
  b: Map<string, Verdict>,
): { kappa: number; n: number } {
  const common = [...a.keys()].filter((item) => b.has(item));
  const n = common.length;
  const agreed = common.filter((item) => a.get(item) === b.get(item)).length;
  const share = (rater: Map<string, Verdict>, c: Verdict): number =>
    common.filter((item) => rater.get(item) === c).length / n;
  const po = agreed / n;
  let pe = 0;
  for (const c of CATEGORIES) pe += share(a, c) * share(b, c);
  return { kappa: (po - pe) / (1 - pe), n };
}

/** The final verdict of a pair with these verdicts: a strict plurality, or none. */
function plurality(verdicts: Verdict[]): Verdict | null {
  const counts = CATEGORIES.map((c) => verdicts.filter((v) => v === c).length);
  const top = Math.max(...counts);
  return top > 0 && counts.filter((n) => n === top).length === 1
    ? CATEGORIES[counts.indexOf(top)]!
    : null;
}

const labelsOf = (verdict: Verdict) =>
  verdict === 0
    ? { label_0: 1, label_1: 0 }
    : verdict === 1
      ? { label_0: 0, label_1: 1 }
      : { label_0: 0.5, label_1: 0.5 };

/** A current verdict as a fact about content: who preferred which image (or a tie) for a prompt. */
type Fact = string;
const fact = (prompt: string, annotator: string, better: string): Fact =>
  JSON.stringify([prompt, annotator, better]);

/** Every current verdict a project holds, as facts, read from the file itself (read-only). */
function currentVerdicts(file: string): Fact[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare(
        `SELECT pr.text AS prompt, n.name AS annotator, d.verdict, i0.uid AS uid0, i1.uid AS uid1
         FROM decisions d JOIN annotators n ON n.id = d.annotator_id
         JOIN pairs p ON p.id = d.pair_id JOIN prompts pr ON pr.id = p.prompt_id
         JOIN images i0 ON i0.id = p.image_0_id JOIN images i1 ON i1.id = p.image_1_id
         WHERE d.action = 'verdict'`,
      )
      .all() as {
      prompt: string;
      annotator: string;
      verdict: string;
      uid0: string;
      uid1: string;
    }[];
    return rows
      .map((r) =>
        fact(
          r.prompt,
          r.annotator,
          r.verdict === 'tie' ? 'tie' : r.verdict === '0' ? r.uid0 : r.uid1,
        ),
      )
      .sort();
  } finally {
    db.close();
  }
}

/** `FILE: package of NAME: N new events, M already here`, per file of a merge's report. */
function mergeCounts(report: string, file: string): { added: number; present: number } {
  const line = report.split('\n').find((l) => l.startsWith(`${file}:`));
  const match = /: (\d+) new events, (\d+) already here/.exec(line ?? '');
  expect(match, `the merge reports on ${file}:\n${report}`).not.toBeNull();
  return { added: Number(match![1]), present: Number(match![2]) };
}

/** No write-ahead log left beside a project: everything is in the one file that travels. */
function expectCheckpointed(file: string): void {
  const wal = `${file}-wal`;
  expect(fs.existsSync(wal) ? fs.statSync(wal).size : 0, `${wal} is empty`).toBe(0);
}

test.skip(({ mode }) => mode !== 'browser', 'two served packages in two browsers: browser mode');

test('the team loop: pack, label in two browsers, merge twice, stats, adjudicate, export, re-import', async ({
  studioBrowser,
  viewport,
}) => {
  test.setTimeout(180_000);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pickstudio-e2e-team-loop-'));
  const servers: Serving[] = [];
  try {
    // The lead: a manifest of real images, imported, then one package per annotator.
    const leadDir = path.join(root, 'lead');
    fs.mkdirSync(leadDir);
    const pairs = await writeManifest(leadDir);
    const lead = path.join(leadDir, 'LEAD.pickstudio');
    await pickstudio(['import', lead, path.join(leadDir, 'manifest.jsonl'), '--create']);
    const packages = {} as Record<Annotator, string>;
    for (const name of ANNOTATORS) {
      const made = path.join(leadDir, `${name.toUpperCase()}.pickstudio`);
      const report = await pickstudio(['pack', lead, made, '--annotator', name, '--overlap', '2']);
      // Overlap 2 with two annotators: each package holds every pair.
      expect(report).toContain(`package for ${name}, ${PAIRS} pairs, ${2 * PAIRS} images`);
      // Sent away: the package alone, in a folder of its own.
      expectCheckpointed(made);
      fs.mkdirSync(path.join(root, name));
      packages[name] = path.join(root, name, path.basename(made));
      fs.renameSync(made, packages[name]);
    }
    fs.rmSync(path.join(leadDir, 'images'), { recursive: true });

    // Two annotators at once, each in a browser of their own against their own package's server.
    const labeled = {} as Record<Annotator, Labeled>;
    await Promise.all(
      ANNOTATORS.map(async (name) => {
        const server = await serveUntilCtrlC(packages[name]);
        servers.push(server);
        const opened = await openServedPage(studioBrowser!, server.url, viewport);
        try {
          const { page } = opened.studio;
          // Straight into labeling as the package's annotator: no name to type.
          await expect(opened.studio.view).toHaveAttribute('data-state', 'ready');
          await expect(page.getByTestId('annotator-name')).toHaveCount(0);
          await expect(page.getByTestId('annotator')).toHaveText(name);
          await expect(page.getByTestId('package-badge')).toHaveText(`Package for ${name}`);
          await expect(page.getByTestId('progress')).toHaveAttribute('data-total', String(PAIRS));
          labeled[name] = await label(opened.studio, PLANS[name], pairs);
        } finally {
          await opened.close();
        }
        // Ctrl+C: a clean stop writes everything into the project file.
        expect(await server.stop(), `pickstudio serve ${name}'s exit code`).toBe(0);
        expectCheckpointed(packages[name]);
      }),
    );

    // Each file comes back to the lead on its own (no -wal beside it), and is merged twice.
    const returned = path.join(leadDir, 'returned');
    fs.mkdirSync(returned);
    const back = ANNOTATORS.map((name) => {
      const file = path.join(returned, path.basename(packages[name]));
      fs.copyFileSync(packages[name], file);
      return file;
    });
    const first = await pickstudio(['merge', lead, ...back]);
    const second = await pickstudio(['merge', lead, ...back]);
    for (const [i, name] of ANNOTATORS.entries()) {
      const events = labeled[name].log.length;
      expect(first).toContain(`${back[i]}: package of ${name}:`);
      expect(mergeCounts(first, back[i]!)).toEqual({ added: events, present: 0 });
      expect(mergeCounts(second, back[i]!)).toEqual({ added: 0, present: events });
    }

    // What the test saw, as current verdicts on image 0 / 1 per prompt and annotator.
    const verdicts = {
      ana: verdictsOf(labeled.ana),
      ben: verdictsOf(labeled.ben),
    } satisfies Record<Annotator, Map<string, Verdict>>;
    const expectedFacts = ANNOTATORS.flatMap((name) =>
      [...verdicts[name]].map(([prompt, v]) =>
        fact(prompt, name, v === 'tie' ? 'tie' : pairs.get(prompt)!.uids[v]),
      ),
    ).sort();
    expect(currentVerdicts(lead)).toEqual(expectedFacts);

    // Cohen's kappa between the two, computed here from the decisions made, and by the lead's stats.
    const { kappa, n } = cohenKappa(verdicts.ana, verdicts.ben);
    expect(n).toBeGreaterThanOrEqual(8);
    expect(kappa).toBeGreaterThan(0);
    expect(kappa).toBeLessThan(1);
    const stats = JSON.parse(await pickstudio(['stats', lead, '--json'])) as {
      annotators: {
        name: string;
        pairsDecided: number;
        verdicts: { image0: number; image1: number; tie: number };
        skips: number;
      }[];
      // --json prints Cohen's table one object per pair of annotators.
      audit: { dashboard: { agreement: { cohen: CohenPairResult[] } } };
    };
    for (const name of ANNOTATORS) {
      const mine = [...labeled[name].standing.values()];
      const count = (v: Verdict) =>
        mine.filter((s) => s.action === 'verdict' && s.verdict === v).length;
      expect(stats.annotators.find((a) => a.name === name)).toMatchObject({
        // Pairs with a verdict: a skip decides nothing.
        pairsDecided: verdicts[name].size,
        verdicts: { image0: count(0), image1: count(1), tie: count('tie') },
        skips: mine.filter((s) => s.action === 'skip').length,
      });
    }
    const cohen = stats.audit.dashboard.agreement.cohen.filter(
      (c) => [c.a, c.b].sort().join('/') === 'ana/ben',
    );
    expect(cohen).toHaveLength(1);
    expect(cohen[0]!.commonPairs).toBe(n);
    expect(cohen[0]!.unweighted.value).toBeCloseTo(kappa, 9);

    // The lead settles one disagreement in review, by keyboard, with a note.
    const disagree = [...verdicts.ana.keys()].filter(
      (p) => verdicts.ben.has(p) && verdicts.ben.get(p) !== verdicts.ana.get(p),
    );
    expect(disagree.length).toBeGreaterThan(0);
    const leadServer = await serveUntilCtrlC(lead);
    servers.push(leadServer);
    const desk = await openServedPage(studioBrowser!, leadServer.url, viewport);
    let settled: { prompt: string; verdict: Verdict; from: number; to: number };
    try {
      const { page } = desk.studio;
      await chooseAnnotator(desk.studio, LEAD);
      await page.keyboard.press('g');
      await page.keyboard.press('r');
      await expect(page.getByTestId('audit-view')).toHaveAttribute('data-tab', 'review');
      const review = page.getByTestId('review');
      await expect(review).toHaveAttribute('data-state', 'ready');
      // Review lists exactly the pairs the two split on, as the test recorded them.
      const listed = await call<{ items: Disagreement[] }>(page, 'listDisagreements', {
        kind: 'humans',
      });
      expect(listed.items.map((d) => d.prompt).sort()).toEqual([...disagree].sort());
      for (const item of listed.items) {
        expect(item.verdicts.map((v) => [v.annotator, v.verdict]).sort()).toEqual(
          ANNOTATORS.map((name) => [name, verdicts[name].get(item.prompt)]),
        );
        expect([item.image0Uid, item.image1Uid]).toEqual(pairs.get(item.prompt)!.uids);
      }
      const selected = Number(await review.getAttribute('data-selected-pair-id'));
      const item = listed.items.find((d) => d.pairId === selected)!;
      expect(item, `the selected pair ${selected} is a disagreement`).toBeDefined();
      // A verdict neither annotator gave; image 0 is on the left in review.
      const verdict = CATEGORIES.find((c) => !item.verdicts.some((v) => v.verdict === c))!;
      await page.keyboard.press('n');
      await expect(page.getByTestId('review-note')).toBeFocused();
      await page.keyboard.type(NOTE);
      await page.keyboard.press('Enter');
      await expect(page.getByTestId('review-note')).not.toBeFocused();
      const from = Date.now();
      await page.keyboard.press(
        verdict === 0 ? 'ArrowLeft' : verdict === 1 ? 'ArrowRight' : 'ArrowDown',
      );
      const row = page.locator(`[data-testid=review-row][data-pair-id="${selected}"]`);
      await expect(row).toHaveAttribute('data-adjudicated', String(verdict));
      await expect(row.getByTestId('review-final')).toContainText(`${LEAD} · “${NOTE}”`);
      settled = { prompt: item.prompt, verdict, from, to: Date.now() };
      // Review's keys adjudicate; they label nothing.
      expect(await call<unknown[]>(page, 'getHistory', { annotator: LEAD })).toEqual([]);
    } finally {
      await desk.close();
    }
    expect(await leadServer.stop(), "the lead's pickstudio serve's exit code").toBe(0);
    expectCheckpointed(lead);

    // Both exports carry the adjudication, and the images: the manifest's files are gone, but the
    // merged packages brought their bytes back.
    const out = path.join(leadDir, 'out.parquet');
    const raw = path.join(leadDir, 'raw.parquet');
    await pickstudio(['export', lead, out, '--annotations', raw]);
    const db = await duckdb();
    let exported: Record<string, unknown>[];
    let events: Record<string, unknown>[];
    try {
      exported = plain(
        await db.rows(
          `SELECT caption, image_0_uid, image_1_uid, label_0, label_1, num_annotations,
             verdict_source, adjudicator, adjudicated_at, adjudication_note
           FROM read_parquet('${out}')`,
        ),
      );
      events = plain(await db.rows(`SELECT * FROM read_parquet('${raw}')`));
    } finally {
      db.close();
    }
    // One row per pair with a final verdict: the adjudication, else both annotators' plurality.
    const expectedRows = [...pairs.values()].flatMap(({ prompt, uids }) => {
      const given = ANNOTATORS.flatMap((name) => verdicts[name].get(prompt) ?? []);
      const adjudicated = prompt === settled.prompt;
      const final = adjudicated ? settled.verdict : plurality(given);
      if (final === null) return [];
      return [
        {
          caption: prompt,
          image_0_uid: uids[0],
          image_1_uid: uids[1],
          ...labelsOf(final),
          num_annotations: given.length,
          verdict_source: adjudicated ? 'adjudication' : 'majority',
          adjudicator: adjudicated ? LEAD : null,
          adjudication_note: adjudicated ? NOTE : null,
        },
      ];
    });
    const byCaption = (a: { caption?: unknown }, b: { caption?: unknown }) =>
      String(a.caption).localeCompare(String(b.caption));
    expect(exported.map(({ adjudicated_at: _, ...rest }) => rest).sort(byCaption)).toEqual(
      expectedRows.sort(byCaption),
    );
    const at = exported.find((r) => r.caption === settled.prompt)!.adjudicated_at as Date;
    expect(at).toBeInstanceOf(Date);
    expect(at.getTime()).toBeGreaterThanOrEqual(settled.from - 1000);
    expect(at.getTime()).toBeLessThanOrEqual(settled.to + 1000);
    expect(exported.filter((r) => r.adjudicated_at !== null)).toHaveLength(1);

    // The annotations file: every keypress of each annotator, in order, then the adjudication.
    for (const name of ANNOTATORS) {
      const rows = events
        .filter((e) => e.annotator === name)
        .sort((a, b) => (a.annotation_id as number) - (b.annotation_id as number));
      const { log, standing } = labeled[name];
      expect(rows).toHaveLength(log.length);
      const idOf = new Map<Logged, number>();
      log.forEach((entry, i) => {
        const row = rows[i]!;
        idOf.set(entry, row.annotation_id as number);
        expect(row, `${name}'s event ${i}`).toMatchObject({
          annotator_kind: 'human',
          action: entry.action,
          caption: entry.prompt,
          verdict: entry.verdict === null ? null : String(entry.verdict),
          left_image: entry.leftImage,
          undoes_id: entry.undoes ? idOf.get(entry.undoes)! : null,
          is_current: standing.get(entry.prompt) === entry,
          note: null,
        });
      });
    }
    const adjudications = events.filter((e) => e.action === 'adjudication');
    expect(adjudications).toHaveLength(1);
    expect(adjudications[0]).toMatchObject({
      caption: settled.prompt,
      annotator: LEAD,
      annotator_kind: 'lead',
      verdict: String(settled.verdict),
      ...labelsOf(settled.verdict),
      note: NOTE,
      is_current: true,
      annotation_id: null,
    });
    expect(events).toHaveLength(labeled.ana.log.length + labeled.ben.log.length + 1);

    // The per-annotator export, imported into a fresh project, holds the same current verdicts.
    const per = path.join(leadDir, 'per.parquet');
    await pickstudio(['export', lead, per, '--per-annotator']);
    const fresh = path.join(root, 'fresh', 'FRESH.pickstudio');
    fs.mkdirSync(path.dirname(fresh));
    await pickstudio(['import', fresh, per, '--create']);
    expect(currentVerdicts(fresh)).toEqual(expectedFacts);
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    fs.rmSync(root, { recursive: true, force: true });
  }
});
