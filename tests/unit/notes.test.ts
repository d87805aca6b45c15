import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_GUIDELINES_BYTES } from '../../shared/api';
import { runPickstudio } from '../helpers/cli';
import { duckdb } from '../helpers/duckdb';
import { failure } from '../helpers/errors';
import { openTestProject, sqlite } from '../helpers/project';
import { decide, leadProject } from '../helpers/team';

const GUIDE =
  '# How to judge\n\nPrefer the image that **follows the prompt**.\n\n- colour\n- count\n';

/** Every flag of a project, by prompt and annotator name. */
function flagsOf(store: Parameters<typeof sqlite>[0]) {
  return sqlite(store)
    .prepare<[], { prompt: string; annotator: string; note: string }>(
      `SELECT pr.text AS prompt, n.name AS annotator, f.note FROM flags f
       JOIN pairs p ON p.id = f.pair_id JOIN prompts pr ON pr.id = p.prompt_id
       JOIN annotators n ON n.id = f.annotator_id ORDER BY pr.text, n.name`,
    )
    .all();
}

describe('guidelines', () => {
  it('are set, read, replaced and removed; events tell open views', async () => {
    const lead = await leadProject(1);
    expect(await lead.call('getGuidelines', {})).toBeNull();
    const set = await lead.call('setGuidelines', { text: GUIDE });
    expect(set).toMatchObject({ text: GUIDE });
    expect(await lead.call('getGuidelines', {})).toEqual(set);
    await lead.call('setGuidelines', { text: '# v2' });
    expect((await lead.call('getGuidelines', {}))?.text).toBe('# v2');
    expect(await lead.call('setGuidelines', { text: '  \n' })).toBeNull();
    expect(await lead.call('getGuidelines', {})).toBeNull();
    lead.studio.close();
  });

  it('refuse more than 100 kB with the size, and change nothing', async () => {
    const lead = await leadProject(1);
    await lead.call('setGuidelines', { text: GUIDE });
    // 'é' is two bytes of UTF-8: under the limit in characters, over it in bytes.
    const tooBig = 'é'.repeat(MAX_GUIDELINES_BYTES / 2 + 1);
    const error = await failure(lead.call('setGuidelines', { text: tooBig }));
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toContain('100,002 bytes: at most 100,000 (100 kB)');
    expect((await lead.call('getGuidelines', {}))?.text).toBe(GUIDE);
    const fits = 'x'.repeat(MAX_GUIDELINES_BYTES);
    expect((await lead.call('setGuidelines', { text: fits }))?.text).toBe(fits);
    lead.studio.close();
  });

  it('travel in a package, which shows them and refuses to change them', async () => {
    const lead = await leadProject(2);
    await lead.call('setGuidelines', { text: GUIDE });
    const pack = path.join(lead.dir, 'ana.pickstudio');
    await lead.call('makePackage', { out: pack, annotator: 'ana' });
    lead.studio.close();
    const pkg = openTestProject(pack);
    expect((await pkg.call('getGuidelines', {}))?.text).toBe(GUIDE);
    const refused = await failure(pkg.call('setGuidelines', { text: '# mine' }));
    expect(refused.code).toBe('not_allowed');
    expect(refused.message).toContain("an annotator's package, which labels only");
    expect((await pkg.call('getGuidelines', {}))?.text).toBe(GUIDE);
    pkg.studio.close();
  });

  it('pickstudio guidelines sets them from a file, prints them and clears them', async () => {
    const lead = await leadProject(1);
    lead.studio.close();
    const md = path.join(lead.dir, 'guide.md');
    fs.writeFileSync(md, GUIDE.replaceAll('\n', '\r\n'));
    const none = await runPickstudio(['guidelines', lead.file]);
    expect([none.code, none.stdout]).toEqual([0, '']);
    expect(none.stderr).toContain(`has no guidelines; set them with 'pickstudio guidelines`);
    const set = await runPickstudio(['guidelines', lead.file, md]);
    expect(set.code).toBe(0);
    expect(set.stdout).toContain(`guidelines set from ${md}`);
    const shown = await runPickstudio(['guidelines', lead.file]);
    expect([shown.code, shown.stdout]).toEqual([0, GUIDE]);

    const missing = await runPickstudio(['guidelines', lead.file, path.join(lead.dir, 'no.md')]);
    expect([missing.code, missing.stderr.trim()]).toEqual([
      1,
      `pickstudio: ${path.join(lead.dir, 'no.md')}: no such file`,
    ]);
    const big = path.join(lead.dir, 'big.md');
    fs.writeFileSync(big, 'x'.repeat(MAX_GUIDELINES_BYTES + 1));
    const tooBig = await runPickstudio(['guidelines', lead.file, big]);
    expect(tooBig.code).toBe(1);
    expect(tooBig.stderr).toContain(`${big}: 100,001 bytes; guidelines hold at most 100,000`);
    const latin1 = path.join(lead.dir, 'latin1.md');
    fs.writeFileSync(latin1, Buffer.from([0x63, 0x61, 0x66, 0xe9]));
    const notUtf8 = await runPickstudio(['guidelines', lead.file, latin1]);
    expect([notUtf8.code, notUtf8.stderr.trim()]).toEqual([
      1,
      `pickstudio: ${latin1}: not UTF-8 text; save it as UTF-8 Markdown`,
    ]);
    const both = await runPickstudio(['guidelines', lead.file, md, '--clear']);
    expect(both.code).toBe(2);
    expect((await runPickstudio(['guidelines', lead.file])).stdout).toBe(GUIDE);

    const cleared = await runPickstudio(['guidelines', lead.file, '--clear']);
    expect([cleared.code, cleared.stdout.trim()]).toEqual([0, `${lead.file}: guidelines removed`]);
    expect((await runPickstudio(['guidelines', lead.file])).stdout).toBe('');
    const help = await runPickstudio(['--help']);
    expect(help.stdout).toContain('guidelines PROJECT [FILE.md | --clear]');
  });
});

describe('flags', () => {
  it('flag, edit, clear; the pair carries the note, and nothing is decided', async () => {
    const lead = await leadProject(2);
    const [first] = (await lead.call('getQueue', { annotator: 'ana', count: 2 })).pairs;
    expect(first!.flag).toBeNull();
    await lead.call('flagPair', { annotator: 'ana', pairId: first!.pairId, note: 'broken image' });
    await lead.call('flagPair', { annotator: 'ana', pairId: first!.pairId, note: ' offensive ' });
    const pair = await lead.call('getPair', { annotator: 'ana', pairId: first!.pairId });
    expect([pair.flag, pair.decision]).toEqual(['offensive', null]);
    // Flagging decides nothing: the pair is still in the queue, flag and all.
    const queue = await lead.call('getQueue', { annotator: 'ana', count: 2 });
    expect(queue.pairs.map((p) => [p.pairId, p.flag])).toEqual([
      [first!.pairId, 'offensive'],
      [first!.pairId + 1, null],
    ]);
    expect(queue.progress.decided).toBe(0);
    // Another annotator's view of the pair has no flag.
    expect((await lead.call('getPair', { annotator: 'ben', pairId: first!.pairId })).flag).toBe(
      null,
    );
    expect(await lead.call('clearFlag', { annotator: 'ana', pairId: first!.pairId })).toEqual({
      cleared: true,
    });
    expect(await lead.call('clearFlag', { annotator: 'ana', pairId: first!.pairId })).toEqual({
      cleared: false,
    });
    expect((await lead.call('getPair', { annotator: 'ana', pairId: first!.pairId })).flag).toBe(
      null,
    );
    for (const note of ['', 'two\nlines', 'x'.repeat(501)]) {
      const refused = await failure(
        lead.call('flagPair', { annotator: 'ana', pairId: first!.pairId, note }),
      );
      expect(refused.code).toBe('invalid_argument');
    }
    const noPair = await failure(
      lead.call('flagPair', { annotator: 'ana', pairId: 99, note: 'x' }),
    );
    expect(noPair.code).toBe('not_found');
    lead.studio.close();
  });

  it("come back from a package once, the later note winning; only the package's annotator flags", async () => {
    const lead = await leadProject(3);
    const pack = path.join(lead.dir, 'ana.pickstudio');
    await lead.call('makePackage', { out: pack, annotator: 'ana' });
    const pkg = openTestProject(pack);
    const refused = await failure(
      pkg.call('flagPair', { annotator: 'ben', pairId: 1, note: 'offensive' }),
    );
    expect(refused.code).toBe('not_allowed');
    // ana flags pair 1 and decides it; pair 2 is flagged only: she comes along all the same.
    await pkg.call('flagPair', { annotator: 'ana', pairId: 1, note: 'prompt unclear' });
    await decide(pkg.call, 'ana', 1, 0);
    await pkg.call('flagPair', { annotator: 'ana', pairId: 2, note: 'broken image' });
    pkg.studio.close();

    const merged = await lead.call('merge', { sources: [pack] });
    expect(merged.files[0]).toMatchObject({ annotators: ['ana'], flagsMerged: 2 });
    expect(flagsOf(lead.store)).toEqual([
      { prompt: 'prompt 0', annotator: 'ana', note: 'prompt unclear' },
      { prompt: 'prompt 1', annotator: 'ana', note: 'broken image' },
    ]);
    const again = await lead.call('merge', { sources: [pack] });
    expect(again.files[0]).toMatchObject({ annotationsAdded: 0, flagsMerged: 0 });
    expect(flagsOf(lead.store)).toHaveLength(2);

    // A later note there replaces the one here; an older one does not.
    const later = openTestProject(pack);
    await later.call('flagPair', { annotator: 'ana', pairId: 2, note: 'offensive' });
    later.studio.close();
    sqlite(lead.store).prepare('UPDATE flags SET created_at = 1').run();
    expect((await lead.call('merge', { sources: [pack] })).files[0]!.flagsMerged).toBe(2);
    expect(flagsOf(lead.store).map((f) => f.note)).toEqual(['prompt unclear', 'offensive']);
    sqlite(lead.store).prepare(`UPDATE flags SET created_at = 9e15, note = 'newer here'`).run();
    expect((await lead.call('merge', { sources: [pack] })).files[0]!.flagsMerged).toBe(0);
    expect(flagsOf(lead.store).map((f) => f.note)).toEqual(['newer here', 'newer here']);

    // Someone who only flagged comes back too: ben decided nothing in his package.
    const benPack = path.join(lead.dir, 'ben.pickstudio');
    await lead.call('makePackage', { out: benPack, annotator: 'ben', overlap: 2 });
    const ben = openTestProject(benPack);
    await ben.call('flagPair', { annotator: 'ben', pairId: 3, note: 'offensive' });
    ben.studio.close();
    const fromBen = await lead.call('merge', { sources: [benPack] });
    expect(fromBen.files[0]).toMatchObject({ annotators: ['ben'], annotationsAdded: 0 });
    expect(flagsOf(lead.store).at(-1)).toEqual({
      prompt: 'prompt 2',
      annotator: 'ben',
      note: 'offensive',
    });
    lead.studio.close();
  });

  it('are in the per-pair, per-annotator and annotations exports, and an annotation log merges them', async () => {
    const lead = await leadProject(3);
    await decide(lead.call, 'ana', 1, 0);
    await decide(lead.call, 'ben', 1, 0);
    await decide(lead.call, 'ana', 2, 1);
    await lead.call('flagPair', { annotator: 'ben', pairId: 1, note: 'offensive' });
    await lead.call('flagPair', { annotator: 'ana', pairId: 1, note: 'say "hi", ok' });
    await lead.call('flagPair', { annotator: 'ana', pairId: 3, note: 'broken image' });
    const out = path.join(lead.dir, 'pairs.parquet');
    const perAnnotator = path.join(lead.dir, 'per-annotator.parquet');
    const log = path.join(lead.dir, 'log.parquet');
    await lead.call('exportParquet', { out, annotationsOut: log, images: false });
    await lead.call('exportParquet', { out: perAnnotator, perAnnotator: true, images: false });

    const db = await duckdb();
    const pairs = await db.rows(
      `SELECT caption, num_flags, flags, flags::JSON->>'$[0].note' AS first
       FROM '${out}' ORDER BY caption`,
    );
    expect(pairs).toEqual([
      {
        caption: 'prompt 0',
        num_flags: 2n,
        flags: JSON.stringify([
          { annotator: 'ana', note: 'say "hi", ok' },
          { annotator: 'ben', note: 'offensive' },
        ]),
        first: 'say "hi", ok',
      },
      { caption: 'prompt 1', num_flags: 0n, flags: null, first: null },
    ]);
    expect(
      await db.rows(`SELECT caption, annotator, flag_note FROM '${perAnnotator}' ORDER BY ALL`),
    ).toEqual([
      { caption: 'prompt 0', annotator: 'ana', flag_note: 'say "hi", ok' },
      { caption: 'prompt 0', annotator: 'ben', flag_note: 'offensive' },
      { caption: 'prompt 1', annotator: 'ana', flag_note: null },
    ]);
    expect(
      await db.rows(
        `SELECT caption, annotator, note, annotation_id, is_current FROM '${log}'
         WHERE action = 'flag' ORDER BY caption, annotator`,
      ),
    ).toEqual([
      {
        caption: 'prompt 0',
        annotator: 'ana',
        note: 'say "hi", ok',
        annotation_id: null,
        is_current: true,
      },
      {
        caption: 'prompt 0',
        annotator: 'ben',
        note: 'offensive',
        annotation_id: null,
        is_current: true,
      },
      {
        caption: 'prompt 2',
        annotator: 'ana',
        note: 'broken image',
        annotation_id: null,
        is_current: true,
      },
    ]);
    db.close();

    // The annotation log merges into another project with the same pairs, flags included.
    const other = await leadProject(3);
    const merged = await other.call('merge', { sources: [log] });
    expect(merged.files[0]).toMatchObject({ kind: 'annotation log', flagsMerged: 3 });
    expect(flagsOf(other.store)).toEqual(flagsOf(lead.store));
    expect((await other.call('merge', { sources: [log] })).files[0]!.flagsMerged).toBe(0);
    // A project merge brings them too.
    const third = await leadProject(3);
    const fromProject = await third.call('merge', { sources: [lead.file] });
    expect(fromProject.files[0]).toMatchObject({ kind: 'project', flagsMerged: 3 });
    expect(flagsOf(third.store)).toEqual(flagsOf(lead.store));
    third.studio.close();
    // The per-annotator export still imports as a Pick-a-Pic shard, flag_note and all.
    const reimported = openTestProject(path.join(lead.dir, 're.pickstudio'));
    const report = await reimported.call('importSources', { sources: [perAnnotator] });
    expect(report.files[0]).toMatchObject({ rows: 3, annotationsAdded: 3 });
    for (const opened of [lead, other, reimported]) opened.studio.close();
  });
});
