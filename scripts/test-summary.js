// Prints one line, "N passed, N failed, N skipped (no Electron binary), N skipped (not applicable
// here)", from the test runners' JSON reports, so CI reads a count and not a runner's own summary.
// A run that executed no test shows 0 passed. Skips are counted apart by their reason: a test that
// would run with the Electron binary installed is not one that does not apply here (another
// mode's test, a tool this machine lacks), and one number for both hides what a run left out.
import fs from 'node:fs';

/** The reason tests/e2e/fixtures.ts (and security.spec.ts) give where the binary is missing. */
const NO_ELECTRON = /Electron binary not installed/;

/**
 * Playwright's skipped tests by reason: the descriptions of their skip (and fixme) annotations,
 * which the JSON report keeps on each test and each of its results.
 */
function playwrightSkips(report) {
  const counts = { noElectron: 0, notApplicable: 0, fixme: 0, seen: 0 };
  const visit = (suite) => {
    for (const spec of suite.specs ?? []) {
      for (const test of spec.tests ?? []) {
        if (test.status !== 'skipped') continue;
        counts.seen += 1;
        const annotations = [
          ...(test.annotations ?? []),
          ...(test.results ?? []).flatMap((result) => result.annotations ?? []),
        ];
        const skips = annotations.filter((a) => a.type === 'skip');
        if (skips.length === 0 && annotations.some((a) => a.type === 'fixme')) counts.fixme += 1;
        else if (skips.some((a) => NO_ELECTRON.test(a.description ?? ''))) counts.noElectron += 1;
        else counts.notApplicable += 1;
      }
    }
    for (const child of suite.suites ?? []) visit(child);
  };
  for (const suite of report.suites ?? []) visit(suite);
  return counts;
}

const reports = [
  { runner: 'vitest', file: 'reports/vitest.json' },
  { runner: 'playwright', file: 'reports/playwright.json' },
];
let passed = 0;
let failed = 0;
const skipped = { noElectron: 0, notApplicable: 0, fixme: 0, todo: 0, unexplained: 0 };
const missing = [];

for (const { runner, file } of reports) {
  if (!fs.existsSync(file)) {
    missing.push(`${runner} (${file})`);
    continue;
  }
  const report = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (runner === 'vitest') {
    passed += report.numPassedTests ?? 0;
    failed += report.numFailedTests ?? 0;
    // Vitest's report keeps no skip reason; its skips (skipIf: no Pillow, no torch, no second
    // network address, root) are all for what this machine lacks, none for Electron.
    skipped.notApplicable += report.numPendingTests ?? 0;
    skipped.todo += report.numTodoTests ?? 0;
    // A test file that fails to load has no failed test to count: count the file.
    for (const file of report.testResults ?? []) {
      const failedTests = (file.assertionResults ?? []).filter((t) => t.status === 'failed');
      if (file.status === 'failed' && failedTests.length === 0) failed += 1;
    }
  } else {
    // Playwright: flaky tests passed on a retry and count as passed.
    const stats = report.stats ?? {};
    passed += (stats.expected ?? 0) + (stats.flaky ?? 0);
    failed += stats.unexpected ?? 0;
    const skips = playwrightSkips(report);
    skipped.noElectron += skips.noElectron;
    skipped.notApplicable += skips.notApplicable;
    skipped.fixme += skips.fixme;
    // Skips in the stats that no test in the report accounts for (a report format changed).
    skipped.unexplained += Math.max(0, (stats.skipped ?? 0) - skips.seen);
    for (const error of report.errors ?? []) {
      failed += 1;
      console.log(`playwright: ${error.message?.split('\n')[0] ?? 'error outside a test'}`);
    }
  }
}

if (missing.length > 0) console.log(`no report from: ${missing.join(', ')}`);
const parts = [
  `${passed} passed`,
  `${failed} failed`,
  `${skipped.noElectron} skipped (no Electron binary)`,
  `${skipped.notApplicable} skipped (not applicable here)`,
];
// Shown only where there are some, so the usual line stays as above.
if (skipped.fixme > 0) parts.push(`${skipped.fixme} skipped (fixme)`);
if (skipped.todo > 0) parts.push(`${skipped.todo} todo`);
if (skipped.unexplained > 0)
  parts.push(`${skipped.unexplained} skipped (reason not in the report)`);
console.log(parts.join(', '));
process.exitCode = failed > 0 || missing.length > 0 || passed === 0 ? 1 : 0;
