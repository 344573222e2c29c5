/**
 * Node keys and auth keys exist at rest only as SHA-256 hashes (SPEC section 4, "Auth").
 * After auth keys are created, machines register, report, heartbeat and answer commands,
 * and a machine is deleted, the database is read *directly* — not through the store or
 * the API — and no key, no secret part of a key, and not the raw bytes of a secret appear
 * anywhere:
 * - SQLite: every row of every table in sqlite_master, plus the raw bytes of ztna.db and
 *   its -wal/-shm files (free pages and the write-ahead log included);
 * - PostgreSQL: every row of every table of the server's schema, as row_to_json text.
 * As a control, each key's SHA-256 *is* found (so the dump holds the rows that matter).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/server/app.ts';
import type { BuiltServer } from '../../src/server/app.ts';
import { createTokenService } from '../../src/server/auth/tokens.ts';
import type { TokenService } from '../../src/server/auth/tokens.ts';
import { findOrCreateOrg } from '../../src/server/domain/orgs.ts';
import { openPostgresStore } from '../../src/server/store/postgres/postgres-store.ts';
import { openSqliteStore } from '../../src/server/store/sqlite/sqlite-store.ts';
import { TEST_ENGINE, TEST_PG_URL } from './harness.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const secretPart = (key: string) => key.split('_').slice(3).join('_');

interface Dump {
  /** Everything readable as text: one JSON line per row. */
  text: string;
  /** Raw database files (SQLite only). */
  files: Buffer[];
}

interface Target {
  server: BuiltServer;
  tokens: TokenService;
  url: string;
  dump(): Promise<Dump>;
  dispose(): Promise<void>;
}

async function listen(server: BuiltServer): Promise<string> {
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const address = server.app.server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

async function start(): Promise<Target> {
  const tokens = createTokenService(randomBytes(32));
  if (TEST_ENGINE === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'ztna-keys-at-rest-'));
    const store = openSqliteStore({ dataDir: dir });
    const server = await buildServer({ store, tokens, sweeper: false });
    const url = await listen(server);
    const files = () => ['ztna.db', 'ztna.db-wal', 'ztna.db-shm'].map((name) => join(dir, name)).filter((path) => existsSync(path));
    return {
      server,
      tokens,
      url,
      async dump() {
        const db = new DatabaseSync(join(dir, 'ztna.db'), { readOnly: true });
        try {
          const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((row) => String(row.name));
          expect(tables).toEqual(expect.arrayContaining(['machines', 'auth_keys', 'audit_log', 'posture_reports', 'agent_commands']));
          const lines = tables.flatMap((table) => db.prepare(`SELECT * FROM "${table}"`).all().map((row) => `${table} ${JSON.stringify(row)}`));
          return { text: lines.join('\n'), files: files().map((path) => readFileSync(path)) };
        } finally {
          db.close();
        }
      },
      async dispose() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `ztna_keys_${randomBytes(6).toString('hex')}`;
  const store = await openPostgresStore({ url: TEST_PG_URL, schema, poolSize: 4 });
  const server = await buildServer({ store, tokens, sweeper: false });
  const url = await listen(server);
  const pg = await import('pg');
  const query = async (sql: string, params: unknown[] = []) => {
    const client = new pg.default.Client({ connectionString: TEST_PG_URL });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as Array<Record<string, unknown>>;
    } finally {
      await client.end();
    }
  };
  return {
    server,
    tokens,
    url,
    async dump() {
      const tables = (await query("SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'", [schema])).map((row) => String(row.table_name));
      expect(tables).toEqual(expect.arrayContaining(['machines', 'auth_keys', 'audit_log', 'posture_reports', 'agent_commands']));
      const lines: string[] = [];
      for (const table of tables) for (const row of await query(`SELECT row_to_json(t)::text AS line FROM "${schema}"."${table}" t`)) lines.push(`${table} ${String(row.line)}`);
      return { text: lines.join('\n'), files: [] };
    },
    async dispose() {
      await query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
  };
}

let target: Target | undefined;
afterEach(async () => {
  await target?.server.close();
  await target?.dispose();
  target = undefined;
});

describe(`keys at rest (${TEST_ENGINE})`, () => {
  it('no auth key or node key, nor the secret part of one, nor its raw bytes, is stored anywhere; their hashes are', async () => {
    target = await start();
    const { url, server } = target;
    const { org } = await findOrCreateOrg(server.context.store, 'keys-at-rest', new Date());
    const token = await target.tokens.mint({ orgId: String(org.id) });
    const call = async (method: string, path: string, body?: unknown, bearer = token) => {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const parsed = (await response.json()) as any;
      if (response.status !== 200) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(parsed)}`);
      return parsed;
    };

    const authKeys: string[] = [];
    for (const options of [{ reusable: true, tags: ['lab'] }, { reusable: false }, { reusable: true, expires_at: null }]) {
      authKeys.push((await call('POST', '/api/db/auth_keys', { description: 'at-rest', ...options })).data[0].key);
    }
    const nodeKeys: string[] = [];
    const machineIds: string[] = [];
    for (const [i, authKey] of authKeys.entries()) {
      const enrolled = await call('POST', '/api/register', { auth_key: authKey, hostname: `at-rest-${i}`, os: 'linux' }, '');
      nodeKeys.push(enrolled.node_key);
      machineIds.push(enrolled.machine_id);
    }
    await call('PATCH', '/api/db/org_settings', { _filters: { org_id: String(org.id) }, posture_enforcement: 'enforce' });
    await call('POST', '/api/db/posture_policies', { require_firewall: true });
    for (const nodeKey of nodeKeys) {
      await call('POST', '/api/posture-report', { node_key: nodeKey, os_version: 'linux', disk_encrypted: true, firewall_enabled: false, antivirus_enabled: null, patch_age_days: 2 }, '');
      await call('POST', '/api/machine-heartbeat', { node_key: nodeKey, agent_version: '0.1.0' }, '');
    }
    const command = (await call('POST', '/api/db/agent_commands', { machine_id: machineIds[0], command: 'enable_firewall' })).data[0];
    await call('POST', '/api/agent-commands/result', { node_key: nodeKeys[0], id: command.id, status: 'failed', result: { note: 'manual' } }, '');
    await call('PATCH', '/api/db/auth_keys', { _filters: { description: 'at-rest' }, revoked: true });
    await call('DELETE', `/api/db/machines?id=eq.${machineIds[2]}`);
    await server.context.lastSeen.flush(server.context.store);

    const keys = [...authKeys, ...nodeKeys];
    let bytesRead = 0;
    const check = (dump: Dump, when: string) => {
      bytesRead += Buffer.byteLength(dump.text) + dump.files.reduce((sum, file) => sum + file.length, 0);
      for (const key of keys) {
        const secret = secretPart(key);
        expect(secret, 'a key has a 43-character secret part').toHaveLength(43);
        expect(dump.text, `${when}: a key in the rows`).not.toContain(key);
        expect(dump.text, `${when}: a key's secret in the rows`).not.toContain(secret);
        for (const file of dump.files) {
          expect(file.includes(key), `${when}: a key in a database file`).toBe(false);
          expect(file.includes(secret), `${when}: a key's secret in a database file`).toBe(false);
          expect(file.includes(Buffer.from(secret, 'base64url')), `${when}: a key's raw secret bytes in a database file`).toBe(false);
        }
      }
      // Control: what is stored is the hash (the deleted machine's row is gone with its hash).
      for (const key of [...authKeys, nodeKeys[0] as string, nodeKeys[1] as string]) expect(dump.text, `${when}: the hash of ${key.slice(0, 10)}… is stored`).toContain(sha256(key));
    };
    check(await target.dump(), 'while serving');
    await server.close();
    check(await target.dump(), 'after shutdown');
    // Reaching this line means every check above found nothing.
    console.log(`keys-at-rest [${TEST_ENGINE}]: ${keys.length} keys (3 auth, 3 node), ${bytesRead} bytes of database rows${TEST_ENGINE === 'sqlite' ? ' and files' : ''} read twice, 0 found; every stored hash present`);
  });
});
