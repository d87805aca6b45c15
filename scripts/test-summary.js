// Prints one line, "N passed, N failed, N skipped", from the test runners' JSON reports, so CI
// reads a count and not a runner's own summary. A run that executed no test shows 0 passed.
import fs from 'node:fs';

const reports = [{ runner: 'vitest', file: 'reports/vitest.json' }];
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
  passed += report.numPassedTests ?? 0;
  failed += (report.numFailedTests ?? 0) + (report.numFailedTestSuites ?? 0);
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
}

if (missing.length > 0) console.log(`no report from: ${missing.join(', ')}`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exitCode = failed > 0 || missing.length > 0 || passed === 0 ? 1 : 0;
