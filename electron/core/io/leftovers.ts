import fs from 'node:fs';
import path from 'node:path';

/**
 * Removes the files `<prefix><pid>-<letters, digits, dashes>` in `folder` that processes now gone left behind: an
 * import's scratch file, an export's partial file. A killed process never removes them, and they
 * can be as large as the project or the export. Files of a running process, this one included,
 * are left alone, as is anything this user may not remove.
 */
export function removeLeftoversOfGoneProcesses(folder: string, prefix: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(folder).filter((name) => name.startsWith(prefix));
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/^(\d+)-[\w-]+$/.exec(name.slice(prefix.length))?.[1] ?? 0);
    if (pid > 0 && pid !== process.pid && !processAlive(pid)) {
      try {
        // An export's parts and spill files are a folder.
        fs.rmSync(path.join(folder, name), { recursive: true, force: true });
      } catch {
        // Not ours to remove: it does not stop the work at hand.
      }
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
