/**
 * No key, token or secret in logs, errors or /metrics (issue 7; Headscale's
 * CVE-2023-47390 wrote bearer tokens into its logs). A real server (`serve --log-level
 * trace`, JWT secret from ZTNA_JWT_SECRET) and the real agent (`up`, `posture status`,
 * `status`, `peers`, `remediate`, `daemon`, `down`) run with known secrets, through
 * successful and failing requests: wrong keys and tokens, tokens in `?token=`, malformed
 * and oversized bodies that carry a key, bad URLs, a deleted machine's key, a refused
 * server URL, a database URL with a password. Everything is captured — every process's
 * stdout and stderr, every HTTP response body, /metrics, the realtime messages, the
 * agent's `--json` outputs and its config directory files other than the 0600
 * enrollment file — and searched for every secret and its distinctive parts (the secret
 * half of `ztna_<kind>_<id>_<secret>`, a JWT's signature, the SHA-256 a key is stored
 * as, the JWT secret in hex and base64). The suite prints
 * `secret-scan: N secrets, M bytes of output scanned, 0 found`.
 *
 * The few places where a secret is *meant* to appear are allowed by name: the admin token
 * in `bootstrap`'s stdout, an auth key in the response that created it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { adminClient, processes, waitFor } from './processes.ts';

const JWT_SECRET = randomBytes(36).toString('base64url');
const DB_PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const serverEnv = { ZTNA_JWT_SECRET: JWT_SECRET };
const procs = processes('secret-scan');
afterAll(() => procs.stopAll());

interface Output {
  readonly source: string;
  readonly text: string;
  /** Secrets that legitimately appear in this output (by secret name). */
  readonly allowed?: readonly string[];
}

const outputs: Output[] = [];
const capture = (source: string, text: string, allowed: string[] = []) => outputs.push({ source, text, allowed });

interface Secret {
  readonly name: string;
  readonly needles: string[];
}

const secrets: Secret[] = [];
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A `ztna_<kind>_<id>_<secret>` key: the key, its secret half, and the SHA-256 it is stored as. */
function keySecret(name: string, key: string): void {
  expect(key).toMatch(/^ztna_(node|auth)_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
  secrets.push({ name, needles: [key, key.split('_').slice(3).join('_'), sha256(key)] });
}

/** A JWT: the token and its signature. */
function tokenSecret(name: string, token: string): void {
  secrets.push({ name, needles: [token, token.split('.')[2] as string] });
}

/** Everything a response said, kept for the scan. */
async function http(what: string, url: string, init: RequestInit = {}, allowed: string[] = []): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
  const text = await response.text();
  capture(`HTTP ${what} → ${response.status}`, `${JSON.stringify([...response.headers])}\n${text}`, allowed);
  return { status: response.status, text };
}

describe.runIf(process.platform === 'linux')('secret scan', () => {
  it('no secret appears in any output of a real server and agent', { timeout: 180_000 }, async () => {
    secrets.push({ name: 'JWT secret', needles: [JWT_SECRET, Buffer.from(JWT_SECRET).toString('hex'), Buffer.from(JWT_SECRET).toString('base64')] });
    secrets.push({ name: 'database password', needles: [DB_PASSWORD] });
    const data = join(procs.work, 'data');

    // The server, as verbose as it gets.
    const { url, process: server } = await procs.serve(['--data', data, '--log-level', 'trace'], serverEnv);
    const boot = await procs.run('ztna-server', ['bootstrap', '--data', data, '--json'], serverEnv);
    expect(boot.exitCode, boot.stderr).toBe(0);
    const { org_id: orgId, admin_token: adminToken } = JSON.parse(boot.stdout);
    expect(Object.keys(JSON.parse(boot.stdout)).sort()).toEqual(['admin_token', 'org_id']);
    tokenSecret('admin token', adminToken);
    const second = await procs.run('ztna-server', ['bootstrap', '--data', data, '--ttl', '600'], serverEnv);
    const queryToken = /^(ey[\w-]+\.[\w-]+\.[\w-]+)$/m.exec(second.stdout)?.[1] as string;
    expect(queryToken).toBeTruthy();
    tokenSecret('admin token used in ?token=', queryToken);
    // Its transcript (and the first's) may show their own tokens: that is what bootstrap is for.
    const bootstrapTranscripts = new Set([boot.stdout, second.stdout]);

    const log: Array<{ what: string; status: number; body: string }> = [];
    const admin = adminClient(url, adminToken, log);
    const created = await admin('POST', '/api/db/auth_keys', { description: 'scan' });
    const authKey = created.body.data[0].key as string;
    keySecret('auth key', authKey);
    const single = await admin('POST', '/api/db/auth_keys', { description: 'scan single-use', reusable: false });
    const singleKey = single.body.data[0].key as string;
    keySecret('single-use auth key', singleKey);
    await admin('PATCH', '/api/db/org_settings', { _filters: { org_id: orgId }, heartbeat_interval_s: 1, posture_interval_s: 2, quarantine_poll_s: 1, posture_enforcement: 'enforce', ai_operator_enabled: true, auto_remediate_encryption: true });
    await admin('POST', '/api/db/posture_policies', { require_disk_encryption: true });

    // Known-wrong credentials: they must not be echoed or logged either.
    const wrongNodeKey = `ztna_node_${randomBytes(8).toString('hex')}_${randomBytes(32).toString('base64url')}`;
    const wrongAuthKey = `ztna_auth_${randomBytes(8).toString('hex')}_${randomBytes(32).toString('base64url')}`;
    keySecret('wrong node key', wrongNodeKey);
    keySecret('wrong auth key', wrongAuthKey);
    const forged = await new SignJWT({ org_id: orgId, role: 'admin' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('ztna-server').setAudience('ztna-admin').setExpirationTime('1h').sign(randomBytes(32));
    tokenSecret('forged admin token', forged);

    // ---- The agent, enrolled with the auth key (first on the command line, then from the environment).
    const agentDir = join(procs.work, 'agent');
    const agent = (args: string[], env: NodeJS.ProcessEnv = {}) => procs.run('ztna', args, { ZTNA_CONFIG_DIR: agentDir, ...env });
    const up = await agent(['up', '--server', url, '--auth-key', authKey, '--hostname', 'scan-box', '--json']);
    expect(up.exitCode, up.stderr).toBe(0);
    const nodeKey = JSON.parse(readFileSync(join(agentDir, 'enrollment.json'), 'utf8')).node_key as string;
    keySecret('node key', nodeKey);
    const machineId = JSON.parse(up.stdout).machine_id as string;
    const otherDir = join(procs.work, 'agent-env');
    const upFromEnv = await procs.run('ztna', ['up', '--server', url, '--hostname', 'scan-env', '--json'], { ZTNA_CONFIG_DIR: otherDir, ZTNA_AUTH_KEY: singleKey });
    expect(upFromEnv.exitCode, upFromEnv.stderr).toBe(0);
    const otherNodeKey = JSON.parse(readFileSync(join(otherDir, 'enrollment.json'), 'utf8')).node_key as string;
    keySecret('second node key', otherNodeKey);

    expect((await agent(['posture', 'status', '--json'])).exitCode).toBe(1); // quarantined: no disk encryption here
    await agent(['posture', 'status']);
    await agent(['status', '--json']);
    await agent(['peers', '--json']);
    await agent(['peers']);
    const offered = JSON.parse((await agent(['remediate', '--json'])).stdout);
    const guide = offered.commands.find((command: { command: string }) => command.command === 'enable_disk_encryption');
    expect(guide, JSON.stringify(offered)).toBeTruthy();
    await agent(['remediate', guide.id, '--yes', '--json']); // a guide: reports "manual steps", changes nothing here

    // The daemon, at 1 s intervals, asked through its socket, then cut off by a deletion.
    const daemon = await procs.start('ztna', ['daemon', '--local-check-interval', '1'], { ZTNA_CONFIG_DIR: agentDir });
    await waitFor('the daemon to heartbeat and report', async () => (/QUARANTINE/.test(daemon.output.stderr) ? true : undefined));
    await agent(['status', '--json']);
    await agent(['posture', 'status', '--json']);
    for (const name of readdirSync(agentDir)) {
      const path = join(agentDir, name);
      if (name === 'enrollment.json' || !statSync(path).isFile()) continue;
      capture(`agent config file ${name}`, readFileSync(path, 'utf8'));
    }
    expect(readdirSync(agentDir)).toContain('state.json');
    await admin('DELETE', `/api/db/machines?id=eq.${machineId}`);
    await waitFor('the daemon to hear that its key is gone', async () => (/node key rejected/.test(daemon.output.stderr) ? true : undefined));
    expect(await daemon.stop('SIGTERM')).toBe(0);
    expect((await agent(['posture', 'status', '--json'])).exitCode).toBe(2); // the server does not know it any more
    await agent(['status', '--json']);
    await agent(['down', '--json']);

    // Failing agent commands that hold a key.
    const failDir = join(procs.work, 'agent-fail');
    expect((await procs.run('ztna', ['up', '--server', url, '--auth-key', wrongAuthKey, '--json'], { ZTNA_CONFIG_DIR: failDir })).exitCode).toBe(2);
    expect((await procs.run('ztna', ['up', '--server', url, '--json'], { ZTNA_CONFIG_DIR: failDir, ZTNA_AUTH_KEY: singleKey })).exitCode).toBe(2); // already used
    expect((await procs.run('ztna', ['up', '--server', 'http://10.0.0.1:8787', '--auth-key', authKey, '--json'], { ZTNA_CONFIG_DIR: failDir })).exitCode).toBe(2);
    expect((await procs.run('ztna', ['up', '--server', url, '--auth-key', `${authKey}x`], { ZTNA_CONFIG_DIR: failDir })).exitCode).toBe(2);
    expect(existsSync(join(failDir, 'enrollment.json'))).toBe(false);

    // ---- Failing HTTP requests that carry secrets in every place a client might put them.
    const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
    const requests: Array<[string, string, RequestInit]> = [
      ['register, wrong auth key', '/api/register', json({ auth_key: wrongAuthKey, hostname: 'x' })],
      ['register, auth key with an invalid field', '/api/register', json({ auth_key: authKey, hostname: 42 })],
      ['register, auth key too long', '/api/register', json({ auth_key: `${authKey}${'x'.repeat(300)}`, hostname: 'x' })],
      ['register, auth key as a number field', '/api/register', json({ auth_key: authKey, hostname: 'x', tags: [authKey] })],
      ['register, auth key in an unknown field', '/api/register', json({ auth_key: authKey, hostname: 'x', secret: authKey })],
      ['register, invalid JSON around the key', '/api/register', json(`{"auth_key": "${authKey}", "hostname": `)],
      ['heartbeat, wrong node key', '/api/machine-heartbeat', json({ node_key: wrongNodeKey })],
      ['heartbeat, a deleted machine\'s key', '/api/machine-heartbeat', json({ node_key: nodeKey })],
      ['heartbeat, valid key and an unknown field', '/api/machine-heartbeat', json({ node_key: otherNodeKey, status: 'online' })],
      ['heartbeat, valid key and a bad field', '/api/machine-heartbeat', json({ node_key: otherNodeKey, peers_version: otherNodeKey })],
      ['heartbeat, key as an array', '/api/machine-heartbeat', json({ node_key: [otherNodeKey] })],
      ['heartbeat, invalid JSON around the key', '/api/machine-heartbeat', json(`{"node_key": "${otherNodeKey}" x}`)],
      ['heartbeat, prototype pollution with the key', '/api/machine-heartbeat', json(`{"node_key": "${otherNodeKey}", "__proto__": {"a": 1}}`)],
      ['heartbeat, oversized body holding the key', '/api/machine-heartbeat', json({ node_key: otherNodeKey, pad: 'x'.repeat(70_000) })],
      ['heartbeat, key as text/plain', '/api/machine-heartbeat', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: otherNodeKey }],
      ['report, valid key and bad signals', '/api/posture-report', json({ node_key: otherNodeKey, os_version: 'x', disk_encrypted: 'yes' })],
      ['report, wrong node key', '/api/posture-report', json({ node_key: wrongNodeKey, os_version: 'x', disk_encrypted: true, firewall_enabled: true, antivirus_enabled: true, patch_age_days: 1 })],
      ['command result, valid key, unknown command', '/api/agent-commands/result', json({ node_key: otherNodeKey, id: 'nope', status: 'applied' })],
      ['admin, forged token', '/api/db/machines', bearer(forged)],
      ['admin, node key as bearer', '/api/db/machines', bearer(otherNodeKey)],
      ['admin, auth key as bearer', '/api/db/auth_keys', bearer(authKey)],
      ['admin, token as Basic credentials', '/api/db/machines', { headers: { authorization: `Basic ${Buffer.from(`admin:${adminToken}`).toString('base64')}` } }],
      ['admin, valid token, invalid body', '/api/db/auth_keys', { ...json({ expires_at: 'tomorrow', description: adminToken }), headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` } }],
      ['admin, valid token, key in a filter', `/api/db/machines?hostname=eq.${encodeURIComponent(authKey)}`, bearer(adminToken)],
      ['admin, valid token, key in an integer filter', `/api/db/machines?risk_score=eq.${encodeURIComponent(otherNodeKey)}`, bearer(adminToken)],
      ['realtime without upgrade, token in the query', `/api/realtime?token=${queryToken}`, {}],
      ['realtime without upgrade, forged token in the query', `/api/realtime?token=${forged}`, {}],
      ['bad percent-encoding with a token in the query', `/api/db/%E0%A4%A?token=${queryToken}`, {}],
      ['unknown route with a token in the query', `/api/nope?token=${queryToken}`, {}],
      ['unknown route with a key in the path', `/api/${otherNodeKey}`, {}],
    ];
    for (const [what, path, init] of requests) {
      const result = await http(what, `${url}${path}`, init);
      expect(result.status, `${what}: ${result.text}`).toBeLessThan(500);
      if (!what.includes('key in a filter')) expect(result.status, `${what}: ${result.text}`).toBeGreaterThanOrEqual(400);
    }

    // Realtime: a good ?token= subscription receives events; bad ones are refused.
    const events: string[] = [];
    const socket = new WebSocket(`${url.replace('http', 'ws')}/api/realtime?token=${queryToken}`);
    socket.on('message', (message) => events.push(String(message)));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const enrolled = await http('register (seen by realtime)', `${url}/api/register`, json({ auth_key: authKey, hostname: 'realtime-seen' }), ['third node key']);
    keySecret('third node key', JSON.parse(enrolled.text).node_key);
    await waitFor('the realtime event', async () => (events.some((event) => event.includes('realtime-seen')) ? true : undefined));
    socket.close();
    capture('realtime messages', events.join('\n'));
    for (const token of [forged, otherNodeKey, adminToken.slice(0, -2)]) {
      const refused = new WebSocket(`${url.replace('http', 'ws')}/api/realtime?token=${encodeURIComponent(token)}`);
      const status = await new Promise<number>((resolve) => {
        refused.once('unexpected-response', (_request, response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk));
          response.on('end', () => {
            capture(`realtime refused (${response.statusCode})`, body);
            resolve(response.statusCode ?? 0);
          });
        });
        refused.once('open', () => resolve(101));
      });
      expect(status).toBe(401);
    }

    // A password in --db is refused (argv is public); in ZTNA_DB_URL it is used, and an
    // unreachable database is named without it.
    const argv = await procs.run('ztna-server', ['migrate', '--db', `postgres://ztna:${DB_PASSWORD}@127.0.0.1:1/ztna`]);
    expect(argv.exitCode).toBe(2);
    expect(argv.stderr).toMatch(/--db: this URL carries a password.*ZTNA_DB_URL.*PGPASSWORD.*PGPASSFILE/s);
    const db = await procs.run('ztna-server', ['migrate'], { ZTNA_DB_URL: `postgres://ztna:${DB_PASSWORD}@127.0.0.1:1/ztna` });
    expect(db.exitCode).toBe(2);
    expect(db.stderr).toMatch(/cannot use PostgreSQL at postgres:\/\/…@127\.0\.0\.1:1\/ztna/);

    await http('metrics', `${url}/metrics`);
    await http('healthz', `${url}/healthz`);
    expect(await server.stop('SIGTERM')).toBe(0);

    // ---- The scan.
    for (const entry of log) capture(`HTTP ${entry.what} → ${entry.status}`, entry.body, entry.what === 'POST /api/db/auth_keys' ? ['auth key', 'single-use auth key'] : []);
    for (const transcript of procs.transcripts()) {
      const allowed = bootstrapTranscripts.has(transcript.stdout) ? ['admin token', 'admin token used in ?token='] : [];
      capture(`${transcript.argv.slice(1).join(' ').slice(-120)} (stdout)`, transcript.stdout, allowed);
      capture(`${transcript.argv.slice(1).join(' ').slice(-120)} (stderr)`, transcript.stderr);
    }
    // The scan looks where the secrets would be: the server wrote logs, the agent wrote JSON.
    expect(outputs.some((o) => o.source.includes('serve') && o.text.includes('"level":'))).toBe(true);
    expect(outputs.some((o) => o.source.includes('daemon') && o.text.includes('node key rejected'))).toBe(true);

    const found: string[] = [];
    let bytes = 0;
    for (const output of outputs) {
      bytes += Buffer.byteLength(output.text);
      for (const secret of secrets) {
        if (output.allowed?.includes(secret.name)) continue;
        for (const needle of secret.needles) {
          if (output.text.includes(needle)) found.push(`${secret.name} (${needle === secret.needles[0] ? 'whole' : 'part'}) in ${output.source}: …${output.text.slice(Math.max(0, output.text.indexOf(needle) - 80), output.text.indexOf(needle) + needle.length + 20)}…`);
        }
      }
    }
    // Self-check of the matcher: an output that holds a secret is reported.
    const control = secrets.find((secret) => secret.name === 'node key') as Secret;
    expect(control.needles.some((needle) => `log line ${nodeKey} end`.includes(needle))).toBe(true);

    process.stdout.write(`secret-scan: ${secrets.length} secrets, ${bytes} bytes of output scanned, ${found.length} found\n`);
    expect(found, found.join('\n\n')).toEqual([]);
    expect(secrets.length).toBeGreaterThanOrEqual(12);
    expect(outputs.length).toBeGreaterThan(50);
  });
});
