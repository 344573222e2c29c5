/**
 * The PostgreSQL store, for several stateless server processes on one database. Same
 * table definitions, query builder and migrations as SQLite; native BOOLEAN, JSONB and
 * TIMESTAMPTZ columns; one pooled connection per transaction.
 *
 * Concurrency (READ COMMITTED): every status transition is a conditional UPDATE, which
 * takes the row lock and re-checks its WHERE clause after a concurrent writer commits, so
 * of two processes racing to quarantine a machine exactly one changes it (and writes the
 * audit event). The one-report-per-machine row is an upsert for the same reason.
 * No read cache here: other processes write too.
 */
import pg from 'pg';
import type { Pool, PoolClient, PoolConfig } from 'pg';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, renderMigration, statements } from '../migrations.ts';
import type { Codec, Filter, Query } from '../query.ts';
import { SqlBuilder, decodeRow, encodeValue } from '../query.ts';
import type { EventRelay, Store } from '../store.ts';
import { ConstraintError, SchemaError } from '../store.ts';
import type { ColumnDef, ColumnName, NewRow, Patch, RowOf, TableName } from '../tables.ts';
import { tableDef } from '../tables.ts';

export const PG_TYPES = { bool: 'BOOLEAN', json: 'JSONB', ts: 'TIMESTAMPTZ', int: 'INTEGER', text: 'TEXT', false: 'FALSE', true: 'TRUE' } as const;
/** pg_advisory_xact_lock key serialising migrations across processes ("ztna" in ASCII). */
const MIGRATION_LOCK = 0x7a746e61;

export const postgresCodec: Codec = {
  encode: (column: ColumnDef, value: unknown) => encodeValue(column, value, (flag) => flag),
  decode(column: ColumnDef, value: unknown): unknown {
    if (value === null || value === undefined) return null;
    switch (column.type) {
      case 'timestamp':
        return (value instanceof Date ? value : new Date(String(value))).toISOString();
      case 'integer':
        return Number(value);
      default:
        return value; // booleans and JSONB arrive decoded
    }
  },
};

function translateError(error: unknown): unknown {
  const code = (error as { code?: string }).code;
  // 22021/22P05: text PostgreSQL cannot store (a NUL character, invalid UTF-8), which SQLite
  // accepts — client input either way, so a 400 like any refused value, never a 5xx.
  const kinds: Record<string, ConstraintError['kind']> = { '23505': 'unique', '23514': 'check', '23503': 'foreign_key', '23502': 'not_null', '22021': 'check', '22P05': 'check' };
  const kind = code === undefined ? undefined : kinds[code];
  return kind ? new ConstraintError(kind, (error as Error).message) : error;
}

export interface PostgresStoreOptions {
  /** postgres://user@host:port/db */
  readonly url: string;
  /** Apply pending migrations (default true); otherwise refuse a schema that is behind. */
  readonly migrate?: boolean;
  /** Use (and create) this schema instead of `public` — the test suite isolates runs this way. */
  readonly schema?: string;
  readonly poolSize?: number;
}

export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  if (options.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema)) throw new Error(`invalid schema name ${options.schema}`);
  const config: PoolConfig = {
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  };
  const pool = new pg.Pool(config);
  pool.on('error', () => {
    // An idle client lost its connection; the pool replaces it on next use.
  });
  try {
    if (options.schema) await pool.query(`CREATE SCHEMA IF NOT EXISTS "${options.schema}"`);
    await migrate(pool, options.migrate ?? true);
  } catch (error) {
    await pool.end();
    throw error;
  }
  return new PostgresStore(pool, pool, false, new PostgresRelay(pool, config));
}

const CHANNEL = 'ztna_events';

/**
 * LISTEN/NOTIFY relay: NOTIFY runs inside the transaction that made the change, so other
 * processes hear of exactly the committed changes; one dedicated connection per process
 * LISTENs (and reconnects if it drops).
 */
class PostgresRelay implements EventRelay {
  private readonly pool: Pool;
  private readonly config: PoolConfig;

  constructor(pool: Pool, config: PoolConfig) {
    this.pool = pool;
    this.config = config;
  }

  async notify(tx: Store, payload: string): Promise<void> {
    await (tx as PostgresStore).execute('SELECT pg_notify($1, $2)', [CHANNEL, payload]);
  }

  async listen(listener: (payload: string) => void): Promise<() => Promise<void>> {
    let client: pg.Client | null = null;
    let stopped = false;
    const connect = async (): Promise<void> => {
      const next = new pg.Client(this.config);
      next.on('notification', (message) => {
        if (message.channel === CHANNEL && message.payload) listener(message.payload);
      });
      next.on('error', () => {
        if (!stopped) setTimeout(() => void connect().catch(() => undefined), 1_000).unref();
      });
      await next.connect();
      await next.query(`LISTEN ${CHANNEL}`);
      client = next;
    };
    await connect();
    void this.pool;
    return async () => {
      stopped = true;
      await client?.end().catch(() => undefined);
    };
  }
}

async function migrate(pool: Pool, apply: boolean): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)');
    const current = Number((await client.query('SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations')).rows[0].version);
    if (current > LATEST_SCHEMA_VERSION) {
      throw new SchemaError(`the database schema is version ${current}, newer than this ztna-server knows (${LATEST_SCHEMA_VERSION}); upgrade ztna-server`);
    }
    const pending = MIGRATIONS.filter((migration) => migration.version > current);
    if (pending.length > 0 && !apply) throw new SchemaError(`the database schema is version ${current}; run \`ztna-server migrate --db …\` to reach ${LATEST_SCHEMA_VERSION}`);
    for (const migration of pending) {
      for (const statement of statements(renderMigration(migration.sql, PG_TYPES))) await client.query(statement);
      if (migration.data) {
        const rows: Record<string, Array<Record<string, unknown>>> = {};
        for (const [name, sql] of Object.entries(migration.data.reads)) rows[name] = (await client.query(sql)).rows;
        for (const { sql, params } of migration.data.rewrite(rows)) {
          let n = 0;
          await client.query(sql.replace(/\?/g, () => `$${++n}`), [...params]);
        }
      }
      await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, now())', [migration.version, migration.name]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

class PostgresStore implements Store {
  readonly engine = 'postgres' as const;
  private readonly executor: Pool | PoolClient;
  private readonly pool: Pool;
  private readonly inTransaction: boolean;
  readonly relay: EventRelay;

  constructor(executor: Pool | PoolClient, pool: Pool, inTransaction: boolean, relay: EventRelay) {
    this.executor = executor;
    this.pool = pool;
    this.inTransaction = inTransaction;
    this.relay = relay;
  }

  /** Runs a statement on this store's connection (the relay's NOTIFY must join the transaction). */
  async execute(sql: string, params: unknown[]): Promise<void> {
    await this.rows(sql, params);
  }

  async exclusive(name: string, work: () => Promise<void>): Promise<boolean> {
    // A session-level advisory lock on one pooled connection, held while `work` runs.
    const client = await this.pool.connect();
    try {
      const key = [...name].reduce((hash, char) => (hash * 31 + char.charCodeAt(0)) | 0, 7);
      const { rows } = await client.query('SELECT pg_try_advisory_lock($1) AS locked', [key]);
      if (!rows[0]?.locked) return false;
      try {
        await work();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [key]);
      }
      return true;
    } finally {
      client.release();
    }
  }

  private async rows(sql: string, params: unknown[]): Promise<Record<string, unknown>[]> {
    try {
      return (await this.executor.query(sql, params)).rows as Record<string, unknown>[];
    } catch (error) {
      throw translateError(error);
    }
  }

  private builder(): SqlBuilder {
    return new SqlBuilder('postgres', postgresCodec);
  }

  async select<T extends TableName, C extends ColumnName<T> = ColumnName<T>>(table: T, query: Query<C> = {}): Promise<Array<Pick<RowOf<T>, C>>> {
    const def = tableDef(table);
    const builder = this.builder();
    const sql = builder.select(def, query);
    return (await this.rows(sql, builder.params)).map((raw) => decodeRow(table, postgresCodec, raw));
  }

  async selectOne<T extends TableName>(table: T, filters: readonly Filter[]): Promise<RowOf<T> | null> {
    return ((await this.select(table, { filters, limit: 1 }))[0] as RowOf<T> | undefined) ?? null;
  }

  async count(table: TableName, filters: readonly Filter[] = []): Promise<number> {
    const builder = this.builder();
    const sql = builder.count(tableDef(table), filters);
    return Number((await this.rows(sql, builder.params))[0]?.n ?? 0);
  }

  async insert<T extends TableName>(table: T, row: NewRow<T>): Promise<RowOf<T>> {
    const def = tableDef(table);
    const builder = this.builder();
    const sql = builder.insert(def, row);
    return decodeRow(table, postgresCodec, (await this.rows(sql, builder.params))[0] as Record<string, unknown>);
  }

  async insertKnown<T extends TableName>(table: T, row: RowOf<T>): Promise<RowOf<T>> {
    const builder = this.builder();
    await this.rows(builder.insert(tableDef(table), row, false), builder.params);
    return row;
  }

  async upsert<T extends TableName>(table: T, row: NewRow<T>, conflictColumn: ColumnName<T>, keepOnConflict: ReadonlyArray<ColumnName<T>> = []): Promise<RowOf<T>> {
    const def = tableDef(table);
    const builder = this.builder();
    const sql = builder.upsert(def, row, conflictColumn, keepOnConflict);
    return decodeRow(table, postgresCodec, (await this.rows(sql, builder.params))[0] as Record<string, unknown>);
  }

  async update<T extends TableName>(table: T, filters: readonly Filter[], patch: Patch<T>): Promise<Array<RowOf<T>>> {
    const def = tableDef(table);
    if (Object.keys(patch).length === 0) return this.select(table, { filters });
    const builder = this.builder();
    const sql = builder.update(def, filters, patch);
    return (await this.rows(sql, builder.params)).map((raw) => decodeRow(table, postgresCodec, raw));
  }

  async updateCount<T extends TableName>(table: T, filters: readonly Filter[], patch: Patch<T>): Promise<number> {
    if (Object.keys(patch).length === 0) return 0;
    const builder = this.builder();
    const sql = builder.update(tableDef(table), filters, patch, false);
    try {
      return (await this.executor.query(sql, builder.params)).rowCount ?? 0;
    } catch (error) {
      throw translateError(error);
    }
  }

  async remove<T extends TableName>(table: T, filters: readonly Filter[]): Promise<Array<RowOf<T>>> {
    const def = tableDef(table);
    const builder = this.builder();
    const sql = builder.delete(def, filters);
    return (await this.rows(sql, builder.params)).map((raw) => decodeRow(table, postgresCodec, raw));
  }

  async expireVerdicts(orgId: string, cutoff: string): Promise<Array<RowOf<'machines'>>> {
    const sql = `UPDATE machines SET posture_state = 'pending'
 WHERE org_id = $1 AND posture_state IN ('compliant', 'failing', 'grace')
   AND id IN (SELECT machine_id FROM posture_reports WHERE org_id = $1 AND collected_at < $2::timestamptz)
 RETURNING *`;
    return (await this.rows(sql, [orgId, cutoff])).map((raw) => decodeRow('machines', postgresCodec, raw));
  }

  async bumpPeersVersion(orgId: string): Promise<number> {
    const rows = await this.rows('UPDATE org_state SET peers_version = peers_version + 1 WHERE org_id = $1 RETURNING peers_version', [orgId]);
    return Number(rows[0]?.peers_version ?? 0);
  }

  async recordLastSeen(entries: ReadonlyArray<readonly [string, string]>): Promise<void> {
    if (entries.length === 0) return;
    // One statement for the whole batch: unnest the two arrays into rows.
    await this.rows(
      `UPDATE machines AS m SET last_seen = v.last_seen
         FROM unnest($1::text[], $2::timestamptz[]) AS v(id, last_seen)
        WHERE m.id = v.id AND (m.last_seen IS NULL OR m.last_seen < v.last_seen)`,
      [entries.map(([id]) => id), entries.map(([, lastSeen]) => lastSeen)],
    );
  }

  async sharedSecret(name: string, generate: () => string): Promise<string> {
    await this.rows('INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, generate()]);
    return String((await this.rows('SELECT value FROM server_secrets WHERE name = $1', [name]))[0]?.value);
  }

  async transaction<T>(work: (tx: Store) => Promise<T>): Promise<T> {
    if (this.inTransaction) return work(this);
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(new PostgresStore(client, this.pool, true, this.relay));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    if (!this.inTransaction) await this.pool.end();
  }
}
