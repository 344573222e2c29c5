/**
 * The acceptance load test of SPEC 7.1's limits, with a real `ztna-server` process on
 * 127.0.0.1: 2,000 devices enrol through one client address (an office NAT, or a load
 * balancer not named in --trust-proxy) with `--register-rate 5000`, while a device with a
 * wrong node key hammers from that same address. Every enrolment succeeds, and a valid
 * device heartbeating and an admin listing machines from that address are served
 * throughout; the hammer is held to its 100 failures a minute (then 429). Bounded: 2,000
 * enrolments, 4 hammer loops, everything stops when the enrolments are done.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { adminClient, processes } from './processes.ts';

const procs = processes('limits-load');
afterAll(() => procs.stopAll());

const DEVICES = 2_000;
const CONCURRENCY = 16;

describe('enrolment and failed-auth limits under load through one address', () => {
  it(`${DEVICES} enrolments with --register-rate 5000 while a wrong key hammers; valid device and admin always served`, async () => {
    const data = join(procs.work, 'data');
    const { url } = await procs.serve(['--data', data, '--log-level', 'warn', '--register-rate', '5000']);
    const boot = JSON.parse((await procs.run('ztna-server', ['bootstrap', '--data', data, '--json'])).stdout);
    const admin = adminClient(url, boot.admin_token);
    const authKey = (await admin('POST', '/api/db/auth_keys', { description: 'roll-out', reusable: true })).body.data[0].key as string;
    const post = async (path: string, body: unknown) => {
      const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
      await response.arrayBuffer();
      return response.status;
    };
    const valid = await (await fetch(`${url}/api/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ auth_key: authKey, hostname: 'valid-device' }) })).json() as { node_key: string };

    let done = false;
    const tally = (counts: Map<number, number>, status: number) => counts.set(status, (counts.get(status) ?? 0) + 1);
    const hammer = new Map<number, number>();
    const device = new Map<number, number>();
    const adminCalls = new Map<number, number>();
    const wrongKey = `ztna_node_00000000feedface_${'Z'.repeat(43)}`;
    const hammering = Array.from({ length: 4 }, async () => {
      while (!done) tally(hammer, await post('/api/machine-heartbeat', { node_key: wrongKey }));
    });
    const beating = (async () => {
      while (!done) {
        tally(device, await post('/api/machine-heartbeat', { node_key: valid.node_key }));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const listing = (async () => {
      while (!done) {
        tally(adminCalls, (await admin('GET', '/api/db/machines?limit=1')).status);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();

    const enrolments = new Map<number, number>();
    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < DEVICES) {
          const n = next++;
          tally(enrolments, await post('/api/register', { auth_key: authKey, hostname: `roll-out-${n}` }));
        }
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    done = true;
    await Promise.all([...hammering, beating, listing]);

    const show = (counts: Map<number, number>) => [...counts].map(([status, n]) => `${status}×${n}`).join(' ');
    process.stdout.write(
      `limits-load: ${DEVICES} enrolments through one address in ${seconds.toFixed(1)} s (${Math.round(DEVICES / seconds)}/s, --register-rate 5000): ${show(enrolments)}; ` +
        `wrong-key hammer: ${show(hammer)}; valid device heartbeats: ${show(device)}; admin requests: ${show(adminCalls)}\n`,
    );
    expect(enrolments.get(200)).toBe(DEVICES);
    expect([...device.keys()]).toEqual([200]);
    expect([...adminCalls.keys()]).toEqual([200]);
    expect(device.get(200)).toBeGreaterThan(5);
    expect(adminCalls.get(200)).toBeGreaterThan(3);
    // The hammer: its first 100 failures a minute are 401, then 429 (and never anything else).
    expect(hammer.get(401)).toBe(100);
    expect(hammer.get(429)).toBeGreaterThan(0);
    expect([...hammer.keys()].sort()).toEqual([401, 429]);
    expect((await admin('GET', '/api/db/machines?select=id')).body.data).toHaveLength(DEVICES + 1);
  }, 120_000);
});
