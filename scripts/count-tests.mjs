// Reads vitest's JSON reports (one or more files) and prints one line CI can count: "N passed, N failed".
// Skipped and todo tests prove nothing, so they count as failed.
import { readFileSync } from "node:fs";

const files = process.argv.length > 2 ? process.argv.slice(2) : [".test-results/vitest.json"];
let passed = 0;
let failed = 0;
const notRun = [];
for (const file of files) {
  let report;
  try {
    report = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    failed++;
    console.error(`No test report at ${file}: ${err.message}`);
    continue;
  }
  for (const suite of report.testResults ?? []) {
    // A file that failed to load has no assertions but is a failure.
    if (suite.status === "failed" && (suite.assertionResults ?? []).length === 0) failed++;
    for (const test of suite.assertionResults ?? []) {
      if (test.status === "passed") passed++;
      else {
        failed++;
        if (test.status !== "failed") notRun.push(`${test.status}: ${test.fullName}`);
      }
    }
  }
}
if (notRun.length > 0) console.error(`Not run (counted as failed):\n  ${notRun.join("\n  ")}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
