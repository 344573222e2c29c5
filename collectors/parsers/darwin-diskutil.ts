/**
 * `diskutil apfs list -plist` → disk_encrypted (the fallback when `fdesetup` gives no answer).
 *
 * Shape: `{ Containers: [ { ContainerReference, Volumes: [ { DeviceIdentifier, Name,
 * Roles: [..], Encryption: bool, FileVault: bool, Locked: bool, ... } ] } ] }` (kolide/launcher
 * `ee/tables/execparsers/plist/test-data/diskutil-apfs.txt`).
 *
 * Invariants:
 * - The volume that matters is the one whose `Roles` contains `Data` (macOS 10.15+ split the
 *   system into a sealed System volume and a writable Data volume; user data lives on Data).
 * - Its `FileVault` key is read, never `Encryption`: on T2 and Apple-silicon Macs every
 *   internal APFS volume is hardware-encrypted, so `Encryption` is true even with FileVault
 *   off (why osquery added `filevault_status`, PR #6823, and Fleet keys on it).
 * - Several Data volumes (a second macOS install, an external boot disk) must agree; if
 *   they do not, the boot volume cannot be told from this listing and the answer is unknown.
 * - macOS ≤ 10.14 has no Data role: unknown (`no_data_volume`), never a guess from the
 *   role-less boot volume.
 */
import type { Finding } from '../types.ts';
import { known, unknown } from '../types.ts';
import type { PlistDict } from './darwin-plist.ts';
import { booleanAt, decodePlist, decodeProblem, isDict, stringAt, stringsAt } from './darwin-plist.ts';

const METHOD = 'diskutil';

interface DataVolume {
  readonly device: string;
  readonly name: string;
  readonly filevault: boolean | undefined;
  readonly hardware_encryption: boolean | undefined;
}

export function parseApfsList(stdout: string): Finding<boolean> {
  const decoded = decodePlist(stdout, '`diskutil apfs list -plist` output');
  if (!decoded.ok) return decodeProblem(decoded, METHOD);
  const root = decoded.value;
  const containers = isDict(root) ? root.Containers : undefined;
  if (!Array.isArray(containers)) {
    return unknown('unparsed_output', METHOD, '`diskutil apfs list -plist` has no Containers array');
  }

  const dataVolumes: DataVolume[] = [];
  for (const container of containers) {
    if (!isDict(container)) continue;
    const volumes = container.Volumes;
    if (!Array.isArray(volumes)) continue;
    for (const volume of volumes) {
      if (isDict(volume) && (stringsAt(volume, 'Roles') ?? []).includes('Data')) dataVolumes.push(describe(volume));
    }
  }

  if (dataVolumes.length === 0) {
    return unknown(
      'no_data_volume',
      METHOD,
      `no APFS volume has the Data role in ${containers.length} container(s) (macOS before 10.15, or no internal macOS install)`,
    );
  }
  const facts = { data_volumes: dataVolumes };
  const malformed = dataVolumes.find((volume) => volume.filevault === undefined);
  if (malformed) {
    return unknown('unparsed_output', METHOD, `Data volume ${malformed.device} has no boolean FileVault key`, facts);
  }
  const states = new Set(dataVolumes.map((volume) => volume.filevault));
  if (states.size > 1) {
    const list = dataVolumes.map((volume) => `${volume.device} ${volume.filevault ? 'on' : 'off'}`).join(', ');
    return unknown(
      'ambiguous',
      METHOD,
      `Data volumes disagree on FileVault (${list}) and the listing does not say which one booted`,
      facts,
    );
  }
  const [first] = dataVolumes as [DataVolume, ...DataVolume[]];
  const which =
    dataVolumes.length === 1 ? `APFS Data volume ${first.device} ("${first.name}")` : `all ${dataVolumes.length} APFS Data volumes`;
  const hardwareNote = first.filevault ? '' : ' (its Encryption flag is hardware encryption, which does not count)';
  return known(first.filevault === true, METHOD, `${which} has FileVault ${first.filevault ? 'on' : 'off'}${hardwareNote}`, facts);
}

function describe(volume: PlistDict): DataVolume {
  return {
    device: stringAt(volume, 'DeviceIdentifier') ?? '(no device identifier)',
    name: stringAt(volume, 'Name') ?? '',
    filevault: booleanAt(volume, 'FileVault'),
    hardware_encryption: booleanAt(volume, 'Encryption'),
  };
}
