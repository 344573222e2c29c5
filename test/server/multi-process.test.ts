/**
 * Several server processes on one PostgreSQL database (issue 5): real `ztna-server serve
 * --db` processes A and B on a database created for this test. A mode flip on A is
 * honoured by B on the next report; a quarantine caused on A reaches a realtime subscriber
 * on B within 1 s; 20 concurrent reports for one machine split across A and B leave a
 * status that agrees with the stored (newest) report and one audit event per transition;
 * a dashboard sign-out on A closes that session's realtime socket on B (SPEC 7.1); a grace
 * deadline started on A is the same on B and is enforced once, within a second; an
 * exemption granted on B ends on time, audited once (SPEC 7.3).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningProcess } from '../../src/platform/command-runner.ts';
import { serverRunner } from '../support/cli.ts';
import { COMPLIANT, NON_COMPLIANT, TEST_ENGINE, TEST_PG_URL } from './harness.ts';

const database = `ztna_mp_${randomBytes(5).toString('hex')}`;
const databaseUrl = TEST_PG_URL.replace(/\/[^/?]*(\?|$)/, `/${database}$1`);
const runner = serverRunner({ timeoutMs: 60_000, env: { ...process.env, ZTNA_JWT_SECRET: '' } });
const servers: RunningProcess[] = [];
const urls: string[] = [];
let token = '';
let orgId = '';

async function admin(url: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return (await response.json()) as any;
}

async function post(url: string, path: string, body: unknown) {
  const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return (await response.json()) as any;
}

describe.runIf(TEST_ENGINE === 'postgres')('two server processes on one PostgreSQL database', () => {
  beforeAll(async () => {
    const client = new pg.Client({ connectionString: TEST_PG_URL });
    await client.connect();
    await client.query(`CREATE DATABASE "${database}"`);
    await client.end();
    for (let i = 0; i < 2; i++) {
      const server = await runner.start('ztna-server', ['serve', '--db', databaseUrl, '--listen', '127.0.0.1:0', '--log-level', 'warn']);
      servers.push(server);
      urls.push((await server.waitForLine(/^listening on (http:\/\/\S+)$/))[1] as string);
    }
    const boot = JSON.parse((await runner.run('ztna-server', ['bootstrap', '--db', databaseUrl, '--json'])).stdout);
    token = boot.admin_token;
    orgId = boot.org_id;
  }, 60_000);

  afterAll(async () => {
    for (const server of servers) await server.stop('SIGTERM');
    const client = new pg.Client({ connectionString: TEST_PG_URL });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await client.end();
  });

  it('shares settings, realtime and transitions across processes', { timeout: 60_000 }, async () => {
    const [a, b] = urls as [string, string];
    // A token from `bootstrap` (a third process) works on both: one signing secret in the database.
    expect((await admin(a, 'GET', '/api/db/org_settings')).data[0].org_id).toBe(orgId);
    expect((await admin(b, 'GET', '/api/db/org_settings')).data[0].org_id).toBe(orgId);

    const key = (await admin(a, 'POST', '/api/db/auth_keys', {})).data[0].key;
    const machine = await post(a, '/api/register', { auth_key: key, hostname: 'shared-box' });
    await admin(a, 'POST', '/api/db/posture_policies', { require_disk_encryption: true, require_firewall: true, require_antivirus: true });

    // A mode flip on A is honoured by B on the very next report.
    expect((await post(b, '/api/posture-report', { node_key: machine.node_key, ...NON_COMPLIANT })).mode).toBe('disabled');
    await admin(a, 'PATCH', '/api/db/org_settings', { _filters: { org_id: orgId }, posture_enforcement: 'enforce' });
    // (Switching to enforce re-evaluated the stored failing report on A: already quarantined.)
    expect(await post(b, '/api/posture-report', { node_key: machine.node_key, ...NON_COMPLIANT })).toMatchObject({ mode: 'enforce', quarantined: true });
    expect(await post(b, '/api/posture-report', { node_key: machine.node_key, ...COMPLIANT })).toMatchObject({ quarantined: false, status: 'online' });

    // A quarantine caused on A reaches a realtime subscriber connected to B within 1 s.
    const socket = new WebSocket(`${b.replace('http', 'ws')}/api/realtime?token=${encodeURIComponent(token)}`);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const heard = new Promise<number>((resolve) => {
      socket.on('message', (data) => {
        const event = JSON.parse(String(data));
        if (event.table === 'machines' && event.data.id === machine.machine_id && event.data.status === 'quarantined') resolve(performance.now());
      });
    });
    const sentAt = performance.now();
    expect(await post(a, '/api/posture-report', { node_key: machine.node_key, ...NON_COMPLIANT })).toMatchObject({ quarantined: true });
    const delay = (await heard) - sentAt;
    socket.close();
    expect(delay).toBeLessThan(1_000);

    // 20 concurrent reports for the machine, alternating verdicts, split across A and B.
    const auditBefore = (await admin(a, 'GET', `/api/db/audit_log?machine_id=eq.${machine.machine_id}`)).data.length;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => post(i % 2 === 0 ? a : b, '/api/posture-report', { node_key: machine.node_key, ...(i % 3 === 0 ? COMPLIANT : NON_COMPLIANT) })),
    );
    const reports = (await admin(a, 'GET', `/api/db/posture_reports?machine_id=eq.${machine.machine_id}`)).data;
    expect(reports).toHaveLength(1);
    const status = (await admin(b, 'GET', `/api/db/machines?id=eq.${machine.machine_id}`)).data[0].status;
    expect(status).toBe(reports[0].compliant ? 'online' : 'quarantined');
    // Every transition audited exactly once. Before the burst the machine was quarantined, so
    // releases minus quarantines is 1 if it ended online and 0 if it ended quarantined; a
    // duplicated or lost audit event breaks that (and the counts match the transitions).
    const events = (await admin(a, 'GET', `/api/db/audit_log?machine_id=eq.${machine.machine_id}&order=created_at.asc`)).data
      .slice(auditBefore)
      .map((row: { event: string }) => row.event);
    const quarantines = events.filter((event: string) => event === 'machine.auto_quarantine').length;
    const releases = events.filter((event: string) => event === 'machine.auto_unquarantine').length;
    expect(releases - quarantines, events.join(' ')).toBe(status === 'online' ? 1 : 0);
  });

  it('a dashboard sign-out on A closes the session\'s realtime socket on B', { timeout: 30_000 }, async () => {
    const [a = '', b = ''] = urls;
    const link = JSON.parse((await runner.run('ztna-server', ['login-link', '--db', databaseUrl, '--url', a, '--json'])).stdout);
    const token = /#token=(.+)$/.exec(link.url)?.[1];
    const redeemed = await fetch(`${a}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
    expect(redeemed.status).toBe(200);
    const cookie = (redeemed.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const csrf = ((await redeemed.json()) as any).data.csrf_token as string;
    const socket = await new Promise<WebSocket>((resolve, reject) => {
      const opened = new WebSocket(`${b.replace('http', 'ws')}/api/realtime`, { headers: { cookie, origin: b } });
      opened.once('open', () => resolve(opened));
      opened.once('error', reject);
    });
    try {
      const closed = new Promise<[number, string]>((resolve) => socket.once('close', (code, reason) => resolve([code, String(reason)])));
      const started = Date.now();
      expect((await fetch(`${a}/api/session`, { method: 'DELETE', headers: { cookie, 'x-ztna-csrf': csrf, origin: a } })).status).toBe(200);
      const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('the socket on B stayed open after sign-out on A')), 5_000));
      expect(await Promise.race([closed, timeout])).toEqual([1008, 'signed out']);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      socket.terminate();
    }
  });

  it('agree on a grace deadline and an exemption expiry, and act on each once, within a second', { timeout: 30_000 }, async () => {
    const [a = '', b = ''] = urls;
    const key = (await admin(a, 'POST', '/api/db/auth_keys', { tags: ['grace-test'] })).data[0].key;
    const machine = await post(a, '/api/register', { auth_key: key, hostname: 'grace-box', tags: ['grace-test'] });
    // Only this machine carries the tag; the org's other policy passes with COMPLIANT.
    await admin(b, 'POST', '/api/db/posture_policies', { name: 'screen-lock', require_screen_lock: true, tags: ['grace-test'], grace_period_s: 2 });
    const failing = { node_key: machine.node_key, ...COMPLIANT, screen_lock_enabled: false };
    const first = await post(a, '/api/posture-report', failing);
    expect(first).toMatchObject({ quarantined: false, violations: ['screen_lock_required'] });
    const blocksAt = first.findings[0].blocks_at as string;
    expect(Date.parse(blocksAt) - Date.now()).toBeGreaterThan(1_000);
    // B reads the same run: the same deadline.
    expect((await post(b, '/api/posture-report', failing)).findings[0].blocks_at).toBe(blocksAt);

    const auditOf = async (event: string) => (await admin(b, 'GET', `/api/db/audit_log?machine_id=eq.${machine.machine_id}&event=eq.${event}&order=created_at.asc`)).data as Array<{ created_at: string }>;
    const waitFor = async (what: () => Promise<boolean>, label: string) => {
      const deadline = Date.now() + 8_000;
      while (!(await what())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const status = async () => (await admin(a, 'GET', `/api/db/machines?id=eq.${machine.machine_id}`)).data[0].status as string;
    await waitFor(async () => (await status()) === 'quarantined', 'the grace deadline');
    const [quarantine, ...more] = await auditOf('machine.auto_quarantine');
    expect(more).toEqual([]);
    const lateBy = Date.parse(quarantine?.created_at ?? '') - Date.parse(blocksAt);
    expect(lateBy).toBeGreaterThanOrEqual(0);
    expect(lateBy).toBeLessThan(1_000);

    // An exemption granted on B releases at once, and ends on time (acted on by one process).
    const expiresAt = new Date(Date.now() + 2_000).toISOString();
    const granted = await admin(b, 'POST', '/api/db/posture_exemptions', { machine_id: machine.machine_id, codes: ['screen_lock'], reason: 'multi-process test', expires_at: expiresAt });
    expect(granted.success).toBe(true);
    expect(await status()).toBe('online');
    await waitFor(async () => (await status()) === 'quarantined', 'the exemption to end');
    const quarantines = await auditOf('machine.auto_quarantine');
    expect(quarantines).toHaveLength(2);
    const endedLateBy = Date.parse(quarantines[1]?.created_at ?? '') - Date.parse(expiresAt);
    expect(endedLateBy).toBeGreaterThanOrEqual(0);
    expect(endedLateBy).toBeLessThan(1_000);
    await new Promise((resolve) => setTimeout(resolve, 1_200)); // both sweepers ran again meanwhile
    expect(await auditOf('machine.exemption_expired')).toHaveLength(1);
  });
});
