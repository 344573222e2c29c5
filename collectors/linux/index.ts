/**
 * Linux collectors. Everything that can be answered from /proc, /sys and world-readable
 * logs is (fast, unprivileged, no process spawned); tools are run only where the kernel
 * or a vendor keeps the answer behind them (nft/iptables as root, mdatp, falconctl, zfs,
 * rpm), and their absence is evidence, not an error.
 */
import type { PlatformCollectors } from '../types.ts';
import { linuxAntivirus } from './antivirus.ts';
import { linuxDiskEncryption } from './disk-encryption.ts';
import { linuxFirewall } from './firewall.ts';
import { linuxOsVersion } from './os-version.ts';
import { linuxPatchAge } from './patch-age.ts';

export const linuxCollectors: PlatformCollectors = {
  disk_encrypted: linuxDiskEncryption,
  firewall_enabled: linuxFirewall,
  antivirus_enabled: linuxAntivirus,
  patch_age_days: linuxPatchAge,
  os_version: linuxOsVersion,
};
