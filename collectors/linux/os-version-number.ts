/** os_version_number on Linux: os-release's VERSION_ID (collectors/parsers/linux-os-release.ts). */
import { osReleaseVersionNumber } from '../parsers/linux-os-release.ts';
import type { Collector } from '../types.ts';
import { unknown } from '../types.ts';

export const linuxOsVersionNumber: Collector<'os_version_number'> = {
  signal: 'os_version_number',
  async collect(ctx) {
    for (const path of ['/etc/os-release', '/usr/lib/os-release']) {
      const file = await ctx.read(path);
      if (file.ok) return osReleaseVersionNumber(file.data.toString('utf8'));
    }
    return unknown('unparsed_output', 'os-release', 'neither /etc/os-release nor /usr/lib/os-release could be read');
  },
};
