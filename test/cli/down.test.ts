/**
 * `ztna down` when the server cannot be reached (SPEC 7.1): it says so — the machine stays
 * listed there until an admin deletes it — and still forgets the key locally (exit 0).
 * (With a reachable server, test/e2e/agent-server.test.ts checks that the machine is gone.)
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cliRunner } from '../support/cli.ts';

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return typeof address === 'object' && address ? address.port : 9;
}

function enrolledDir(serverUrl: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'ztna-down-')), 'agent');
  mkdirSync(dir, { mode: 0o700 });
  const enrollment = { server_url: serverUrl, machine_id: '6f0c2a1e-0000-4000-8000-00000000abcd', node_key: `ztna_node_0123456789abcdef_${'B'.repeat(43)}`, hostname: 'box', enrolled_at: '2026-11-30T10:00:00.000Z' };
  writeFileSync(join(dir, 'enrollment.json'), JSON.stringify(enrollment), { mode: 0o600 });
  return dir;
}

describe.runIf(process.platform !== 'win32')('ztna down without a reachable server', () => {
  it('--json: not deregistered, server unreachable, enrollment forgotten, exit 0', async () => {
    const dir = enrolledDir(`http://127.0.0.1:${await closedPort()}`);
    const result = await cliRunner({ ZTNA_CONFIG_DIR: dir })('down', '--json');
    expect(result.exitCode, result.stderr).toBe(0);
    const output = JSON.parse(result.stdout);
    expect(output).toMatchObject({ was_enrolled: true, deregistered: false, server_reachable: false, machine_id: '6f0c2a1e-0000-4000-8000-00000000abcd' });
    expect(output.note).toMatch(/stays listed on that server until an admin deletes it/);
    expect(existsSync(join(dir, 'enrollment.json'))).toBe(false);
  });

  it('human output warns on stderr', async () => {
    const dir = enrolledDir(`http://127.0.0.1:${await closedPort()}`);
    const result = await cliRunner({ ZTNA_CONFIG_DIR: dir, NO_COLOR: '1' })('down');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^forgot the enrollment in /);
    expect(result.stderr).toMatch(/^ztna: warning: cannot reach http:\/\/127\.0\.0\.1:\d+ .*until an admin deletes it/);
  });
});
