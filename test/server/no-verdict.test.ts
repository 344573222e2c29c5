/**
 * SPEC 7.1 "no verdict, no access" and report time, on both engines. Before: a device that
 * enrolled and never reported kept full peers in enforce mode and appeared in every other
 * machine's list (only /api/acl/evaluate denied it, and only as a source); a report's age
 * counted from when the server received it, so a device could send hours-old signals as
 * fresh, or a `collected_at` in the future. Each `it` failed on that code.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TestOrg, TestServer } from './harness.ts';
import { COMPLIANT, NON_COMPLIANT, STRICT_POLICY, startTestServer } from './harness.ts';

let server: TestServer;
let org: TestOrg;
let silent: { machine_id: string; node_key: string };
let reporter: { machine_id: string; node_key: string };

beforeEach(async () => {
  server = await startTestServer();
  org = await server.org();
  await org.addPolicy(STRICT_POLICY);
  await org.setSettings({ posture_enforcement: 'enforce' });
  silent = await org.register('silent');
  reporter = await org.register('reporter');
  expect((await server.report(reporter.node_key, COMPLIANT)).body.compliant).toBe(true);
});
afterEach(() => server.close());

const peerIds = async (nodeKey: string) => ((await server.heartbeat(nodeKey)).body.peers ?? []).map((peer: { id: string }) => peer.id);
const evaluate = (src: string, dst: string) => org.admin('POST', '/api/acl/evaluate', { src_machine_id: src, dst_machine_id: dst });

describe('a machine without a verdict in enforce mode', () => {
  it('gets peers: [] on heartbeat and is told it is pending', async () => {
    const beat = await server.heartbeat(silent.node_key);
    expect(beat.body).toMatchObject({ status: 'online', quarantined: false, posture_state: 'pending', peers: [] });
  });

  it('appears in no other machine\'s peer list, until its first report', async () => {
    expect(await peerIds(reporter.node_key)).not.toContain(silent.machine_id);
    const version = (await server.heartbeat(reporter.node_key)).body.peers_version;
    await server.report(silent.node_key, COMPLIANT);
    const after = await server.heartbeat(reporter.node_key, { peers_version: version });
    expect(after.body.peers_unchanged).toBeUndefined();
    expect(after.body.peers.map((peer: { id: string }) => peer.id)).toContain(silent.machine_id);
  });

  it('is denied by /api/acl/evaluate as source and as destination (posture_policy)', async () => {
    expect((await evaluate(silent.machine_id, reporter.machine_id)).body).toEqual({ allowed: false, matched_rule: 'posture_policy' });
    expect((await evaluate(reporter.machine_id, silent.machine_id)).body).toEqual({ allowed: false, matched_rule: 'posture_policy' });
  });

  it('shows as posture_state "pending" to admins (filterable), and realtime tells when that ends', async () => {
    const pending = (await org.admin('GET', '/api/db/machines?posture_state=eq.pending')).body.data;
    expect(pending.map((machine: { id: string }) => machine.id)).toEqual([silent.machine_id]);
    expect((await org.machine(reporter.machine_id)).posture_state).toBe('compliant');
    const live = await server.subscribe(org.token);
    await server.report(silent.node_key, NON_COMPLIANT);
    await live.waitFor((event) => event.table === 'machines' && event.data.id === silent.machine_id && event.data.posture_state === 'failing');
  });

  it('an exempt machine is never pending: it has peers and is listed', async () => {
    await org.admin('PATCH', '/api/db/machines', { _filters: { id: silent.machine_id }, posture_exempt: true });
    expect((await org.machine(silent.machine_id)).posture_state).toBe('exempt');
    expect((await server.heartbeat(silent.node_key)).body.peers.map((peer: { id: string }) => peer.id)).toEqual([reporter.machine_id]);
    expect(await peerIds(reporter.node_key)).toContain(silent.machine_id);
  });

  it('outside enforce mode a pending machine keeps its peers; switching modes changes the lists at once', async () => {
    const enforced = await server.heartbeat(reporter.node_key);
    await org.setSettings({ posture_enforcement: 'monitor' });
    const monitored = await server.heartbeat(reporter.node_key, { peers_version: enforced.body.peers_version });
    expect(monitored.body.peers.map((peer: { id: string }) => peer.id)).toContain(silent.machine_id);
    expect((await server.heartbeat(silent.node_key)).body.peers.map((peer: { id: string }) => peer.id)).toEqual([reporter.machine_id]);
  });

  it('a verdict that expires is no verdict: pending, out of the lists, even while offline', async () => {
    await org.setSettings({ report_max_age_s: 60, offline_after_s: 30 });
    await server.report(silent.node_key, COMPLIANT);
    expect(await peerIds(reporter.node_key)).toContain(silent.machine_id);
    server.clock.advance(45_000);
    await server.report(reporter.node_key, COMPLIANT);
    await server.heartbeat(reporter.node_key);
    expect((await server.server.sweep()).wentOffline).toBe(1); // silent went quiet
    server.clock.advance(20_000); // silent's report is now 65 s old
    const swept = await server.server.sweep();
    expect(swept.expiredVerdicts).toBe(1);
    expect((await org.machine(silent.machine_id)).posture_state).toBe('pending');
    expect(await peerIds(reporter.node_key)).not.toContain(silent.machine_id);
  });
});

describe('report time (collected_at)', () => {
  const at = (offsetMs: number) => new Date(server.clock.now().getTime() + offsetMs).toISOString();

  it('a collected_at more than 300 s ahead of the server is 400 clock_skew and stores nothing', async () => {
    const before = await server.store.select('posture_reports');
    const result = await server.report(silent.node_key, { ...COMPLIANT, collected_at: at(301_000) });
    expect(result.status).toBe(400);
    expect(result.body.error.code).toBe('clock_skew');
    expect(result.body.error.message).toMatch(/^collected_at: /);
    expect(await server.store.select('posture_reports')).toEqual(before);
    expect((await server.report(silent.node_key, { ...COMPLIANT, collected_at: at(299_000) })).status).toBe(200);
  });

  it('a report collected longer than report_max_age_s ago is expired on arrival', async () => {
    await org.setSettings({ report_max_age_s: 60 });
    const result = await server.report(silent.node_key, { ...COMPLIANT, collected_at: at(-61_000) });
    expect(result.body).toMatchObject({ compliant: false, violations: ['posture_report_expired'], quarantined: true });
    const machine = await org.machine(silent.machine_id);
    expect(machine).toMatchObject({ status: 'quarantined', quarantine_reason: 'expired', posture_state: 'pending' });
  });

  it('expiry counts from collection, not from arrival', async () => {
    await org.setSettings({ report_max_age_s: 60 });
    await server.report(silent.node_key, { ...COMPLIANT, collected_at: at(-50_000) });
    expect((await org.machine(silent.machine_id)).status).toBe('online');
    server.clock.advance(11_000);
    await server.heartbeat(silent.node_key);
    expect((await server.server.sweep()).expiredQuarantines).toBe(1);
    expect((await org.machine(silent.machine_id)).quarantine_reason).toBe('expired');
  });
});
