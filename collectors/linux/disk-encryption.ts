/**
 * Linux disk encryption: is every persistent data filesystem (the root first) on a
 * dm-crypt layer?
 *
 * Primary probe, unprivileged and process-free: /proc/self/mountinfo gives each mount's
 * device number; sysfs gives the device stack below it (`slaves/`) and what each
 * device-mapper layer is (`dm/uuid`). This sees LUKS under LVM and LVM under LUKS alike,
 * which libcryptsetup-based tools miss when not root (kolide/launcher#567, osquery#7314).
 * Fallback when sysfs is unavailable: `lsblk -J -p -s`. ZFS native encryption: `zfs get`.
 * Boot/EFI partitions are unencrypted under every Linux FDE scheme and are not counted.
 */
import type { BlockNode } from '../parsers/linux-block-devices.ts';
import { classifyDmUuid, describeStack, isEncryptedStack, parseLsblkInverse, parseUevent } from '../parsers/linux-block-devices.ts';
import type { MountEntry } from '../parsers/linux-mountinfo.ts';
import { NOT_APPLICABLE_ROOT_FILESYSTEMS, parseMountinfo, persistentDataMounts } from '../parsers/linux-mountinfo.ts';
import { parseZfsEncryption } from '../parsers/linux-zfs.ts';
import type { Collector, Finding, ProbeContext } from '../types.ts';
import { commandProblem, known, unknown } from '../types.ts';

const MAX_DEPTH = 12;

interface MountVerdict {
  readonly mount: MountEntry;
  readonly encrypted: boolean | null;
  readonly how: string;
  readonly reason?: string;
}

export const linuxDiskEncryption: Collector<'disk_encrypted'> = {
  signal: 'disk_encrypted',
  async collect(ctx) {
    if ((await ctx.stat('/proc/sys/fs/binfmt_misc/WSLInterop')).exists) {
      return unknown('not_applicable', 'wsl', 'running under WSL: the disk is the Windows host\'s (check BitLocker there)');
    }
    const mountinfo = await ctx.read('/proc/self/mountinfo');
    if (!mountinfo.ok) return unknown('command_failed', 'mountinfo', `cannot read /proc/self/mountinfo: ${mountinfo.message}`);
    const mounts = parseMountinfo(mountinfo.data.toString('utf8'));
    const root = mounts.findLast((mount) => mount.mountPoint === '/');
    if (!root) return unknown('unparsed_output', 'mountinfo', 'no root filesystem in /proc/self/mountinfo');
    if (NOT_APPLICABLE_ROOT_FILESYSTEMS.has(root.fsType)) {
      return unknown(
        'not_applicable',
        'mountinfo',
        `root filesystem is ${root.fsType} (${root.source}): a container or network root; the host's disk is not visible from here`,
      );
    }
    const dataMounts = persistentDataMounts(mounts);
    if (!dataMounts.some((mount) => mount.mountPoint === '/')) dataMounts.unshift(root);
    const verdicts: MountVerdict[] = [];
    for (const mount of dataMounts) verdicts.push(await mountEncryption(ctx, mount));
    return decide(verdicts);
  },
};

function decide(verdicts: readonly MountVerdict[]): Finding<boolean> {
  const facts = {
    mounts: verdicts.map((v) => ({ mount: v.mount.mountPoint, source: v.mount.source, fstype: v.mount.fsType, stack: v.how, encrypted: v.encrypted })),
  };
  const method = verdicts.some((v) => v.how.startsWith('lsblk')) ? 'lsblk' : verdicts.some((v) => v.how.startsWith('zfs')) ? 'zfs' : 'sysfs';
  const plain = verdicts.filter((v) => v.encrypted === false);
  if (plain.length > 0) {
    const list = plain.map((v) => `${v.mount.mountPoint} on ${v.how}`).join('; ');
    return known(false, method, `not encrypted: ${list} has no dm-crypt layer`, facts);
  }
  const undetermined = verdicts.filter((v) => v.encrypted === null);
  if (undetermined.length > 0) {
    const first = undetermined[0] as MountVerdict;
    return unknown(first.reason ?? 'unparsed_output', method, `could not tell for ${undetermined.map((v) => `${v.mount.mountPoint} (${v.how})`).join('; ')}`, facts);
  }
  return known(true, method, `encrypted: ${verdicts.map((v) => `${v.mount.mountPoint} on ${v.how}`).join('; ')}`, facts);
}

async function mountEncryption(ctx: ProbeContext, mount: MountEntry): Promise<MountVerdict> {
  if (mount.fsType === 'zfs') return zfsEncryption(ctx, mount);
  const start = await findSysfsDevice(ctx, mount);
  if (start !== null) {
    const stack = await readStack(ctx, start, 0);
    if (stack !== null) return { mount, encrypted: isEncryptedStack(stack), how: describeStack(stack) };
  }
  // No usable sysfs (unusual: chroots, hardened /sys): ask lsblk about the mount source.
  if (!mount.source.startsWith('/dev/')) {
    return { mount, encrypted: null, how: `source ${mount.source}`, reason: 'unparsed_output' };
  }
  const result = await ctx.run('lsblk', ['-J', '-p', '-s', '-o', 'NAME,TYPE,FSTYPE,MOUNTPOINT', mount.source.replace(/\[.*\]$/, '')]);
  const problem = commandProblem(result, 'lsblk');
  if (problem) return { mount, encrypted: null, how: `lsblk: ${problem.detail}`, reason: problem.reason ?? 'command_failed' };
  const tree = parseLsblkInverse(result.stdout);
  if (tree === null) return { mount, encrypted: null, how: 'lsblk: unrecognised output', reason: 'unparsed_output' };
  return { mount, encrypted: isEncryptedStack(tree), how: `lsblk: ${describeStack(tree)}` };
}

/** The sysfs directory name (`dm-1`, `nvme0n1p3`) of the device a mount sits on. */
async function findSysfsDevice(ctx: ProbeContext, mount: MountEntry): Promise<string | null> {
  if (!mount.majorMinor.startsWith('0:')) {
    const uevent = await ctx.read(`/sys/dev/block/${mount.majorMinor}/uevent`);
    if (uevent.ok) return parseUevent(uevent.data.toString('utf8')).DEVNAME ?? null;
  }
  // Anonymous device (btrfs and friends): resolve the source path instead.
  const source = mount.source.replace(/\[.*\]$/, '');
  const mapper = /^\/dev\/mapper\/(.+)$/.exec(source);
  if (mapper) {
    const listing = await ctx.list('/sys/class/block');
    if (!listing.ok) return null;
    for (const entry of listing.entries.filter((name) => name.startsWith('dm-'))) {
      const dmName = await ctx.read(`/sys/class/block/${entry}/dm/name`);
      if (dmName.ok && dmName.data.toString('utf8').trim() === mapper[1]) return entry;
    }
    return null;
  }
  const plainDevice = /^\/dev\/([^/]+)$/.exec(source);
  return plainDevice ? (plainDevice[1] as string) : null;
}

async function readStack(ctx: ProbeContext, name: string, depth: number): Promise<BlockNode | null> {
  if (depth > MAX_DEPTH) return null;
  const base = `/sys/class/block/${name}`;
  const uevent = await ctx.read(`${base}/uevent`);
  if (!uevent.ok) return null;
  const fields = parseUevent(uevent.data.toString('utf8'));
  let type = fields.DEVTYPE === 'partition' ? 'part' : 'disk';
  let cryptType: string | undefined;
  let displayName = fields.DEVNAME ?? name;
  const dmUuid = await ctx.read(`${base}/dm/uuid`);
  if (dmUuid.ok) {
    const classified = classifyDmUuid(dmUuid.data.toString('utf8'));
    type = classified.type;
    cryptType = classified.cryptType;
    const dmName = await ctx.read(`${base}/dm/name`);
    if (dmName.ok) displayName = dmName.data.toString('utf8').trim();
  } else if (/^md\d+/.test(name)) {
    type = 'raid';
  } else if (/^loop\d+/.test(name)) {
    type = 'loop';
  }
  const slaves = await ctx.list(`${base}/slaves`);
  const lower: BlockNode[] = [];
  if (slaves.ok) {
    for (const slave of slaves.entries) {
      const node = await readStack(ctx, slave, depth + 1);
      if (node === null) return null;
      lower.push(node);
    }
  }
  return { name: displayName, type, ...(cryptType ? { cryptType } : {}), lower };
}

async function zfsEncryption(ctx: ProbeContext, mount: MountEntry): Promise<MountVerdict> {
  const result = await ctx.run('zfs', ['get', '-H', '-p', '-o', 'property,value', 'encryption,keystatus', mount.source]);
  const problem = commandProblem(result, 'zfs');
  if (problem) return { mount, encrypted: null, how: `zfs: ${problem.detail}`, reason: problem.reason ?? 'command_failed' };
  const finding = parseZfsEncryption(result.stdout);
  return {
    mount,
    encrypted: finding.value,
    how: `zfs dataset ${mount.source}: ${finding.detail}`,
    ...(finding.reason ? { reason: finding.reason } : {}),
  };
}
