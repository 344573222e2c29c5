/**
 * os_version on macOS, e.g. "macOS 15.7.2 (24G325)".
 *
 * `sw_vers` first: it is the only unprivileged source that includes a Rapid Security
 * Response (`ProductVersionExtra`, RSR build), which SystemVersion.plist does not get
 * (osquery/osquery#8008). When it gives no answer, read SystemVersion.plist (no process).
 */
import { parseSwVers, parseSystemVersionPlist, SYSTEM_VERSION_PLIST } from '../parsers/darwin-os-version.ts';
import type { Collector } from '../types.ts';
import { commandProblem } from '../types.ts';
import { readProblem, withFallback } from './fallback.ts';

export const osVersionCollector: Collector<'os_version'> = {
  signal: 'os_version',
  async collect(ctx) {
    const swVers = await ctx.run('sw_vers', []);
    const primary = commandProblem<string>(swVers, 'sw_vers') ?? parseSwVers(swVers.stdout);
    if (primary.value !== null) return primary;

    const read = await ctx.read(SYSTEM_VERSION_PLIST, { maxBytes: 1_000_000 });
    const fallback = read.ok
      ? parseSystemVersionPlist(read.data)
      : readProblem(read, 'SystemVersion.plist', 'unparsed_output');
    return withFallback(primary, fallback);
  },
};
