/**
 * Windows Security Center (`root/SecurityCenter2`) product records: AntiVirusProduct and
 * FirewallProduct carry a `productState` integer that Microsoft does not document.
 *
 * The decoding everyone uses (homotechsual/Blog-Scripts `Monitoring/WindowsAVStatus.ps1`):
 * - `state & 0xF000`: 0x0000 off, 0x1000 on, 0x2000 snoozed, 0x3000 expired;
 * - `state & 0x00F0`: 0x00 signatures up to date, 0x10 out of date;
 * - `state & 0x0F00`: 0x100 the product is Microsoft's.
 * 397568 = 0x61100 is Defender on and up to date (ciwen3/PNPT `Windows/AV-Check.md`);
 * 393472 = 0x60100 is Defender off; 266240 = 0x41000 is a third-party product on
 * (jcl45/CT_Dev `Scripts/AV_State.ps1`). An unknown state nibble is reported as such and
 * never counts as on. A product counts as protection only when it is on, its signatures are
 * not flagged out of date (the shared staleness rule, antivirus-freshness.ts) and its
 * program still exists (uninstallers often leave the WMI entry behind).
 */
import { asArray, asInt, asRecord, asString } from './windows-powershell.ts';

export type ProductRunState = 'on' | 'off' | 'snoozed' | 'expired' | 'unknown';

export interface SecurityProduct {
  readonly name: string;
  readonly productState: number;
  readonly state: ProductRunState;
  readonly signaturesUpToDate: boolean | null;
  readonly microsoft: boolean;
  /**
   * Whether the product's signed executable (`pathToSignedProductExe`) exists: false for an
   * entry an uninstalled product left behind (it keeps its last productState, often "on").
   * null when the probe could not tell (a `windowsdefender://` URI, an older probe).
   */
  readonly installed: boolean | null;
}

/** Whether a Security Center product counts as protection: on, present, and with current signatures. */
export function isProtecting(product: SecurityProduct): boolean {
  return product.state === 'on' && product.installed !== false && product.signaturesUpToDate !== false;
}

export function decodeProductState(productState: number): Omit<SecurityProduct, 'name' | 'productState' | 'installed'> {
  const runBits = productState & 0xf000;
  const state: ProductRunState =
    runBits === 0x1000 ? 'on' : runBits === 0x0000 ? 'off' : runBits === 0x2000 ? 'snoozed' : runBits === 0x3000 ? 'expired' : 'unknown';
  const signatureBits = productState & 0x00f0;
  const signaturesUpToDate = signatureBits === 0x00 ? true : signatureBits === 0x10 ? false : null;
  return { state, signaturesUpToDate, microsoft: (productState & 0x0f00) === 0x0100 };
}

/**
 * The `[{name, productState}]` list a script printed (a lone object or null are read as
 * one or no products). Entries without a usable productState are dropped and counted.
 */
export function readSecurityProducts(value: unknown): { products: SecurityProduct[]; unreadable: number } {
  const products: SecurityProduct[] = [];
  let unreadable = 0;
  for (const entry of asArray(value)) {
    const record = asRecord(entry);
    const productState = record === null ? null : asInt(record.productState);
    if (record === null || productState === null || productState < 0) {
      unreadable += 1;
      continue;
    }
    const name = asString(record.name)?.trim() || '(unnamed product)';
    const installed = typeof record.exeExists === 'boolean' ? record.exeExists : null;
    products.push({ name, productState, installed, ...decodeProductState(productState) });
  }
  return { products, unreadable };
}

export function describeProduct(product: SecurityProduct): string {
  const signatures = product.signaturesUpToDate === false ? ', signatures out of date' : '';
  const leftover = product.installed === false ? ', its program is gone: an entry left by an uninstalled product' : '';
  return `${product.name} ${product.state} (productState ${product.productState} = 0x${product.productState.toString(16)}${signatures}${leftover})`;
}
