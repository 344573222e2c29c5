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
 * - macOS 10.13/10.14 have no Data role: the boot volume is the one without roles (the
 *   others are Preboot, Recovery, VM). Its `FileVault` key decides; the first 10.13 releases
 *   have no such key at all (google/cauliflowervest `apfs_test.py`), and then `Encryption`
 *   false means not encrypted, while `Encryption` true cannot tell a T2's hardware
 *   encryption from FileVault: unknown. Several role-less volumes must agree.
 */
import type { Finding } from '../types.ts';
import { known, unknown } from '../types.ts';
import type { PlistDict, PlistValue } from './darwin-plist.ts';
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

  if (dataVolumes.length === 0) return decideRoleless(containers);
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

/** macOS 10.13/10.14: the boot volume is the role-less one (see the module comment). */
function decideRoleless(containers: readonly PlistValue[]): Finding<boolean> {
  const roleless: DataVolume[] = [];
  for (const container of containers) {
    if (!isDict(container) || !Array.isArray(container.Volumes)) continue;
    for (const volume of container.Volumes) {
      if (isDict(volume) && (stringsAt(volume, 'Roles') ?? []).length === 0) roleless.push(describe(volume));
    }
  }
  if (roleless.length === 0) {
    return unknown('no_data_volume', METHOD, `no APFS volume has the Data role or no role at all in ${containers.length} container(s) (no internal macOS install)`);
  }
  const facts = { roleless_volumes: roleless };
  const verdicts = roleless.map((volume) => (volume.filevault !== undefined ? volume.filevault : volume.hardware_encryption === false ? false : null));
  if (verdicts.some((verdict) => verdict === null)) {
    return unknown('ambiguous', METHOD, 'a role-less APFS volume (macOS 10.13/10.14) has no FileVault key and reports Encryption on, which may be hardware encryption (T2), not FileVault', facts);
  }
  if (new Set(verdicts).size > 1) {
    return unknown('ambiguous', METHOD, `role-less APFS volumes disagree (${roleless.map((volume) => `${volume.device} ${volume.filevault ?? volume.hardware_encryption ? 'on' : 'off'}`).join(', ')}) and the listing does not say which one booted`, facts);
  }
  const [first] = roleless as [DataVolume, ...DataVolume[]];
  const key = first.filevault !== undefined ? 'FileVault' : 'Encryption (no FileVault key in this macOS 10.13 listing)';
  return known(verdicts[0] === true, METHOD, `boot volume ${first.device} ("${first.name}", macOS 10.13/10.14 layout: no volume roles) has ${key} ${verdicts[0] ? 'on' : 'off'}`, facts);
}
