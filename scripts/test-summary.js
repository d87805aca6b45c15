// Prints one line, "N passed, N failed, N skipped", from the test runners' JSON reports, so CI
// reads a count and not a runner's own summary. A run that executed no test shows 0 passed.
import fs from 'node:fs';

const reports = [
  { runner: 'vitest', file: 'reports/vitest.json' },
  { runner: 'playwright', file: 'reports/playwright.json' },
];
let passed = 0;
let failed = 0;
let skipped = 0;
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
    skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
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
    skipped += stats.skipped ?? 0;
    for (const error of report.errors ?? []) {
      failed += 1;
      console.log(`playwright: ${error.message?.split('\n')[0] ?? 'error outside a test'}`);
    }
  }
}

if (missing.length > 0) console.log(`no report from: ${missing.join(', ')}`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exitCode = failed > 0 || missing.length > 0 || passed === 0 ? 1 : 0;
