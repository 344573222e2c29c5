/** Linux OS version: /etc/os-release (falling back to /usr/lib/os-release), plus the kernel release. */
import { osReleaseFinding } from '../parsers/linux-os-release.ts';
import type { Collector } from '../types.ts';
import { known, unknown } from '../types.ts';

export const linuxOsVersion: Collector<'os_version'> = {
  signal: 'os_version',
  async collect(ctx) {
    const kernelFile = await ctx.read('/proc/sys/kernel/osrelease');
    const kernel = kernelFile.ok ? kernelFile.data.toString('utf8').trim() : null;
    for (const path of ['/etc/os-release', '/usr/lib/os-release']) {
      const file = await ctx.read(path);
      if (file.ok) return osReleaseFinding(file.data.toString('utf8'), kernel);
    }
    if (kernel) return known(`Linux ${kernel}`, 'kernel', `no os-release file; kernel ${kernel}`, { kernel });
    return unknown('unparsed_output', 'os-release', 'neither /etc/os-release nor /usr/lib/os-release nor the kernel release could be read');
  },
};
