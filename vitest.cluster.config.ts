// The 3-node NATS cluster's tests (npm run test:cluster: the kill -9 tests and hub-flows' NATS
// variant), run on their own after the other Vitest files: a node's loss makes NATS elect new stream leaders, which takes seconds more on
// a 2-core machine busy with other test files. Alone, the bounded waits hold with room to spare.
import { defineConfig } from 'vitest/config';
import { clusterFlowTests, clusterKillTests } from './vitest.config';

export default defineConfig({
  test: {
    include: [clusterKillTests, clusterFlowTests],
    // hub-flows.test.ts then runs its NATS cluster variant only.
    env: { CALLPOP_CLUSTER_RUN: '1' },
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One file at a time: two clusters at once would be the load this run is apart from.
    fileParallelism: false,
    // A kill's recovery rests on NATS electing stream leaders, which on a loaded 2-core machine can take
    // minutes after a restarted node rejoins (issue 22's note; bench/cluster.ts's kill matrix). A failure
    // repeated twice more fails the run.
    retry: 2,
    // Its own JSON report, added to the closing total by scripts/test-summary.mjs.
    reporters: ['default', ['json', { outputFile: '.tmp/test-results/vitest-cluster.json' }]],
  },
});
