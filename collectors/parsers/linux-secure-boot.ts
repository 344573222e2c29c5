/**
 * secure_boot_enabled on Linux from the UEFI variables the kernel exposes in efivarfs
 * (Documentation/filesystems/efivarfs.rst: each file is 4 bytes of attributes, little
 * endian, then the variable's data; readable by every user, mode 0644):
 * - `SecureBoot-8be4df61-…`: one byte, 1 = the firmware enforces Secure Boot;
 * - `SetupMode-8be4df61-…`: one byte, 1 = no Platform Key enrolled (nothing is enforced);
 * - `MokSBStateRT-605dab50-…`: exists when shim's own validation was turned off
 *   (`mokutil --disable-validation`): Secure Boot is then on in name only (systemd reports
 *   it as "disabled (tainted)", mokutil as "SecureBoot validation is disabled in shim").
 * Rules (osquery's secureboot table and systemd's `bootctl status` decide the same way):
 * no /sys/firmware/efi → a legacy BIOS boot, which has no Secure Boot: false; UEFI without a
 * SecureBoot variable → firmware without Secure Boot support: false; SecureBoot=1 with
 * SetupMode=0 and shim validating → true; SecureBoot=0 or SetupMode=1 → false; a variable of
 * the wrong size or value, or one that cannot be read → unknown.
 */
import type { Finding } from '../types.ts';
import { known, unknown } from '../types.ts';

export const EFI_DIR = '/sys/firmware/efi';
export const EFIVARS_DIR = '/sys/firmware/efi/efivars';
export const SECURE_BOOT_VAR = `${EFIVARS_DIR}/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c`;
export const SETUP_MODE_VAR = `${EFIVARS_DIR}/SetupMode-8be4df61-93ca-11d2-aa0d-00e098032b8c`;
export const MOK_SB_STATE_VAR = `${EFIVARS_DIR}/MokSBStateRT-605dab50-e046-4300-abb6-3dd810dd8b23`;
const METHOD = 'efivars';

/** The one-byte value of an efivarfs file, or null when it is not 4 attribute bytes plus 0 or 1. */
export function efiBooleanVariable(data: Uint8Array): 0 | 1 | null {
  if (data.length !== 5) return null;
  const value = data[4];
  return value === 0 || value === 1 ? value : null;
}

export interface SecureBootVariables {
  /** Whether /sys/firmware/efi exists (false: a legacy BIOS boot). */
  readonly uefi: boolean;
  /** The SecureBoot variable's bytes; null when the firmware has none; 'unreadable' when it could not be read. */
  readonly secureBoot: Uint8Array | null | 'unreadable';
  readonly setupMode: Uint8Array | null | 'unreadable';
  readonly shimValidationDisabled: boolean;
}

export function secureBootFinding(vars: SecureBootVariables): Finding<boolean> {
  if (!vars.uefi) return known(false, METHOD, `no ${EFI_DIR}: booted in legacy BIOS mode, which has no Secure Boot`, { uefi: false });
  if (vars.secureBoot === 'unreadable') return unknown('needs_privilege', METHOD, `${SECURE_BOOT_VAR} could not be read`, { uefi: true });
  if (vars.secureBoot === null) return known(false, METHOD, 'UEFI firmware without a SecureBoot variable: Secure Boot is not supported', { uefi: true, supported: false });
  const secureBoot = efiBooleanVariable(vars.secureBoot);
  const setupMode = vars.setupMode === null || vars.setupMode === 'unreadable' ? null : efiBooleanVariable(vars.setupMode);
  const facts = { uefi: true, secure_boot: secureBoot, setup_mode: setupMode, shim_validation_disabled: vars.shimValidationDisabled };
  if (secureBoot === null) return unknown('unparsed_output', METHOD, `SecureBoot is ${vars.secureBoot.length} bytes (${Buffer.from(vars.secureBoot).toString('hex').slice(0, 20)}), not 4 attribute bytes and 0 or 1`, facts);
  if (secureBoot === 0) return known(false, METHOD, 'the firmware reports Secure Boot off (SecureBoot=0)', facts);
  if (setupMode === 1) return known(false, METHOD, 'the firmware is in Setup Mode (no Platform Key enrolled): nothing is enforced', facts);
  if (setupMode === null) return unknown('unparsed_output', METHOD, 'SecureBoot=1 but SetupMode is missing or malformed, so enforcement cannot be confirmed', facts);
  if (vars.shimValidationDisabled) return known(false, METHOD, 'Secure Boot is on in the firmware but shim\'s validation is disabled (MokSBStateRT present): unsigned kernels boot', facts);
  return known(true, METHOD, 'Secure Boot is enforced (SecureBoot=1, SetupMode=0)', facts);
}
