/**
 * `/Library/Managed Preferences/com.apple.security.firewall.plist` → firewall_enabled, for
 * Macs whose firewall an MDM manages. There `socketfilterfw` may refuse even its getters
 * ("Firewall settings cannot be modified from command line on managed Mac computers.",
 * macOS 26), while the profile the MDM installed says what is enforced.
 *
 * Keys (Apple's configuration-profile reference, payload `com.apple.security.firewall`):
 * `EnableFirewall` (boolean, the switch), `BlockAllIncoming`, `EnableStealthMode`. The file
 * is the managed copy macOS writes from installed profiles (XML or binary plist).
 *
 * Invariants: only a boolean `EnableFirewall` decides; a profile without it (it manages
 * other firewall settings only) is no answer, so the next probe is asked.
 */
import type { Finding } from '../types.ts';
import { known, unknown } from '../types.ts';
import { booleanAt, decodePlist, decodeProblem, isDict } from './darwin-plist.ts';

export const MANAGED_FIREWALL_PLIST = '/Library/Managed Preferences/com.apple.security.firewall.plist';
const METHOD = 'managed-profile';

export function parseManagedFirewallProfile(input: string | Uint8Array): Finding<boolean> {
  const decoded = decodePlist(input, 'the managed firewall profile');
  if (!decoded.ok) return decodeProblem(decoded, METHOD);
  const root = decoded.value;
  if (!isDict(root)) return unknown('unparsed_output', METHOD, `${MANAGED_FIREWALL_PLIST} is not a dictionary`);
  const enabled = booleanAt(root, 'EnableFirewall');
  if (enabled === undefined) return unknown('unparsed_output', METHOD, `${MANAGED_FIREWALL_PLIST} does not set EnableFirewall`);
  const facts = { enable_firewall: enabled, block_all_incoming: booleanAt(root, 'BlockAllIncoming') ?? null, stealth_mode: booleanAt(root, 'EnableStealthMode') ?? null };
  return known(enabled, METHOD, `the MDM profile ${enabled ? 'enables' : 'disables'} the Application Firewall (EnableFirewall ${String(enabled)} in ${MANAGED_FIREWALL_PLIST})`, facts);
}
