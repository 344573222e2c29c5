/**
 * The macOS collectors, one per signal.
 *
 * Model: every answer comes from an unprivileged, structured source where one exists, and
 * each collector is a short ordered chain: a primary probe, then a fallback only when the
 * primary could not tell. Enums and plist keys decide, never prose; only a positive
 * observation of "off" yields false, and anything else is null with evidence.
 * - disk_encrypted: `fdesetup status` → `diskutil apfs list -plist` (Data volume's FileVault).
 * - firewall_enabled: `socketfilterfw --getglobalstate` → `system_profiler SPFirewallDataType`.
 * - antivirus_enabled: XProtect presence (built-in) or an active EDR (system extensions,
 *   `mdatp health`); false only when every probe observed absence.
 * - patch_age_days: the last OS update in /Library/Receipts/InstallHistory.plist.
 * - os_version: `sw_vers` (includes Rapid Security Responses) → SystemVersion.plist;
 *   os_version_number: its ProductVersion.
 * - screen_lock_enabled: an MDM screen saver profile → `sysadminctl -screenLock status` in
 *   the console user's session.
 * - secure_boot_enabled: not applicable on a Mac; its boot policy is evidence.
 * Parsing lives in collectors/parsers/darwin-*.ts as pure functions.
 */
import type { PlatformCollectors } from '../types.ts';
import { antivirusCollector } from './antivirus.ts';
import { diskEncryptionCollector } from './disk-encryption.ts';
import { firewallCollector } from './firewall.ts';
import { osVersionCollector } from './os-version.ts';
import { osVersionNumberCollector } from './os-version-number.ts';
import { patchAgeCollector } from './patch-age.ts';
import { screenLockCollector } from './screen-lock.ts';
import { secureBootCollector } from './secure-boot.ts';

export const darwinCollectors: PlatformCollectors = {
  disk_encrypted: diskEncryptionCollector,
  firewall_enabled: firewallCollector,
  antivirus_enabled: antivirusCollector,
  patch_age_days: patchAgeCollector,
  os_version: osVersionCollector,
  os_version_number: osVersionNumberCollector,
  screen_lock_enabled: screenLockCollector,
  secure_boot_enabled: secureBootCollector,
};
