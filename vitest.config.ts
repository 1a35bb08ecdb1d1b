import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The NATS cluster's tests need the machine to themselves: run apart, after the rest
 * (vitest.cluster.config.ts): the kill tests, and hub-flows' NATS variant (CALLPOP_CLUSTER_RUN=1).
 */
export const clusterKillTests = 'test/integration/hub-nats-cluster.test.ts';
export const clusterFlowTests = 'test/integration/hub-flows.test.ts';

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
