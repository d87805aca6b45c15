/**
 * Durable publishing, seen from the system calls: a file the studio hands over (an export, an
 * annotator package) is flushed (fsync of the file, with every byte written), then renamed under
 * its name, then the folder holding the new entry is flushed. A crash or a power cut after the
 * call returns leaves the whole file under its name; without either fsync the rename may reach
 * the disk before the bytes, or not at all, and no other test would notice.
 *
 * The file descriptors are told apart by inode (fstat), not by the order the product opens them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openTestProject, tempDir } from '../helpers/project';

type Step =
  | { call: 'fsync'; ino: number; directory: boolean; size: number }
  | { call: 'rename'; from: string; to: string };

/** Records every fsyncSync and renameSync the product makes through node:fs while `run` runs. */
async function recordSyscalls(run: () => Promise<unknown>): Promise<Step[]> {
  const steps: Step[] = [];
  const fsync = fs.fsyncSync.bind(fs);
  const rename = fs.renameSync.bind(fs);
  vi.spyOn(fs, 'fsyncSync').mockImplementation((fd) => {
    const stat = fs.fstatSync(fd);
    steps.push({ call: 'fsync', ino: stat.ino, directory: stat.isDirectory(), size: stat.size });
    fsync(fd);
  });
  vi.spyOn(fs, 'renameSync').mockImplementation((from, to) => {
    steps.push({ call: 'rename', from: String(from), to: String(to) });
    rename(from, to);
  });
  try {
    await run();
  } finally {
    vi.restoreAllMocks();
  }
  return steps;
}

/**
 * The file under `out` was flushed whole before it was renamed there, and its folder after: the
 * steps that concern `out` are exactly fsync(file), rename(→ out), fsync(folder), in that order.
 */
function expectPublishedDurably(steps: Step[], out: string): void {
  const file = fs.statSync(out);
  const folder = fs.statSync(path.dirname(out));
  const concerning = steps
    .filter(
      (step) =>
        (step.call === 'fsync' && (step.ino === file.ino || step.ino === folder.ino)) ||
        (step.call === 'rename' && path.resolve(step.to) === path.resolve(out)),
    )
    .map((step) =>
      step.call === 'rename'
        ? `rename to ${path.basename(step.to)}`
        : step.ino === file.ino
          ? `fsync file (${step.size} bytes${step.directory ? ', a directory?' : ''})`
          : `fsync folder${step.directory ? '' : ' (not a directory?)'}`,
    );
  expect(concerning, `${out}: the flushes and the rename that published it`).toEqual([
    `fsync file (${file.size} bytes)`,
    `rename to ${path.basename(out)}`,
    'fsync folder',
  ]);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('publishing a file durably', () => {
  it('an export (and its annotation log) is fsynced whole, renamed, then its folder fsynced', async () => {
    const dir = tempDir();
    const { store, call } = openTestProject(path.join(dir, 'p.pickstudio'));
    try {
      await call('createDemo', { pairs: 6, score: false, annotators: true });
      const exports = path.join(dir, 'exports');
      fs.mkdirSync(exports);
      const out = path.join(exports, 'labels.parquet');
      const annotationsOut = path.join(dir, 'annotations.parquet');
      // Over an earlier export too: replacing one is where a lost rename would do harm.
      fs.writeFileSync(out, 'an earlier export');

      const steps = await recordSyscalls(() =>
        call('exportParquet', { out, annotationsOut, images: false }),
      );
      expectPublishedDurably(steps, out);
      expectPublishedDurably(steps, annotationsOut);

      const perAnnotator = path.join(dir, 'per-annotator.parquet');
      expectPublishedDurably(
        await recordSyscalls(() =>
          call('exportParquet', { out: perAnnotator, images: true, perAnnotator: true }),
        ),
        perAnnotator,
      );
    } finally {
      store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("an annotator's package is fsynced whole, renamed, then its folder fsynced", async () => {
    const dir = tempDir();
    const { store, call } = openTestProject(path.join(dir, 'p.pickstudio'));
    try {
      await call('createDemo', { pairs: 4, score: false, annotators: false });
      const out = path.join(dir, 'ana.pickstudio');
      const steps = await recordSyscalls(() => call('makePackage', { out, annotator: 'ana' }));
      expectPublishedDurably(steps, out);
    } finally {
      store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
