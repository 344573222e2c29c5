/**
 * Admin tokens beyond what auth.test.ts covers (forged signatures, alg "none", header-only
 * algorithm swaps, expiry, tampered org_id): tokens that are *correctly signed with the
 * server's own secret* but whose claims or algorithm are wrong. Each must be refused (401)
 * on every admin route — every /api/db table × verb, org-management, acl evaluation and
 * the realtime upgrade — and store nothing. A control token made by the same crafting code
 * with the right claims succeeds, so the refusals are the claims' doing.
 *
 * Also: a valid token whose org no longer exists reaches nothing and writes nothing, and
 * a realtime socket is closed when the token it was opened with expires.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TableName } from '../../src/server/store/tables.ts';
import { COMPLIANT, TEST_ENGINE, startTestServer } from './harness.ts';
import type { HttpResult, TestOrg, TestServer } from './harness.ts';

let server: TestServer;
let org: TestOrg;
let machine: { machine_id: string; node_key: string };
beforeEach(async () => {
  server = await startTestServer();
  org = await server.org('jwt');
  machine = await org.register('jwt-box');
  expect((await server.report(machine.node_key, COMPLIANT)).status).toBe(200);
});
afterEach(() => server.close());

const figures = { tokens: 0, refusals: 0, accepted: 0 };
afterAll(() => {
  console.log(`jwt-claims [${TEST_ENGINE}]: ${figures.tokens} wrongly-claimed tokens, ${figures.refusals} admin requests and realtime upgrades refused with 401, ${figures.accepted} accepted, 0 rows changed`);
});

const ALL_TABLES: TableName[] = ['orgs', 'org_state', 'org_settings', 'posture_policies', 'machines', 'posture_reports', 'audit_log', 'auth_keys', 'agent_commands', 'acl_rules'];

async function snapshot(): Promise<string> {
  await server.server.context.lastSeen.flush(server.store);
  const all: Record<string, unknown> = {};
  for (const table of ALL_TABLES) {
    const rows = await server.store.select(table);
    rows.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    all[table] = rows;
  }
  return JSON.stringify(all);
}

const nowS = () => Math.floor(server.clock.now().getTime() / 1000);

interface Crafted {
  alg?: string;
  key?: Uint8Array | ReturnType<typeof generateKeyPairSync>['privateKey'];
  claims?: Record<string, unknown>;
  omit?: string[];
  header?: Record<string, unknown>;
  /** Extension header parameters the signer declares it understands (for `crit`). */
  crit?: Record<string, boolean>;
}

/** A JWT signed (by default) exactly as the server signs, with claims replaced or omitted. */
async function craft({ alg = 'HS256', key, claims = {}, omit = [], header = {}, crit }: Crafted = {}): Promise<string> {
  const base: Record<string, unknown> = { org_id: org.orgId, role: 'admin', sub: 'crafted', iss: 'ztna-server', aud: 'ztna-admin', iat: nowS(), exp: nowS() + 3600, jti: randomUUID(), ...claims };
  for (const name of omit) delete base[name];
  return new SignJWT(base).setProtectedHeader({ alg, typ: 'JWT', ...header }).sign(key ?? server.jwtSecret, crit ? { crit } : undefined);
}

/** Every admin route, with a body that would succeed for a valid token of `org`. */
function adminCalls(): Array<[string, string, unknown]> {
  const calls: Array<[string, string, unknown]> = [];
  for (const table of ['machines', 'posture_reports', 'posture_policies', 'org_settings', 'audit_log', 'auth_keys', 'agent_commands', 'acl_rules']) calls.push(['GET', `/api/db/${table}`, undefined]);
  calls.push(
    ['POST', '/api/db/auth_keys', { description: 'minted with a bad token' }],
    ['POST', '/api/db/posture_policies', { require_firewall: true }],
    ['POST', '/api/db/acl_rules', { name: 'bad-token-rule', action: 'deny' }],
    ['POST', '/api/db/agent_commands', { machine_id: machine.machine_id, command: 'enable_firewall' }],
    ['POST', '/api/db/org_settings', { posture_enforcement: 'enforce' }],
    ['PATCH', '/api/db/org_settings', { posture_enforcement: 'enforce' }],
    ['PATCH', '/api/db/machines', { _filters: { id: machine.machine_id }, status: 'quarantined', posture_exempt: true }],
    ['PATCH', '/api/db/posture_policies', { _filters: { enabled: true }, enabled: false }],
    ['PATCH', '/api/db/acl_rules', { _filters: { action: 'allow' }, action: 'deny' }],
    ['PATCH', '/api/db/auth_keys', { _filters: { revoked: false }, revoked: true }],
    ['PATCH', '/api/db/agent_commands', { _filters: { status: 'pending' }, status: 'cancelled' }],
    ['DELETE', `/api/db/machines?id=eq.${machine.machine_id}`, undefined],
    ['DELETE', '/api/db/acl_rules?action=eq.allow', undefined],
    ['DELETE', '/api/db/posture_policies?enabled=eq.true', undefined],
    ['DELETE', '/api/db/auth_keys?revoked=eq.false', undefined],
    ['DELETE', '/api/db/agent_commands?status=eq.pending', undefined],
    ['POST', '/api/org-management', { action: 'update_org_settings', posture_enforcement: 'enforce' }],
    ['POST', '/api/acl/evaluate', { src_machine_id: machine.machine_id, dst_machine_id: machine.machine_id }],
  );
  return calls;
}

async function realtimeRefused(token: string, how: 'header' | 'query'): Promise<boolean> {
  try {
    const subscription = await server.subscribe(token, how);
    subscription.socket.terminate();
    return false;
  } catch (error) {
    return /401/.test(String(error));
  }
}

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });

const REFUSED: Array<[string, () => Promise<string>]> = [
  ['no org_id claim', () => craft({ omit: ['org_id'] })],
  ['no role claim', () => craft({ omit: ['role'] })],
  ['role "viewer"', () => craft({ claims: { role: 'viewer' } })],
  ['role "Admin" (case matters)', () => craft({ claims: { role: 'Admin' } })],
  ['role as an array ["admin"]', () => craft({ claims: { role: ['admin'] } })],
  ['org_id as a number', () => craft({ claims: { org_id: 12345 } })],
  ['org_id as an array of the org', () => craft({ claims: { org_id: [org.orgId] } })],
  ['org_id null', () => craft({ claims: { org_id: null } })],
  ['no exp claim (a token that never expires)', () => craft({ omit: ['exp'] })],
  ['exp one second ago', () => craft({ claims: { exp: nowS() - 1 } })],
  ['nbf an hour ahead', () => craft({ claims: { nbf: nowS() + 3600 } })],
  ['another issuer', () => craft({ claims: { iss: 'someone-else' } })],
  ['no issuer', () => craft({ omit: ['iss'] })],
  ['another audience', () => craft({ claims: { aud: 'ztna-agent' } })],
  ['no audience', () => craft({ omit: ['aud'] })],
  ['HS512, signed with the server\'s secret', () => craft({ alg: 'HS512' })],
  ['HS384, signed with the server\'s secret', () => craft({ alg: 'HS384' })],
  ['RS256 (an RSA key pair)', () => craft({ alg: 'RS256', key: rsa.privateKey })],
  ['ES256 (an EC key pair)', () => craft({ alg: 'ES256', key: ec.privateKey })],
  ['an unknown critical header', () => craft({ header: { crit: ['x-ztna'], 'x-ztna': true }, crit: { 'x-ztna': true } })],
];

describe('admin tokens signed with the server\'s secret but wrong claims or algorithm', () => {
  it('the crafting code makes a working token when nothing is wrong (control)', async () => {
    const token = await craft();
    for (const [method, path, body] of adminCalls().filter(([m]) => m === 'GET')) {
      expect((await server.request(method, path, { token, ...(body === undefined ? {} : { body }) })).status, path).toBe(200);
    }
    expect(await realtimeRefused(token, 'header')).toBe(false);
  });

  it.each(REFUSED)('%s: 401 on every admin route and the realtime upgrade, nothing stored', async (_what, make) => {
    const token = await make();
    figures.tokens += 1;
    const before = await snapshot();
    for (const [method, path, body] of adminCalls()) {
      const result: HttpResult = await server.request(method, path, { token, ...(body === undefined ? {} : { body }) });
      if (result.status === 401) figures.refusals += 1;
      else figures.accepted += 1;
      expect(result.status, `${method} ${path}: ${JSON.stringify(result.body)}`).toBe(401);
      expect(result.body).toEqual({ success: false, error: { code: 'unauthorized', message: expect.any(String) } });
      expect(JSON.stringify(result.body)).not.toContain(token);
    }
    expect(await realtimeRefused(token, 'header'), 'realtime (header)').toBe(true);
    expect(await realtimeRefused(token, 'query'), 'realtime (?token=)').toBe(true);
    figures.refusals += 2;
    expect(await snapshot(), 'a refused token changed the store').toBe(before);
  });
});

describe('a valid token whose org does not exist', () => {
  it.each([
    ['an org id that never existed', () => randomUUID()],
    ['an org id of another shape', () => 'not-a-uuid'],
  ])('%s: refused (401) on every admin route, nothing stored, nothing of any org shown', async (_what, orgId) => {
    const token = await server.tokens.mint({ orgId: orgId() });
    figures.tokens += 1;
    const other = await server.org('bystander');
    await other.register('bystander-box');
    const before = await snapshot();
    for (const [method, path, body] of adminCalls()) {
      const result = await server.request(method, path, { token, ...(body === undefined ? {} : { body }) });
      if (result.status === 401) figures.refusals += 1;
      else figures.accepted += 1;
      expect(result.status, `${method} ${path}: ${JSON.stringify(result.body)}`).toBe(401);
      expect(result.body).toEqual({ success: false, error: { code: 'unauthorized', message: expect.stringMatching(/organisation/) } });
      const text = JSON.stringify(result.body);
      for (const leak of [org.orgId, other.orgId, machine.machine_id, 'jwt-box', 'bystander-box']) expect(text).not.toContain(leak);
    }
    expect(await realtimeRefused(token, 'query')).toBe(true);
    figures.refusals += 1;
    expect(await snapshot()).toBe(before);
  });
});

describe('realtime sockets and token expiry', () => {
  it('a socket is closed (1008) when the token it was opened with expires, not before', async () => {
    const token = await server.tokens.mint({ orgId: org.orgId, ttlSeconds: 2 });
    const opened = Date.now();
    const subscription = await server.subscribe(token);
    const closed = new Promise<{ code: number; reason: string }>((resolve) => subscription.socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
    // Still delivering before expiry.
    await org.register('before-expiry');
    await subscription.waitFor((event) => event.table === 'machines' && event.data?.hostname === 'before-expiry', 1_500);
    const { code, reason } = await closed;
    expect(code).toBe(1008);
    expect(reason).toMatch(/expired/);
    expect(Date.now() - opened).toBeGreaterThanOrEqual(1_500);
  }, 15_000);

  it('a long-lived token keeps its socket open (control)', async () => {
    const subscription = await server.subscribe(org.token);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(subscription.socket.readyState).toBe(subscription.socket.OPEN);
    await org.register('after-open');
    await subscription.waitFor((event) => event.table === 'machines' && event.data?.hostname === 'after-open');
  });
});
