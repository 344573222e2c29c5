import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    // Dates in logs without a zone are parsed in local time; fix it so fixture ages are stable.
    env: { TZ: 'UTC' },
    reporters: ['default', './test/support/summary-reporter.ts'],
    globalSetup: ['./test/support/build-once.ts'],
  },
});
