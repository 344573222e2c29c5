/**
 * Tenant isolation (SPEC section 4, "Auth"): an admin token only ever sees and changes its
 * own org — a request that names another org, or a row of another org, is refused (403) or
 * finds nothing; it never leaks or writes across orgs.
 *
 * Org A gets a row in every /api/db table; org B's token then tries every table × verb
 * against A. After each attempt, every row of A (internal columns included, read straight
 * from the store) must be byte-for-byte what it was before.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { COMPLIANT, NON_COMPLIANT, STRICT_POLICY, startTestServer } from './harness.ts';
import type { HttpResult, TestOrg, TestServer } from './harness.ts';
import type { Row, TableName } from '../../src/server/store/tables.ts';

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer();
});
afterEach(() => server.close());

/** Ids of A's rows, one (or more) per table. */
interface Fixture {
  A: TestOrg;
  B: TestOrg;
  ids: {
    machine: string;
    report: string;
    policy: string;
    audit: string;
    authKey: string;
    command: string;
    acl: string;
  };
  /** B's own rows, for requests that need a valid target in B. */
  own: { machine: string; nodeKey: string; policy: string; acl: string; authKey: string; command: string };
  aNodeKey: string;
  aAuthKey: string;
}

function ok(result: HttpResult, what: string): HttpResult {
  if (result.status !== 200) throw new Error(`${what}: ${result.status} ${JSON.stringify(result.body)}`);
  return result;
}

async function setup(): Promise<Fixture> {
  const A = await server.org('org-a');
  const B = await server.org('org-b');

  const aMachine = await A.register('a-laptop', { tags: ['finance'] });
  ok(await server.report(aMachine.node_key, COMPLIANT), 'A report');
  const policy = ok(await A.addPolicy({ name: 'a-policy', ...STRICT_POLICY }), 'A policy').body.data[0];
  const authKey = ok(await A.admin('POST', '/api/db/auth_keys', { description: 'A key' }), 'A auth key').body.data[0];
  const command = ok(await A.admin('POST', '/api/db/agent_commands', { machine_id: aMachine.machine_id, command: 'enable_firewall' }), 'A command').body.data[0];
  const report = ok(await A.admin('GET', `/api/db/posture_reports?machine_id=eq.${aMachine.machine_id}`), 'A report row').body.data[0];
  const acl = ok(await A.admin('GET', '/api/db/acl_rules'), 'A acl').body.data[0];
  const audit = (await A.audit('machine.registered'))[0];
  for (const [what, row] of Object.entries({ report, acl, audit })) if (!row?.id) throw new Error(`fixture: A has no ${what} row`);

  const bMachine = await B.register('b-laptop');
  ok(await server.report(bMachine.node_key, COMPLIANT), 'B report');
  const bPolicy = ok(await B.addPolicy({ name: 'b-policy' }), 'B policy').body.data[0];
  const bKey = ok(await B.admin('POST', '/api/db/auth_keys', { description: 'B key' }), 'B auth key').body.data[0];
  const bCommand = ok(await B.admin('POST', '/api/db/agent_commands', { machine_id: bMachine.machine_id, command: 'enable_firewall' }), 'B command').body.data[0];
  const bAcl = ok(await B.admin('GET', '/api/db/acl_rules'), 'B acl').body.data[0];

  return {
    A,
    B,
    ids: { machine: aMachine.machine_id, report: report.id, policy: policy.id, audit: audit.id, authKey: authKey.id, command: command.id, acl: acl.id },
    own: { machine: bMachine.machine_id, nodeKey: bMachine.node_key, policy: bPolicy.id, acl: bAcl.id, authKey: bKey.id, command: bCommand.id },
    aNodeKey: aMachine.node_key,
    aAuthKey: authKey.key,
  };
}

const ALL_TABLES: TableName[] = ['orgs', 'org_state', 'org_settings', 'posture_policies', 'machines', 'posture_reports', 'audit_log', 'auth_keys', 'agent_commands', 'acl_rules'];

/** Every row of org A in every table, internal columns included, as JSON. */
async function snapshotOrg(orgId: string): Promise<Record<string, string>> {
  await server.server.context.lastSeen.flush(server.store);
  const snapshot: Record<string, string> = {};
  for (const table of ALL_TABLES) {
    const column = table === 'orgs' ? 'id' : 'org_id';
    const rows: Row[] = await server.store.select(table, { filters: [{ column, op: 'eq', value: orgId }] });
    rows.sort((x, y) => String(x.id ?? x.org_id).localeCompare(String(y.id ?? y.org_id)));
    snapshot[table] = JSON.stringify(rows);
  }
  return snapshot;
}

function expectErrorShape(result: HttpResult): void {
  expect(result.body).toMatchObject({ success: false, error: { code: expect.any(String), message: expect.any(String) } });
}

/** A refusal with the SPEC's error shape and one of the allowed statuses. */
function expectRefused(result: HttpResult, statuses: number[]): void {
  expect(statuses, `status ${result.status}: ${JSON.stringify(result.body)}`).toContain(result.status);
  expectErrorShape(result);
}

/** "Finds nothing": 200 with an empty data array. */
function expectNothing(result: HttpResult): void {
  expect(result.status, JSON.stringify(result.body)).toBe(200);
  expect(result.body).toEqual({ success: true, data: [] });
}

/** Either refused (4xx with the error shape) or found nothing. */
function expectNothingOrRefused(result: HttpResult): void {
  expect(result.status, JSON.stringify(result.body)).toBeLessThan(500);
  if (result.status === 200) expectNothing(result);
  else {
    expect(result.status).toBeGreaterThanOrEqual(400);
    expectErrorShape(result);
  }
}

type Ids = Fixture['ids'];

interface TableCase {
  table: string;
  /** Columns that key A's rows in this table, with A's values (used as eq filters). */
  keys(f: Fixture): Array<[string, string]>;
  /** B-only fields for a PATCH (valid for the table), or null when the table is read-only. */
  patch: Record<string, unknown> | null;
  /** A valid row for a POST (without org_id), or null when POST is not allowed. */
  post: ((f: Fixture) => Record<string, unknown>) | null;
  deletable: boolean;
}

const own = (f: Fixture, key: keyof Fixture['own']) => f.own[key];
const aId = (f: Fixture, key: keyof Ids) => f.ids[key];

const TABLES: TableCase[] = [
  {
    table: 'machines',
    keys: (f) => [['id', aId(f, 'machine')], ['hostname', 'a-laptop']],
    patch: { status: 'quarantined', hostname: 'pwned-by-b', posture_exempt: true },
    post: null,
    deletable: true,
  },
  {
    table: 'posture_reports',
    keys: (f) => [['id', aId(f, 'report')], ['machine_id', aId(f, 'machine')]],
    patch: null,
    post: null,
    deletable: false,
  },
  {
    table: 'posture_policies',
    keys: (f) => [['id', aId(f, 'policy')], ['name', 'a-policy']],
    patch: { enabled: false, require_firewall: false },
    post: () => ({ name: 'b-injected', require_firewall: true }),
    deletable: true,
  },
  {
    table: 'org_settings',
    keys: () => [],
    patch: { posture_enforcement: 'enforce', heartbeat_interval_s: 1 },
    post: () => ({ posture_enforcement: 'enforce' }),
    deletable: false,
  },
  {
    table: 'audit_log',
    keys: (f) => [['id', aId(f, 'audit')], ['machine_id', aId(f, 'machine')]],
    patch: null,
    post: null,
    deletable: false,
  },
  {
    table: 'auth_keys',
    keys: (f) => [['id', aId(f, 'authKey')], ['description', 'A key']],
    patch: { revoked: true, description: 'revoked by b' },
    post: () => ({ description: 'b-injected' }),
    deletable: true,
  },
  {
    table: 'agent_commands',
    keys: (f) => [['id', aId(f, 'command')], ['machine_id', aId(f, 'machine')]],
    patch: { status: 'cancelled' },
    post: (f) => ({ machine_id: own(f, 'machine'), command: 'enable_firewall' }),
    deletable: true,
  },
  {
    table: 'acl_rules',
    keys: (f) => [['id', aId(f, 'acl')]],
    patch: { action: 'deny', src: '*', dst: '*' },
    post: () => ({ name: 'b-injected', action: 'allow' }),
    deletable: true,
  },
];

/** Runs `attempt` as B and checks that none of A's rows changed. */
async function asB(f: Fixture, attempt: () => Promise<void>): Promise<void> {
  const before = await snapshotOrg(f.A.orgId);
  await attempt();
  const after = await snapshotOrg(f.A.orgId);
  for (const table of ALL_TABLES) expect(after[table], `org A's ${table} rows changed`).toBe(before[table]);
}

const readOnly = (t: TableCase) => t.patch === null;

describe.each(TABLES)('table $table: org B cannot reach org A', (t) => {
  it(`${t.table} GET with org_id=eq.<A> is 403`, async () => {
    const f = await setup();
    await asB(f, async () => {
      expectRefused(await f.B.admin('GET', `/api/db/${t.table}?org_id=eq.${f.A.orgId}`), [403]);
      expectRefused(await f.B.admin('GET', `/api/db/${t.table}?org_id=${f.A.orgId}`), [403]);
      expectRefused(await f.B.admin('GET', `/api/db/${t.table}?org_id=in.(${f.B.orgId},${f.A.orgId})`), [403]);
    });
  });

  it(`${t.table} GET by A's keys finds nothing; an unfiltered GET shows only B's rows`, async () => {
    const f = await setup();
    await asB(f, async () => {
      for (const [column, value] of t.keys(f)) {
        expectNothing(await f.B.admin('GET', `/api/db/${t.table}?${column}=eq.${encodeURIComponent(value)}`));
        expectNothing(await f.B.admin('GET', `/api/db/${t.table}?${column}=in.(${encodeURIComponent(value)})`));
      }
      // Operators other than eq/in on org_id are narrowed to B's own rows, never widened.
      for (const query of ['', `?org_id=neq.${f.B.orgId}`, `?org_id=gt.`, '?org_id=not.null', '?limit=10000']) {
        const result = await f.B.admin('GET', `/api/db/${t.table}${query}`);
        expect(result.status, `${query}: ${JSON.stringify(result.body)}`).toBeLessThan(500);
        if (result.status !== 200) continue;
        const text = JSON.stringify(result.body);
        for (const id of [f.A.orgId, ...Object.values(f.ids), 'a-laptop', 'a-policy']) expect(text, `${t.table}${query} leaked ${id}`).not.toContain(id);
        for (const row of result.body.data as Array<Record<string, unknown>>) expect(row.org_id).toBe(f.B.orgId);
      }
    });
  });

  it(`${t.table} PATCH of A's rows by id changes nothing`, async () => {
    const f = await setup();
    const fields = t.patch ?? { id: 'x' };
    await asB(f, async () => {
      if (t.table === 'org_settings') {
        expectRefused(await f.B.admin('PATCH', '/api/db/org_settings', { _filters: { org_id: f.A.orgId }, ...fields }), [403]);
        return;
      }
      for (const [column, value] of t.keys(f)) {
        const viaBody = await f.B.admin('PATCH', `/api/db/${t.table}`, { _filters: { [column]: value }, ...fields });
        const viaQuery = await f.B.admin('PATCH', `/api/db/${t.table}?${column}=eq.${encodeURIComponent(value)}`, fields);
        for (const result of [viaBody, viaQuery]) {
          if (readOnly(t)) expectRefused(result, [403, 404, 405]);
          else expectNothing(result);
        }
      }
    });
  });

  it(`${t.table} PATCH naming org A (in _filters, in the query, in the body) is refused`, async () => {
    const f = await setup();
    const fields = t.patch ?? { id: 'x' };
    await asB(f, async () => {
      const statuses = readOnly(t) ? [403, 405] : [403];
      expectRefused(await f.B.admin('PATCH', `/api/db/${t.table}`, { _filters: { org_id: f.A.orgId }, ...fields }), statuses);
      expectRefused(await f.B.admin('PATCH', `/api/db/${t.table}?org_id=eq.${f.A.orgId}`, fields), statuses);
      // Moving one of B's own rows into org A: org_id is not writable (400) or is another org (403).
      const ownFilter: Record<string, string> =
        t.table === 'org_settings' ? { org_id: f.B.orgId } : t.table === 'machines' ? { id: f.own.machine } : t.table === 'posture_policies' ? { id: f.own.policy } : t.table === 'acl_rules' ? { id: f.own.acl } : t.table === 'auth_keys' ? { id: f.own.authKey } : t.table === 'agent_commands' ? { id: f.own.command } : { org_id: f.B.orgId };
      const moved = await f.B.admin('PATCH', `/api/db/${t.table}`, { _filters: ownFilter, org_id: f.A.orgId });
      expectRefused(moved, [400, 403, 405]);
    });
  });

  it(`${t.table} DELETE of A's rows changes nothing`, async () => {
    const f = await setup();
    await asB(f, async () => {
      for (const [column, value] of t.keys(f)) {
        const result = await f.B.admin('DELETE', `/api/db/${t.table}?${column}=eq.${encodeURIComponent(value)}`);
        if (t.deletable) expectNothing(result);
        else expectRefused(result, [403, 404, 405]);
      }
      expectRefused(await f.B.admin('DELETE', `/api/db/${t.table}?org_id=eq.${f.A.orgId}`), t.deletable ? [403] : [403, 405]);
      expectRefused(await f.B.admin('DELETE', `/api/db/${t.table}?org_id=in.(${f.A.orgId})`), t.deletable ? [403] : [403, 405]);
      // A broad delete of B's own rows must not reach A's.
      if (t.deletable) expectNothingOrRefused(await f.B.admin('DELETE', `/api/db/${t.table}?created_at=lt.2000-01-01T00:00:00Z`));
    });
  });

  it(`${t.table} POST with org_id A is refused and stores nothing in A`, async () => {
    const f = await setup();
    const body = t.post ? t.post(f) : { hostname: 'x' };
    await asB(f, async () => {
      expectRefused(await f.B.admin('POST', `/api/db/${t.table}`, { ...body, org_id: f.A.orgId }), t.post ? [403] : [403, 405]);
    });
  });
});

describe('writes that reference A\'s rows from B', () => {
  it('agent_commands POST for A\'s machine (no org_id) is refused and stores nothing', async () => {
    const f = await setup();
    const before = await server.store.count('agent_commands');
    await asB(f, async () => {
      const result = await f.B.admin('POST', '/api/db/agent_commands', { machine_id: f.ids.machine, command: 'enable_disk_encryption' });
      expectRefused(result, [400, 403, 404]);
      expect(result.body.error.message).not.toContain('a-laptop');
    });
    expect(await server.store.count('agent_commands')).toBe(before);
  });

  const COLLIDING = [
    ['posture_policies', 'policy'],
    ['acl_rules', 'acl'],
  ] as const;

  it.each(COLLIDING)('%s POST with the id of A\'s row is a 4xx (never a 5xx) and leaves A\'s row alone', async (table, key) => {
    const f = await setup();
    await asB(f, async () => {
      // Ids are server-generated (400), or a collision is a conflict (409): never a 5xx.
      const result = await f.B.admin('POST', `/api/db/${table}`, { id: f.ids[key], name: 'collide' });
      expectRefused(result, [400, 409]);
    });
  });

  it('B\'s machine cannot answer A\'s agent command', async () => {
    const f = await setup();
    await asB(f, async () => {
      const result = await server.request('POST', '/api/agent-commands/result', { body: { node_key: f.own.nodeKey, id: f.ids.command, status: 'applied', result: { by: 'b' } } });
      expectRefused(result, [403, 404]);
    });
  });

  it('B\'s machine sees none of A\'s machines as peers, and A\'s node key is not B\'s', async () => {
    const f = await setup();
    const heartbeat = await server.heartbeat(f.own.nodeKey);
    expect(heartbeat.status).toBe(200);
    const text = JSON.stringify(heartbeat.body);
    expect(text).not.toContain(f.ids.machine);
    expect(text).not.toContain('a-laptop');
    expect(text).not.toContain(f.ids.command);
    // A's auth key enrolls into A, never into B.
    const enrolled = await server.request('POST', '/api/register', { body: { auth_key: f.aAuthKey, hostname: 'which-org' } });
    expect(enrolled.status).toBe(200);
    expect((await f.B.admin('GET', '/api/db/machines?hostname=eq.which-org')).body.data).toEqual([]);
    expect((await f.A.machine(enrolled.body.machine_id)).hostname).toBe('which-org');
  });
});

describe('org-management and acl evaluation across orgs', () => {
  it('POST /api/org-management with org_id A and B\'s token is 403 and A\'s settings are unchanged', async () => {
    const f = await setup();
    const settingsBefore = (await f.A.admin('GET', '/api/db/org_settings')).body.data;
    await asB(f, async () => {
      expectRefused(await f.B.admin('POST', '/api/org-management', { action: 'update_org_settings', org_id: f.A.orgId, posture_enforcement: 'enforce', heartbeat_interval_s: 1 }), [403]);
      expectRefused(await f.B.admin('POST', '/api/org-management', { action: 'update_org_settings', org_id: f.A.orgId }), [403]);
    });
    expect((await f.A.admin('GET', '/api/db/org_settings')).body.data).toEqual(settingsBefore);
    // B's own settings change through the same route (and only B's).
    const own = await f.B.admin('POST', '/api/org-management', { action: 'update_org_settings', posture_enforcement: 'monitor' });
    expect(own.status).toBe(200);
    expect(own.body.data[0]).toMatchObject({ org_id: f.B.orgId, posture_enforcement: 'monitor' });
    expect((await f.A.admin('GET', '/api/db/org_settings')).body.data).toEqual(settingsBefore);
  });

  it.each([
    ['both machines of A', (f: Fixture) => ({ src_machine_id: f.ids.machine, dst_machine_id: f.ids.machine })],
    ['src of A, dst of B', (f: Fixture) => ({ src_machine_id: f.ids.machine, dst_machine_id: f.own.machine })],
    ['src of B, dst of A', (f: Fixture) => ({ src_machine_id: f.own.machine, dst_machine_id: f.ids.machine, port: 22 })],
  ])('POST /api/acl/evaluate with %s and B\'s token is 404 without leaking A', async (_name, body) => {
    const f = await setup();
    await asB(f, async () => {
      const result = await f.B.admin('POST', '/api/acl/evaluate', body(f));
      expectRefused(result, [404]);
      const text = JSON.stringify(result.body);
      expect(text).toContain(f.ids.machine); // it may name the id it was given…
      for (const leak of ['a-laptop', 'finance', f.A.orgId, f.ids.acl, 'quarantined', 'online']) expect(text).not.toContain(leak); // …and nothing else of A
      expect(result.body).not.toHaveProperty('allowed');
    });
  });

  it('A\'s own evaluation still works (control)', async () => {
    const f = await setup();
    const result = await f.A.admin('POST', '/api/acl/evaluate', { src_machine_id: f.ids.machine, dst_machine_id: f.ids.machine });
    expect(result.status).toBe(200);
    expect(result.body).toHaveProperty('allowed');
  });
});

describe('realtime is per org', () => {
  it('B\'s subscriber receives none of A\'s events while A\'s receives A\'s quarantine', async () => {
    const f = await setup();
    const subA = await server.subscribe(f.A.token);
    const subB = await server.subscribe(f.B.token, 'query');
    expect((await f.A.setSettings({ posture_enforcement: 'enforce' })).status).toBe(200);
    expect((await f.A.addPolicy(STRICT_POLICY)).status).toBe(200);
    const failing = await server.report(f.aNodeKey, NON_COMPLIANT);
    expect(failing.status).toBe(200);
    expect(failing.body).toMatchObject({ compliant: false, quarantined: true });
    await subA.waitFor((e) => e.table === 'machines' && e.type === 'UPDATE' && e.data?.id === f.ids.machine && e.data?.status === 'quarantined');
    // More A traffic: a registration, a manual release, a deletion.
    await f.A.register('a-second');
    expect((await f.A.admin('PATCH', '/api/db/machines', { _filters: { id: f.ids.machine }, status: 'online' })).status).toBe(200);
    await subA.waitFor((e) => e.table === 'audit_log' || e.table === 'posture_reports');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(subB.events, JSON.stringify(subB.events)).toEqual([]);
    const aText = JSON.stringify(subA.events);
    expect(aText).not.toContain(f.B.orgId);
    // And B does get its own events (the socket works).
    await f.B.register('b-second');
    await subB.waitFor((e) => e.table === 'machines');
    expect(JSON.stringify(subB.events)).not.toContain(f.A.orgId);
  });
});
