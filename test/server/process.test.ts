/** The real `bin/ztna-server` process: serve, bootstrap while serving, clean SIGTERM shutdown. */
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningProcess } from '../../src/platform/command-runner.ts';
import { serverRunner } from '../support/cli.ts';

const runner = serverRunner();
let running: RunningProcess | undefined;
afterEach(async () => {
  await running?.stop('SIGKILL');
  running = undefined;
});

describe.runIf(process.platform !== 'win32')('bin/ztna-server', () => {
  it('serves, answers bootstrap tokens minted while it runs, and exits 0 on SIGTERM', async () => {
    const data = mkdtempSync(join(tmpdir(), 'ztna-server-'));
    running = await runner.start('ztna-server', ['serve', '--listen', '127.0.0.1:0', '--data', data, '--log-level', 'warn']);
    const [, url] = await running.waitForLine(/^listening on (http:\/\/127\.0\.0\.1:\d+)$/);
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
    const boot = await runner.run('ztna-server', ['bootstrap', '--data', data, '--org', 'acme', '--json']);
    expect(boot.exitCode).toBe(0);
    const { org_id, admin_token } = JSON.parse(boot.stdout);
    const again = JSON.parse((await runner.run('ztna-server', ['bootstrap', '--data', data, '--org', 'acme', '--json'])).stdout);
    expect(again.org_id).toBe(org_id);
    expect(again.admin_token).not.toBe(admin_token);
    const settings = await fetch(`${url}/api/db/org_settings`, { headers: { authorization: `Bearer ${again.admin_token}` } });
    expect(((await settings.json()) as any).data[0]).toMatchObject({ org_id, posture_enforcement: 'disabled', heartbeat_interval_s: 30, quarantine_poll_s: 60, offline_after_s: 120 });
    expect(statSync(join(data, 'jwt-secret')).mode & 0o777).toBe(0o600);
    expect(statSync(join(data, 'ztna.db')).mode & 0o777).toBe(0o600);
    expect(statSync(data).mode & 0o777).toBe(0o700);
    expect(await running.stop('SIGTERM')).toBe(0);
    expect(running.output.stderr).not.toMatch(/error/i);
  });

  it('refuses a bad --listen and a port in use with exit 2 and a message', async () => {
    const bad = await runner.run('ztna-server', ['serve', '--listen', 'localhost']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/--listen: expected HOST:PORT/);
    const data = mkdtempSync(join(tmpdir(), 'ztna-server-'));
    running = await runner.start('ztna-server', ['serve', '--listen', '127.0.0.1:0', '--data', data, '--log-level', 'warn']);
    const [, port] = await running.waitForLine(/^listening on http:\/\/127\.0\.0\.1:(\d+)$/);
    const clash = await runner.run('ztna-server', ['serve', '--listen', `127.0.0.1:${port}`, '--data', data]);
    expect(clash.exitCode).toBe(2);
    expect(clash.stderr).toMatch(/already in use/);
  });
});
