/**
 * BitLocker on the system drive, from the JSON of collectors/windows/disk-encryption.ts:
 * `{drive, elevated, cim, cimError, shell, shellError}`.
 *
 * `cim` comes from Win32_EncryptableVolume's METHODS GetProtectionStatus and
 * GetConversionStatus. The cached ProtectionStatus property can stay 1 on a fully
 * decrypted drive (osquery PR #8931, Windows 11 24H2), so it is never read.
 * Codes (Microsoft's Win32_EncryptableVolume docs):
 * - ProtectionStatus 0 off, 1 on, 2 unknown (the volume is locked);
 * - ConversionStatus 0 FullyDecrypted, 1 FullyEncrypted, 2 EncryptionInProgress,
 *   3 DecryptionInProgress, 4 EncryptionPaused, 5 DecryptionPaused. "Used Space Only"
 *   encryption also reports 1 (only manage-bde shows the difference).
 * Mapping (research §1.2):
 * - protection 1 → true;
 * - protection 2 → null `locked`;
 * - protection 0 with conversion 0 → false; with 1 → false `suspended`: the data is
 *   encrypted but the key sits in the clear, as while BitLocker is suspended for a
 *   firmware update (fleetdm/fleet#49401) or "waiting for activation" with only a clear
 *   key (MSEndpointMgr/Intune#77: FullyEncrypted + ProtectionStatus Off); with 2/4 → false
 *   `encrypting` (fleetdm/fleet#53426); with 3/5 → false `decrypting`;
 * - CIM "Invalid namespace" (0x8004100E): the BitLocker optional component is absent
 *   (Server SKUs; fleetdm/fleet gates its query on it) → false `bitlocker_not_installed`;
 * - access denied (the namespace is Administrator-only) or any other CIM failure → the
 *   shell property System.Volume.BitLockerProtection, which any user can read. Its values
 *   are undocumented: seknox/trasa and Rectify11/Installer treat 1, 3, 5 as on; only
 *   1 → true and 2 → false are used here, with `confidence: low` in the facts; anything
 *   else is null (`needs_privilege` when the CIM probe was refused).
 * Third-party full-disk encryption (VeraCrypt, Trellix…) is invisible to both probes
 * (MicrosoftDocs/memdocs PR #1084), so `false` means "BitLocker does not protect it".
 */
import type { Finding } from '../types.ts';
import { known, unknown } from '../types.ts';
import {
  HRESULT,
  asBool,
  asInt,
  asRecord,
  asString,
  describeError,
  hresultHex,
  isAccessDenied,
  parseProbeOutput,
  readScriptError,
  withReason,
  type ScriptError,
} from './windows-powershell.ts';

export const BITLOCKER_CIM_METHOD = 'wmi:Win32_EncryptableVolume';
export const BITLOCKER_SHELL_METHOD = 'shell:System.Volume.BitLockerProtection';

const CONVERSION_STATUS = [
  'FullyDecrypted',
  'FullyEncrypted',
  'EncryptionInProgress',
  'DecryptionInProgress',
  'EncryptionPaused',
  'DecryptionPaused',
] as const;

const ENCRYPTION_METHOD = [
  'None',
  'AES_128_WITH_DIFFUSER',
  'AES_256_WITH_DIFFUSER',
  'AES_128',
  'AES_256',
  'HARDWARE_ENCRYPTION',
  'XTS_AES_128',
  'XTS_AES_256',
] as const;

export interface BitLockerVolumeStatus {
  readonly protectionStatus: number | null;
  readonly conversionStatus: number | null;
  readonly encryptionPercentage: number | null;
  readonly encryptionMethod: number | null;
  /** Non-zero ReturnValue of either method: the call itself failed. */
  readonly methodError: number | null;
}

export interface BitLockerProbe {
  readonly drive: string;
  readonly elevated: boolean | null;
  /** null: CIM not answered; 'no_volume': the namespace answered but lists no such drive. */
  readonly cim: BitLockerVolumeStatus | 'no_volume' | null;
  readonly cimError: ScriptError | null;
  readonly shell: number | null;
  readonly shellError: ScriptError | null;
}

/** The script's stdout → finding. `systemDrive` names the drive when the output does not. */
export function parseBitLockerOutput(text: string, systemDrive = 'C:'): Finding<boolean> {
  return parseProbeOutput(text, BITLOCKER_CIM_METHOD, 'BitLocker', (value) => readBitLockerProbe(value, systemDrive), decideBitLocker);
}

export function readBitLockerProbe(value: unknown, systemDrive: string): BitLockerProbe | null {
  const record = asRecord(value);
  if (record === null || !('cim' in record || 'cimError' in record)) return null;
  const drive = asString(record.drive)?.trim() || systemDrive;
  const cimRecord = asRecord(record.cim);
  let cim: BitLockerProbe['cim'] = null;
  if (cimRecord !== null) {
    if (asBool(cimRecord.found) === false) {
      cim = 'no_volume';
    } else {
      const protectionReturn = asInt(cimRecord.protectionReturn);
      const conversionReturn = asInt(cimRecord.conversionReturn);
      const methodError = [protectionReturn, conversionReturn].find((code) => code !== null && code !== 0) ?? null;
      cim = {
        protectionStatus: asInt(cimRecord.protectionStatus),
        conversionStatus: asInt(cimRecord.conversionStatus),
        encryptionPercentage: asInt(cimRecord.encryptionPercentage),
        encryptionMethod: asInt(cimRecord.encryptionMethod),
        methodError,
      };
    }
  }
  return {
    drive,
    elevated: asBool(record.elevated),
    cim,
    cimError: readScriptError(record.cimError),
    shell: asInt(record.shell),
    shellError: readScriptError(record.shellError),
  };
}

export function decideBitLocker(probe: BitLockerProbe): Finding<boolean> {
  const { drive } = probe;
  const cim = probe.cim;
  if (cim !== null && cim !== 'no_volume' && cim.methodError === null) {
    const decided = decideFromVolume(drive, cim);
    if (decided !== null) return decided;
  }
  if (probe.cimError !== null && probe.cimError.hresult === HRESULT.wbemInvalidNamespace) {
    return withReason(
      known(
        false,
        BITLOCKER_CIM_METHOD,
        `BitLocker is not installed: the MicrosoftVolumeEncryption WMI namespace does not exist (${describeError(probe.cimError)})`,
        { drive, hresult: hresultHex(probe.cimError.hresult) },
      ),
      'bitlocker_not_installed',
    );
  }
  // The CIM probe gave no answer: say why, then try the shell property.
  const cimProblem = describeCimProblem(probe);
  const denied = probe.cimError !== null && isAccessDenied(probe.cimError);
  const shell = decideFromShell(probe, cimProblem);
  if (shell !== null) return shell;
  const shellSeen =
    probe.shellError !== null
      ? `the shell property failed too: ${describeError(probe.shellError)}`
      : `the shell property System.Volume.BitLockerProtection gave ${probe.shell === null ? 'nothing' : probe.shell}, which does not say`;
  if (denied) {
    return unknown(
      'needs_privilege',
      BITLOCKER_CIM_METHOD,
      `reading BitLocker status of ${drive} needs Administrator rights (${cimProblem}); ${shellSeen}`,
      { drive, shell: probe.shell, elevated: probe.elevated },
    );
  }
  const reason = cim === null && probe.cimError === null ? 'unparsed_output' : cim === 'no_volume' ? 'volume_not_found' : 'command_failed';
  return unknown(reason, BITLOCKER_CIM_METHOD, `BitLocker status of ${drive} unknown: ${cimProblem}; ${shellSeen}`, {
    drive,
    shell: probe.shell,
    elevated: probe.elevated,
  });
}

function decideFromVolume(drive: string, volume: BitLockerVolumeStatus): Finding<boolean> | null {
  const { protectionStatus: protection, conversionStatus: conversion } = volume;
  const conversionName = conversion === null ? 'unknown' : (CONVERSION_STATUS[conversion] ?? `code ${conversion}`);
  const facts: Record<string, unknown> = {
    drive,
    protection_status: protection,
    conversion_status: conversionName,
    encryption_percentage: volume.encryptionPercentage,
    encryption_method:
      volume.encryptionMethod === null ? null : (ENCRYPTION_METHOD[volume.encryptionMethod] ?? `code ${volume.encryptionMethod}`),
  };
  const seen = `GetProtectionStatus ${protection ?? 'none'}, GetConversionStatus ${conversionName}`;
  if (protection === 1) {
    return known(true, BITLOCKER_CIM_METHOD, `BitLocker protection is on for ${drive} (${seen})`, facts);
  }
  if (protection === 2) {
    return unknown('locked', BITLOCKER_CIM_METHOD, `${drive} is locked, so its protection status is unknown (${seen})`, facts);
  }
  if (protection !== 0) return null;
  switch (conversion) {
    case 0:
      return known(false, BITLOCKER_CIM_METHOD, `${drive} is not encrypted (${seen})`, facts);
    case 1:
      return withReason(
        known(
          false,
          BITLOCKER_CIM_METHOD,
          `${drive} is encrypted but BitLocker protection is off, so the key is stored in the clear (suspended, or waiting for activation) (${seen})`,
          facts,
        ),
        'suspended',
      );
    case 2:
    case 4:
      return withReason(
        known(
          false,
          BITLOCKER_CIM_METHOD,
          `${drive} is being encrypted (${volume.encryptionPercentage ?? '?'}%) and not protected yet (${seen})`,
          facts,
        ),
        'encrypting',
      );
    case 3:
    case 5:
      return withReason(known(false, BITLOCKER_CIM_METHOD, `${drive} is being decrypted (${seen})`, facts), 'decrypting');
    default:
      return null;
  }
}

function decideFromShell(probe: BitLockerProbe, cimProblem: string): Finding<boolean> | null {
  const facts = { drive: probe.drive, shell_value: probe.shell, confidence: 'low', cim: cimProblem, elevated: probe.elevated };
  if (probe.shell === 1) {
    return known(
      true,
      BITLOCKER_SHELL_METHOD,
      `Explorer's System.Volume.BitLockerProtection for ${probe.drive} is 1 (protection on; undocumented value, low confidence) — ${cimProblem}`,
      facts,
    );
  }
  if (probe.shell === 2) {
    return known(
      false,
      BITLOCKER_SHELL_METHOD,
      `Explorer's System.Volume.BitLockerProtection for ${probe.drive} is 2 (protection off; undocumented value, low confidence) — ${cimProblem}`,
      facts,
    );
  }
  return null;
}

function describeCimProblem(probe: BitLockerProbe): string {
  if (probe.cimError !== null) {
    return isAccessDenied(probe.cimError)
      ? `Win32_EncryptableVolume refused access: ${describeError(probe.cimError)}`
      : `Win32_EncryptableVolume failed: ${describeError(probe.cimError)}`;
  }
  if (probe.cim === 'no_volume') return `Win32_EncryptableVolume lists no volume ${probe.drive}`;
  if (probe.cim !== null && probe.cim.methodError !== null) {
    return `GetProtectionStatus/GetConversionStatus returned ${hresultHex(probe.cim.methodError)}`;
  }
  if (probe.cim !== null) {
    return `unrecognised codes from Win32_EncryptableVolume (protection ${probe.cim.protectionStatus ?? 'none'}, conversion ${probe.cim.conversionStatus ?? 'none'})`;
  }
  return 'Win32_EncryptableVolume gave no answer';
}
