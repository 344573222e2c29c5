/**
 * The embedded SQLite store (node:sqlite, no native addon, so it also works inside the
 * single-file binary). One file `ztna.db` under the data directory, WAL journal,
 * `synchronous=NORMAL` (durable across process crashes; an OS crash may lose the last
 * transactions but never corrupts the file), foreign keys on, a busy timeout so that
 * `ztna-server bootstrap` can write while a server runs.
 *
 * One writer path: node:sqlite is synchronous, so a transaction runs start to finish in
 * one turn of the event loop — no other request's statements can interleave with it on
 * this connection. An async mutex guards the rare transaction that awaits real I/O.
 *
 * Read cache: reads of the rarely written per-org tables (settings, policies, ACL rules,
 * the peers_version counter) filtered by org_id are served from memory. It is never
 * stale because every write to those tables goes through this connection's insert /
 * update / remove / bumpPeersVersion, which drop the table's cached reads at once (and a
 * rollback drops everything). This holds because the server process is the only writer
 * of those rows: `ztna-server bootstrap` in another process only creates NEW orgs, and
 * empty results (an org not created yet) are never cached. (Measured: a WAL read costs
 * ~35 µs under load; a heartbeat made four.)
 */
import { DatabaseSync } from 'node:sqlite';
import type { StatementSync } from 'node:sqlite';
import { chmodSync, closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, renderMigration, statements } from '../migrations.ts';
import type { Codec, Filter, Query } from '../query.ts';
import { SqlBuilder, decodeRow, encodeValue } from '../query.ts';
import type { Store } from '../store.ts';
import { ConstraintError, SchemaError } from '../store.ts';
import type { ColumnDef, ColumnName, NewRow, Patch, RowOf, TableName } from '../tables.ts';
import { tableDef } from '../tables.ts';

export const SQLITE_TYPES = { bool: 'INTEGER', json: 'TEXT', ts: 'TEXT', int: 'INTEGER', text: 'TEXT', false: '0', true: '1' } as const;

export const sqliteCodec: Codec = {
  encode: (column: ColumnDef, value: unknown) => encodeValue(column, value, (flag) => (flag ? 1 : 0)),
  decode(column: ColumnDef, value: unknown): unknown {
    if (value === null || value === undefined) return null;
    switch (column.type) {
      case 'boolean':
        return value === 1 || value === 1n || value === true;
      case 'json':
        return JSON.parse(String(value));
      case 'integer':
        return Number(value);
      default:
        return value;
    }
  },
};

export interface SqliteStoreOptions {
  /** Directory holding ztna.db; `:memory:` for an in-memory database (tests). */
  readonly dataDir: string;
  /** Apply pending migrations (default true). `serve` refuses an unknown newer schema either way. */
  readonly migrate?: boolean;
}

export function openSqliteStore(options: SqliteStoreOptions): Store {
  const path = options.dataDir === ':memory:' ? ':memory:' : join(options.dataDir, 'ztna.db');
  if (path !== ':memory:') {
    // Create the file 0600 before SQLite does (its -wal and -shm files copy these permissions).
    closeSync(openSync(path, 'a', 0o600));
    chmodSync(path, 0o600);
  }
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec('PRAGMA foreign_keys = ON');
  db.exec('PRAGMA busy_timeout = 5000');
  // The default 2 MB page cache holds a few thousand machines; 100k machines with their
  // reports need tens of MB, or every statement goes back to the OS for pages.
  db.exec('PRAGMA cache_size = -65536');
  db.exec('PRAGMA mmap_size = 268435456');
  db.exec('PRAGMA temp_store = MEMORY');
  migrate(db, options.migrate ?? true);
  return new SqliteStore(db, { statements: new Map(), queue: Promise.resolve(), closed: false, readCache: new Map() }, false);
}

interface SharedState {
  statements: Map<string, StatementSync>;
  queue: Promise<unknown>;
  closed: boolean;
  readCache: Map<TableName, Map<string, readonly object[]>>;
}

const CACHED_TABLES: ReadonlySet<TableName> = new Set(['org_settings', 'org_state', 'posture_policies', 'acl_rules', 'agent_commands']);
/**
 * Tables no other process writes at all, so "no rows" may be cached too (heartbeats ask
 * for each machine's pending commands; there usually are none).
 */
const CACHE_EMPTY: ReadonlySet<TableName> = new Set(['agent_commands']);
const MAX_CACHED_QUERIES_PER_TABLE = 200_000;

function migrate(db: DatabaseSync, apply: boolean): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const row = db.prepare('SELECT MAX(version) AS version FROM schema_migrations').get() as { version: number | null };
  const current = row.version ?? 0;
  if (current > LATEST_SCHEMA_VERSION) {
    throw new SchemaError(`the database schema is version ${current}, newer than this ztna-server knows (${LATEST_SCHEMA_VERSION}); upgrade ztna-server`);
  }
  const pending = MIGRATIONS.filter((migration) => migration.version > current);
  if (pending.length === 0) return;
  if (!apply) throw new SchemaError(`the database schema is version ${current}; run \`ztna-server migrate\` to reach ${LATEST_SCHEMA_VERSION}`);
  db.exec('BEGIN IMMEDIATE');
  try {
    for (const migration of pending) {
      for (const statement of statements(renderMigration(migration.sql, SQLITE_TYPES))) db.exec(statement);
      if (migration.data) {
        const rows = Object.fromEntries(Object.entries(migration.data.reads).map(([name, sql]) => [name, db.prepare(sql).all() as Array<Record<string, unknown>>]));
        for (const { sql, params } of migration.data.rewrite(rows)) db.prepare(sql).run(...(params as Array<string | number | null>));
      }
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(migration.version, migration.name, new Date().toISOString());
    }
    db.exec('COMMIT');
  } catch (error) {
    db.exec('ROLLBACK');
    throw error;
  }
}

/**
 * The root instance queues transactions; the instance handed to a transaction's work
 * (`inTransaction`) runs nested `transaction` calls inline, as part of the outer one.
 */
/** SQLite's extended result codes for constraint failures → ConstraintError. */
function translateError(error: unknown): unknown {
  const code = (error as { errcode?: number }).errcode;
  const kinds: Record<number, ConstraintError['kind']> = { 2067: 'unique', 1555: 'unique', 275: 'check', 787: 'foreign_key', 1299: 'not_null' };
  const kind = code === undefined ? undefined : kinds[code];
  return kind ? new ConstraintError(kind, (error as Error).message) : error;
}

class SqliteStore implements Store {
  readonly engine = 'sqlite' as const;
  private readonly db: DatabaseSync;
  private readonly shared: SharedState;
  private readonly inTransaction: boolean;
  private transactionView: SqliteStore | undefined;

  constructor(db: DatabaseSync, shared: SharedState, inTransaction: boolean) {
    this.db = db;
    this.shared = shared;
    this.inTransaction = inTransaction;
  }

  private prepared(sql: string): StatementSync {
    let statement = this.shared.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.shared.statements.set(sql, statement);
    }
    return statement;
  }

  private all(sql: string, params: unknown[]): Record<string, unknown>[] {
    try {
      return this.prepared(sql).all(...(params as never[])) as Record<string, unknown>[];
    } catch (error) {
      throw translateError(error);
    }
  }

  async select<T extends TableName, C extends ColumnName<T> = ColumnName<T>>(table: T, query: Query<C> = {}): Promise<Array<Pick<RowOf<T>, C>>> {
    const def = tableDef(table);
    const builder = new SqlBuilder('sqlite', sqliteCodec);
    const sql = builder.select(def, query);
    const cacheable = CACHED_TABLES.has(table) && (query.filters ?? []).some((f) => f.column === 'org_id' && f.op === 'eq');
    if (!cacheable) return this.all(sql, builder.params).map((raw) => decodeRow(table, sqliteCodec, raw));
    const key = `${sql}\u0000${JSON.stringify(builder.params)}`;
    let tableCache = this.shared.readCache.get(table);
    const hit = tableCache?.get(key);
    // Cached rows are frozen: a caller that mutates one fails loudly instead of changing
    // what the next reader sees. The cache is keyed by this table's SQL, so the rows are T's.
    if (hit) return hit as unknown as Array<RowOf<T>>;
    const rows: ReadonlyArray<RowOf<T>> = Object.freeze(this.all(sql, builder.params).map((raw) => Object.freeze(decodeRow(table, sqliteCodec, raw))));
    if (rows.length > 0 || CACHE_EMPTY.has(table)) {
      if (!tableCache) this.shared.readCache.set(table, (tableCache = new Map()));
      if (tableCache.size >= MAX_CACHED_QUERIES_PER_TABLE) tableCache.clear();
      tableCache.set(key, rows);
    }
    return rows as Array<RowOf<T>>;
  }

  private invalidate(table: TableName): void {
    this.shared.readCache.delete(table);
  }

  async selectOne<T extends TableName>(table: T, filters: readonly Filter[]): Promise<RowOf<T> | null> {
    return ((await this.select(table, { filters, limit: 1 }))[0] as RowOf<T> | undefined) ?? null;
  }

  async count(table: TableName, filters: readonly Filter[] = []): Promise<number> {
    const builder = new SqlBuilder('sqlite', sqliteCodec);
    const sql = builder.count(tableDef(table), filters);
    return Number((this.all(sql, builder.params)[0] as { n: number }).n);
  }

  async insert<T extends TableName>(table: T, row: NewRow<T>): Promise<RowOf<T>> {
    this.invalidate(table);
    const def = tableDef(table);
    const builder = new SqlBuilder('sqlite', sqliteCodec);
    const sql = builder.insert(def, row);
    return decodeRow(table, sqliteCodec, this.all(sql, builder.params)[0] as Record<string, unknown>);
  }

  async upsert<T extends TableName>(table: T, row: NewRow<T>, conflictColumn: ColumnName<T>, keepOnConflict: ReadonlyArray<ColumnName<T>> = []): Promise<RowOf<T>> {
    this.invalidate(table);
    const def = tableDef(table);
    const builder = new SqlBuilder('sqlite', sqliteCodec);
    const sql = builder.upsert(def, row, conflictColumn, keepOnConflict);
    return decodeRow(table, sqliteCodec, this.all(sql, builder.params)[0] as Record<string, unknown>);
  }

  /** One process per SQLite file: nothing else can be running the same work. */
  async exclusive(_name: string, work: () => Promise<void>): Promise<boolean> {
    await work();
    return true;
  }

  async sharedSecret(name: string, generate: () => string): Promise<string> {
    this.prepared('INSERT INTO server_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING').run(name, generate());
    return String((this.prepared('SELECT value FROM server_secrets WHERE name = ?').get(name) as { value: string }).value);
  }

  async insertKnown<T extends TableName>(table: T, row: RowOf<T>): Promise<RowOf<T>> {
    this.invalidate(table);
    const builder = new SqlBuilder('sqlite', sqliteCodec);
    const sql = builder.insert(tableDef(table), row, false);
    this.runStatement(sql, builder.params);
    return row;
  }

  async updateCount<T extends TableName>(table: T, filters: readonly Filter[], patch: Patch<T>): Promise<number> {
    if (Object.keys(patch).length === 0) return 0;
    const builder = new SqlBuilder('sqlite', sqliteCodec);
    const sql = builder.update(tableDef(table), filters, patch, false);
    const changes = Number(this.runStatement(sql, builder.params).changes);
    if (changes > 0) this.invalidate(table);
    return changes;
  }

  private runStatement(sql: string, params: unknown[]) {
    try {
      return this.prepared(sql).run(...(params as never[]));
    } catch (error) {
      throw translateError(error);
    }
  }

  async update<T extends TableName>(table: T, filters: readonly Filter[], patch: Patch<T>): Promise<Array<RowOf<T>>> {
    const def = tableDef(table);
    if (Object.keys(patch).length === 0) return this.select(table, { filters });
    const builder = new SqlBuilder('sqlite', sqliteCodec);
    const sql = builder.update(def, filters, patch);
    const rows = this.all(sql, builder.params);
    // Synchronous with the statement: no read can run between the write and this.
    if (rows.length > 0) this.invalidate(table);
    return rows.map((raw) => decodeRow(table, sqliteCodec, raw));
  }

  async remove<T extends TableName>(table: T, filters: readonly Filter[]): Promise<Array<RowOf<T>>> {
    // Deletes cascade to other tables (a machine's reports and commands): drop every cached read.
    this.shared.readCache.clear();
    const def = tableDef(table);
    const builder = new SqlBuilder('sqlite', sqliteCodec);
    const sql = builder.delete(def, filters);
    return this.all(sql, builder.params).map((raw) => decodeRow(table, sqliteCodec, raw));
  }

  async recordLastSeen(entries: ReadonlyArray<readonly [string, string]>): Promise<void> {
    if (entries.length === 0) return;
    await this.transaction(async () => {
      const statement = this.prepared('UPDATE machines SET last_seen = ? WHERE id = ? AND (last_seen IS NULL OR last_seen < ?)');
      for (const [id, lastSeen] of entries) statement.run(lastSeen, id, lastSeen);
    });
  }

  async expireVerdicts(orgId: string, cutoff: string): Promise<Array<RowOf<'machines'>>> {
    const sql = `UPDATE machines SET posture_state = 'pending'
 WHERE org_id = ?1 AND posture_state IN ('compliant', 'failing', 'grace')
   AND id IN (SELECT machine_id FROM posture_reports WHERE org_id = ?1 AND collected_at < ?2)
 RETURNING *`;
    return this.all(sql, [orgId, cutoff]).map((raw) => decodeRow('machines', sqliteCodec, raw));
  }

  async bumpPeersVersion(orgId: string): Promise<number> {
    this.invalidate('org_state');
    const row = this.prepared('UPDATE org_state SET peers_version = peers_version + 1 WHERE org_id = ? RETURNING peers_version').get(orgId) as
      | { peers_version: number }
      | undefined;
    return row?.peers_version ?? 0;
  }

  async transaction<T>(work: (tx: Store) => Promise<T>): Promise<T> {
    if (this.inTransaction) return work(this);
    this.transactionView ??= new SqliteStore(this.db, this.shared, true);
    const view = this.transactionView;
    const run = async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await work(view);
        this.db.exec('COMMIT');
        return result;
      } catch (error) {
        if (this.db.isTransaction) this.db.exec('ROLLBACK');
        this.shared.readCache.clear(); // reads inside the transaction may have cached what was rolled back
        throw error;
      }
    };
    const result = this.shared.queue.then(run, run);
    this.shared.queue = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    if (this.shared.closed) return;
    this.shared.closed = true;
    await this.shared.queue;
    this.shared.statements.clear();
    this.db.close();
  }
}
