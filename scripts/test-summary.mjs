// Prints one closing line for the whole `npm test` run from the runners' JSON reports:
// "tests: N passed, N failed, N skipped" (unit + integration + Electron-wiring tests by Vitest, the
// cluster's kill tests by a second Vitest run,
// browser and Electron tests by Playwright). Exits non-zero when a report is missing or a test failed.
import { readFileSync } from 'node:fs';

const read = (file) => {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    console.error(`test-summary: cannot read ${file}: ${e.message}`);
    process.exit(1);
  }
};

const unit = read('.tmp/test-results/vitest.json');
// The NATS cluster's kill tests run apart (vitest.cluster.config.ts); their report counts the same.
const cluster = read('.tmp/test-results/vitest-cluster.json');
const v = Object.fromEntries(['numPassedTests', 'numFailedTests', 'numPendingTests', 'numTodoTests'].map((k) => [k, unit[k] + cluster[k]]));
const p = read('.tmp/test-results/playwright.json');
const passed = v.numPassedTests + p.stats.expected + p.stats.flaky;
const failed = v.numFailedTests + p.stats.unexpected;
const skipped = v.numPendingTests + v.numTodoTests + p.stats.skipped;
console.log(`vitest: ${v.numPassedTests} passed, ${v.numFailedTests} failed, ${v.numPendingTests + v.numTodoTests} skipped`);
console.log(`playwright: ${p.stats.expected + p.stats.flaky} passed, ${p.stats.unexpected} failed, ${p.stats.skipped} skipped`);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
