import { defineConfig } from 'vitest/config';

/**
 * Two projects: everything on SQLite, and the server suite again on PostgreSQL (one suite,
 * two stores). The PostgreSQL project runs only when a server answers at
 * ZTNA_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres); otherwise the
 * run says so loudly instead of skipping in silence.
 */
const PG_URL = process.env.ZTNA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function postgresReachable(): Promise<string | null> {
  const pg = await import('pg');
  const client = new pg.default.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export default defineConfig(async () => {
  const problem = process.env.ZTNA_TEST_SKIP_POSTGRES === '1' ? 'ZTNA_TEST_SKIP_POSTGRES=1' : await postgresReachable();
  if (problem) {
    process.stderr.write(
      `\n*** PostgreSQL suite SKIPPED: cannot use ${PG_URL.replace(/\/\/[^@/]*@/, '//…@')} (${problem}).\n` +
        '*** Start PostgreSQL (see README, "Tests and PostgreSQL") or point ZTNA_TEST_PG_URL at one.\n\n',
    );
  }
  const shared = {
    testTimeout: 20_000,
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
                  exclude: ['test/server/process.test.ts'],
                  env: { TZ: 'UTC', ZTNA_TEST_ENGINE: 'postgres', ZTNA_TEST_PG_URL: PG_URL },
                },
              },
            ]),
      ],
    },
  };
});
