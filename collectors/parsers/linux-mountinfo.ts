/**
 * /proc/self/mountinfo (proc(5)):
 *   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 *   (1)(2) (3)   (4)   (5)      (6)      (7)   (8) (9)   (10)         (11)
 * Field 7 is zero or more optional fields ended by a lone "-". Paths escape space, tab,
 * newline and backslash as octal (\040, \011, \012, \134). Btrfs (and other multi-device
 * filesystems) report an anonymous major 0 in field 3, so the real device comes from the
 * source (field 10) instead.
 */
export interface MountEntry {
  readonly majorMinor: string;
  readonly mountPoint: string;
  readonly options: readonly string[];
  readonly fsType: string;
  readonly source: string;
}

const unescapeOctal = (text: string) => text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));

export function parseMountinfo(text: string): MountEntry[] {
  const mounts: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ');
    const separator = fields.indexOf('-', 6);
    if (fields.length < 10 || separator < 0 || separator + 2 >= fields.length) continue;
    const majorMinor = fields[2] as string;
    if (!/^\d+:\d+$/.test(majorMinor)) continue;
    mounts.push({
      majorMinor,
      mountPoint: unescapeOctal(fields[4] as string),
      options: (fields[5] as string).split(','),
      fsType: fields[separator + 1] as string,
      source: unescapeOctal(fields[separator + 2] as string),
    });
  }
  return mounts;
}

/** Filesystems that keep data on a local block device (what "disk encryption" is about). */
export const BLOCK_FILESYSTEMS = new Set([
  'ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'f2fs', 'jfs', 'reiserfs', 'nilfs2', 'bcachefs', 'vfat', 'exfat', 'ntfs', 'ntfs3', 'zfs',
]);

/** Root filesystems on which disk encryption is not this host's to answer (containers, network roots, WSL). */
export const NOT_APPLICABLE_ROOT_FILESYSTEMS = new Set(['overlay', 'tmpfs', 'nfs', 'nfs4', '9p', 'virtiofs', 'fuse', 'ramfs', 'rootfs', 'squashfs', 'cifs', 'smb3']);

/** Firmware and boot partitions: unencrypted by design under every Linux FDE scheme. */
export function isBootMount(mountPoint: string): boolean {
  return mountPoint === '/boot' || mountPoint.startsWith('/boot/') || mountPoint === '/efi';
}

/**
 * Persistent, writable, local data mounts other than the root: what else must be
 * encrypted for the device to count as encrypted. One entry per device (bind mounts of
 * the same device are the same data).
 */
export function persistentDataMounts(mounts: readonly MountEntry[]): MountEntry[] {
  const seen = new Set<string>();
  const result: MountEntry[] = [];
  for (const mount of mounts) {
    if (!BLOCK_FILESYSTEMS.has(mount.fsType) || isBootMount(mount.mountPoint)) continue;
    if (mount.options.includes('ro')) continue;
    if (/^\/dev\/loop\d+/.test(mount.source)) continue; // file-backed: inherits from the filesystem holding the file
    const device = mount.majorMinor.startsWith('0:') ? mount.source : mount.majorMinor;
    if (seen.has(device)) continue;
    seen.add(device);
    result.push(mount);
  }
  return result;
}
