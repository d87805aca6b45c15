import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { duckdb } from '../helpers/duckdb';
import { projectDigest, sqlite } from '../helpers/project';
import { failure } from '../helpers/errors';
import { decide, decisionsOf, labeledPackage, leadProject } from '../helpers/team';
import { mergeSources } from '../../electron/core/team/merge';
import type { TaskContext } from '../../electron/core/tasks';

/** The log's rows as DuckDB reads them, changed by `edit`, written back as Parquet to `out`. */
async function rewriteLog(log: string, out: string, edit: string): Promise<void> {
  const db = await duckdb();
  await db.run(`CREATE TABLE log AS SELECT * FROM read_parquet('${log}')`);
  await db.run(edit);
  await db.run(`COPY log TO '${out}' (FORMAT parquet)`);
  db.close();
}

describe('merging an annotation log (export --annotations)', () => {
  it('brings in what another project labeled, once, as merging that project would', async () => {
    const lead = await leadProject(5);
    // Another project over the same images, labeled elsewhere: its pairs show them swapped.
    const other = await leadProject(5, { swapped: true, dir: lead.dir });
    await decide(other.call, 'ola', 1, 0, 1);
    await decide(other.call, 'ola', 2, 'skip');
    await decide(other.call, 'ola', 3, 'tie');
    await decide(other.call, 'ola', 4, 1, 0);
    await other.call('undoLast', { annotator: 'ola' });
    await decide(other.call, 'ola', 4, 0, 1);
    await other.call('adjudicate', { pairId: 1, verdict: 1, adjudicator: 'lea', note: 'seen' });
    const log = path.join(lead.dir, 'ola-annotations.parquet');
    await other.call('exportParquet', {
      out: path.join(lead.dir, 'ola.parquet'),
      annotationsOut: log,
    });

    const report = await lead.call('merge', { sources: [log] });
    expect(report.files[0]).toMatchObject({
      kind: 'annotation log',
      annotators: ['ola'],
      annotationsAdded: 6,
      annotationsPresent: 0,
      annotationsOnUnknownPairs: 0,
      adjudicationsLeftOut: 1,
    });
    // Verdicts and sides come over in the lead's image order (the other project's is swapped).
    expect(decisionsOf(lead.store)).toEqual([
      { prompt: 'prompt 0', annotator: 'ola', action: 'verdict', verdict: '1', leftImage: 0 },
      { prompt: 'prompt 1', annotator: 'ola', action: 'skip', verdict: null, leftImage: 1 },
      { prompt: 'prompt 2', annotator: 'ola', action: 'verdict', verdict: 'tie', leftImage: 1 },
      { prompt: 'prompt 3', annotator: 'ola', action: 'verdict', verdict: '1', leftImage: 0 },
    ]);
    const history = sqlite(lead.store)
      .prepare(
        `SELECT a.action, a.decision_ms AS ms, a.suggestion_visible AS shown, a.created_at AS at
         FROM annotations a ORDER BY a.id`,
      )
      .all();
    const theirs = sqlite(other.store)
      .prepare(
        `SELECT a.action, a.decision_ms AS ms, a.suggestion_visible AS shown, a.created_at AS at
         FROM annotations a ORDER BY a.id`,
      )
      .all();
    expect(history).toEqual(theirs);

    // The log again, and then the project it came from: both are the same events, already here.
    const digest = projectDigest(lead.file);
    const again = await lead.call('merge', { sources: [log] });
    expect(again.files[0]).toMatchObject({ annotationsAdded: 0, annotationsPresent: 6 });
    const project = await lead.call('merge', { sources: [other.file] });
    expect(project.files[0]).toMatchObject({ annotationsAdded: 0, annotationsPresent: 6 });
    expect(decisionsOf(lead.store)).toHaveLength(4);
    expect(projectDigest(lead.file)).not.toBe(digest); // the merges table grew, nothing else
    const merges = await lead.call('listMerges', {});
    expect(merges.map((m) => [m.kind, path.basename(m.file), m.annotationsAdded])).toEqual([
      ['project', 'other.pickstudio', 0],
      ['annotation log', 'ola-annotations.parquet', 0],
      ['annotation log', 'ola-annotations.parquet', 6],
    ]);
    other.store.close();
    lead.store.close();
  });

  it("a lead's log carries a package's events under the package's keys", async () => {
    const lead = await leadProject(3);
    const pack = await labeledPackage(lead, 'ana.pickstudio', 'ana', [
      [1, 0],
      [2, 1],
    ]);
    await lead.call('merge', { sources: [pack] });
    const log = path.join(lead.dir, 'lead-annotations.parquet');
    await lead.call('exportParquet', {
      out: path.join(lead.dir, 'l.parquet'),
      annotationsOut: log,
    });

    // A second lead (another project over the same manifest) takes the lead's log, then the
    // lead's project: the package's events are known by where they were written, not by who
    // passed them on.
    const second = await leadProject(3);
    const fromLog = await second.call('merge', { sources: [log] });
    expect(fromLog.files[0]).toMatchObject({ annotationsAdded: 2, annotators: ['ana'] });
    const fromLead = await second.call('merge', { sources: [lead.file] });
    expect(fromLead.files[0]).toMatchObject({ annotationsAdded: 0, annotationsPresent: 2 });
    expect(decisionsOf(second.store)).toEqual(decisionsOf(lead.store));
    second.store.close();
    lead.store.close();
  });

  it('refuses a log it cannot trust, naming the file, the row and the problem; nothing changes', async () => {
    const lead = await leadProject(3);
    const other = await leadProject(3, { dir: path.join(lead.dir, 'other') });
    await decide(other.call, 'ola', 1, 0);
    await decide(other.call, 'ola', 2, 1);
    await other.call('undoLast', { annotator: 'ola' });
    const log = path.join(lead.dir, 'log.parquet');
    await other.call('exportParquet', {
      out: path.join(lead.dir, 'o.parquet'),
      annotationsOut: log,
    });
    other.store.close();
    const variant = (name: string) => path.join(lead.dir, name);
    await rewriteLog(log, variant('old.parquet'), 'ALTER TABLE log DROP COLUMN annotator_uid');
    await rewriteLog(log, variant('pairs.parquet'), 'ALTER TABLE log DROP COLUMN caption');
    await rewriteLog(log, variant('verdict.parquet'), "UPDATE log SET verdict = 'left'");
    await rewriteLog(
      log,
      variant('undo.parquet'),
      "UPDATE log SET undoes_id = 999 WHERE action = 'undo'",
    );
    await rewriteLog(
      log,
      variant('pair.parquet'),
      "UPDATE log SET caption = 'another prompt' WHERE annotation_id = 3",
    );
    await rewriteLog(log, variant('order.parquet'), 'UPDATE log SET annotation_id = 1');
    // ola's undo said to be mallory's: it would take back ola's decision.
    await rewriteLog(
      log,
      variant('foreign.parquet'),
      "UPDATE log SET annotator = 'mallory', annotator_uid = 'mallory-uid' WHERE action = 'undo'",
    );
    const truncated = variant('truncated.parquet');
    const bytes = fs.readFileSync(log);
    fs.writeFileSync(truncated, bytes.subarray(0, bytes.length - 100));
    const cases: [string, RegExp][] = [
      [
        variant('old.parquet'),
        /old\.parquet: an annotation log written by an earlier .*annotator_uid.*Export it again/,
      ],
      [
        variant('pairs.parquet'),
        /pairs\.parquet: not a Pick Studio project nor an annotation log.*missing column caption/,
      ],
      [variant('verdict.parquet'), /verdict\.parquet row 1: action verdict with verdict left/],
      [
        variant('undo.parquet'),
        /undo\.parquet row 3: undoes annotation 999, which is not earlier in the file/,
      ],
      [variant('pair.parquet'), /pair\.parquet row 3: pair_id 2 names another pair/],
      [variant('order.parquet'), /order\.parquet row 2: annotation_id 1 after 1/],
      [
        variant('foreign.parquet'),
        /foreign\.parquet: its event 3 is an undo Pick Studio would not write: of another annotator's decision/,
      ],
      [truncated, /truncated\.parquet: not a readable Parquet file/],
    ];
    const before = projectDigest(lead.file);
    for (const [file, message] of cases) {
      const error = await failure(lead.call('merge', { sources: [file] }));
      expect(error.code, file).toBe('bad_input');
      expect(error.message).toMatch(message);
      expect(projectDigest(lead.file)).toBe(before);
    }
    lead.store.close();
  });

  it("counts files in its progress, and a log's rows in the detail", async () => {
    const lead = await leadProject(3);
    const other = await leadProject(3, { swapped: true, dir: lead.dir });
    await decide(other.call, 'ola', 1, 0, 1);
    const log = path.join(lead.dir, 'ola-annotations.parquet');
    await other.call('exportParquet', {
      out: path.join(lead.dir, 'o.parquet'),
      annotationsOut: log,
    });

    const seen: { done: number; total: number | null; detail?: string }[] = [];
    const context: TaskContext = {
      signal: new AbortController().signal,
      throwIfCancelled: () => {},
      progress: (done, total, detail) => seen.push({ done, total, detail }),
    };
    await mergeSources(lead.store, [other.file, log], context);
    expect(seen.every((p) => p.total === 2 && p.done <= 2)).toBe(true);
    expect(seen.map((p) => p.done)).toEqual([...seen.map((p) => p.done)].sort());
    expect(seen).toContainEqual({
      done: 1,
      total: 2,
      detail: 'ola-annotations.parquet: 1 of 1 rows read',
    });
    other.store.close();
    lead.store.close();
  });
});
