/** SPEC section 3's rules, one by one, over real HTTP with a fake clock. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TestOrg, TestServer } from './harness.ts';
import { COMPLIANT, NON_COMPLIANT, STRICT_POLICY, startTestServer } from './harness.ts';

let server: TestServer;
let org: TestOrg;

beforeEach(async () => {
  server = await startTestServer();
  org = await server.org();
  await org.addPolicy(STRICT_POLICY);
});
afterEach(() => server.close());

const enforce = () => org.setSettings({ posture_enforcement: 'enforce' });

describe('liveness', () => {
  it('offline after offline_after_s of silence, online again on the next heartbeat', async () => {
    await org.setSettings({ offline_after_s: 5 });
    const m = await org.register();
    server.clock.advance(4_000);
    await server.server.sweep();
    expect((await org.machine(m.machine_id)).status).toBe('online');
    server.clock.advance(1_500);
    expect((await server.server.sweep()).wentOffline).toBe(1);
    expect((await org.machine(m.machine_id)).status).toBe('offline');
    expect((await server.heartbeat(m.node_key)).body.status).toBe('online');
    expect((await org.machine(m.machine_id)).status).toBe('online');
  });

  it('heartbeats keep a machine online: buffered last_seen is flushed before the sweep judges it', async () => {
    await org.setSettings({ offline_after_s: 5 });
    const m = await org.register();
    for (let i = 0; i < 4; i++) {
      server.clock.advance(3_000);
      await server.heartbeat(m.node_key);
      await server.server.sweep();
    }
    expect((await org.machine(m.machine_id)).status).toBe('online');
  });

  it('the sweeper never turns a quarantined machine offline', async () => {
    await enforce();
    await org.setSettings({ offline_after_s: 5 });
    const m = await org.register();
    await server.report(m.node_key, NON_COMPLIANT);
    server.clock.advance(60_000);
    await server.server.sweep();
    expect((await org.machine(m.machine_id)).status).toBe('quarantined');
  });

  it('offline then back: a failing report while offline is stored but acted on when the heartbeat returns', async () => {
    await enforce();
    await org.setSettings({ offline_after_s: 5 });
    const m = await org.register();
    server.clock.advance(10_000);
    await server.server.sweep();
    expect((await org.machine(m.machine_id)).status).toBe('offline');
    const flagged = await server.report(m.node_key, NON_COMPLIANT);
    expect(flagged.body).toMatchObject({ compliant: false, quarantined: false, status: 'offline', mode: 'enforce' });
    expect(await org.audit('machine.auto_quarantine')).toHaveLength(0);
    const back = await server.heartbeat(m.node_key);
    expect(back.body).toMatchObject({ status: 'quarantined', quarantined: true, peers: [] });
    expect(await org.audit('machine.auto_quarantine')).toHaveLength(1);
  });

  it('offline then back with a passing report: simply online', async () => {
    await enforce();
    await org.setSettings({ offline_after_s: 5 });
    const m = await org.register();
    server.clock.advance(10_000);
    await server.server.sweep();
    await server.report(m.node_key, COMPLIANT);
    expect((await server.heartbeat(m.node_key)).body.status).toBe('online');
  });
});

describe('enforcement', () => {
  it('a compliant report releases a posture quarantine (audited once), monitor mode never does', async () => {
    await enforce();
    const m = await org.register();
    await server.report(m.node_key, NON_COMPLIANT);
    await server.report(m.node_key, NON_COMPLIANT); // a second failing report is not a second transition
    expect(await org.audit('machine.auto_quarantine')).toHaveLength(1);
    expect((await server.report(m.node_key, COMPLIANT)).body).toMatchObject({ compliant: true, quarantined: false, status: 'online' });
    expect(await org.audit('machine.auto_unquarantine')).toHaveLength(1);
    await server.report(m.node_key, NON_COMPLIANT);
    await org.setSettings({ posture_enforcement: 'monitor' });
    await server.report(m.node_key, COMPLIANT);
    expect((await org.machine(m.machine_id)).status).toBe('quarantined');
  });

  it('unknown signals fail closed on the server too', async () => {
    await enforce();
    const m = await org.register();
    const response = await server.report(m.node_key, { ...COMPLIANT, firewall_enabled: null, patch_age_days: null });
    expect(response.body.violations).toEqual(['firewall_required', 'patch_age_exceeded (unknown > 30 days)']);
    expect(response.body.quarantined).toBe(true);
  });

  it('a manual quarantine survives a compliant report; a manual release is audited', async () => {
    await enforce();
    const m = await org.register();
    const held = await org.admin('PATCH', `/api/db/machines?id=eq.${m.machine_id}`, { status: 'quarantined' });
    expect(held.body.data[0]).toMatchObject({ status: 'quarantined', quarantine_reason: 'manual' });
    expect((await server.report(m.node_key, COMPLIANT)).body).toMatchObject({ compliant: true, quarantined: true });
    expect(await org.audit('machine.manual_quarantine')).toHaveLength(1);
    const released = await org.admin('PATCH', '/api/db/machines', { _filters: { id: m.machine_id }, status: 'online' });
    expect(released.body.data[0]).toMatchObject({ status: 'online', quarantine_reason: null });
    expect(await org.audit('machine.manual_unquarantine')).toHaveLength(1);
    expect((await org.admin('PATCH', '/api/db/machines', { _filters: { id: m.machine_id }, status: 'offline' })).status).toBe(400);
  });

  it('an exempt machine is evaluated and recorded but never quarantined or denied for posture', async () => {
    await enforce();
    const m = await org.register();
    const other = await org.register();
    await org.admin('PATCH', '/api/db/machines', { _filters: { id: m.machine_id }, posture_exempt: true });
    const response = await server.report(m.node_key, NON_COMPLIANT);
    expect(response.body).toMatchObject({ compliant: false, quarantined: false, status: 'online' });
    expect(response.body.violations).toHaveLength(3);
    await server.report(other.node_key, COMPLIANT);
    const access = await org.admin('POST', '/api/acl/evaluate', { src_machine_id: m.machine_id, dst_machine_id: other.machine_id });
    expect(access.body).toEqual({ allowed: true, matched_rule: 'default-allow-all' });
  });

  it('exempting a quarantined machine releases it; removing the exemption re-applies the verdict', async () => {
    await enforce();
    const m = await org.register();
    await server.report(m.node_key, NON_COMPLIANT);
    await org.admin('PATCH', '/api/db/machines', { _filters: { id: m.machine_id }, posture_exempt: true });
    expect((await org.machine(m.machine_id)).status).toBe('online');
    await org.admin('PATCH', '/api/db/machines', { _filters: { id: m.machine_id }, posture_exempt: false });
    expect((await org.machine(m.machine_id)).status).toBe('quarantined');
  });
});

describe('no stale settings, continuous re-evaluation', () => {
  it('a mode flip applies to the very next report', async () => {
    const m = await org.register();
    expect((await server.report(m.node_key, NON_COMPLIANT)).body.mode).toBe('disabled');
    await org.setSettings({ posture_enforcement: 'monitor' });
    expect((await server.report(m.node_key, NON_COMPLIANT)).body).toMatchObject({ mode: 'monitor', compliant: false, quarantined: false });
    await enforce();
    expect((await server.report(m.node_key, NON_COMPLIANT)).body).toMatchObject({ mode: 'enforce', quarantined: true });
  });

  it('switching to enforce re-evaluates every stored report at once', async () => {
    const bad = await org.register('bad');
    const good = await org.register('good');
    await server.report(bad.node_key, NON_COMPLIANT);
    await server.report(good.node_key, COMPLIANT);
    expect((await org.machine(bad.machine_id)).status).toBe('online');
    await enforce();
    expect((await org.machine(bad.machine_id)).status).toBe('quarantined');
    expect((await org.machine(good.machine_id)).status).toBe('online');
  });

  it('in enforce mode a stricter or looser policy quarantines or releases at once, and is audited', async () => {
    await enforce();
    const m = await org.register();
    await server.report(m.node_key, { ...COMPLIANT, patch_age_days: 20 });
    const tighter = await org.addPolicy({ max_patch_age_days: 14 });
    expect(tighter.status).toBe(200);
    expect((await org.machine(m.machine_id)).status).toBe('quarantined');
    const report = (await org.admin('GET', `/api/db/posture_reports?machine_id=eq.${m.machine_id}`)).body.data[0];
    expect(report.violations).toEqual(['patch_age_exceeded (20 > 14 days)']);
    await org.admin('DELETE', `/api/db/posture_policies?id=eq.${tighter.body.data[0].id}`);
    expect((await org.machine(m.machine_id)).status).toBe('online');
    expect(await org.audit('posture.policy_changed')).toHaveLength(3);
    expect(await org.audit('org.settings_updated')).toHaveLength(1);
  });
});

describe('report expiration (report_max_age_s)', () => {
  it('an old report quarantines an online machine (expired), denies access, and a fresh compliant report releases it', async () => {
    await enforce();
    await org.setSettings({ report_max_age_s: 3600 });
    const m = await org.register();
    const other = await org.register();
    await server.report(m.node_key, COMPLIANT);
    await server.report(other.node_key, COMPLIANT);
    server.clock.advance(3_000_000);
    await server.heartbeat(m.node_key);
    await server.heartbeat(other.node_key);
    await server.server.sweep();
    expect((await org.machine(m.machine_id)).status).toBe('online');
    server.clock.advance(700_000);
    await server.report(other.node_key, COMPLIANT); // other stays fresh
    await server.heartbeat(m.node_key);
    expect((await server.server.sweep()).expiredQuarantines).toBe(1);
    expect(await org.machine(m.machine_id)).toMatchObject({ status: 'quarantined', quarantine_reason: 'expired' });
    const audit = await org.audit('machine.auto_quarantine');
    expect(audit.at(-1).details.violations).toEqual(['posture_report_expired']);
    expect((await server.report(m.node_key, COMPLIANT)).body).toMatchObject({ quarantined: false, status: 'online' });
  });

  it('an expired source is denied by the ACL with posture_policy', async () => {
    await enforce();
    await org.setSettings({ report_max_age_s: 60, offline_after_s: 100_000 });
    const src = await org.register();
    const dst = await org.register();
    await server.report(src.node_key, COMPLIANT);
    server.clock.advance(61_000);
    const access = await org.admin('POST', '/api/acl/evaluate', { src_machine_id: src.machine_id, dst_machine_id: dst.machine_id });
    expect(access.body).toEqual({ allowed: false, matched_rule: 'posture_policy' });
  });
});

describe('remediation preparation', () => {
  it('an auto-quarantine for firewall/encryption prepares pending commands for one hour, audited; the agent answers them', async () => {
    await enforce();
    await org.setSettings({ ai_operator_enabled: true, auto_remediate_firewall: true, auto_remediate_encryption: true });
    const m = await org.register();
    const other = await org.register();
    await server.report(m.node_key, { ...COMPLIANT, firewall_enabled: false, disk_encrypted: false });
    const commands = (await org.admin('GET', `/api/db/agent_commands?machine_id=eq.${m.machine_id}&order=command.asc`)).body.data;
    expect(commands.map((c: { command: string }) => c.command)).toEqual(['enable_disk_encryption', 'enable_firewall']);
    for (const command of commands) {
      expect(command.status).toBe('pending');
      expect(Date.parse(command.expires_at) - Date.parse(command.created_at)).toBe(3_600_000);
    }
    expect(await org.audit('ai.auto_remediation_prepared')).toHaveLength(2);
    const beat = await server.heartbeat(m.node_key);
    expect(beat.body.pending_commands.map((c: { id: string }) => c.id).sort()).toEqual(commands.map((c: { id: string }) => c.id).sort());
    // Another machine cannot answer it.
    const foreign = await server.request('POST', '/api/agent-commands/result', { body: { node_key: other.node_key, id: commands[0].id, status: 'applied', result: {} } });
    expect(foreign.status).toBe(404);
    const answered = await server.request('POST', '/api/agent-commands/result', { body: { node_key: m.node_key, id: commands[0].id, status: 'applied', result: { tool: 'ufw' } } });
    expect(answered.status).toBe(200);
    expect(answered.body.data[0]).toMatchObject({ status: 'applied', result: { tool: 'ufw' } });
    // After an hour the other one expires and is no longer announced.
    server.clock.advance(3_600_001);
    await server.server.sweep();
    expect((await server.heartbeat(m.node_key)).body.pending_commands).toEqual([]);
    const expired = (await org.admin('GET', `/api/db/agent_commands?id=eq.${commands[1].id}`)).body.data[0];
    expect(expired.status).toBe('expired');
  });

  it('without the AI operator nothing is prepared', async () => {
    await enforce();
    const m = await org.register();
    await server.report(m.node_key, NON_COMPLIANT);
    expect((await org.admin('GET', '/api/db/agent_commands')).body.data).toEqual([]);
  });
});

describe('risk score', () => {
  it('is 0 when compliant and rises with violations and quarantine (documented weights)', async () => {
    const m = await org.register();
    await server.report(m.node_key, COMPLIANT);
    expect((await org.machine(m.machine_id)).risk_score).toBe(0);
    await org.setSettings({ posture_enforcement: 'monitor' });
    await server.report(m.node_key, { ...COMPLIANT, firewall_enabled: false });
    expect((await org.machine(m.machine_id)).risk_score).toBe(25);
    await enforce();
    expect((await org.machine(m.machine_id)).risk_score).toBe(45);
    await server.report(m.node_key, NON_COMPLIANT);
    expect((await org.machine(m.machine_id)).risk_score).toBe(100);
  });
});
