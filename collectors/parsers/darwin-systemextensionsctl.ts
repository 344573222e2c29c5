/**
 * `systemextensionsctl list` → the EDR/AV system extensions that are running.
 *
 * Format (objective-see/LuLu#331; Brandon7CC/mac-monitor#31), tab-separated rows under a
 * category header:
 *   1 extension(s)
 *
 *   --- com.apple.system_extension.network_extension
 *   enabled	active	teamID	bundleID (version)	name	[state]
 *   *	*	VBG97UB4TA	com.objective-see.lulu.extension (2.3.0/2.3.0)	Extension	[activated enabled]
 *
 * Invariants:
 * - The first line must be the `N extension(s)` count; anything else is unknown.
 * - An EDR counts only when its bundle id is one of the known vendor prefixes AND its state
 *   is exactly `[activated enabled]`. Other states (`activated waiting for user`,
 *   `terminated waiting to uninstall on reboot`, seen in mondoohq/mql PR #4371 and
 *   munki/munki-facts PR #26) mean it is not protecting; they are kept in evidence.
 * - A row that does not have the six columns makes the whole listing unknown rather than
 *   silently dropping a product.
 */
import { unknown } from '../types.ts';
import type { Parsed } from './darwin-plist.ts';
import { clip } from './darwin-plist.ts';

/** Bundle-id prefixes of endpoint-protection vendors (research §3.2). */
export const EDR_BUNDLE_PREFIXES: readonly { readonly prefix: string; readonly product: string }[] = [
  { prefix: 'com.crowdstrike.falcon', product: 'CrowdStrike Falcon' },
  { prefix: 'com.sentinelone', product: 'SentinelOne' },
  { prefix: 'com.microsoft.wdav', product: 'Microsoft Defender for Endpoint' },
  { prefix: 'com.sophos', product: 'Sophos' },
  { prefix: 'com.vmware.carbonblack', product: 'VMware Carbon Black' },
];

const ACTIVE_STATE = 'activated enabled';
const COUNT_LINE = /^(\d+) extension\(s\)$/;
const CATEGORY_LINE = /^--- (\S+)$/;
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
  const [countLine, ...rows] = lines;
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
    const vendor = EDR_BUNDLE_PREFIXES.find(
      ({ prefix }) => extension.bundle_id === prefix || extension.bundle_id.startsWith(`${prefix}.`),
    );
    if (vendor) edr.push({ ...extension, product: vendor.product, active: extension.state === ACTIVE_STATE });
  }
  return { ok: true, value: { declared_count: Number(count[1]), extensions, edr } };
}
