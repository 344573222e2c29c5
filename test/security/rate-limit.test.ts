/**
 * Rate limits (src/server/rate-limit.ts), per client address:
 * - registration: every attempt counts; past the limit, 429 in the SPEC's error shape with
 *   Retry-After, and nothing is enrolled;
 * - failed authentication: wrong node keys, wrong auth keys, bad bearer tokens and bad
 *   realtime tokens (every 401) count; past the limit the address gets 429 on every /api/
 *   route — valid credentials included, so a guesser learns nothing while blocked — until
 *   the window ends. /healthz stays up, and X-Forwarded-For cannot buy a fresh budget.
 * Plus unit tests of the limiter classes (windows, memory bound) and of the address key.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FailedAuthLimiter, RateLimiter, clientKey } from '../../src/server/rate-limit.ts';
import { COMPLIANT, startTestServer } from '../server/harness.ts';
import type { HttpResult, TestServer } from '../server/harness.ts';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const fakeNodeKey = () => `ztna_node_${'0'.repeat(16)}_${'A'.repeat(43)}`;

function expectRateLimited(result: HttpResult, what: RegExp): void {
  expect(result.status, JSON.stringify(result.body)).toBe(429);
  expect(result.body).toEqual({ success: false, error: { code: 'rate_limited', message: expect.stringMatching(what) } });
  const retryAfter = Number(result.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
}

describe('registration rate limit', () => {
  it('the attempt past the limit is 429 with Retry-After, and it enrolls nothing', async () => {
    server = await startTestServer({ registerPerMinute: 5 });
    const org = await server.org('register-limit');
    const key = await org.authKey();
    const register = (hostname: string) => server!.request('POST', '/api/register', { body: { auth_key: key, hostname } });
    for (let i = 0; i < 3; i += 1) expect((await register(`ok-${i}`)).status).toBe(200);
    // Failed attempts count too.
    expect((await server.request('POST', '/api/register', { body: { auth_key: 'wrong', hostname: 'x' } })).status).toBe(401);
    expect((await server.request('POST', '/api/register', { body: { hostname: 'no-key' } })).status).toBe(400);
    const before = await server.store.count('machines');
    expectRateLimited(await register('one-too-many'), /too many registration attempts/);
    expectRateLimited(await register('two-too-many'), /too many registration attempts/);
    expect(await server.store.count('machines')).toBe(before);
    // Other routes are not affected by the registration limit.
    expect((await org.admin('GET', '/api/db/machines')).status).toBe(200);
  });
});

describe('failed-authentication rate limit', () => {
  it('after N failed node keys, every /api/ request from the address is 429 — valid keys and tokens too — until the window ends', async () => {
    server = await startTestServer({ failedAuthPerMinute: 5 });
    const org = await server.org('failed-auth');
    const machine = await org.register('victim');
    const key = await org.authKey();
    for (let i = 0; i < 5; i += 1) expect((await server.heartbeat(fakeNodeKey())).status).toBe(401);
    const machinesBefore = await server.store.count('machines');
    const reportsBefore = await server.store.count('posture_reports');

    const blocked = /too many failed authentication attempts/;
    expectRateLimited(await server.heartbeat(machine.node_key), blocked);
    expectRateLimited(await server.report(machine.node_key, COMPLIANT), blocked);
    expectRateLimited(await org.admin('GET', '/api/db/machines'), blocked);
    expectRateLimited(await server.request('POST', '/api/register', { body: { auth_key: key, hostname: 'blocked' } }), blocked);
    await expect(server.subscribe(org.token)).rejects.toThrow(/429/);
    // A forged client address changes nothing: the limit is on the connection's address.
    expectRateLimited(await server.request('POST', '/api/machine-heartbeat', { body: { node_key: machine.node_key }, headers: { 'x-forwarded-for': '203.0.113.7' } }), blocked);
    expect(await server.store.count('machines')).toBe(machinesBefore);
    expect(await server.store.count('posture_reports')).toBe(reportsBefore);
    // Health checks are not behind the limit.
    expect((await server.request('GET', '/healthz')).status).toBe(200);

    server.clock.advance(60_000);
    expect((await server.heartbeat(machine.node_key)).status).toBe(200);
    expect((await org.admin('GET', '/api/db/machines')).status).toBe(200);
  });

  it('wrong bearer tokens, wrong auth keys and refused realtime tokens count; successes and other 4xx do not', async () => {
    server = await startTestServer({ failedAuthPerMinute: 4 });
    const org = await server.org('mixed');
    const machine = await org.register('mixed-box');
    // Neither successes nor 400s/404s count…
    for (let i = 0; i < 10; i += 1) {
      expect((await server.heartbeat(machine.node_key)).status).toBe(200);
      expect((await org.admin('GET', '/api/db/nope')).status).toBe(400);
      expect((await server.request('POST', '/api/machine-heartbeat', { body: { node_key: 5 } })).status).toBe(400);
    }
    // …each kind of failed authentication does.
    expect((await server.request('GET', '/api/db/machines', { token: 'not-a-token' })).status).toBe(401);
    expect((await server.request('POST', '/api/register', { body: { auth_key: 'ztna_auth_0000000000000000_x', hostname: 'h' } })).status).toBe(401);
    await expect(server.subscribe('garbage', 'query')).rejects.toThrow(/401/);
    expect((await server.report(fakeNodeKey(), COMPLIANT)).status).toBe(401);
    expectRateLimited(await server.heartbeat(machine.node_key), /too many failed authentication attempts/);
  });

  it('a 429 is answered before the body is read or any key is looked up', async () => {
    server = await startTestServer({ failedAuthPerMinute: 1 });
    expect((await server.heartbeat(fakeNodeKey())).status).toBe(401);
    // A body that would otherwise be 413 (too large) or 400 (malformed) gets the 429.
    expectRateLimited(await server.request('POST', '/api/machine-heartbeat', { raw: '{"node_key": ' }), /too many failed/);
    expectRateLimited(await server.request('POST', '/api/posture-report', { raw: JSON.stringify({ pad: 'x'.repeat(100_000) }) }), /too many failed/);
  });
});

describe('limiters (unit)', () => {
  it('RateLimiter: max per window, then the seconds left; a new window starts fresh', () => {
    let now = 1_000_000;
    const limiter = new RateLimiter(3, 60_000, () => now);
    expect([limiter.hit('a'), limiter.hit('a'), limiter.hit('a')]).toEqual([0, 0, 0]);
    expect(limiter.hit('a')).toBe(60);
    expect(limiter.hit('b')).toBe(0);
    now += 59_500;
    expect(limiter.hit('a')).toBe(1);
    now += 500;
    expect(limiter.hit('a')).toBe(0);
  });

  it('FailedAuthLimiter: blocked after max failures for the rest of the window; checking counts nothing', () => {
    let now = 0;
    const limiter = new FailedAuthLimiter(2, 60_000, () => now);
    for (let i = 0; i < 100; i += 1) expect(limiter.blockedFor('a')).toBe(0);
    limiter.failed('a');
    expect(limiter.blockedFor('a')).toBe(0);
    limiter.failed('a');
    expect(limiter.blockedFor('a')).toBe(60);
    expect(limiter.blockedFor('b')).toBe(0);
    now = 30_000;
    expect(limiter.blockedFor('a')).toBe(30);
    now = 60_000;
    expect(limiter.blockedFor('a')).toBe(0);
  });

  it('memory stays bounded: ended windows are swept, and past maxKeys the oldest are forgotten', () => {
    let now = 0;
    const limiter = new FailedAuthLimiter(1, 60_000, () => now, 1_000);
    for (let i = 0; i < 5_000; i += 1) limiter.failed(`10.0.${Math.floor(i / 256)}.${i % 256}`);
    const size = (limiter as unknown as { windows: { windows: Map<string, unknown> } }).windows.windows.size;
    expect(size).toBeLessThanOrEqual(1_000);
    // The newest are still remembered (and blocked).
    expect(limiter.blockedFor('10.0.19.135')).toBeGreaterThan(0);
    now = 61_000;
    limiter.failed('fresh');
    expect((limiter as unknown as { windows: { windows: Map<string, unknown> } }).windows.windows.size).toBeLessThanOrEqual(1_000);
  });

  it('clientKey: IPv4 as is, IPv4-mapped IPv6 as IPv4, IPv6 by its /64', () => {
    expect(clientKey('127.0.0.1')).toBe('127.0.0.1');
    expect(clientKey('::ffff:192.0.2.10')).toBe('192.0.2.10');
    expect(clientKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8:1:2::ffff')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:0db8:0001:0002:abcd::1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    // Every address of one /64 shares a budget; another /64 does not.
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe(clientKey('2001:db8:1:2:bbbb::2'));
    expect(clientKey('2001:db8:1:3::1')).not.toBe(clientKey('2001:db8:1:2::1'));
  });
});
