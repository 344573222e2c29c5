/** /api/acl/evaluate's fixed order and matched_rule values, and peer lists with peers_version. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TestOrg, TestServer } from './harness.ts';
import { COMPLIANT, NON_COMPLIANT, STRICT_POLICY, startTestServer } from './harness.ts';

let server: TestServer;
let org: TestOrg;
let a: { machine_id: string; node_key: string };
let b: { machine_id: string; node_key: string };

beforeEach(async () => {
  server = await startTestServer();
  org = await server.org();
  await org.addPolicy(STRICT_POLICY);
  a = await org.register('alpha', { tags: ['dev'] });
  b = await org.register('bravo', { tags: ['prod'] });
});
afterEach(() => server.close());

const evaluate = (src: string, dst: string, port?: number) =>
  org.admin('POST', '/api/acl/evaluate', { src_machine_id: src, dst_machine_id: dst, ...(port === undefined ? {} : { port }) });

describe('ACL evaluation order', () => {
  it('a new org allows everything inside it through its default rule', async () => {
    expect((await evaluate(a.machine_id, b.machine_id)).body).toEqual({ allowed: true, matched_rule: 'default-allow-all' });
  });

  it('quarantine wins over everything: machine_status_policy, on either side', async () => {
    await org.admin('PATCH', '/api/db/machines', { _filters: { id: b.machine_id }, status: 'quarantined' });
    expect((await evaluate(a.machine_id, b.machine_id)).body).toEqual({ allowed: false, matched_rule: 'machine_status_policy' });
    expect((await evaluate(b.machine_id, a.machine_id)).body).toEqual({ allowed: false, matched_rule: 'machine_status_policy' });
  });

  it('posture denies only in enforce mode, and a missing report counts as failing', async () => {
    await org.setSettings({ posture_enforcement: 'monitor' });
    await server.report(a.node_key, NON_COMPLIANT);
    expect((await evaluate(a.machine_id, b.machine_id)).body.allowed).toBe(true);
    await org.setSettings({ posture_enforcement: 'enforce' }); // quarantines a at once
    expect((await evaluate(a.machine_id, b.machine_id)).body.matched_rule).toBe('machine_status_policy');
    // b never reported: no report, no access as a source in enforce mode.
    expect((await evaluate(b.machine_id, a.machine_id)).body.matched_rule).toBe('machine_status_policy');
    await server.report(a.node_key, COMPLIANT);
    expect((await evaluate(b.machine_id, a.machine_id)).body).toEqual({ allowed: false, matched_rule: 'posture_policy' });
    await server.report(b.node_key, COMPLIANT);
    expect((await evaluate(b.machine_id, a.machine_id)).body).toEqual({ allowed: true, matched_rule: 'default-allow-all' });
  });

  it('rules by ascending priority, first match wins; ports and tags; default_deny when nothing matches', async () => {
    const rules = (await org.admin('GET', '/api/db/acl_rules')).body.data;
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({ name: 'default-allow-all', action: 'allow', src: '*', dst: '*', ports: '*' });
    await org.admin('DELETE', `/api/db/acl_rules?id=eq.${rules[0].id}`);
    expect((await evaluate(a.machine_id, b.machine_id)).body).toEqual({ allowed: false, matched_rule: 'default_deny' });
    await org.admin('POST', '/api/db/acl_rules', { name: 'dev-to-prod-ssh', priority: 10, action: 'allow', src: 'tag:dev', dst: 'tag:prod', ports: '22' });
    await org.admin('POST', '/api/db/acl_rules', { name: 'block-prod', priority: 20, action: 'deny', src: '*', dst: 'tag:prod', ports: '*' });
    await org.admin('POST', '/api/db/acl_rules', { name: 'web', priority: 5, action: 'allow', src: 'alpha', dst: b.machine_id, ports: '80,443,8000-8100' });
    expect((await evaluate(a.machine_id, b.machine_id, 22)).body).toEqual({ allowed: true, matched_rule: 'dev-to-prod-ssh' });
    expect((await evaluate(a.machine_id, b.machine_id, 8050)).body).toEqual({ allowed: true, matched_rule: 'web' });
    expect((await evaluate(a.machine_id, b.machine_id, 3389)).body).toEqual({ allowed: false, matched_rule: 'block-prod' });
    expect((await evaluate(a.machine_id, b.machine_id)).body).toEqual({ allowed: false, matched_rule: 'block-prod' });
    expect((await evaluate(b.machine_id, a.machine_id, 22)).body).toEqual({ allowed: false, matched_rule: 'default_deny' });
  });

  it('rejects rules it could not evaluate, naming the field', async () => {
    const bad = await org.admin('POST', '/api/db/acl_rules', { name: 'x', action: 'allow', src: '*', dst: '*', ports: '70000' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^ports/);
    const badAction = await org.admin('POST', '/api/db/acl_rules', { name: 'x', action: 'permit' });
    expect(badAction.body.error.message).toMatch(/^action/);
  });
});

describe('peers', () => {
  it('lists the other machines with the SPEC fields; an unchanged peers_version gets peers_unchanged', async () => {
    const first = await server.heartbeat(a.node_key);
    expect(first.body.peers).toEqual([
      { id: b.machine_id, hostname: 'bravo', os: 'linux', tags: ['prod'], online: true, last_seen: expect.any(String) },
    ]);
    const again = await server.heartbeat(a.node_key, { peers_version: first.body.peers_version });
    expect(again.body.peers_unchanged).toBe(true);
    expect(again.body).not.toHaveProperty('peers');
    expect(again.body.peers_version).toBe(first.body.peers_version);
    // A new machine changes the list.
    const c = await org.register('charlie');
    const changed = await server.heartbeat(a.node_key, { peers_version: first.body.peers_version });
    expect(changed.body.peers.map((p: { id: string }) => p.id).sort()).toEqual([b.machine_id, c.machine_id].sort());
  });

  it('going offline shows as online: false; tags and hostname changes bump the version', async () => {
    await org.setSettings({ offline_after_s: 5 });
    const first = await server.heartbeat(a.node_key);
    server.clock.advance(6_000);
    await server.heartbeat(a.node_key);
    await server.server.sweep();
    const afterOffline = await server.heartbeat(a.node_key, { peers_version: first.body.peers_version });
    expect(afterOffline.body.peers[0]).toMatchObject({ id: b.machine_id, online: false });
    await org.admin('PATCH', '/api/db/machines', { _filters: { id: b.machine_id }, tags: ['prod', 'db'] });
    const afterTags = await server.heartbeat(a.node_key, { peers_version: afterOffline.body.peers_version });
    expect(afterTags.body.peers[0].tags).toEqual(['prod', 'db']);
  });

  it('a heartbeat without peers_version always gets the full list', async () => {
    await server.heartbeat(a.node_key);
    expect((await server.heartbeat(a.node_key)).body.peers).toHaveLength(1);
  });
});

describe('realtime', () => {
  it('pushes machines, posture_reports and audit_log events, with the token in the query string too', async () => {
    await org.setSettings({ posture_enforcement: 'enforce' });
    const socket = await server.subscribe(org.token, 'query');
    await server.report(a.node_key, NON_COMPLIANT);
    await socket.waitFor((e) => e.table === 'machines' && e.type === 'UPDATE' && e.data.id === a.machine_id && e.data.status === 'quarantined');
    await socket.waitFor((e) => e.table === 'posture_reports' && e.type === 'INSERT' && e.data.machine_id === a.machine_id);
    await socket.waitFor((e) => e.table === 'audit_log' && e.type === 'INSERT' && e.data.event === 'machine.auto_quarantine');
    expect(JSON.stringify(socket.events)).not.toMatch(/node_key/);
  });

  it('refuses a socket without a valid token', async () => {
    await expect(server.subscribe('not-a-token')).rejects.toThrow(/401/);
  });
});
