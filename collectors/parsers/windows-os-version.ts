/**
 * Windows version, from `HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion` as printed by
 * collectors/windows/os-version.ts: `{ProductName, DisplayVersion, ReleaseId, CurrentBuild,
 * UBR, EditionID, InstallationType}` (extra keys are ignored).
 *
 * - ProductName still says "Windows 10 …" on Windows 11 (mondoohq/cnquery's
 *   build_version_test.go records "Windows 10 Enterprise" on build 26100), so a client
 *   build ≥ 22000 is named Windows 11. Server names are left alone (Server 2025 is build
 *   26100 too, and its ProductName is right).
 * - DisplayVersion ("24H2") exists since 20H2; older builds have only ReleaseId ("1809").
 * - CurrentBuild is a string, UBR a DWORD: "26100" + 2314 → build 26100.2314, the number
 *   Microsoft's release notes use (Node's os.release() has no UBR).
 * Result, e.g. "Windows 11 Pro 24H2 (build 26100.2314)".
 */
import type { Finding } from '../types.ts';
import { known, unknown } from '../types.ts';
import { asInt, asRecord, asString, parseProbeOutput } from './windows-powershell.ts';

export const REGISTRY_METHOD = 'registry:CurrentVersion';

const FIRST_WINDOWS_11_BUILD = 22_000;
const FIRST_WINDOWS_10_BUILD = 10_240;

/** CurrentBuild is a string ("26100"), on some hosts a number; null when it is not a build number. */
function buildNumber(record: Record<string, unknown>): number | null {
  const text = asString(record.CurrentBuild)?.trim() ?? (asInt(record.CurrentBuild)?.toString() || null);
  return text !== null && /^\d{4,6}$/.test(text) ? Number.parseInt(text, 10) : null;
}

export function parseWindowsVersionOutput(text: string): Finding<string> {
  return parseProbeOutput(text, REGISTRY_METHOD, 'registry', asRecord, describeVersion);
}

function describeVersion(record: Record<string, unknown>): Finding<string> {
  const productName = asString(record.ProductName)?.trim() || null;
  const editionId = asString(record.EditionID)?.trim() || null;
  const installationType = asString(record.InstallationType)?.trim() || null;
  const displayVersion = asString(record.DisplayVersion)?.trim() || asString(record.ReleaseId)?.trim() || null;
  const build = buildNumber(record);
  const ubr = asInt(record.UBR);
  if (productName === null && build === null) {
    return unknown('unparsed_output', REGISTRY_METHOD, 'CurrentVersion has neither ProductName nor CurrentBuild');
  }

  let name = productName ?? (editionId ? `Windows ${editionId}` : 'Windows');
  const renamed = build !== null && build >= FIRST_WINDOWS_11_BUILD && installationType !== 'Server' && /^Windows 10\b/.test(name);
  if (renamed) name = name.replace(/^Windows 10\b/, 'Windows 11');
  const buildPart = build === null ? '' : ` (build ${build}${ubr === null ? '' : `.${ubr}`})`;
  const version = `${name}${displayVersion ? ` ${displayVersion}` : ''}${buildPart}`;
  const facts = {
    product_name: productName,
    display_version: displayVersion,
    build,
    ubr,
    edition_id: editionId,
    installation_type: installationType,
  };
  const why = renamed ? `; ProductName says "${productName}" but build ${build} ≥ ${FIRST_WINDOWS_11_BUILD} is Windows 11` : '';
  return known(version, REGISTRY_METHOD, `${version} from HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion${why}`, facts);
}

/**
 * os_version_number on Windows: `<major>.<minor>.<build>.<UBR>` ("10.0.26100.2314"), the
 * form Microsoft's release notes and Intune's minimum OS version use. Major and minor come
 * from CurrentMajorVersionNumber / CurrentMinorVersionNumber (Windows 10 and later), else
 * 10.0 for any build ≥ 10240 (every Windows 10/11/Server 2016+ build is NT 10.0, while its
 * legacy CurrentVersion string still says "6.3"), else that CurrentVersion string (8.1).
 */
export function windowsVersionNumber(text: string): Finding<string> {
  return parseProbeOutput(text, REGISTRY_METHOD, 'registry', asRecord, versionNumber);
}

function versionNumber(record: Record<string, unknown>): Finding<string> {
  const build = buildNumber(record);
  // Every build since Windows 10's first (10240) is NT 10.0; CurrentVersion says "6.3" there for compatibility.
  const nt10 = build !== null && build >= FIRST_WINDOWS_10_BUILD;
  const legacy = /^(\d+)\.(\d+)$/.exec(asString(record.CurrentVersion)?.trim() ?? '');
  const major = asInt(record.CurrentMajorVersionNumber) ?? (nt10 ? 10 : legacy ? Number(legacy[1]) : null);
  const minor = asInt(record.CurrentMinorVersionNumber) ?? (nt10 ? 0 : legacy ? Number(legacy[2]) : null);
  const ubr = asInt(record.UBR);
  const facts = { major, minor, build, ubr };
  if (major === null || minor === null || build === null) {
    return unknown('unparsed_output', REGISTRY_METHOD, 'CurrentVersion lacks the major/minor version or the build number', facts);
  }
  const version = [major, minor, build, ...(ubr === null ? [] : [ubr])].join('.');
  return known(version, REGISTRY_METHOD, `${version} from HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion`, facts);
}
