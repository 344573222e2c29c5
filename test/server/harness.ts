/** The engine under test: the vitest `postgres` project sets ZTNA_TEST_ENGINE=postgres. */
export const TEST_ENGINE = process.env.ZTNA_TEST_ENGINE === 'postgres' ? 'postgres' : 'sqlite';
export const TEST_PG_URL = process.env.ZTNA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * A store for one test server: in-memory SQLite, or a fresh PostgreSQL schema (dropped when
 * the server closes) so that test files never see each other's rows.
 */
async function openTestStore(): Promise<{ store: Store; dispose(): Promise<void> }> {
  if (TEST_ENGINE === 'sqlite') return { store: openSqliteStore({ dataDir: ':memory:' }), dispose: async () => {} };
  const schema = `ztna_test_${randomBytes(6).toString('hex')}`;
  const store = await openPostgresStore({ url: TEST_PG_URL, schema, poolSize: 4 });
  return {
    store,
    async dispose() {
      const pg = await import('pg');
      const client = new pg.default.Client({ connectionString: TEST_PG_URL });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * A reference server for tests: built in-process on an in-memory SQLite store (or a
 * PostgreSQL schema, see openTestStore), listening
 * on 127.0.0.1 on a free port, driven over real HTTP with fetch. The clock is fake (tests
 * move time and call `sweep()` instead of sleeping); the background sweeper is off.
 */
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { buildServer } from '../../src/server/app.ts';
import type { BuiltServer } from '../../src/server/app.ts';
import { createTokenService } from '../../src/server/auth/tokens.ts';
import type { TokenService } from '../../src/server/auth/tokens.ts';
import { findOrCreateOrg } from '../../src/server/domain/orgs.ts';
import { openPostgresStore } from '../../src/server/store/postgres/postgres-store.ts';
import { openSqliteStore } from '../../src/server/store/sqlite/sqlite-store.ts';
import type { Store } from '../../src/server/store/store.ts';

export class FakeClock {
  private current: number;
  constructor(start = '2026-11-21T12:00:00.000Z') {
    this.current = Date.parse(start);
  }
  now = (): Date => new Date(this.current);
  advance(ms: number): void {
    this.current += ms;
  }
}

export interface HttpResult<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export const COMPLIANT = { os_version: 'linux/amd64', disk_encrypted: true, firewall_enabled: true, antivirus_enabled: true, patch_age_days: 3 };
export const NON_COMPLIANT = { os_version: 'linux/amd64', disk_encrypted: false, firewall_enabled: false, antivirus_enabled: false, patch_age_days: 3 };
export const STRICT_POLICY = { require_disk_encryption: true, require_firewall: true, require_antivirus: true, max_patch_age_days: 30 };

export interface TestOrg {
  orgId: string;
  token: string;
  /** Admin request with this org's token. */
  admin<T = any>(method: string, path: string, body?: unknown): Promise<HttpResult<T>>;
  authKey(options?: Record<string, unknown>): Promise<string>;
  register(hostname?: string, extra?: Record<string, unknown>): Promise<{ machine_id: string; node_key: string }>;
  setSettings(settings: Record<string, unknown>): Promise<HttpResult>;
  addPolicy(policy?: Record<string, unknown>): Promise<HttpResult>;
  machine(id: string): Promise<any>;
  audit(event?: string): Promise<any[]>;
}

export interface TestServer {
  url: string;
  server: BuiltServer;
  store: Store;
  clock: FakeClock;
  tokens: TokenService;
  /** The secret `tokens` signs with (security tests craft tokens with other claims). */
  jwtSecret: Uint8Array;
  request<T = any>(method: string, path: string, options?: { body?: unknown; raw?: string | Buffer; token?: string; headers?: Record<string, string> }): Promise<HttpResult<T>>;
  org(name?: string): Promise<TestOrg>;
  report(nodeKey: string, signals?: Record<string, unknown>): Promise<HttpResult>;
  heartbeat(nodeKey: string, extra?: Record<string, unknown>): Promise<HttpResult>;
  /** Opens a realtime socket; `events` fills as messages arrive. */
  subscribe(token: string, how?: 'header' | 'query'): Promise<{ socket: WebSocket; events: any[]; waitFor(predicate: (event: any) => boolean, timeoutMs?: number): Promise<any> }>;
  close(): Promise<void>;
}

export async function startTestServer(options: { clock?: FakeClock; registerPerMinute?: number; failedAuthPerMinute?: number; trustProxy?: string[] } = {}): Promise<TestServer> {
  const clock = options.clock ?? new FakeClock();
  const { store, dispose } = await openTestStore();
  const jwtSecret = randomBytes(32);
  const tokens = createTokenService(jwtSecret, clock.now);
  const server = await buildServer({
    store,
    tokens,
    clock,
    sweeper: false,
    registerPerMinute: options.registerPerMinute ?? 10_000,
    failedAuthPerMinute: options.failedAuthPerMinute ?? 100_000,
    ...(options.trustProxy ? { trustProxy: options.trustProxy } : {}),
  });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const address = server.app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const sockets = new Set<WebSocket>();

  const request: TestServer['request'] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | Buffer | undefined;
    if (opts.raw !== undefined) body = opts.raw;
    else if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
    const response = await fetch(`${url}${path}`, { method, headers, body, signal: AbortSignal.timeout(10_000) });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON (metrics)
    }
    return { status: response.status, body: parsed as any, headers: response.headers };
  };

  const testServer: TestServer = {
    url,
    server,
    store,
    clock,
    tokens,
    jwtSecret,
    request,
    async org(name = `org-${randomBytes(4).toString('hex')}`) {
      const { org } = await findOrCreateOrg(store, name, clock.now());
      const orgId = String(org.id);
      const token = await tokens.mint({ orgId, subject: `test-${name}` });
      const admin: TestOrg['admin'] = (method, path, body) => request(method, path, { token, ...(body === undefined ? {} : { body }) });
      const testOrg: TestOrg = {
        orgId,
        token,
        admin,
        async authKey(keyOptions = {}) {
          const result = await admin('POST', '/api/db/auth_keys', { description: 'test', ...keyOptions });
          if (result.status !== 200) throw new Error(`auth key: ${JSON.stringify(result.body)}`);
          return result.body.data[0].key;
        },
        async register(hostname = `host-${randomBytes(3).toString('hex')}`, extra = {}) {
          // Tags come from the auth key (SPEC 7.1): a key granting exactly the tags asked for.
          const key = await testOrg.authKey(Array.isArray(extra.tags) ? { tags: extra.tags } : {});
          const result = await request('POST', '/api/register', { body: { auth_key: key, hostname, os: 'linux', ...extra } });
          if (result.status !== 200) throw new Error(`register: ${JSON.stringify(result.body)}`);
          return result.body;
        },
        setSettings: (settings) => admin('PATCH', `/api/db/org_settings?org_id=eq.${orgId}`, { _filters: { org_id: orgId }, ...settings }),
        addPolicy: (policy = STRICT_POLICY) => admin('POST', '/api/db/posture_policies', { enabled: true, ...policy }),
        async machine(id) {
          return (await admin('GET', `/api/db/machines?id=eq.${id}`)).body.data[0];
        },
        async audit(event) {
          const rows = (await admin('GET', '/api/db/audit_log?order=created_at.asc')).body.data as any[];
          return event ? rows.filter((row) => row.event === event) : rows;
        },
      };
      return testOrg;
    },
    report: (nodeKey, signals = COMPLIANT) => request('POST', '/api/posture-report', { body: { node_key: nodeKey, ...signals } }),
    heartbeat: (nodeKey, extra = {}) => request('POST', '/api/machine-heartbeat', { body: { node_key: nodeKey, ...extra } }),
    async subscribe(token, how = 'header') {
      const wsUrl = `${url.replace('http', 'ws')}/api/realtime${how === 'query' ? `?token=${encodeURIComponent(token)}` : ''}`;
      const socket = new WebSocket(wsUrl, how === 'header' ? { headers: { authorization: `Bearer ${token}` } } : {});
      sockets.add(socket);
      const events: any[] = [];
      const waiters: Array<{ predicate: (e: any) => boolean; resolve: (e: any) => void }> = [];
      socket.on('message', (data) => {
        const event = JSON.parse(String(data));
        events.push(event);
        for (const waiter of [...waiters]) {
          if (waiter.predicate(event)) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve(event);
          }
        }
      });
      await new Promise<void>((resolve, reject) => {
        socket.once('open', () => resolve());
        socket.once('error', reject);
        socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      });
      return {
        socket,
        events,
        waitFor(predicate, timeoutMs = 2_000) {
          const found = events.find(predicate);
          if (found) return Promise.resolve(found);
          return new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`no matching realtime event within ${timeoutMs} ms; got ${JSON.stringify(events)}`)), timeoutMs);
            waiters.push({ predicate, resolve: (event) => (clearTimeout(timer), resolve(event)) });
          });
        },
      };
    },
    async close() {
      for (const socket of sockets) socket.terminate();
      await server.close();
      await dispose();
    },
  };
  return testServer;
}
