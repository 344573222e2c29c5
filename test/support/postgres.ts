/** Why PostgreSQL at `url` cannot be used for tests, or null when it answers (vitest.config.ts and the real-process suites share this). */
import pg from 'pg';

export async function postgresProblem(url: string): Promise<string | null> {
  if (process.env.ZTNA_TEST_SKIP_POSTGRES === '1') return 'ZTNA_TEST_SKIP_POSTGRES=1';
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
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
