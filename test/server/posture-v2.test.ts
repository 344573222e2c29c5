/**
 * Posture model v2 over HTTP (SPEC 7.2), on the test engine: reports of older and newer
 * agents, findings in every verdict, the new signals stored and shown, the new policy
 * fields written and read through /api/db, and the version rules enforced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestOrg, TestServer } from './harness.ts';
import { COMPLIANT, startTestServer } from './harness.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

/** What an agent of the previous contract sends: SPEC 2's five signals, nothing else. */
const V1_REPORT = { ...COMPLIANT };
const V2_REPORT = { ...COMPLIANT, os_version_number: '12', screen_lock_enabled: true, secure_boot_enabled: false, platform: 'linux', agent_version: '0.2.0' };

async function freshOrg(): Promise<TestOrg> {
  return server.org();
}

describe('reports of older and newer agents', () => {
  it('a v1 agent gets the same verdict it always did, plus findings and an empty ignored_fields', async () => {
    const org = await freshOrg();
    await org.addPolicy({ require_firewall: true });
    await org.setSettings({ posture_enforcement: 'monitor' });
    const machine = await org.register('v1-agent');
    const response = await server.report(machine.node_key, { ...V1_REPORT, firewall_enabled: false });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      compliant: false,
      violations: ['firewall_required'],
      findings: [{ code: 'firewall_required', signal: 'firewall_enabled', required: true, observed: false, limit: null, message: 'The firewall is off; the policy requires it' }],
      quarantined: false,
      mode: 'monitor',
      status: 'online',
      // SPEC 7.3 (an addition): the machine's posture_state after the verdict.
      posture_state: 'failing',
      ignored_fields: [],
    });
  });

  it('a newer agent’s unknown fields are ignored and named back, never stored', async () => {
    const org = await freshOrg();
    const machine = await org.register('v3-agent');
    const response = await server.report(machine.node_key, { ...V2_REPORT, zz_future_signal: true, battery_health: 'good' });
    expect(response.status).toBe(200);
    expect(response.body.ignored_fields).toEqual(['battery_health', 'zz_future_signal']);
    const [stored] = (await org.admin('GET', `/api/db/posture_reports?machine_id=eq.${machine.machine_id}`)).body.data;
    expect(JSON.stringify(stored)).not.toMatch(/zz_future_signal|battery_health/);
  });

  it('any signal may be left out: stored as unknown and, where required, failing closed', async () => {
    const org = await freshOrg();
    await org.addPolicy({ require_screen_lock: true });
    await org.setSettings({ posture_enforcement: 'monitor' });
    const machine = await org.register('sparse');
    const response = await server.report(machine.node_key, { disk_encrypted: true });
    expect(response.status).toBe(200);
    expect(response.body.violations).toEqual(['screen_lock_required']);
    const [stored] = (await org.admin('GET', `/api/db/posture_reports?machine_id=eq.${machine.machine_id}`)).body.data;
    expect(stored).toMatchObject({ os_version: null, disk_encrypted: true, firewall_enabled: null, screen_lock_enabled: null, secure_boot_enabled: null, os_version_number: null });
    expect(stored.findings).toEqual([expect.objectContaining({ code: 'screen_lock_required', observed: null })]);
  });

  it('the new signals are stored and shown as fields of the report, and can be selected', async () => {
    const org = await freshOrg();
    const machine = await org.register('v2-agent');
    await server.report(machine.node_key, V2_REPORT);
    const [stored] = (await org.admin('GET', `/api/db/posture_reports?machine_id=eq.${machine.machine_id}`)).body.data;
    expect(stored).toMatchObject({ os_version_number: '12', screen_lock_enabled: true, secure_boot_enabled: false, platform: 'linux', agent_version: '0.2.0', findings: [] });
    expect(stored).not.toHaveProperty('signals');
    const selected = (await org.admin('GET', `/api/db/posture_reports?machine_id=eq.${machine.machine_id}&select=machine_id,screen_lock_enabled,findings`)).body.data;
    expect(selected).toEqual([{ machine_id: machine.machine_id, screen_lock_enabled: true, findings: [] }]);
    const filtered = await org.admin('GET', '/api/db/posture_reports?screen_lock_enabled=eq.true');
    expect(filtered.status).toBe(400);
    expect(filtered.body.error.message).toMatch(/screen_lock_enabled cannot be used in filter/);
  });

  it('a present signal of the wrong type is still a 400 naming it', async () => {
    const org = await freshOrg();
    const machine = await org.register('typo');
    for (const [field, value] of [['os_version_number', '14.4-beta'], ['screen_lock_enabled', 'yes'], ['secure_boot_enabled', 1]] as const) {
      const response = await server.report(machine.node_key, { ...V2_REPORT, [field]: value });
      expect(response.status, field).toBe(400);
      expect(response.body.error.message).toMatch(new RegExp(`^${field}`));
    }
  });
});

describe('v2 policy fields through /api/db/posture_policies', () => {
  it('are written, read back top-level, patched one at a time, and validated', async () => {
    const org = await freshOrg();
    const created = await org.addPolicy({ name: 'strict', require_screen_lock: true, min_os_versions: { darwin: '14.4', windows: '10.0.22631' }, min_agent_version: '0.2.0' });
    expect(created.status).toBe(200);
    const policy = created.body.data[0];
    expect(policy).toMatchObject({ name: 'strict', require_screen_lock: true, require_secure_boot: false, min_os_versions: { darwin: '14.4', windows: '10.0.22631' }, min_agent_version: '0.2.0', require_firewall: false, max_patch_age_days: null });
    expect(policy).not.toHaveProperty('requirements');

    const patched = await org.admin('PATCH', '/api/db/posture_policies', { _filters: { id: policy.id }, require_secure_boot: true });
    expect(patched.status).toBe(200);
    expect(patched.body.data[0]).toMatchObject({ require_screen_lock: true, require_secure_boot: true, min_agent_version: '0.2.0', min_os_versions: { darwin: '14.4', windows: '10.0.22631' } });
    const cleared = await org.admin('PATCH', '/api/db/posture_policies', { _filters: { id: policy.id }, min_os_versions: null, require_firewall: true });
    expect(cleared.body.data[0]).toMatchObject({ min_os_versions: null, require_firewall: true, require_secure_boot: true });
    const [read] = (await org.admin('GET', `/api/db/posture_policies?id=eq.${policy.id}`)).body.data;
    expect(read).toMatchObject({ min_os_versions: null, require_firewall: true, require_secure_boot: true, require_screen_lock: true, min_agent_version: '0.2.0' });

    for (const [body, field] of [
      [{ min_os_versions: { beos: '5' } }, 'min_os_versions'],
      [{ min_os_versions: { darwin: '14.4-beta' } }, 'min_os_versions.darwin'],
      [{ min_agent_version: 'latest' }, 'min_agent_version'],
      [{ require_screen_lock: 'yes' }, 'require_screen_lock'],
    ] as const) {
      const refused = await org.addPolicy(body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(refused.body.error.message).toMatch(new RegExp(`^${field.replace('.', '\\.')}`));
    }
    const audit = await org.audit('posture.policy_changed');
    expect(audit.at(-1).details.policy).toMatchObject({ require_firewall: true, require_screen_lock: true });
  });
});

describe('version rules and new requirements in enforce mode', () => {
  it('an OS below its platform minimum is quarantined with the finding; the agent version counts from the report, else the machine', async () => {
    const org = await freshOrg();
    await org.addPolicy({ min_os_versions: { linux: '12' }, min_agent_version: '0.2.0' });
    await org.setSettings({ posture_enforcement: 'enforce' });
    const old = await org.register('old-debian');
    const response = await server.report(old.node_key, { ...V2_REPORT, os_version_number: '11', agent_version: '0.1.9' });
    expect(response.body).toMatchObject({ compliant: false, quarantined: true, violations: ['os_version_too_old (11 < 12)', 'agent_version_too_old (0.1.9 < 0.2.0)'] });
    expect(response.body.findings.map((finding: { code: string; observed: unknown; limit: unknown }) => [finding.code, finding.observed, finding.limit])).toEqual([
      ['os_version_too_old', '11', '12'],
      ['agent_version_too_old', '0.1.9', '0.2.0'],
    ]);
    const [audit] = await org.audit('machine.auto_quarantine');
    expect(audit.details.findings).toHaveLength(2);

    const fixed = await server.report(old.node_key, { ...V2_REPORT, os_version_number: '12.8' });
    expect(fixed.body).toMatchObject({ compliant: true, quarantined: false, findings: [] });

    // A report without agent_version is judged by the version the machine enrolled with.
    const enrolledOld = await org.register('enrolled-old', { agent_version: '0.1.0' });
    const { agent_version: _omit, ...withoutVersion } = V2_REPORT;
    const judged = await server.report(enrolledOld.node_key, withoutVersion);
    expect(judged.body.violations).toEqual(['agent_version_too_old (0.1.0 < 0.2.0)']);
  });

  it('a report without platform is judged by the OS the machine enrolled with, on arrival as on re-evaluation', async () => {
    const org = await freshOrg();
    await org.addPolicy({ min_os_versions: { linux: '12' } });
    await org.setSettings({ posture_enforcement: 'enforce' });
    const { platform: _omit, ...withoutPlatform } = V2_REPORT;
    const linux = await org.register('enrolled-linux', { os: 'linux' });
    const arrival = await server.report(linux.node_key, { ...withoutPlatform, os_version_number: '11' });
    expect(arrival.body).toMatchObject({ compliant: false, violations: ['os_version_too_old (11 < 12)'] });
    // A platform the policy sets no minimum for passes, whichever way it is known.
    const mac = await org.register('enrolled-mac', { os: 'darwin' });
    expect((await server.report(mac.node_key, { ...withoutPlatform, os_version_number: '11' })).body).toMatchObject({ compliant: true, findings: [] });
    await org.addPolicy({ require_firewall: true });
    expect((await org.machine(mac.machine_id)).status).toBe('online');
    expect((await org.machine(linux.machine_id)).status).toBe('quarantined');
  });

  it('tightening a policy re-evaluates every stored report with the new requirements, and the impact preview agrees', async () => {
    const org = await freshOrg();
    await org.setSettings({ posture_enforcement: 'enforce' });
    const locked = await org.register('locked');
    const unlocked = await org.register('unlocked');
    await server.report(locked.node_key, V2_REPORT);
    await server.report(unlocked.node_key, { ...V2_REPORT, screen_lock_enabled: false });
    const preview = await org.admin('POST', '/api/posture/impact', { policies: [{ require_screen_lock: true }] });
    expect(preview.body.would_quarantine.map((machine: { hostname: string }) => machine.hostname)).toEqual(['unlocked']);
    expect(preview.body.would_quarantine[0].findings).toEqual([expect.objectContaining({ code: 'screen_lock_required', observed: false })]);
    await org.addPolicy({ require_screen_lock: true });
    expect((await org.machine(unlocked.machine_id)).status).toBe('quarantined');
    expect((await org.machine(locked.machine_id)).status).toBe('online');
    const [stored] = (await org.admin('GET', `/api/db/posture_reports?machine_id=eq.${unlocked.machine_id}`)).body.data;
    expect(stored).toMatchObject({ violations: ['screen_lock_required'], findings: [expect.objectContaining({ code: 'screen_lock_required' })] });
    expect((await org.machine(unlocked.machine_id)).risk_score).toBe(10 + 20);
  });
});
