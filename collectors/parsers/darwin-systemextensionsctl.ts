/**
 * `systemextensionsctl list` → the EDR/AV system extensions that are running.
 *
 * Format (objective-see/LuLu#331; Brandon7CC/mac-monitor#31; macOS 26.3 in strongdm/leash),
 * tab-separated rows under a category header (since macOS 13 with a "(Go to 'System
 * Settings > …')" suffix, which is ignored):
 *   1 extension(s)
 *
 *   --- com.apple.system_extension.network_extension
 *   enabled	active	teamID	bundleID (version)	name	[state]
 *   *	*	VBG97UB4TA	com.objective-see.lulu.extension (2.3.0/2.3.0)	Extension	[activated enabled]
 *
 * Invariants:
 * - The first line must be the `N extension(s)` count; anything else is unknown.
 * - An EDR counts only when its bundle id is one of the known vendor ids AND its state
 *   is exactly `[activated enabled]`. Other states (`activated waiting for user`,
 *   `terminated waiting to uninstall on reboot`, seen in mondoohq/mql PR #4371 and
 *   munki/munki-facts PR #26) mean it is not protecting; they are kept in evidence.
 * - A row that does not have the six columns makes the whole listing unknown rather than
 *   silently dropping a product.
 */
import { unknown } from '../types.ts';
import type { Parsed } from './darwin-plist.ts';
import { clip } from './darwin-plist.ts';

/**
 * Endpoint-protection system extensions, by bundle id (research §3.2; sources per entry).
 * `prefix` entries match the id and its dotted children; `exact` ones only the id: a
 * vendor's Team ID and bundle prefix often also sign non-protection products (Palo Alto's
 * GlobalProtect VPN, Cisco's Secure Client, Jamf Connect), so those are matched exactly.
 * Not listed on purpose: Kandji's `io.kandji.KandjiAgent.ESF-Extension` (also installed for
 * App Blocking, so it does not prove EDR: support.kandji.io article 72000575676), and
 * network-only extensions (Trellix `com.trellix.CMF.networkextension`, Bitdefender
 * `com.bitdefender.cst.net.dci.dci-network-extension`), which filter traffic, not malware.
 */
export const EDR_BUNDLE_IDS: readonly { readonly id: string; readonly match: 'prefix' | 'exact'; readonly product: string }[] = [
  { id: 'com.crowdstrike.falcon', match: 'prefix', product: 'CrowdStrike Falcon' },
  { id: 'com.sentinelone', match: 'prefix', product: 'SentinelOne' },
  { id: 'com.microsoft.wdav', match: 'prefix', product: 'Microsoft Defender for Endpoint' },
  { id: 'com.sophos', match: 'prefix', product: 'Sophos' },
  { id: 'com.vmware.carbonblack', match: 'prefix', product: 'VMware Carbon Black' },
  // Jamf: the protect extension attribute in jamf/jamfprotect; Team 483DWKW443 also signs Jamf Connect.
  { id: 'com.jamf.protect.security-extension', match: 'exact', product: 'Jamf Protect' },
  // Palo Alto "Install the Cortex XDR Agent Using JAMF": allowed system extension bundles.
  { id: 'com.paloaltonetworks.traps.securityextension', match: 'exact', product: 'Palo Alto Cortex XDR' },
  // Elastic docs, deploy-on-macos-with-mdm: "Allowed System Extensions … co.elastic.systemextension".
  { id: 'co.elastic.systemextension', match: 'exact', product: 'Elastic Defend' },
  // Cisco Secure Endpoint (AMP) Mac connector 1.14+: "AMP Security Extension" in systemextensionsctl listings.
  { id: 'com.cisco.endpoint.svc.securityextension', match: 'exact', product: 'Cisco Secure Endpoint' },
  // huntresslabs/deployment-scripts HuntressSystemExtensionProfile.mobileconfig.
  { id: 'com.huntress.sysext', match: 'exact', product: 'Huntress' },
  // ESET Endpoint Security for macOS: the real-time file system protection extension.
  { id: 'com.eset.endpoint', match: 'exact', product: 'ESET Endpoint Security' },
];

const ACTIVE_STATE = 'activated enabled';
const COUNT_LINE = /^(\d+) extension\(s\)$/;
/** `--- <category>`, on macOS 13+ followed by ` (Go to 'System Settings > …' to modify these system extension(s))`. */
const CATEGORY_LINE = /^--- (\S+)(?: \(.*\))?$/;
/** `systemextensionsctl list <category>` prints a `Category: <category>` line first. */
const CATEGORY_ARGUMENT_LINE = /^Category: \S+$/;
const HEADER_LINE = /^enabled\tactive\tteamID\t/;
const BUNDLE_COLUMN = /^(\S+) \(([^)]*)\)$/;
const STATE_COLUMN = /^\[([^\]]+)\]$/;

export interface SystemExtension {
  readonly category: string;
  readonly team_id: string;
  readonly bundle_id: string;
  readonly version: string;
  readonly name: string;
  readonly state: string;
}

export interface EdrExtension extends SystemExtension {
  readonly product: string;
  readonly active: boolean;
}

export interface SystemExtensionList {
  readonly declared_count: number;
  readonly extensions: readonly SystemExtension[];
  /** Every extension from a known EDR vendor, active or not. */
  readonly edr: readonly EdrExtension[];
}

export function parseSystemExtensionsList(stdout: string): Parsed<SystemExtensionList> {
  const lines = stdout.split(/\r?\n/).filter((line) => line.trim() !== '');
  const method = 'systemextensionsctl';
  const [countLine, ...rows] = CATEGORY_ARGUMENT_LINE.test(lines[0]?.trim() ?? '') ? lines.slice(1) : lines;
  if (countLine === undefined) {
    return { ok: false, finding: unknown('empty_output', method, '`systemextensionsctl list` printed nothing') };
  }
  const count = COUNT_LINE.exec(countLine.trim());
  if (!count) {
    return {
      ok: false,
      finding: unknown('unparsed_output', method, `unrecognised \`systemextensionsctl list\` output: "${clip(countLine.trim())}"`),
    };
  }

  const extensions: SystemExtension[] = [];
  let category = '';
  for (const row of rows) {
    const categoryMatch = CATEGORY_LINE.exec(row.trim());
    if (categoryMatch) {
      category = categoryMatch[1] ?? '';
      continue;
    }
    if (HEADER_LINE.test(row)) continue;
    const columns = row.split('\t').map((column) => column.trim());
    const bundle = BUNDLE_COLUMN.exec(columns[3] ?? '');
    const state = STATE_COLUMN.exec(columns[5] ?? '');
    if (columns.length !== 6 || !bundle || !state) {
      return {
        ok: false,
        finding: unknown('unparsed_output', method, `unrecognised system extension row: "${clip(row.trim())}"`),
      };
    }
    extensions.push({
      category,
      team_id: columns[2] ?? '',
      bundle_id: bundle[1] ?? '',
      version: bundle[2] ?? '',
      name: columns[4] ?? '',
      state: state[1] ?? '',
    });
  }

  const edr: EdrExtension[] = [];
  for (const extension of extensions) {
    const vendor = EDR_BUNDLE_IDS.find(({ id, match }) => extension.bundle_id === id || (match === 'prefix' && extension.bundle_id.startsWith(`${id}.`)));
    if (vendor) edr.push({ ...extension, product: vendor.product, active: extension.state === ACTIVE_STATE });
  }
  return { ok: true, value: { declared_count: Number(count[1]), extensions, edr } };
}
