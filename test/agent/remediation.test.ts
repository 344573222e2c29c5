/** What `ztna remediate` would run on each platform, and that it never runs anything unasked. */
import { describe, expect, it } from 'vitest';
import { NFT_DEFAULT_DENY, applyPlan, explainCommand, planRemediation } from '../../src/agent/remediation.ts';
import type { CommandRunner } from '../../src/platform/command-runner.ts';

const none = { ufw: false, firewalld: false, nft: false };

describe('planRemediation', () => {
  it.each([
    ['linux with ufw', 'linux', { ...none, ufw: true, nft: true }, 'ufw', ['--force', 'enable']],
    ['linux with firewalld only', 'linux', { ...none, firewalld: true, nft: true }, 'systemctl', ['enable', '--now', 'firewalld']],
    ['linux with nftables only', 'linux', { ...none, nft: true }, 'nft', ['-f', '-']],
    ['macOS', 'darwin', none, 'socketfilterfw', ['--setglobalstate', 'on']],
    ['Windows', 'win32', none, 'powershell', ['-NoProfile', '-NonInteractive', '-Command', 'Set-NetFirewallProfile -Profile Domain,Private,Public -Enabled True']],
  ] as const)('enable_firewall on %s uses the platform tool', (_name, platform, installed, command, args) => {
    const plan = planRemediation('enable_firewall', platform, installed);
    expect(plan.kind).toBe('run');
    if (plan.kind !== 'run') return;
    expect(plan.steps[0]).toMatchObject({ command, args });
  });
  it('the nftables fallback keeps SSH and loopback open and drops the rest inbound', () => {
    expect(NFT_DEFAULT_DENY).toMatch(/hook input priority 0; policy drop;/);
    expect(NFT_DEFAULT_DENY).toMatch(/tcp dport 22 accept/);
    expect(NFT_DEFAULT_DENY).toMatch(/iif lo accept/);
    expect(NFT_DEFAULT_DENY).toMatch(/ct state established,related accept/);
  });
  it('linux without any firewall tool says what to install', () => {
    expect(planRemediation('enable_firewall', 'linux', none)).toMatchObject({ kind: 'unsupported', description: expect.stringMatching(/install/) });
  });
  it.each(['linux', 'darwin', 'win32'] as const)('enable_disk_encryption on %s is guided, never silent', (platform) => {
    const plan = planRemediation('enable_disk_encryption', platform, none);
    expect(plan.kind).toBe('guide');
    if (plan.kind === 'guide') expect(plan.instructions.length).toBeGreaterThan(0);
  });
  it('unknown commands are explained, not run', () => {
    expect(planRemediation('format_disk', 'linux', { ufw: true, firewalld: true, nft: true }).kind).toBe('unsupported');
    expect(explainCommand('format_disk')).toMatch(/Unknown command/);
  });
});

describe('applyPlan', () => {
  const ran: string[] = [];
  const runner: CommandRunner = {
    async run(command, args) {
      ran.push([command, ...args].join(' '));
      return { argv: [command, ...args], exitCode: command === 'fails' ? 1 : 0, stdout: '', stderr: command === 'fails' ? 'boom' : '', durationMs: 1 };
    },
    resolve: async () => null,
    start: () => Promise.reject(new Error('unused')),
  };
  it('runs nothing without privilege, and reports that honestly', async () => {
    ran.length = 0;
    const outcome = await applyPlan(runner, planRemediation('enable_firewall', 'linux', { ...none, ufw: true }), false);
    expect(outcome).toMatchObject({ status: 'failed', result: { needs_privilege: true } });
    expect(ran).toEqual([]);
  });
  it('applies the steps when privileged; a failing step is a failed outcome with its output', async () => {
    ran.length = 0;
    expect((await applyPlan(runner, planRemediation('enable_firewall', 'linux', { ...none, ufw: true }), true)).status).toBe('applied');
    expect(ran).toEqual(['ufw --force enable']);
    const failed = await applyPlan(runner, { kind: 'run', needsPrivilege: true, description: 'x', steps: [{ command: 'fails', args: [] }] }, true);
    expect(failed).toMatchObject({ status: 'failed', result: { steps: [{ exit_code: 1, output: 'boom' }] } });
  });
  it('a guided command is reported as needing manual steps, never as applied', async () => {
    ran.length = 0;
    const outcome = await applyPlan(runner, planRemediation('enable_disk_encryption', 'linux', none), true);
    expect(outcome).toMatchObject({ status: 'failed', result: { manual_steps_required: true } });
    expect(ran).toEqual([]);
  });
});
