/**
 * Windows collectors. Every probe is one Windows PowerShell 5.1 run per signal (they run
 * concurrently) through the allow-listed `powershell` id, with the script passed as
 * -EncodedCommand and answering in JSON: numbers, enum names and ISO dates, never the
 * localized text of netsh, manage-bde or Get-HotFix (collectors/windows/powershell.ts).
 * Each script tries its primary source and its fallbacks in the same run and records
 * every probe's answer or error side by side; the pure parsers in
 * collectors/parsers/windows-*.ts then pick the strongest answer. Only a positive
 * observation of "off" gives false; a refused or failed probe gives null with the reason.
 */
import type { PlatformCollectors } from '../types.ts';
import { windowsAntivirusCollector } from './antivirus.ts';
import { windowsDiskEncryptionCollector } from './disk-encryption.ts';
import { windowsFirewallCollector } from './firewall.ts';
import { windowsOsVersionCollector } from './os-version.ts';
import { windowsOsVersionNumberCollector } from './os-version-number.ts';
import { windowsPatchAgeCollector } from './patch-age.ts';
import { windowsScreenLockCollector } from './screen-lock.ts';
import { windowsSecureBootCollector } from './secure-boot.ts';

export const windowsCollectors: PlatformCollectors = {
  disk_encrypted: windowsDiskEncryptionCollector,
  firewall_enabled: windowsFirewallCollector,
  antivirus_enabled: windowsAntivirusCollector,
  patch_age_days: windowsPatchAgeCollector,
  os_version: windowsOsVersionCollector,
  os_version_number: windowsOsVersionNumberCollector,
  screen_lock_enabled: windowsScreenLockCollector,
  secure_boot_enabled: windowsSecureBootCollector,
};
