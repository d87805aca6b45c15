/**
 * Paths and files that are not what they seem, fed to the StudioApi and the pickstudio command:
 * an export or a package aimed at the open project under another spelling (a symlinked folder,
 * /proc/self/cwd, its -wal or -journal), two outputs that are one file, an output named .csv,
 * project files that are empty, truncated, locked by another program or unreadable, and an import
 * into a project that does not exist. Each case checks that the error names the file and the real
 * problem, and that nothing already saved is lost.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { beforeEach, describe, expect, it } from 'vitest';
import { openStudio } from '../../electron/core/studio';
import { isRoot, lastLine, runPickstudio, unprivileged } from '../helpers/cli';
import { duckdb, shardRow, writeShardWithDuckDB, type ShardRow } from '../helpers/duckdb';
import { makeJpeg, openTestProject, projectDigest, tempDir } from '../helpers/project';
import { failure, thrownBy } from '../helpers/errors';

let dir: string;
let project: string;
let shard: string;

const row = async (i: number): Promise<ShardRow> =>
  shardRow(i, { jpg_0: await makeJpeg(i), jpg_1: await makeJpeg(i + 100) });

beforeEach(async () => {
  dir = tempDir();
  project = path.join(dir, 'p.pickstudio');
  shard = path.join(dir, 'good.parquet');
  await writeShardWithDuckDB(shard, [await row(1), await row(2)], { images: true });
  const { call, store } = openTestProject(project);
  await call('importSources', { sources: [shard] });
  store.close();
});

/** The project opens, and holds both pairs with the dataset's verdicts. */
async function expectLabelsKept(file: string): Promise<void> {
  const studio = openStudio(file);
  try {
    const { counts } = await studio.call('getStats', {});
    expect(counts).toMatchObject({ pairs: 2, pairsWithVerdict: 2, annotations: 2 });
  } finally {
    studio.close();
  }
}

/** A folder elsewhere that is a symlink to the project's folder. */
function aliasOfProjectFolder(): string {
  const alias = path.join(tempDir(), 'alias');
  fs.symlinkSync(dir, alias);
  return alias;
}

/** The project and every file SQLite might keep beside it, as names in its folder. */
const literal = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const filesOf = (file: string): string[] =>
  fs.readdirSync(path.dirname(file)).filter((name) => name.startsWith(path.basename(file)));

describe('an output that is the project under another name is refused, and the project kept', () => {
  it('an export to the open project through a symlinked folder, as OUT or as --annotations', async () => {
    const before = projectDigest(project);
    const alias = aliasOfProjectFolder();
    const aliased = path.join(alias, 'p.pickstudio');
    const studio = openStudio(project);
    try {
      for (const [out, annotationsOut] of [
        [aliased, undefined],
        [path.join(dir, 'out.parquet'), aliased],
      ] as const) {
        const error = await failure(studio.call('exportParquet', { out, annotationsOut }));
        expect(error.code).toBe('invalid_argument');
        expect(error.message).toBe(
          `${aliased}: that is the project itself (${project}); ` +
            'writing there would destroy the project, so nothing was written. Choose another file name.',
        );
      }
      // The open project goes on saving into the file it has.
      expect((await studio.call('getStats', {})).counts.pairsWithVerdict).toBe(2);
    } finally {
      studio.close();
    }
    expect(fs.existsSync(path.join(dir, 'out.parquet'))).toBe(false);
    expect(projectDigest(project)).toBe(before);
    await expectLabelsKept(project);
  });

  it("an export to the open project's -wal, and to its -journal (which does not exist)", async () => {
    const before = projectDigest(project);
    const alias = aliasOfProjectFolder();
    const studio = openStudio(project);
    try {
      expect(fs.existsSync(`${project}-wal`)).toBe(true);
      expect(fs.existsSync(`${project}-journal`)).toBe(false);
      for (const [out, what] of [
        [`${project}-wal`, "the project's write-ahead log, which holds its latest saves"],
        [path.join(alias, 'p.pickstudio-journal'), "the project's rollback journal"],
      ] as const) {
        const error = await failure(studio.call('exportParquet', { out }));
        expect(error.message).toMatch(
          new RegExp(`^${literal(out)}: that is ${what}.*writing there would destroy the project`),
        );
      }
    } finally {
      studio.close();
    }
    expect(fs.existsSync(`${project}-journal`)).toBe(false);
    expect(projectDigest(project)).toBe(before);
    await expectLabelsKept(project);
  });

  it('CLI: an export to /proc/self/cwd/p.pickstudio from the project folder', async (context) => {
    if (!fs.existsSync('/proc/self/cwd')) context.skip('no /proc/self/cwd on this system');
    const before = projectDigest(project);
    const bytes = fs.readFileSync(project);
    const result = await runPickstudio(['export', 'p.pickstudio', '/proc/self/cwd/p.pickstudio'], {
      cwd: dir,
    });
    expect(result.code).toBe(1);
    expect(lastLine(result.stderr)).toBe(
      'pickstudio: /proc/self/cwd/p.pickstudio: that is the project itself (p.pickstudio); ' +
        'writing there would destroy the project, so nothing was written. Choose another file name.',
    );
    expect(fs.readFileSync(project).equals(bytes)).toBe(true);
    expect(projectDigest(project)).toBe(before);
    await expectLabelsKept(project);
  });

  it('an export whose --annotations file is its OUT, spelt the same or through a symlink', async () => {
    const alias = aliasOfProjectFolder();
    const out = path.join(dir, 'out.parquet');
    const { call, store } = openTestProject(project);
    try {
      for (const annotationsOut of [out, path.join(alias, 'out.parquet')]) {
        const error = await failure(call('exportParquet', { out, annotationsOut }));
        expect(error.message).toBe(
          `${annotationsOut}: the annotations would be written over the export itself (${out}); give each its own file`,
        );
        expect(fs.existsSync(out)).toBe(false);
      }
      // An earlier export there is compared by what it is, not by how it is spelt.
      await call('exportParquet', { out, images: false });
      const earlier = fs.readFileSync(out);
      const again = await failure(
        call('exportParquet', { out, annotationsOut: path.join(alias, 'out.parquet') }),
      );
      expect(again.message).toMatch(/annotations would be written over the export itself/);
      expect(fs.readFileSync(out).equals(earlier)).toBe(true);
    } finally {
      store.close();
    }
  });

  it("a package (pack OUT) to the lead's project through a symlinked folder, or to its -journal", async () => {
    const before = projectDigest(project);
    const alias = aliasOfProjectFolder();
    const { call, store } = openTestProject(project);
    try {
      for (const [out, what] of [
        [path.join(alias, 'p.pickstudio'), "the lead's project itself"],
        [path.join(alias, 'p.pickstudio-wal'), "the lead's project's write-ahead log"],
        [path.join(alias, 'p.pickstudio-journal'), "the lead's project's rollback journal"],
      ] as const) {
        const error = await failure(call('makePackage', { out, annotator: 'ana' }));
        expect(error.message).toMatch(
          new RegExp(
            `alias/${path.basename(out)}: that is ${what}.*writing there would destroy the project`,
          ),
        );
      }
    } finally {
      store.close();
    }
    expect(filesOf(project)).toEqual(['p.pickstudio']);
    expect(projectDigest(project)).toBe(before);
    await expectLabelsKept(project);
  });
});

describe('an export file named for another format is refused', () => {
  it('OUT or --annotations not named .parquet (any case of it is fine)', async () => {
    const { call, store } = openTestProject(project);
    try {
      const csv = path.join(dir, 'out.csv');
      const raw = path.join(dir, 'raw.txt');
      for (const [args, named] of [
        [{ out: csv }, csv],
        [{ out: path.join(dir, 'out.parquet'), annotationsOut: raw }, raw],
      ] as const) {
        const error = await failure(call('exportParquet', args));
        expect(error.message).toBe(
          `${named}: an export is a Parquet file, and this name says otherwise; name it *.parquet`,
        );
      }
      expect(fs.readdirSync(dir).filter((name) => /^(out|raw)\./.test(name))).toEqual([]);
      await call('exportParquet', { out: path.join(dir, 'OUT.PARQUET'), images: false });
      expect(fs.existsSync(path.join(dir, 'OUT.PARQUET'))).toBe(true);
    } finally {
      store.close();
    }
  });

  it('CLI: export … out.csv exits 1 and writes nothing', async () => {
    const csv = path.join(dir, 'out.csv');
    const result = await runPickstudio(['export', project, csv]);
    expect(result.code).toBe(1);
    expect(lastLine(result.stderr)).toBe(
      `pickstudio: ${csv}: an export is a Parquet file, and this name says otherwise; name it *.parquet`,
    );
    expect(fs.existsSync(csv)).toBe(false);
  });
});

describe('an export path that SQL would misread', () => {
  it('a folder and names with quotes, a backslash and a semicolon export whole, and nothing else is written', async () => {
    const folder = path.join(dir, `it's "quoted"; \\ here`);
    fs.mkdirSync(folder);
    const out = path.join(folder, "o'clock.parquet");
    const annotations = path.join(folder, "log'; DROP TABLE batch; --.parquet");
    const { call, store } = openTestProject(project);
    try {
      const report = await call('exportParquet', { out, annotationsOut: annotations });
      expect(report).toMatchObject({ rows: 2, annotationRows: 2 });
    } finally {
      store.close();
    }
    expect(fs.readdirSync(folder).sort()).toEqual([path.basename(annotations), path.basename(out)]);
    const db = await duckdb();
    try {
      const quoted = (file: string): string => `'${file.replaceAll("'", "''")}'`;
      const [pairs] = await db.rows(
        `SELECT count(*)::INTEGER AS n, count(jpg_0)::INTEGER AS images FROM read_parquet(${quoted(out)})`,
      );
      expect(pairs).toEqual({ n: 2, images: 2 });
      const [log] = await db.rows(
        `SELECT count(*)::INTEGER AS n FROM read_parquet(${quoted(annotations)})`,
      );
      expect(log).toEqual({ n: 2 });
    } finally {
      db.close();
    }
  });
});

describe('a project file that is not what it claims is named for what it is', () => {
  it('an empty (0-byte) file: refused by the read-only stats and by openStudio, and left empty', async () => {
    const empty = path.join(dir, 'empty.pickstudio');
    fs.writeFileSync(empty, '');
    const message = `${empty}: the file is empty (0 bytes), not a Pick Studio project; it was not changed`;
    const stats = await runPickstudio(['stats', empty]);
    expect(stats.code).toBe(1);
    expect(lastLine(stats.stderr)).toBe(`pickstudio: ${message}`);
    for (const create of [false, true]) {
      const error = thrownBy(() => openStudio(empty, { create }));
      expect(error.code).toBe('not_a_project');
      expect(error.message).toBe(message);
    }
    expect(fs.statSync(empty).size).toBe(0);
    expect(filesOf(empty)).toEqual(['empty.pickstudio']);
  });

  it('a truncated project: damaged, not "not a project"; the file is not changed', async () => {
    const bytes = fs.readFileSync(project);
    for (const length of [Math.floor(bytes.length / 2), 10]) {
      const truncated = path.join(dir, `truncated-${length}.pickstudio`);
      fs.writeFileSync(truncated, bytes.subarray(0, length));
      const error = thrownBy(() => openStudio(truncated));
      expect(error.message).toMatch(
        new RegExp(
          `^${literal(truncated)}: the project file is damaged \\(truncated or corrupt\\)`,
        ),
      );
      expect(error.message).not.toMatch(/not a Pick Studio project/);
      const stats = await runPickstudio(['stats', truncated]);
      expect(stats.code).toBe(1);
      expect(lastLine(stats.stderr)).toContain(
        `${truncated}: the project file is damaged (truncated or corrupt)`,
      );
      expect(fs.readFileSync(truncated).equals(bytes.subarray(0, length))).toBe(true);
    }
  });

  it('a project another program holds locked: "locked by another program", then it opens', async () => {
    const before = projectDigest(project);
    const other = new Database(project);
    other.pragma('locking_mode = EXCLUSIVE');
    other.exec('BEGIN EXCLUSIVE');
    let released = false;
    try {
      const stats = runPickstudio(['stats', project]);
      const error = thrownBy(() => openStudio(project));
      const expected = `${project}: cannot open the project: it is locked by another program`;
      expect(error.code).toBe('busy');
      expect(error.message).toContain(expected);
      expect(error.message).not.toMatch(/not a Pick Studio project/);
      const result = await stats;
      expect(result.code).toBe(1);
      expect(lastLine(result.stderr)).toContain(`pickstudio: ${expected}`);
      other.exec('COMMIT');
      other.close();
      released = true;
    } finally {
      if (!released) other.close();
    }
    expect(projectDigest(project)).toBe(before);
    await expectLabelsKept(project);
  }, 60_000);

  it('a project this user may not read: permission denied, not "not a project"', async () => {
    fs.chmodSync(dir, 0o777);
    fs.chmodSync(project, isRoot ? 0o600 : 0o000);
    try {
      const result = await runPickstudio(['stats', project], unprivileged);
      expect(result.code).toBe(1);
      expect(lastLine(result.stderr)).toMatch(
        new RegExp(`^pickstudio: ${literal(project)}: cannot open the project: permission denied`),
      );
    } finally {
      fs.chmodSync(project, 0o644);
      fs.chmodSync(dir, 0o700);
    }
    await expectLabelsKept(project);
  });
});

describe('import makes a project only when asked', () => {
  it('a mistyped project path is refused and nothing is created', async () => {
    const typo = path.join(dir, 'p.pickstudoi');
    const result = await runPickstudio(['import', typo, shard]);
    expect(result.code).toBe(1);
    expect(lastLine(result.stderr)).toBe(
      `pickstudio: ${typo}: no such project file; to make a new project there, add --create`,
    );
    expect(filesOf(typo)).toEqual([]);
  });

  it('--create makes it, and says so', async () => {
    const fresh = path.join(dir, 'fresh.pickstudio');
    const result = await runPickstudio(['import', fresh, shard, '--create']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.split('\n')).toContain(`created new project ${fresh}`);
    await expectLabelsKept(fresh);
    // An existing project is imported into, not announced as new.
    const again = await runPickstudio(['import', fresh, shard, '--create']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).not.toMatch(/created new project/);
  });
});
