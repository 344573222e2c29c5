/**
 * macOS version → os_version, e.g. "macOS 15.7.2 (24G325)" or "macOS 13.3.1 (a) (22E772610a)".
 *
 * Two sources:
 * - `sw_vers` prints `Key:<tabs>Value` lines (osquery/osquery#8008, macOS 13.3.1 + RSR):
 *     ProductName:		macOS
 *     ProductVersion:		13.3.1
 *     ProductVersionExtra:	(a)
 *     BuildVersion:		22E772610a
 *   Older releases print one tab and `Mac OS X`. Split on the first colon, trim both sides.
 * - `/System/Library/CoreServices/SystemVersion.plist` (keys ProductName, ProductVersion,
 *   ProductBuildVersion). Quirk: a Rapid Security Response does NOT update this file; the
 *   RSR's `ProductVersionExtra` and build live only in the Preboot cryptex copy
 *   (osquery/osquery#8008, ydkhatri/mac_apt#95). So `sw_vers` is preferred, and a version read
 *   from the file says in facts that an RSR suffix may be missing.
 *
 * Invariant: ProductVersion must be dotted digits; a missing name or version is unknown.
 */
import type { Finding } from '../types.ts';
import { known, unknown } from '../types.ts';
import { clip, decodePlist, decodeProblem, isDict, stringAt } from './darwin-plist.ts';

export const SYSTEM_VERSION_PLIST = '/System/Library/CoreServices/SystemVersion.plist';

const VERSION = /^\d+(?:\.\d+){0,3}$/;
const BUILD = /^[0-9A-Za-z]+$/;

interface MacVersion {
  readonly name: string;
  readonly version: string;
  readonly extra?: string;
  readonly build?: string;
}

export function parseSwVers(stdout: string): Finding<string> {
  const method = 'sw_vers';
  const fields = new Map<string, string>();
  for (const line of stdout.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    fields.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  if (stdout.trim() === '') return unknown('empty_output', method, '`sw_vers` printed nothing');
  return decide(
    {
      name: fields.get('ProductName'),
      version: fields.get('ProductVersion'),
      extra: fields.get('ProductVersionExtra'),
      build: fields.get('BuildVersion'),
    },
    method,
    '`sw_vers`',
  );
}

export function parseSystemVersionPlist(input: string | Uint8Array): Finding<string> {
  const method = 'SystemVersion.plist';
  const decoded = decodePlist(input, 'SystemVersion.plist');
  if (!decoded.ok) return decodeProblem(decoded, method);
  const root = decoded.value;
  if (!isDict(root)) return unknown('unparsed_output', method, 'SystemVersion.plist is not a dictionary');
  const finding = decide(
    {
      name: stringAt(root, 'ProductName'),
      version: stringAt(root, 'ProductVersion'),
      extra: stringAt(root, 'ProductVersionExtra'),
      build: stringAt(root, 'ProductBuildVersion'),
    },
    method,
    SYSTEM_VERSION_PLIST,
  );
  if (finding.value === null) return finding;
  return { ...finding, facts: { ...finding.facts, rapid_security_response_may_be_missing: true } };
}

function decide(
  raw: { name?: string | undefined; version?: string | undefined; extra?: string | undefined; build?: string | undefined },
  method: string,
  source: string,
): Finding<string> {
  const name = raw.name?.trim();
  const version = raw.version?.trim();
  if (!name || !version) {
    return unknown('unparsed_output', method, `${source} has no ${name ? 'ProductVersion' : 'ProductName'}`);
  }
  if (!VERSION.test(version)) {
    return unknown('unparsed_output', method, `${source} ProductVersion "${clip(version, 40)}" is not a version number`);
  }
  const parsed: MacVersion = {
    name,
    version,
    ...(raw.extra?.trim() ? { extra: raw.extra.trim() } : {}),
    ...(raw.build?.trim() && BUILD.test(raw.build.trim()) ? { build: raw.build.trim() } : {}),
  };
  const text = [parsed.name, parsed.version, parsed.extra, parsed.build ? `(${parsed.build})` : undefined]
    .filter((part) => part !== undefined)
    .join(' ');
  return known(text, method, `${source} reports ${text}`, {
    product_name: parsed.name,
    product_version: parsed.version,
    ...(parsed.extra ? { product_version_extra: parsed.extra } : {}),
    ...(parsed.build ? { build_version: parsed.build } : {}),
  });
}

/**
 * os_version_number on macOS: the ProductVersion of an os_version finding ("14.4.1"). A
 * Rapid Security Response's "(a)" is not part of the number: Apple numbers the release it
 * patches, and a minimum of 14.4.1 is met by 14.4.1 (a).
 */
export function macVersionNumber(osVersion: Finding<string>): Finding<string> {
  const version = osVersion.facts?.product_version;
  if (osVersion.value === null || typeof version !== 'string') {
    return { ...osVersion, value: null, reason: osVersion.reason ?? 'unparsed_output' };
  }
  return known(version, osVersion.method, `ProductVersion ${version} (${osVersion.value})`, { ...osVersion.facts });
}
