/** os_version_number on macOS: the ProductVersion the os_version probe reads (sw_vers, then SystemVersion.plist). */
import { macVersionNumber } from '../parsers/darwin-os-version.ts';
import type { Collector } from '../types.ts';
import { osVersionCollector } from './os-version.ts';

export const osVersionNumberCollector: Collector<'os_version_number'> = {
  signal: 'os_version_number',
  async collect(ctx) {
    return macVersionNumber(await osVersionCollector.collect(ctx));
  },
};
