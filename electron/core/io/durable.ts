import fs from 'node:fs';
import path from 'node:path';

/**
 * Puts a finished file under its real name so that it survives a crash or a power cut whole: its
 * bytes are flushed, it is renamed over `out` (replacing an earlier one only now), and the folder,
 * whose entry the rename is, is flushed too.
 */
export function publishDurably(temporary: string, out: string): void {
  const fd = fs.openSync(temporary, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temporary, out);
  const folder = fs.openSync(path.dirname(path.resolve(out)), 'r');
  try {
    fs.fsyncSync(folder);
  } finally {
    fs.closeSync(folder);
  }
}
