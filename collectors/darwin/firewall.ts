/**
 * firewall_enabled on macOS: the Application Firewall.
 *
 * Primary `socketfilterfw --getglobalstate` (reads need no root and usually work on
 * MDM-managed Macs, fleetdm/fleet#53594 — but macOS 26 can refuse them there: "Firewall
 * settings cannot be modified from command line on managed Mac computers."); then the MDM's
 * managed firewall profile (/Library/Managed Preferences/com.apple.security.firewall.plist,
 * EnableFirewall); then `system_profiler -json SPFirewallDataType` (what osquery reads on
 * macOS 15+, PR #8428). `defaults read com.apple.alf` is never used: the
 * plist is gone on macOS 15 (osquery #8395). pf is not consulted: its state says nothing
 * about the Application Firewall.
 */
import { parseSocketfilterfwGlobalState } from '../parsers/darwin-socketfilterfw.ts';
import { parseSpFirewallJson } from '../parsers/darwin-system-profiler.ts';
import { MANAGED_FIREWALL_PLIST, parseManagedFirewallProfile } from '../parsers/darwin-managed-firewall.ts';
import type { Collector } from '../types.ts';
import { commandProblem } from '../types.ts';
import { withFallback } from './fallback.ts';

export const firewallCollector: Collector<'firewall_enabled'> = {
  signal: 'firewall_enabled',
  async collect(ctx) {
    const state = await ctx.run('socketfilterfw', ['--getglobalstate']);
    const primary = commandProblem<boolean>(state, 'socketfilterfw') ?? parseSocketfilterfwGlobalState(state.stdout);
    if (primary.value !== null) return primary;

    const managed = await ctx.read(MANAGED_FIREWALL_PLIST, { maxBytes: 1_000_000 });
    if (managed.ok) {
      const finding = parseManagedFirewallProfile(managed.data);
      if (finding.value !== null) return { ...finding, detail: `${finding.detail}; socketfilterfw: ${primary.detail}` };
    }

    const profile = await ctx.run('system_profiler', ['-json', 'SPFirewallDataType']);
    const fallback = commandProblem<boolean>(profile, 'system_profiler') ?? parseSpFirewallJson(profile.stdout);
    return withFallback(primary, fallback);
  },
};
