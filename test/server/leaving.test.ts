/**
 * Leaving for real (SPEC 7.1), on both engines. Before: there was no way for a device to
 * leave (`ztna down` only forgot the key locally, so the machine stayed enrolled and its
 * key kept working for whoever had a copy), and a laptop an admin had quarantined by hand
 * could come back under a fresh enrolment without anyone being told.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TestOrg, TestServer } from './harness.ts';
import { COMPLIANT, startTestServer } from './harness.ts';

let server: TestServer;
let org: TestOrg;

// One server for the file (a PostgreSQL schema costs its migrations); each test has its own org.
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());
beforeEach(async () => {
  org = await server.org();
});

const deregister = (nodeKey: string) => server.request('POST', '/api/deregister', { body: { node_key: nodeKey } });

async function expectKeyDead(nodeKey: string): Promise<void> {
  expect((await server.heartbeat(nodeKey)).status).toBe(401);
  expect((await server.report(nodeKey, COMPLIANT)).status).toBe(401);
  expect((await deregister(nodeKey)).status).toBe(401);
}

describe('POST /api/deregister', () => {
  it('deletes the machine, audits machine.deregistered, tells realtime and peers; the key is 401 for ever', async () => {
    const leaving = await org.register('leaving');
    const staying = await org.register('staying');
    await server.report(leaving.node_key, COMPLIANT);
    await server.report(staying.node_key, COMPLIANT);
    const version = (await server.heartbeat(staying.node_key)).body.peers_version;
    const live = await server.subscribe(org.token);

    const result = await deregister(leaving.node_key);
    expect(result.status, JSON.stringify(result.body)).toBe(200);
    expect(result.body).toEqual({ deregistered: true, machine_id: leaving.machine_id });
    expect(await org.machine(leaving.machine_id)).toBeUndefined();
    expect((await org.admin('GET', `/api/db/posture_reports?machine_id=eq.${leaving.machine_id}`)).body.data).toEqual([]);
    const [audit] = await org.audit('machine.deregistered');
    expect(audit).toMatchObject({ machine_id: leaving.machine_id, actor: `machine:${leaving.machine_id}`, details: { hostname: 'leaving', status: 'online' } });
    await live.waitFor((event) => event.table === 'machines' && event.type === 'DELETE' && event.data.id === leaving.machine_id);
    const after = await server.heartbeat(staying.node_key, { peers_version: version });
    expect(after.body.peers.map((peer: { id: string }) => peer.id)).toEqual([]);
    server.clock.advance(86_400_000);
    await expectKeyDead(leaving.node_key);
  });

  it('an admin DELETE does the same, audited machine.deleted', async () => {
    const machine = await org.register('removed');
    await org.admin('DELETE', `/api/db/machines?id=eq.${machine.machine_id}`);
    expect((await org.audit('machine.deleted'))[0]).toMatchObject({ machine_id: machine.machine_id, details: { hostname: 'removed' } });
    await expectKeyDead(machine.node_key);
  });

  it('a quarantined machine can leave, and its hostname is free again', async () => {
    const machine = await org.register('laptop');
    await org.admin('PATCH', '/api/db/machines', { _filters: { id: machine.machine_id }, status: 'quarantined' });
    expect((await deregister(machine.node_key)).status).toBe(200);
    expect((await org.register('laptop')).machine_id).toBeDefined();
    expect((await org.admin('GET', '/api/db/machines')).body.data.map((m: { hostname: string }) => m.hostname)).toEqual(['laptop']);
  });
});

describe('re-enrolment of a manually quarantined hostname is flagged', () => {
  const flagged = async () => org.audit('machine.reenrolled_after_manual_quarantine');

  it('while the quarantined machine still exists', async () => {
    const stolen = await org.register('cfo-laptop');
    await org.admin('PATCH', '/api/db/machines', { _filters: { id: stolen.machine_id }, status: 'quarantined' });
    const again = await org.register('cfo-laptop');
    const [event] = await flagged();
    expect(event).toMatchObject({ machine_id: again.machine_id, details: { hostname: 'cfo-laptop-2', requested_hostname: 'cfo-laptop', quarantined_machines: [stolen.machine_id] } });
  });

  it('after it left (ztna down) or an admin deleted it, whatever case the name is in', async () => {
    const stolen = await org.register('cfo-laptop');
    await org.admin('PATCH', '/api/db/machines', { _filters: { id: stolen.machine_id }, status: 'quarantined' });
    await deregister(stolen.node_key);
    const again = await org.register('CFO-Laptop');
    const [event] = await flagged();
    expect(event.machine_id).toBe(again.machine_id);
    expect(event.details.deleted_quarantined_machines).toEqual([expect.objectContaining({ id: stolen.machine_id, deleted_by: `machine:${stolen.machine_id}` })]);
  });

  it('not for an ordinary re-enrolment, nor after a posture quarantine', async () => {
    const plain = await org.register('desk-1');
    await deregister(plain.node_key);
    await org.register('desk-1');
    await org.addPolicy({ require_firewall: true });
    await org.setSettings({ posture_enforcement: 'enforce' });
    const failing = await org.register('desk-2');
    await server.report(failing.node_key, { ...COMPLIANT, firewall_enabled: false });
    expect((await org.machine(failing.machine_id)).quarantine_reason).toBe('posture');
    await org.register('desk-2');
    expect(await flagged()).toEqual([]);
  });
});
