/**
 * The server terminates TLS itself (`ztna-server serve --tls-cert FILE --tls-key FILE`)
 * and the agent verifies it:
 * - a throw-away CA and a server certificate for IP 127.0.0.1 are made with openssl (run
 *   through the command runner) in a temporary directory; without /usr/bin/openssl the
 *   suite is skipped LOUDLY (node:crypto cannot issue X.509 certificates);
 * - the server prints `listening on https://127.0.0.1:PORT` and answers only TLS;
 * - `ztna up --server https://127.0.0.1:PORT` works when the agent trusts the CA through
 *   NODE_EXTRA_CA_CERTS (read by Node at start-up for node:https, which the agent uses),
 *   and so do `ztna status` and the daemon;
 * - without the CA, or with a certificate for another name, the agent refuses with exit 2
 *   and an error saying the certificate does not verify (and how to trust a private CA),
 *   and writes nothing;
 * - unreadable, malformed or mismatched files make `serve` exit 2 with a clear message,
 *   before it creates its data directory.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processes, waitFor } from './processes.ts';
import type { adminClient } from './processes.ts';

const OPENSSL = '/usr/bin/openssl';
const haveOpenssl = existsSync(OPENSSL);
if (!haveOpenssl) {
  process.stderr.write(`\n*** TLS suite SKIPPED: ${OPENSSL} not found; install openssl to run test/security/tls.test.ts.\n\n`);
}

const procs = processes('tls');
const file = (name: string) => join(procs.work, name);

async function openssl(...args: string[]): Promise<void> {
  const result = await procs.run('openssl', args);
  if (result.exitCode !== 0) throw new Error(`openssl ${args.join(' ')}: ${result.stderr || result.failureMessage}`);
}

/** A CA, a certificate for IP 127.0.0.1 signed by it, and one for another name. */
async function makeCertificates(): Promise<void> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await openssl('req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '2', '-subj', '/CN=ztna throw-away test CA');
  for (const [name, san] of [['server', 'IP:127.0.0.1'], ['wrong-name', 'DNS:not-this-host.example']] as const) {
    writeFileSync(file(`${name}.ext`), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n`);
    await openssl('req', ...ec, '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`), '-subj', `/CN=${name}`);
    await openssl('x509', '-req', '-in', file(`${name}.csr`), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-set_serial', name === 'server' ? '2' : '3', '-days', '2', '-extfile', file(`${name}.ext`), '-out', file(`${name}.pem`));
  }
}

let url = '';
let port = 0;
let admin: ReturnType<typeof adminClient>;
let authKey = '';
const trusted = () => ({ NODE_EXTRA_CA_CERTS: file('ca.pem') });

beforeAll(async () => {
  if (!haveOpenssl) return;
  await makeCertificates();
  ({ url, port } = await procs.serve(['--data', file('data'), '--log-level', 'warn', '--tls-cert', file('server.pem'), '--tls-key', file('server.key')]));
  const boot = JSON.parse((await procs.run('ztna-server', ['bootstrap', '--data', file('data'), '--json'])).stdout);
  // The test process trusts the CA per request (fetch has no per-call CA option; node:https does).
  admin = async (method, path, body) => {
    const { request } = await import('node:https');
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(`${url}${path}`, { method, ca: readFileSync(file('ca.pem')), headers: { authorization: `Bearer ${boot.admin_token}`, ...(payload ? { 'content-type': 'application/json' } : {}) } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), text }));
      });
      req.on('error', reject);
      req.end(payload);
    });
  };
  authKey = (await admin('POST', '/api/db/auth_keys', { description: 'tls' })).body.data[0].key;
}, 120_000);
afterAll(() => procs.stopAll());

describe.runIf(haveOpenssl && process.platform !== 'win32')('TLS: serve --tls-cert/--tls-key and the agent', () => {
  it('the server prints an https:// address and speaks only TLS', async () => {
    expect(url).toBe(`https://127.0.0.1:${port}`);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5_000) })).rejects.toThrow();
    // Node's own CA store does not know the throw-away CA.
    await expect(fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) })).rejects.toThrow();
    expect((await admin('GET', '/api/db/machines')).status).toBe(200);
  });

  it('ztna up, status and the daemon work when the agent trusts the CA through NODE_EXTRA_CA_CERTS', async () => {
    const env = { ...trusted(), ZTNA_CONFIG_DIR: file('agent-trusted') };
    const up = await procs.run('ztna', ['up', '--server', url, '--auth-key', authKey, '--hostname', 'tls-box', '--json'], env);
    expect(up.exitCode, up.stderr).toBe(0);
    const enrolled = JSON.parse(up.stdout);
    expect(enrolled).toMatchObject({ hostname: 'tls-box', server_url: url });
    const status = await procs.run('ztna', ['status', '--json'], env);
    expect(JSON.parse(status.stdout)).toMatchObject({ enrolled: true, server_reachable: true, machine_id: enrolled.machine_id });
    const daemon = await procs.start('ztna', ['daemon', '--local-check-interval', '60'], env);
    const before = Date.parse((await admin('GET', `/api/db/machines?id=eq.${enrolled.machine_id}`)).body.data[0].last_seen);
    await waitFor('the daemon to connect over TLS', async () => (/state \w+ → CONNECTED/.test(daemon.output.stderr) ? true : undefined));
    await waitFor('its heartbeat to reach the server', async () => {
      const row = (await admin('GET', `/api/db/machines?id=eq.${enrolled.machine_id}`)).body.data[0];
      return Date.parse(row.last_seen) > before ? row : undefined;
    });
    expect(daemon.output.stderr).not.toMatch(/does not verify|heartbeat failed/);
    expect(await daemon.stop('SIGTERM')).toBe(0);
  });

  it('without the CA the agent refuses the server: exit 2, why, and how to trust a private CA; nothing written', async () => {
    const configDir = file('agent-untrusted');
    const up = await procs.run('ztna', ['up', '--server', url, '--auth-key', authKey, '--hostname', 'untrusted', '--json'], { ZTNA_CONFIG_DIR: configDir });
    expect(up.exitCode).toBe(2);
    expect(up.stderr).toMatch(/refusing https:\/\/127\.0\.0\.1:\d+: its TLS certificate does not verify \(UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    expect(up.stderr).toMatch(/NODE_EXTRA_CA_CERTS/);
    expect(up.stderr).not.toMatch(/is the server running/);
    expect(up.stderr).not.toContain(authKey);
    expect(existsSync(configDir)).toBe(false);
    expect((await admin('GET', '/api/db/machines?hostname=eq.untrusted')).body.data).toEqual([]);
  });

  it('a certificate for another name is refused even when its CA is trusted', async () => {
    const other = await procs.serve(['--data', file('data-wrong-name'), '--log-level', 'warn', '--tls-cert', file('wrong-name.pem'), '--tls-key', file('wrong-name.key')]);
    const configDir = file('agent-wrong-name');
    const up = await procs.run('ztna', ['up', '--server', other.url, '--auth-key', authKey, '--json'], { ...trusted(), ZTNA_CONFIG_DIR: configDir });
    expect(up.exitCode).toBe(2);
    expect(up.stderr).toMatch(/its TLS certificate does not verify \(ERR_TLS_CERT_ALTNAME_INVALID/);
    expect(up.stderr).toMatch(/valid for this name/);
    expect(existsSync(configDir)).toBe(false);
    expect(await other.process.stop('SIGTERM')).toBe(0);
  });

  const BAD_FILES: Array<[string, () => string[], RegExp]> = [
    ['a missing certificate file', () => ['--tls-cert', file('nope.pem'), '--tls-key', file('server.key')], /--tls-cert: cannot read .*nope\.pem \(ENOENT\)/],
    ['a directory as the key', () => ['--tls-cert', file('server.pem'), '--tls-key', procs.work], /--tls-key: cannot read .* \(EISDIR\)/],
    ['a key as the certificate', () => ['--tls-cert', file('server.key'), '--tls-key', file('server.key')], /--tls-cert: .*server\.key does not hold a PEM certificate/],
    ['a certificate as the key', () => ['--tls-cert', file('server.pem'), '--tls-key', file('server.pem')], /--tls-key: .*server\.pem does not hold an unencrypted PEM private key/],
    ['the key of another certificate', () => ['--tls-cert', file('server.pem'), '--tls-key', file('wrong-name.key')], /--tls-key: .*wrong-name\.key is not the private key of the certificate in .*server\.pem/],
    ['a certificate without a key', () => ['--tls-cert', file('server.pem')], /--tls-cert and --tls-key go together/],
    ['a key without a certificate', () => ['--tls-key', file('server.key')], /--tls-cert and --tls-key go together/],
  ];

  it.each(BAD_FILES)('%s: serve exits 2 with a clear message and creates nothing', async (_what, args, message) => {
    const data = file(`data-bad-${Math.random().toString(36).slice(2)}`);
    const result = await procs.run('ztna-server', ['serve', '--listen', '127.0.0.1:0', '--data', data, ...args()]);
    expect(result.exitCode, result.stdout).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(result.stderr).not.toMatch(/BEGIN/); // never the files' contents
    expect(result.stdout).not.toMatch(/listening/);
    expect(existsSync(data)).toBe(false);
  });
});
