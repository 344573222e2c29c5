/**
 * `service install` refuses a program that a non-root user could change (SPEC 7.1 /
 * issue 12): the services run as root (the agent) or start as root (the server), so a
 * bundle in a user-writable directory would be a way to root. Real runs of the bundle,
 * `--dry-run` (which refuses the same way and changes nothing). Before, both commands
 * printed a unit that ran the writable copy.
 */
import { chmodSync, chownSync, cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCommandRunner } from '../../src/platform/command-runner.ts';
import { ROOT } from '../support/cli.ts';

const node = join(ROOT, 'node_modules/node/bin/node');

/** A copy of dist/bundle that others can change: owned by uid 1000 when we are root, else world-writable. */
function writableCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ztna-writable-'));
  cpSync(join(ROOT, 'dist/bundle'), join(dir, 'bundle'), { recursive: true });
  if (process.geteuid?.() === 0) chownSync(join(dir, 'bundle'), 1000, 1000);
  else chmodSync(join(dir, 'bundle'), 0o777);
  return join(dir, 'bundle');
}

function runner() {
  return createCommandRunner({
    platform: process.platform,
    env: { ...process.env, NO_COLOR: '1', ZTNA_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'ztna-svc-')) },
    allowList: { node: { paths: { [process.platform]: [node] }, timeoutMs: 60_000 } },
  });
}

describe.runIf(process.platform === 'linux')('service install and the ownership of the program', () => {
  it('refuses an agent or server bundle another user can change, saying which path and what to do', async () => {
    const bundle = writableCopy();
    const run = runner();
    const agent = await run.run('node', [join(bundle, 'ztna.js'), 'service', 'install', '--dry-run']);
    expect(agent.exitCode).toBe(2);
    expect(agent.stderr).toMatch(/refusing to install a service that runs as root from a program other users can change: .*ztna-writable-[^/]+\/bundle (belongs to uid 1000, not root|is writable by every user).*install -o root -g root -m 0755/s);
    const server = await run.run('node', [join(bundle, 'ztna-server.js'), 'service', 'install', '--data', '/var/lib/ztna-server-test', '--dry-run']);
    expect(server.exitCode).toBe(2);
    expect(server.stderr).toMatch(/refusing to install a service that runs as root/);
  });

  it.runIf(process.geteuid?.() === 0)('accepts the root-owned checkout (dry run)', async () => {
    const run = runner();
    const server = await run.run('node', [join(ROOT, 'dist/bundle/ztna-server.js'), 'service', 'install', '--data', '/var/lib/ztna-server-test', '--dry-run', '--json']);
    expect(server.exitCode, server.stderr).toBe(0);
    expect(JSON.parse(server.stdout).content).toMatch(/^User=ztna-server$/m);
  });
});
