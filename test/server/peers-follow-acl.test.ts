/**
 * SPEC 7.3 "peers follow the ACL", on both engines: a machine's peers are the machines it may
 * reach, or that may reach it, under some allow rule (ports aside; rules in priority order,
 * deny rules and src_posture count), minus quarantined and (in enforce) pending ones; every
 * change of who may reach whom bumps peers_version, and nothing else rebuilds the lists.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TestOrg, TestServer } from './harness.ts';
import { COMPLIANT, NON_COMPLIANT, STRICT_POLICY, startTestServer } from './harness.ts';
import { PeerLists } from '../../src/server/domain/peers.ts';

type Machine = { machine_id: string; node_key: string };

let server: TestServer;
let org: TestOrg;
let dev: Machine;
let prod: Machine;
let other: Machine;
let defaultRuleId: string;

beforeEach(async () => {
  server = await startTestServer();
  org = await server.org();
  dev = await org.register('dev-laptop', { tags: ['dev'] });
  prod = await org.register('prod-db', { tags: ['prod'] });
  other = await org.register('printer');
  defaultRuleId = (await org.admin('GET', '/api/db/acl_rules')).body.data[0].id;
});
afterEach(() => {
  vi.restoreAllMocks();
  return server.close();
});

const beat = (machine: Machine, peersVersion?: number) => server.heartbeat(machine.node_key, peersVersion === undefined ? {} : { peers_version: peersVersion });
const peerIds = async (machine: Machine): Promise<string[]> => {
  const body = (await beat(machine)).body;
  expect(body.peers, JSON.stringify(body)).toBeDefined();
  return body.peers.map((peer: { id: string }) => peer.id).sort();
};
const ids = (...machines: Machine[]) => machines.map((machine) => machine.machine_id).sort();
const addRule = async (rule: Record<string, unknown>) => {
  const result = await org.admin('POST', '/api/db/acl_rules', rule);
  expect(result.status, JSON.stringify(result.body)).toBe(200);
  return result.body.data[0];
};
const dropDefaultRule = () => org.admin('DELETE', `/api/db/acl_rules?id=eq.${defaultRuleId}`);

describe('peer lists follow the rules', () => {
  it('the default allow-all rule keeps everyone in the org', async () => {
    expect(await peerIds(dev)).toEqual(ids(prod, other));
    expect(await peerIds(other)).toEqual(ids(dev, prod));
  });

  it('an org that allows nothing gives everyone an empty list', async () => {
    await dropDefaultRule();
    for (const machine of [dev, prod, other]) expect(await peerIds(machine)).toEqual([]);
    // An explicit deny-all before an allow-all: the same.
    await addRule({ name: 'deny-all', priority: 1, action: 'deny', src: '*', dst: '*' });
    await addRule({ name: 'allow-all', priority: 2, action: 'allow', src: '*', dst: '*' });
    for (const machine of [dev, prod, other]) expect(await peerIds(machine)).toEqual([]);
  });

  it('a tag rule gives exactly those peers, in both directions, whatever its ports', async () => {
    await dropDefaultRule();
    await addRule({ name: 'dev-ssh-prod', priority: 10, action: 'allow', src: 'tag:dev', dst: 'tag:prod', ports: '22' });
    expect(await peerIds(dev)).toEqual(ids(prod));
    expect(await peerIds(prod)).toEqual(ids(dev)); // prod may be reached by dev: they are peers
    expect(await peerIds(other)).toEqual([]);
    // id: and host: selectors count the same way.
    await addRule({ name: 'printer', priority: 20, action: 'allow', src: `id:${dev.machine_id}`, dst: 'host:printer', ports: '631' });
    expect(await peerIds(dev)).toEqual(ids(prod, other));
    expect(await peerIds(other)).toEqual(ids(dev));
  });

  it('deny rules count, by priority and only for the ports they name', async () => {
    await addRule({ name: 'no-dev-to-prod', priority: 10, action: 'deny', src: 'tag:dev', dst: 'tag:prod' });
    // prod may still reach dev through the default rule.
    expect(await peerIds(dev)).toEqual(ids(prod, other));
    await addRule({ name: 'no-prod-to-dev', priority: 10, action: 'deny', src: 'tag:prod', dst: 'tag:dev', ports: '0-65535' });
    expect(await peerIds(dev)).toEqual(ids(other));
    expect(await peerIds(prod)).toEqual(ids(other));
    // A deny of some ports leaves the others to the default rule.
    const rules = (await org.admin('GET', '/api/db/acl_rules?name=eq.no-prod-to-dev')).body.data;
    await org.admin('PATCH', '/api/db/acl_rules', { _filters: { id: rules[0].id }, ports: '22,80-90' });
    expect(await peerIds(dev)).toEqual(ids(prod, other));
    // A deny after the allow-all changes nothing.
    await org.admin('DELETE', '/api/db/acl_rules?name=eq.no-prod-to-dev');
    await org.admin('DELETE', '/api/db/acl_rules?name=eq.no-dev-to-prod');
    await addRule({ name: 'too-late', priority: 5000, action: 'deny', src: '*', dst: '*' });
    expect(await peerIds(dev)).toEqual(ids(prod, other));
  });

  it('quarantined machines and, in enforce mode, pending ones are in no list and get none', async () => {
    await org.admin('PATCH', '/api/db/machines', { _filters: { id: prod.machine_id }, status: 'quarantined' });
    expect(await peerIds(dev)).toEqual(ids(other));
    expect((await beat(prod)).body).toMatchObject({ quarantined: true, peers: [] });
    await org.admin('PATCH', '/api/db/machines', { _filters: { id: prod.machine_id }, status: 'online' });
    await org.addPolicy(STRICT_POLICY);
    await org.setSettings({ posture_enforcement: 'enforce' });
    await server.report(dev.node_key, COMPLIANT);
    // prod and the printer never reported: pending.
    expect(await peerIds(dev)).toEqual([]);
    expect((await beat(other)).body).toMatchObject({ posture_state: 'pending', peers: [] });
    await server.report(other.node_key, COMPLIANT);
    expect(await peerIds(dev)).toEqual(ids(other));
  });
});

describe('src_posture in peer lists', () => {
  beforeEach(async () => {
    await org.addPolicy({ name: 'strict', ...STRICT_POLICY, enabled: false });
    await dropDefaultRule();
    await addRule({ name: 'dev-to-prod', priority: 10, action: 'allow', src: 'tag:dev', dst: 'tag:prod', src_posture: 'strict' });
  });

  it('a source that fails the policy loses those peers, and a report that changes it bumps peers_version', async () => {
    expect(await peerIds(dev)).toEqual([]); // no report: fails closed
    const before = (await beat(prod)).body.peers_version;
    await server.report(dev.node_key, COMPLIANT);
    const after = await beat(prod, before);
    expect(after.body.peers_version).toBeGreaterThan(before);
    expect(after.body.peers.map((peer: { id: string }) => peer.id)).toEqual([dev.machine_id]);
    expect(await peerIds(dev)).toEqual(ids(prod));
    // Another compliant report changes nothing: the version stays.
    await server.report(dev.node_key, COMPLIANT);
    expect((await beat(prod, after.body.peers_version)).body).toMatchObject({ peers_unchanged: true, peers_version: after.body.peers_version });
    // Failing again: out of both lists.
    await server.report(dev.node_key, NON_COMPLIANT);
    const failed = await beat(prod, after.body.peers_version);
    expect(failed.body.peers).toEqual([]);
    expect(await peerIds(dev)).toEqual([]);
  });

  it('a report from a machine no src_posture rule selects leaves peers_version alone', async () => {
    const version = (await beat(dev)).body.peers_version;
    await server.report(other.node_key, COMPLIANT);
    await server.report(other.node_key, NON_COMPLIANT);
    expect((await beat(dev, version)).body.peers_unchanged).toBe(true);
  });

  it('a policy change the rule depends on bumps peers_version', async () => {
    await server.report(dev.node_key, { ...COMPLIANT, patch_age_days: 20 });
    expect(await peerIds(dev)).toEqual(ids(prod));
    const version = (await beat(dev)).body.peers_version;
    const policy = (await org.admin('GET', '/api/db/posture_policies?name=eq.strict')).body.data[0];
    await org.admin('PATCH', '/api/db/posture_policies', { _filters: { id: policy.id }, max_patch_age_days: 10 });
    const changed = await beat(dev, version);
    expect(changed.body.peers_version).toBeGreaterThan(version);
    expect(changed.body.peers).toEqual([]);
  });

  it('a report that expires by time takes the source out at the next heartbeat, without a sweep', async () => {
    await org.setSettings({ report_max_age_s: 60 });
    await server.report(dev.node_key, COMPLIANT);
    const fresh = await beat(prod);
    expect(fresh.body.peers.map((peer: { id: string }) => peer.id)).toEqual([dev.machine_id]);
    server.clock.advance(61_000);
    const expired = await beat(prod, fresh.body.peers_version);
    expect(expired.body.peers_version).toBeGreaterThan(fresh.body.peers_version);
    expect(expired.body.peers).toEqual([]);
    expect((await beat(prod, expired.body.peers_version)).body.peers_unchanged).toBe(true);
  });
});

describe('peers_version', () => {
  it('bumps on every rule create, update and delete', async () => {
    let version = (await beat(dev)).body.peers_version;
    const changed = async () => {
      const body = (await beat(dev, version)).body;
      expect(body.peers_unchanged).toBeUndefined();
      expect(body.peers_version).toBeGreaterThan(version);
      version = body.peers_version;
      return body.peers.map((peer: { id: string }) => peer.id).sort();
    };
    // Both directions denied: dev and the printer are no longer peers.
    const rule = await addRule({ name: 'no-printer', priority: 1, action: 'deny', src: 'tag:dev,host:printer', dst: 'tag:dev,host:printer' });
    expect(await changed()).toEqual(ids(prod));
    await org.admin('PATCH', '/api/db/acl_rules', { _filters: { id: rule.id }, src: 'tag:dev,tag:prod', dst: 'tag:dev,tag:prod' });
    expect(await changed()).toEqual(ids(other));
    await org.admin('DELETE', `/api/db/acl_rules?id=eq.${rule.id}`);
    expect(await changed()).toEqual(ids(prod, other));
    // A write that matched no rule changes nothing.
    await org.admin('DELETE', '/api/db/acl_rules?name=eq.no-such-rule');
    expect((await beat(dev, version)).body.peers_unchanged).toBe(true);
  });

  it('a tag change moves a machine between rules', async () => {
    await dropDefaultRule();
    await addRule({ name: 'dev-to-prod', priority: 10, action: 'allow', src: 'tag:dev', dst: 'tag:prod' });
    expect(await peerIds(other)).toEqual([]);
    const version = (await beat(other)).body.peers_version;
    await org.admin('PATCH', '/api/db/machines', { _filters: { id: other.machine_id }, tags: ['prod'] });
    const after = await beat(other, version);
    expect(after.body.peers.map((peer: { id: string }) => peer.id)).toEqual([dev.machine_id]);
  });

  it('heartbeats after no change rebuild nothing: the graph is built once per version', async () => {
    await addRule({ name: 'dev-to-prod', priority: 10, action: 'allow', src: 'tag:dev', dst: 'tag:prod' });
    const first = await beat(dev); // builds this version's graph
    const select = vi.spyOn(server.store, 'select');
    const again = await beat(dev, first.body.peers_version);
    expect(again.body).toMatchObject({ peers_unchanged: true, peers_version: first.body.peers_version });
    expect(again.body).not.toHaveProperty('peers');
    // Full lists for every machine, from the graph already built: no rule or machine list is read.
    for (const machine of [dev, prod, other]) expect((await beat(machine)).body.peers.length).toBeGreaterThan(0);
    const tables = select.mock.calls.map(([table]) => table);
    expect(tables).not.toContain('acl_rules');
    expect(tables).not.toContain('posture_reports');
    expect(select.mock.calls.filter(([table, query]) => table === 'machines' && query?.order !== undefined)).toEqual([]);
    // After a change, heartbeats share one build of the new version's graph.
    await addRule({ name: 'prod-to-printer', priority: 20, action: 'allow', src: 'tag:prod', dst: 'host:printer' });
    select.mockClear();
    const lists = await Promise.all([dev, prod, other, dev, prod, other].map((machine) => beat(machine, first.body.peers_version)));
    for (const list of lists) expect(list.body.peers_version).toBeGreaterThan(first.body.peers_version);
    expect(select.mock.calls.filter(([table]) => table === 'acl_rules')).toHaveLength(1);
  });

  it('lists asked for at once, before any graph exists, wait for one build', async () => {
    const peers = new PeerLists(server.clock);
    const version = await peers.version(server.store, org.orgId);
    const lists = await Promise.all([dev, prod, other, dev].map((machine) => peers.list(server.store, org.orgId, version, machine.machine_id, false)));
    expect(peers.builds).toBe(1);
    expect(lists[0]?.map((peer) => peer.id).sort()).toEqual(ids(prod, other));
    await peers.list(server.store, org.orgId, version, prod.machine_id, false);
    expect(peers.builds).toBe(1);
    await peers.list(server.store, org.orgId, version + 1, prod.machine_id, false);
    expect(peers.builds).toBe(2);
  });
});
