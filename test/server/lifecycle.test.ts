/**
 * The policy lifecycle over HTTP (SPEC 7.3), on the test engine with an injected clock:
 * targeting by platform and tag, grace periods that warn before they block (durable runs,
 * the sweeper acting within a second of blocks_at), exemptions with a reason and an end,
 * and the legacy exemption flag.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TestOrg, TestServer } from './harness.ts';
import { COMPLIANT, FakeClock, startTestServer } from './harness.ts';

const DAY_S = 86_400;
const NO_FIREWALL = { ...COMPLIANT, firewall_enabled: false };
const NO_DISK = { ...COMPLIANT, disk_encrypted: false };

let server: TestServer;
let clock: FakeClock;
let org: TestOrg;

beforeEach(async () => {
  clock = new FakeClock();
  server = await startTestServer({ clock });
  org = await server.org();
});
afterEach(() => server.close());

const iso = (ms: number) => new Date(ms).toISOString();

describe('targeting (platforms and tags)', () => {
  it('only the policies that apply to a machine combine for it, on arrival, on re-evaluation and in the preview', async () => {
    await org.addPolicy({ name: 'windows-fw', require_firewall: true, platforms: ['windows'] });
    await org.addPolicy({ name: 'prod-disk', require_disk_encryption: true, tags: ['prod'] });
    await org.setSettings({ posture_enforcement: 'enforce' });
    const linux = await org.register('build-box', { os: 'linux' });
    const windows = await org.register('laptop', { os: 'windows' });
    const prod = await org.register('prod-db', { os: 'linux', tags: ['prod'] });
    expect((prod as unknown as { tags: string[] }).tags).toEqual(['prod']); // the agent learns its tags (targeting in `ztna posture check`)

    expect((await server.report(linux.node_key, { ...NO_FIREWALL, ...NO_DISK, disk_encrypted: false })).body).toMatchObject({ compliant: true, quarantined: false });
    expect((await server.report(windows.node_key, NO_FIREWALL)).body).toMatchObject({ compliant: false, violations: ['firewall_required'], quarantined: true });
    // The report's own platform wins over the enrolled one.
    expect((await server.report(linux.node_key, { ...NO_FIREWALL, platform: 'windows' })).body).toMatchObject({ violations: ['firewall_required'] });
    expect((await server.report(linux.node_key, COMPLIANT)).body).toMatchObject({ compliant: true });
    expect((await server.report(prod.node_key, NO_DISK)).body).toMatchObject({ violations: ['disk_encryption_required'], quarantined: true });

    // Re-targeting re-evaluates: the disk policy now covers every machine, the firewall one none.
    const policies = (await org.admin('GET', '/api/db/posture_policies')).body.data as Array<{ id: string; name: string }>;
    const diskPolicy = policies.find((policy) => policy.name === 'prod-disk')?.id;
    const fwPolicy = policies.find((policy) => policy.name === 'windows-fw')?.id;
    expect((await org.admin('PATCH', `/api/db/posture_policies?id=eq.${diskPolicy}`, { tags: null })).status).toBe(200);
    expect((await org.admin('PATCH', `/api/db/posture_policies?id=eq.${fwPolicy}`, { platforms: ['darwin'] })).body.data[0]).toMatchObject({ platforms: ['darwin'], tags: null, grace_period_s: 0 });
    expect((await org.machine(windows.machine_id)).status).toBe('online');
    expect((await org.machine(prod.machine_id)).status).toBe('quarantined');

    // The preview with proposed policies applies the same targeting.
    const preview = await org.admin('POST', '/api/posture/impact', { policies: [{ require_firewall: true, platforms: ['linux'] }] });
    expect(preview.body.would_quarantine).toEqual([]);
    expect(preview.body.would_release.map((entry: { hostname: string }) => entry.hostname)).toEqual(['prod-db']);
  });

  it('refuses bad targeting and grace with a 400 naming the field', async () => {
    for (const [body, field] of [
      [{ platforms: ['beos'] }, 'platforms'],
      [{ platforms: [] }, 'platforms'],
      [{ platforms: ['linux', 'linux'] }, 'platforms'],
      [{ tags: ['Not A Tag'] }, 'tags'],
      [{ tags: [] }, 'tags'],
      [{ grace_period_s: -1 }, 'grace_period_s'],
      [{ grace_period_s: 1.5 }, 'grace_period_s'],
      [{ grace_period_s: 400 * DAY_S }, 'grace_period_s'],
    ] as const) {
      const result = await org.admin('POST', '/api/db/posture_policies', body);
      expect(result.status, JSON.stringify(body)).toBe(400);
      expect(result.body.error.message).toMatch(new RegExp(`^${field}`));
    }
  });
});

describe('grace periods', () => {
  async function graceSetup(graceDays = 3) {
    await org.addPolicy({ name: 'baseline', require_firewall: true, grace_period_s: graceDays * DAY_S });
    await org.setSettings({ posture_enforcement: 'enforce' });
    return org.register('laptop');
  }

  it('a failing device is warned with blocks_at, then quarantined by the sweeper within a second of it', async () => {
    const machine = await graceSetup();
    const start = clock.now().getTime();
    const blocksAt = iso(start + 3 * DAY_S * 1000);
    const first = await server.report(machine.node_key, NO_FIREWALL);
    expect(first.body).toMatchObject({ compliant: false, quarantined: false, status: 'online', posture_state: 'grace', violations: ['firewall_required'] });
    expect(first.body.findings[0]).toMatchObject({ code: 'firewall_required', blocks_at: blocksAt });
    expect(await org.machine(machine.machine_id)).toMatchObject({ posture_state: 'grace', grace_until: blocksAt, status: 'online' });
    const [started] = await org.audit('machine.grace_started');
    expect(started).toMatchObject({ machine_id: machine.machine_id, actor: 'system', details: { blocks_at: blocksAt } });

    // A day later the same violation keeps its deadline (the run did not restart).
    clock.advance(DAY_S * 1000);
    expect((await server.report(machine.node_key, NO_FIREWALL)).body.findings[0].blocks_at).toBe(blocksAt);
    expect(await org.audit('machine.grace_started')).toHaveLength(1);
    // Peers are still served in grace, and the agent learns when it blocks.
    expect((await server.heartbeat(machine.node_key)).body).toMatchObject({ quarantined: false, posture_state: 'grace', grace_until: blocksAt, tags: [] });

    // Just before the deadline nothing happens; within a second after it, the sweeper blocks.
    clock.advance(2 * DAY_S * 1000 - 1);
    await server.heartbeat(machine.node_key); // still heard from: online
    await server.server.sweep();
    expect((await org.machine(machine.machine_id)).status).toBe('online');
    clock.advance(500);
    await server.heartbeat(machine.node_key);
    expect((await server.server.sweep()).graceEnded).toBe(1);
    expect(await org.machine(machine.machine_id)).toMatchObject({ status: 'quarantined', quarantine_reason: 'posture', posture_state: 'failing', grace_until: null });
    const [quarantine] = await org.audit('machine.auto_quarantine');
    expect(quarantine.details.findings[0]).toMatchObject({ code: 'firewall_required', blocks_at: blocksAt });
    // A later sweep does nothing more.
    expect((await server.server.sweep()).graceEnded).toBe(0);
  });

  it('remediated before the deadline: never blocked, and the next failure starts a new run', async () => {
    const machine = await graceSetup();
    await server.report(machine.node_key, NO_FIREWALL);
    clock.advance(2 * DAY_S * 1000);
    expect((await server.report(machine.node_key, COMPLIANT)).body).toMatchObject({ compliant: true, findings: [] });
    expect(await org.machine(machine.machine_id)).toMatchObject({ posture_state: 'compliant', grace_until: null, status: 'online' });
    clock.advance(2 * DAY_S * 1000);
    await server.heartbeat(machine.node_key);
    await server.server.sweep();
    expect((await org.machine(machine.machine_id)).status).toBe('online');
    const again = await server.report(machine.node_key, NO_FIREWALL);
    expect(again.body.findings[0].blocks_at).toBe(iso(clock.now().getTime() + 3 * DAY_S * 1000));
    expect(await org.audit('machine.auto_quarantine')).toHaveLength(0);
  });

  it('survives a restart: a new server on the same store keeps the deadline', async () => {
    const machine = await graceSetup();
    const blocksAt = (await server.report(machine.node_key, NO_FIREWALL)).body.findings[0].blocks_at;
    const rows = await server.store.select('posture_failures', { filters: [{ column: 'machine_id', op: 'eq', value: machine.machine_id }] });
    expect(rows.map((row) => [row.code, new Date(row.first_failed_at).toISOString()])).toEqual([['firewall_required', clock.now().toISOString()]]);
    clock.advance(DAY_S * 1000);
    // Re-evaluation (a policy change) keeps the run too.
    await org.addPolicy({ name: 'other', require_antivirus: true });
    expect((await server.report(machine.node_key, NO_FIREWALL)).body.findings[0].blocks_at).toBe(blocksAt);
  });

  it('the shortest grace among the policies a violation breaks wins; a violation without grace blocks at once', async () => {
    await org.addPolicy({ name: 'slow', require_firewall: true, grace_period_s: 7 * DAY_S });
    await org.addPolicy({ name: 'fast', require_firewall: true, grace_period_s: 1 * DAY_S });
    await org.setSettings({ posture_enforcement: 'enforce' });
    const machine = await org.register('laptop');
    const answer = await server.report(machine.node_key, NO_FIREWALL);
    expect(answer.body.findings[0].blocks_at).toBe(iso(clock.now().getTime() + DAY_S * 1000));
    await org.addPolicy({ name: 'strict-disk', require_disk_encryption: true });
    const both = await server.report(machine.node_key, { ...NO_FIREWALL, disk_encrypted: false });
    expect(both.body).toMatchObject({ quarantined: true });
    expect(both.body.findings.map((finding: { code: string; blocks_at?: string }) => [finding.code, finding.blocks_at ?? null])).toEqual([
      ['disk_encryption_required', null],
      ['firewall_required', iso(clock.now().getTime() + DAY_S * 1000)],
    ]);
  });

  it('monitor mode keeps no runs; leaving enforce ends them, and the preview counts grace from the switch', async () => {
    await org.addPolicy({ name: 'baseline', require_firewall: true, grace_period_s: 3 * DAY_S });
    await org.setSettings({ posture_enforcement: 'monitor' });
    const machine = await org.register('laptop');
    const monitored = await server.report(machine.node_key, NO_FIREWALL);
    expect(monitored.body.findings[0].blocks_at).toBeUndefined();
    expect(await org.machine(machine.machine_id)).toMatchObject({ posture_state: 'failing' });
    clock.advance(5 * DAY_S * 1000);
    await server.heartbeat(machine.node_key);
    const preview = (await org.admin('POST', '/api/posture/impact', { mode: 'enforce' })).body;
    expect(preview.would_quarantine).toEqual([]);
    expect(preview.would_block_after_grace).toEqual([expect.objectContaining({ hostname: 'laptop', blocks_at: iso(clock.now().getTime() + 3 * DAY_S * 1000) })]);
    await org.setSettings({ posture_enforcement: 'enforce' });
    expect(await org.machine(machine.machine_id)).toMatchObject({ status: 'online', posture_state: 'grace', grace_until: iso(clock.now().getTime() + 3 * DAY_S * 1000) });
    await org.setSettings({ posture_enforcement: 'monitor' });
    expect(await org.machine(machine.machine_id)).toMatchObject({ posture_state: 'failing', grace_until: null });
    expect(await server.store.count('posture_failures')).toBe(0);
  });
});

describe('exemptions', () => {
  const exempt = (body: Record<string, unknown>) => org.admin('POST', '/api/db/posture_exemptions', body);

  it('keep matching violations from blocking until they end, then the sweeper blocks within a second', async () => {
    await org.addPolicy({ require_firewall: true, require_disk_encryption: true });
    await org.setSettings({ posture_enforcement: 'enforce' });
    const machine = await org.register('laptop');
    expect((await server.report(machine.node_key, NO_FIREWALL)).body).toMatchObject({ quarantined: true });
    const realtime = await server.subscribe(org.token);
    const until = iso(clock.now().getTime() + 5 * DAY_S * 1000); // (the test's admin token lasts 7 days)
    const granted = await exempt({ machine_id: machine.machine_id, codes: ['firewall_'], reason: 'new firewall rolls out next week', expires_at: until });
    expect(granted.status).toBe(200);
    // The stored verdict was judged again: realtime subscribers get it (no evidence).
    const updated = await realtime.waitFor((event) => event.table === 'posture_reports' && event.type === 'UPDATE' && event.data.machine_id === machine.machine_id);
    expect(updated.data.findings[0]).toMatchObject({ code: 'firewall_required', exempt_until: until });
    expect(updated.data.extras).toBeUndefined();
    expect(granted.body.data[0]).toMatchObject({ machine_id: machine.machine_id, codes: ['firewall_'], reason: 'new firewall rolls out next week', created_by: expect.stringMatching(/^admin:/), ended_at: null });
    // Granting re-evaluates at once: released, exempt.
    expect(await org.machine(machine.machine_id)).toMatchObject({ status: 'online', posture_state: 'exempt' });
    expect((await org.audit('machine.exemption_granted'))[0]).toMatchObject({ machine_id: machine.machine_id, details: { codes: ['firewall_'], reason: 'new firewall rolls out next week', expires_at: until } });
    const report = await server.report(machine.node_key, NO_FIREWALL);
    expect(report.body).toMatchObject({ compliant: false, quarantined: false });
    expect(report.body.findings[0]).toMatchObject({ code: 'firewall_required', exempt_until: until });
    // A violation it does not cover still blocks.
    expect((await server.report(machine.node_key, { ...NO_FIREWALL, disk_encrypted: false })).body).toMatchObject({ quarantined: true });
    expect((await server.report(machine.node_key, NO_FIREWALL)).body).toMatchObject({ quarantined: false });

    clock.advance(5 * DAY_S * 1000 - 1);
    await server.heartbeat(machine.node_key);
    await server.server.sweep();
    expect((await org.machine(machine.machine_id)).status).toBe('online');
    clock.advance(400);
    await server.heartbeat(machine.node_key);
    expect((await server.server.sweep()).exemptionsEnded).toBe(1);
    expect(await org.machine(machine.machine_id)).toMatchObject({ status: 'quarantined', posture_state: 'failing' });
    expect(await org.audit('machine.exemption_expired')).toHaveLength(1);
    expect((await server.server.sweep()).exemptionsEnded).toBe(0);
    expect(await org.audit('machine.exemption_expired')).toHaveLength(1);
    const [row] = (await org.admin('GET', `/api/db/posture_exemptions?machine_id=eq.${machine.machine_id}`)).body.data;
    expect(row.ended_at).toBe(clock.now().toISOString());
  });

  it('end early with DELETE (audited), cover every code with codes: null, and are not edited', async () => {
    await org.addPolicy({ require_firewall: true });
    await org.setSettings({ posture_enforcement: 'enforce' });
    const machine = await org.register('laptop');
    const granted = await exempt({ machine_id: machine.machine_id, codes: null, reason: 'travelling', expires_at: iso(clock.now().getTime() + DAY_S * 1000) });
    const id = granted.body.data[0].id;
    expect((await server.report(machine.node_key, NO_FIREWALL)).body).toMatchObject({ quarantined: false });
    expect((await org.admin('PATCH', `/api/db/posture_exemptions?id=eq.${id}`, { reason: 'x' })).status).toBe(405);
    expect((await org.admin('DELETE', `/api/db/posture_exemptions?id=eq.${id}`)).status).toBe(200);
    expect(await org.machine(machine.machine_id)).toMatchObject({ status: 'quarantined' });
    expect((await org.audit('machine.exemption_expired'))[0]).toMatchObject({ details: { exemption_id: id, ended_early: true } });
  });

  it('refuse a missing reason, a past or too distant end, and another org\'s machine', async () => {
    const machine = await org.register('laptop');
    const other = await (await server.org()).register('theirs');
    const soon = iso(clock.now().getTime() + DAY_S * 1000);
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ machine_id: machine.machine_id, codes: null, expires_at: soon }, /^reason/],
      [{ machine_id: machine.machine_id, codes: null, reason: '  ', expires_at: soon }, /^reason/],
      [{ machine_id: machine.machine_id, codes: null, reason: 'r', expires_at: iso(clock.now().getTime() - 1000) }, /^expires_at: must be in the future/],
      [{ machine_id: machine.machine_id, codes: null, reason: 'r', expires_at: iso(clock.now().getTime() + 91 * DAY_S * 1000) }, /^expires_at: at most 90 days/],
      [{ machine_id: machine.machine_id, codes: [], reason: 'r', expires_at: soon }, /^codes/],
      [{ machine_id: machine.machine_id, codes: ['Firewall'], reason: 'r', expires_at: soon }, /^codes/],
      [{ machine_id: other.machine_id, codes: null, reason: 'r', expires_at: soon }, /^machine_id: no machine/],
    ];
    for (const [body, message] of cases) {
      const result = await exempt(body);
      expect(result.status, JSON.stringify(body)).toBe(400);
      expect(result.body.error.message).toMatch(message);
    }
    expect(await server.store.count('posture_exemptions')).toBe(0);
    expect(await org.audit('machine.exemption_granted')).toHaveLength(0);
  });

  it('the legacy posture_exempt flag keeps working: exempt, no expiry', async () => {
    await org.addPolicy({ require_firewall: true });
    await org.setSettings({ posture_enforcement: 'enforce' });
    const machine = await org.register('legacy');
    expect((await org.admin('PATCH', `/api/db/machines?id=eq.${machine.machine_id}`, { posture_exempt: true })).status).toBe(200);
    const report = await server.report(machine.node_key, NO_FIREWALL);
    expect(report.body).toMatchObject({ compliant: false, quarantined: false });
    expect(report.body.findings[0].exempt_until).toBeUndefined();
    expect(await org.machine(machine.machine_id)).toMatchObject({ posture_state: 'exempt', status: 'online' });
    // An exempt machine without a report keeps its access: it is not listed as without a verdict.
    const silent = await org.register('legacy-silent');
    expect((await org.admin('PATCH', `/api/db/machines?id=eq.${silent.machine_id}`, { posture_exempt: true })).status).toBe(200);
    const preview = (await org.admin('POST', '/api/posture/impact', {})).body;
    expect(preview.exempt_failing).toEqual([expect.objectContaining({ hostname: 'legacy', exempt_until: null })]);
    expect(preview.no_verdict).toEqual([]);
    expect(preview.without_report).toBe(1);
  });
});
