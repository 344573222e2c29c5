/**
 * secure_boot_enabled on macOS is `null` with reason `not_applicable` (SPEC 7.2): Macs do not
 * boot through UEFI Secure Boot. Their own boot security is reported as evidence:
 * - Apple silicon (`sysctl -n hw.optional.arm64` prints 1, also under Rosetta; an Intel Mac
 *   prints "unknown oid"): `system_profiler -json SPiBridgeDataType` carries the LocalPolicy
 *   summary, `ibridge_secure_boot` = "Full Security" | "Reduced Security" | "Permissive
 *   Security" (osquery secureboot.mm, osquery#8195), plus SIP (`ibridge_sb_sip`), the sealed
 *   system volume (`ibridge_sb_ssv`) and third-party kexts (`ibridge_sb_other_kext`).
 * - Intel with a T2 chip: `nvram 94b73556-2197-4702-82a8-3e1337dafbfb:AppleSecureBootPolicy`
 *   prints the variable name, a tab and `%02` (full), `%01` (medium) or `%00` (none)
 *   (osquery secureboot.mm; munkireport security.py); without T2 the variable is missing.
 * The evidence never changes the value: a policy requiring Secure Boot should not target
 * Macs (the fix text says so).
 */
import type { Finding } from '../types.ts';
import { unknown } from '../types.ts';

const METHOD = 'mac-boot-policy';

/** `system_profiler -json SPiBridgeDataType` → the boot-policy facts, or null when it has none. */
export function parseIbridgeBootPolicy(json: string): Record<string, string> | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return null;
  }
  const entries = (parsed as { SPiBridgeDataType?: unknown })?.SPiBridgeDataType;
  if (!Array.isArray(entries)) return null;
  const facts: Record<string, string> = {};
  for (const entry of entries) {
    if (entry === null || typeof entry !== 'object') continue;
    for (const [key, fact] of [
      ['ibridge_secure_boot', 'secure_boot'],
      ['ibridge_sb_sip', 'system_integrity_protection'],
      ['ibridge_sb_ssv', 'signed_system_volume'],
      ['ibridge_sb_other_kext', 'third_party_kexts'],
      ['ibridge_model_name', 'security_chip'],
    ] as const) {
      const value = (entry as Record<string, unknown>)[key];
      if (typeof value === 'string' && value.trim() !== '') facts[fact] = value.trim().slice(0, 80);
    }
  }
  return Object.keys(facts).length > 0 ? facts : null;
}

/** `nvram …:AppleSecureBootPolicy` → full / medium / none, or null. */
export function parseAppleSecureBootPolicy(output: string): 'full' | 'medium' | 'none' | null {
  const match = /AppleSecureBootPolicy\s+%0([012])\s*$/m.exec(output);
  if (!match) return null;
  return (['none', 'medium', 'full'] as const)[Number(match[1])] ?? null;
}

export function macBootSecurityFinding(facts: Readonly<Record<string, unknown>>): Finding<boolean> {
  const level = typeof facts.secure_boot === 'string' ? facts.secure_boot : typeof facts.secure_boot_policy === 'string' ? `${facts.secure_boot_policy} security (T2)` : null;
  return unknown(
    'not_applicable',
    METHOD,
    `Macs do not use UEFI Secure Boot; this Mac's own boot security: ${level ?? 'not readable without an administrator (bputil -d)'}`,
    { ...facts },
  );
}
