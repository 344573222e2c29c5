/**
 * The storage interface every engine implements (SQLite here; PostgreSQL next). The
 * domain layer talks only to this, so one integration suite can run against both.
 *
 * Invariants every implementation keeps:
 * - `transaction` is all-or-nothing and serializable with respect to other writers: a
 *   status change, its report row and its audit event commit together or not at all.
 * - Conditional updates (`update` with filters on the current value) are the
 *   concurrency primitive: a transition happens only if the row still is in the state
 *   the caller saw, and `update` returns exactly the rows it changed.
 * - Rows come back decoded (booleans, numbers, ISO timestamps, parsed JSON).
 */
import type { Filter, Query } from './query.ts';
import type { ColumnName, NewRow, Patch, RowOf, TableName } from './tables.ts';

export interface Store {
  readonly engine: 'sqlite' | 'postgres';
  /** Rows of `table`; with `query.columns`, only those columns (and the type says so). */
  select<T extends TableName, C extends ColumnName<T> = ColumnName<T>>(table: T, query?: Query<C>): Promise<Array<Pick<RowOf<T>, C>>>;
  selectOne<T extends TableName>(table: T, filters: readonly Filter[]): Promise<RowOf<T> | null>;
  count(table: TableName, filters?: readonly Filter[]): Promise<number>;
  insert<T extends TableName>(table: T, row: NewRow<T>): Promise<RowOf<T>>;
  /** Updates the rows matching `filters`; returns the rows as they are after the update. */
  update<T extends TableName>(table: T, filters: readonly Filter[], patch: Patch<T>): Promise<Array<RowOf<T>>>;
  /**
   * Inserts a fully specified row (no column defaults) without reading it back; returns
   * the row as given. For hot writes whose row the caller already has (audit events).
   */
  insertKnown<T extends TableName>(table: T, row: RowOf<T>): Promise<RowOf<T>>;
  /**
   * Inserts `row`, or, when a row with the same `conflictColumn` exists, updates it with
   * `row`'s values except `keepOnConflict` (e.g. its id) — atomically, so two concurrent
   * writers cannot both insert.
   */
  upsert<T extends TableName>(table: T, row: NewRow<T>, conflictColumn: ColumnName<T>, keepOnConflict?: ReadonlyArray<ColumnName<T>>): Promise<RowOf<T>>;
  /** Like `update`, but returns only how many rows changed (no read-back). */
  updateCount<T extends TableName>(table: T, filters: readonly Filter[], patch: Patch<T>): Promise<number>;
  /** Deletes the rows matching `filters`; returns them. */
  remove<T extends TableName>(table: T, filters: readonly Filter[]): Promise<Array<RowOf<T>>>;
  /** Adds one to the org's peers_version and returns the new value. */
  bumpPeersVersion(orgId: string): Promise<number>;
  /**
   * Machines of `orgId` whose latest report was collected before `cutoff` (ISO) lose their
   * verdict: posture_state `compliant` / `failing` / `grace` becomes `pending` (SPEC 7.1:
   * an expired report is no verdict). One statement; returns the machines it changed.
   */
  expireVerdicts(orgId: string, cutoff: string): Promise<Array<RowOf<'machines'>>>;
  /** Writes buffered heartbeat times, never moving a machine's last_seen backwards. */
  recordLastSeen(entries: ReadonlyArray<readonly [machineId: string, lastSeen: string]>): Promise<void>;
  /** A server-wide secret (the JWT signing key on PostgreSQL), created once by whichever process asks first. */
  sharedSecret(name: string, generate: () => string): Promise<string>;
  /**
   * Cross-process event relay (PostgreSQL: NOTIFY inside the transaction, delivered only
   * if it commits; every process LISTENs). Absent on engines with one process (SQLite).
   */
  readonly relay?: EventRelay;
  /** Runs `work` only if no other process is running work under the same name (advisory lock); returns whether it ran. */
  exclusive(name: string, work: () => Promise<void>): Promise<boolean>;
  /** Runs `work` in one transaction; inside it, use only the `tx` handed to it. */
  transaction<T>(work: (tx: Store) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface EventRelay {
  /** Queues `payload` for every process; inside a transaction it is sent on COMMIT only. */
  notify(tx: Store, payload: string): Promise<void>;
  /** Calls `listener` with every payload any process notified (this one included). */
  listen(listener: (payload: string) => void): Promise<() => Promise<void>>;
}

export class SchemaError extends Error {
  override readonly name = 'SchemaError';
}

/** A write the database refused because of a constraint (each engine translates its own codes). */
export class ConstraintError extends Error {
  override readonly name = 'ConstraintError';
  readonly kind: 'unique' | 'check' | 'foreign_key' | 'not_null';

  constructor(kind: ConstraintError['kind'], message: string) {
    super(message);
    this.kind = kind;
  }
}
