import { defineConfig } from 'vitest/config';

/** The three-node cluster tests: three broker JVMs each, run after everything else and one file at a time. */
const CLUSTER_TESTS = 'test/integration/cluster*.test.ts';
/**
 * diagnose's checks are bounded in time (each run < 10 s, issue 6): they run on their own, after the
 * files that build packages (npm pack, serverless package, esbuild) beside which they missed it in CI.
 */
const TIMED_TESTS = 'test/integration/diagnose.test.ts';

export default defineConfig({
  test: {
    // The default local broker is started once for the whole run (and stopped if this run started it).
    globalSetup: ['test/support/global-setup.ts'],
    // Native clients and broker JVMs: separate processes, at most two at a time on a 2-core machine.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
          include: ['test/**/*.test.ts'],
          exclude: ['**/node_modules/**', CLUSTER_TESTS, TIMED_TESTS],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'timed', include: [TIMED_TESTS], sequence: { groupOrder: 1 } },
      },
      {
        // Alone, after the others: timed checks elsewhere (diagnose's 10 s bound) are not run beside them.
        extends: true,
        test: { name: 'cluster', include: [CLUSTER_TESTS], maxWorkers: 1, sequence: { groupOrder: 2 } },
      },
    ],
  },
});
