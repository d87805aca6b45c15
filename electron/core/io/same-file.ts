import fs from 'node:fs';
import path from 'node:path';
import { StudioError } from '../../../shared/errors';

/** What each file SQLite keeps for a project is, by the suffix it adds to the project's name. */
const SQLITE_FILES: readonly { suffix: string; what: string }[] = [
  { suffix: '', what: ' itself' },
  { suffix: '-wal', what: "'s write-ahead log, which holds its latest saves" },
  { suffix: '-shm', what: "'s shared-memory index, which SQLite keeps while it is open" },
  { suffix: '-journal', what: "'s rollback journal, which SQLite needs after a crash" },
];

/**
 * Whether the paths `a` and `b` name one file, however they are spelt: through a symlinked
 * folder, /proc/self/cwd, `..`, /tmp for /private/tmp, or another case on a folder that ignores
 * case. Existing files are compared by device and inode; a path that does not exist yet by the
 * real path of its folder and its name. Nothing is created.
 */
export function isSameFile(a: string, b: string): boolean {
  const statA = fs.statSync(a, { throwIfNoEntry: false });
  const statB = fs.statSync(b, { throwIfNoEntry: false });
  if (statA && statB) return statA.dev === statB.dev && statA.ino === statB.ino;
  // One exists and the other does not: two names of one file would both resolve.
  if (statA || statB) return false;
  const realA = realPathOfMissing(a);
  const realB = realPathOfMissing(b);
  if (realA === realB) return true;
  const folder = path.dirname(realA);
  return (
    folder === path.dirname(realB) &&
    realA.toLowerCase() === realB.toLowerCase() &&
    folderIgnoresCase(folder)
  );
}

/**
 * Refuses `out`, a file about to be written, when it is `project` or one of the files SQLite
 * keeps beside it: writing it would destroy the project while SQLite goes on using it. `name`
 * says which project it is in the message, e.g. "the project" or "the lead's project".
 */
export function refuseProjectFileAsOutput(out: string, project: string, name: string): void {
  for (const { suffix, what } of SQLITE_FILES) {
    if (isSameFile(out, project + suffix)) {
      throw new StudioError(
        'invalid_argument',
        `${out}: that is ${name}${what} (${project}${suffix}); writing there would destroy ` +
          'the project, so nothing was written. Choose another file name.',
      );
    }
  }
}

/** The real path of a file that does not exist: its folder's real path and its name. */
function realPathOfMissing(file: string): string {
  const resolved = path.resolve(file);
  try {
    return path.join(fs.realpathSync(path.dirname(resolved)), path.basename(resolved));
  } catch {
    // No such folder: nothing can be written there, so no spelling of it matters.
    return resolved;
  }
}

/**
 * Whether `folder`'s file system ignores case (macOS and Windows by default): one of its
 * entries, spelt in the other case, is the same file.
 */
function folderIgnoresCase(folder: string): boolean {
  let entries: fs.Dir;
  try {
    entries = fs.opendirSync(folder);
  } catch {
    // A folder this user may not list (write-only): taken to keep case, as Linux's do.
    return false;
  }
  try {
    for (let entry = entries.readSync(); entry !== null; entry = entries.readSync()) {
      const upper = entry.name.toUpperCase();
      const otherCase = upper === entry.name ? entry.name.toLowerCase() : upper;
      if (otherCase === entry.name) continue;
      return isSameFile(path.join(folder, entry.name), path.join(folder, otherCase));
    }
    return false;
  } finally {
    entries.closeSync();
  }
}
