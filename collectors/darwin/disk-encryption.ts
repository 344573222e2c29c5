/**
 * disk_encrypted on macOS: FileVault.
 *
 * Primary `fdesetup status` (readable without root); when it gives no answer (missing,
 * failed, unrecognised output), fall back to `diskutil apfs list -plist` and read the
 * `FileVault` flag of the Data-role volume (never `Encryption`, which is hardware
 * encryption on T2/Apple-silicon Macs and true even with FileVault off).
 */
import { parseApfsList } from '../parsers/darwin-diskutil.ts';
import { parseFdesetupStatus } from '../parsers/darwin-fdesetup.ts';
import type { Collector } from '../types.ts';
import { commandProblem } from '../types.ts';
import { withFallback } from './fallback.ts';

export const diskEncryptionCollector: Collector<'disk_encrypted'> = {
  signal: 'disk_encrypted',
  async collect(ctx) {
    const status = await ctx.run('fdesetup', ['status']);
    const primary = commandProblem<boolean>(status, 'fdesetup') ?? parseFdesetupStatus(status.stdout);
    if (primary.value !== null) return primary;

    const apfs = await ctx.run('diskutil', ['apfs', 'list', '-plist']);
    const fallback = commandProblem<boolean>(apfs, 'diskutil') ?? parseApfsList(apfs.stdout);
    return withFallback(primary, fallback);
  },
};
