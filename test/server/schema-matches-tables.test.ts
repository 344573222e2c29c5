/**
 * The migrations produce exactly the tables that src/server/store/tables.ts describes, on
 * the test engine: the same tables, the same columns, the same nullability and a storage
 * type that fits each column's kind. The table descriptions are what the query builder,
 * the row codecs and /api/db trust, so a column added to one and not the other would read
 * `undefined` (or be refused) at run time; this test makes it a failure here instead.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/server/store/postgres/postgres-store.ts';
import { openSqliteStore } from '../../src/server/store/sqlite/sqlite-store.ts';
import type { ColumnType } from '../../src/server/store/tables.ts';
import { TABLES } from '../../src/server/store/tables.ts';
import { TEST_ENGINE, TEST_PG_URL } from './harness.ts';

/** Tables that are not row tables of the domain: migration bookkeeping and the shared JWT secret (raw SQL in each store). */
const BOOKKEEPING = new Set(['schema_migrations', 'server_secrets']);

interface ActualColumn {
  readonly type: string;
  readonly notNull: boolean;
  readonly primaryKey: boolean;
}

const STORAGE: Record<'sqlite' | 'postgres', Record<ColumnType, RegExp>> = {
  sqlite: { text: /^TEXT$/, integer: /^INTEGER$/, boolean: /^INTEGER$/, json: /^TEXT$/, timestamp: /^TEXT$/ },
  postgres: { text: /^text$/, integer: /^integer$/, boolean: /^boolean$/, json: /^jsonb$/, timestamp: /^timestamp with time zone$/ },
};

async function actualSchema(): Promise<Map<string, Map<string, ActualColumn>>> {
  const tables = new Map<string, Map<string, ActualColumn>>();
  if (TEST_ENGINE === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'ztna-schema-'));
    try {
      await openSqliteStore({ dataDir: dir }).close();
      const db = new DatabaseSync(join(dir, 'ztna.db'));
      for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as Array<{ name: string }>) {
        const columns = new Map<string, ActualColumn>();
        for (const column of db.prepare(`PRAGMA table_info("${name}")`).all() as Array<{ name: string; type: string; notnull: number; pk: number }>) {
          columns.set(column.name, { type: column.type, notNull: column.notnull === 1, primaryKey: column.pk > 0 });
        }
        tables.set(name, columns);
      }
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return tables;
  }
  const schema = `ztna_schema_${randomBytes(5).toString('hex')}`;
  await (await openPostgresStore({ url: TEST_PG_URL, schema, poolSize: 1 })).close();
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    const rows = (
      await client.query(
        `SELECT c.table_name, c.column_name, c.data_type, c.is_nullable,
                EXISTS (SELECT 1 FROM information_schema.table_constraints t JOIN information_schema.key_column_usage k
                          ON k.constraint_name = t.constraint_name AND k.table_schema = t.table_schema
                         WHERE t.constraint_type = 'PRIMARY KEY' AND t.table_schema = c.table_schema AND k.table_name = c.table_name AND k.column_name = c.column_name) AS pk
           FROM information_schema.columns c WHERE c.table_schema = $1`,
        [schema],
      )
    ).rows as Array<{ table_name: string; column_name: string; data_type: string; is_nullable: string; pk: boolean }>;
    for (const row of rows) {
      if (!tables.has(row.table_name)) tables.set(row.table_name, new Map());
      tables.get(row.table_name)?.set(row.column_name, { type: row.data_type, notNull: row.is_nullable === 'NO', primaryKey: row.pk });
    }
  } finally {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }
  return tables;
}

describe(`the migrated schema is the described one (${TEST_ENGINE})`, () => {
  it('same tables, columns, nullability and storage types', { timeout: 60_000 }, async () => {
    const actual = await actualSchema();
    expect([...actual.keys()].filter((name) => !BOOKKEEPING.has(name)).sort()).toEqual(Object.keys(TABLES).sort());
    const problems: string[] = [];
    for (const [name, table] of Object.entries(TABLES)) {
      const columns = actual.get(name) ?? new Map<string, ActualColumn>();
      const described = table.columns as Record<string, { type: ColumnType; nullable?: boolean }>;
      for (const column of [...columns.keys()]) if (!Object.hasOwn(described, column)) problems.push(`${name}.${column} exists but is not described`);
      for (const [column, def] of Object.entries(described)) {
        const found = columns.get(column);
        if (!found) {
          problems.push(`${name}.${column} is described but no migration creates it`);
          continue;
        }
        if (!STORAGE[TEST_ENGINE][def.type].test(found.type)) problems.push(`${name}.${column} is ${def.type} but stored as ${found.type}`);
        // SQLite does not imply NOT NULL on a TEXT PRIMARY KEY; the key is never null either way.
        if (!found.primaryKey && found.notNull !== (def.nullable !== true)) problems.push(`${name}.${column} is ${def.nullable ? 'nullable' : 'NOT NULL'} in tables.ts but ${found.notNull ? 'NOT NULL' : 'nullable'} in the database`);
      }
    }
    expect(problems).toEqual([]);
  });
});
