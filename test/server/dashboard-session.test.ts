/**
 * Dashboard sign-in (issue 8): one-time login links, session cookies that authenticate the
 * admin API with the same org scoping as Bearer tokens, CSRF-safe writes, and the static
 * files. On both engines: a link is redeemed once even by 20 concurrent requests.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { buildServer } from '../../src/server/app.ts';
import { createTokenService } from '../../src/server/auth/tokens.ts';
import { dashboardAssets } from '../../src/server/dashboard/assets.ts';
import { SESSION_TTL_S, createLoginLink, csrfTokenFor, loginUrl } from '../../src/server/dashboard/sessions.ts';
import { openSqliteStore } from '../../src/server/store/sqlite/sqlite-store.ts';
import { COMPLIANT, startTestServer } from './harness.ts';
import type { HttpResult, TestOrg, TestServer } from './harness.ts';

let server: TestServer;
let org: TestOrg;

beforeEach(async () => {
  server = await startTestServer();
  org = await server.org('dashboard');
});
afterEach(() => server.close());

async function link(orgId = org.orgId, ttlSeconds?: number): Promise<string> {
  return (await createLoginLink(server.store, orgId, server.clock.now(), ttlSeconds)).token;
}

async function redeem(token: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
  return server.request('POST', '/api/session', { body: { token }, headers });
}

/** Signs in; returns the cookie header and the session's CSRF token. */
async function signIn(orgId = org.orgId): Promise<{ cookie: string; csrf: string; setCookie: string }> {
  const result = await redeem(await link(orgId));
  expect(result.status, JSON.stringify(result.body)).toBe(200);
  const setCookie = result.headers.get('set-cookie') ?? '';
  const value = /^ztna_session=([^;]+);/.exec(setCookie)?.[1];
  expect(value).toBeDefined();
  return { cookie: `ztna_session=${value}`, csrf: result.body.data.csrf_token, setCookie };
}

describe('login links', () => {
  it('redeem once into an HttpOnly, SameSite=Strict session cookie; only hashes are stored', async () => {
    const token = await link();
    expect(loginUrl('http://127.0.0.1:8787/', token)).toBe(`http://127.0.0.1:8787/login#token=${token}`);
    const result = await redeem(token);
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ success: true, data: { org_id: org.orgId, org_name: 'dashboard', expires_at: new Date(server.clock.now().getTime() + SESSION_TTL_S * 1000).toISOString(), csrf_token: expect.any(String) } });
    const setCookie = result.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^ztna_session=ztna_session_[0-9a-f]{16}_[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    expect(result.headers.get('cache-control')).toBe('no-store');
    const sessionToken = /^ztna_session=([^;]+);/.exec(setCookie)?.[1] as string;
    expect(result.body.data.csrf_token).toBe(csrfTokenFor(sessionToken));

    const stored = JSON.stringify([await server.store.select('login_links'), await server.store.select('admin_sessions')]);
    // The secret is the last 43 characters (base64url, which may itself contain '_': splitting on
    // '_' once gave a one-character "secret" that any stored row contains).
    expect(stored).not.toContain(token.slice(-43));
    expect(stored).not.toContain(sessionToken.slice(-43));

    const again = await redeem(token);
    expect(again.status).toBe(401);
    expect(again.body.error.message).toMatch(/already been used/);
    expect(again.headers.get('set-cookie')).toBeNull();
  });

  it('expire after their lifetime', async () => {
    const token = await link(org.orgId, 600);
    server.clock.advance(600_001);
    const result = await redeem(token);
    expect(result.status).toBe(401);
    expect(result.body.error.message).toMatch(/has expired/);
  });

  it('refuse forged, malformed and unknown tokens alike, and cross-origin sign-in', async () => {
    const token = await link();
    const forged = token.replace(/_[^_]+$/, `_${randomBytes(32).toString('base64url')}`);
    for (const bad of [forged, 'ztna_login_0123456789abcdef_' + 'A'.repeat(43), 'nonsense', '']) {
      const result = await redeem(bad);
      expect(result.status, bad).toBe(401);
      expect(result.body.error.code).toBe('unauthorized');
    }
    expect((await redeem(123)).status).toBe(400);
    expect((await redeem(token, { origin: 'https://evil.example' })).status).toBe(403);
    // The refused attempts did not use the link up.
    expect((await redeem(token, { origin: server.url })).status).toBe(200);
  });

  it('are redeemed exactly once under 20 concurrent requests', async () => {
    const token = await link();
    const results = await Promise.all(Array.from({ length: 20 }, () => redeem(token)));
    expect(results.filter((result) => result.status === 200)).toHaveLength(1);
    expect(results.filter((result) => result.status === 401)).toHaveLength(19);
    expect(await server.store.select('admin_sessions')).toHaveLength(1);
  });

  it('set the cookie Secure when served over https behind a TLS proxy named by --trust-proxy (and only then)', async () => {
    // Anyone may send X-Forwarded-Proto; it counts only from a trusted proxy.
    expect((await redeem(await link(), { 'x-forwarded-proto': 'https' })).headers.get('set-cookie')).not.toMatch(/Secure/);
    const proxied = await startTestServer({ trustProxy: ['127.0.0.1/32'] });
    try {
      const proxiedOrg = await proxied.org('dashboard');
      const token = (await createLoginLink(proxied.store, proxiedOrg.orgId, proxied.clock.now())).token;
      const result = await proxied.request('POST', '/api/session', { body: { token }, headers: { 'x-forwarded-proto': 'https' } });
      expect(result.headers.get('set-cookie')).toMatch(/; Secure$/);
    } finally {
      await proxied.close();
    }
  });
});

describe('session cookies', () => {
  it('authenticate the admin API for their org only, like a Bearer token', async () => {
    const machine = await org.register('mine');
    const other = await server.org('other');
    await other.register('theirs');
    const { cookie, csrf } = await signIn();
    const machines = await server.request('GET', '/api/db/machines', { headers: { cookie } });
    expect(machines.status).toBe(200);
    expect(machines.body.data.map((row: any) => row.id)).toEqual([machine.machine_id]);
    expect((await server.request('GET', `/api/db/machines?org_id=eq.${other.orgId}`, { headers: { cookie } })).status).toBe(403);
    const foreign = await server.request('POST', '/api/org-management', { headers: { cookie, 'x-ztna-csrf': csrf }, body: { action: 'update_org_settings', org_id: other.orgId, heartbeat_interval_s: 5 } });
    expect(foreign.status).toBe(403);
    const session = await server.request('GET', '/api/session', { headers: { cookie } });
    expect(session.body.data).toMatchObject({ org_id: org.orgId, org_name: 'dashboard', csrf_token: csrf });
    // An ISO timestamp on both engines (node-postgres hands the stored value back as a Date).
    expect(session.body.data.expires_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    // Bearer tokens keep working, with no CSRF header.
    expect((await org.admin('PATCH', '/api/db/org_settings', { _filters: { org_id: org.orgId }, heartbeat_interval_s: 11 })).status).toBe(200);
    expect((await org.admin('GET', '/api/session')).body.data).toEqual({ org_id: org.orgId, org_name: 'dashboard', expires_at: null, csrf_token: null });
  });

  it('need the CSRF header and a same-origin Origin for every change', async () => {
    const { cookie, csrf } = await signIn();
    const change = (headers: Record<string, string>) => server.request('PATCH', '/api/db/org_settings', { headers: { cookie, ...headers }, body: { _filters: { org_id: org.orgId }, heartbeat_interval_s: 12 } });
    const refused = await change({});
    expect(refused.status).toBe(403);
    expect(refused.body.error).toEqual({ code: 'forbidden', message: expect.stringMatching(/x-ztna-csrf/) });
    expect((await change({ 'x-ztna-csrf': csrfTokenFor('ztna_session_0123456789abcdef_' + 'B'.repeat(43)) })).status).toBe(403);
    expect((await change({ 'x-ztna-csrf': csrf, origin: 'http://evil.example' })).status).toBe(403);
    expect((await change({ 'x-ztna-csrf': csrf, origin: 'null' })).status).toBe(403);
    expect((await org.admin('GET', '/api/db/org_settings')).body.data[0].heartbeat_interval_s).toBe(30);
    expect((await change({ 'x-ztna-csrf': csrf, origin: server.url })).status).toBe(200);
    expect((await change({ 'x-ztna-csrf': csrf })).status).toBe(200);
    // Another session's CSRF token does not fit this session.
    const second = await signIn();
    expect((await change({ 'x-ztna-csrf': second.csrf })).status).toBe(403);
    // Reads need no CSRF header, but a foreign Origin is refused even for them.
    expect((await server.request('GET', '/api/db/machines', { headers: { cookie } })).status).toBe(200);
    expect((await server.request('GET', '/api/db/machines', { headers: { cookie, origin: 'http://evil.example' } })).status).toBe(403);
  });

  it('expire, end at sign-out, and an unknown or malformed cookie is a 401', async () => {
    const first = await signIn();
    const second = await signIn();
    const signOut = await server.request('DELETE', '/api/session', { headers: { cookie: first.cookie, 'x-ztna-csrf': first.csrf } });
    expect(signOut.status).toBe(200);
    expect(signOut.headers.get('set-cookie')).toMatch(/^ztna_session=; Path=\/; HttpOnly; SameSite=Strict; Max-Age=0$/);
    expect((await server.request('GET', '/api/db/machines', { headers: { cookie: first.cookie } })).status).toBe(401);
    expect((await server.request('GET', '/api/db/machines', { headers: { cookie: second.cookie } })).status).toBe(200);
    expect((await server.request('DELETE', '/api/session', { headers: { cookie: second.cookie } })).status).toBe(403); // no CSRF header
    for (const cookie of ['ztna_session=garbage', `ztna_session=ztna_session_0123456789abcdef_${'C'.repeat(43)}`, `${second.cookie.slice(0, -2)}xx`]) {
      const result = await server.request('GET', '/api/db/machines', { headers: { cookie } });
      expect(result.status, cookie).toBe(401);
      expect(result.body.error.message).toMatch(/login-link/);
    }
    server.clock.advance(SESSION_TTL_S * 1000 + 1);
    expect((await server.request('GET', '/api/db/machines', { headers: { cookie: second.cookie } })).status).toBe(401);
    // Without any cookie or token, the message is the API's usual one.
    expect((await server.request('GET', '/api/db/machines')).body.error.message).toMatch(/Bearer/);
  });

  it('open the realtime socket from the same origin only, and it carries this org’s events', async () => {
    const { cookie } = await signIn();
    const wsUrl = `${server.url.replace('http', 'ws')}/api/realtime`;
    const open = (headers: Record<string, string>) =>
      new Promise<{ status: number; socket?: WebSocket }>((resolve, reject) => {
        const socket = new WebSocket(wsUrl, { headers });
        socket.once('open', () => resolve({ status: 101, socket }));
        socket.once('unexpected-response', (_request, response) => resolve({ status: response.statusCode ?? 0 }));
        socket.once('error', reject);
      });
    expect((await open({ cookie, origin: 'http://evil.example' })).status).toBe(403);
    expect((await open({ cookie })).status).toBe(403); // a browser always sends Origin
    expect((await open({ cookie: 'ztna_session=nope', origin: server.url })).status).toBe(401);
    const { status, socket } = await open({ cookie, origin: server.url });
    expect(status).toBe(101);
    try {
      const events: any[] = [];
      const mine = new Promise<void>((resolve) =>
        socket!.on('message', (data) => {
          const event = JSON.parse(String(data));
          events.push(event);
          if (event.table === 'posture_reports') resolve();
        }),
      );
      const other = await server.org('other');
      await other.register('theirs');
      const machine = await org.register('live');
      await server.report(machine.node_key, COMPLIANT);
      await mine;
      expect(events.find((event) => event.table === 'machines')).toMatchObject({ type: 'INSERT', data: { hostname: 'live', org_id: org.orgId } });
      expect(JSON.stringify(events)).not.toContain('theirs');
    } finally {
      socket!.terminate();
    }
  });

  // SPEC 7.1 / issue 12: was — a socket opened with the cookie stayed open until the
  // session's 12 h were up, signed out or not. (On PostgreSQL this goes through NOTIFY;
  // multi-process.test.ts checks it across two server processes.)
  it('signing out closes the realtime sockets the session opened (1008 "signed out"), and only those', async () => {
    const mine = await signIn();
    const another = await signIn();
    const wsUrl = `${server.url.replace('http', 'ws')}/api/realtime`;
    const open = (cookie: string) =>
      new Promise<WebSocket>((resolve, reject) => {
        const socket = new WebSocket(wsUrl, { headers: { cookie, origin: server.url } });
        socket.once('open', () => resolve(socket));
        socket.once('error', reject);
      });
    const [first, second, stays] = [await open(mine.cookie), await open(mine.cookie), await open(another.cookie)];
    const closed = (socket: WebSocket) => new Promise<[number, string]>((resolve) => socket.once('close', (code, reason) => resolve([code, String(reason)])));
    const firstClosed = closed(first);
    const secondClosed = closed(second);
    try {
      const signOut = await server.request('DELETE', '/api/session', { headers: { cookie: mine.cookie, 'x-ztna-csrf': mine.csrf } });
      expect(signOut.status).toBe(200);
      const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('the signed-out sockets stayed open')), 2_000));
      expect(await Promise.race([firstClosed, timeout])).toEqual([1008, 'signed out']);
      expect(await Promise.race([secondClosed, timeout])).toEqual([1008, 'signed out']);
      expect(stays.readyState).toBe(WebSocket.OPEN);
    } finally {
      for (const socket of [first, second, stays]) socket.terminate();
    }
  });

  it('are no /api/db tables', async () => {
    const { cookie } = await signIn();
    for (const table of ['login_links', 'admin_sessions']) {
      const result = await server.request('GET', `/api/db/${table}`, { headers: { cookie } });
      expect(result.status).toBe(400);
      expect(result.body.error.message).toMatch(/unknown table/);
      expect((await org.admin('GET', `/api/db/${table}`)).status).toBe(400);
    }
  });
});

describe('dashboard files', () => {
  it('are served at / and /assets/ with a strict Content-Security-Policy and ETags', async () => {
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(await page.text()).toContain('/assets/app.js');
    expect((await fetch(`${server.url}/login`)).status).toBe(200);
    const script = await fetch(`${server.url}/assets/app.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const etag = script.headers.get('etag') as string;
    expect((await fetch(`${server.url}/assets/app.js`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    for (const name of ['..%2Fpackage.json', '.hidden', 'nope.js', '%2e%2e%2f%2e%2e%2fetc%2fpasswd']) expect((await fetch(`${server.url}/assets/${name}`)).status, name).toBe(404);
  });

  it('answer a 503 page saying how to build them when they are missing; the API still works', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'ztna-no-dashboard-'));
    const built = await buildServer({ store: openSqliteStore({ dataDir: ':memory:' }), tokens: createTokenService(randomBytes(32)), sweeper: false, dashboard: dashboardAssets({ dir: empty }) });
    try {
      const page = await built.app.inject({ method: 'GET', url: '/' });
      expect(page.statusCode).toBe(503);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.body).toContain('npm run build');
      expect((await built.app.inject({ method: 'GET', url: '/assets/app.js' })).statusCode).toBe(404);
      expect((await built.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      // A file that appears later is served without a restart.
      writeFileSync(join(empty, 'index.html'), '<!doctype html><title>built</title>');
      const later = await built.app.inject({ method: 'GET', url: '/' });
      expect(later.statusCode).toBe(200);
      expect(later.body).toContain('built');
    } finally {
      await built.close();
    }
  });
});
