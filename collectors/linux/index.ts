/**
 * Linux collectors. Everything that can be answered from /proc, /sys and world-readable
 * logs is (fast, unprivileged, no process spawned); tools are run only where the kernel
 * or a vendor keeps the answer behind them (nft/iptables as root, mdatp, falconctl, zfs,
 * rpm, gsettings as a session's user), and their absence is evidence, not an error.
 */
import type { PlatformCollectors } from '../types.ts';
import { linuxAntivirus } from './antivirus.ts';
import { linuxDiskEncryption } from './disk-encryption.ts';
import { linuxFirewall } from './firewall.ts';
import { linuxOsVersion } from './os-version.ts';
import { linuxOsVersionNumber } from './os-version-number.ts';
import { linuxPatchAge } from './patch-age.ts';
import { linuxScreenLock } from './screen-lock.ts';
import { linuxSecureBoot } from './secure-boot.ts';

export const linuxCollectors: PlatformCollectors = {
  disk_encrypted: linuxDiskEncryption,
  firewall_enabled: linuxFirewall,
  antivirus_enabled: linuxAntivirus,
  patch_age_days: linuxPatchAge,
  os_version: linuxOsVersion,
  os_version_number: linuxOsVersionNumber,
  screen_lock_enabled: linuxScreenLock,
  secure_boot_enabled: linuxSecureBoot,
};
