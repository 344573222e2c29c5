/**
 * A hostile (or compromised) server cannot rewrite the terminal of a person running `ztna`
 * (SPEC 7.1: "the CLI escapes every server-supplied string it prints"). A fake server on
 * 127.0.0.1 answers every agent route with strings full of terminal escape sequences (ESC,
 * BEL, C1 CSI), bidi overrides, zero-width and separator characters; the real CLI prints
 * them in every command, human and --json, and on the error path. No unsafe character may
 * reach stdout or stderr — only their visible escapes (`\u{1b}`).
 *
 * Before the fix, `ztna peers` printed a peer's hostname raw: `\x1b]0;…\x07` retitled the
 * terminal and U+202E reversed the rest of the line.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processes } from './processes.ts';

const procs = processes('hostile-server');
const agentEnv = { ZTNA_CONFIG_DIR: join(procs.work, 'agent') };

const EVIL = 'evil\u001b]0;pwned\u0007\u001b[2J\u009b31m\u202etxt.exe\u200b\u2028\u0085end';
/** What must never appear in anything the CLI prints (newline and tab are its own layout). */
const UNSAFE_OUTPUT_PATTERN = '[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f\\p{Cf}\\u2028\\u2029]';
const UNSAFE_OUTPUT = new RegExp(UNSAFE_OUTPUT_PATTERN, 'u');

const intervals = { heartbeat_interval_s: 30, posture_interval_s: 300, quarantine_poll_s: 60 };
let server: Server;
let url = '';

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const send = (status: number, value: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(value));
      };
      const wanted = JSON.parse(body || '{}') as { auth_key?: string };
      switch (request.url) {
        case '/api/register':
          if (wanted.auth_key === 'refuse-me') return send(403, { success: false, error: { code: `forbidden${EVIL}`, message: `no ${EVIL}` } });
          return send(200, { machine_id: '6f0c2a1e-0000-4000-8000-000000000001', node_key: 'ztna_node_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', status: `online${EVIL}`, hostname: EVIL, ...intervals });
        case '/api/posture-report':
          return send(200, { compliant: false, violations: [`firewall_required${EVIL}`], quarantined: false, mode: `enforce${EVIL}`, status: `online${EVIL}` });
        case '/api/machine-heartbeat':
          return send(200, {
            status: `online${EVIL}`,
            quarantined: false,
            mode: `enforce${EVIL}`,
            peers_version: 1,
            pending_commands: [],
            peers: [{ id: `id${EVIL}`, hostname: EVIL, os: `linux${EVIL}`, tags: [`tag${EVIL}`], online: true, last_seen: null }],
            ...intervals,
          });
        default:
          return send(404, { success: false, error: { code: 'not_found', message: `no ${EVIL}` } });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}, 30_000);

afterAll(async () => {
  await procs.stopAll();
  await new Promise((resolve) => server.close(resolve));
});

function expectClean(what: string, text: string): void {
  const match = UNSAFE_OUTPUT.exec(text);
  expect(match, `${what} printed U+${match?.[0].codePointAt(0)?.toString(16)} at ${match?.index}: ${JSON.stringify(text.slice(Math.max(0, (match?.index ?? 0) - 20), (match?.index ?? 0) + 20))}`).toBeNull();
}

describe.runIf(process.platform !== 'win32')('the CLI against a server that sends terminal escapes', () => {
  it('a refused enrollment prints the server\'s message escaped', async () => {
    const refused = await procs.run('ztna', ['up', '--server', url, '--auth-key', 'refuse-me'], { ZTNA_CONFIG_DIR: join(procs.work, 'refused') });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('\\u{1b}]0;pwned');
    expectClean('up (refused) stderr', refused.stderr);
    expectClean('up (refused) stdout', refused.stdout);
  });

  it('up, peers, status and posture status print every server string escaped, human and --json', async () => {
    const up = await procs.run('ztna', ['up', '--server', url, '--auth-key', 'k'], agentEnv);
    expect(up.exitCode, up.stderr).toBe(0);
    const runs = [
      up,
      await procs.run('ztna', ['peers'], agentEnv),
      await procs.run('ztna', ['peers', '--json'], agentEnv),
      await procs.run('ztna', ['status'], agentEnv),
      await procs.run('ztna', ['status', '--json'], agentEnv),
      await procs.run('ztna', ['posture', 'status'], agentEnv),
      await procs.run('ztna', ['posture', 'status', '--json'], agentEnv),
    ];
    for (const run of runs) {
      expectClean(`${run.argv.slice(-2).join(' ')} stdout`, run.stdout);
      expectClean(`${run.argv.slice(-2).join(' ')} stderr`, run.stderr);
    }
    const peers = runs[1];
    expect(peers?.stdout).toContain('evil\\u{1b}]0;pwned\\u{7}');
    const json = JSON.parse(runs[2]?.stdout ?? '');
    expect(json.peers[0].hostname).toBe('evil\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\u{9b}31m\\u{202e}txt.exe\\u{200b}\\u{2028}\\u{85}end');
  }, 60_000);
});
