import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/electron/**/*.test.ts', 'test/smoke/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // The JSON report feeds the one-line total that `npm test` prints last (scripts/test-summary.mjs).
    reporters: ['default', ['json', { outputFile: '.tmp/test-results/vitest.json' }]],
  },
});
