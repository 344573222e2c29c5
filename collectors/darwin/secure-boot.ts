/**
 * secure_boot_enabled on macOS: always null with `not_applicable`; the Mac's own boot
 * security goes into evidence (collectors/parsers/darwin-boot-security.ts).
 */
import { macBootSecurityFinding, parseAppleSecureBootPolicy, parseIbridgeBootPolicy } from '../parsers/darwin-boot-security.ts';
import type { Collector } from '../types.ts';

export const secureBootCollector: Collector<'secure_boot_enabled'> = {
  signal: 'secure_boot_enabled',
  async collect(ctx) {
    const arm = await ctx.run('sysctl', ['-n', 'hw.optional.arm64']);
    const appleSilicon = arm.exitCode === 0 && arm.stdout.trim() === '1';
    if (appleSilicon) {
      const profile = await ctx.run('system_profiler', ['-json', 'SPiBridgeDataType']);
      return macBootSecurityFinding({ apple_silicon: true, ...(profile.exitCode === 0 ? (parseIbridgeBootPolicy(profile.stdout) ?? {}) : {}) });
    }
    const nvram = await ctx.run('nvram', ['94b73556-2197-4702-82a8-3e1337dafbfb:AppleSecureBootPolicy']);
    const policy = nvram.exitCode === 0 ? parseAppleSecureBootPolicy(nvram.stdout) : null;
    // No variable ("data was not found"): an Intel Mac without a T2 chip.
    const noT2 = policy === null && /data was not found/.test(nvram.stderr);
    return macBootSecurityFinding({ apple_silicon: false, ...(policy !== null ? { t2: true, secure_boot_policy: policy } : noT2 ? { t2: false } : {}) });
  },
};
