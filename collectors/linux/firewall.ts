/**
 * Linux host firewall: does the kernel filter inbound traffic?
 *
 * The kernel ruleset is the truth, and reading it needs root: `nft -j list ruleset`
 * (it also shows what ufw, firewalld and iptables-nft installed) and `iptables -S` (which
 * also covers the legacy backend, and reads the iptables-nft matches that nft's JSON shows
 * only as opaque `xt` entries). "On" means a NEW inbound connection from an arbitrary
 * address to an arbitrary port is dropped (parsers/linux-inbound-probe.ts): Tailscale's,
 * Kubernetes' and fail2ban's chains, blocklists and accept-everything rules are not a
 * firewall. Either reading proving a drop is enough; neither proving one is `false` (or
 * unknown when a ruleset could not be followed). An installed manager with an empty or
 * accept-everything ruleset is NOT an enabled firewall.
 * Without root, the managers' own state is the best available: firewalld's D-Bus state
 * (`firewall-cmd --state`, allowed by polkit on most desktops) and ufw's configuration
 * file; if neither says anything and filtering tools exist, the answer is unknown
 * (needs privilege), never a guess.
 */
import { parseFirewalldState, isPermissiveZone } from '../parsers/linux-firewalld.ts';
import { parseIptablesRules } from '../parsers/linux-iptables.ts';
import { parseNftRuleset } from '../parsers/linux-nft.ts';
import { parseUfwConf, parseUfwStatus } from '../parsers/linux-ufw.ts';
import type { Collector, Finding, ProbeContext } from '../types.ts';
import { commandProblem, known, unknown } from '../types.ts';

export const linuxFirewall: Collector<'firewall_enabled'> = {
  signal: 'firewall_enabled',
  async collect(ctx) {
    const kernel = ctx.privileged ? await kernelRuleset(ctx) : null;
    if (kernel?.value === true) return kernel;

    const managers = await managerState(ctx);
    if (managers?.value === true) {
      // A manager says on, but root could read the kernel and found no filtering: trust the kernel.
      if (kernel?.value === false) {
        return known(false, kernel.method, `${managers.detail}, but the kernel ruleset does not filter input: ${kernel.detail}`, kernel.facts);
      }
      return managers;
    }
    if (kernel?.value === false) return kernel;

    const hasTools = (await ctx.has('nft')) || (await ctx.has('iptables')) || (await ctx.has('iptables-legacy'));
    if (!ctx.privileged && hasTools) {
      return unknown('needs_privilege', 'nft', `reading the kernel ruleset needs root${managers ? `; ${managers.detail}` : ''}`);
    }
    if (!hasTools && managers === null) {
      if (ctx.privileged) {
        // With no nft/iptables binary, the legacy iptables tables are still listed by the kernel.
        const legacy = await ctx.read('/proc/net/ip_tables_names');
        if (legacy.ok && legacy.data.toString('utf8').trim() !== '') {
          return unknown('tool_missing', 'procfs', `iptables tables are loaded (${legacy.data.toString('utf8').trim().split('\n').join(', ')}) but no iptables or nft binary is installed to read them`);
        }
      }
      return known(false, 'tooling', 'no firewall is installed: no nft, iptables, ufw or firewalld on this host', { reason: 'no_firewall_tooling' });
    }
    return managers ?? kernel ?? unknown('unparsed_output', 'firewall', 'no probe gave an answer');
  },
};

/** nft, then iptables. Null when neither could be run. */
async function kernelRuleset(ctx: ProbeContext): Promise<Finding<boolean> | null> {
  // Both at once: `iptables` may be the legacy backend, whose rules nft cannot see.
  const [nft, iptables] = await Promise.all([ctx.run('nft', ['-j', 'list', 'ruleset']), ctx.run('iptables', ['-S'])]);
  const nftFinding = commandProblem<boolean>(nft, 'nft') ?? parseNftRuleset(nft.stdout);
  if (nftFinding.value === true) return nftFinding;
  const iptablesFinding = commandProblem<boolean>(iptables, 'iptables') ?? parseIptablesRules(iptables.stdout);
  if (iptablesFinding.value === true) return iptablesFinding;
  if (nftFinding.value === false) return nftFinding;
  if (iptablesFinding.value === false) return iptablesFinding;
  // A ruleset that was read but could not be judged says why; a tool that could not run says nothing here.
  if (nft.exitCode === 0) return nftFinding;
  if (iptables.exitCode === 0) return iptablesFinding;
  return null;
}

/** What firewalld and ufw say. Null when neither is installed. */
async function managerState(ctx: ProbeContext): Promise<Finding<boolean> | null> {
  const findings: Finding<boolean>[] = [];
  if (await ctx.has('firewall-cmd')) {
    const state = await ctx.run('firewall-cmd', ['--state']);
    const problem = state.failure ? commandProblem<boolean>(state, 'firewall-cmd') : null;
    const finding = problem ?? parseFirewalldState(state.exitCode, state.stdout, state.stderr);
    if (finding.value === true) {
      const zone = await ctx.run('firewall-cmd', ['--get-default-zone']);
      const zoneName = zone.exitCode === 0 ? zone.stdout.trim() : '';
      if (zoneName && isPermissiveZone(zoneName)) {
        return known(false, 'firewall-cmd', `firewalld is running but its default zone "${zoneName}" accepts everything`);
      }
      return known(true, 'firewall-cmd', `firewalld is running${zoneName ? ` (default zone ${zoneName})` : ''}`);
    }
    findings.push(finding);
  }
  const conf = await ctx.read('/etc/ufw/ufw.conf');
  if (conf.ok) {
    const enabled = parseUfwConf(conf.data.toString('utf8'));
    if (enabled === true && ctx.privileged && (await ctx.has('ufw'))) {
      const status = await ctx.run('ufw', ['status']);
      const finding = commandProblem<boolean>(status, 'ufw') ?? parseUfwStatus(status.stdout);
      if (finding.value !== null) return finding;
    }
    if (enabled === true) {
      return known(true, 'ufw.conf', 'ufw is enabled in /etc/ufw/ufw.conf (configuration, not the loaded ruleset: reading that needs root)', { confidence: 'configuration' });
    }
    if (enabled === false) findings.push(known(false, 'ufw.conf', 'ufw is disabled in /etc/ufw/ufw.conf (ENABLED=no)'));
  }
  if (findings.length === 0) return null;
  const off = findings.filter((f) => f.value === false);
  const undetermined = findings.find((f) => f.value === null);
  if (undetermined) return unknown(undetermined.reason ?? 'unparsed_output', undetermined.method, findings.map((f) => f.detail).join('; '));
  return known(false, (off[0] as Finding<boolean>).method, off.map((f) => f.detail).join('; '));
}
