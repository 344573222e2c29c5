/**
 * Smoke test of the single-file executables (issue 6): build them with
 * scripts/build-binary.mjs, copy them into an empty directory far from the checkout (so
 * nothing can come from node_modules), and check that they behave exactly like the
 * bin/ launchers: same output, same exit codes, an enrollment of the binary agent against
 * the binary server, the service definitions they would install, and that they leave
 * nothing beside themselves.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCommandRunner } from '../../src/platform/command-runner.ts';
import type { CommandResult, RunningProcess } from '../../src/platform/command-runner.ts';
import { ROOT } from '../support/cli.ts';
import { waitFor } from '../support/wait.ts';

const supported = process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64');
const work = mkdtempSync(join(tmpdir(), 'ztna-binary-'));
const binDir = join(work, 'bin');
const started: RunningProcess[] = [];

function runnerFor(programs: Record<string, string>, env: NodeJS.ProcessEnv = {}) {
  return createCommandRunner({
    platform: process.platform,
    // A bare environment: no PATH into the checkout, no NODE_OPTIONS, nothing to lean on.
    env: { PATH: '/usr/bin:/bin', HOME: work, LANG: 'C', TZ: 'UTC', NO_COLOR: '1', ...env },
    allowList: Object.fromEntries(Object.entries(programs).map(([id, path]) => [id, { paths: { [process.platform]: [path] }, timeoutMs: 60_000 }])),
  });
}

const programs = () => ({
  'bin-ztna': join(binDir, 'ztna'),
  'bin-ztna-server': join(binDir, 'ztna-server'),
  'launcher-ztna': join(ROOT, 'bin/ztna'),
  'launcher-ztna-server': join(ROOT, 'bin/ztna-server'),
});

/** Removes what legitimately differs between two runs: timings and timestamps. */
function normalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalise);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => key !== 'duration_ms' && key !== 'collected_at')
        .map(([key, inner]) => [key, normalise(inner)]),
    );
  }
  if (typeof value === 'string') return value.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>').replace(/\d+(\.\d+)? ms\b/g, '<n> ms');
  return value;
}

function text(result: CommandResult): unknown {
  let stdout: unknown = result.stdout;
  try {
    stdout = JSON.parse(result.stdout);
  } catch {
    // Human output: compared as text.
  }
  return normalise({ stdout, stderr: result.stderr });
}

describe.runIf(supported)('single-file binaries', () => {
  beforeAll(async () => {
    const build = createCommandRunner({ platform: process.platform, allowList: { node: { paths: { [process.platform]: [process.execPath] }, timeoutMs: 300_000 } } });
    const result = await build.run('node', [join(ROOT, 'scripts/build-binary.mjs')]);
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    mkdirSync(binDir);
    for (const name of ['ztna', 'ztna-server']) copyFileSync(join(ROOT, 'dist/bin', name), join(binDir, name));
  }, 300_000);

  afterAll(async () => {
    for (const running of started) await running.stop('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  });

  it('print version, commit and runtime', async () => {
    const run = runnerFor(programs());
    const agent = await run.run('bin-ztna', ['--version']);
    const server = await run.run('bin-ztna-server', ['--version']);
    expect(agent.exitCode).toBe(0);
    expect(agent.stdout.trim()).toMatch(/^ztna \d+\.\d+\.\d+ \(commit ([0-9a-f]{7,}(-dirty)?|unknown), node 24\.21\.0, linux\/(x64|arm64), single-file binary\)$/);
    expect(server.stdout.trim()).toMatch(/^ztna-server \d+\.\d+\.\d+ \(commit .+, node 24\.21\.0, linux\/(x64|arm64), single-file binary\)$/);
    const launcher = await run.run('launcher-ztna', ['--version']);
    // The same build: only the packaging word differs.
    expect(launcher.stdout.replace('node bundle', 'single-file binary')).toBe(agent.stdout);
  });

  it('`posture status --local` gives the same report, output and exit code as bin/ztna', async () => {
    const run = runnerFor(programs(), { ZTNA_CONFIG_DIR: join(work, 'unused-config') });
    for (const args of [['posture', 'status', '--local', '--json'], ['posture', 'status', '--local']]) {
      const binary = await run.run('bin-ztna', args);
      const launcher = await run.run('launcher-ztna', args);
      expect([0, 1]).toContain(binary.exitCode);
      expect(binary.exitCode).toBe(launcher.exitCode);
      expect(text(binary)).toEqual(text(launcher));
    }
  });

  it('usage and file errors: same message and exit code 2', async () => {
    const run = runnerFor(programs());
    const badReport = join(work, 'bad-report.json');
    writeFileSync(badReport, '{"os_version": ');
    for (const args of [['posture', 'check', '--policy', join(work, 'missing.json')], ['posture', 'check', '--policy', badReport], ['frobnicate'], ['posture', 'status', '--bogus']]) {
      const binary = await run.run('bin-ztna', args);
      const launcher = await run.run('launcher-ztna', args);
      expect(binary.exitCode, args.join(' ')).toBe(2);
      expect(launcher.exitCode).toBe(2);
      expect(binary.stderr).toBe(launcher.stderr);
      expect(binary.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('the binary agent enrolls against the binary server, with the same results as the launchers', async () => {
    const data = join(work, 'server-data');
    const run = runnerFor(programs());
    const server = await run.start('bin-ztna-server', ['serve', '--listen', '127.0.0.1:0', '--data', data, '--log-level', 'warn']);
    started.push(server);
    const [, url] = await server.waitForLine(/^listening on (http:\/\/127\.0\.0\.1:\d+)$/);
    // The dashboard comes from the binary's embedded assets (there is no dist/ beside it).
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
    const script = await fetch(`${url}/assets/app.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    const boot = await run.run('bin-ztna-server', ['bootstrap', '--data', data, '--json']);
    expect(boot.exitCode, boot.stderr).toBe(0);
    const { admin_token } = JSON.parse(boot.stdout);
    const admin = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${admin_token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      expect(response.status, path).toBeLessThan(300);
      return ((await response.json()) as any).data;
    };
    const [key] = await admin('POST', '/api/db/auth_keys', { description: 'binary smoke', reusable: true });
    // Enforce, with a policy this machine fails (nothing here has antivirus): both agents end quarantined.
    await admin('POST', '/api/db/posture_policies', { name: 'smoke', enabled: true, require_disk_encryption: true, require_firewall: true, require_antivirus: true, max_patch_age_days: 30 });
    await admin('PATCH', '/api/db/org_settings', { posture_enforcement: 'enforce' });

    const outcomes = [];
    for (const flavour of ['bin', 'launcher'] as const) {
      const agent = runnerFor(programs(), { ZTNA_CONFIG_DIR: join(work, `${flavour}-config`) });
      const up = await agent.run(`${flavour}-ztna`, ['up', '--server', url as string, '--auth-key', key.key, '--hostname', `${flavour}-host`, '--json']);
      const status = await agent.run(`${flavour}-ztna`, ['status', '--json']);
      const posture = await agent.run(`${flavour}-ztna`, ['posture', 'status', '--json']);
      const peers = await agent.run(`${flavour}-ztna`, ['peers', '--json']);
      expect(peers.stdout, peers.stderr).not.toBe('');
      expect(up.stdout + up.stderr).not.toContain(key.key);
      const parsed = JSON.parse(status.stdout);
      outcomes.push({
        up: up.exitCode,
        status: status.exitCode,
        machineStatus: parsed.machine_status,
        posture: posture.exitCode,
        verdict: normalise({ ...JSON.parse(posture.stdout), report: { ...JSON.parse(posture.stdout).report, hostname: undefined } }),
        peers: JSON.parse(peers.stdout),
      });
    }
    expect(outcomes[0]).toEqual(outcomes[1]);
    expect(outcomes[0]?.posture).toBe(1);
    expect(outcomes[0]?.peers).toEqual({ quarantined: true, peers: [] });
    // The binary daemon: reaches QUARANTINE, answers the CLI over its socket, stops cleanly.
    const binaryAgent = runnerFor(programs(), { ZTNA_CONFIG_DIR: join(work, 'bin-config') });
    const daemon = await binaryAgent.start('bin-ztna', ['daemon']);
    started.push(daemon);
    const status = await waitFor('the binary daemon to reach QUARANTINE', async () => {
      const current = JSON.parse((await binaryAgent.run('bin-ztna', ['status', '--json'])).stdout);
      return current.daemon === 'running' && current.agent_state === 'QUARANTINE' ? current : undefined;
    });
    expect(status).toMatchObject({ daemon: 'running', agent_state: 'QUARANTINE', machine_status: 'quarantined' });
    expect(await daemon.stop('SIGTERM')).toBe(0);
    expect(daemon.output.stderr).not.toMatch(/\n\s+at /);

    const machines = await admin('GET', '/api/db/machines?order=hostname.asc');
    expect(machines.map((machine: any) => [machine.hostname, machine.status])).toEqual([
      ['bin-host', 'quarantined'],
      ['launcher-host', 'quarantined'],
    ]);
  });

  it('`service install --dry-run` points the units at the binary\'s real path, and they verify', async () => {
    const linkDir = join(work, 'links');
    mkdirSync(linkDir);
    symlinkSync(join(binDir, 'ztna'), join(linkDir, 'ztna'));
    symlinkSync(join(binDir, 'ztna-server'), join(linkDir, 'ztna-server'));
    const run = runnerFor({ 'link-ztna': join(linkDir, 'ztna'), 'link-ztna-server': join(linkDir, 'ztna-server') });
    const agentPlan = await run.run('link-ztna', ['service', 'install', '--dry-run', '--json']);
    expect(agentPlan.exitCode, agentPlan.stderr).toBe(0);
    const agent = JSON.parse(agentPlan.stdout);
    expect(agent.unit_file).toBe('/etc/systemd/system/ztna.service');
    expect(agent.content).toContain(`ExecStart="${join(binDir, 'ztna')}" "daemon"`);
    const serverPlan = await run.run('link-ztna-server', ['service', 'install', '--data', join(work, 'srv'), '--listen', '127.0.0.1:8787', '--dry-run', '--json']);
    expect(serverPlan.exitCode, serverPlan.stderr).toBe(0);
    const server = JSON.parse(serverPlan.stdout);
    expect(server.content).toContain(`ExecStart="${join(binDir, 'ztna-server')}" "serve" "--data" "${join(work, 'srv')}" "--listen" "127.0.0.1:8787"`);
    const noData = await run.run('link-ztna-server', ['service', 'install', '--dry-run']);
    expect(noData.exitCode).toBe(2);
    expect(noData.stderr).toMatch(/needs --data DIR/);

    const analyze = createCommandRunner({ platform: 'linux', allowList: { 'systemd-analyze': { paths: { linux: ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'] } } } });
    if ((await analyze.resolve('systemd-analyze')) === null) return;
    for (const plan of [agent, server]) {
      const unitDir = mkdtempSync(join(work, 'unit-'));
      const unitPath = join(unitDir, plan.unit_file.split('/').pop());
      writeFileSync(unitPath, plan.content);
      const verify = await analyze.run('systemd-analyze', ['verify', unitPath]);
      const ours = verify.stderr.split('\n').filter((line) => line.includes(unitPath.split('/').pop() as string));
      expect(ours).toEqual([]);
      expect(verify.exitCode, verify.stderr).toBe(0);
    }
  });

  it('the collectors see the same posture under the agent unit\'s capability bounding set (as root)', async (context) => {
    if (process.getuid?.() !== 0) return context.skip();
    const run = createCommandRunner({
      platform: 'linux',
      env: { PATH: '/usr/bin:/bin', HOME: work, LANG: 'C', TZ: 'UTC', NO_COLOR: '1', ZTNA_CONFIG_DIR: join(work, 'caps-config') },
      allowList: { setpriv: { paths: { linux: ['/usr/bin/setpriv', '/bin/setpriv'] }, timeoutMs: 60_000 }, ztna: { paths: { linux: [join(binDir, 'ztna')] }, timeoutMs: 60_000 } },
    });
    if ((await run.resolve('setpriv')) === null) return context.skip();
    // What the unit sets: NoNewPrivileges and CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW CAP_DAC_READ_SEARCH.
    const confined = await run.run('setpriv', ['--no-new-privs', '--bounding-set', '-all,+net_admin,+net_raw,+dac_read_search', '--inh-caps', '-all', '--', join(binDir, 'ztna'), 'posture', 'status', '--local', '--json']);
    const free = await run.run('ztna', ['posture', 'status', '--local', '--json']);
    expect(confined.exitCode, confined.stderr).toBe(free.exitCode);
    const signals = (stdout: string) => {
      const { report, compliant, violations } = JSON.parse(stdout);
      return { compliant, violations, values: ['os_version', 'disk_encrypted', 'firewall_enabled', 'antivirus_enabled', 'patch_age_days'].map((key) => report[key]) };
    };
    expect(signals(confined.stdout)).toEqual(signals(free.stdout));
  });

  it('keep no state beside themselves', () => {
    expect(readdirSync(binDir).sort()).toEqual(['ztna', 'ztna-server']);
  });
});
