/**
 * Is a block device's data encrypted? The device stack is a tree from the device a
 * filesystem sits on down to physical disks: LVM-on-LUKS (`lvm → crypt → part`),
 * LUKS-on-LVM (`crypt → lvm → part`), RAID (`crypt → md → part…`), or plain.
 *
 * Rule: a crypt layer encrypts everything above it; a device without one is encrypted
 * only if it has lower devices and ALL of them are encrypted (an LVM volume spanning one
 * encrypted and one plain disk is not encrypted). A disk or partition is a leaf.
 *
 * Device-mapper uuids (sysfs `dm/uuid`) say what a dm device is: cryptsetup sets
 * `CRYPT-<TYPE>-…` (LUKS1, LUKS2, PLAIN, BITLK, TCRYPT, …), LVM `LVM-…`. cryptsetup also
 * uses `CRYPT-VERITY-` and `CRYPT-INTEGRITY-` for dm-verity/dm-integrity, which protect
 * integrity, not confidentiality: those are NOT encryption.
 */
export interface BlockNode {
  readonly name: string;
  /** `disk`, `part`, `crypt`, `lvm`, `raid1`, `dm`, `loop`, … (lsblk's TYPE vocabulary). */
  readonly type: string;
  /** For crypt layers: `LUKS2`, `PLAIN`, … when known. */
  readonly cryptType?: string;
  readonly lower: readonly BlockNode[];
}

export function isEncryptedStack(node: BlockNode): boolean {
  if (node.type === 'crypt') return true;
  if (node.lower.length === 0) return false;
  return node.lower.every(isEncryptedStack);
}

/** `vda (disk)`, `data-root (lvm) → cryptdata (crypt LUKS2) → nvme0n1p3 (part)`. */
export function describeStack(node: BlockNode): string {
  const self = `${node.name} (${node.type}${node.cryptType ? ` ${node.cryptType}` : ''})`;
  if (node.lower.length === 0) return self;
  const below = node.lower.map(describeStack);
  return below.length === 1 ? `${self} → ${below[0]}` : `${self} → [${below.join(' + ')}]`;
}

/** Classifies a device-mapper uuid: a crypt layer (with its type) or another dm target. */
export function classifyDmUuid(uuid: string): { type: string; cryptType?: string } {
  const match = /^CRYPT-([A-Z0-9]+)-/.exec(uuid.trim());
  if (match) {
    const cryptType = match[1] as string;
    if (cryptType === 'VERITY' || cryptType === 'INTEGRITY') return { type: `dm-${cryptType.toLowerCase()}` };
    return { type: 'crypt', cryptType };
  }
  if (uuid.startsWith('LVM-')) return { type: 'lvm' };
  if (uuid.startsWith('mpath-')) return { type: 'mpath' };
  return { type: 'dm' };
}

/** `KEY=value` lines of a sysfs uevent file. */
export function parseUevent(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) fields[line.slice(0, eq)] = line.slice(eq + 1).trim();
  }
  return fields;
}

interface LsblkDevice {
  name?: unknown;
  type?: unknown;
  children?: unknown;
}

/**
 * `lsblk -J -p -s -o NAME,TYPE,FSTYPE,MOUNTPOINT <device>`: with `-s` (inverse) the
 * "children" of a device are the devices it sits ON, i.e. exactly the lower layers.
 * Returns null when the text is not that shape. FSTYPE may be empty for non-root users
 * (it comes from the udev database), so the decision uses TYPE only.
 */
export function parseLsblkInverse(text: string): BlockNode | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  const devices = (parsed as { blockdevices?: unknown })?.blockdevices;
  if (!Array.isArray(devices) || devices.length === 0) return null;
  const toNode = (device: LsblkDevice, depth: number): BlockNode | null => {
    if (depth > 16 || typeof device !== 'object' || device === null) return null;
    if (typeof device.name !== 'string' || typeof device.type !== 'string') return null;
    const children = Array.isArray(device.children) ? device.children : [];
    const lower: BlockNode[] = [];
    for (const child of children) {
      const node = toNode(child as LsblkDevice, depth + 1);
      if (node === null) return null;
      lower.push(node);
    }
    return {
      name: device.name.replace(/^\/dev\/(mapper\/)?/, ''),
      type: device.type,
      lower,
    };
  };
  return toNode(devices[0] as LsblkDevice, 0);
}
