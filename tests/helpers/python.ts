import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** The Python of the tools' tests: PICKSTUDIO_PYTHON, else .venv-export's, else python3. */
export const PYTHON =
  process.env.PICKSTUDIO_PYTHON ??
  (fs.existsSync('.venv-export/bin/python') ? path.resolve('.venv-export/bin/python') : 'python3');

/** Why PYTHON cannot run a tool needing `modules` (the first import that fails), or null. */
export function missingImport(modules: readonly string[]): string | null {
  const probe = `
import importlib
for name in ${JSON.stringify(modules)}:
    try:
        importlib.import_module(name)
    except Exception as error:
        print("%s: %s" % (name, str(error).splitlines()[0] if str(error) else type(error).__name__))
        break
`;
  const result = spawnSync(PYTHON, ['-c', probe], { encoding: 'utf8', timeout: 120_000 });
  if (result.error) return `${PYTHON} cannot run (${result.error.message})`;
  if (result.status !== 0) return `${PYTHON} failed: ${result.stderr.trim().split('\n').at(-1)}`;
  const failed = result.stdout.trim();
  return failed ? `${PYTHON} cannot import ${failed}` : null;
}
