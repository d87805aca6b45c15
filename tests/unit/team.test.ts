import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { StudioError } from '../../shared/errors';
import {
  afterBulkWrites,
  openTestProject,
  projectDigest,
  SOUND_AFTER_BULK_WRITES,
  sqlite,
  tempDir,
} from '../helpers/project';
import { failure } from '../helpers/errors';
import { decide, decisionsOf, handEdited, labeledPackage, leadProject } from '../helpers/team';

describe('annotator packages and merging them back', () => {
  it('packs with overlap, labels offline, merges once, twice, and a later return', async () => {
    const lead = await leadProject(8);
    const packA = path.join(lead.dir, 'ana.pickstudio');
    const packB = path.join(lead.dir, 'ben.pickstudio');
    const a = await lead.call('makePackage', {
      out: packA,
      annotator: 'ana',
      overlap: 2,
      pairs: 6,
    });
    const b = await lead.call('makePackage', {
      out: packB,
      annotator: 'ben',
      overlap: 2,
      pairs: 6,
    });
    expect([a.pairs, b.pairs, a.images]).toEqual([6, 6, 12]);
    // The least covered first: ben gets the two pairs ana has not, then four of hers.
    const chosen = (file: string) => {
      const opened = openTestProject(file);
      const prompts = sqlite(opened.store)
        .prepare('SELECT text FROM prompts ORDER BY id')
        .pluck()
        .all();
      opened.store.close();
      return prompts;
    };
    expect(chosen(packA)).toEqual([
      'prompt 0',
      'prompt 1',
      'prompt 2',
      'prompt 3',
      'prompt 4',
      'prompt 5',
    ]);
    expect(chosen(packB)).toEqual([
      'prompt 0',
      'prompt 1',
      'prompt 2',
      'prompt 3',
      'prompt 6',
      'prompt 7',
    ]);
    // Pairs 4 to 7 are in one package only: a third annotator gets those, a fourth none.
    const chen = await lead.call('makePackage', {
      out: path.join(lead.dir, 'chen.pickstudio'),
      annotator: 'chen',
      overlap: 2,
    });
    expect(chosen(chen.out)).toEqual(['prompt 4', 'prompt 5', 'prompt 6', 'prompt 7']);
    const none = await failure(
      lead.call('makePackage', {
        out: path.join(lead.dir, 'dan.pickstudio'),
        annotator: 'dan',
        overlap: 2,
      }),
    );
    expect(none.message).toMatch(/no pairs left for "dan": every pair is in 2 packages already/);
    expect(fs.existsSync(path.join(lead.dir, 'dan.pickstudio'))).toBe(false);

    // The packages go to other machines: the lead's image files are not there.
    fs.rmSync(lead.source, { recursive: true });
    const ana = openTestProject(packA);
    expect(await ana.call('getProject', {})).toMatchObject({ role: 'annotator', annotator: 'ana' });
    expect((await failure(ana.call('getAudit', {}))).code).toBe('not_allowed');
    const queue = await ana.call('getQueue', { annotator: 'ana', count: 10 });
    expect(queue.pairs).toHaveLength(6);
    expect(queue.pairs.every((p) => p.image0.available && p.image1.available)).toBe(true);
    const image = await ana.studio.readImage(queue.pairs[0]!.image1.uid);
    expect(image.mime).toBe('image/png');
    const [p0, p1, p2, p3] = queue.pairs.map((p) => p.pairId);
    await decide(ana.call, 'ana', p0!, 0, 1);
    await decide(ana.call, 'ana', p1!, 1);
    await decide(ana.call, 'ana', p2!, 'skip');
    await decide(ana.call, 'ana', p3!, 'tie');
    await ana.call('undoLast', { annotator: 'ana' });
    const ben = openTestProject(packB);
    for (const p of (await ben.call('getQueue', { annotator: 'ben', count: 10 })).pairs) {
      await decide(ben.call, 'ben', p.pairId, p.pairId % 2 === 0 ? 0 : 1);
    }

    const first = await lead.call('merge', { sources: [packA, packB] });
    // The lead's image files are gone; the packages brought their bytes back.
    expect(first.files.map((f) => f.imagesFilled)).toEqual([12, 4]);
    const back = await lead.studio.readImage(queue.pairs[0]!.image1.uid);
    expect(Buffer.from(back.bytes).equals(Buffer.from(image.bytes))).toBe(true);
    expect(
      first.files.map((f) => [f.kind, f.annotators, f.annotationsAdded, f.annotationsPresent]),
    ).toEqual([
      ['package', ['ana'], 5, 0],
      ['package', ['ben'], 6, 0],
    ]);
    const expected = [...decisionsOf(ana.store), ...decisionsOf(ben.store)].sort((x, y) =>
      JSON.stringify(x) < JSON.stringify(y) ? -1 : 1,
    );
    const merged = () =>
      decisionsOf(lead.store).sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1));
    expect(merged()).toEqual(expected);

    // The same files again: nothing new.
    const again = await lead.call('merge', { sources: [packA, packB] });
    expect(again.files.map((f) => [f.annotationsAdded, f.annotationsPresent])).toEqual([
      [0, 5],
      [0, 6],
    ]);
    // A later return of ana's package brings only what is new: an undo and two decisions.
    await ana.call('undoLast', { annotator: 'ana' });
    await decide(ana.call, 'ana', p3!, 0);
    const later = await lead.call('merge', { sources: [packA] });
    expect(later.files[0]).toMatchObject({ annotationsAdded: 2, annotationsPresent: 5 });
    expect(merged()).toEqual(
      [...decisionsOf(ana.store), ...decisionsOf(ben.store)].sort((x, y) =>
        JSON.stringify(x) < JSON.stringify(y) ? -1 : 1,
      ),
    );
    const sources = await lead.call('listMerges', {});
    expect(sources.map((m) => [path.basename(m.file), m.annotators, m.annotationsAdded])).toEqual([
      ['ana.pickstudio', ['ana'], 2],
      ['ben.pickstudio', ['ben'], 0],
      ['ana.pickstudio', ['ana'], 0],
      ['ben.pickstudio', ['ben'], 6],
      ['ana.pickstudio', ['ana'], 5],
    ]);
    // Merges write with foreign keys unchecked (writeInBulk): every reference they wrote, undos'
    // and filled images' included, holds, and the connection checks again after them.
    expect(afterBulkWrites(lead.store)).toEqual(SOUND_AFTER_BULK_WRITES);
    ana.store.close();
    ben.store.close();
    lead.store.close();
  });

  it('matches pairs by content: a project whose pairs show their images the other way round', async () => {
    const lead = await leadProject(3);
    const other = await leadProject(3, { swapped: true, dir: lead.dir });
    // other's image 0 is lead's image 1: its verdict 0 is lead's 1, its left side flips too.
    await decide(other.call, 'dora', 1, 0, 0);
    await decide(other.call, 'dora', 2, 'tie', 1);
    const report = await lead.call('merge', { sources: [other.file] });
    expect(report.files[0]).toMatchObject({
      kind: 'project',
      annotationsAdded: 2,
      annotators: ['dora'],
    });
    expect(decisionsOf(lead.store)).toEqual([
      { prompt: 'prompt 0', annotator: 'dora', action: 'verdict', verdict: '1', leftImage: 1 },
      { prompt: 'prompt 1', annotator: 'dora', action: 'verdict', verdict: 'tie', leftImage: 0 },
    ]);
    other.store.close();
    lead.store.close();
  });

  it('keeps two people of the same name apart, and says so', async () => {
    const lead = await leadProject(4);
    // Two people called ann: the lead names both packages so; each package is its own person.
    const first = path.join(lead.dir, 'ann-a.pickstudio');
    const second = path.join(lead.dir, 'ann-b.pickstudio');
    await lead.call('makePackage', { out: first, annotator: 'ann', pairs: 2 });
    const other = await lead.call('makePackage', { out: second, annotator: 'ann', pairs: 2 });
    // A lead's second package for a name holds none of the first one's pairs.
    expect(other.pairs).toBe(2);
    for (const file of [first, second]) {
      const pkg = openTestProject(file);
      const [pair] = (await pkg.call('getQueue', { annotator: 'ann' })).pairs;
      await decide(pkg.call, 'ann', pair!.pairId, file === first ? 0 : 1);
      pkg.store.close();
    }
    const report = await lead.call('merge', { sources: [first, second] });
    expect(report.files[0]!.renamed).toEqual([]);
    expect(report.files[1]!.renamed).toEqual([
      { from: 'ann', to: expect.stringMatching(/^ann#[0-9a-f]{6}$/) },
    ]);
    const stats = await lead.call('getStats', {});
    expect(stats.annotators.map((s) => [s.name.replace(/#.*/, '#…'), s.verdicts])).toEqual([
      ['ann', { image0: 1, image1: 0, tie: 0 }],
      ['ann#…', { image0: 0, image1: 1, tie: 0 }],
    ]);
    // Merged again, the second ann is still the second: known by their id, not their name.
    const again = await lead.call('merge', { sources: [second] });
    expect(again.files[0]).toMatchObject({ annotationsAdded: 0, renamed: [] });
    lead.store.close();
  });

  it("a package labels as its annotator only, and refuses the lead's methods", async () => {
    const lead = await leadProject(2);
    const file = path.join(lead.dir, 'ana.pickstudio');
    await lead.call('makePackage', { out: file, annotator: 'ana' });
    lead.store.close();
    const pkg = openTestProject(file);
    const before = projectDigest(file);
    const someoneElse = await failure(decide(pkg.call, 'bob', 1, 0));
    expect(someoneElse.code).toBe('not_allowed');
    expect(someoneElse.message).toMatch(/"ana"'s package; "bob" cannot label in it/);
    for (const [method, args] of [
      ['getAudit', {}],
      ['setSettings', { suggestionMode: 'hidden' }],
      ['exportParquet', { out: path.join(lead.dir, 'x.parquet') }],
      ['makePackage', { out: path.join(lead.dir, 'y.pickstudio'), annotator: 'ana' }],
      ['merge', { sources: [lead.file] }],
      ['adjudicate', { pairId: 1, verdict: 0, adjudicator: 'ana' }],
    ] as const) {
      const error = await failure(pkg.dispatch(method, args));
      expect(error.code, method).toBe('not_allowed');
    }
    expect(projectDigest(file)).toBe(before);
    await decide(pkg.call, 'ana', 1, 0);
    pkg.store.close();
  });

  it('merges copies of the project labeled elsewhere: each its own labels, once, apart', async () => {
    const lead = await leadProject(4);
    await decide(lead.call, 'lea', 1, 0);
    sqlite(lead.store).pragma('wal_checkpoint(TRUNCATE)');
    const copyA = path.join(lead.dir, 'copy-a.pickstudio');
    const copyB = path.join(lead.dir, 'copy-b.pickstudio');
    fs.copyFileSync(lead.file, copyA);
    fs.copyFileSync(lead.file, copyB);
    // Both copies write their next events under the ids the lead goes on to use for its own.
    await decide(lead.call, 'lea', 4, 1);
    const a = openTestProject(copyA);
    await decide(a.call, 'ann', 2, 0);
    await decide(a.call, 'ann', 3, 'tie');
    a.store.close();
    const b = openTestProject(copyB);
    await decide(b.call, 'bob', 2, 1);
    await decide(b.call, 'bob', 4, 'skip');
    await decide(b.call, 'lea', 3, 0);
    await b.call('undoLast', { annotator: 'bob' });
    b.store.close();

    const first = await lead.call('merge', { sources: [copyA, copyB] });
    expect(first.files.map((f) => [f.kind, f.annotationsAdded, f.annotationsPresent])).toEqual([
      ['project', 2, 1],
      ['project', 4, 1],
    ]);
    const again = await lead.call('merge', { sources: [copyA, copyB] });
    expect(again.files.map((f) => [f.annotationsAdded, f.annotationsPresent])).toEqual([
      [0, 3],
      [0, 5],
    ]);
    const byPrompt = decisionsOf(lead.store).map((d) => [
      d.prompt,
      d.annotator,
      d.verdict ?? d.action,
    ]);
    expect(byPrompt).toEqual([
      ['prompt 0', 'lea', '0'],
      ['prompt 1', 'ann', '0'],
      ['prompt 1', 'bob', '1'],
      ['prompt 2', 'ann', 'tie'],
      ['prompt 2', 'lea', '0'],
      ['prompt 3', 'lea', '1'],
    ]);
    lead.store.close();
  });

  it('refuses, naming the file, what is not this project’s to merge, and changes nothing', async () => {
    const lead = await leadProject(2);
    const stranger = await leadProject(2, { dir: tempDir() });
    const foreign = path.join(stranger.dir, 'foreign.pickstudio');
    await stranger.call('makePackage', { out: foreign, annotator: 'eve' });
    stranger.store.close();
    const own = path.join(lead.dir, 'own.pickstudio');
    await lead.call('makePackage', { out: own, annotator: 'ana' });
    const truncated = path.join(lead.dir, 'truncated.pickstudio');
    const bytes = fs.readFileSync(own);
    fs.writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    // Damaged where only the merge's reads find it: its project_meta and schema read well.
    const damaged = path.join(lead.dir, 'damaged.pickstudio');
    fs.copyFileSync(own, damaged);
    const pages = openTestProject(damaged);
    const root = sqlite(pages.store)
      .prepare(`SELECT rootpage FROM sqlite_master WHERE name = 'pairs'`)
      .pluck()
      .get() as number;
    const pageSize = sqlite(pages.store).pragma('page_size', { simple: true }) as number;
    pages.store.close();
    const fd = fs.openSync(damaged, 'r+');
    fs.writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, (root - 1) * pageSize);
    fs.closeSync(fd);
    const text = path.join(lead.dir, 'notes.pickstudio');
    fs.writeFileSync(text, 'not a project at all\n'.repeat(100));
    const before = projectDigest(lead.file);
    const cases: [string, RegExp][] = [
      [
        foreign,
        /foreign\.pickstudio: a package made from another project \([0-9a-f]{32}\), not from .*lead\.pickstudio/,
      ],
      [truncated, /truncated\.pickstudio: .*(damaged|malformed|not a Pick Studio project)/],
      [damaged, /damaged\.pickstudio: the project file is damaged/],
      [text, /notes\.pickstudio: .*(not a Pick Studio project|not a database|cannot open)/i],
      [lead.file, /lead\.pickstudio: this is .*lead\.pickstudio itself/],
      [path.join(lead.dir, 'missing.pickstudio'), /missing\.pickstudio: no such file/],
    ];
    for (const [file, message] of cases) {
      const error = await failure(lead.call('merge', { sources: [file] }));
      expect(error).toBeInstanceOf(StudioError);
      expect(error.message).toMatch(message);
      expect(projectDigest(lead.file)).toBe(before);
    }
    // A package's merge is one transaction: after a good file, a bad one keeps the good one's.
    const error = await failure(lead.call('merge', { sources: [own, foreign] }));
    expect(error.message).toMatch(/already merged and kept: own\.pickstudio/);
    lead.store.close();
  });

  it("refuses a file whose undo takes back someone else's decision, or another pair's", async () => {
    const lead = await leadProject(3);
    await decide(lead.call, 'leo', 1, 0);
    // A dataset's label on pair 3, as an import leaves it.
    sqlite(lead.store).exec(`
      INSERT INTO annotators (name, kind, created_at, uid)
        VALUES ('pickapic:7', 'dataset', 0, 'pickapic:7');
      INSERT INTO annotations (pair_id, annotator_id, action, verdict, created_at, ranking_id)
        VALUES (3, (SELECT id FROM annotators WHERE name = 'pickapic:7'), 'verdict', '1', 5, 77)`);
    const own = await labeledPackage(lead, 'own.pickstudio', 'ana', [
      [1, 1],
      [2, 0],
    ]);
    const leadId = sqlite(lead.store)
      .prepare(`SELECT value FROM project_meta WHERE key = 'project_id'`)
      .pluck()
      .get() as string;
    const leo = sqlite(lead.store)
      .prepare(
        `SELECT a.id, a.created_at AS createdAt, n.uid FROM annotations a
         JOIN annotators n ON n.id = a.annotator_id WHERE n.name = 'leo'`,
      )
      .get() as { id: number; createdAt: number; uid: string };
    const datasetLabel = sqlite(lead.store)
      .prepare('SELECT id FROM annotations WHERE ranking_id = 77')
      .pluck()
      .get() as number;
    const crafted = (name: string, sql: string): string =>
      handEdited(
        own,
        path.join(lead.dir, name),
        `INSERT INTO annotators (name, kind, created_at, uid) VALUES ('mal', 'human', 0, 'mal-uid');
         INSERT INTO annotators (name, kind, created_at, uid) VALUES ('leo', 'human', 0, '${leo.uid}');
         ${sql}`,
      );
    const mal = `(SELECT id FROM annotators WHERE name = 'mal')`;
    const anas = `(SELECT id FROM annotations WHERE pair_id = 1)`;
    const cases: [string, string][] = [
      [
        // mal takes back ana's decision, both in the file.
        crafted(
          'undo-ana.pickstudio',
          `INSERT INTO annotations (pair_id, annotator_id, action, undoes_id, created_at)
           VALUES (1, ${mal}, 'undo', ${anas}, 1)`,
        ),
        'undo-ana',
      ],
      [
        // ana's undo of her decision on pair 1, written as an undo on pair 2.
        crafted(
          'undo-stray.pickstudio',
          `INSERT INTO annotations (pair_id, annotator_id, action, undoes_id, created_at)
           VALUES (2, (SELECT annotator_id FROM annotations WHERE pair_id = 1), 'undo', ${anas}, 1)`,
        ),
        'undo-stray',
      ],
      [
        // mal takes back leo's decision in the lead, named in the file by its origin there.
        crafted(
          'undo-leo.pickstudio',
          `INSERT INTO annotations (id, pair_id, annotator_id, action, verdict, created_at, origin,
             origin_id)
           VALUES (900, 1, (SELECT id FROM annotators WHERE name = 'leo'), 'verdict', '0',
             ${leo.createdAt}, '${leadId}', ${leo.id});
           INSERT INTO annotations (pair_id, annotator_id, action, undoes_id, created_at)
           VALUES (1, ${mal}, 'undo', 900, 1)`,
        ),
        'undo-leo',
      ],
      [
        // The dataset's user takes back their own label: no one may, in the app.
        crafted(
          'undo-dataset.pickstudio',
          `INSERT INTO annotators (name, kind, created_at, uid)
             VALUES ('pickapic:7', 'dataset', 0, 'pickapic:7');
           INSERT INTO annotations (id, pair_id, annotator_id, action, verdict, created_at, origin,
             origin_id)
           VALUES (901, 3, (SELECT id FROM annotators WHERE name = 'pickapic:7'), 'verdict', '1',
             5, '${leadId}', ${datasetLabel});
           INSERT INTO annotations (pair_id, annotator_id, action, undoes_id, created_at)
           VALUES (3, (SELECT id FROM annotators WHERE name = 'pickapic:7'), 'undo', 901, 6)`,
        ),
        'undo-dataset',
      ],
    ];
    const before = projectDigest(lead.file);
    for (const [file, name] of cases) {
      const error = await failure(lead.call('merge', { sources: [file] }));
      expect(error.code, name).toBe('bad_input');
      expect(error.message).toMatch(
        new RegExp(`${name}\\.pickstudio: its event \\d+ is an undo Pick Studio would not write`),
      );
      expect(projectDigest(lead.file), name).toBe(before);
    }
    // The package as ana returned it merges.
    const report = await lead.call('merge', { sources: [own] });
    expect(report.files[0]!.annotationsAdded).toBe(2);
    lead.store.close();
  });

  it('refuses a file with an event the schema would refuse, written past its checks', async () => {
    const lead = await leadProject(2);
    const own = await labeledPackage(lead, 'own.pickstudio', 'ana', [[1, 1]]);
    // Past the schema's checks; the file's own triggers would choke on the event, and the merge
    // reads the log alone.
    const crafted = (name: string, values: string): string =>
      handEdited(
        own,
        path.join(lead.dir, `${name}.pickstudio`),
        `PRAGMA ignore_check_constraints = ON;
         DROP TRIGGER decisions_on_decide; DROP TRIGGER decisions_on_undo;
         INSERT INTO annotations (pair_id, annotator_id, action, verdict, undoes_id, left_image,
           suggestion_visible, created_at)
         VALUES (2, (SELECT id FROM annotators WHERE name = 'ana'), ${values}, 9);`,
      );
    const ana = `(SELECT min(id) FROM annotations)`;
    const cases: [string, string][] = [
      ['unknown-action', `'maybe', NULL, NULL, 0, 0`],
      ['unknown-verdict', `'verdict', 'both', NULL, 0, 0`],
      ['verdict-without-one', `'verdict', NULL, NULL, 0, 0`],
      ['skip-with-verdict', `'skip', '0', NULL, 0, 0`],
      ['verdict-naming-target', `'verdict', '0', ${ana}, 0, 0`],
      ['undo-without-target', `'undo', NULL, NULL, NULL, NULL`],
      ['side-two', `'verdict', '1', NULL, 2, 0`],
      ['suggestion-seven', `'verdict', 'tie', NULL, 1, 7`],
    ];
    const before = projectDigest(lead.file);
    for (const [name, values] of cases) {
      const error = await failure(lead.call('merge', { sources: [crafted(name, values)] }));
      expect(error.code, name).toBe('bad_input');
      expect(error.message, name).toMatch(
        new RegExp(`${name}\\.pickstudio: its event \\d+ is not one Pick Studio writes`),
      );
      expect(projectDigest(lead.file), name).toBe(before);
    }
    const report = await lead.call('merge', { sources: [own] });
    expect(report.files[0]!.annotationsAdded).toBe(1);
    expect(afterBulkWrites(lead.store)).toEqual(SOUND_AFTER_BULK_WRITES);
    lead.store.close();
  });

  it('refuses to merge into a read-only project, naming it; nothing changes', async () => {
    const lead = await leadProject(1);
    const own = await labeledPackage(lead, 'own.pickstudio', 'ana', [[1, 0]]);
    const before = projectDigest(lead.file);
    sqlite(lead.store).pragma('query_only = ON');
    const error = await failure(lead.call('merge', { sources: [own] }));
    expect(error.code).toBe('read_only');
    expect(error.message).toMatch(/lead\.pickstudio: merge failed: the project is read-only/);
    sqlite(lead.store).pragma('query_only = OFF');
    expect(projectDigest(lead.file)).toBe(before);
    lead.store.close();
  });

  it('refuses a package it cannot make whole, naming why, and writes nothing', async () => {
    const lead = await leadProject(3);
    const before = projectDigest(lead.file);
    const out = (name: string) => path.join(lead.dir, name);
    fs.writeFileSync(out('taken.pickstudio'), 'something else');
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ out: out('taken.pickstudio'), annotator: 'ana' }, /taken\.pickstudio: already exists/],
      [
        { out: path.join(lead.dir, 'nowhere', 'a.pickstudio'), annotator: 'ana' },
        /the folder .*nowhere does not exist/,
      ],
      [{ out: lead.file, annotator: 'ana' }, /that is the lead's project itself/],
      [{ out: out('a.pickstudio'), annotator: 'pickapic:3' }, /names starting with pickapic:/],
      [{ out: out('a.pickstudio'), annotator: 'ana', pairs: 0 }, /pairs: /],
    ];
    for (const [args, message] of cases) {
      const error = await failure(lead.dispatch('makePackage', args));
      expect(error.message).toMatch(message);
    }
    // An image file the package needs is gone: named, and no package file is left.
    fs.rmSync(path.join(lead.source, '1b.png'));
    const missing = await failure(
      lead.call('makePackage', { out: out('b.pickstudio'), annotator: 'ben' }),
    );
    expect(missing.message).toMatch(/image [0-9a-f]{64}: cannot read .*1b\.png/);
    expect(fs.readdirSync(lead.dir).filter((n) => n.includes('b.pickstudio'))).toEqual([]);
    // A read-only lead: refused before anything is made.
    sqlite(lead.store).pragma('query_only = ON');
    const readOnly = await failure(
      lead.call('makePackage', { out: out('c.pickstudio'), annotator: 'cy' }),
    );
    expect(readOnly.code).toBe('read_only');
    expect(fs.existsSync(out('c.pickstudio'))).toBe(false);
    sqlite(lead.store).pragma('query_only = OFF');
    expect(projectDigest(lead.file)).toBe(before);
    lead.store.close();
  });
});
