import { configDefaults, defineConfig } from 'vitest/config';

/** Killing broker nodes needs the machine to itself: run apart, after the rest (vitest.cluster.config.ts). */
export const clusterKillTests = 'test/integration/hub-nats-cluster.test.ts';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/electron/**/*.test.ts', 'test/smoke/**/*.test.ts'],
    exclude: [...configDefaults.exclude, clusterKillTests],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // The JSON report feeds the one-line total that `npm test` prints last (scripts/test-summary.mjs).
    reporters: ['default', ['json', { outputFile: '.tmp/test-results/vitest.json' }]],
  },
});
