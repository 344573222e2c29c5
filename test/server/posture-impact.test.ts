/**
 * `POST /api/posture/impact` (issue 8): which machines a mode or policy change would
 * quarantine or release right now, from their stored reports — changing nothing. The
 * preview must agree with what the change then actually does (same rules as the
 * continuous re-evaluation), and must not write a row, an audit event or a realtime event.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Row, TableName } from '../../src/server/store/tables.ts';
import { COMPLIANT, startTestServer } from './harness.ts';
import type { TestOrg, TestServer } from './harness.ts';

let server: TestServer;
let org: TestOrg;
const ids: Record<string, string> = {};
const keys: Record<string, string> = {};

const ALL_TABLES: TableName[] = ['orgs', 'org_state', 'org_settings', 'posture_policies', 'machines', 'posture_reports', 'audit_log', 'auth_keys', 'agent_commands', 'acl_rules'];

async function snapshot(): Promise<string> {
  await server.server.context.lastSeen.flush(server.store);
  const all: Record<string, unknown> = {};
  for (const table of ALL_TABLES) all[table] = ((await server.store.select(table)) as Row[]).sort((a, b) => String(a.id ?? a.org_id).localeCompare(String(b.id ?? b.org_id)));
  return JSON.stringify(all);
}

const hosts = (machines: Array<{ hostname: string }>) => machines.map((machine) => machine.hostname).sort();
const preview = async (body?: unknown) => {
  const result = await org.admin('POST', '/api/posture/impact', body);
  expect(result.status, JSON.stringify(result.body)).toBe(200);
  return result.body;
};

beforeEach(async () => {
  server = await startTestServer();
  org = await server.org('impact');
  expect((await org.addPolicy({ name: 'baseline', require_disk_encryption: true, require_firewall: true, max_patch_age_days: 30 })).status).toBe(200);
  expect((await org.setSettings({ posture_enforcement: 'monitor' })).status).toBe(200);
  const reports: Record<string, Record<string, unknown> | null> = {
    passing: COMPLIANT,
    'no-firewall': { ...COMPLIANT, firewall_enabled: false },
    'no-disk-offline': { ...COMPLIANT, disk_encrypted: false },
    'exempt-failing': { ...COMPLIANT, disk_encrypted: null },
    'never-reported': null,
  };
  for (const [hostname, report] of Object.entries(reports)) {
    const machine = await org.register(hostname);
    ids[hostname] = machine.machine_id;
    keys[hostname] = machine.node_key;
    if (report) expect((await server.report(machine.node_key, report)).status).toBe(200);
  }
  expect((await org.admin('PATCH', '/api/db/machines', { _filters: { id: ids['exempt-failing'] }, posture_exempt: true })).status).toBe(200);
  // Everyone goes silent, then all but one come back: that one is offline.
  server.clock.advance(200_000);
  await server.server.sweep();
  for (const hostname of ['passing', 'no-firewall', 'exempt-failing', 'never-reported']) expect((await server.heartbeat(keys[hostname] as string)).status).toBe(200);
  expect((await org.machine(ids['no-disk-offline'] as string)).status).toBe('offline');
});
afterEach(() => server.close());

describe('POST /api/posture/impact', () => {
  it('in monitor mode: nothing changes by default; under enforce it lists who would be quarantined, and changes nothing', async () => {
    const realtime = await server.subscribe(org.token);
    const before = await snapshot();

    const asIs = await preview();
    expect(asIs).toMatchObject({ mode: 'monitor', current_mode: 'monitor', proposed_policies: false, evaluated: 4, without_report: 1, would_quarantine: [], would_release: [] });

    const enforce = await preview({ mode: 'enforce' });
    expect(enforce).toMatchObject({ mode: 'enforce', current_mode: 'monitor', evaluated: 4, without_report: 1, would_release: [] });
    expect(enforce.would_quarantine).toEqual([
      { machine_id: ids['no-firewall'], hostname: 'no-firewall', os: 'linux', status: 'online', quarantine_reason: null, violations: ['firewall_required'], findings: [{ code: 'firewall_required', signal: 'firewall_enabled', required: true, observed: false, limit: null, message: expect.stringMatching(/firewall is off/) }], reported_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/), expired: false, blocks_at: null, exempt_until: null },
    ]);
    expect(hosts(enforce.offline_failing)).toEqual(['no-disk-offline']);
    // The whole truth (SPEC 7.3): the machine that never reported has no verdict; nothing is in grace or already held.
    expect(enforce.no_verdict).toEqual([{ machine_id: ids['never-reported'], hostname: 'never-reported', os: 'linux', status: 'online', why: 'no_report' }]);
    expect(enforce).toMatchObject({ would_block_after_grace: [], still_quarantined: [] });
    expect(enforce.exempt_failing[0]).toMatchObject({ exempt_until: null }); // the legacy flag: exempt, no expiry
    expect(enforce.offline_failing[0].violations).toEqual(['disk_encryption_required']);
    expect(hosts(enforce.exempt_failing)).toEqual(['exempt-failing']);
    expect(enforce.computed_at).toBe(server.clock.now().toISOString());

    // A request without a body is the same as {}.
    const bare = await server.request('POST', '/api/posture/impact', { token: org.token });
    expect(bare.status).toBe(200);
    expect(bare.body.mode).toBe('monitor');

    expect(await snapshot(), 'a preview changed the store').toBe(before);
    // Nothing was published either: a later real event is the first one the socket sees.
    await org.setSettings({ heartbeat_interval_s: 31 });
    await realtime.waitFor((event) => event.table === 'audit_log');
    expect(realtime.events.map((event) => `${event.table}:${event.data.event ?? event.type}`)).toEqual(['audit_log:org.settings_updated']);
  });

  it('agrees with what switching to enforce then does', async () => {
    const predicted = await preview({ mode: 'enforce' });
    expect((await org.setSettings({ posture_enforcement: 'enforce' })).status).toBe(200);
    const quarantined = (await org.admin('GET', '/api/db/machines?status=eq.quarantined')).body.data;
    expect(hosts(quarantined)).toEqual(hosts(predicted.would_quarantine));
    // The offline one is quarantined as soon as it comes back, as predicted.
    expect((await server.heartbeat(keys['no-disk-offline'] as string)).body).toMatchObject({ status: 'quarantined' });
    // Now enforcing and re-evaluated: nothing more would change.
    expect(await preview()).toMatchObject({ mode: 'enforce', would_quarantine: [], would_release: [] });
  });

  it('evaluates proposed policies instead of the stored ones: stricter and looser', async () => {
    expect((await org.setSettings({ posture_enforcement: 'enforce' })).status).toBe(200);
    expect((await org.machine(ids['no-firewall'] as string)).status).toBe('quarantined');
    const [policy] = (await org.admin('GET', '/api/db/posture_policies')).body.data;

    // Looser: only disk encryption. The firewall-less machine would be released.
    const looser = await preview({ policies: [{ ...policy, require_firewall: false }] });
    expect(looser).toMatchObject({ mode: 'enforce', proposed_policies: true, would_quarantine: [] });
    expect(hosts(looser.would_release)).toEqual(['no-firewall']);

    // Stricter: antivirus too, and patches within 2 days. The compliant machine (3 days) fails.
    const stricter = await preview({ policies: [{ require_disk_encryption: true, require_firewall: true, require_antivirus: true, max_patch_age_days: 2 }] });
    expect(stricter.would_quarantine).toEqual([expect.objectContaining({ hostname: 'passing', violations: ['patch_age_exceeded (3 > 2 days)'] })]);
    expect(stricter.would_release).toEqual([]);

    // No policy at all, and disabled policies, require nothing.
    expect(hosts((await preview({ policies: [] })).would_release)).toEqual(['no-firewall']);
    expect(hosts((await preview({ policies: [{ enabled: false, require_antivirus: true }] })).would_release)).toEqual(['no-firewall']);

    // Nothing was applied: the stored policy still quarantines the same machine.
    expect((await org.machine(ids['no-firewall'] as string)).status).toBe('quarantined');
    expect((await org.admin('GET', '/api/db/posture_policies')).body.data).toEqual([policy]);

    // A manual quarantine is never released by a preview's policy.
    await org.admin('PATCH', '/api/db/machines', { _filters: { id: ids.passing }, status: 'quarantined' });
    expect(hosts((await preview({ policies: [] })).would_release)).toEqual(['no-firewall']);
  });

  it('counts an expired report as failing (report_max_age_s)', async () => {
    expect((await org.setSettings({ report_max_age_s: 60 })).status).toBe(200);
    server.clock.advance(61_000);
    expect((await server.report(keys['no-firewall'] as string, COMPLIANT)).status).toBe(200); // fresh
    const result = await preview({ mode: 'enforce' });
    const expired = result.would_quarantine.find((machine: any) => machine.hostname === 'passing');
    expect(expired).toMatchObject({ expired: true, violations: ['posture_report_expired'] });
    expect(hosts(result.would_quarantine)).toEqual(['passing']);
  });

  it('refuses bad input with a 400 naming the field, and needs an admin', async () => {
    const bad = async (body: unknown, field: RegExp) => {
      const result = await org.admin('POST', '/api/posture/impact', body);
      expect(result.status, JSON.stringify(result.body)).toBe(400);
      expect(result.body).toEqual({ success: false, error: { code: 'bad_request', message: expect.stringMatching(field) } });
    };
    await bad({ mode: 'audit' }, /^mode:/);
    await bad({ policies: [{ require_firewal: true }] }, /^policies\.0/);
    await bad({ policies: [{ max_patch_age_days: -1 }] }, /^policies\.0\.max_patch_age_days/);
    await bad({ policies: 'strict' }, /^policies:/);
    await bad({ org_id: org.orgId }, /org_id/);
    await bad([], /^body/);
    expect((await server.request('POST', '/api/posture/impact', { body: {} })).status).toBe(401);
    // Another org's token previews its own (empty) org, never this one.
    const other = await server.org('other');
    expect((await other.admin('POST', '/api/posture/impact', { mode: 'enforce' })).body).toMatchObject({ evaluated: 0, without_report: 0, would_quarantine: [] });
  });
});
