/**
 * `zfs get -H -p -o property,value encryption,keystatus <dataset>`: tab-separated
 * `property<TAB>value` lines. Native encryption is on when `encryption` is anything but
 * `off` (e.g. `aes-256-gcm`); a key that is not `available` means the data is locked, which
 * cannot be the case for a mounted root, so it is reported as unknown rather than guessed.
 */
import type { Finding } from '../types.ts';
import { known, unknown } from '../types.ts';

export function parseZfsEncryption(text: string): Finding<boolean> {
  const properties = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [property, value] = line.trim().split(/\t+|\s{2,}/);
    if (property && value) properties.set(property, value);
  }
  const encryption = properties.get('encryption');
  if (encryption === undefined) {
    return text.trim() === '' ? unknown('empty_output', 'zfs', 'zfs printed nothing') : unknown('unparsed_output', 'zfs', 'no encryption property in zfs output');
  }
  if (encryption === 'off') return known(false, 'zfs', 'encryption=off');
  const keystatus = properties.get('keystatus');
  if (keystatus === 'available') return known(true, 'zfs', `encryption=${encryption}, keystatus=available`);
  return unknown('unparsed_output', 'zfs', `encryption=${encryption} but keystatus=${keystatus ?? 'missing'}`);
}
