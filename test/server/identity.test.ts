/**
 * Identity in access rules (SPEC 7.1), on both engines. Before these fixes a rule entry was
 * compared with a machine's id *or* its hostname, devices chose their hostnames freely
 * and machine ids are in every peer list — so a device could enroll under another
 * machine's id as its hostname, or under the hostname a rule trusts, and be allowed what
 * that machine is allowed. Tags were the device's choice too (any tag on top of the auth
 * key's). Each `it` below failed on that code.
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

const registerRaw = async (body: Record<string, unknown>, keyOptions: Record<string, unknown> = {}) =>
  server.request('POST', '/api/register', { body: { auth_key: await org.authKey(keyOptions), os: 'linux', ...body } });
const evaluate = (src: string, dst: string) => org.admin('POST', '/api/acl/evaluate', { src_machine_id: src, dst_machine_id: dst });

async function onlyRule(rule: Record<string, unknown>) {
  for (const existing of (await org.admin('GET', '/api/db/acl_rules')).body.data) await org.admin('DELETE', `/api/db/acl_rules?id=eq.${existing.id}`);
  const created = await org.admin('POST', '/api/db/acl_rules', { name: 'only', action: 'allow', ports: '*', ...rule });
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  return created.body.data[0];
}

describe('hostnames at registration', () => {
  it.each([
    ['a machine id (UUID)', '3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d'],
    ['an upper-case UUID', '3F2B1C4D-5E6F-4A7B-8C9D-0E1F2A3B4C5D'],
    ['a tag selector', 'tag:prod'],
    ['an id selector', 'id:anything'],
    ['a host selector', 'host:db-1'],
    ['a selector prefix in capitals', 'TAG:prod'],
    ['a comma (selector list)', 'web,db'],
    ['a wildcard', '*'],
  ])('refuses a hostname shaped like %s: 400 invalid_hostname, nothing stored', async (_what, hostname) => {
    const before = await server.store.count('machines');
    const result = await registerRaw({ hostname });
    expect(result.status, JSON.stringify(result.body)).toBe(400);
    expect(result.body.error.code).toBe('invalid_hostname');
    expect(result.body.error.message).toMatch(/^hostname: /);
    expect(await server.store.count('machines')).toBe(before);
  });

  it('a hostname another machine of the org holds gets a numeric suffix, case-insensitively, said in the response', async () => {
    const first = await registerRaw({ hostname: 'laptop' });
    const second = await registerRaw({ hostname: 'laptop' });
    const third = await registerRaw({ hostname: 'LAPTOP' });
    expect([first.body.hostname, second.body.hostname, third.body.hostname]).toEqual(['laptop', 'laptop-2', 'LAPTOP-3']);
    expect((await org.machine(second.body.machine_id)).hostname).toBe('laptop-2');
    const audit = (await org.audit('machine.registered')).find((row) => row.machine_id === second.body.machine_id);
    expect(audit.details).toMatchObject({ hostname: 'laptop-2', requested_hostname: 'laptop' });
    // Another org has its own namespace.
    const other = await server.org();
    const elsewhere = await server.request('POST', '/api/register', { body: { auth_key: await other.authKey(), hostname: 'laptop' } });
    expect(elsewhere.body.hostname).toBe('laptop');
  });

  it('an admin rename to a held name is a 409; to a UUID-shaped name a 400', async () => {
    const a = await registerRaw({ hostname: 'alpha' });
    const b = await registerRaw({ hostname: 'bravo' });
    const taken = await org.admin('PATCH', '/api/db/machines', { _filters: { id: b.body.machine_id }, hostname: 'ALPHA' });
    expect(taken.status).toBe(409);
    const uuid = await org.admin('PATCH', '/api/db/machines', { _filters: { id: b.body.machine_id }, hostname: a.body.machine_id });
    expect(uuid.status).toBe(400);
    expect(uuid.body.error.code).toBe('invalid_hostname');
    const renamed = await org.admin('PATCH', '/api/db/machines', { _filters: { id: b.body.machine_id }, hostname: 'charlie' });
    expect(renamed.body.data[0].hostname).toBe('charlie');
    // The old name is free again for the next device.
    expect((await registerRaw({ hostname: 'bravo' })).body.hostname).toBe('bravo');
  });
});

describe('typed ACL selectors', () => {
  let web: { machine_id: string; node_key: string };
  let db: { machine_id: string; node_key: string };
  let intruder: { machine_id: string; node_key: string };

  beforeEach(async () => {
    web = (await registerRaw({ hostname: 'web-1' }, { tags: ['web'] })).body;
    db = (await registerRaw({ hostname: 'db-1' }, { tags: ['db'] })).body;
    intruder = (await registerRaw({ hostname: 'intruder' })).body;
  });

  it('a bare UUID matches only a machine id, never a hostname; id: likewise', async () => {
    for (const src of [web.machine_id, `id:${web.machine_id}`, `ID:${web.machine_id.toUpperCase()}`]) {
      await onlyRule({ src, dst: `id:${db.machine_id}` });
      expect((await evaluate(web.machine_id, db.machine_id)).body.allowed, src).toBe(true);
      expect((await evaluate(intruder.machine_id, db.machine_id)).body).toEqual({ allowed: false, matched_rule: 'default_deny' });
    }
  });

  it('a device cannot enroll under the hostname a host: rule trusts: it gets a suffix and the rule does not match it', async () => {
    await onlyRule({ src: 'host:web-1', dst: 'db-1' });
    const impostor = await registerRaw({ hostname: 'web-1' });
    expect(impostor.body.hostname).toBe('web-1-2');
    expect((await evaluate(impostor.body.machine_id, db.machine_id)).body).toEqual({ allowed: false, matched_rule: 'default_deny' });
    expect((await evaluate(web.machine_id, db.machine_id)).body.allowed).toBe(true);
  });

  it('host: and bare words match hostnames case-insensitively and never an id', async () => {
    await onlyRule({ src: 'host:WEB-1', dst: 'DB-1' });
    expect((await evaluate(web.machine_id, db.machine_id)).body.allowed).toBe(true);
    await onlyRule({ src: `host:${web.machine_id}`, dst: '*' });
    expect((await evaluate(web.machine_id, db.machine_id)).body).toEqual({ allowed: false, matched_rule: 'default_deny' });
  });

  it('tag: matches admin-granted tags; lists mix kinds', async () => {
    await onlyRule({ src: `tag:web, id:${intruder.machine_id}`, dst: 'tag:db' });
    expect((await evaluate(web.machine_id, db.machine_id)).body.allowed).toBe(true);
    expect((await evaluate(intruder.machine_id, db.machine_id)).body.allowed).toBe(true);
    expect((await evaluate(db.machine_id, web.machine_id)).body.allowed).toBe(false);
  });

  it.each([
    ['an unknown selector type', 'group:eng', /unknown selector type "group:"/],
    ['id: with something that is no UUID', 'id:web-1', /id: takes a machine id/],
    ['a tag in capitals', 'tag:Prod', /tags are lower-case/],
    ['an empty entry', 'tag:web,,tag:db', /empty selector/],
    ['a host with a wildcard', 'host:web-*', /commas or \*/],
    ['a bare name with a wildcard', 'web-*', /no wildcards/],
  ])('refuses a rule with %s: 400 naming the field', async (_what, src, message) => {
    const result = await org.admin('POST', '/api/db/acl_rules', { name: 'x', action: 'allow', src, dst: '*' });
    expect(result.status).toBe(400);
    expect(result.body.error.message).toMatch(/^src: /);
    expect(result.body.error.message).toMatch(message);
  });
});

describe('tags belong to admins', () => {
  it('a registration may ask only for tags its auth key carries: 403 tags_not_permitted, nothing stored', async () => {
    const before = await server.store.count('machines');
    const result = await registerRaw({ hostname: 'sneaky', tags: ['prod'] }, { tags: ['web'] });
    expect(result.status).toBe(403);
    expect(result.body.error.code).toBe('tags_not_permitted');
    expect(result.body.error.message).toMatch(/"prod"/);
    expect(await server.store.count('machines')).toBe(before);
    const untagged = await registerRaw({ hostname: 'sneaky', tags: ['web'] });
    expect(untagged.body.error.code).toBe('tags_not_permitted');
  });

  it('a machine gets its key\'s tags, or the subset it asks for', async () => {
    const all = await registerRaw({ hostname: 'a' }, { tags: ['web', 'eu'] });
    expect((await org.machine(all.body.machine_id)).tags).toEqual(['web', 'eu']);
    const subset = await registerRaw({ hostname: 'b', tags: ['eu'] }, { tags: ['web', 'eu'] });
    expect((await org.machine(subset.body.machine_id)).tags).toEqual(['eu']);
  });

  it('an agent cannot change its tags afterwards; an admin can', async () => {
    const machine = (await registerRaw({ hostname: 'c' }, { tags: ['web'] })).body;
    for (const path of ['/api/machine-heartbeat', '/api/posture-report']) {
      const attempt = await server.request('POST', path, { body: { node_key: machine.node_key, ...(path.endsWith('report') ? COMPLIANT : {}), tags: ['admin'] } });
      expect((await org.machine(machine.machine_id)).tags, `${path} answered ${attempt.status}`).toEqual(['web']);
    }
    const patched = await org.admin('PATCH', '/api/db/machines', { _filters: { id: machine.machine_id }, tags: ['web', 'prod'] });
    expect(patched.body.data[0].tags).toEqual(['web', 'prod']);
  });

  it('tags match ^[a-z0-9][a-z0-9-]{0,62}$ on keys and machines', async () => {
    for (const bad of ['Prod', 'web server', '-lead', 'a'.repeat(64), 'team:eng', 'ünï']) {
      expect((await org.admin('POST', '/api/db/auth_keys', { tags: [bad] })).status, bad).toBe(400);
    }
    expect((await org.admin('POST', '/api/db/auth_keys', { tags: ['a', '0-x', 'a'.repeat(63)] })).status).toBe(200);
  });
});
