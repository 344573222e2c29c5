import { defineConfig } from 'vitest/config';
import { postgresProblem } from './test/support/postgres.ts';

/**
 * Two projects: everything on SQLite, and the server suite again on PostgreSQL (one suite,
 * two stores). The PostgreSQL project runs only when a server answers at
 * ZTNA_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres); otherwise the
 * run says so loudly instead of skipping in silence.
 */
const PG_URL = process.env.ZTNA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export default defineConfig(async () => {
  const problem = await postgresProblem(PG_URL);
  if (problem) {
    process.stderr.write(
      `\n*** PostgreSQL suite SKIPPED: cannot use ${PG_URL.replace(/\/\/[^@/]*@/, '//…@')} (${problem}).\n` +
        '*** Start PostgreSQL (see README, "Tests and PostgreSQL") or point ZTNA_TEST_PG_URL at one.\n\n',
    );
  }
  const shared = {
    testTimeout: 20_000,
    // Most of the slow files wait (real processes, sleeps of the fault-tolerance and crash
    // tests, a browser), so two files at a time finish sooner even on a 2-core machine;
    // vitest's default (cores - 1) ran them one by one there.
    maxWorkers: 2,
    // Dates in logs without a zone are parsed in local time; fix it so fixture ages are stable.
    env: { TZ: 'UTC' },
  };
  return {
    test: {
      ...shared,
      reporters: ['default', './test/support/summary-reporter.ts'],
      globalSetup: ['./test/support/build-once.ts'],
      projects: [
        { extends: true, test: { name: 'sqlite', include: ['test/**/*.test.ts'] } },
        ...(problem
          ? []
          : [
              {
                extends: true,
                test: {
                  name: 'postgres',
                  include: ['test/server/**/*.test.ts'],
                  exclude: ['test/server/process.test.ts', 'test/server/keys-command.test.ts'],
                  env: { TZ: 'UTC', ZTNA_TEST_ENGINE: 'postgres', ZTNA_TEST_PG_URL: PG_URL },
                },
              },
            ]),
      ],
    },
  };
});
