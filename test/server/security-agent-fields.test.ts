/**
 * A device cannot talk its way out of quarantine: whatever extra fields it sends to the
 * agent routes — `status`, `posture_exempt`, `org_id`, `machine_id`, `compliant`,
 * `violations`, `mode`, `quarantine_reason`, `risk_score`, ids and timestamps — nothing
 * of its machine row, of its stored verdict, or of any other machine or org changes
 * because of them. Register, heartbeat and command results refuse unknown fields (400,
 * nothing stored); a posture report drops them and the server evaluates the signals
 * itself.
 *
 * Also: what a device calls itself (hostname, os, …) is shown on other devices' terminals
 * by `ztna peers`, so control characters (escape sequences) and bidi overrides are refused.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TableName } from '../../src/server/store/tables.ts';
import { COMPLIANT, NON_COMPLIANT, STRICT_POLICY, TEST_ENGINE, startTestServer } from './harness.ts';
import type { TestOrg, TestServer } from './harness.ts';

let server: TestServer;
let A: TestOrg;
let B: TestOrg;
let device: { machine_id: string; node_key: string };
let neighbour: { machine_id: string; node_key: string };
let outsider: { machine_id: string; node_key: string };
let command: { id: string };

beforeEach(async () => {
  server = await startTestServer();
  A = await server.org('fields-a');
  B = await server.org('fields-b');
  device = await A.register('device');
  neighbour = await A.register('neighbour');
  outsider = await B.register('outsider');
  expect((await A.setSettings({ posture_enforcement: 'enforce' })).status).toBe(200);
  expect((await A.addPolicy(STRICT_POLICY)).status).toBe(200);
  expect((await server.report(neighbour.node_key, COMPLIANT)).body).toMatchObject({ compliant: true, quarantined: false });
  expect((await server.report(device.node_key, NON_COMPLIANT)).body).toMatchObject({ compliant: false, quarantined: true });
  command = (await A.admin('POST', '/api/db/agent_commands', { machine_id: device.machine_id, command: 'enable_firewall' })).body.data[0];
});
afterEach(() => server.close());

let attempts = 0;
afterAll(() => {
  console.log(`agent-fields [${TEST_ENGINE}]: ${Object.keys(allExtras()).length} self-assigned fields, ${attempts} attempts through register, heartbeat, posture-report and agent-commands/result, 0 changed a machine, a verdict or another org`);
});

/**
 * What a device would like to set on itself. (`tags` is a field of register itself and
 * `id` one of command results: `without` leaves out a route's own fields.)
 */
const extras = (...without: string[]) => Object.fromEntries(Object.entries(allExtras()).filter(([key]) => !without.includes(key)));
const allExtras = () => ({
  status: 'online',
  quarantined: false,
  quarantine_reason: null,
  posture_exempt: true,
  org_id: B.orgId,
  machine_id: neighbour.machine_id,
  id: randomUUID(),
  compliant: true,
  violations: [],
  mode: 'disabled',
  risk_score: 0,
  tags: ['admin'],
  created_at: '2000-01-01T00:00:00Z',
  reported_at: '2999-01-01T00:00:00Z',
  last_seen: '2999-01-01T00:00:00Z',
});

const ALL_TABLES: TableName[] = ['orgs', 'org_state', 'org_settings', 'posture_policies', 'machines', 'posture_reports', 'audit_log', 'auth_keys', 'agent_commands', 'acl_rules'];

async function snapshot(): Promise<Record<string, string>> {
  await server.server.context.lastSeen.flush(server.store);
  const all: Record<string, string> = {};
  for (const table of ALL_TABLES) {
    const rows = await server.store.select(table);
    rows.sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
    all[table] = JSON.stringify(rows);
  }
  return all;
}

async function machineRow(id: string) {
  return (await server.store.select('machines', { filters: [{ column: 'id', op: 'eq', value: id }] }))[0] as Record<string, unknown>;
}

describe('extra fields on agent routes change nothing', () => {
  it('register refuses them (400 naming the field) and enrolls nothing', async () => {
    const key = await A.authKey({ reusable: false });
    const before = await snapshot();
    for (const [field, value] of Object.entries(extras('tags'))) {
      attempts += 1;
      const result = await server.request('POST', '/api/register', { body: { auth_key: key, hostname: 'sneaky', [field]: value } });
      expect(result.status, `${field}: ${JSON.stringify(result.body)}`).toBe(400);
      expect(result.body.error.message).toMatch(/unrecognized key/i);
    }
    expect(await snapshot(), 'a refused registration stored something').toEqual(before);
    // The single-use key was not spent by the refusals.
    expect((await server.request('POST', '/api/register', { body: { auth_key: key, hostname: 'honest' } })).status).toBe(200);
  });

  it('heartbeat refuses them (400) and changes nothing', async () => {
    const before = await snapshot();
    for (const [field, value] of Object.entries(extras())) {
      attempts += 1;
      const result = await server.heartbeat(device.node_key, { [field]: value });
      expect(result.status, `${field}: ${JSON.stringify(result.body)}`).toBe(400);
    }
    expect(await snapshot()).toEqual(before);
    // A plain heartbeat still says quarantined.
    expect((await server.heartbeat(device.node_key)).body).toMatchObject({ status: 'quarantined', quarantined: true, peers: [] });
  });

  it('agent-commands/result refuses them (400) and the command stays pending', async () => {
    const before = await snapshot();
    for (const [field, value] of Object.entries(extras('id'))) {
      attempts += 1;
      const result = await server.request('POST', '/api/agent-commands/result', { body: { node_key: device.node_key, id: command.id, status: 'applied', [field]: value } });
      expect(result.status, `${field}: ${JSON.stringify(result.body)}`).toBe(400);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('a posture report drops them: the server evaluates the signals and the device stays quarantined', async () => {
    const neighbourBefore = await machineRow(neighbour.machine_id);
    const outsiderBefore = await machineRow(outsider.machine_id);
    const bRowsBefore = JSON.stringify(await B.admin('GET', '/api/db/posture_reports'));
    const deviceBefore = await machineRow(device.machine_id);
    expect(deviceBefore).toMatchObject({ status: 'quarantined', quarantine_reason: 'posture', posture_exempt: false, org_id: A.orgId });

    attempts += 1;
    const result = await server.report(device.node_key, { ...NON_COMPLIANT, ...extras() });
    expect(result.status, JSON.stringify(result.body)).toBe(200);
    expect(result.body).toMatchObject({ compliant: false, quarantined: true, mode: 'enforce', status: 'quarantined' });

    const after = await machineRow(device.machine_id);
    for (const column of ['org_id', 'status', 'quarantine_reason', 'posture_exempt', 'tags', 'hostname', 'created_at', 'node_key_hash']) {
      expect(after[column], column).toEqual(deviceBefore[column]);
    }
    const [stored] = await server.store.select('posture_reports', { filters: [{ column: 'machine_id', op: 'eq', value: device.machine_id }] });
    expect(stored).toMatchObject({ org_id: A.orgId, machine_id: device.machine_id, compliant: false, mode: 'enforce' });
    expect(stored?.violations).toEqual(['disk_encryption_required', 'firewall_required', 'antivirus_required']);
    expect(Date.parse(String(stored?.reported_at))).toBe(server.clock.now().getTime());
    // None of the extras were kept with the report either.
    for (const field of Object.keys(extras())) expect(stored?.extras ?? {}, field).not.toHaveProperty(field);

    // Nobody else was touched: not the neighbour it named, not org B.
    expect(await machineRow(neighbour.machine_id)).toEqual(neighbourBefore);
    expect(await machineRow(outsider.machine_id)).toEqual(outsiderBefore);
    expect(JSON.stringify(await B.admin('GET', '/api/db/posture_reports'))).toBe(bRowsBefore);
    expect(await A.audit('machine.auto_unquarantine')).toEqual([]);
  });

  it('only real compliance releases it (control)', async () => {
    const result = await server.report(device.node_key, { ...COMPLIANT, ...extras(), status: 'quarantined' });
    expect(result.body).toMatchObject({ compliant: true, quarantined: false, status: 'online' });
    expect(await machineRow(device.machine_id)).toMatchObject({ status: 'online', posture_exempt: false, org_id: A.orgId });
  });

  it('a manual quarantine survives a compliant report with status: "online" in it', async () => {
    expect((await A.admin('PATCH', '/api/db/machines', { _filters: { id: device.machine_id }, status: 'quarantined' })).status).toBe(200);
    const result = await server.report(device.node_key, { ...COMPLIANT, status: 'online', quarantine_reason: null });
    expect(result.body).toMatchObject({ compliant: true, quarantined: true });
    expect(await machineRow(device.machine_id)).toMatchObject({ status: 'quarantined', quarantine_reason: 'manual' });
  });
});

describe('what a device calls itself is printable', () => {
  const HOSTILE: Array<[string, string]> = [
    ['an OSC escape (sets the terminal title)', 'laptop\u001b]0;pwned\u0007'],
    ['a CSI escape (clears the screen)', '\u001b[2Jlaptop'],
    ['a carriage return (overwrites the line)', 'laptop\rtrusted-server'],
    ['a newline (a fake second peer)', 'laptop\nfinance-db  online'],
    ['a C1 control (CSI in one byte)', 'laptop\u009b2J'],
    ['a right-to-left override', 'laptop\u202Egpj.exe'],
    ['a bidi isolate', 'laptop\u2066x\u2069'],
  ];

  it.each(HOSTILE)('%s in hostname, os or agent_version is refused (400) and nothing is stored', async (_what, text) => {
    const key = await A.authKey();
    const before = await snapshot();
    for (const body of [{ hostname: text }, { hostname: 'ok', os: text }, { hostname: 'ok', os_version: text }, { hostname: 'ok', arch: text }, { hostname: 'ok', agent_version: text }]) {
      const result = await server.request('POST', '/api/register', { body: { auth_key: key, ...body } });
      expect(result.status, JSON.stringify(body)).toBe(400);
      expect(result.body.error.message).toMatch(/control characters/);
    }
    expect((await server.heartbeat(neighbour.node_key, { agent_version: text })).status).toBe(400);
    expect(await snapshot()).toEqual(before);
  });

  it('ordinary names, accented and non-Latin ones included, are accepted (control)', async () => {
    for (const hostname of ['Jürgen\'s MacBook Pro', 'büro-pc-01', '開発マシン', 'host.example.com', 'LAPTOP-7Q2 (Windows)']) {
      const enrolled = await A.register(hostname);
      expect((await A.machine(enrolled.machine_id)).hostname).toBe(hostname);
    }
  });
});
