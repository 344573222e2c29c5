/**
 * secure_boot_enabled on Windows, from collectors/windows/secure-boot.ts's probe:
 * `{firmware_type, confirm?, confirm_error?, confirm_error_id?, confirm_exception?,
 *   registry?, registry_error?}`.
 * - `firmware_type` is Windows' own %firmware_type% ("UEFI" | "Legacy"): Legacy boots have no
 *   Secure Boot → false.
 * - `Confirm-SecureBootUEFI` (needs Administrator/SYSTEM; Microsoft Learn, SecureBoot
 *   module): True/False. Its errors are told apart by FullyQualifiedErrorId, never by the
 *   localized message: `SetPrivilegeFailed,…` (not elevated, UnauthorizedAccessException,
 *   0x80070005) → ask the registry; `GetFWVarFailed,…` with PlatformNotSupportedException
 *   ("Cmdlet not supported on this platform: 0xC0000002", a BIOS boot; mondoohq/cnquery on
 *   Server 2016–2022) → false; anything else → the registry.
 * - `HKLM\SYSTEM\CurrentControlSet\Control\SecureBoot\State\UEFISecureBootEnabled` (DWORD,
 *   readable without elevation): 1 → true, 0 → false (also in Setup Mode: nothing enforced).
 */
import type { Finding } from '../types.ts';
import { known, unknown } from '../types.ts';
import { asBool, asInt, asRecord, asString, parseProbeOutput } from './windows-powershell.ts';

const METHOD = 'secure-boot';

interface SecureBootProbe {
  readonly firmwareType: string | null;
  readonly confirm: boolean | null;
  readonly confirmErrorId: string | null;
  readonly confirmException: string | null;
  readonly registry: number | null;
}

function read(value: unknown): SecureBootProbe | null {
  const record = asRecord(value);
  if (record === null) return null;
  return {
    firmwareType: asString(record.firmware_type)?.trim() || null,
    confirm: asBool(record.confirm),
    confirmErrorId: asString(record.confirm_error_id),
    confirmException: asString(record.confirm_exception),
    registry: asInt(record.registry),
  };
}

function decide(probe: SecureBootProbe): Finding<boolean> {
  const facts = { firmware_type: probe.firmwareType, confirm_secure_boot_uefi: probe.confirm, error_id: probe.confirmErrorId, registry_uefi_secure_boot_enabled: probe.registry };
  if (probe.firmwareType?.toLowerCase() === 'legacy') return known(false, 'firmware-type', 'Windows booted in legacy BIOS mode (%firmware_type% = Legacy), which has no Secure Boot', facts);
  if (probe.confirm !== null) {
    return known(probe.confirm, 'Confirm-SecureBootUEFI', `Confirm-SecureBootUEFI says Secure Boot is ${probe.confirm ? 'on' : 'off'}`, facts);
  }
  if (probe.confirmErrorId?.startsWith('GetFWVarFailed') && probe.confirmException?.endsWith('PlatformNotSupportedException')) {
    return known(false, 'Confirm-SecureBootUEFI', 'the firmware has no UEFI variables (Confirm-SecureBootUEFI: not supported on this platform): no Secure Boot', facts);
  }
  if (probe.registry === 1) return known(true, 'registry:SecureBoot\\State', 'UEFISecureBootEnabled = 1', facts);
  if (probe.registry === 0) return known(false, 'registry:SecureBoot\\State', 'UEFISecureBootEnabled = 0: Secure Boot is off (or the firmware is in Setup Mode)', facts);
  const notElevated = probe.confirmErrorId?.startsWith('SetPrivilegeFailed') ?? false;
  return unknown(notElevated ? 'needs_privilege' : 'unparsed_output', METHOD, `neither Confirm-SecureBootUEFI${notElevated ? ' (needs Administrator)' : probe.confirmErrorId ? ` (${probe.confirmErrorId.split(',')[0] ?? ''})` : ''} nor UEFISecureBootEnabled answered`, facts);
}

export function parseWindowsSecureBoot(text: string): Finding<boolean> {
  return parseProbeOutput(text, METHOD, 'Secure Boot', read, decide);
}
