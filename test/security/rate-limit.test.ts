/**
 * Rate limits (src/server/rate-limit.ts, app.ts), per client address (SPEC 7.1):
 * - enrolment: registrations with a valid auth key count (`--register-rate`); past the
 *   limit, 429 in the SPEC's error shape with Retry-After, and nothing is enrolled. Wrong
 *   keys do not use it up: they are failed authentications.
 * - failed authentication: wrong node keys, wrong auth keys, bad bearer tokens and bad
 *   realtime tokens (every 401) count (`--auth-fail-rate`); past the limit the address's
 *   requests *without valid credentials* get 429 until the window ends — on every route,
 *   whatever spelling of its path — while valid credentials are always served.
 * - `--trust-proxy`: only a trusted peer may name the client with X-Forwarded-For.
 * Before SPEC 7.1, one device with a stale key locked every device and admin behind its
 * address out for a minute, a roll-out of more than 300 devices a minute through one
 * proxy failed, and a percent-encoded or absolute-form path skipped the block.
 * Plus unit tests of the limiter classes (windows, memory bound) and of the address key.
 */
import { request as httpRequest } from 'node:http';
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

/** A raw HTTP/1.1 request with exactly this request target (fetch would normalise it). */
function rawPost(url: string, target: string, body: unknown): Promise<{ status: number; body: any }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const request = httpRequest({ host: hostname, port, method: 'POST', path: target, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text || 'null') }));
    });
    request.on('error', reject);
    request.end(payload);
  });
}

describe('enrolment rate limit (--register-rate)', () => {
  it('the enrolment past the limit is 429 with Retry-After, and it enrolls nothing; failed attempts do not count', async () => {
    server = await startTestServer({ registerPerMinute: 3 });
    const org = await server.org('register-limit');
    const key = await org.authKey();
    const register = (hostname: string) => server!.request('POST', '/api/register', { body: { auth_key: key, hostname } });
    // Wrong keys and bad bodies are not enrolments (they are the failed-auth limit's business).
    for (let i = 0; i < 5; i += 1) expect((await server.request('POST', '/api/register', { body: { auth_key: 'wrong', hostname: 'x' } })).status).toBe(401);
    expect((await server.request('POST', '/api/register', { body: { hostname: 'no-key' } })).status).toBe(400);
    for (let i = 0; i < 3; i += 1) expect((await register(`ok-${i}`)).status).toBe(200);
    const before = await server.store.count('machines');
    expectRateLimited(await register('one-too-many'), /too many enrolments/);
    expectRateLimited(await register('two-too-many'), /too many enrolments/);
    expect(await server.store.count('machines')).toBe(before);
    // Other routes are not affected by the enrolment limit.
    expect((await org.admin('GET', '/api/db/machines')).status).toBe(200);
    server.clock.advance(60_000);
    expect((await register('next-minute')).status).toBe(200);
  });
});

describe('failed-authentication rate limit (--auth-fail-rate)', () => {
  it('after N failed node keys the address\'s bad credentials get 429 until the window ends; valid keys and tokens are always served', async () => {
    server = await startTestServer({ failedAuthPerMinute: 5 });
    const org = await server.org('failed-auth');
    const machine = await org.register('victim');
    const key = await org.authKey();
    for (let i = 0; i < 5; i += 1) expect((await server.heartbeat(fakeNodeKey())).status).toBe(401);

    const blocked = /too many failed authentication attempts/;
    expectRateLimited(await server.heartbeat(fakeNodeKey()), blocked);
    expectRateLimited(await server.request('GET', '/api/db/machines', { token: 'not-a-token' }), blocked);
    expectRateLimited(await server.request('POST', '/api/register', { body: { auth_key: 'ztna_auth_0000000000000000_x', hostname: 'h' } }), blocked);
    // Valid credentials from the same address: served, every kind.
    expect((await server.heartbeat(machine.node_key)).status).toBe(200);
    expect((await server.report(machine.node_key, COMPLIANT)).status).toBe(200);
    expect((await org.admin('GET', '/api/db/machines')).status).toBe(200);
    expect((await server.request('POST', '/api/register', { body: { auth_key: key, hostname: 'newcomer' } })).status).toBe(200);
    const live = await server.subscribe(org.token);
    live.socket.close();
    // Health checks are not behind the limit.
    expect((await server.request('GET', '/healthz')).status).toBe(200);

    server.clock.advance(60_000);
    expect((await server.heartbeat(fakeNodeKey())).status).toBe(401);
  });

  it('the route the router matched is limited, however its path is spelt (percent-encoded, absolute-form)', async () => {
    server = await startTestServer({ failedAuthPerMinute: 2 });
    const org = await server.org('spellings');
    const machine = await org.register('spelt');
    const url = server.url;
    const spellings = ['/%61pi/machine-heartbeat', '/api/machine%2Dheartbeat', `${url}/api/machine-heartbeat`, `http://other.example${'/api/machine-heartbeat'}`];
    // The spellings reach the real route (a valid key is served through each)…
    for (const target of spellings) expect((await rawPost(url, target, { node_key: machine.node_key })).status, target).toBe(200);
    // …and failures through them count and are limited like any other.
    for (const target of spellings.slice(0, 2)) expect((await rawPost(url, target, { node_key: fakeNodeKey() })).status, target).toBe(401);
    for (const target of spellings) {
      const result = await rawPost(url, target, { node_key: fakeNodeKey() });
      expect(result.status, target).toBe(429);
      expect(result.body.error.code).toBe('rate_limited');
    }
    expect((await rawPost(url, spellings[0] as string, { node_key: machine.node_key })).status).toBe(200);
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
    expectRateLimited(await server.heartbeat(fakeNodeKey()), /too many failed authentication attempts/);
    await expect(server.subscribe('garbage', 'query')).rejects.toThrow(/429/);
  });
});

describe('client addresses (--trust-proxy)', () => {
  it('without it, X-Forwarded-For is ignored: a forged header buys no fresh budget', async () => {
    server = await startTestServer({ failedAuthPerMinute: 2 });
    for (let i = 0; i < 2; i += 1) expect((await server.heartbeat(fakeNodeKey())).status).toBe(401);
    const forged = await server.request('POST', '/api/machine-heartbeat', { body: { node_key: fakeNodeKey() }, headers: { 'x-forwarded-for': '203.0.113.7' } });
    expect(forged.status).toBe(429);
  });

  it('from a trusted proxy, each client it names has its own budget; a stale key behind it blocks only its own client', async () => {
    server = await startTestServer({ failedAuthPerMinute: 2, trustProxy: ['127.0.0.0/8'] });
    const via = (client: string) => ({ 'x-forwarded-for': client });
    for (let i = 0; i < 3; i += 1) await server.request('POST', '/api/machine-heartbeat', { body: { node_key: fakeNodeKey() }, headers: via('198.51.100.1') });
    expect((await server.request('POST', '/api/machine-heartbeat', { body: { node_key: fakeNodeKey() }, headers: via('198.51.100.1') })).status).toBe(429);
    expect((await server.request('POST', '/api/machine-heartbeat', { body: { node_key: fakeNodeKey() }, headers: via('198.51.100.2') })).status).toBe(401);
    // A client cannot append its own address to escape: the right-most untrusted one counts.
    expect((await server.request('POST', '/api/machine-heartbeat', { body: { node_key: fakeNodeKey() }, headers: via('10.9.9.9, 198.51.100.1') })).status).toBe(429);
  });

  it('a peer outside the trusted ranges cannot name the client', async () => {
    server = await startTestServer({ failedAuthPerMinute: 2, trustProxy: ['10.0.0.0/8'] });
    for (let i = 0; i < 2; i += 1) await server.request('POST', '/api/machine-heartbeat', { body: { node_key: fakeNodeKey() }, headers: { 'x-forwarded-for': `198.51.100.${i}` } });
    expect((await server.request('POST', '/api/machine-heartbeat', { body: { node_key: fakeNodeKey() }, headers: { 'x-forwarded-for': '198.51.100.99' } })).status).toBe(429);
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
