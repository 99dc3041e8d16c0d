import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The default local broker is started once for the whole run (and stopped if this run started it).
    globalSetup: ['test/support/global-setup.ts'],
    // Native clients and broker JVMs: separate processes, at most two at a time on a 2-core machine.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
