/**
 * Bad input on every route (SPEC section 4, "Errors"): a 4xx — never a 5xx — with
 * `{"success": false, "error": {code, message}}`, a 400 that names the field, 413 for a
 * body over 64 KiB, and nothing stored: every row of every table is compared before and
 * after each request.
 *
 * One server for the whole file: every case must leave the store exactly as it found it,
 * so the cases cannot disturb each other (and a case that does store something fails).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPLIANT, startTestServer } from './harness.ts';
import type { HttpResult, TestOrg, TestServer } from './harness.ts';
import { API_TABLES } from '../../src/server/domain/db-api.ts';
import type { Row, TableName } from '../../src/server/store/tables.ts';

let server: TestServer;

interface Fixture {
  org: TestOrg;
  machineId: string;
  nodeKey: string;
  authKey: string;
  authKeyId: string;
  policyId: string;
  commandId: string;
  aclId: string;
}
let f: Fixture;

beforeAll(async () => {
  server = await startTestServer();
  const org = await server.org('bad-input');
  const machine = await org.register('victim', { tags: ['web'] });
  expect((await server.report(machine.node_key, COMPLIANT)).status).toBe(200);
  const key = (await org.admin('POST', '/api/db/auth_keys', { description: 'fixture' })).body.data[0];
  const policy = (await org.addPolicy({ name: 'fixture-policy', require_firewall: true })).body.data[0];
  const command = (await org.admin('POST', '/api/db/agent_commands', { machine_id: machine.machine_id, command: 'enable_firewall' })).body.data[0];
  const acl = (await org.admin('GET', '/api/db/acl_rules')).body.data[0];
  f = { org, machineId: machine.machine_id, nodeKey: machine.node_key, authKey: key.key, authKeyId: key.id, policyId: policy.id, commandId: command.id, aclId: acl.id };
});
afterAll(() => server.close());

const ALL_TABLES: TableName[] = ['orgs', 'org_state', 'org_settings', 'posture_policies', 'machines', 'posture_reports', 'audit_log', 'auth_keys', 'agent_commands', 'acl_rules'];

/** Every row of every table, internal columns included. */
async function snapshot(): Promise<Record<string, string>> {
  await server.server.context.lastSeen.flush(server.store);
  const result: Record<string, string> = {};
  for (const table of ALL_TABLES) {
    const rows: Row[] = await server.store.select(table);
    rows.sort((x, y) => String(x.id ?? x.org_id).localeCompare(String(y.id ?? y.org_id)));
    result[table] = JSON.stringify(rows);
  }
  return result;
}

async function expectNothingStored(attempt: () => Promise<HttpResult>): Promise<HttpResult> {
  const before = await snapshot();
  const result = await attempt();
  const after = await snapshot();
  for (const table of ALL_TABLES) expect(after[table], `${table} changed after a ${result.status}: ${JSON.stringify(result.body)}`).toBe(before[table]);
  return result;
}

function expectErrorShape(result: HttpResult): void {
  expect(result.body, `not the SPEC error shape: ${JSON.stringify(result.body)}`).toMatchObject({ success: false, error: { code: expect.any(String), message: expect.any(String) } });
  expect(Object.keys(result.body).sort()).toEqual(['error', 'success']);
}

interface Req {
  method: string;
  path: string;
  body?: unknown;
  raw?: string | Buffer;
  headers?: Record<string, string>;
  /** Admin token (default: yes; agent routes ignore it). */
  token?: boolean;
}

function send(req: Req): Promise<HttpResult> {
  return server.request(req.method, req.path, {
    ...(req.headers ? { headers: req.headers } : {}),
    ...(req.token !== false ? { token: f.org.token } : {}),
    ...(req.raw !== undefined ? { raw: req.raw } : req.body !== undefined ? { body: req.body } : {}),
  });
}

interface BadCase {
  name: string;
  req: () => Req;
  /** Expected status(es); default 400. */
  status?: number | number[];
  /** A word the error message must contain (the field, column or table at fault). */
  field?: string;
}

async function expectRejected(c: BadCase): Promise<HttpResult> {
  const result = await expectNothingStored(() => send(c.req()));
  const statuses = Array.isArray(c.status) ? c.status : [c.status ?? 400];
  expect(statuses, `got ${result.status}: ${JSON.stringify(result.body)}`).toContain(result.status);
  expectErrorShape(result);
  if (c.field !== undefined) expect(result.body.error.message).toContain(c.field);
  return result;
}

const runCases = (cases: BadCase[]) => it.each(cases)('$name', async (c) => {
  await expectRejected(c);
});

// ---------------------------------------------------------------------------------------
// Malformed bodies on every route that takes one.

const BODY_ROUTES: Array<[string, string]> = [
  ['POST', '/api/register'],
  ['POST', '/api/posture-report'],
  ['POST', '/api/machine-heartbeat'],
  ['POST', '/api/agent-commands/result'],
  ...API_TABLES.map((table): [string, string] => ['POST', `/api/db/${table}`]),
  ...API_TABLES.map((table): [string, string] => ['PATCH', `/api/db/${table}`]),
  ['POST', '/api/org-management'],
  ['POST', '/api/acl/evaluate'],
];

const OVER_64_KIB = (() => {
  const shell = '{"pad":""}';
  return `{"pad":"${'x'.repeat(64 * 1024 + 1 - shell.length)}"}`;
})();

const MALFORMED: Array<Omit<BadCase, 'req' | 'name'> & { what: string; raw?: string; headers?: Record<string, string> }> = [
  { what: 'malformed JSON', raw: '{"a":' },
  { what: 'JSON with trailing garbage', raw: '{"a":1} x' },
  { what: 'single-quoted pseudo-JSON', raw: "{'a': 1}" },
  { what: 'an empty body with a JSON content type', raw: '' },
  { what: 'no body at all' },
  { what: 'an empty JSON array', raw: '[]' },
  { what: 'an array of objects', raw: '[{"hostname":"x","auth_key":"x"}]' },
  { what: 'JSON null', raw: 'null' },
  { what: 'a JSON string', raw: '"hello"' },
  { what: 'a JSON number', raw: '42' },
  { what: 'a __proto__ key', raw: '{"__proto__":{"polluted":true}}' },
  { what: 'a nested __proto__ key', raw: '{"_filters":{"__proto__":{"polluted":true}},"x":{"__proto__":{"polluted":true}}}' },
  { what: 'a constructor.prototype key', raw: '{"constructor":{"prototype":{"polluted":true}}}' },
  { what: 'a body just over 64 KiB', raw: OVER_64_KIB, status: 413 },
  { what: 'a text/plain body', raw: '{"a":1}', headers: { 'content-type': 'text/plain' }, status: [400, 415] },
  { what: 'a form-encoded body', raw: 'a=1&b=2', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: [400, 415] },
];

describe.each(BODY_ROUTES)('%s %s with a malformed body', (method, path) => {
  it.each(MALFORMED)(`${method} ${path}: $what`, async (m) => {
    await expectRejected({ name: m.what, status: m.status ?? 400, req: () => ({ method, path, ...(m.raw !== undefined ? { raw: m.raw } : {}), ...(m.headers ? { headers: m.headers } : {}) }) });
  });
});

describe('prototype pollution never sticks', () => {
  it('no polluted property on Object.prototype after the __proto__ cases', () => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });
});

// ---------------------------------------------------------------------------------------
// Agent routes: wrong types, missing fields, unknown fields. Every body carries valid
// credentials, so the only thing wrong is the named field.

const REPORT = () => ({ node_key: f.nodeKey, ...COMPLIANT });
const REGISTER = () => ({ auth_key: f.authKey, hostname: 'new-host', os: 'linux' });
const without = (object: Record<string, unknown>, key: string) => Object.fromEntries(Object.entries(object).filter(([k]) => k !== key));

const register = (name: string, field: string, body: () => Record<string, unknown>): BadCase => ({ name: `POST /api/register: ${name}`, field, req: () => ({ method: 'POST', path: '/api/register', body: body(), token: false }) });
const report = (name: string, field: string, body: () => Record<string, unknown>): BadCase => ({ name: `POST /api/posture-report: ${name}`, field, req: () => ({ method: 'POST', path: '/api/posture-report', body: body(), token: false }) });
const reportRaw = (name: string, field: string, raw: () => string): BadCase => ({ name: `POST /api/posture-report: ${name}`, field, req: () => ({ method: 'POST', path: '/api/posture-report', raw: raw(), token: false }) });
const heartbeat = (name: string, field: string, body: () => Record<string, unknown>): BadCase => ({ name: `POST /api/machine-heartbeat: ${name}`, field, req: () => ({ method: 'POST', path: '/api/machine-heartbeat', body: body(), token: false }) });
const result = (name: string, field: string | undefined, body: () => Record<string, unknown>, status?: number): BadCase => ({
  name: `POST /api/agent-commands/result: ${name}`,
  ...(field ? { field } : {}),
  ...(status ? { status } : {}),
  req: () => ({ method: 'POST', path: '/api/agent-commands/result', body: body(), token: false }),
});

describe('agent routes reject bad fields and store nothing', () => {
  runCases([
    register('missing auth_key', 'auth_key', () => without(REGISTER(), 'auth_key')),
    register('missing hostname', 'hostname', () => without(REGISTER(), 'hostname')),
    register('auth_key is a number', 'auth_key', () => ({ ...REGISTER(), auth_key: 12345 })),
    register('auth_key is an object', 'auth_key', () => ({ ...REGISTER(), auth_key: { key: f.authKey } })),
    register('hostname is a number', 'hostname', () => ({ ...REGISTER(), hostname: 42 })),
    register('hostname is a boolean', 'hostname', () => ({ ...REGISTER(), hostname: true })),
    register('hostname is empty', 'hostname', () => ({ ...REGISTER(), hostname: '' })),
    register('hostname is blanks', 'hostname', () => ({ ...REGISTER(), hostname: '    ' })),
    register('hostname is 300 characters', 'hostname', () => ({ ...REGISTER(), hostname: 'h'.repeat(300) })),
    register('hostname is a nested object', 'hostname', () => ({ ...REGISTER(), hostname: { $ne: null } })),
    register('hostname is null', 'hostname', () => ({ ...REGISTER(), hostname: null })),
    register('os is a number', 'os', () => ({ ...REGISTER(), os: 7 })),
    register('os_version is a boolean', 'os_version', () => ({ ...REGISTER(), os_version: true })),
    register('arch is an object', 'arch', () => ({ ...REGISTER(), arch: { bits: 64 } })),
    register('agent_version is an array', 'agent_version', () => ({ ...REGISTER(), agent_version: ['1.0'] })),
    register('tags is a string', 'tags', () => ({ ...REGISTER(), tags: 'web' })),
    register('tags holds a number', 'tags', () => ({ ...REGISTER(), tags: [1] })),
    register('tags holds an object', 'tags', () => ({ ...REGISTER(), tags: [{ name: 'web' }] })),
    register('a tag with spaces and quotes', 'tags', () => ({ ...REGISTER(), tags: ["web'; DROP TABLE machines; --"] })),
    register('33 tags', 'tags', () => ({ ...REGISTER(), tags: Array.from({ length: 33 }, (_, i) => `t${i}`) })),
    register('an unknown field', 'is_admin', () => ({ ...REGISTER(), is_admin: true })),
    register('an org_id field', 'org_id', () => ({ ...REGISTER(), org_id: 'someone-else' })),
    register('a status field', 'status', () => ({ ...REGISTER(), status: 'online' })),

    report('missing node_key', 'node_key', () => without(REPORT(), 'node_key')),
    report('node_key is a number', 'node_key', () => ({ ...REPORT(), node_key: 1 })),
    report('node_key is an object', 'node_key', () => ({ ...REPORT(), node_key: { $gt: '' } })),
    report('os_version is a number', 'os_version', () => ({ ...REPORT(), os_version: 14 })),
    report('os_version is empty', 'os_version', () => ({ ...REPORT(), os_version: '' })),
    report('os_version is a nested object', 'os_version', () => ({ ...REPORT(), os_version: { name: 'linux' } })),
    report('disk_encrypted is the string "true"', 'disk_encrypted', () => ({ ...REPORT(), disk_encrypted: 'true' })),
    report('firewall_enabled is 1', 'firewall_enabled', () => ({ ...REPORT(), firewall_enabled: 1 })),
    report('firewall_enabled is the string "yes"', 'firewall_enabled', () => ({ ...REPORT(), firewall_enabled: 'yes' })),
    report('antivirus_enabled is an object', 'antivirus_enabled', () => ({ ...REPORT(), antivirus_enabled: { value: true } })),
    report('antivirus_enabled is an array', 'antivirus_enabled', () => ({ ...REPORT(), antivirus_enabled: [true] })),
    report('patch_age_days is a float', 'patch_age_days', () => ({ ...REPORT(), patch_age_days: 1.5 })),
    report('patch_age_days is negative', 'patch_age_days', () => ({ ...REPORT(), patch_age_days: -1 })),
    report('patch_age_days is a string', 'patch_age_days', () => ({ ...REPORT(), patch_age_days: '3' })),
    report('patch_age_days is 1e300', 'patch_age_days', () => ({ ...REPORT(), patch_age_days: 1e300 })),
    report('patch_age_days is 2^53 + 2', 'patch_age_days', () => ({ ...REPORT(), patch_age_days: 2 ** 53 + 2 })),
    report('patch_age_days is a boolean', 'patch_age_days', () => ({ ...REPORT(), patch_age_days: true })),
    report('patch_age_days is an object', 'patch_age_days', () => ({ ...REPORT(), patch_age_days: { days: 3 } })),
    reportRaw('patch_age_days is 1e309 (Infinity)', 'patch_age_days', () => JSON.stringify(REPORT()).replace('"patch_age_days":3', '"patch_age_days":1e309')),
    reportRaw('patch_age_days is -1e400 (-Infinity)', 'patch_age_days', () => JSON.stringify(REPORT()).replace('"patch_age_days":3', '"patch_age_days":-1e400')),
    report('collected_at is not a timestamp', 'collected_at', () => ({ ...REPORT(), collected_at: 'yesterday' })),
    report('evidence is a string', 'evidence', () => ({ ...REPORT(), evidence: 'all good' })),
    report('platform is 100 characters', 'platform', () => ({ ...REPORT(), platform: 'p'.repeat(100) })),
    report('hostname is a number', 'hostname', () => ({ ...REPORT(), hostname: 5 })),

    heartbeat('missing node_key', 'node_key', () => ({ agent_version: '1.0' })),
    heartbeat('node_key is a number', 'node_key', () => ({ node_key: 42 })),
    heartbeat('node_key is an array', 'node_key', () => ({ node_key: [f.nodeKey] })),
    heartbeat('node_key is 300 characters', 'node_key', () => ({ node_key: 'k'.repeat(300) })),
    heartbeat('agent_version is a number', 'agent_version', () => ({ node_key: f.nodeKey, agent_version: 1 })),
    heartbeat('peers_version is negative', 'peers_version', () => ({ node_key: f.nodeKey, peers_version: -1 })),
    heartbeat('peers_version is a float', 'peers_version', () => ({ node_key: f.nodeKey, peers_version: 1.5 })),
    heartbeat('peers_version is a string', 'peers_version', () => ({ node_key: f.nodeKey, peers_version: '3' })),
    heartbeat('peers_version is 1e300', 'peers_version', () => ({ node_key: f.nodeKey, peers_version: 1e300 })),
    heartbeat('an unknown field', 'status', () => ({ node_key: f.nodeKey, status: 'online' })),

    result('missing id', 'id', () => ({ node_key: f.nodeKey, status: 'applied' })),
    result('id is a number', 'id', () => ({ node_key: f.nodeKey, id: 7, status: 'applied' })),
    result('missing status', 'status', () => ({ node_key: f.nodeKey, id: f.commandId })),
    result('status is not applied/failed', 'status', () => ({ node_key: f.nodeKey, id: f.commandId, status: 'done' })),
    result('status "pending"', 'status', () => ({ node_key: f.nodeKey, id: f.commandId, status: 'pending' })),
    result('status is a boolean', 'status', () => ({ node_key: f.nodeKey, id: f.commandId, status: true })),
    result('missing node_key', 'node_key', () => ({ id: f.commandId, status: 'applied' })),
    result('an unknown field', 'org_id', () => ({ node_key: f.nodeKey, id: f.commandId, status: 'applied', org_id: 'x' })),
    result('result over 16 KiB', 'result', () => ({ node_key: f.nodeKey, id: f.commandId, status: 'applied', result: { log: 'x'.repeat(17_000) } })),
    result('an unknown command id', undefined, () => ({ node_key: f.nodeKey, id: '00000000-0000-0000-0000-000000000000', status: 'applied' }), 404),
  ]);
});

// ---------------------------------------------------------------------------------------
// Admin writes: POST and PATCH /api/db/<table>, org-management, acl evaluation.

const post = (table: string, name: string, field: string | undefined, body: () => unknown, status?: number): BadCase => ({
  name: `POST /api/db/${table}: ${name}`,
  ...(field ? { field } : {}),
  ...(status ? { status } : {}),
  req: () => ({ method: 'POST', path: `/api/db/${table}`, body: body() }),
});
const patch = (table: string, name: string, field: string | undefined, body: () => unknown, query = '', status?: number): BadCase => ({
  name: `PATCH /api/db/${table}${query ? `?${query}` : ''}: ${name}`,
  ...(field ? { field } : {}),
  ...(status ? { status } : {}),
  req: () => ({ method: 'PATCH', path: `/api/db/${table}${query ? `?${query}` : ''}`, body: body() }),
});
const orgManagement = (name: string, field: string, body: () => unknown): BadCase => ({ name: `POST /api/org-management: ${name}`, field, req: () => ({ method: 'POST', path: '/api/org-management', body: body() }) });
const evaluate = (name: string, field: string, body: () => Record<string, unknown>): BadCase => ({ name: `POST /api/acl/evaluate: ${name}`, field, req: () => ({ method: 'POST', path: '/api/acl/evaluate', body: body() }) });
const ACL = () => ({ src_machine_id: f.machineId, dst_machine_id: f.machineId });

describe('POST /api/db/<table> rejects bad rows and stores nothing', () => {
  runCases([
    post('posture_policies', 'enabled is the string "yes"', 'enabled', () => ({ enabled: 'yes' })),
    post('posture_policies', 'require_firewall is 1', 'require_firewall', () => ({ require_firewall: 1 })),
    post('posture_policies', 'require_antivirus is "false"', 'require_antivirus', () => ({ require_antivirus: 'false' })),
    post('posture_policies', 'max_patch_age_days is a float', 'max_patch_age_days', () => ({ max_patch_age_days: 1.5 })),
    post('posture_policies', 'max_patch_age_days is negative', 'max_patch_age_days', () => ({ max_patch_age_days: -1 })),
    post('posture_policies', 'max_patch_age_days is a string', 'max_patch_age_days', () => ({ max_patch_age_days: '30' })),
    post('posture_policies', 'max_patch_age_days is 1e300', 'max_patch_age_days', () => ({ max_patch_age_days: 1e300 })),
    post('posture_policies', 'max_patch_age_days is an object', 'max_patch_age_days', () => ({ max_patch_age_days: { days: 30 } })),
    post('posture_policies', 'name is empty', 'name', () => ({ name: '' })),
    post('posture_policies', 'name is a number', 'name', () => ({ name: 5 })),
    post('posture_policies', 'id is not a uuid', 'id', () => ({ id: "1'; DROP TABLE posture_policies; --" })),
    { name: 'POST /api/db/posture_policies: the id of an existing policy (ids are server-generated)', status: [400, 409], req: () => ({ method: 'POST', path: '/api/db/posture_policies', body: { id: f.policyId, name: 'dup' } }) },
    { name: 'POST /api/db/acl_rules: the id of an existing rule (ids are server-generated)', status: [400, 409], req: () => ({ method: 'POST', path: '/api/db/acl_rules', body: { id: f.aclId, name: 'dup' } }) },
    post('posture_policies', 'a misspelt requirement (strict schema)', 'require_firewal', () => ({ require_firewal: true })),
    post('posture_policies', 'a created_at field', 'created_at', () => ({ created_at: '2020-01-01T00:00:00Z' })),
    post('posture_policies', 'org_id is a number', 'org_id', () => ({ org_id: 5 })),
    post('acl_rules', 'priority is a string', 'priority', () => ({ priority: 'high' })),
    post('acl_rules', 'priority is a float', 'priority', () => ({ priority: 1.5 })),
    post('acl_rules', 'priority is huge', 'priority', () => ({ priority: 1e12 })),
    post('acl_rules', 'action is not allow/deny', 'action', () => ({ action: 'maybe' })),
    post('acl_rules', 'src with SQL in it', 'src', () => ({ src: "tag:web'; DROP TABLE acl_rules; --" })),
    post('acl_rules', 'dst is an array', 'dst', () => ({ dst: ['*'] })),
    post('acl_rules', 'ports out of range', 'ports', () => ({ ports: '99999' })),
    post('acl_rules', 'ports is words', 'ports', () => ({ ports: 'ssh' })),
    post('acl_rules', 'ports range reversed', 'ports', () => ({ ports: '443-22' })),
    post('acl_rules', 'an unknown field', 'enabled', () => ({ enabled: true })),
    post('auth_keys', 'reusable is "true"', 'reusable', () => ({ reusable: 'true' })),
    post('auth_keys', 'expires_at is not a timestamp', 'expires_at', () => ({ expires_at: 'tomorrow' })),
    post('auth_keys', 'expires_at is a number', 'expires_at', () => ({ expires_at: 1_900_000_000 })),
    post('auth_keys', 'tags is a string', 'tags', () => ({ tags: 'web' })),
    post('auth_keys', 'a tag with a space', 'tags', () => ({ tags: ['web server'] })),
    post('auth_keys', 'description is an object', 'description', () => ({ description: { text: 'x' } })),
    post('auth_keys', 'a key_hash field', 'key_hash', () => ({ key_hash: '00'.repeat(32) })),
    post('auth_keys', 'a key field', 'key', () => ({ key: 'ztna_auth_0000000000000000_' + 'a'.repeat(43) })),
    post('agent_commands', 'missing machine_id', 'machine_id', () => ({ command: 'enable_firewall' })),
    post('agent_commands', 'machine_id is a number', 'machine_id', () => ({ machine_id: 5, command: 'enable_firewall' })),
    post('agent_commands', 'an unknown machine_id', 'machine_id', () => ({ machine_id: '00000000-0000-0000-0000-000000000000', command: 'enable_firewall' })),
    post('agent_commands', 'missing command', 'command', () => ({ machine_id: f.machineId })),
    post('agent_commands', 'a command outside the catalogue', 'command', () => ({ machine_id: f.machineId, command: 'rm -rf /' })),
    post('agent_commands', 'expires_at in the past', 'expires_at', () => ({ machine_id: f.machineId, command: 'enable_firewall', expires_at: '2020-01-01T00:00:00Z' })),
    post('agent_commands', 'expires_at is not a timestamp', 'expires_at', () => ({ machine_id: f.machineId, command: 'enable_firewall', expires_at: 'soon' })),
    post('agent_commands', 'a status field', 'status', () => ({ machine_id: f.machineId, command: 'enable_firewall', status: 'applied' })),
    post('org_settings', 'an unknown enforcement mode', 'posture_enforcement', () => ({ posture_enforcement: 'strict' })),
    post('org_settings', 'the mode in capitals', 'posture_enforcement', () => ({ posture_enforcement: 'ENFORCE' })),
    post('org_settings', 'heartbeat_interval_s is 0', 'heartbeat_interval_s', () => ({ heartbeat_interval_s: 0 })),
    post('org_settings', 'heartbeat_interval_s is a float', 'heartbeat_interval_s', () => ({ heartbeat_interval_s: 0.5 })),
    post('org_settings', 'heartbeat_interval_s is a string', 'heartbeat_interval_s', () => ({ heartbeat_interval_s: '30' })),
    post('org_settings', 'offline_after_s is negative', 'offline_after_s', () => ({ offline_after_s: -1 })),
    post('org_settings', 'quarantine_poll_s is 1e12', 'quarantine_poll_s', () => ({ quarantine_poll_s: 1e12 })),
    post('org_settings', 'report_max_age_s is a string', 'report_max_age_s', () => ({ report_max_age_s: 'x' })),
    // SPEC 7.1: every interval is at most a day (was: up to a year, and a value past Node's
    // 24.8-day timer limit made every agent of the org loop).
    ...(['heartbeat_interval_s', 'posture_interval_s', 'quarantine_poll_s', 'offline_after_s', 'report_max_age_s'] as const).map((field) =>
      post('org_settings', `${field} is 86,401 s (over a day)`, field, () => ({ [field]: 86_401 })),
    ),
    post('org_settings', 'heartbeat_interval_s is 2^31 s (past the timer limit)', 'heartbeat_interval_s', () => ({ heartbeat_interval_s: 2_147_484 })),
    post('org_settings', 'ai_operator_enabled is "yes"', 'ai_operator_enabled', () => ({ ai_operator_enabled: 'yes' })),
    post('org_settings', 'an unknown setting', 'cache_ttl_s', () => ({ cache_ttl_s: 3600 })),
    post('org_settings', 'a valid mode with a bad interval (nothing half-applied)', 'heartbeat_interval_s', () => ({ posture_enforcement: 'enforce', heartbeat_interval_s: -5 })),
    post('machines', 'machines are created by enrollment only', undefined, () => ({ hostname: 'injected' }), 405),
    post('posture_reports', 'read-only', undefined, () => ({ machine_id: f.machineId, ...COMPLIANT }), 405),
    post('audit_log', 'read-only', undefined, () => ({ event: 'machine.registered', actor: 'me' }), 405),
  ]);
});

describe('PATCH /api/db/<table> rejects bad patches and changes nothing', () => {
  const id = () => ({ id: f.machineId });
  runCases([
    patch('machines', 'no filter at all', 'filter', () => ({ hostname: 'everyone' })),
    patch('machines', '_filters is an array', '_filters', () => ({ _filters: [f.machineId], hostname: 'x' })),
    patch('machines', '_filters is a string', '_filters', () => ({ _filters: `id=${f.machineId}`, hostname: 'x' })),
    patch('machines', '_filters names an unknown column', 'nope', () => ({ _filters: { nope: 1 }, hostname: 'x' })),
    patch('machines', '_filters names node_key_hash', 'node_key_hash', () => ({ _filters: { node_key_hash: 'x' }, hostname: 'x' })),
    patch('machines', '_filters names node_key_id', 'node_key_id', () => ({ _filters: { node_key_id: 'x' }, hostname: 'x' })),
    patch('machines', '_filters value is an operator object', 'id', () => ({ _filters: { id: { $ne: null } }, hostname: 'x' })),
    patch('machines', '_filters value is an array', 'id', () => ({ _filters: { id: [f.machineId] }, hostname: 'x' })),
    patch('machines', '_filters risk_score is not an integer', 'risk_score', () => ({ _filters: { risk_score: 'abc' }, hostname: 'x' })),
    patch('machines', '_filters created_at is not a timestamp', 'created_at', () => ({ _filters: { created_at: 'yesterday' }, hostname: 'x' })),
    patch('machines', 'status is not a status', 'status', () => ({ _filters: id(), status: 'deleted' })),
    patch('machines', 'status "offline" is not the admin\'s to set', 'status', () => ({ _filters: id(), status: 'offline' })),
    patch('machines', 'status is a boolean', 'status', () => ({ _filters: id(), status: true })),
    patch('machines', 'posture_exempt is "yes"', 'posture_exempt', () => ({ _filters: id(), posture_exempt: 'yes' })),
    patch('machines', 'hostname is empty', 'hostname', () => ({ _filters: id(), hostname: '' })),
    patch('machines', 'tags holds an object', 'tags', () => ({ _filters: id(), tags: [{}] })),
    patch('machines', 'a valid status with a bad hostname (nothing half-applied)', 'hostname', () => ({ _filters: id(), status: 'quarantined', hostname: 42 })),
    patch('machines', 'node_key_hash is not writable', 'node_key_hash', () => ({ _filters: id(), node_key_hash: '00'.repeat(32) })),
    patch('machines', 'org_id is not writable', 'org_id', () => ({ _filters: id(), org_id: 'elsewhere' })),
    patch('machines', 'id is not writable', 'id', () => ({ _filters: id(), id: 'new-id' })),
    patch('machines', 'risk_score is not writable', 'risk_score', () => ({ _filters: id(), risk_score: 0 })),
    patch('machines', 'a query filter on an internal column', 'node_key_hash', () => ({ hostname: 'x' }), 'node_key_hash=eq.x'),
    patch('machines', 'a query filter with a bad value', 'risk_score', () => ({ hostname: 'x' }), 'risk_score=gt.lots'),
    patch('posture_policies', 'max_patch_age_days is negative', 'max_patch_age_days', () => ({ _filters: { id: f.policyId }, max_patch_age_days: -1 })),
    patch('posture_policies', 'enabled is "no"', 'enabled', () => ({ _filters: { id: f.policyId }, enabled: 'no' })),
    patch('posture_policies', 'org_id is not writable', 'org_id', () => ({ _filters: { id: f.policyId }, org_id: 'x' })),
    patch('posture_policies', 'no filter', 'filter', () => ({ enabled: false })),
    patch('acl_rules', 'ports is words', 'ports', () => ({ _filters: { id: f.aclId }, ports: 'all' })),
    patch('acl_rules', 'action is an object', 'action', () => ({ _filters: { id: f.aclId }, action: { allow: true } })),
    patch('auth_keys', 'revoked is "true"', 'revoked', () => ({ _filters: { id: f.authKeyId }, revoked: 'true' })),
    patch('auth_keys', 'expires_at is "never"', 'expires_at', () => ({ _filters: { id: f.authKeyId }, expires_at: 'never' })),
    patch('auth_keys', 'key_hash is not writable', 'key_hash', () => ({ _filters: { id: f.authKeyId }, key_hash: '00'.repeat(32) })),
    patch('auth_keys', 'used_count is not writable', 'used_count', () => ({ _filters: { id: f.authKeyId }, used_count: 0 })),
    patch('auth_keys', '_filters on key_hash', 'key_hash', () => ({ _filters: { key_hash: 'x' }, revoked: true })),
    patch('agent_commands', 'status "applied" is the agent\'s to set', 'status', () => ({ _filters: { id: f.commandId }, status: 'applied' })),
    patch('agent_commands', 'status "pending"', 'status', () => ({ _filters: { id: f.commandId }, status: 'pending' })),
    patch('agent_commands', 'command is not writable', 'command', () => ({ _filters: { id: f.commandId }, status: 'cancelled', command: 'enable_disk_encryption' })),
    patch('org_settings', 'the mode in capitals', 'posture_enforcement', () => ({ posture_enforcement: 'ENFORCE' })),
    patch('org_settings', 'offline_after_s is a float', 'offline_after_s', () => ({ offline_after_s: 1.5 })),
    patch('org_settings', 'posture_enforcement is null', 'posture_enforcement', () => ({ posture_enforcement: null })),
    patch('org_settings', 'an unknown setting', 'cache_ttl_s', () => ({ cache_ttl_s: 3600 })),
    patch('org_settings', 'updated_at is not writable', 'updated_at', () => ({ updated_at: '2020-01-01T00:00:00Z' })),
    patch('posture_reports', 'read-only', undefined, () => ({ _filters: { machine_id: f.machineId }, compliant: false }), '', 405),
    patch('audit_log', 'read-only', undefined, () => ({ _filters: { event: 'machine.registered' }, actor: 'nobody' }), '', 405),
  ]);
});

describe('org-management and acl evaluation reject bad bodies', () => {
  runCases([
    orgManagement('missing action', 'action', () => ({ posture_enforcement: 'enforce' })),
    orgManagement('an unknown action', 'action', () => ({ action: 'delete_org' })),
    orgManagement('action is a number', 'action', () => ({ action: 1 })),
    orgManagement('action is an object', 'action', () => ({ action: { name: 'update_org_settings' } })),
    orgManagement('org_id is a number', 'org_id', () => ({ action: 'update_org_settings', org_id: 5 })),
    orgManagement('an unknown mode', 'posture_enforcement', () => ({ action: 'update_org_settings', posture_enforcement: 'lockdown' })),
    orgManagement('an interval of 0', 'heartbeat_interval_s', () => ({ action: 'update_org_settings', heartbeat_interval_s: 0 })),
    orgManagement('an unknown setting', 'cache_ttl_s', () => ({ action: 'update_org_settings', cache_ttl_s: 3600 })),
    orgManagement('a valid mode with a bad setting (nothing half-applied)', 'report_max_age_s', () => ({ action: 'update_org_settings', posture_enforcement: 'enforce', report_max_age_s: -1 })),
    evaluate('missing src_machine_id', 'src_machine_id', () => without(ACL(), 'src_machine_id')),
    evaluate('missing dst_machine_id', 'dst_machine_id', () => without(ACL(), 'dst_machine_id')),
    evaluate('src_machine_id is a number', 'src_machine_id', () => ({ ...ACL(), src_machine_id: 1 })),
    evaluate('dst_machine_id is an object', 'dst_machine_id', () => ({ ...ACL(), dst_machine_id: { $ne: null } })),
    evaluate('src_machine_id is 100 characters', 'src_machine_id', () => ({ ...ACL(), src_machine_id: 'm'.repeat(100) })),
    evaluate('port is negative', 'port', () => ({ ...ACL(), port: -1 })),
    evaluate('port is 70000', 'port', () => ({ ...ACL(), port: 70_000 })),
    evaluate('port is a float', 'port', () => ({ ...ACL(), port: 22.5 })),
    evaluate('port is a string', 'port', () => ({ ...ACL(), port: '22' })),
    evaluate('an unknown field', 'protocol', () => ({ ...ACL(), protocol: 'tcp' })),
  ]);
});

// ---------------------------------------------------------------------------------------
// Query strings and table names.

const get = (path: string, field?: string, status?: number | number[]): BadCase => ({ name: `GET ${path}`, ...(field ? { field } : {}), ...(status ? { status } : {}), req: () => ({ method: 'GET', path }) });
const del = (path: string, field?: string, status?: number | number[]): BadCase => ({ name: `DELETE ${path}`, ...(field ? { field } : {}), ...(status ? { status } : {}), req: () => ({ method: 'DELETE', path }) });

const BAD_TABLES: Array<[string, string]> = [
  ['nope', 'nope'],
  ['orgs', 'orgs'],
  ['org_state', 'org_state'],
  ['sqlite_master', 'sqlite_master'],
  ['Machines', 'Machines'],
  ['machines%3BDROP%20TABLE%20machines', 'machines;DROP TABLE machines'],
  ["machines'%20OR%201%3D1%20--", "machines' OR 1=1 --"],
  ['machines%00', 'machines'],
  ['__proto__', '__proto__'],
  ['constructor', 'constructor'],
];

describe('unknown tables are a 400 naming the table, on every verb', () => {
  const cases: BadCase[] = [];
  for (const [segment, shown] of BAD_TABLES) {
    for (const method of ['GET', 'POST', 'PATCH', 'DELETE']) {
      const withBody = method === 'POST' || method === 'PATCH';
      cases.push({
        name: `${method} /api/db/${segment}`,
        field: shown,
        req: () => ({ method, path: `/api/db/${segment}${method === 'DELETE' ? '?id=eq.x' : ''}`, ...(withBody ? { body: { _filters: { id: 'x' }, name: 'x' } } : {}) }),
      });
    }
  }
  runCases(cases);
});

describe('bad filters, orders and limits are a 400 naming the column', () => {
  runCases([
    get('/api/db/machines?nope=eq.1', 'nope'),
    get('/api/db/machines?nope=1', 'nope'),
    get('/api/db/machines?node_key_hash=eq.x', 'node_key_hash'),
    get('/api/db/machines?node_key_hash=is.null', 'node_key_hash'),
    get('/api/db/machines?node_key_id=eq.x', 'node_key_id'),
    get('/api/db/auth_keys?key_hash=eq.x', 'key_hash'),
    get('/api/db/auth_keys?key_hash=neq.x', 'key_hash'),
    get('/api/db/machines?order=node_key_hash.asc', 'node_key_hash'),
    get('/api/db/auth_keys?order=key_hash.desc', 'key_hash'),
    get('/api/db/machines?select=node_key_hash', 'node_key_hash'),
    get('/api/db/machines?select=id,node_key_hash', 'node_key_hash'),
    get('/api/db/auth_keys?select=key_hash', 'key_hash'),
    get('/api/db/machines?risk_score=eq.abc', 'risk_score'),
    get('/api/db/machines?risk_score=gt.1.5', 'risk_score'),
    get('/api/db/machines?risk_score=eq.99999999999999999999', 'risk_score'),
    get('/api/db/machines?posture_exempt=eq.maybe', 'posture_exempt'),
    get('/api/db/machines?posture_exempt=eq.1', 'posture_exempt'),
    get('/api/db/machines?created_at=gt.yesterday', 'created_at'),
    get('/api/db/machines?last_seen=lt.2026-99-99', 'last_seen'),
    get('/api/db/machines?tags=eq.web', 'tags'),
    get('/api/db/machines?status=is.maybe', 'status'),
    get('/api/db/machines?id=in.(a,b', 'id'),
    get("/api/db/machines?id=in.(a,b'))--", 'id'),
    get('/api/db/machines?id=in.a,b', 'id'),
    get(`/api/db/machines?hostname=eq.${'h'.repeat(2000)}`, 'hostname'),
    get('/api/db/machines?order=nope.asc', 'nope'),
    get('/api/db/machines?order=hostname.sideways', 'order'),
    get('/api/db/machines?order=hostname;DROP%20TABLE%20machines', 'order'),
    get('/api/db/machines?order=hostname.asc.nullsmiddle', 'order'),
    get('/api/db/machines?order=hostname.asc&order=id.desc', 'order'),
    get('/api/db/machines?order=', 'order'),
    get('/api/db/machines?limit=-1', 'limit'),
    get('/api/db/machines?limit=abc', 'limit'),
    get('/api/db/machines?limit=1e3', 'limit'),
    get('/api/db/machines?limit=1.5', 'limit'),
    get('/api/db/machines?limit=99999999999', 'limit'),
    get('/api/db/machines?limit=', 'limit'),
    get('/api/db/machines?limit=1;DROP%20TABLE%20machines', 'limit'),
    get('/api/db/machines?limit=1&limit=2', 'limit'),
    get('/api/db/machines?offset=-5', 'offset'),
    get('/api/db/machines?offset=abc', 'offset'),
    get('/api/db/audit_log?details=eq.x', 'details'),
    get('/api/db/posture_reports?violations=in.(a)', 'violations'),
    del('/api/db/machines', 'filter'),
    del('/api/db/acl_rules', 'filter'),
    del('/api/db/machines?nope=eq.1', 'nope'),
    del('/api/db/machines?node_key_hash=eq.x', 'node_key_hash'),
    del('/api/db/auth_keys?key_hash=is.null', 'key_hash'),
    del('/api/db/machines?risk_score=lt.many', 'risk_score'),
    del('/api/db/machines?id=in.(a', 'id'),
    del('/api/db/org_settings?org_id=eq.x', undefined, 405),
    del('/api/db/audit_log?event=eq.machine.registered', undefined, 405),
    del('/api/db/posture_reports?compliant=is.true', undefined, 405),
  ]);
});

/** Inputs that are not errors but must not do anything (200 with no rows, nothing changed). */
describe('odd operators and SQL-ish values are plain values: 200, no rows, nothing changed', () => {
  const harmless = [
    ['GET', '/api/db/machines?status=like.x'],
    ['GET', '/api/db/machines?status=ilike.*online*'],
    ['GET', '/api/db/machines?status=not.eq.online'],
    ['GET', '/api/db/machines?status=cs.{online}'],
    ['GET', `/api/db/machines?hostname=eq.${encodeURIComponent("' OR 1=1 --")}`],
    ['GET', `/api/db/machines?hostname=${encodeURIComponent("victim' OR '1'='1")}`],
    ['GET', `/api/db/machines?hostname=eq.${encodeURIComponent("x'; DROP TABLE machines; --")}`],
    ['GET', `/api/db/machines?id=in.(${encodeURIComponent("a,b'),c) OR 1=1 --")})`],
    ['GET', `/api/db/machines?id=eq.${encodeURIComponent('1 UNION SELECT key_hash FROM auth_keys')}`],
    ['GET', `/api/db/auth_keys?description=eq.${encodeURIComponent('" OR ""="')}`],
    ['GET', '/api/db/machines?id=in.()'],
    ['DELETE', '/api/db/machines?status=like.%25'],
    ['DELETE', `/api/db/machines?hostname=eq.${encodeURIComponent("' OR 1=1 --")}`],
    ['DELETE', `/api/db/acl_rules?id=in.(${encodeURIComponent("x') OR ('1'='1")})`],
    ['DELETE', `/api/db/auth_keys?id=eq.${encodeURIComponent("x' OR 'a'='a")}`],
    ['DELETE', '/api/db/machines?id=in.()'],
    ['PATCH', `/api/db/machines?hostname=eq.${encodeURIComponent("' OR 1=1 --")}`],
  ] as const;
  it.each(harmless)('%s %s', async (method, path) => {
    const result = await expectNothingStored(() => send({ method, path, ...(method === 'PATCH' ? { body: { hostname: 'owned' } } : {}) }));
    expect(result.status, JSON.stringify(result.body)).toBe(200);
    expect(result.body).toEqual({ success: true, data: [] });
  });

  it('a NUL character in a filter value is a 400 on every engine (PostgreSQL cannot store one)', async () => {
    const result = await expectNothingStored(() => send({ method: 'GET', path: '/api/db/machines?hostname=eq.%00' }));
    expect(result.status).toBe(400);
    expect(result.body.error.message).toMatch(/^hostname: .*NUL/);
  });

  it('a NUL character in a body string is a 400 on every engine', async () => {
    const result = await expectNothingStored(() => send({ method: 'POST', path: '/api/register', body: { auth_key: 'x', hostname: 'a\u0000b' }, token: false }));
    expect(result.status).toBe(400);
    expect(result.body.error.message).toMatch(/^hostname: .*U\+0000/);
  });

  it('the fixture machine is still there and listed after all of that', async () => {
    const rows = (await f.org.admin('GET', '/api/db/machines')).body.data;
    expect(rows.map((row: { id: string }) => row.id)).toContain(f.machineId);
    expect(await server.store.count('machines')).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------
// Invalid UTF-8 (fetch sends Buffers as they are).

describe('invalid UTF-8', () => {
  const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))));

  it('a stray invalid byte outside any string is malformed JSON: 400, nothing stored', async () => {
    await expectRejected({ name: 'utf8', req: () => ({ method: 'POST', path: '/api/register', raw: bytes(`{"auth_key":"${f.authKey}",`, [0xff], '"hostname":"x"}'), token: false }) });
  });

  it('invalid bytes in a value of an otherwise invalid body: 400 naming the field, nothing stored', async () => {
    await expectRejected({ name: 'utf8', field: 'hostname', req: () => ({ method: 'POST', path: '/api/register', raw: bytes(`{"auth_key":"${f.authKey}","os":"`, [0xc3, 0x28, 0xff], '"}'), token: false }) });
    await expectRejected({ name: 'utf8', field: 'patch_age_days', req: () => ({ method: 'POST', path: '/api/posture-report', raw: bytes(`{"node_key":"${f.nodeKey}","os_version":"`, [0xed, 0xa0, 0x80], '","firewall_enabled":true,"antivirus_enabled":true,"patch_age_days":-1}'), token: false }) });
  });

  it('invalid bytes in an otherwise valid report never give a 5xx; if stored, the text is well-formed Unicode', async () => {
    const response = await send({ method: 'POST', path: '/api/posture-report', token: false, raw: bytes(`{"node_key":"${f.nodeKey}","os_version":"linux `, [0xff, 0xfe, 0xc3], '","disk_encrypted":true,"firewall_enabled":true,"antivirus_enabled":true,"patch_age_days":1}') });
    expect(response.status).toBeLessThan(500);
    const stored = (await f.org.admin('GET', `/api/db/posture_reports?machine_id=eq.${f.machineId}`)).body.data[0];
    expect(String(stored.os_version).isWellFormed()).toBe(true);
    // Put the fixture's report back as it was.
    expect((await server.report(f.nodeKey, COMPLIANT)).status).toBe(200);
  });
});

// ---------------------------------------------------------------------------------------
// SPEC 7.1 string rules: every stored string, on every route and both engines, refuses
// C0/C1 controls, format characters (bidi, zero-width), line/paragraph separators and
// lone surrogates — 400 naming the field, nothing stored. (Before: only register's fields
// refused Cc and bidi overrides; zero-width characters, separators, C1 and everything in
// reports, evidence, policies, rules and keys were stored, and a lone surrogate was a 500
// on PostgreSQL.)

describe('string rules (SPEC 7.1) on every stored string', () => {
  const UNSAFE: ReadonlyArray<readonly [string, string]> = [
    ['tab', '\t'],
    ['newline', '\n'],
    ['ESC (terminal escape)', '\u001b[2J'],
    ['DEL', '\u007f'],
    ['C1 CSI', '\u009b31m'],
    ['RLO bidi override', '\u202e'],
    ['FSI bidi isolate', '\u2068'],
    ['zero-width space', '\u200b'],
    ['zero-width joiner', '\u200d'],
    ['BOM', '\ufeff'],
    ['soft hyphen', '\u00ad'],
    ['line separator', '\u2028'],
    ['paragraph separator', '\u2029'],
    ['lone high surrogate', '\ud800'],
    ['lone low surrogate', '\udc00'],
    ['NUL', '\u0000'],
  ];
  /** Each stored string field of each write route: [name, field path in the message, body with the value]. */
  const FIELDS: ReadonlyArray<readonly [string, string, (bad: string) => Req]> = [
    ['register hostname', 'hostname', (bad) => ({ method: 'POST', path: '/api/register', token: false, body: { auth_key: f.authKey, hostname: `lap${bad}top` } })],
    ['register os_version', 'os_version', (bad) => ({ method: 'POST', path: '/api/register', token: false, body: { auth_key: f.authKey, hostname: 'fresh', os_version: `14${bad}` } })],
    ['register agent_version', 'agent_version', (bad) => ({ method: 'POST', path: '/api/register', token: false, body: { auth_key: f.authKey, hostname: 'fresh', agent_version: `0.1${bad}` } })],
    ['report os_version', 'os_version', (bad) => ({ method: 'POST', path: '/api/posture-report', token: false, body: { node_key: f.nodeKey, ...COMPLIANT, os_version: `linux${bad}` } })],
    ['report hostname extra', 'hostname', (bad) => ({ method: 'POST', path: '/api/posture-report', token: false, body: { node_key: f.nodeKey, ...COMPLIANT, hostname: `x${bad}` } })],
    ['report evidence detail', 'evidence.firewall_enabled.detail', (bad) => ({ method: 'POST', path: '/api/posture-report', token: false, body: { node_key: f.nodeKey, ...COMPLIANT, evidence: { firewall_enabled: { detail: `on${bad}` } } } })],
    ['report evidence key', 'evidence.', (bad) => ({ method: 'POST', path: '/api/posture-report', token: false, body: { node_key: f.nodeKey, ...COMPLIANT, evidence: { [`k${bad}`]: 1 } } })],
    ['heartbeat agent_version', 'agent_version', (bad) => ({ method: 'POST', path: '/api/machine-heartbeat', token: false, body: { node_key: f.nodeKey, agent_version: `9${bad}` } })],
    ['command result', 'result.output', (bad) => ({ method: 'POST', path: '/api/agent-commands/result', token: false, body: { node_key: f.nodeKey, id: f.commandId, status: 'failed', result: { output: `no${bad}` } } })],
    ['policy name', 'name', (bad) => ({ method: 'POST', path: '/api/db/posture_policies', body: { name: `base${bad}line` } })],
    ['acl rule name', 'name', (bad) => ({ method: 'POST', path: '/api/db/acl_rules', body: { name: `r${bad}` } })],
    ['auth key description', 'description', (bad) => ({ method: 'POST', path: '/api/db/auth_keys', body: { description: `d${bad}` } })],
    ['auth key description (PATCH)', 'description', (bad) => ({ method: 'PATCH', path: '/api/db/auth_keys', body: { _filters: { id: f.authKeyId }, description: `d${bad}` } })],
    ['machine hostname (PATCH)', 'hostname', (bad) => ({ method: 'PATCH', path: '/api/db/machines', body: { _filters: { id: f.machineId }, hostname: `h${bad}` } })],
  ];
  const cases = FIELDS.flatMap(([route, field, req]) => UNSAFE.map(([what, bad]) => ({ name: `${route} with ${what}`, field, req: () => req(bad) })));
  it.each(cases)('$name: 400 naming the field, nothing stored', async (c) => {
    await expectRejected(c);
  });

  it('ordinary non-ASCII text is still accepted (accents, CJK, emoji pairs)', async () => {
    const result = await send({ method: 'POST', path: '/api/db/posture_policies', body: { name: 'Grundschutz für 東京 😀', enabled: false } });
    expect(result.status, JSON.stringify(result.body)).toBe(200);
    expect(result.body.data[0].name).toBe('Grundschutz für 東京 😀');
    await send({ method: 'DELETE', path: `/api/db/posture_policies?id=eq.${result.body.data[0].id}` });
  });
});

// ---------------------------------------------------------------------------------------
// Regressions: server bugs this file found, fixed since (each comment names the cause).

describe('fixed server bugs stay fixed', () => {
  // Was: a filter/order/select/_filters "column" that is an Object.prototype property name
  // passed the column check (`columns[name]` found the inherited property) and reached
  // SQLite → 500. Fixed by columnOf()'s own-property check. SPEC 4: "400 bad input naming the field …
  // Bad input never produces a 5xx".
  it.each([
    ['GET', '/api/db/machines?constructor=eq.1', undefined, 'constructor'],
    ['GET', '/api/db/machines?__proto__=eq.1', undefined, '__proto__'],
    ['GET', '/api/db/machines?toString=is.null', undefined, 'toString'],
    ['GET', '/api/db/machines?order=constructor.asc', undefined, 'constructor'],
    ['GET', '/api/db/machines?select=valueOf', undefined, 'valueOf'],
    ['DELETE', '/api/db/machines?hasOwnProperty=x', undefined, 'hasOwnProperty'],
    ['PATCH', '/api/db/machines', { _filters: { constructor: 'x' }, hostname: 'y' }, 'constructor'],
    ['PATCH', '/api/db/posture_policies', { _filters: { toString: 'x' }, enabled: false }, 'toString'],
  ] as const)('%s %s with a prototype property as column is a 400, not a 500', async (method, path, body, column) => {
    await expectRejected({ name: path, field: column, req: () => ({ method, path, ...(body ? { body } : {}) }) });
  });

  // Was: deeply nested JSON (well under 64 KiB) in a free-form field overflowed
  // JSON.stringify's stack → 500. Fixed by the MAX_JSON_DEPTH check on every body.
  // SPEC 4: "Bad input never produces a 5xx".
  it('POST /api/posture-report with evidence nested 5000 deep (10 KB) is not a 5xx', async () => {
    const nested = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const raw = JSON.stringify({ node_key: f.nodeKey, ...COMPLIANT }).replace(/}$/, `,"evidence":{"deep":${nested}}}`);
    const before = await snapshot();
    const response = await send({ method: 'POST', path: '/api/posture-report', raw, token: false });
    if (response.status >= 400) expect(await snapshot()).toEqual(before);
    expect(response.status, JSON.stringify(response.body)).toBeLessThan(500);
  });

  it('POST /api/agent-commands/result with a result nested 10000 deep (20 KB) is not a 5xx', async () => {
    const nested = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    const raw = `{"node_key":"${f.nodeKey}","id":"${f.commandId}","status":"failed","result":${nested}}`;
    const response = await expectNothingStored(() => send({ method: 'POST', path: '/api/agent-commands/result', raw, token: false }));
    expect(response.status, JSON.stringify(response.body)).toBeLessThan(500);
  });

  // Was: errors raised by the router/HTTP layer bypassed the error handler and left
  // as Fastify's `{"error","code","message","statusCode"}`, not the SPEC's
  // `{"success": false, "error": {"code", "message"}}` (SPEC 4, "Errors").
  it('a table name over 200 characters is a 4xx in the SPEC error shape', async () => {
    await expectRejected({ name: 'long', status: [400, 404, 414], req: () => ({ method: 'GET', path: `/api/db/${'t'.repeat(300)}` }) });
  });

  it('a percent-encoding that is not UTF-8 in the path is a 4xx in the SPEC error shape', async () => {
    await expectRejected({ name: 'bad url', status: [400, 404], req: () => ({ method: 'GET', path: '/api/db/%ff' }) });
  });

  it('a plain GET /api/realtime (no WebSocket upgrade) is a 4xx in the SPEC error shape', async () => {
    await expectRejected({ name: 'no upgrade', status: [400, 404, 426], req: () => ({ method: 'GET', path: '/api/realtime' }) });
  });

  it('a 20 KB query string is a 4xx in the SPEC error shape', async () => {
    await expectRejected({ name: 'huge url', status: [400, 414, 431], req: () => ({ method: 'GET', path: `/api/db/machines?hostname=${'h'.repeat(20_000)}` }) });
  });
});

describe('after all of it', () => {
  it('GET /healthz is 200 and the fixture still works', async () => {
    const health = await server.request('GET', '/healthz');
    expect(health.status).toBe(200);
    expect((await server.heartbeat(f.nodeKey)).status).toBe(200);
    expect((await f.org.admin('GET', '/api/db/machines')).body.data).toHaveLength(1);
  });
});
