/**
 * `ztna bugreport` and `ztna posture status --local --replay` (issue 13): a bundle of every
 * observation the collectors made on this machine replays to the same report — here, and
 * on any other machine, since the replay needs nothing of the host — and it holds no
 * secret. A bundle recorded on another OS (built here from real captures) is evaluated with
 * that OS's collectors.
 */
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProbeLog } from '../../src/agent/probe-log.ts';
import { recordProbes, replayProbes } from '../../src/agent/probe-log.ts';
import type { CommandRunner } from '../../src/platform/command-runner.ts';
import type { FileSystem } from '../../src/platform/file-system.ts';
import { capture } from '../fakes/probe-context.ts';
import { cliRunner } from '../support/cli.ts';

const ztna = cliRunner({ NO_COLOR: '1' });
const work = mkdtempSync(join(tmpdir(), 'ztna-bugreport-'));

/** What must be equal between two reports of the same machine at the same time. */
const essence = (report: Record<string, any>) => ({
  signals: [report.os_version, report.disk_encrypted, report.firewall_enabled, report.antivirus_enabled, report.patch_age_days, report.platform, report.arch, report.hostname],
  evidence: Object.fromEntries(Object.entries(report.evidence).map(([signal, evidence]: [string, any]) => [signal, [evidence.method, evidence.reason, evidence.detail, JSON.stringify(evidence.facts)]])),
});

describe('ztna bugreport, then --replay', () => {
  it('on this machine: the replay gives the report the bundle recorded, and the one posture status --local gives', async () => {
    const bundle = join(work, 'this-machine');
    const written = await ztna('bugreport', '--output', bundle, '--json');
    expect(written.exitCode, written.stderr).toBe(0);
    expect(JSON.parse(written.stdout)).toMatchObject({ directory: bundle, files: ['probes.json', 'report.json', 'README.txt'] });
    expect(statSync(bundle).mode & 0o777).toBe(0o700);
    for (const file of readdirSync(bundle)) expect(statSync(join(bundle, file)).mode & 0o777, file).toBe(0o600);

    const replayed = await ztna('posture', 'status', '--local', '--replay', bundle, '--json');
    const local = await ztna('posture', 'status', '--local', '--json');
    expect(replayed.exitCode).toBe(local.exitCode);
    const recorded = JSON.parse(readFileSync(join(bundle, 'report.json'), 'utf8'));
    expect(essence(JSON.parse(replayed.stdout).report)).toEqual(essence(recorded));
    expect(essence(JSON.parse(replayed.stdout).report)).toEqual(essence(JSON.parse(local.stdout).report));
    expect(JSON.parse(replayed.stdout).report.collected_at).toBe(recorded.collected_at); // the recording's clock
  }, 60_000);

  it('refuses a non-empty --output, and a --replay that is missing, not JSON or not a bundle, with exit 2', async () => {
    const full = join(work, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'x'), 'x');
    expect((await ztna('bugreport', '--output', full)).stderr).toMatch(/exists and is not empty/);
    writeFileSync(join(work, 'not.json'), 'nope');
    writeFileSync(join(work, 'other.json'), '{"version": 1}');
    for (const [path, message] of [
      [join(work, 'missing'), /does not exist/],
      [join(work, 'not.json'), /is not JSON/],
      [join(work, 'other.json'), /is not a ztna probe log/],
    ] as const) {
      const result = await ztna('posture', 'status', '--replay', path);
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toMatch(message);
    }
  });
});

describe('redaction', () => {
  const nodeKey = `ztna_node_0123456789abcdef_${'S'.repeat(43)}`;
  const authKey = `ztna_auth_fedcba9876543210_${'T'.repeat(43)}`;
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJvcmdfaWQiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl';

  it('no key or token reaches the log, whether a command printed it, a file held it or a variable carried it', async () => {
    const runner: CommandRunner = {
      run: async (command, args) => ({ argv: [`/usr/bin/${command}`, ...args, authKey], exitCode: 0, stdout: `key ${nodeKey}\n`, stderr: `token ${jwt}`, durationMs: 1 }),
      start: async () => {
        throw new Error('not used');
      },
      resolve: async (command) => `/usr/bin/${command}`,
    };
    const fileSystem: FileSystem = {
      read: async (path) => ({ ok: true, path, data: Buffer.from(`NODE_KEY=${nodeKey}\n`), mtimeMs: 0 }),
      list: async (path) => ({ ok: true, path, entries: ['a'] }),
      stat: async () => ({ exists: true, isDirectory: false, mtimeMs: 0 }),
    };
    const recorder = recordProbes(runner, fileSystem, () => `Bearer ${jwt}`);
    await recorder.runner.run('nft', ['-j', 'list', 'ruleset']);
    await recorder.fileSystem.read('/etc/some.conf');
    recorder.env('SOME_TOKEN');
    const text = JSON.stringify(recorder.log({ recorded_at: '2026-12-02T00:00:00.000Z', platform: 'linux', arch: 'amd64', hostname: 'h', privileged: true, agent_version: '0' }));
    for (const secret of [nodeKey.slice(27), authKey.slice(27), jwt]) expect(text).not.toContain(secret);
    expect(text).toContain('ztna_node_0123456789abcdef_…');
  });

  it('a bundle made by the real CLI with an enrolled agent and keys in the environment holds none of them', async () => {
    const configDir = join(work, 'enrolled');
    mkdirSync(configDir, { mode: 0o700 });
    writeFileSync(join(configDir, 'enrollment.json'), JSON.stringify({ server_url: 'http://127.0.0.1:9', machine_id: 'm', node_key: nodeKey, hostname: 'h', enrolled_at: '2026-12-02T00:00:00Z' }), { mode: 0o600 });
    const bundle = join(work, 'secret-scan');
    const result = await cliRunner({ NO_COLOR: '1', ZTNA_CONFIG_DIR: configDir, ZTNA_AUTH_KEY: authKey, ZTNA_ADMIN_TOKEN: jwt })('bugreport', '--output', bundle);
    expect(result.exitCode, result.stderr).toBe(0);
    let scanned = 0;
    for (const file of readdirSync(bundle)) {
      const text = readFileSync(join(bundle, file), 'utf8');
      scanned += text.length;
      for (const secret of [nodeKey.slice(27), authKey.slice(27), jwt]) expect(text, `${file} holds a secret`).not.toContain(secret);
    }
    expect(scanned).toBeGreaterThan(1000);
  }, 60_000);
});

describe('a bundle from another OS becomes a test in one step', () => {
  it('a macOS bundle (built from real captures) replays with the macOS collectors on this machine', async () => {
    const log: ProbeLog = {
      version: 1,
      recorded_at: '2024-05-01T00:00:00.000Z',
      platform: 'darwin',
      arch: 'arm64',
      hostname: 'a-mac',
      privileged: false,
      agent_version: '0.1.0',
      commands: [
        { key: 'fdesetup status', argv: ['/usr/bin/fdesetup', 'status'], exit_code: 0, stdout: capture('darwin/fdesetup-off-deferred-13.2.1.txt').body, stderr: '', duration_ms: 5 },
        { key: 'socketfilterfw --getglobalstate', argv: ['/usr/libexec/ApplicationFirewall/socketfilterfw', '--getglobalstate'], exit_code: 0, stdout: capture('darwin/socketfilterfw-state2-puremac176-macos15.txt').body, stderr: '', duration_ms: 5 },
        { key: 'systemextensionsctl list', argv: ['/usr/bin/systemextensionsctl', 'list'], exit_code: 0, stdout: capture('darwin/systemextensionsctl-crowdstrike-falcon-cisco-ramendr.txt').body, stderr: '', duration_ms: 5 },
        { key: 'sw_vers', argv: ['/usr/bin/sw_vers'], exit_code: 0, stdout: capture('darwin/sw_vers-10.15.7-catalina.txt').body, stderr: '', duration_ms: 5 },
      ],
      resolved: {},
      reads: { '/Library/Receipts/InstallHistory.plist': [{ ok: true, base64: Buffer.from(capture('darwin/installhistory-macos-14.4-tryhackme-closed.plist').body).toString('base64'), mtime_ms: 0 }] },
      lists: {},
      stats: {},
      env: {},
    };
    const dir = join(work, 'mac-bundle');
    mkdirSync(dir);
    writeFileSync(join(dir, 'probes.json'), JSON.stringify(log));
    const result = await ztna('posture', 'status', '--replay', dir, '--json');
    const report = JSON.parse(result.stdout).report;
    expect(report).toMatchObject({ platform: 'darwin', arch: 'arm64', hostname: 'a-mac', disk_encrypted: false, firewall_enabled: true, antivirus_enabled: true, os_version: 'Mac OS X 10.15.7 (19H15)', patch_age_days: 13 });
    expect(report.evidence.antivirus_enabled.detail).toMatch(/CrowdStrike/);
    // The replay runner answers only what was recorded: never the host.
    expect(await replayProbes(log).runner.run('nft', ['-j', 'list', 'ruleset'])).toMatchObject({ failure: 'not_found' });
  }, 60_000);
});
