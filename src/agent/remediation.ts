/**
 * Remediation commands the server prepared (SPEC section 4, "AI operator"): prepared,
 * never run silently. `ztna remediate` explains each and applies one only after the
 * person confirms. This module decides WHAT to run (pure, tested for every platform)
 * and runs it through the command runner; it never opens ports beyond SSH.
 *
 * enable_firewall — the platform's own tool, root / Administrator needed:
 *   Linux    ufw (`ufw --force enable`) if installed, else firewalld (`systemctl enable
 *            --now firewalld`), else an nftables ruleset that drops inbound traffic except
 *            loopback, established connections, ICMP and SSH (so a remote admin is not
 *            locked out);
 *   macOS    `socketfilterfw --setglobalstate on` (the application firewall);
 *   Windows  `Set-NetFirewallProfile -Profile Domain,Private,Public -Enabled True`.
 * enable_disk_encryption — cannot be done silently on any OS (recovery keys, reboots,
 *   re-encryption): the person is guided through the platform's own procedure, and the
 *   server is told it needs manual steps (status `failed`, never a false `applied`).
 */
import type { CommandRunner } from '../platform/command-runner.ts';

export interface PendingCommand {
  readonly id: string;
  readonly command: string;
  readonly expires_at: string;
}

export type RemediationPlan =
  | { readonly kind: 'run'; readonly description: string; readonly steps: ReadonlyArray<{ command: string; args: readonly string[]; input?: string }>; readonly needsPrivilege: true }
  | { readonly kind: 'guide'; readonly description: string; readonly instructions: readonly string[] }
  | { readonly kind: 'unsupported'; readonly description: string };

export const NFT_DEFAULT_DENY = `table inet ztna_filter {
  chain input {
    type filter hook input priority 0; policy drop;
    iif lo accept
    ct state established,related accept
    meta l4proto { icmp, ipv6-icmp } accept
    tcp dport 22 accept
  }
}
`;

export function explainCommand(command: string): string {
  switch (command) {
    case 'enable_firewall':
      return 'Turn the host firewall on, so that nothing on the network can reach this device\'s services unless allowed.';
    case 'enable_disk_encryption':
      return 'Encrypt the system disk, so that a lost or stolen device does not expose its data.';
    default:
      return `Unknown command "${command}" (a newer server?): update ztna.`;
  }
}

export function planRemediation(command: string, platform: NodeJS.Platform, installed: { ufw: boolean; firewalld: boolean; nft: boolean }): RemediationPlan {
  if (command === 'enable_firewall') {
    if (platform === 'darwin') {
      return { kind: 'run', needsPrivilege: true, description: 'enable the macOS application firewall', steps: [{ command: 'socketfilterfw', args: ['--setglobalstate', 'on'] }] };
    }
    if (platform === 'win32') {
      return {
        kind: 'run',
        needsPrivilege: true,
        description: 'enable Windows Defender Firewall on the domain, private and public profiles',
        steps: [{ command: 'powershell', args: ['-NoProfile', '-NonInteractive', '-Command', 'Set-NetFirewallProfile -Profile Domain,Private,Public -Enabled True'] }],
      };
    }
    if (installed.ufw) return { kind: 'run', needsPrivilege: true, description: 'enable ufw with its default policy (deny incoming)', steps: [{ command: 'ufw', args: ['--force', 'enable'] }] };
    if (installed.firewalld) return { kind: 'run', needsPrivilege: true, description: 'start and enable firewalld', steps: [{ command: 'systemctl', args: ['enable', '--now', 'firewalld'] }] };
    if (installed.nft) {
      return {
        kind: 'run',
        needsPrivilege: true,
        description: 'load an nftables ruleset that drops inbound traffic except loopback, established connections, ICMP and SSH (not persistent across reboots: install ufw or firewalld for that)',
        steps: [{ command: 'nft', args: ['-f', '-'], input: NFT_DEFAULT_DENY }],
      };
    }
    return { kind: 'unsupported', description: 'no firewall tool is installed (ufw, firewalld or nftables): install one with the package manager, e.g. `apt install ufw`, then run `ztna remediate` again' };
  }
  if (command === 'enable_disk_encryption') {
    const instructions =
      platform === 'darwin'
        ? ['Open System Settings → Privacy & Security → FileVault and choose "Turn On…" (or run `sudo fdesetup enable`).', 'Store the recovery key where your organisation asks you to.', 'Encryption continues in the background; the device is reported encrypted once FileVault is on.']
        : platform === 'win32'
          ? ['Open Settings → Privacy & security → Device encryption (Home) or Control Panel → BitLocker Drive Encryption (Pro/Enterprise) and turn it on for the system drive.', 'Back up the recovery key (Microsoft account, Active Directory or a file your organisation names).', 'Or, from an elevated PowerShell: `Enable-BitLocker -MountPoint $env:SystemDrive -TpmProtector -UsedSpaceOnly`.']
          : ['Linux disk encryption (LUKS) is chosen at install time: back up your data and reinstall with "Encrypt the disk" selected, or convert in place with `cryptsetup reencrypt --encrypt` from a live system (keep a backup: a power loss mid-way destroys the data).', 'Ask your administrator whether a managed reinstall is available.'];
    return { kind: 'guide', description: 'disk encryption needs your action and a reboot; it cannot be enabled silently', instructions };
  }
  return { kind: 'unsupported', description: explainCommand(command) };
}

export interface RemediationOutcome {
  readonly status: 'applied' | 'failed';
  readonly result: Record<string, unknown>;
}

export async function applyPlan(runner: CommandRunner, plan: RemediationPlan, privileged: boolean): Promise<RemediationOutcome> {
  if (plan.kind === 'guide') return { status: 'failed', result: { manual_steps_required: true, description: plan.description } };
  if (plan.kind === 'unsupported') return { status: 'failed', result: { unsupported: true, description: plan.description } };
  if (!privileged) return { status: 'failed', result: { needs_privilege: true, description: `${plan.description} needs root / Administrator` } };
  const ran: Array<Record<string, unknown>> = [];
  for (const step of plan.steps) {
    const outcome = await runner.run(step.command, step.args, { timeoutMs: 60_000, ...(step.input === undefined ? {} : { input: step.input }) });
    ran.push({ command: outcome.argv.join(' '), exit_code: outcome.exitCode, output: (outcome.stderr || outcome.stdout).trim().slice(0, 500) });
    if (outcome.exitCode !== 0) return { status: 'failed', result: { description: plan.description, steps: ran } };
  }
  return { status: 'applied', result: { description: plan.description, steps: ran } };
}
