/** secure_boot_enabled on Linux: the UEFI variables in efivarfs (collectors/parsers/linux-secure-boot.ts). No root needed. */
import { EFI_DIR, MOK_SB_STATE_VAR, SECURE_BOOT_VAR, SETUP_MODE_VAR, secureBootFinding } from '../parsers/linux-secure-boot.ts';
import type { Collector, ProbeContext } from '../types.ts';

async function variable(ctx: ProbeContext, path: string): Promise<Uint8Array | null | 'unreadable'> {
  const file = await ctx.read(path, { maxBytes: 64 });
  if (file.ok) return file.data;
  return file.failure === 'missing' ? null : 'unreadable';
}

export const linuxSecureBoot: Collector<'secure_boot_enabled'> = {
  signal: 'secure_boot_enabled',
  async collect(ctx) {
    const efi = await ctx.stat(EFI_DIR);
    if (!efi.exists) return secureBootFinding({ uefi: false, secureBoot: null, setupMode: null, shimValidationDisabled: false });
    const [secureBoot, setupMode, mok] = await Promise.all([variable(ctx, SECURE_BOOT_VAR), variable(ctx, SETUP_MODE_VAR), ctx.stat(MOK_SB_STATE_VAR)]);
    return secureBootFinding({ uefi: true, secureBoot, setupMode, shimValidationDisabled: mok.exists });
  },
};
