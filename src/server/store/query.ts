/**
 * Queries against the table definitions, and their translation to SQL for either
 * engine. Values are always bound parameters; column names come only from the table
 * definitions (never from input), so no filter can inject SQL.
 *
 * Filters are PostgREST's vocabulary (SPEC section 4): eq, neq, gt, gte, lt, lte,
 * in (a list), is (null / true / false).
 */
import type { ColumnDef, Row, RowOf, TableDef, TableName } from './tables.ts';
import { columnOf, tableDef } from './tables.ts';

export type FilterOp = 'eq' | 'neq' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'is';

export interface Filter {
  readonly column: string;
  readonly op: FilterOp;
  /** Already decoded to the column's domain type; an array for `in`; null/true/false for `is`. */
  readonly value: unknown;
}

export interface OrderBy {
  readonly column: string;
  readonly descending: boolean;
}

export interface Query<Column extends string = string> {
  /** Columns to read (default all); hot paths name them to skip large JSON columns. */
  readonly columns?: readonly Column[];
  readonly filters?: readonly Filter[];
  readonly order?: readonly OrderBy[];
  readonly limit?: number;
  readonly offset?: number;
  /**
   * Lock the selected rows until the transaction ends (PostgreSQL `FOR UPDATE`): the
   * status decision that follows cannot be based on a value another process is changing.
   * SQLite has one writer at a time and needs no row locks.
   */
  readonly forUpdate?: boolean;
}

export type Dialect = 'sqlite' | 'postgres';

/** How an engine stores each column type. */
export interface Codec {
  encode(column: ColumnDef, value: unknown): unknown;
  decode(column: ColumnDef, value: unknown): unknown;
}

/**
 * A value in the form both engines bind: JSON columns as JSON text (node-postgres would
 * send a JS array as a PostgreSQL array), timestamps as ISO strings; booleans in the
 * engine's own form.
 */
export function encodeValue(column: ColumnDef, value: unknown, booleanAs: (value: boolean) => unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (column.type) {
    case 'boolean':
      return booleanAs(Boolean(value));
    case 'json':
      return JSON.stringify(value);
    case 'timestamp':
      return value instanceof Date ? value.toISOString() : String(value);
    case 'integer':
      return typeof value === 'number' ? value : Number(value);
    case 'text':
      return String(value);
  }
}

export class SqlBuilder {
  readonly params: unknown[] = [];
  private readonly dialect: Dialect;
  private readonly codec: Codec;

  constructor(dialect: Dialect, codec: Codec) {
    this.dialect = dialect;
    this.codec = codec;
  }

  private bind(value: unknown): string {
    this.params.push(value);
    return this.dialect === 'postgres' ? `$${this.params.length}` : '?';
  }

  where(table: TableDef, filters: readonly Filter[] = []): string {
    if (filters.length === 0) return '';
    const clauses = filters.map((filter) => {
      const column = columnOf(table, filter.column);
      if (!column) throw new Error(`unknown column ${table.name}.${filter.column}`);
      const name = quoteIdentifier(filter.column);
      switch (filter.op) {
        case 'is':
          if (filter.value === null) return `${name} IS NULL`;
          return `${name} = ${this.bind(this.codec.encode(column, filter.value))}`;
        case 'in': {
          const values = filter.value as unknown[];
          if (values.length === 0) return '1 = 0';
          return `${name} IN (${values.map((v) => this.bind(this.codec.encode(column, v))).join(', ')})`;
        }
        case 'neq':
          // PostgREST semantics: neq does not match NULLs either.
          return `${name} <> ${this.bind(this.codec.encode(column, filter.value))}`;
        default: {
          const operator = { eq: '=', gt: '>', gte: '>=', lt: '<', lte: '<=' }[filter.op];
          if (filter.value === null) return filter.op === 'eq' ? `${name} IS NULL` : '1 = 0';
          return `${name} ${operator} ${this.bind(this.codec.encode(column, filter.value))}`;
        }
      }
    });
    return ` WHERE ${clauses.join(' AND ')}`;
  }

  select(table: TableDef, query: Query): string {
    const columns = query.columns && query.columns.length > 0 ? query.columns.map(quoteIdentifier).join(', ') : '*';
    let sql = `SELECT ${columns} FROM ${quoteIdentifier(table.name)}${this.where(table, query.filters)}`;
    if (query.order && query.order.length > 0) {
      sql += ` ORDER BY ${query.order.map((o) => `${quoteIdentifier(o.column)} ${o.descending ? 'DESC' : 'ASC'}`).join(', ')}`;
    }
    // LIMIT/OFFSET are inlined as integer literals, not bound: node:sqlite binds JS numbers
    // as REAL and a bound LIMIT measured 10 µs slower per query. Only integers get here.
    if (query.limit !== undefined) sql += ` LIMIT ${integerLiteral(query.limit)}`;
    if (query.offset !== undefined) sql += `${query.limit === undefined && this.dialect === 'sqlite' ? ' LIMIT -1' : ''} OFFSET ${integerLiteral(query.offset)}`;
    if (query.forUpdate && this.dialect === 'postgres') sql += ' FOR UPDATE';
    return sql;
  }

  insert(table: TableDef, row: Row, returning = true): string {
    const columns = knownColumns(table, row);
    const values = columns.map((key) => this.bind(this.codec.encode(columnOf(table, key) as ColumnDef, row[key])));
    return `INSERT INTO ${quoteIdentifier(table.name)} (${columns.map(quoteIdentifier).join(', ')}) VALUES (${values.join(', ')})${returning ? ' RETURNING *' : ''}`;
  }

  /** INSERT … ON CONFLICT (key) DO UPDATE: the same syntax on SQLite (≥ 3.24) and PostgreSQL. */
  upsert(table: TableDef, row: Row, conflictColumn: string, keepOnConflict: readonly string[] = []): string {
    const insert = this.insert(table, row, false);
    const updates = knownColumns(table, row)
      .filter((key) => key !== conflictColumn && !keepOnConflict.includes(key))
      .map((key) => `${quoteIdentifier(key)} = excluded.${quoteIdentifier(key)}`);
    return `${insert} ON CONFLICT (${quoteIdentifier(conflictColumn)}) DO UPDATE SET ${updates.join(', ')} RETURNING *`;
  }

  update(table: TableDef, filters: readonly Filter[], patch: Row, returning = true): string {
    const columns = knownColumns(table, patch);
    const sets = columns.map((key) => `${quoteIdentifier(key)} = ${this.bind(this.codec.encode(columnOf(table, key) as ColumnDef, patch[key]))}`);
    return `UPDATE ${quoteIdentifier(table.name)} SET ${sets.join(', ')}${this.where(table, filters)}${returning ? ' RETURNING *' : ''}`;
  }

  delete(table: TableDef, filters: readonly Filter[]): string {
    return `DELETE FROM ${quoteIdentifier(table.name)}${this.where(table, filters)} RETURNING *`;
  }

  count(table: TableDef, filters: readonly Filter[]): string {
    return `SELECT COUNT(*) AS n FROM ${quoteIdentifier(table.name)}${this.where(table, filters)}`;
  }
}

/**
 * The keys of a row to write, each a column of the table. A key that is not one is a bug
 * in the caller (a field the domain forgot to map): an error, never silently dropped.
 */
function knownColumns(table: TableDef, row: Row): string[] {
  const keys = Object.keys(row);
  for (const key of keys) if (!columnOf(table, key)) throw new Error(`unknown column ${table.name}.${key}: map it to a column before writing`);
  return keys;
}

function integerLiteral(value: number): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`invalid LIMIT/OFFSET ${value}`);
  return String(value);
}

const quoted = new Map<string, string>();

/** Identifiers come from the table definitions only; quoting is belt and braces (memoized). */
export function quoteIdentifier(name: string): string {
  let result = quoted.get(name);
  if (result === undefined) {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`invalid identifier ${name}`);
    result = `"${name}"`;
    if (quoted.size < 1000) quoted.set(name, result);
  }
  return result;
}

const decodePlans = new WeakMap<TableDef, Map<string, ColumnDef>>();

/** The columns of a table whose stored form differs from the domain form (booleans, JSON, integers). */
function decodePlan(table: TableDef): Map<string, ColumnDef> {
  let plan = decodePlans.get(table);
  if (!plan) {
    plan = new Map(Object.entries(table.columns).filter(([, column]) => column.type !== 'text' && column.type !== 'timestamp'));
    decodePlans.set(table, plan);
  }
  return plan;
}

/**
 * Converts a row as the engine returned it into the domain form, in place: the engine
 * hands over a fresh object, and only booleans, JSON and integers need work (measured: the
 * copying version doubled the cost of re-evaluating 100k machines).
 */
export function decodeRow<T extends TableName>(table: T, codec: Codec, raw: Record<string, unknown>): RowOf<T> {
  for (const [key, column] of decodePlan(tableDef(table))) {
    if (key in raw) raw[key] = codec.decode(column, raw[key]);
  }
  // The one place a database row becomes typed: its columns are the description's, decoded.
  return raw as RowOf<T>;
}

export const eq = (column: string, value: unknown): Filter => ({ column, op: 'eq', value });
