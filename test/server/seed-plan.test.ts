/**
 * The seed test plan (shared/seeds/quickztna-noncompliant-machine-test-plan.txt),
 * ST1–ST5, automated over real HTTP against the reference server.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TestOrg, TestServer } from './harness.ts';
import { COMPLIANT, NON_COMPLIANT, startTestServer } from './harness.ts';

let server: TestServer;
let org: TestOrg;
let linuxC: { machine_id: string; node_key: string };
let peer: { machine_id: string; node_key: string };

beforeEach(async () => {
  server = await startTestServer();
  org = await server.org('seed-org');
  // Prerequisites: a policy requiring all three signals, enforce mode, Linux-C online.
  expect((await org.addPolicy({ require_disk_encryption: true, require_firewall: true, require_antivirus: true })).status).toBe(200);
  expect((await org.setSettings({ posture_enforcement: 'enforce' })).status).toBe(200);
  linuxC = await org.register('linux-c');
  peer = await org.register('win-a');
  expect((await org.machine(linuxC.machine_id)).status).toBe('online');
});
afterEach(() => server.close());

describe('seed test plan', () => {
  it('ST1: a non-compliant report in enforce mode quarantines the online machine, audits it and pushes a realtime event', async () => {
    const realtime = await server.subscribe(org.token);
    const response = await server.report(linuxC.node_key, NON_COMPLIANT);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      compliant: false,
      violations: ['disk_encryption_required', 'firewall_required', 'antivirus_required'],
      quarantined: true,
      mode: 'enforce',
      status: 'quarantined',
    });
    expect((await org.machine(linuxC.machine_id)).status).toBe('quarantined');
    const audit = await org.audit('machine.auto_quarantine');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ machine_id: linuxC.machine_id, details: { violations: ['disk_encryption_required', 'firewall_required', 'antivirus_required'] } });
    const event = await realtime.waitFor((e) => e.table === 'machines' && e.type === 'UPDATE' && e.data.id === linuxC.machine_id);
    expect(event.data.status).toBe('quarantined');
  });

  it('ST2: a quarantined machine keeps heartbeating; it stays quarantined and last_seen advances', async () => {
    await server.report(linuxC.node_key, NON_COMPLIANT);
    const before = (await org.machine(linuxC.machine_id)).last_seen;
    server.clock.advance(30_000);
    const beat = await server.heartbeat(linuxC.node_key);
    expect(beat.body).toMatchObject({ status: 'quarantined', quarantined: true, peers: [] });
    const after = await org.machine(linuxC.machine_id);
    expect(after.status).toBe('quarantined');
    expect(Date.parse(after.last_seen)).toBe(Date.parse(before) + 30_000);
  });

  it('ST3: posture_reports holds the violation codes', async () => {
    await server.report(linuxC.node_key, { ...NON_COMPLIANT, patch_age_days: 45 });
    await org.addPolicy({ max_patch_age_days: 30 });
    const reports = (await org.admin('GET', `/api/db/posture_reports?machine_id=eq.${linuxC.machine_id}`)).body;
    expect(reports.success).toBe(true);
    expect(reports.data).toHaveLength(1);
    expect(reports.data[0]).toMatchObject({
      machine_id: linuxC.machine_id,
      org_id: org.orgId,
      os_version: 'linux/amd64',
      disk_encrypted: false,
      firewall_enabled: false,
      antivirus_enabled: false,
      compliant: false,
    });
    // Re-evaluated at once after the second policy: the patch-age violation is there too.
    expect(reports.data[0].violations).toEqual(['disk_encryption_required', 'firewall_required', 'antivirus_required', 'patch_age_exceeded (45 > 30 days)']);
    expect(Date.parse(reports.data[0].reported_at)).not.toBeNaN();
  });

  it('ST4: monitor mode records violations but never quarantines (and does not release)', async () => {
    await server.report(linuxC.node_key, NON_COMPLIANT);
    const switched = await org.admin('POST', '/api/org-management', { action: 'update_org_settings', org_id: org.orgId, posture_enforcement: 'monitor' });
    expect(switched.status).toBe(200);
    // Switching to monitor does not release; a compliant report in monitor does not either.
    expect((await server.report(linuxC.node_key, COMPLIANT)).body).toMatchObject({ compliant: true, quarantined: true, mode: 'monitor' });
    expect((await org.machine(linuxC.machine_id)).status).toBe('quarantined');
    // Release by hand, then a failing report in monitor leaves it online.
    expect((await org.admin('PATCH', '/api/db/machines', { _filters: { id: linuxC.machine_id }, status: 'online' })).status).toBe(200);
    const response = await server.report(linuxC.node_key, NON_COMPLIANT);
    expect(response.body).toMatchObject({ compliant: false, quarantined: false, mode: 'monitor', status: 'online' });
    expect(response.body.violations).toEqual(['disk_encryption_required', 'firewall_required', 'antivirus_required']);
    expect((await org.machine(linuxC.machine_id)).status).toBe('online');
  });

  it('ST5: a quarantined machine gets an empty peer list and is in nobody else\'s', async () => {
    // In enforce mode only machines with a verdict are peers at all (SPEC 7.1).
    await server.report(peer.node_key, COMPLIANT);
    await server.report(linuxC.node_key, COMPLIANT);
    const before = await server.heartbeat(peer.node_key);
    expect(before.body.peers.map((p: { id: string }) => p.id)).toContain(linuxC.machine_id);
    await server.report(linuxC.node_key, NON_COMPLIANT);
    expect((await server.heartbeat(linuxC.node_key)).body).toMatchObject({ quarantined: true, peers: [] });
    const after = await server.heartbeat(peer.node_key, { peers_version: before.body.peers_version });
    expect(after.body.peers_version).toBeGreaterThan(before.body.peers_version);
    expect(after.body.peers.map((p: { id: string }) => p.id)).not.toContain(linuxC.machine_id);
  });

  it('disabled mode stores reports as compliant with no violations and changes nothing', async () => {
    await org.setSettings({ posture_enforcement: 'disabled' });
    expect((await server.report(linuxC.node_key, NON_COMPLIANT)).body).toMatchObject({ compliant: true, violations: [], quarantined: false, mode: 'disabled' });
    const report = (await org.admin('GET', `/api/db/posture_reports?machine_id=eq.${linuxC.machine_id}`)).body.data[0];
    expect(report).toMatchObject({ compliant: true, violations: [], mode: 'disabled', disk_encrypted: false });
  });
});
