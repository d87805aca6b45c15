/**
 * CI's closing line (scripts/test-summary.js), from runner reports shaped as vitest's and
 * Playwright's JSON reporters write them: passes, failures, and skips counted apart by reason.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/project';

const SCRIPT = path.resolve('scripts/test-summary.js');
const NO_BINARY =
  'Electron binary not installed: Electron failed to install correctly, please delete node_modules/electron and try installing again';

type Annotation = { type: string; description?: string };

/** One Playwright test entry: its project, outcome and skip annotations (on the test or a result). */
function pwTest(
  projectName: string,
  status: 'expected' | 'unexpected' | 'flaky' | 'skipped',
  annotations: Annotation[] = [],
  on: 'test' | 'result' = 'test',
) {
  return {
    projectName,
    status,
    annotations: on === 'test' ? annotations : [],
    results: [
      {
        status: status === 'skipped' ? 'skipped' : 'passed',
        annotations: on === 'result' ? annotations : [],
      },
    ],
  };
}

/** Runs the script in a folder holding these reports; returns its lines and exit code. */
function summarize(reports: { vitest?: unknown; playwright?: unknown }) {
  const dir = tempDir('pickstudio-summary-');
  try {
    fs.mkdirSync(path.join(dir, 'reports'));
    for (const [name, report] of Object.entries(reports)) {
      fs.writeFileSync(path.join(dir, 'reports', `${name}.json`), JSON.stringify(report));
    }
    const run = spawnSync(process.execPath, [SCRIPT], { cwd: dir, encoding: 'utf8' });
    return { lines: run.stdout.trim().split('\n'), code: run.status, stderr: run.stderr };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const vitest = {
  numPassedTests: 40,
  numFailedTests: 0,
  numPendingTests: 2,
  numTodoTests: 0,
  testResults: [{ status: 'passed', assertionResults: [] }],
};

describe("CI's closing line", () => {
  it('counts skips for a missing Electron binary apart from tests that do not apply here', () => {
    const notBrowser = {
      type: 'skip',
      description: 'browser mode is checked in the browser project',
    };
    const playwright = {
      stats: { expected: 3, unexpected: 0, flaky: 1, skipped: 6 },
      errors: [],
      suites: [
        {
          title: 'security.spec.ts',
          specs: [
            {
              title: 'the page runs no injected inline script',
              tests: [
                pwTest('browser', 'expected'),
                // A browser-mode test in the electron project: it does not apply there, with a
                // binary or without.
                pwTest('electron', 'skipped', [notBrowser]),
              ],
            },
          ],
          suites: [
            {
              title: 'Electron',
              specs: [
                {
                  title: 'the window is sandboxed',
                  tests: [
                    pwTest('browser', 'skipped', [
                      {
                        type: 'skip',
                        description: 'the Electron app is checked in the electron project',
                      },
                    ]),
                    pwTest('electron', 'skipped', [{ type: 'skip', description: NO_BINARY }]),
                  ],
                },
                {
                  title: 'new windows are refused',
                  tests: [
                    pwTest('browser', 'expected'),
                    // Annotations on the result only, as an older report keeps them.
                    pwTest(
                      'electron',
                      'skipped',
                      [{ type: 'skip', description: NO_BINARY }],
                      'result',
                    ),
                  ],
                },
              ],
            },
          ],
        },
        {
          title: 'labeling.spec.ts',
          specs: [
            {
              title: 'labels a pair',
              tests: [
                pwTest('browser', 'flaky'),
                pwTest('electron', 'skipped', [{ type: 'skip', description: NO_BINARY }]),
              ],
            },
            {
              title: 'an old test',
              tests: [pwTest('browser', 'expected'), pwTest('electron', 'skipped', [notBrowser])],
            },
          ],
        },
      ],
    };
    const { lines, code } = summarize({ vitest, playwright });
    expect(lines.at(-1)).toBe(
      '44 passed, 0 failed, 3 skipped (no Electron binary), 5 skipped (not applicable here)',
    );
    expect(code).toBe(0);
  });

  it('still starts with passed and failed, and fails the run on a failure or a missing report', () => {
    const playwright = {
      stats: { expected: 1, unexpected: 1, flaky: 0, skipped: 0 },
      errors: [{ message: 'Error: tests/e2e/x.spec.ts: no such fixture\n  at …' }],
      suites: [],
    };
    const failing = summarize({ vitest: { ...vitest, numFailedTests: 1 }, playwright });
    expect(failing.lines).toEqual([
      'playwright: Error: tests/e2e/x.spec.ts: no such fixture',
      '41 passed, 3 failed, 0 skipped (no Electron binary), 2 skipped (not applicable here)',
    ]);
    expect(failing.code).toBe(1);

    const missing = summarize({ vitest });
    expect(missing.lines).toEqual([
      'no report from: playwright (reports/playwright.json)',
      '40 passed, 0 failed, 0 skipped (no Electron binary), 2 skipped (not applicable here)',
    ]);
    expect(missing.code).toBe(1);
  });
});
