/**
 * The agent refuses to send keys in clear text over a network: `ztna up` accepts https://
 * anywhere and plain http:// only to this machine (localhost, 127.x, [::1]). Anything
 * else is refused with exit 2 and a message that says why and what to do, before any
 * request is made and before anything is written. `--allow-insecure-http` is the explicit
 * opt-in (documented in `ztna up --help`); it warns on stderr.
 *
 * The opt-in is exercised with http://[::ffff:127.0.0.1]:PORT — an IPv4-mapped IPv6
 * address that is not one of the loopback spellings the agent accepts on its own, yet
 * still reaches the test server on 127.0.0.1, so no traffic leaves this machine.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClient, processes } from './processes.ts';

const procs = processes('server-url');
let url = '';
let port = 0;
let admin: ReturnType<typeof adminClient>;
let authKey = '';

beforeAll(async () => {
  ({ url, port } = await procs.serve(['--data', join(procs.work, 'data'), '--log-level', 'warn']));
  const boot = JSON.parse((await procs.run('ztna-server', ['bootstrap', '--data', join(procs.work, 'data'), '--json'])).stdout);
  admin = adminClient(url, boot.admin_token);
  authKey = (await admin('POST', '/api/db/auth_keys', { description: 'server-url' })).body.data[0].key;
}, 90_000);
afterAll(() => procs.stopAll());

const machines = async () => (await admin('GET', '/api/db/machines')).body.data as Array<{ hostname: string }>;

describe.runIf(process.platform !== 'win32')('ztna up and the server URL', () => {
  const REFUSED: Array<[string, () => string, RegExp]> = [
    ['plain http to a private address', () => 'http://10.0.0.1:8787', /plain http is only allowed to this machine.*--allow-insecure-http/s],
    ['plain http to a name', () => 'http://ztna.example.com', /plain http is only allowed to this machine.*https:\/\/ztna\.example\.com/s],
    ['plain http to 0.0.0.0 (not a loopback name)', () => `http://0.0.0.0:${port}`, /plain http is only allowed/],
    ['plain http to an IPv4-mapped address of this machine', () => `http://[::ffff:127.0.0.1]:${port}`, /plain http is only allowed/],
    ['another scheme', () => `ftp://127.0.0.1:${port}`, /use an https:\/\/ URL/],
    ['credentials in the URL', () => `https://admin:secret@127.0.0.1:${port}`, /credentials do not belong in the URL/],
    ['not a URL', () => 'ztna.example.com', /is not a URL/],
  ];

  it.each(REFUSED)('%s: exit 2, a clear error, no request made, nothing written', async (_what, server, message) => {
    const configDir = join(procs.work, `refused-${Math.random().toString(36).slice(2)}`);
    const before = (await machines()).length;
    const result = await procs.run('ztna', ['up', '--server', server(), '--auth-key', authKey, '--hostname', 'refused', '--json'], { ZTNA_CONFIG_DIR: configDir });
    expect(result.exitCode, result.stderr).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { code: 'usage', message: expect.stringMatching(message) } });
    expect(result.stderr).not.toContain(authKey);
    expect(existsSync(configDir), 'the config directory was created').toBe(false);
    expect((await machines()).length).toBe(before);
  });

  it('--help documents the opt-in and says what it costs', async () => {
    const help = await procs.run('ztna', ['up', '--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/--allow-insecure-http\s+allow a plain http:\/\/ server that is not on\s+this\s+machine/);
    expect(help.stdout).toMatch(/UNENCRYPTED/);
    expect(help.stdout).toMatch(/NODE_EXTRA_CA_CERTS/);
  });

  it('loopback needs no opt-in (control)', async () => {
    const configDir = join(procs.work, 'loopback');
    const result = await procs.run('ztna', ['up', '--server', url, '--auth-key', authKey, '--hostname', 'loopback', '--json'], { ZTNA_CONFIG_DIR: configDir });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/warning/);
    expect(JSON.parse(result.stdout)).toMatchObject({ hostname: 'loopback', server_url: url });
  });

  it('--allow-insecure-http enrolls over plain http, with a warning, and the other commands use that server', async () => {
    const configDir = join(procs.work, 'opt-in');
    const insecure = `http://[::ffff:127.0.0.1]:${port}`;
    const result = await procs.run('ztna', ['up', '--server', insecure, '--allow-insecure-http', '--auth-key', authKey, '--hostname', 'opted-in', '--json'], { ZTNA_CONFIG_DIR: configDir });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/warning: --allow-insecure-http: the auth key and the node key will cross the network to .* unencrypted/);
    const enrolled = JSON.parse(result.stdout);
    expect(enrolled).toMatchObject({ hostname: 'opted-in', server_url: `http://[::ffff:7f00:1]:${port}` });
    expect((await machines()).map((m) => m.hostname)).toContain('opted-in');
    expect(JSON.parse(readFileSync(join(configDir, 'enrollment.json'), 'utf8')).server_url).toBe(`http://[::ffff:7f00:1]:${port}`);
    const status = await procs.run('ztna', ['status', '--json'], { ZTNA_CONFIG_DIR: configDir });
    expect(status.exitCode, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ enrolled: true, server_reachable: true, machine_id: enrolled.machine_id });
    expect(readdirSync(configDir).sort()).toEqual(['enrollment.json']);
  });
});
