/**
 * Property-based fuzzing of every server route (issue 7, item 1; SPEC section 4 "Errors":
 * bad input never produces a 5xx and never stores anything).
 *
 * Generated requests: random and adversarial bodies (wrong types, missing and extra
 * fields, duplicate keys, prototype-pollution keys, huge and deeply nested JSON, invalid
 * UTF-8, number literals such as 1e309 and 2^53 + 1, wrong content types), headers and
 * auth (missing, malformed, forged, expired tokens), PostgREST filters with SQL and
 * filter-syntax injection, unknown tables and paths, malformed HTTP on a raw socket, and
 * WebSocket upgrades and frames on /api/realtime.
 *
 * Properties, for every generated case:
 * - never a 5xx (and the server answers /healthz afterwards);
 * - every 4xx body is exactly `{"success": false, "error": {"code", "message"}}`;
 * - a rejected (4xx) request stores nothing: every row of every table, of every org, is
 *   hashed before and after and compared;
 * - no request, accepted or not, changes anything outside org A (the only org whose
 *   credentials the fuzzer holds): org B's ids are offered everywhere as bait;
 * - no response carries a secret or org B data the request did not itself contain.
 *
 * Requests name fixture rows through placeholders (`@@A_MACHINE@@`), resolved when sent:
 * an accepted request may delete or revoke a fixture, which is then recreated.
 */
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import fc from 'fast-check';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TABLES } from '../../src/server/domain/db-api.ts';
import { createTokenService } from '../../src/server/auth/tokens.ts';
import { eq } from '../../src/server/store/query.ts';
import { TABLES } from '../../src/server/store/tables.ts';
import type { Row, TableName } from '../../src/server/store/tables.ts';
import { fcParameters, fuzzRuns, NASTY_NUMBER_LITERALS, nastyJson, nastyString, nested, printFigure, share, timeoutFor } from '../support/fuzz.ts';
import { COMPLIANT, NON_COMPLIANT, STRICT_POLICY, TEST_ENGINE, startTestServer } from './harness.ts';
import type { TestOrg, TestServer } from './harness.ts';

const RUNS = fuzzRuns(2_000);
/** Measured: ~8 ms a case on SQLite, ~15 ms on PostgreSQL, both engines at once on a 2-core box. */
const TIMEOUT = (weight: number) => timeoutFor(share(RUNS, weight), TEST_ENGINE === 'postgres' ? 15 : 8);

let server: TestServer;
let orgA: TestOrg;
let orgB: TestOrg;

/** Placeholder → current value. Org A's rows may be replaced when a fuzz case deletes them. */
const refs: Record<string, string> = {};
/** Values that must never appear in a response unless the request carried them. */
let canaries: string[] = [];
/** Canaries an accepted request carried (and so may have stored). */
const tainted = new Set<string>();

const stats = { cases: 0, accepted: 0, rejected: 0, serverErrors: 0, storedByRejected: 0, noResponse: 0, statuses: new Map<number, number>() };

// ---------------------------------------------------------------------------------------
// Fixtures and snapshots

const ALL_TABLES = Object.keys(TABLES) as TableName[];

/** Recreates whatever of org A's fixture rows an accepted fuzz case removed or used up. */
async function ensureFixturesA(): Promise<void> {
  const store = server.store;
  const now = server.clock.now().getTime();
  const machine = refs.A_MACHINE ? await store.selectOne('machines', [eq('id', refs.A_MACHINE)]) : null;
  if (!machine) {
    const registered = await orgA.register('a-fuzz-host', { tags: ['web'] });
    refs.A_MACHINE = registered.machine_id;
    refs.A_NODE_KEY = registered.node_key;
    expect((await server.report(registered.node_key, COMPLIANT)).status).toBe(200);
  }
  const key = refs.A_AUTH_KEY_ID ? await store.selectOne('auth_keys', [eq('id', refs.A_AUTH_KEY_ID)]) : null;
  if (!key || key.revoked === true || (key.expires_at !== null && Date.parse(String(key.expires_at)) <= now) || (key.reusable !== true && Number(key.used_count) > 0)) {
    const created = await orgA.admin('POST', '/api/db/auth_keys', { description: 'fuzz', reusable: true });
    expect(created.status).toBe(200);
    refs.A_AUTH_KEY = created.body.data[0].key;
    refs.A_AUTH_KEY_ID = created.body.data[0].id;
  }
  const policy = refs.A_POLICY ? await store.selectOne('posture_policies', [eq('id', refs.A_POLICY)]) : null;
  if (!policy) {
    const created = await orgA.addPolicy({ name: 'a-policy', ...STRICT_POLICY });
    expect(created.status).toBe(200);
    refs.A_POLICY = created.body.data[0].id;
  }
  const command = refs.A_COMMAND ? await store.selectOne('agent_commands', [eq('id', refs.A_COMMAND)]) : null;
  if (!command || command.status !== 'pending' || command.machine_id !== refs.A_MACHINE || Date.parse(String(command.expires_at)) <= now) {
    const created = await orgA.admin('POST', '/api/db/agent_commands', { machine_id: refs.A_MACHINE, command: 'enable_firewall' });
    expect(created.status).toBe(200);
    refs.A_COMMAND = created.body.data[0].id;
  }
  const acl = refs.A_ACL ? await store.selectOne('acl_rules', [eq('id', refs.A_ACL)]) : null;
  if (!acl) {
    const created = await orgA.admin('POST', '/api/db/acl_rules', { name: 'a-rule', src: 'tag:web', dst: '*', ports: '22,443' });
    expect(created.status).toBe(200);
    refs.A_ACL = created.body.data[0].id;
  }
}

/** Rows in org A; the snapshot's cost grows with them, so accepted cases' leftovers are pruned past this. */
const PRUNE_ABOVE_ROWS = 300;
let rowsOfA = 0;

/** JSON with the keys of every object sorted, nested JSON columns included. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${stableJson((value as Record<string, unknown>)[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

/** org → table → sha256 of its rows (sorted), internal columns included. */
async function snapshot(): Promise<Map<string, string>> {
  await server.server.context.lastSeen.flush(server.store);
  const result = new Map<string, string>();
  const tables = await Promise.all(ALL_TABLES.map(async (table) => [table, (await server.store.select(table)) as Row[]] as const));
  rowsOfA = 0;
  for (const [table, rows] of tables) {
    rowsOfA += rows.filter((row) => row.org_id === refs.A_ORG).length;
    const byOrg = new Map<string, string[]>();
    for (const row of rows) {
      const org = String(table === 'orgs' ? row.id : row.org_id);
      const list = byOrg.get(org) ?? [];
      list.push(stableJson(row));
      byOrg.set(org, list);
    }
    for (const [org, list] of byOrg) result.set(`${org === refs.A_ORG ? 'A' : org === refs.B_ORG ? 'B' : org}|${table}`, createHash('sha256').update(list.sort().join('\n')).digest('hex'));
  }
  return result;
}

/**
 * Test housekeeping between cases, straight on the store: removes what accepted cases
 * added to org A (machines they enrolled, rules and keys they created, audit events),
 * keeping the fixtures. Never touches org B.
 */
async function pruneA(): Promise<void> {
  const keep: Array<[TableName, string | undefined]> = [['machines', refs.A_MACHINE], ['auth_keys', refs.A_AUTH_KEY_ID], ['posture_policies', refs.A_POLICY], ['agent_commands', refs.A_COMMAND], ['acl_rules', refs.A_ACL]];
  for (const [table, id] of keep) await server.store.remove(table, [eq('org_id', refs.A_ORG), { column: 'id', op: 'neq', value: id ?? '' }]);
  await server.store.remove('audit_log', [eq('org_id', refs.A_ORG)]);
}

function changedKeys(before: Map<string, string>, after: Map<string, string>): string[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys].filter((key) => before.get(key) !== after.get(key)).sort();
}

let current: Map<string, string>;

beforeAll(async () => {
  // Rate limits off: the fuzzer's own volume must not turn every later case into a 429.
  server = await startTestServer({ registerPerMinute: 1_000_000_000, failedAuthPerMinute: 1_000_000_000 });
  orgB = await server.org('fuzz-org-b');
  orgA = await server.org('fuzz-org-a');
  refs.A_ORG = orgA.orgId;
  refs.B_ORG = orgB.orgId;
  // Org B: a full set of rows that nothing in this file may touch. Its hostname, policy
  // name and key description are canaries: they must never show up in a response to org A.
  const hostB = `b-secret-host-${randomBytes(4).toString('hex')}`;
  const machineB = await orgB.register(hostB, { tags: ['web'] });
  expect((await server.report(machineB.node_key, NON_COMPLIANT)).status).toBe(200);
  const keyB = (await orgB.admin('POST', '/api/db/auth_keys', { description: `b-secret-key-${randomBytes(4).toString('hex')}` })).body.data[0];
  const policyB = (await orgB.addPolicy({ name: `b-secret-policy-${randomBytes(4).toString('hex')}`, require_firewall: true })).body.data[0];
  const commandB = (await orgB.admin('POST', '/api/db/agent_commands', { machine_id: machineB.machine_id, command: 'enable_firewall' })).body.data[0];
  const aclB = (await orgB.admin('GET', '/api/db/acl_rules')).body.data[0];
  expect((await orgB.setSettings({ posture_enforcement: 'enforce' })).status).toBe(200);
  Object.assign(refs, { B_MACHINE: machineB.machine_id, B_POLICY: policyB.id, B_COMMAND: commandB.id, B_ACL: aclB.id, B_AUTH_KEY_ID: keyB.id });
  await ensureFixturesA();
  const hashes = (await server.store.select('auth_keys')).map((row) => String(row.key_hash));
  const nodeHashes = (await server.store.select('machines')).map((row) => String(row.node_key_hash));
  canaries = [hostB, policyB.name, keyB.description, keyB.key, machineB.node_key, ...hashes, ...nodeHashes];
  current = await snapshot();
}, 60_000);

afterAll(async () => {
  const statuses = [...stats.statuses.entries()].sort(([a], [b]) => a - b).map(([status, count]) => `${status}×${count}`).join(' ');
  printFigure(
    `fuzz-routes [${TEST_ENGINE}]: ${stats.cases} cases (${stats.accepted} accepted, ${stats.rejected} rejected, ${stats.noResponse} connections closed without an answer), ` +
      `${stats.serverErrors} 5xx, ${stats.storedByRejected} stored by rejected requests; statuses ${statuses}`,
  );
  await server?.close();
});

// ---------------------------------------------------------------------------------------
// Requests

type Piece = string | Uint8Array;

interface FuzzRequest {
  readonly method: string;
  /** Path and query string, placeholders allowed. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly auth: AuthVariant;
  /** Concatenated; placeholders in string pieces are resolved. */
  readonly body?: readonly Piece[];
}

type AuthVariant = 'valid' | 'none' | 'empty' | 'lowercase' | 'basic' | 'garbage' | 'tampered' | 'alg-none' | 'other-secret' | 'expired' | 'huge' | 'query-only';

const PLACEHOLDER = /@@([A-Z_]+)@@/g;
const resolve = (text: string) => text.replace(PLACEHOLDER, (whole, name: string) => refs[name] ?? whole);
const ref = (name: string) => `@@${name}@@`;

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const otherTokens = createTokenService(randomBytes(32), () => server.clock.now());

async function authHeader(variant: AuthVariant): Promise<string | undefined> {
  switch (variant) {
    case 'valid':
    case 'query-only':
      return variant === 'valid' ? `Bearer ${orgA.token}` : undefined;
    case 'none':
      return undefined;
    case 'empty':
      return 'Bearer ';
    case 'lowercase':
      return `bearer ${orgA.token}`;
    case 'basic':
      return `Basic ${Buffer.from('admin:admin').toString('base64')}`;
    case 'garbage':
      return `Bearer ${randomBytes(24).toString('base64url')}`;
    case 'tampered': {
      const [header, payload, signature] = orgA.token.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
      return `Bearer ${header}.${b64({ ...claims, org_id: refs.B_ORG })}.${signature}`;
    }
    case 'alg-none': {
      const claims = JSON.parse(Buffer.from(orgA.token.split('.')[1] as string, 'base64url').toString());
      return `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, org_id: refs.B_ORG })}.`;
    }
    case 'other-secret':
      return `Bearer ${await otherTokens.mint({ orgId: refs.A_ORG as string })}`;
    case 'expired':
      return `Bearer ${await server.tokens.mint({ orgId: refs.A_ORG as string, ttlSeconds: -60 })}`;
    case 'huge':
      return `Bearer ${'a'.repeat(6_000)}.${'b'.repeat(100)}.c`;
  }
}

interface Outcome {
  status: number | null;
  text: string;
  contentType: string;
  /** Several responses (pipelined raw HTTP), each already checked for the error shape. */
  shapeChecked?: boolean;
}

async function sendHttp(req: FuzzRequest): Promise<Outcome & { sent: string }> {
  const path = resolve(req.path);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) headers[name] = resolve(value);
  const auth = await authHeader(req.auth);
  if (auth !== undefined) headers.authorization = auth;
  const body = req.body === undefined ? undefined : Buffer.concat(req.body.map((piece) => (typeof piece === 'string' ? Buffer.from(resolve(piece)) : piece)));
  const sent = `${req.method} ${path} ${JSON.stringify(headers)} ${body?.toString('latin1') ?? ''}`;
  // fetch refuses these methods; node:http sends them (with the path in plain ASCII).
  if (FETCH_FORBIDDEN.has(req.method)) return sendNodeHttp(req.method, path.replace(/[^\x21-\x7e]/gu, pct), headers, body, sent);
  try {
    const response = await fetch(`${server.url}${path}`, { method: req.method, headers, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(20_000) });
    return { status: response.status, text: await response.text(), contentType: response.headers.get('content-type') ?? '', sent };
  } catch (error) {
    // fetch refuses some requests itself (a header it will not send): nothing reached the server.
    if (error instanceof TypeError && !/fetch failed/.test(error.message)) return { status: null, text: '', contentType: '', sent: '' };
    throw error;
  }
}

const FETCH_FORBIDDEN = new Set(['TRACE', 'TRACK', 'CONNECT']);

function sendNodeHttp(method: string, path: string, headers: Record<string, string>, body: Buffer | undefined, sent: string): Promise<Outcome & { sent: string }> {
  const port = Number(new URL(server.url).port);
  return new Promise((resolvePromise, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent: false, timeout: 20_000 });
    request.on('timeout', () => request.destroy(new Error(`${method} ${path} timed out`)));
    // Node's server closes a CONNECT it has no 'connect' listener for, without an answer.
    request.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? resolvePromise({ status: null, text: '', contentType: '', sent }) : reject(error)));
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolvePromise({ status: response.statusCode ?? null, text: Buffer.concat(chunks).toString('utf8'), contentType: String(response.headers['content-type'] ?? ''), sent }));
    });
    request.end(body);
  });
}

function expectErrorShape(outcome: Outcome, what: string): void {
  let body: any;
  try {
    body = JSON.parse(outcome.text);
  } catch {
    throw new Error(`${what}: ${outcome.status} with a body that is not JSON: ${outcome.text.slice(0, 200)}`);
  }
  const ok =
    typeof body === 'object' &&
    body !== null &&
    Object.keys(body).sort().join() === 'error,success' &&
    body.success === false &&
    typeof body.error === 'object' &&
    body.error !== null &&
    Object.keys(body.error).sort().join() === 'code,message' &&
    typeof body.error.code === 'string' &&
    body.error.code !== '' &&
    typeof body.error.message === 'string' &&
    body.error.message !== '';
  if (!ok) throw new Error(`${what}: ${outcome.status} without the SPEC error shape: ${outcome.text.slice(0, 300)}`);
}

const MUTATING = new Set(['POST', 'PATCH', 'DELETE', 'PUT']);

/**
 * Sends one case and checks every property. `send` returns the outcome (status null when
 * the server closed the connection without answering, which malformed HTTP may earn).
 */
async function check(what: string, mutating: boolean, send: () => Promise<Outcome & { sent: string }>, dashboard?: 'page' | 'asset'): Promise<void> {
  const before = current;
  const outcome = await send();
  stats.cases += 1;
  if (outcome.status === null) stats.noResponse += 1;
  else stats.statuses.set(outcome.status, (stats.statuses.get(outcome.status) ?? 0) + 1);
  // The dashboard's page is a 503 "not built" until `npm run build` made its files: a state
  // of the installation, not an answer to what the client sent (src/server/dashboard).
  const dashboardNotBuilt = dashboard === 'page' && outcome.status === 503 && (outcome.text === '' || outcome.text.includes('The dashboard has not been built'));
  if (outcome.status !== null && outcome.status >= 500 && !dashboardNotBuilt) {
    stats.serverErrors += 1;
    throw new Error(`${what}: ${outcome.status} ${outcome.text.slice(0, 300)}`);
  }
  const rejected = outcome.status === null || outcome.status >= 400;
  for (const canary of [...canaries, refs.A_NODE_KEY as string, refs.A_AUTH_KEY as string]) {
    if (tainted.has(canary)) continue;
    if (outcome.text.includes(canary) && !outcome.sent.includes(canary)) throw new Error(`${what}: the response leaks "${canary.slice(0, 24)}…": ${outcome.text.slice(0, 300)}`);
    // An accepted request may store what it carries (a heartbeat whose agent_version is its own
    // node key): from then on that value is the client's own data, not a leak. A key in its
    // own field is only presented, never stored.
    const carried = outcome.sent.replaceAll(`"node_key":"${canary}"`, '').replaceAll(`"auth_key":"${canary}"`, '');
    if (!rejected && carried.includes(canary)) tainted.add(canary);
  }
  if (outcome.status !== null && outcome.status >= 400 && outcome.text !== '' && !outcome.shapeChecked && !dashboardNotBuilt && !(dashboard === 'asset' && outcome.status === 404)) expectErrorShape(outcome, what);
  let after = await snapshot();
  const changed = changedKeys(before, after);
  if (rejected) {
    stats.rejected += 1;
    if (changed.length > 0) {
      stats.storedByRejected += 1;
      throw new Error(`${what}: rejected with ${outcome.status} (${outcome.text.slice(0, 200)}) but changed ${changed.join(', ')}`);
    }
  } else {
    stats.accepted += 1;
    const outsideA = changed.filter((key) => !key.startsWith('A|'));
    if (outsideA.length > 0) throw new Error(`${what}: accepted with ${outcome.status} and changed rows outside org A: ${outsideA.join(', ')}`);
    if (mutating && changed.length > 0) {
      if (rowsOfA > PRUNE_ABOVE_ROWS) await pruneA();
      await ensureFixturesA();
      after = await snapshot();
    }
  }
  current = after;
  if (stats.cases % 100 === 0) await expectHealthy();
}

async function expectHealthy(): Promise<void> {
  const response = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(20_000) });
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ status: 'ok' });
}

/** The path the server sees: fetch normalises `/api/..` to `/` as browsers do. */
const pathname = (req: FuzzRequest) => URL.parse(`http://127.0.0.1${resolve(req.path)}`)?.pathname ?? req.path;
const isDashboardPage = (req: FuzzRequest) => (req.method === 'GET' || req.method === 'HEAD') && /^\/(login)?$/.test(pathname(req));
/** The dashboard's static files answer a missing file with a plain-text 404, as file servers do. */
const isDashboardAsset = (req: FuzzRequest) => (req.method === 'GET' || req.method === 'HEAD') && pathname(req).startsWith('/assets/');
const httpCheck = (req: FuzzRequest) => check(`${req.method} ${req.path} (auth ${req.auth})`, MUTATING.has(req.method), () => sendHttp(req), isDashboardPage(req) ? 'page' : isDashboardAsset(req) ? 'asset' : undefined);

// ---------------------------------------------------------------------------------------
// Generators

const A_REFS = ['A_MACHINE', 'A_POLICY', 'A_COMMAND', 'A_ACL', 'A_ORG', 'A_AUTH_KEY_ID'].map(ref);
const B_REFS = ['B_MACHINE', 'B_POLICY', 'B_COMMAND', 'B_ACL', 'B_ORG', 'B_AUTH_KEY_ID'].map(ref);
const idValue = fc.constantFrom(...A_REFS, ...B_REFS, '00000000-0000-0000-0000-000000000000', 'not-a-uuid');

/** A JSON value for a field: adversarial, an id of either org, or a secret of org A. */
const fieldValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: nastyJson() },
  { weight: 2, arbitrary: idValue },
  { weight: 1, arbitrary: fc.constantFrom(ref('A_NODE_KEY'), ref('A_AUTH_KEY')) },
  { weight: 1, arbitrary: fc.constantFrom('online', 'offline', 'quarantined', 'enforce', 'monitor', 'disabled', 'applied', 'failed', 'cancelled', 'pending', 'allow', 'deny', 'tag:web', '*', '22', 'enable_firewall') },
);

const EXTRA_KEYS = ['__proto__', 'constructor', 'prototype', 'status', 'org_id', 'posture_exempt', 'id', 'node_key_hash', 'key_hash', 'machine_id', 'quarantined', 'compliant', '_filters', 'risk_score', 'created_at', 'is_admin', ''];

/** A valid-looking template, then deletions, replacements and additions. */
function mutatedObject(template: Record<string, unknown>, extraKeys: readonly string[] = []): fc.Arbitrary<Record<string, unknown>> {
  const keys = Object.keys(template);
  const anyKey = fc.constantFrom(...keys, ...EXTRA_KEYS, ...extraKeys);
  const mutation = fc.oneof(
    fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom(...keys) }),
    fc.record({ op: fc.constant('set' as const), key: anyKey, value: fieldValue }),
  );
  return fc.array(mutation, { minLength: 0, maxLength: 4 }).map((mutations) => {
    const object: Record<string, unknown> = { ...template };
    for (const m of mutations) {
      if (m.op === 'delete') delete object[m.key];
      else Object.defineProperty(object, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
    }
    return object;
  });
}

/** JSON text of an object with one member's value replaced by a raw literal (1e309, -0 …). */
function withRawMember(object: Record<string, unknown>, key: string, literal: string): string {
  const members = Object.entries(object).filter(([k]) => k !== key).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
  members.push(`${JSON.stringify(key)}:${literal}`);
  return `{${members.join(',')}}`;
}

const INVALID_UTF8 = [[0xff], [0xfe], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80], [0xe2, 0x82], [0xc0, 0xaf], [0xf4, 0x90, 0x80, 0x80]].map((bytes) => Uint8Array.from(bytes));

/** Body pieces for a JSON route, from the route's template. */
function bodyFor(template: Record<string, unknown>, extraKeys: readonly string[] = []): fc.Arbitrary<Piece[]> {
  const object = mutatedObject(template, extraKeys);
  const keys = [...Object.keys(template), ...extraKeys];
  return fc.oneof(
    { weight: 8, arbitrary: object.map((o) => [JSON.stringify(o)]) },
    // Duplicate keys: the last one wins in JSON.parse; a validated first copy must not smuggle the second.
    { weight: 1, arbitrary: fc.tuple(object, fc.constantFrom(...keys), fieldValue).map(([o, key, value]) => [`${JSON.stringify(o).slice(0, -1)}${Object.keys(o).length ? ',' : ''}${JSON.stringify(key)}:${JSON.stringify(value ?? null)}}`]) },
    { weight: 1, arbitrary: fc.tuple(object, fc.constantFrom(...keys), fc.constantFrom(...NASTY_NUMBER_LITERALS)).map(([o, key, literal]) => [withRawMember(o, key, literal)]) },
    // Invalid UTF-8 inside a string value, or outside any string.
    {
      weight: 1,
      arbitrary: fc.tuple(object, fc.constantFrom(...keys), fc.constantFrom(...INVALID_UTF8), fc.boolean()).map(([o, key, bytes, inside]) => {
        const text = withRawMember(o, key, inside ? '"AAAA"' : '0');
        const at = text.lastIndexOf(inside ? 'AAAA' : ':0') + (inside ? 2 : 1);
        return [text.slice(0, at), bytes, text.slice(at)];
      }),
    },
    // Truncated JSON.
    { weight: 1, arbitrary: fc.tuple(object, fc.nat()).map(([o, n]) => { const text = JSON.stringify(o); return [text.slice(0, n % Math.max(1, text.length))]; }) },
    // Just under and just over the 64 KiB limit.
    { weight: 1, arbitrary: fc.tuple(object, fc.integer({ min: -64, max: 64 })).map(([o, delta]) => { const text = JSON.stringify(o); const pad = Math.max(0, 64 * 1024 + delta - text.length - 10); return [`${text.slice(0, -1)}${text.length > 2 ? ',' : ''}"p":"${'x'.repeat(pad)}"}`]; }) },
    // Deep nesting in a field (32 is the limit).
    { weight: 1, arbitrary: fc.tuple(object, fc.constantFrom(...keys, 'evidence', 'result'), fc.constantFrom(30, 31, 32, 33, 64, 5_000), fc.constantFrom('array' as const, 'object' as const)).map(([o, key, depth, kind]) => [withRawMember(o, key, nested(depth, kind))]) },
    // Not an object at all.
    { weight: 1, arbitrary: nastyJson().map((value) => [JSON.stringify(value) ?? 'null']) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => [bytes]) },
    { weight: 1, arbitrary: fc.constantFrom<Piece[]>([''], ['null'], ['[]'], ['{}'], ['{"__proto__":{"admin":true}}'], ['{"constructor":{"prototype":{"admin":true}}}'], ['\uFEFF{}'], ['{"a":1}{"b":2}'], ['{"a":NaN}'], ["{'a':1}"]) },
  );
}

const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/json; charset=latin1', 'application/json; charset=utf-16', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/jsonx', 'application/vnd.api+json', '', '*/*', 'application/json, text/plain'];

const contentType = fc.oneof({ weight: 8, arbitrary: fc.constant('application/json') }, { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES) });

const extraHeaders: fc.Arbitrary<Record<string, string>> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({}) },
  {
    weight: 1,
    arbitrary: fc.dictionary(
      fc.constantFrom('x-forwarded-for', 'x-real-ip', 'accept', 'accept-encoding', 'content-encoding', 'x-http-method-override', 'origin', 'cookie', 'x-ztna-csrf', 'user-agent', 'x-org-id', 'if-none-match', 'range'),
      fc.oneof(
        fc.constantFrom('gzip', 'br', '127.0.0.1', '::1', '999.1.1.1', 'DELETE', 'PATCH', '*/*', 'text/html', 'bytes=0-1', '@@B_ORG@@', 'ztna_session=x', 'ztna_session=; ztna_session=a', `ztna_session=${'a'.repeat(300)}`, 'http://evil.example', 'null'),
        fc.string({ maxLength: 30 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
      ),
      { maxKeys: 3 },
    ),
  },
);

const agentAuth = fc.constant<AuthVariant>('none');
const adminAuth = fc.oneof(
  { weight: 12, arbitrary: fc.constant<AuthVariant>('valid') },
  { weight: 2, arbitrary: fc.constantFrom<AuthVariant>('none', 'empty', 'lowercase', 'basic', 'garbage', 'tampered', 'alg-none', 'other-secret', 'expired', 'huge', 'query-only') },
);

const REGISTER = { auth_key: ref('A_AUTH_KEY'), hostname: 'fuzz-new-host', os: 'linux', os_version: '6.1', arch: 'amd64', agent_version: '0.1.0', tags: ['web'] };
const REPORT = { node_key: ref('A_NODE_KEY'), ...COMPLIANT, platform: 'linux', arch: 'amd64', hostname: 'a-fuzz-host', agent_version: '0.1.0', collected_at: '2026-11-21T11:59:00Z', evidence: { disk_encrypted: { method: 'x', detail: 'y' } } };
const HEARTBEAT = { node_key: ref('A_NODE_KEY'), agent_version: '0.1.0', peers_version: 0 };
const RESULT = { node_key: ref('A_NODE_KEY'), id: ref('A_COMMAND'), status: 'failed', result: { exit_code: 1 } };
/** A node key no machine has: a deregistration that succeeded would delete the fixture machine. */
const DEREGISTER = { node_key: `ztna_node_00000000deadbeef_${'A'.repeat(43)}` };

const AGENT_ROUTES: Array<[string, Record<string, unknown>]> = [
  ['/api/register', REGISTER],
  ['/api/posture-report', REPORT],
  ['/api/machine-heartbeat', HEARTBEAT],
  ['/api/agent-commands/result', RESULT],
  ['/api/deregister', DEREGISTER],
];

const agentRequest: fc.Arbitrary<FuzzRequest> = fc
  .constantFrom(...AGENT_ROUTES)
  .chain(([path, template]) =>
    fc.record({
      method: fc.oneof({ weight: 12, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS') }),
      path: fc.oneof({ weight: 12, arbitrary: fc.constant(path) }, { weight: 1, arbitrary: fc.constantFrom(`${path}/`, `${path}?node_key=${ref('A_NODE_KEY')}`, `${path}?__proto__[x]=1`, path.toUpperCase(), `${path}%00`, `/api/./${path.slice(5)}`, `/api//${path.slice(5)}`) }),
      headers: fc.tuple(contentType, extraHeaders).map(([type, extra]) => ({ ...(type === '' ? {} : { 'content-type': type }), ...extra })),
      auth: agentAuth,
      body: bodyFor(template),
    }),
  )
  .map((req) => (req.method === 'GET' || req.method === 'OPTIONS' ? { ...req, body: undefined } : req));

// --- /api/db/<table>

const TABLE_NAMES = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...API_TABLES) },
  { weight: 2, arbitrary: fc.constantFrom('orgs', 'org_state', 'sqlite_master', 'pg_catalog.pg_tables', 'information_schema.tables', 'Machines', 'machines;drop', "machines'--", 'machines%00', '__proto__', 'constructor', '..', '%2e%2e', 'machines%2F..', 'x'.repeat(300), '') },
);

const OPERATORS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in', 'is', 'like', 'ilike', 'not.eq', 'cs', 'cd', 'fts', 'match', 'EQ', ''];

function columnsOf(table: string): string[] {
  return Object.hasOwn(TABLES, table) ? Object.keys(TABLES[table as TableName].columns) : ['id'];
}

const operand = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...A_REFS, ...B_REFS, 'null', 'true', 'false', 'online', 'quarantined', '0', '-1', '1.5', '1e309', 'NaN', 'Infinity', '99999999999999999999', '2026-11-21T12:00:00Z', '2026-99-99', '') },
  { weight: 3, arbitrary: nastyString },
  { weight: 2, arbitrary: fc.array(fc.oneof(fc.constantFrom(...A_REFS, ...B_REFS), nastyString), { maxLength: 4 }).map((items) => `(${items.join(',')})`) },
  { weight: 1, arbitrary: fc.constantFrom('(', '(a,b', 'a,b)', '("a,b")', '(,)', '()', "(x') OR ('1'='1)", '(' + 'a,'.repeat(1_200) + 'a)') },
);

/** Percent-encoding that never throws: a lone surrogate becomes the (invalid UTF-8) bytes of its code unit. */
function pct(text: string): string {
  return Array.from(text, (char) => (char.isWellFormed() ? encodeURIComponent(char) : Array.from(Buffer.from([0xe0 | (char.charCodeAt(0) >> 12), 0x80 | ((char.charCodeAt(0) >> 6) & 0x3f), 0x80 | (char.charCodeAt(0) & 0x3f)]), (byte) => `%${byte.toString(16).toUpperCase()}`).join(''))).join('');
}

/** `raw`: only what would break the query string's structure is encoded; `%`, quotes and the like pass as typed. */
const encode = (text: string, raw: boolean) => (raw ? text.replace(/[#&\s]/g, (c) => encodeURIComponent(c)).replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, (c) => pct(c)) : pct(text));

function queryFor(table: string): fc.Arbitrary<string> {
  const columns = columnsOf(table);
  const filter = fc.record({
    key: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...columns) }, { weight: 1, arbitrary: fc.constantFrom('order', 'limit', 'offset', 'select', 'node_key_hash', 'key_hash', '__proto__', 'constructor', 'toString', 'id;drop', "hostname'--", 'org_id', '') }, { weight: 1, arbitrary: nastyString }),
    op: fc.constantFrom(...OPERATORS),
    operand,
    bare: fc.boolean(),
    raw: fc.boolean(),
  });
  const order = fc.tuple(fc.constantFrom(...columns, 'nope', 'id;drop', 'node_key_hash', 'constructor'), fc.constantFrom('asc', 'desc', 'sideways', 'asc.nullsfirst', 'desc.nullslast', 'asc.nullsmiddle', ''), fc.boolean()).map(([column, direction, raw]) => `order=${encode(direction ? `${column}.${direction}` : column, raw)}`);
  const limit = fc.tuple(fc.constantFrom('limit', 'offset'), fc.oneof(fc.constantFrom('-1', '0', '1', '1e3', '1.5', 'NaN', '', '99999999999', '0x10', '10;drop', '10 OR 1=1'), fc.nat().map(String))).map(([key, value]) => `${key}=${pct(value)}`);
  const select = fc.subarray([...columns, 'node_key_hash', 'key_hash', '*', 'nope', 'count(*)']).map((list) => `select=${pct(list.join(','))}`);
  const part = fc.oneof(
    { weight: 6, arbitrary: filter.map(({ key, op, operand: value, bare, raw }) => `${encode(key, raw)}=${encode(bare ? value : `${op}.${value}`, raw)}`) },
    { weight: 1, arbitrary: order },
    { weight: 1, arbitrary: limit },
    { weight: 1, arbitrary: select },
    { weight: 1, arbitrary: fc.constantFrom('&', '=', '==', 'a', 'a=', '=a', '%', '%zz=1', 'id=%ff', 'id[]=1', 'id[eq]=1', '__proto__[polluted]=1', 'constructor[prototype][polluted]=1', '?', ';') },
  );
  return fc.array(part, { maxLength: 5 }).map((parts) => (parts.length === 0 ? '' : `?${parts.join('&')}`));
}

const POST_TEMPLATES: Record<string, Record<string, unknown>> = {
  machines: { hostname: 'x' },
  posture_reports: { machine_id: ref('A_MACHINE'), ...COMPLIANT },
  posture_policies: { name: 'fuzz', enabled: false, require_disk_encryption: false, require_firewall: false, require_antivirus: false, max_patch_age_days: 30 },
  org_settings: { posture_enforcement: 'monitor', heartbeat_interval_s: 30 },
  audit_log: { event: 'machine.registered', actor: 'me' },
  auth_keys: { description: 'fuzz', reusable: false, tags: ['web'], expires_at: '2027-01-01T00:00:00Z' },
  agent_commands: { machine_id: ref('A_MACHINE'), command: 'enable_disk_encryption', expires_at: '2026-11-21T13:00:00Z' },
  acl_rules: { name: 'fuzz', priority: 10, action: 'deny', src: 'tag:web', dst: '*', ports: '22' },
};

const PATCH_FIELDS: Record<string, Record<string, unknown>> = {
  machines: { status: 'quarantined', posture_exempt: true, tags: ['db'], hostname: 'renamed' },
  posture_reports: { compliant: true },
  posture_policies: { enabled: false, max_patch_age_days: 7 },
  org_settings: { posture_enforcement: 'enforce', report_max_age_s: 3_600, ai_operator_enabled: true },
  audit_log: { actor: 'nobody' },
  auth_keys: { revoked: true, description: 'x', expires_at: null },
  agent_commands: { status: 'cancelled' },
  acl_rules: { priority: 1, action: 'allow', ports: '*' },
};

function filtersFor(table: string): fc.Arbitrary<unknown> {
  const columns = columnsOf(table);
  return fc.oneof(
    { weight: 4, arbitrary: fc.dictionary(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...columns) }, { weight: 1, arbitrary: fc.constantFrom('node_key_hash', '__proto__', 'constructor', 'nope') }), fc.oneof(idValue, fieldValue), { minKeys: 1, maxKeys: 3 }) },
    { weight: 1, arbitrary: fieldValue },
  );
}

const dbRequest: fc.Arbitrary<FuzzRequest> = fc
  .record({ table: TABLE_NAMES, method: fc.oneof({ weight: 12, arbitrary: fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE') }, { weight: 1, arbitrary: fc.constantFrom('PUT', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND') }) })
  .chain(({ table, method }) => {
    const template = (Object.hasOwn(POST_TEMPLATES, table) && POST_TEMPLATES[table]) || { id: 'x' };
    const body =
      method === 'POST'
        ? bodyFor(template)
        : method === 'PATCH'
          ? filtersFor(table).chain((filters) => bodyFor({ _filters: filters, ...((Object.hasOwn(PATCH_FIELDS, table) && PATCH_FIELDS[table]) || { id: 'x' }) }))
          : fc.constant(undefined);
    return fc.record({
      method: fc.constant(method),
      path: queryFor(table).map((query) => `/api/db/${table}${query}`),
      headers: fc.tuple(contentType, extraHeaders).map(([type, extra]) => ({ ...(type === '' || (method !== 'POST' && method !== 'PATCH') ? {} : { 'content-type': type }), ...extra })),
      auth: adminAuth,
      body,
    });
  });

// --- org-management, acl evaluation

const orgManagementRequest: fc.Arbitrary<FuzzRequest> = fc.record({
  method: fc.constant('POST'),
  path: fc.constant('/api/org-management'),
  headers: contentType.map((type): Record<string, string> => (type === '' ? {} : { 'content-type': type })),
  auth: adminAuth,
  body: fc.constantFrom(ref('A_ORG'), ref('B_ORG')).chain((org) => bodyFor({ action: 'update_org_settings', org_id: org, posture_enforcement: 'monitor', quarantine_poll_s: 60 }, ['offline_after_s', 'report_max_age_s', 'auto_remediate_firewall'])),
});

const aclRequest: fc.Arbitrary<FuzzRequest> = fc.record({
  method: fc.constant('POST'),
  path: fc.constant('/api/acl/evaluate'),
  headers: contentType.map((type): Record<string, string> => (type === '' ? {} : { 'content-type': type })),
  auth: adminAuth,
  body: fc.tuple(idValue, idValue).chain(([src, dst]) => bodyFor({ src_machine_id: src, dst_machine_id: dst, port: 22 })),
});

// --- everything else reachable over plain HTTP

const KNOWN_PATHS = ['/healthz', '/metrics', '/api/realtime', '/api/register', '/api/db/machines', '/api/org-management', '/api/acl/evaluate', '/api/session', '/api/session', '/', '/login', '/assets/index.js', '/assets/..%2F..%2Fpackage.json', '/assets/%00', '/api', '/api/', '/api/db', '/api/db/', '/favicon.ico', '/.env', '/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/api/db/machines/../auth_keys', '/healthz%00', '/metrics?format=json', '/healthz?' + 'a=1&'.repeat(500), '//healthz', '/HEALTHZ'];

const otherRequest: fc.Arbitrary<FuzzRequest> = fc.record({
  method: fc.constantFrom('GET', 'GET', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'TRACE', 'TRACK', 'CONNECT', 'SEARCH', 'PROPFIND', 'M-SEARCH'),
  path: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...KNOWN_PATHS) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom('/healthz', '/metrics'), queryFor('machines')).map(([path, query]) => `${path}${query}`) },
    { weight: 2, arbitrary: fc.array(fc.oneof(fc.constantFrom('api', 'db', 'machines', '..', '.', '', '%2F', '%00', '%ff', '__proto__'), nastyString.map(pct)), { maxLength: 5 }).map((segments) => `/${segments.join('/')}`) },
  ),
  headers: fc.tuple(fc.constantFrom(...CONTENT_TYPES), extraHeaders).map(([type, extra]) => ({ ...(type === '' ? {} : { 'content-type': type }), ...extra })),
  auth: adminAuth,
  body: fc.option(fc.oneof(fc.uint8Array({ maxLength: 300 }).map((bytes): Piece[] => [bytes]), nastyJson().map((value): Piece[] => [JSON.stringify(value) ?? 'null'])), { nil: undefined }),
}).map((req) => (req.method === 'GET' || req.method === 'HEAD' || req.method === 'TRACE' ? { ...req, body: undefined } : req));

// --- malformed HTTP on a raw socket

const RAW_TEMPLATES: Array<(token: string) => string> = [
  () => 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
  () => 'POST /api/machine-heartbeat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"node_key":"',
  () => 'POST /api/machine-heartbeat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n{}{}{}{}',
  () => 'POST /api/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
  () => 'POST /api/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
  () => `POST /api/posture-report HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n${(1 << 20).toString(16)}\r\n`,
  (token) => `GET /api/db/machines HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nX-Long: ${'a'.repeat(20_000)}\r\n\r\n`,
  (token) => `GET /api/db/machines?id=eq.%ff%fe HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`,
  (token) => `DELETE /api/db/acl_rules?id=eq.${ref('B_ACL')} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`,
  () => 'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n',
  () => 'GET /healthz HTTP/1.1\r\nHost: x\r\n Folded: y\r\n\r\n',
  () => 'GET /healthz HTTP/1.1\r\nHost: x\r\nX: a\u0000b\r\n\r\n',
  () => 'GET /healthz HTTP/1.1\nHost: x\n\n',
  () => 'GET /healthz\r\n\r\n',
  () => 'GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n',
  () => 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
  () => 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n',
  () => 'GET http://evil.example/healthz HTTP/1.1\r\nHost: evil.example\r\n\r\n',
  () => 'FOO /healthz HTTP/1.1\r\nHost: x\r\n\r\n',
  () => `GET /${'a'.repeat(70_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
  () => 'POST /api/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}',
  () => 'POST /api/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n{}',
  () => 'POST /api/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999999999999999\r\n\r\n{}',
  () => 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n',
];

const rawRequest = fc.record({
  template: fc.nat({ max: RAW_TEMPLATES.length - 1 }),
  mutation: fc.oneof(
    { weight: 3, arbitrary: fc.constant({ kind: 'none' as const }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 512 }) }) },
  ),
});

type RawCase = { template: number; mutation: { kind: 'none' } | { kind: 'flip'; at: number; byte: number } | { kind: 'cut'; at: number } | { kind: 'insert'; at: number; bytes: Uint8Array } | { kind: 'random'; bytes: Uint8Array } };

function rawBytes(c: RawCase): Buffer {
  const base = Buffer.from(resolve((RAW_TEMPLATES[c.template] as (token: string) => string)(orgA.token)), 'latin1');
  const m = c.mutation;
  switch (m.kind) {
    case 'none':
      return base;
    case 'flip': {
      const copy = Buffer.from(base);
      copy[m.at % copy.length] = m.byte;
      return copy;
    }
    case 'cut':
      return base.subarray(0, m.at % base.length);
    case 'insert': {
      const at = m.at % base.length;
      return Buffer.concat([base.subarray(0, at), m.bytes, base.subarray(at)]);
    }
    case 'random':
      return Buffer.from(m.bytes);
  }
}

/**
 * The HTTP/1.1 responses in what a raw socket received: status, and the body when it is a
 * JSON body with a Content-Length (null otherwise: 101, HEAD-like or chunked answers).
 */
function parseResponses(data: Buffer): Array<{ status: number; body: string | null }> {
  const responses: Array<{ status: number; body: string | null }> = [];
  let at = 0;
  while (at < data.length) {
    const headEnd = data.indexOf('\r\n\r\n', at);
    const head = data.subarray(at, headEnd < 0 ? data.length : headEnd).toString('latin1');
    const status = /^HTTP\/1\.[01] (\d{3}) /.exec(head);
    if (!status) throw new Error(`raw HTTP: the server sent something that is not an HTTP response: ${JSON.stringify(head.slice(0, 200))}`);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    const json = /\r\ncontent-type: *application\/json/i.test(head);
    const bodyStart = headEnd < 0 ? data.length : headEnd + 4;
    if (Number(status[1]) === 100) {
      at = bodyStart; // 100 Continue: the final answer follows
      continue;
    }
    if (!length || Number(status[1]) === 101) {
      responses.push({ status: Number(status[1]), body: null });
      break; // the rest of the stream is not HTTP framing we can follow
    }
    const body = data.subarray(bodyStart, bodyStart + Number(length[1])).toString('utf8');
    responses.push({ status: Number(status[1]), body: json ? body : null });
    at = bodyStart + Number(length[1]);
  }
  return responses;
}

/** How many complete responses (1xx skipped) the bytes hold; the parse is lenient, checks come later. */
function completeResponses(data: Buffer): number {
  let at = 0;
  let complete = 0;
  for (;;) {
    const headEnd = data.indexOf('\r\n\r\n', at);
    if (headEnd < 0) return complete;
    const head = data.subarray(at, headEnd).toString('latin1');
    const status = Number(/^HTTP\/1\.[01] (\d{3}) /.exec(head)?.[1] ?? 0);
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    if (headEnd + 4 + length > data.length) return complete;
    at = headEnd + 4 + length;
    if (status !== 100) complete += 1;
  }
}

/**
 * Writes bytes on a raw socket and reads the answers. The client does not half-close at
 * once (Node's server drops a request whose client half-closed before the answer): it
 * waits until there are as many complete answers as request lines, or for a quiet spell,
 * then half-closes and reads until the server closes. The waits bound the case; nothing
 * is asserted about time.
 */
function sendRaw(bytes: Buffer): Promise<Outcome & { sent: string }> {
  const text = bytes.toString('latin1');
  const requestLines = (text.match(/ HTTP\/\d\.\d\r?\n/g) ?? []).length;
  // A request cut short (headers unfinished, body shorter than announced) is answered only
  // when the client gives up: half-close at once and see what the server says.
  const headEnd = text.indexOf('\r\n\r\n');
  const announced = Number(/\r\ncontent-length: *(\d+)/i.exec(text.slice(0, headEnd))?.[1] ?? 0);
  const chunked = /\r\ntransfer-encoding: *chunked/i.test(text.slice(0, headEnd));
  const complete = headEnd >= 0 && (chunked ? /\r\n0\r\n\r\n$/.test(text) : text.length - headEnd - 4 >= announced);
  return new Promise((resolvePromise, reject) => {
    const port = Number(new URL(server.url).port);
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const guard = setTimeout(() => socket.destroy(), 15_000);
    let quiet: NodeJS.Timeout | undefined;
    const waitForMore = (ms: number) => {
      clearTimeout(quiet);
      quiet = setTimeout(() => socket.end(), ms);
    };
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      if (requestLines > 0 && completeResponses(Buffer.concat(chunks)) >= requestLines) {
        clearTimeout(quiet);
        socket.end();
      } else {
        waitForMore(300);
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') reject(error);
    });
    socket.on('close', () => {
      clearTimeout(guard);
      clearTimeout(quiet);
      try {
        const responses = parseResponses(Buffer.concat(chunks));
        // Pipelined requests get several answers: each is checked, and the worst status counts.
        for (const response of responses) {
          if (response.status >= 400 && response.status < 500 && response.body !== null) expectErrorShape({ status: response.status, text: response.body, contentType: 'application/json' }, 'raw HTTP');
        }
        const status = responses.length === 0 ? null : Math.max(...responses.map((response) => response.status));
        resolvePromise({ status, text: responses.map((response) => response.body ?? '').join('\n'), contentType: '', sent: bytes.toString('latin1'), shapeChecked: true });
      } catch (error) {
        reject(error);
      }
    });
    socket.on('connect', () => {
      socket.write(bytes, () => (complete ? waitForMore(500) : socket.end()));
    });
  });
}

// --- /api/realtime

const wsRequest = fc.record({
  auth: fc.constantFrom<AuthVariant | 'query'>('valid', 'query', 'none', 'garbage', 'tampered', 'alg-none', 'expired', 'other-secret', 'huge'),
  version: fc.constantFrom('13', '13', '8', '', 'abc', '13, 8'),
  key: fc.oneof(fc.constant(randomBytes(16).toString('base64')), fc.constantFrom('', 'short', '!!!!', 'x'.repeat(100))),
  upgrade: fc.constantFrom('websocket', 'websocket', 'WebSocket', 'h2c', ''),
  protocol: fc.constantFrom(undefined, undefined, 'chat', 'a, b', 'a b', 'a,,b', 'a, a', ''),
  method: fc.constantFrom('GET', 'GET', 'GET', 'POST', 'PUT'),
  path: fc.constantFrom('/api/realtime', '/api/realtime', '/api/realtime', '/api/realtime/', '/healthz', '/api/db/machines', '/api/register', '/nope'),
  query: fc.constantFrom('', '?token=', '?token=%ff', '?token[]=x', '?token=a&token=b'),
  frames: fc.array(
    fc.oneof(
      fc.record({ kind: fc.constant('text' as const), data: nastyString }),
      fc.record({ kind: fc.constant('binary' as const), data: fc.uint8Array({ maxLength: 300 }) }),
      fc.record({ kind: fc.constant('big' as const), size: fc.constantFrom(4_096, 4_097, 70_000) }),
      fc.record({ kind: fc.constant('raw' as const), data: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
    ),
    { maxLength: 3 },
  ),
});

type WsCase = typeof wsRequest extends fc.Arbitrary<infer T> ? T : never;

/** An upgrade request over node:http; on 101, sends the frames (ws-encoded or raw bytes), then closes. */
async function sendWs(c: WsCase): Promise<Outcome & { sent: string }> {
  const auth = c.auth === 'query' ? undefined : await authHeader(c.auth);
  const query = c.auth === 'query' ? `?token=${encodeURIComponent(orgA.token)}` : c.query;
  const headers: Record<string, string> = { connection: 'Upgrade', upgrade: c.upgrade, 'sec-websocket-version': c.version, 'sec-websocket-key': c.key, ...(c.protocol !== undefined ? { 'sec-websocket-protocol': c.protocol } : {}) };
  if (auth !== undefined) headers.authorization = auth;
  for (const [name, value] of Object.entries(headers)) if (value === '') delete headers[name];
  const sent = `${c.method} ${c.path}${query} ${JSON.stringify(headers)}`;
  const port = Number(new URL(server.url).port);
  return new Promise((resolvePromise, reject) => {
    // agent: false: an upgraded (or refused) socket must never be reused for the next case.
    const request = httpRequest({ host: '127.0.0.1', port, method: c.method, path: `${c.path}${query}`, headers, agent: false, timeout: 20_000 });
    request.on('timeout', () => request.destroy(new Error('upgrade request timed out')));
    request.on('error', reject);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolvePromise({ status: response.statusCode ?? null, text: Buffer.concat(chunks).toString('utf8'), contentType: String(response.headers['content-type'] ?? ''), sent }));
    });
    request.on('upgrade', (_response, socket) => {
      // Frames the hard way: a raw byte string, or a properly masked client frame.
      const frame = (opcode: number, payload: Buffer) => {
        const mask = randomBytes(4);
        let length: Buffer;
        if (payload.length < 126) length = Buffer.from([0x80 | payload.length]);
        else if (payload.length < 65_536) length = Buffer.from([0x80 | 126, payload.length >> 8, payload.length & 0xff]);
        else {
          length = Buffer.alloc(9);
          length[0] = 0x80 | 127;
          length.writeBigUInt64BE(BigInt(payload.length), 1);
        }
        const masked = Buffer.from(payload.map((byte, i) => byte ^ (mask[i % 4] as number)));
        return Buffer.concat([Buffer.from([0x80 | opcode]), length, mask, masked]);
      };
      for (const f of c.frames) {
        if (f.kind === 'text') socket.write(frame(1, Buffer.from(f.data)));
        else if (f.kind === 'binary') socket.write(frame(2, Buffer.from(f.data)));
        else if (f.kind === 'big') socket.write(frame(2, Buffer.alloc(f.size, 0x61)));
        else socket.write(Buffer.from(f.data));
      }
      socket.on('error', () => {});
      socket.end(frame(8, Buffer.from([0x03, 0xe8])));
      socket.on('close', () => resolvePromise({ status: 101, text: '', contentType: '', sent }));
      socket.resume();
    });
    request.end();
  });
}

/** A well-behaved client (the ws library) that sends what it likes and goes away. */
async function wsClientSession(messages: string[]): Promise<Outcome & { sent: string }> {
  const socket = new WebSocket(`${server.url.replace('http', 'ws')}/api/realtime`, { headers: { authorization: `Bearer ${orgA.token}` } });
  await new Promise<void>((resolvePromise, reject) => {
    socket.once('open', () => resolvePromise());
    socket.once('error', reject);
  });
  for (const message of messages) socket.send(message);
  await new Promise<void>((resolvePromise) => {
    socket.once('close', () => resolvePromise());
    socket.close(1000, 'bye');
  });
  return { status: 101, text: '', contentType: '', sent: messages.join('') };
}

// ---------------------------------------------------------------------------------------

describe(`fuzz every route (${RUNS} cases, ${TEST_ENGINE})`, () => {
  it('agent routes: /api/register, /api/posture-report, /api/machine-heartbeat, /api/agent-commands/result, /api/deregister', async () => {
    await fc.assert(fc.asyncProperty(agentRequest, httpCheck), fcParameters(share(RUNS, 0.3)));
  }, TIMEOUT(0.3));

  it('admin /api/db/<table>: GET, POST, PATCH, DELETE with hostile filters, orders, limits and rows', async () => {
    await fc.assert(fc.asyncProperty(dbRequest, httpCheck), fcParameters(share(RUNS, 0.35)));
  }, TIMEOUT(0.35));

  it('admin /api/org-management and /api/acl/evaluate', async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(orgManagementRequest, aclRequest), httpCheck), fcParameters(share(RUNS, 0.12)));
  }, TIMEOUT(0.12));

  it('/healthz, /metrics, unknown paths and methods, hostile headers and tokens', async () => {
    await fc.assert(fc.asyncProperty(otherRequest, httpCheck), fcParameters(share(RUNS, 0.1)));
  }, TIMEOUT(0.1));

  it('malformed HTTP on a raw socket', async () => {
    await fc.assert(
      fc.asyncProperty(rawRequest, (c) => check(`raw template ${c.template} mutation ${c.mutation.kind}`, true, () => sendRaw(rawBytes(c)))),
      fcParameters(share(RUNS, 0.07)),
    );
  }, TIMEOUT(0.07));

  it('/api/realtime: upgrades with hostile tokens and headers, then hostile frames', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 4, arbitrary: wsRequest.map((c) => ({ kind: 'upgrade' as const, c })) }, { weight: 1, arbitrary: fc.array(nastyString, { maxLength: 4 }).map((messages) => ({ kind: 'client' as const, messages })) }), (input) =>
        input.kind === 'upgrade' ? check(`upgrade ${input.c.method} ${input.c.path} (auth ${input.c.auth}, version "${input.c.version}", upgrade "${input.c.upgrade}", key "${input.c.key}")`, input.c.method !== 'GET', () => sendWs(input.c)) : check('realtime client session', false, () => wsClientSession(input.messages)),
      ),
      fcParameters(share(RUNS, 0.06)),
    );
  }, TIMEOUT(0.06));

  it('afterwards: healthy, the fixtures still work, nothing polluted, org B untouched', async () => {
    await expectHealthy();
    expect(server.server.app.server.listening).toBe(true);
    expect((await server.heartbeat(refs.A_NODE_KEY as string)).status).toBe(200);
    expect((await orgA.admin('GET', `/api/db/machines?id=eq.${refs.A_MACHINE}`)).body.data).toHaveLength(1);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(stats.serverErrors).toBe(0);
    expect(stats.storedByRejected).toBe(0);
    expect(stats.cases).toBeGreaterThanOrEqual(RUNS * 0.9);
    const bRows = (await orgB.admin('GET', `/api/db/machines?id=eq.${refs.B_MACHINE}`)).body.data;
    expect(bRows).toHaveLength(1);
  });
});
