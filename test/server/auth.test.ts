/**
 * Authentication (SPEC section 4, "Auth" and "Errors"): admin calls carry a Bearer JWT,
 * agent calls carry the machine's node key in the body, registration takes an auth key.
 * Anything else is a 401 in the SPEC's error shape, stores nothing, and no response (nor
 * /metrics) ever shows a key, a token or a key hash.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTokenService } from '../../src/server/auth/tokens.ts';
import type { TableName } from '../../src/server/store/tables.ts';
import { COMPLIANT, startTestServer } from './harness.ts';
import type { HttpResult, TestOrg, TestServer } from './harness.ts';

let server: TestServer;
let org: TestOrg;
let machine: { machine_id: string; node_key: string };
beforeEach(async () => {
  server = await startTestServer();
  org = await server.org('auth');
  machine = await org.register('enrolled');
  expect((await server.report(machine.node_key, COMPLIANT)).status).toBe(200);
});
afterEach(() => server.close());

const ALL_TABLES: TableName[] = ['orgs', 'org_state', 'org_settings', 'posture_policies', 'machines', 'posture_reports', 'audit_log', 'auth_keys', 'agent_commands', 'acl_rules'];

async function snapshot(): Promise<string> {
  await server.server.context.lastSeen.flush(server.store);
  const all: Record<string, unknown> = {};
  for (const table of ALL_TABLES) all[table] = await server.store.select(table);
  return JSON.stringify(all);
}

/** 401 in the SPEC's error shape, and not one row changed anywhere. */
async function expectUnauthorized(attempt: () => Promise<HttpResult>): Promise<HttpResult> {
  const before = await snapshot();
  const result = await attempt();
  expect(result.status, `${result.status} ${JSON.stringify(result.body)}`).toBe(401);
  expect(result.body).toEqual({ success: false, error: { code: expect.any(String), message: expect.any(String) } });
  expect(await snapshot(), 'a refused request changed the store').toBe(before);
  return result;
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const nowS = () => Math.floor(server.clock.now().getTime() / 1000);

// ---------------------------------------------------------------------------------------
// Admin tokens.

type HeaderMaker = () => Promise<Record<string, string>>;

const BAD_CREDENTIALS: Array<[string, HeaderMaker]> = [
  ['no Authorization header', async () => ({})],
  ['"Bearer" and nothing else', async () => ({ authorization: 'Bearer' })],
  ['"Bearer " and blanks', async () => ({ authorization: 'Bearer    ' })],
  ['Bearer garbage', async () => ({ authorization: 'Bearer not-a-jwt' })],
  ['Bearer three garbage segments', async () => ({ authorization: 'Bearer aaa.bbb.ccc' })],
  ['Bearer with a 10 KB token', async () => ({ authorization: `Bearer ${'a'.repeat(10_000)}` })],
  ['Basic credentials', async () => ({ authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` })],
  ['a valid token without the Bearer scheme', async () => ({ authorization: await server.tokens.mint({ orgId: org.orgId }) })],
  ['a token signed with another secret', async () => ({ authorization: `Bearer ${await createTokenService(randomBytes(32), server.clock.now).mint({ orgId: org.orgId })}` })],
  [
    'an expired token',
    async () => {
      const token = await server.tokens.mint({ orgId: org.orgId, ttlSeconds: 60 });
      expect((await server.request('GET', '/api/db/machines', { token })).status).toBe(200); // valid until…
      server.clock.advance(61_000); // …it expires
      return { authorization: `Bearer ${token}` };
    },
  ],
  [
    'a token with alg "none"',
    async () => {
      const header = b64url({ alg: 'none', typ: 'JWT' });
      const payload = b64url({ org_id: org.orgId, role: 'admin', sub: 'attacker', iss: 'ztna-server', aud: 'ztna-admin', iat: nowS(), exp: nowS() + 3600 });
      return { authorization: `Bearer ${header}.${payload}.` };
    },
  ],
  [
    'a token with alg "none" and the original signature',
    async () => {
      const [, payload, signature] = (await server.tokens.mint({ orgId: org.orgId })).split('.');
      return { authorization: `Bearer ${b64url({ alg: 'none', typ: 'JWT' })}.${payload}.${signature}` };
    },
  ],
  [
    'a token whose org_id claim was changed (signature kept)',
    async () => {
      const other = await server.org('other');
      const [header, payload, signature] = other.token.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
      expect(claims.org_id).toBe(other.orgId);
      return { authorization: `Bearer ${header}.${b64url({ ...claims, org_id: org.orgId })}.${signature}` };
    },
  ],
  [
    'a token whose exp was extended (signature kept)',
    async () => {
      const [header, payload, signature] = (await server.tokens.mint({ orgId: org.orgId, ttlSeconds: 1 })).split('.') as [string, string, string];
      server.clock.advance(2_000);
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
      return { authorization: `Bearer ${header}.${b64url({ ...claims, exp: claims.exp + 86_400 })}.${signature}` };
    },
  ],
  [
    'a token whose header claims HS512 (signature kept)',
    async () => {
      const [, payload, signature] = (await server.tokens.mint({ orgId: org.orgId })).split('.');
      return { authorization: `Bearer ${b64url({ alg: 'HS512', typ: 'JWT' })}.${payload}.${signature}` };
    },
  ],
  [
    'a node key as the bearer token',
    async () => ({ authorization: `Bearer ${machine.node_key}` }),
  ],
];

const ADMIN_CALLS: Array<[string, string, () => unknown]> = [
  ['GET', '/api/db/machines', () => undefined],
  ['GET', '/api/db/auth_keys', () => undefined],
  ['POST', '/api/db/auth_keys', () => ({ description: 'minted by an attacker' })],
  ['POST', '/api/db/posture_policies', () => ({ require_firewall: true })],
  ['PATCH', '/api/db/org_settings', () => ({ posture_enforcement: 'enforce' })],
  ['PATCH', '/api/db/machines', () => ({ _filters: { id: machine.machine_id }, status: 'quarantined' })],
  ['DELETE', '/api/db/machines?hostname=eq.enrolled', () => undefined],
  ['POST', '/api/org-management', () => ({ action: 'update_org_settings', posture_enforcement: 'enforce' })],
  ['POST', '/api/acl/evaluate', () => ({ src_machine_id: machine.machine_id, dst_machine_id: machine.machine_id })],
];

describe('admin routes with bad credentials', () => {
  it.each(BAD_CREDENTIALS)('%s: every admin call is 401 and changes nothing', async (_what, makeHeaders) => {
    const headers = await makeHeaders();
    const sent = headers.authorization?.replace(/^(Bearer|Basic)\s*/, '') ?? '';
    for (const [method, path, body] of ADMIN_CALLS) {
      const payload = body();
      const result = await expectUnauthorized(() => server.request(method, path, { headers, ...(payload === undefined ? {} : { body: payload }) }));
      expect(result.body.error.code, `${method} ${path}`).toBe('unauthorized');
      // The refusal never echoes what was sent.
      if (sent.length > 8) expect(JSON.stringify(result.body), `${method} ${path}`).not.toContain(sent);
    }
  });
});

describe('admin tokens (controls)', () => {
  it('the same calls succeed with a valid token', async () => {
    expect((await org.admin('GET', '/api/db/machines')).status).toBe(200);
    expect((await org.admin('POST', '/api/acl/evaluate', { src_machine_id: machine.machine_id, dst_machine_id: machine.machine_id })).status).toBe(200);
  });

  it('a token stays valid up to its expiry and not a second after', async () => {
    const token = await server.tokens.mint({ orgId: org.orgId, ttlSeconds: 60 });
    server.clock.advance(59_000);
    expect((await server.request('GET', '/api/db/machines', { token })).status).toBe(200);
    server.clock.advance(2_000);
    await expectUnauthorized(() => server.request('GET', '/api/db/machines', { token }));
  });

  it('a tampered token cannot read the org it names', async () => {
    const other = await server.org('other');
    const [header, payload, signature] = other.token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forged = `${header}.${b64url({ ...claims, org_id: org.orgId })}.${signature}`;
    const result = await expectUnauthorized(() => server.request('GET', `/api/db/machines?org_id=eq.${org.orgId}`, { token: forged }));
    expect(JSON.stringify(result.body)).not.toContain(machine.machine_id);
  });
});

describe('realtime upgrade', () => {
  const refused: Array<[string, () => Promise<string>, 'header' | 'query']> = [
    ['garbage in the header', async () => 'garbage', 'header'],
    ['garbage in ?token=', async () => 'garbage', 'query'],
    ['an empty ?token=', async () => '', 'query'],
    ['a token signed with another secret', async () => createTokenService(randomBytes(32), server.clock.now).mint({ orgId: org.orgId }), 'header'],
    [
      'an expired token',
      async () => {
        const token = await server.tokens.mint({ orgId: org.orgId, ttlSeconds: 60 });
        server.clock.advance(61_000);
        return token;
      },
      'query',
    ],
    [
      'an alg "none" token',
      async () => `${b64url({ alg: 'none' })}.${b64url({ org_id: org.orgId, role: 'admin', iss: 'ztna-server', aud: 'ztna-admin', exp: nowS() + 3600 })}.`,
      'query',
    ],
  ];

  it.each(refused)('with %s is refused (401)', async (_what, makeToken, how) => {
    const token = await makeToken();
    await expect(server.subscribe(token, how)).rejects.toThrow(/401/);
  });

  it('with a valid token opens, and its events carry no key material', async () => {
    const subscriber = await server.subscribe(org.token);
    const enrolled = await org.register('second');
    await subscriber.waitFor((event) => event.table === 'machines' && event.data?.id === enrolled.machine_id);
    const text = JSON.stringify(subscriber.events);
    expect(text).not.toMatch(/hash/i);
    expect(text).not.toContain(enrolled.node_key);
  });
});

// ---------------------------------------------------------------------------------------
// Agent routes: node keys.

/** A well-formed key of `kind` that nobody was ever given. */
const fakeKey = (kind: 'node' | 'auth', id = randomBytes(8).toString('hex')) => `ztna_${kind}_${id}_${randomBytes(32).toString('base64url')}`;
const keyIdOf = (key: string) => key.split('_')[2] as string;

const BAD_NODE_KEYS: Array<[string, () => Promise<string>]> = [
  ['an unknown, well-formed node key', async () => fakeKey('node')],
  ['a malformed node key', async () => 'not-a-node-key'],
  ['a truncated node key', async () => machine.node_key.slice(0, -1)],
  ['a node key with one more character', async () => `${machine.node_key}A`],
  ['a node key in upper case', async () => machine.node_key.toUpperCase()],
  ['the machine\'s key id with a wrong secret', async () => fakeKey('node', keyIdOf(machine.node_key))],
  [
    'another machine\'s key id with a wrong secret',
    async () => {
      const other = await org.register('other-machine');
      return fakeKey('node', keyIdOf(other.node_key));
    },
  ],
  ['an auth key as a node key', async () => org.authKey()],
  ['the node key\'s SHA-256 (what the server stores)', async () => sha256(machine.node_key)],
  [
    'the node key of a deleted machine',
    async () => {
      const doomed = await org.register('doomed');
      expect((await org.admin('DELETE', `/api/db/machines?id=eq.${doomed.machine_id}`)).body.data).toHaveLength(1);
      return doomed.node_key;
    },
  ],
];

describe.each(BAD_NODE_KEYS)('agent routes with %s', (_what, makeKey) => {
  it('posture-report, heartbeat and command result are 401 and store nothing', async () => {
    const nodeKey = await makeKey();
    const command = (await org.admin('POST', '/api/db/agent_commands', { machine_id: machine.machine_id, command: 'enable_firewall' })).body.data[0];
    for (const [path, body] of [
      ['/api/posture-report', { node_key: nodeKey, ...COMPLIANT, disk_encrypted: false }],
      ['/api/machine-heartbeat', { node_key: nodeKey, agent_version: '9.9.9' }],
      ['/api/agent-commands/result', { node_key: nodeKey, id: command.id, status: 'applied', result: { ok: true } }],
    ] as const) {
      server.clock.advance(1_000); // a heartbeat that got through would move last_seen
      const result = await expectUnauthorized(() => server.request('POST', path, { body }));
      expect(JSON.stringify(result.body), `${path} echoed the key`).not.toContain(nodeKey);
    }
    expect((await org.admin('GET', `/api/db/agent_commands?id=eq.${command.id}`)).body.data[0].status).toBe('pending');
  });
});

describe('agent routes (controls)', () => {
  it('the real node key works on every agent route', async () => {
    expect((await server.heartbeat(machine.node_key)).status).toBe(200);
    expect((await server.report(machine.node_key)).status).toBe(200);
    const command = (await org.admin('POST', '/api/db/agent_commands', { machine_id: machine.machine_id, command: 'enable_firewall' })).body.data[0];
    expect((await server.request('POST', '/api/agent-commands/result', { body: { node_key: machine.node_key, id: command.id, status: 'applied' } })).status).toBe(200);
  });
});

// ---------------------------------------------------------------------------------------
// Registration: auth keys.

const register = (authKey: string, hostname = 'newcomer') => server.request('POST', '/api/register', { body: { auth_key: authKey, hostname } });

describe('registration with a bad auth key is 401 and stores nothing', () => {
  const cases: Array<[string, () => Promise<string>]> = [
    ['an unknown, well-formed auth key', async () => fakeKey('auth')],
    ['a malformed auth key', async () => 'letmein'],
    ['a real key id with a wrong secret', async () => fakeKey('auth', keyIdOf(await org.authKey()))],
    ['a node key as an auth key', async () => machine.node_key],
    ['the key prefix only (as listed by GET auth_keys)', async () => {
      await org.authKey();
      return (await org.admin('GET', '/api/db/auth_keys')).body.data[0].key_prefix;
    }],
    [
      'a revoked key',
      async () => {
        const created = (await org.admin('POST', '/api/db/auth_keys', { description: 'to revoke' })).body.data[0];
        const revoked = await org.admin('PATCH', '/api/db/auth_keys', { _filters: { id: created.id }, revoked: true });
        expect(revoked.body.data[0].revoked).toBe(true);
        return created.key;
      },
    ],
    [
      'a key whose expires_at was set in the past',
      async () => {
        const created = (await org.admin('POST', '/api/db/auth_keys', { description: 'to expire' })).body.data[0];
        const past = new Date(server.clock.now().getTime() - 1_000).toISOString();
        expect((await org.admin('PATCH', '/api/db/auth_keys', { _filters: { id: created.id }, expires_at: past })).status).toBe(200);
        return created.key;
      },
    ],
    [
      'a key created already expired',
      async () => (await org.admin('POST', '/api/db/auth_keys', { expires_at: '2020-01-01T00:00:00Z' })).body.data[0].key,
    ],
    [
      'a key past its default lifetime (90 days)',
      async () => {
        const key = await org.authKey();
        server.clock.advance(91 * 24 * 3600 * 1000);
        return key;
      },
    ],
    [
      'a key past its explicit expires_at (the clock moved on)',
      async () => {
        const key = await org.authKey({ expires_at: new Date(server.clock.now().getTime() + 60_000).toISOString() });
        server.clock.advance(60_000);
        return key;
      },
    ],
  ];

  it.each(cases)('%s', async (_what, makeKey) => {
    const key = await makeKey();
    const result = await expectUnauthorized(() => register(key));
    expect(JSON.stringify(result.body)).not.toContain(key);
  });
});

describe('auth key lifecycle', () => {
  it('a key works until it is revoked, then 401', async () => {
    const created = (await org.admin('POST', '/api/db/auth_keys', { description: 'lifecycle' })).body.data[0];
    expect((await register(created.key, 'before-revocation')).status).toBe(200);
    expect((await org.admin('PATCH', '/api/db/auth_keys', { _filters: { id: created.id }, revoked: true })).status).toBe(200);
    await expectUnauthorized(() => register(created.key, 'after-revocation'));
    // Machines enrolled before the revocation keep their identity.
    expect((await org.admin('GET', '/api/db/machines?hostname=eq.before-revocation')).body.data).toHaveLength(1);
  });

  it('a key works until its expires_at, then 401', async () => {
    const created = (await org.admin('POST', '/api/db/auth_keys', { expires_at: new Date(server.clock.now().getTime() + 3_600_000).toISOString() })).body.data[0];
    expect((await register(created.key, 'in-time')).status).toBe(200);
    expect((await org.admin('PATCH', '/api/db/auth_keys', { _filters: { id: created.id }, expires_at: new Date(server.clock.now().getTime() - 1).toISOString() })).status).toBe(200);
    await expectUnauthorized(() => register(created.key, 'too-late'));
  });

  it('a single-use key (reusable: false) works once, then 401', async () => {
    const created = (await org.admin('POST', '/api/db/auth_keys', { reusable: false })).body.data[0];
    expect(created.reusable).toBe(false);
    const first = await register(created.key, 'first');
    expect(first.status).toBe(200);
    await expectUnauthorized(() => register(created.key, 'second'));
    await expectUnauthorized(() => register(created.key, 'third'));
    const row = (await org.admin('GET', `/api/db/auth_keys?id=eq.${created.id}`)).body.data[0];
    expect(row.used_count).toBe(1);
  });

  it('a single-use key used by two registrations at once enrolls exactly one machine', async () => {
    const key = (await org.admin('POST', '/api/db/auth_keys', { reusable: false })).body.data[0].key;
    const before = await server.store.count('machines');
    const results = await Promise.all(['race-1', 'race-2', 'race-3'].map((hostname) => register(key, hostname)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401]);
    expect(await server.store.count('machines')).toBe(before + 1);
  });

  it('a reusable key enrolls several machines', async () => {
    const key = await org.authKey({ reusable: true });
    for (const hostname of ['r1', 'r2', 'r3']) expect((await register(key, hostname)).status).toBe(200);
  });
});

// ---------------------------------------------------------------------------------------
// Secrets never leave the server.

describe('no response shows a key, a token or a key hash', () => {
  it('GET on every table shows no hash and no key; the key appears once, in the POST that created it', async () => {
    const created = await org.admin('POST', '/api/db/auth_keys', { description: 'secret-check', reusable: false });
    expect(created.status).toBe(200);
    const authKey: string = created.body.data[0].key;
    expect(authKey).toMatch(/^ztna_auth_/);
    expect(JSON.stringify(created.body)).not.toMatch(/hash/i);
    const enrolled = (await register(authKey, 'secretive')).body;
    const secrets = [authKey, enrolled.node_key, machine.node_key, org.token, sha256(authKey), sha256(enrolled.node_key), sha256(machine.node_key)];
    // The secret halves alone must not show either.
    for (const key of [authKey, enrolled.node_key, machine.node_key]) secrets.push(key.split('_').slice(3).join('_'));

    for (const table of ['machines', 'auth_keys', 'audit_log', 'posture_reports', 'posture_policies', 'org_settings', 'agent_commands', 'acl_rules']) {
      const result = await org.admin('GET', `/api/db/${table}`);
      expect(result.status).toBe(200);
      const text = JSON.stringify(result.body);
      expect(text, `${table} mentions a hash`).not.toMatch(/hash/i);
      expect(text, `${table} has a node_key field`).not.toContain('node_key"');
      for (const secret of secrets) expect(text, `${table} shows a secret`).not.toContain(secret);
    }
    // Hash columns cannot be asked for either.
    for (const path of ['/api/db/machines?select=node_key_hash', '/api/db/auth_keys?select=key_hash', '/api/db/auth_keys?select=id,key_hash', '/api/db/machines?order=node_key_hash.asc']) {
      const result = await org.admin('GET', path);
      expect(result.status, path).toBe(400);
      for (const secret of secrets) expect(JSON.stringify(result.body)).not.toContain(secret);
    }
    // A PATCH answer is a listing too.
    const patched = await org.admin('PATCH', '/api/db/auth_keys', { _filters: { description: 'secret-check' }, description: 'renamed' });
    expect(patched.status).toBe(200);
    expect(JSON.stringify(patched.body)).not.toMatch(/hash/i);
    for (const secret of secrets) expect(JSON.stringify(patched.body)).not.toContain(secret);
  });

  it('the register answer carries the node key but never the auth key or a hash', async () => {
    const key = await org.authKey();
    const result = await register(key, 'answer-check');
    expect(result.status).toBe(200);
    expect(result.body.node_key).toMatch(/^ztna_node_/);
    const text = JSON.stringify(result.body);
    expect(text).not.toContain(key);
    expect(text).not.toMatch(/hash/i);
  });
});

describe('/healthz and /metrics', () => {
  it('need no auth', async () => {
    const health = await server.request('GET', '/healthz');
    expect(health.status).toBe(200);
    const metrics = await server.request('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(String(metrics.body)).toContain('ztna_http_requests_total');
  });

  it('/metrics never shows a key or a token used against the server', async () => {
    const authKey = await org.authKey();
    const enrolled = (await register(authKey, 'metrics-host')).body;
    const forged = `${b64url({ alg: 'none' })}.${b64url({ org_id: org.orgId })}.`;
    await server.request('GET', '/api/db/machines', { token: forged });
    await server.request('GET', `/api/db/machines?hostname=${encodeURIComponent(authKey)}`, { token: org.token });
    await server.request('POST', '/api/register', { body: { auth_key: fakeKey('auth'), hostname: 'x' } });
    await server.heartbeat(enrolled.node_key);
    await server.heartbeat(fakeKey('node'));
    await server.report(`${machine.node_key}x`);
    const text = String((await server.request('GET', '/metrics')).body);
    expect(text).toContain('ztna_http_requests_total');
    for (const secret of [authKey, enrolled.node_key, machine.node_key, org.token, forged, sha256(authKey), sha256(enrolled.node_key), sha256(machine.node_key)]) {
      expect(text).not.toContain(secret);
    }
  });
});
