/**
 * Issue 15 through the real CLI (SPEC 7.3): `ztna posture check` combines only the policies
 * that apply to this device — `platforms` by the report's platform, `tags` by the tags the
 * server gave this device (none when not enrolled) — and `--json` lists which applied and
 * which were skipped, and why. The agent learns its tags from the server's answers
 * (register, heartbeat). `ztna posture status` and `ztna status` show a verdict in grace
 * ("blocks at … (in 2 days)") and exemptions, and `--json` passes the findings through.
 * A fake server on 127.0.0.1 plays the server's part.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initialMachine } from '../../src/agent/state-machine.ts';
import { localTime } from '../../src/cli/lifecycle-view.ts';
import { cliRunner, tempFiles } from '../support/cli.ts';

const NODE_KEY = `ztna_node_0123456789abcdef_${'D'.repeat(43)}`;
const MACHINE_ID = '6f0c2a1e-0000-4000-8000-0000000000cd';
const intervals = { heartbeat_interval_s: 30, posture_interval_s: 300, quarantine_poll_s: 60 };

const policies = [
  { name: 'baseline', require_firewall: true },
  { name: 'macs', platforms: ['darwin'], require_disk_encryption: true },
  { name: 'build', tags: ['build'], require_antivirus: true, grace_period_s: 86_400 },
];
const files = tempFiles({
  'policies.json': JSON.stringify(policies),
  'untagged.json': JSON.stringify(policies.slice(0, 2)),
  'linux.json': JSON.stringify({ platform: 'linux', disk_encrypted: false, firewall_enabled: false, antivirus_enabled: false }),
  'darwin.json': JSON.stringify({ platform: 'darwin', disk_encrypted: false, firewall_enabled: false, antivirus_enabled: false }),
  'no-platform.json': JSON.stringify({ disk_encrypted: false, firewall_enabled: false, antivirus_enabled: false }),
});
const file = (name: string) => files[name] as string;

/** A fresh config directory, optionally enrolled (with tags, when given) and with a saved daemon state. */
function configDir(options: { enrolled?: boolean; serverUrl?: string; tags?: string[]; stateTags?: string[] | null; enrollmentText?: string; stateText?: string } = {}): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'ztna-target-')), 'agent');
  mkdirSync(dir, { mode: 0o700 });
  if (options.enrolled || options.enrollmentText !== undefined) {
    const enrollment = { server_url: options.serverUrl ?? 'http://127.0.0.1:9', machine_id: MACHINE_ID, node_key: NODE_KEY, hostname: 'box', enrolled_at: '2026-12-01T10:00:00.000Z', ...(options.tags ? { tags: options.tags } : {}) };
    writeFileSync(join(dir, 'enrollment.json'), options.enrollmentText ?? JSON.stringify(enrollment), { mode: 0o600 });
  }
  if (options.stateText !== undefined || options.stateTags !== undefined) {
    const state = { pid: 1, updated_at: '2026-12-01T10:00:00.000Z', machine: { ...initialMachine(true), state: 'CONNECTED', tags: options.stateTags ?? null } };
    writeFileSync(join(dir, 'state.json'), options.stateText ?? JSON.stringify(state), { mode: 0o600 });
  }
  return dir;
}

const check = (dir: string, ...args: string[]) => cliRunner({ ZTNA_CONFIG_DIR: dir, NO_COLOR: '1' })('posture', 'check', ...args);
const checkJson = async (dir: string, ...args: string[]) => {
  const result = await check(dir, ...args, '--json');
  return { ...result, output: JSON.parse(result.stdout) as { violations: string[]; policies: { device: object; applied: Array<{ position: number; name: string; note?: string }>; skipped: Array<{ position: number; name: string; reason: string; detail: string }> } } };
};
const names = (list: ReadonlyArray<{ name: string }>) => list.map((policy) => policy.name);

describe('ztna posture check: platforms', () => {
  it('the report\'s platform decides: a linux report skips the darwin policy', async () => {
    const { output, exitCode, stderr } = await checkJson(configDir(), '--policy', file('untagged.json'), '--report', file('linux.json'));
    expect(exitCode, stderr).toBe(1);
    expect(output.violations).toEqual(['firewall_required']);
    expect(output.policies.device).toEqual({ platform: 'linux', tags: null, tags_from: 'not_needed' });
    expect(names(output.policies.applied)).toEqual(['baseline']);
    expect(output.policies.skipped).toEqual([expect.objectContaining({ position: 2, name: 'macs', reason: 'platform', detail: 'it applies to darwin; this device is linux' })]);
  });

  it('a darwin report matches it', async () => {
    const { output } = await checkJson(configDir(), '--policy', file('untagged.json'), '--report', file('darwin.json'));
    expect(output.violations).toEqual(['disk_encryption_required', 'firewall_required']);
    expect(names(output.policies.applied)).toEqual(['baseline', 'macs']);
    expect(output.policies.skipped).toEqual([]);
  });

  it('a report without a platform fails closed: every platform list matches', async () => {
    const { output } = await checkJson(configDir(), '--policy', file('untagged.json'), '--report', file('no-platform.json'));
    expect(output.violations).toEqual(['disk_encryption_required', 'firewall_required']);
    expect(output.policies.applied[1]?.note).toMatch(/fail closed/);
  });

  it('collecting on this device: its own platform decides', async () => {
    const here = process.platform === 'win32' ? 'windows' : process.platform;
    const elsewhere = here === 'linux' ? 'darwin' : 'linux';
    const policy = tempFiles({ 'p.json': JSON.stringify([{ name: 'here', platforms: [here] }, { name: 'elsewhere', platforms: [elsewhere], require_firewall: true }]) });
    const { output } = await checkJson(configDir(), '--policy', policy['p.json'] as string);
    expect(output.policies.device).toMatchObject({ platform: here });
    expect(names(output.policies.applied)).toEqual(['here']);
    expect(output.policies.skipped).toEqual([expect.objectContaining({ name: 'elsewhere', reason: 'platform' })]);
    expect(output.violations).toEqual([]);
  });
});

describe.runIf(process.platform !== 'win32')('ztna posture check: tags', () => {
  it('not enrolled: a tagged policy does not apply, and JSON and the human output say why', async () => {
    const dir = configDir();
    const { output, exitCode } = await checkJson(dir, '--policy', file('policies.json'), '--report', file('linux.json'));
    expect(exitCode).toBe(1);
    expect(output.violations).toEqual(['firewall_required']);
    expect(output.policies.device).toEqual({ platform: 'linux', tags: [], tags_from: 'not_enrolled' });
    expect(output.policies.skipped).toEqual([
      expect.objectContaining({ name: 'macs', reason: 'platform' }),
      expect.objectContaining({ position: 3, name: 'build', reason: 'not_enrolled', detail: expect.stringMatching(/not enrolled, so it carries no tags/) }),
    ]);
    const human = await check(dir, '--policy', file('policies.json'), '--report', file('linux.json'));
    expect(human.stdout).toContain('Policies:          1 of 3 apply to this device (linux; tags: none (not enrolled))');
    expect(human.stdout).toContain('  - skipped policy 3 "build": it targets tags build; this device is not enrolled');
    expect(human.stdout).not.toContain('\u001b[');
  });

  it('enrolled with the tag (from the enrollment): it applies, and grace is said not to apply here', async () => {
    const dir = configDir({ enrolled: true, tags: ['build'] });
    const { output, exitCode } = await checkJson(dir, '--policy', file('policies.json'), '--report', file('linux.json'));
    expect(exitCode).toBe(1);
    expect(output.violations).toEqual(['firewall_required', 'antivirus_required']);
    expect(output.policies.device).toEqual({ platform: 'linux', tags: ['build'], tags_from: 'enrollment' });
    expect(names(output.policies.applied)).toEqual(['baseline', 'build']);
    const human = await check(dir, '--policy', file('policies.json'), '--report', file('linux.json'));
    expect(human.stdout).toMatch(/grace periods \(grace_period_s\) are not applied here/);
  });

  it('the daemon\'s saved state (the latest heartbeat) wins over the enrollment: a tag removed by an admin no longer applies', async () => {
    const { output } = await checkJson(configDir({ enrolled: true, tags: ['build'], stateTags: ['web'] }), '--policy', file('policies.json'), '--report', file('linux.json'));
    expect(output.policies.device).toEqual({ platform: 'linux', tags: ['web'], tags_from: 'server' });
    expect(output.policies.skipped).toContainEqual(expect.objectContaining({ name: 'build', reason: 'tags', detail: 'it targets tags build; this device carries web' }));
    expect(output.violations).toEqual(['firewall_required']);
  });

  it('enrolled, but no server said which tags: the tagged policy applies (fail closed), with a note', async () => {
    const { output } = await checkJson(configDir({ enrolled: true }), '--policy', file('policies.json'), '--report', file('linux.json'));
    expect(output.policies.device).toEqual({ platform: 'linux', tags: null, tags_from: 'unknown' });
    expect(output.policies.applied).toContainEqual(expect.objectContaining({ name: 'build', note: expect.stringMatching(/not known.*fail closed/) }));
    expect(output.violations).toEqual(['firewall_required', 'antivirus_required']);
  });

  it('--tags decides as if the device carried them; "" as untagged; a malformed tag is a usage error', async () => {
    const dir = configDir();
    const tagged = await checkJson(dir, '--policy', file('policies.json'), '--report', file('linux.json'), '--tags', 'ci, build');
    expect(tagged.output.policies.device).toEqual({ platform: 'linux', tags: ['ci', 'build'], tags_from: 'option' });
    expect(tagged.output.violations).toEqual(['firewall_required', 'antivirus_required']);
    const none = await checkJson(configDir({ enrolled: true, tags: ['build'] }), '--policy', file('policies.json'), '--report', file('linux.json'), '--tags', '');
    expect(none.output.policies.skipped).toContainEqual(expect.objectContaining({ name: 'build', reason: 'tags' }));
    const bad = await check(dir, '--policy', file('policies.json'), '--tags', 'Build_Servers');
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/--tags: "Build_Servers" is not a tag/);
  });

  it('the enrollment is read only when a policy names tags; an unreadable one is then an error naming the file', async () => {
    const dir = configDir({ enrollmentText: '{"server_url": ' });
    const untagged = await checkJson(dir, '--policy', file('untagged.json'), '--report', file('linux.json'));
    expect(untagged.exitCode).toBe(1);
    const tagged = await check(dir, '--policy', file('policies.json'), '--report', file('linux.json'));
    expect(tagged.exitCode).toBe(2);
    expect(tagged.stderr).toMatch(/enrollment\.json is corrupt/);
  });

  it('an unreadable saved state falls back to the enrollment\'s tags, with a warning on stderr', async () => {
    const result = await checkJson(configDir({ enrolled: true, tags: ['build'], stateText: '{"pid": 1' }), '--policy', file('policies.json'), '--report', file('linux.json'));
    expect(result.output.policies.device).toEqual({ platform: 'linux', tags: ['build'], tags_from: 'enrollment' });
    expect(result.stderr).toMatch(/^ztna: warning: the agent's saved state could not be read, so the tags the server last named were not used \(.*state\.json is corrupt/m);
  });
});

// ---------------------------------------------------------------------------------------
// Against a (fake) server of the policy lifecycle

const DAY = 86_400_000;
let server: Server;
let url = '';
/** blocks_at / exempt_until of the answers, set per request relative to the real clock. */
let blocksAt = 0;
let exemptUntil = 0;

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const send = (value: unknown) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(value));
      };
      // Two days and five minutes ahead: "in 2 days" whatever the seconds the CLI takes.
      blocksAt = Date.now() + 2 * DAY + 5 * 60_000;
      exemptUntil = Date.now() + 9 * DAY;
      if (request.url === '/api/register') return send({ machine_id: MACHINE_ID, node_key: NODE_KEY, hostname: 'box', status: 'online', ...intervals, tags: ['build', 'ci'] });
      if (request.url === '/api/posture-report') {
        return send({
          compliant: false,
          violations: ['firewall_required', 'antivirus_required'],
          findings: [
            { code: 'firewall_required', signal: 'firewall_enabled', required: true, observed: false, limit: null, message: 'The firewall is off; the policy requires it', blocks_at: new Date(blocksAt).toISOString() },
            { code: 'antivirus_required', signal: 'antivirus_enabled', required: true, observed: false, limit: null, message: 'Antivirus is off; the policy requires it', exempt_until: new Date(exemptUntil).toISOString() },
          ],
          quarantined: false,
          mode: 'enforce',
          status: 'online',
          posture_state: 'grace',
          ignored_fields: [],
        });
      }
      if (request.url === '/api/machine-heartbeat') {
        return send({ status: 'online', quarantined: false, mode: 'enforce', posture_state: 'grace', grace_until: new Date(blocksAt).toISOString(), tags: ['build'], ...intervals, peers_version: 1, peers: [], pending_commands: [] });
      }
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ success: false, error: { code: 'not_found', message: 'no' } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

describe.runIf(process.platform !== 'win32')('the agent learns its tags and shows grace', () => {
  it('`ztna up` keeps the tags the server gave; `posture check` then applies the tagged policy', async () => {
    const dir = configDir();
    const up = await cliRunner({ ZTNA_CONFIG_DIR: dir })('up', '--server', url, '--auth-key', 'k', '--hostname', 'box', '--json');
    expect(up.exitCode, up.stderr).toBe(0);
    expect(JSON.parse(up.stdout)).toMatchObject({ machine_id: MACHINE_ID, tags: ['build', 'ci'] });
    expect(JSON.parse(readFileSync(join(dir, 'enrollment.json'), 'utf8'))).toMatchObject({ tags: ['build', 'ci'] });
    const { output } = await checkJson(dir, '--policy', file('policies.json'), '--report', file('linux.json'));
    expect(output.policies.device).toEqual({ platform: 'linux', tags: ['build', 'ci'], tags_from: 'enrollment' });
    expect(names(output.policies.applied)).toEqual(['baseline', 'build']);
  });

  it('`ztna posture status --json` passes the server\'s findings through unchanged, with posture_state', async () => {
    const result = await cliRunner({ ZTNA_CONFIG_DIR: configDir({ enrolled: true, serverUrl: url }) })('posture', 'status', '--json');
    expect(result.exitCode, result.stderr).toBe(1);
    const output = JSON.parse(result.stdout);
    expect(output).toMatchObject({ source: 'server', compliant: false, quarantined: false, mode: 'enforce', posture_state: 'grace' });
    expect(output.findings).toEqual([
      { code: 'firewall_required', signal: 'firewall_enabled', required: true, observed: false, limit: null, message: 'The firewall is off; the policy requires it', blocks_at: new Date(blocksAt).toISOString() },
      { code: 'antivirus_required', signal: 'antivirus_enabled', required: true, observed: false, limit: null, message: 'Antivirus is off; the policy requires it', exempt_until: new Date(exemptUntil).toISOString() },
    ]);
  });

  it('`ztna posture status` prints when each violation blocks, until when it is exempt, and that the device is in grace', async () => {
    const result = await cliRunner({ ZTNA_CONFIG_DIR: configDir({ enrolled: true, serverUrl: url }), NO_COLOR: '1' })('posture', 'status');
    expect(result.exitCode, result.stderr).toBe(1);
    const lines = result.stdout.split('\n');
    expect(lines[8]).toBe('Compliance:        NON-COMPLIANT');
    expect(lines[9]).toBe(`Posture:           in grace — blocks at ${localTime(blocksAt)} (in 2 days) unless fixed first`);
    expect(result.stdout).toContain(`  - firewall_required\n      blocks at ${localTime(blocksAt)} (in 2 days)\n`);
    expect(result.stdout).toContain(`  - antivirus_required\n      exempt until ${localTime(exemptUntil)}\n`);
    expect(result.stdout).not.toContain('\u001b[');
  });

  it('`ztna status` (no daemon) shows the posture state, when it blocks, and the tags', async () => {
    const dir = configDir({ enrolled: true, serverUrl: url });
    const json = await cliRunner({ ZTNA_CONFIG_DIR: dir })('status', '--json');
    expect(json.exitCode, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ agent_state: 'CONNECTED', posture_state: 'grace', blocks_at: new Date(blocksAt).toISOString(), tags: ['build'] });
    const human = await cliRunner({ ZTNA_CONFIG_DIR: dir, NO_COLOR: '1' })('status');
    expect(human.stdout).toMatch(/^Tags: {14}build$/m);
    expect(human.stdout).toContain(`Posture:           in grace — blocks at ${localTime(blocksAt)} (in 2 days) unless fixed first`);
    expect(human.stdout).not.toContain('\u001b[');
  });
});
