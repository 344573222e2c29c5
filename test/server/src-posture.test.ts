/**
 * SPEC 7.3 "posture per resource": `acl_rules.src_posture` on write and in
 * /api/acl/evaluate, on both engines. A rule with src_posture matches only when the source's
 * latest report satisfies exactly that policy (enabled or not, no grace, fail closed);
 * matched_rule says `posture:<policy>` when a rule that would have allowed was skipped for it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TestOrg, TestServer } from './harness.ts';
import { COMPLIANT, NON_COMPLIANT, STRICT_POLICY, startTestServer } from './harness.ts';

let server: TestServer;
let org: TestOrg;
let dev: { machine_id: string; node_key: string };
let prod: { machine_id: string; node_key: string };

/** Only the firewall: what the wiki needs. */
const BASELINE = { require_firewall: true };

beforeEach(async () => {
  server = await startTestServer();
  org = await server.org();
  // `strict` is not enabled: it enforces nothing org-wide, yet a rule may require it.
  expect((await org.addPolicy({ name: 'strict', ...STRICT_POLICY, enabled: false })).status).toBe(200);
  expect((await org.addPolicy({ name: 'baseline', ...BASELINE, enabled: false })).status).toBe(200);
  dev = await org.register('dev-laptop', { tags: ['dev'] });
  prod = await org.register('prod-db', { tags: ['prod'] });
  const rules = (await org.admin('GET', '/api/db/acl_rules')).body.data;
  await org.admin('DELETE', `/api/db/acl_rules?id=eq.${rules[0].id}`);
});
afterEach(() => server.close());

const evaluate = (src: string, dst: string, port?: number) =>
  org.admin('POST', '/api/acl/evaluate', { src_machine_id: src, dst_machine_id: dst, ...(port === undefined ? {} : { port }) });
const addRule = async (rule: Record<string, unknown>) => {
  const result = await org.admin('POST', '/api/db/acl_rules', rule);
  expect(result.status, JSON.stringify(result.body)).toBe(200);
  return result.body.data[0];
};
const devToProd = { name: 'dev-to-prod', priority: 10, action: 'allow', src: 'tag:dev', dst: 'tag:prod', ports: '*', src_posture: 'strict' };

describe('src_posture on write', () => {
  it('accepts the name of a policy of the org (enabled or not), or null, and shows it', async () => {
    const rule = await addRule(devToProd);
    expect(rule).toMatchObject({ name: 'dev-to-prod', src_posture: 'strict' });
    expect((await addRule({ name: 'plain', src_posture: null })).src_posture).toBeNull();
    expect((await addRule({ name: 'omitted' })).src_posture).toBeNull();
    const patched = await org.admin('PATCH', '/api/db/acl_rules', { _filters: { id: rule.id }, src_posture: 'baseline' });
    expect(patched.body.data[0].src_posture).toBe('baseline');
    const cleared = await org.admin('PATCH', '/api/db/acl_rules', { _filters: { id: rule.id }, src_posture: null });
    expect(cleared.body.data[0].src_posture).toBeNull();
  });

  it('refuses a name no policy of the org has, and anything but a string or null, with a 400 naming the field; nothing is stored', async () => {
    const unknown = await org.admin('POST', '/api/db/acl_rules', { ...devToProd, src_posture: 'no-such-policy' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toMatch(/^src_posture: no posture policy named "no-such-policy"/);
    expect(unknown.body.error.message).toContain('"strict"');
    for (const bad of [42, true, '', '   ', ['strict'], { name: 'strict' }]) {
      const result = await org.admin('POST', '/api/db/acl_rules', { ...devToProd, src_posture: bad });
      expect(result.status, JSON.stringify(bad)).toBe(400);
      expect(result.body.error.message).toMatch(/^src_posture/);
    }
    expect((await org.admin('GET', '/api/db/acl_rules')).body.data).toEqual([]);
    const rule = await addRule(devToProd);
    const patch = await org.admin('PATCH', '/api/db/acl_rules', { _filters: { id: rule.id }, src_posture: 'nope' });
    expect(patch.status).toBe(400);
    expect((await org.admin('GET', `/api/db/acl_rules?id=eq.${rule.id}`)).body.data[0].src_posture).toBe('strict');
  });

  it('another org\'s policy name is unknown here', async () => {
    const other = await server.org();
    await other.addPolicy({ name: 'theirs', ...STRICT_POLICY });
    const result = await org.admin('POST', '/api/db/acl_rules', { ...devToProd, src_posture: 'theirs' });
    expect(result.status).toBe(400);
    expect(result.body.error.message).toMatch(/^src_posture/);
  });

  it('refuses rule names that would read as a fixed matched_rule value', async () => {
    for (const name of ['default_deny', 'posture_policy', 'machine_status_policy', 'posture:strict']) {
      const result = await org.admin('POST', '/api/db/acl_rules', { ...devToProd, name });
      expect(result.status, name).toBe(400);
      expect(result.body.error.message).toMatch(/^name/);
    }
  });
});

describe('src_posture in /api/acl/evaluate', () => {
  it('allows when the source satisfies the policy: matched_rule is the rule', async () => {
    await addRule(devToProd);
    await server.report(dev.node_key, COMPLIANT);
    expect((await evaluate(dev.machine_id, prod.machine_id)).body).toEqual({ allowed: true, matched_rule: 'dev-to-prod' });
    expect((await evaluate(dev.machine_id, prod.machine_id, 5432)).body).toEqual({ allowed: true, matched_rule: 'dev-to-prod' });
  });

  it('denies with posture:<policy> when the source fails it; a later rule still decides, a later deny keeps the posture reason', async () => {
    await addRule(devToProd);
    await server.report(dev.node_key, NON_COMPLIANT);
    expect((await evaluate(dev.machine_id, prod.machine_id)).body).toEqual({ allowed: false, matched_rule: 'posture:strict' });
    // Only the source's posture counts, and only for the rule's own direction.
    expect((await evaluate(prod.machine_id, dev.machine_id)).body).toEqual({ allowed: false, matched_rule: 'default_deny' });
    await addRule({ name: 'block-prod', priority: 50, action: 'deny', src: '*', dst: 'tag:prod' });
    expect((await evaluate(dev.machine_id, prod.machine_id)).body).toEqual({ allowed: false, matched_rule: 'posture:strict' });
    await addRule({ name: 'ssh-with-baseline', priority: 20, action: 'allow', src: 'tag:dev', dst: 'tag:prod', ports: '22', src_posture: 'baseline' });
    // The firewall is off too: both posture rules fail; the first one that would have allowed is named.
    expect((await evaluate(dev.machine_id, prod.machine_id, 22)).body).toEqual({ allowed: false, matched_rule: 'posture:strict' });
    await server.report(dev.node_key, { ...NON_COMPLIANT, firewall_enabled: true });
    expect((await evaluate(dev.machine_id, prod.machine_id, 22)).body).toEqual({ allowed: true, matched_rule: 'ssh-with-baseline' });
    expect((await evaluate(dev.machine_id, prod.machine_id, 443)).body).toEqual({ allowed: false, matched_rule: 'posture:strict' });
  });

  it('a deny rule with src_posture denies only sources that satisfy it', async () => {
    await addRule({ name: 'no-compliant-to-prod', priority: 5, action: 'deny', src: '*', dst: 'tag:prod', src_posture: 'baseline' });
    await addRule({ name: 'all', priority: 100, action: 'allow', src: '*', dst: '*' });
    await server.report(dev.node_key, COMPLIANT);
    expect((await evaluate(dev.machine_id, prod.machine_id)).body).toEqual({ allowed: false, matched_rule: 'no-compliant-to-prod' });
    await server.report(dev.node_key, NON_COMPLIANT);
    // Failing a deny rule's posture is not a posture denial: the allow rule decides.
    expect((await evaluate(dev.machine_id, prod.machine_id)).body).toEqual({ allowed: true, matched_rule: 'all' });
  });

  it('no report, an expired report and a deleted policy fail closed', async () => {
    await addRule(devToProd);
    // dev never reported.
    expect((await evaluate(dev.machine_id, prod.machine_id)).body).toEqual({ allowed: false, matched_rule: 'posture:strict' });
    await server.report(dev.node_key, COMPLIANT);
    expect((await evaluate(dev.machine_id, prod.machine_id)).body.allowed).toBe(true);
    // Expiry counts in every mode (this org is in `disabled`): the rule needs a current report.
    await org.setSettings({ report_max_age_s: 60 });
    server.clock.advance(61_000);
    expect((await evaluate(dev.machine_id, prod.machine_id)).body).toEqual({ allowed: false, matched_rule: 'posture:strict' });
    await server.report(dev.node_key, COMPLIANT);
    expect((await evaluate(dev.machine_id, prod.machine_id)).body.allowed).toBe(true);
    const policy = (await org.admin('GET', '/api/db/posture_policies?name=eq.strict')).body.data[0];
    await org.admin('DELETE', `/api/db/posture_policies?id=eq.${policy.id}`);
    expect((await evaluate(dev.machine_id, prod.machine_id)).body).toEqual({ allowed: false, matched_rule: 'posture:strict' });
  });

  it('a disabled policy still counts; enabling it org-wide changes nothing for the rule; org-wide checks come first', async () => {
    await addRule(devToProd);
    await addRule({ name: 'prod-to-dev', priority: 10, action: 'allow', src: 'tag:prod', dst: 'tag:dev' });
    await org.setSettings({ posture_enforcement: 'enforce' });
    // Enforce with no enabled policy: everyone who reported is compliant org-wide…
    await server.report(dev.node_key, NON_COMPLIANT);
    await server.report(prod.node_key, NON_COMPLIANT);
    expect((await org.machine(dev.machine_id)).status).toBe('online');
    // …but the rule wants `strict`.
    expect((await evaluate(dev.machine_id, prod.machine_id)).body).toEqual({ allowed: false, matched_rule: 'posture:strict' });
    expect((await evaluate(prod.machine_id, dev.machine_id)).body).toEqual({ allowed: true, matched_rule: 'prod-to-dev' });
    await server.report(dev.node_key, COMPLIANT);
    expect((await evaluate(dev.machine_id, prod.machine_id)).body).toEqual({ allowed: true, matched_rule: 'dev-to-prod' });
    // Enabled org-wide, `strict` quarantines prod: machine_status_policy comes before any rule.
    const policy = (await org.admin('GET', '/api/db/posture_policies?name=eq.strict')).body.data[0];
    await org.admin('PATCH', '/api/db/posture_policies', { _filters: { id: policy.id }, enabled: true });
    expect((await evaluate(dev.machine_id, prod.machine_id)).body).toEqual({ allowed: false, matched_rule: 'machine_status_policy' });
  });

  it('targeting does not narrow a src_posture: the requirements apply to any source the rule selects', async () => {
    await org.addPolicy({ name: 'mac-only', require_disk_encryption: true, platforms: ['darwin'], enabled: false });
    await addRule({ ...devToProd, src_posture: 'mac-only' });
    await server.report(dev.node_key, { ...COMPLIANT, disk_encrypted: false });
    expect((await evaluate(dev.machine_id, prod.machine_id)).body).toEqual({ allowed: false, matched_rule: 'posture:mac-only' });
  });
});
