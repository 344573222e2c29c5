/**
 * patch_age_days on macOS: days since the last OS update in /Library/Receipts/InstallHistory.plist.
 *
 * A file read (world-readable, no process). A missing or unreadable history is null, never 0.
 * `softwareupdate --history` is not a fallback (locale-formatted dates; see the parser).
 */
import { decideDarwinPatchAge, parseInstallHistory } from '../parsers/darwin-install-history.ts';
import type { Collector } from '../types.ts';
import { readProblem } from './fallback.ts';

export const INSTALL_HISTORY_PLIST = '/Library/Receipts/InstallHistory.plist';
const INSTALL_HISTORY_MAX_BYTES = 32 * 1024 * 1024;

export const patchAgeCollector: Collector<'patch_age_days'> = {
  signal: 'patch_age_days',
  async collect(ctx) {
    const read = await ctx.read(INSTALL_HISTORY_PLIST, { maxBytes: INSTALL_HISTORY_MAX_BYTES });
    if (!read.ok) return readProblem(read, 'InstallHistory.plist', 'no_history');
    const history = parseInstallHistory(read.data);
    if (!history.ok) return history.finding;
    return decideDarwinPatchAge(history.value, ctx.now());
  },
};
