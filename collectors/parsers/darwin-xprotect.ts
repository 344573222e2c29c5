/**
 * XProtect.bundle `Contents/Info.plist` → the built-in anti-malware's presence and version.
 *
 * XProtect ships with every macOS and is Apple's signature-based AV; its definitions
 * version is the bundle's `CFBundleShortVersionString` (what Fleet's "Antivirus healthy"
 * policy compares, fleetdm/fleet `frontend/utilities/constants.tsx`; what
 * `defaults read …/XProtect.bundle/Contents/Info.plist CFBundleShortVersionString` prints).
 *
 * Locations: `/Library/Apple/System/Library/CoreServices/XProtect.bundle` (macOS 11+, readable
 * by everyone); on macOS 15+ the live, updated copy is `/var/protected/xprotect/XProtect.bundle`
 * (the `xprotect` CLI that reads it needs sudo). Before macOS 11 the data lived in
 * CoreTypes.bundle (osquery `xprotect.cpp`), which this agent does not support.
 *
 * Invariant: a readable Info.plist with a version string is "present"; an unreadable or
 * version-less one is unknown, never "absent".
 */
import { unknown } from '../types.ts';
import type { Parsed } from './darwin-plist.ts';
import { decodePlist, decodeProblem, isDict, stringAt } from './darwin-plist.ts';

export const XPROTECT_INFO_PLISTS = [
  '/Library/Apple/System/Library/CoreServices/XProtect.bundle/Contents/Info.plist',
  '/var/protected/xprotect/XProtect.bundle/Contents/Info.plist',
] as const;

export interface XProtectInfo {
  readonly version: string;
  readonly bundle_id?: string;
}

export function parseXProtectInfoPlist(input: string | Uint8Array): Parsed<XProtectInfo> {
  const decoded = decodePlist(input, 'XProtect Info.plist');
  if (!decoded.ok) return { ok: false, finding: decodeProblem(decoded, 'xprotect') };
  const root = decoded.value;
  if (!isDict(root)) {
    return { ok: false, finding: unknown('unparsed_output', 'xprotect', 'XProtect Info.plist is not a dictionary') };
  }
  const version = stringAt(root, 'CFBundleShortVersionString') ?? stringAt(root, 'CFBundleVersion');
  if (version === undefined || version.trim() === '') {
    return {
      ok: false,
      finding: unknown('unparsed_output', 'xprotect', 'XProtect Info.plist has no CFBundleShortVersionString'),
    };
  }
  const bundleId = stringAt(root, 'CFBundleIdentifier');
  return { ok: true, value: bundleId === undefined ? { version: version.trim() } : { version: version.trim(), bundle_id: bundleId } };
}
