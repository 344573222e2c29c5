/**
 * The macOS antivirus verdict, from three independent probes (pure: the collector runs them).
 *
 * Model (research §3.2, §0.1 rule 6):
 * - XProtect, Apple's built-in signature AV, present → true (`builtin_xprotect`); the server
 *   can require a third-party EDR through `facts.edr_products`.
 * - Any third-party EDR actively protecting (an `[activated enabled]` system extension of a
 *   known vendor, or Defender's `mdatp health` saying healthy + real-time on) → true.
 * - "No product" is a real false only when every probe ran and observed absence: XProtect's
 *   Info.plist missing at both locations, the extension list read, and mdatp not installed or
 *   not active. Any probe that failed makes the answer unknown instead.
 */
import type { Finding } from '../types.ts';
import { known, unknown } from '../types.ts';
import type { EdrExtension } from './darwin-systemextensionsctl.ts';
import type { MdatpHealth } from './mdatp-health.ts';

export type XProtectProbe =
  | { readonly state: 'present'; readonly version: string; readonly path: string }
  | { readonly state: 'absent'; readonly paths: readonly string[] }
  | { readonly state: 'failed'; readonly finding: Finding<never> };

export type SystemExtensionsProbe =
  | { readonly state: 'listed'; readonly edr: readonly EdrExtension[] }
  | { readonly state: 'failed'; readonly finding: Finding<never> };

export type MdatpProbe =
  | { readonly state: 'not_installed' }
  | { readonly state: 'reported'; readonly health: MdatpHealth }
  | { readonly state: 'failed'; readonly finding: Finding<never> };

export interface DarwinAntivirusProbes {
  readonly xprotect: XProtectProbe;
  readonly systemExtensions: SystemExtensionsProbe;
  readonly mdatp: MdatpProbe;
}

export function decideDarwinAntivirus(probes: DarwinAntivirusProbes): Finding<boolean> {
  const { xprotect, systemExtensions, mdatp } = probes;
  const activeEdr = systemExtensions.state === 'listed' ? systemExtensions.edr.filter((edr) => edr.active) : [];
  const inactiveEdr = systemExtensions.state === 'listed' ? systemExtensions.edr.filter((edr) => !edr.active) : [];
  const defenderActive = mdatp.state === 'reported' && mdatp.health.active;

  const products = [
    ...new Set([...activeEdr.map((edr) => edr.product), ...(defenderActive ? ['Microsoft Defender for Endpoint'] : [])]),
  ];
  const failures = (
    [
      ['xprotect', xprotect],
      ['systemextensionsctl', systemExtensions],
      ['mdatp', mdatp],
    ] as const
  ).flatMap(([name, probe]) => (probe.state === 'failed' ? [{ probe: name, finding: probe.finding }] : []));

  const facts: Record<string, unknown> = { edr_products: products };
  if (xprotect.state === 'present') {
    facts.xprotect_version = xprotect.version;
    facts.xprotect_path = xprotect.path;
  }
  if (activeEdr.length > 0) facts.edr_extensions = activeEdr.map(summarise);
  if (inactiveEdr.length > 0) facts.inactive_edr_extensions = inactiveEdr.map(summarise);
  if (mdatp.state === 'reported') facts.mdatp = mdatp.health;
  if (failures.length > 0) {
    facts.probe_failures = failures.map(({ probe, finding }) => ({ probe, reason: finding.reason, detail: finding.detail }));
  }

  // Ordered: a positive observation of protection wins; then a failed probe (could not tell);
  // only then the observed absence of everything.
  if (xprotect.state === 'present' || products.length > 0) {
    const parts = [
      ...(xprotect.state === 'present' ? [`built-in XProtect ${xprotect.version} is installed`] : []),
      ...(products.length > 0 ? [`active EDR: ${products.join(', ')}`] : []),
    ];
    const method = xprotect.state === 'present' ? 'xprotect' : activeEdr.length > 0 ? 'systemextensionsctl' : 'mdatp';
    const finding = known(true, method, parts.join('; '), facts);
    return xprotect.state === 'present' && products.length === 0 ? { ...finding, reason: 'builtin_xprotect' } : finding;
  }
  const [firstFailure] = failures;
  if (firstFailure) {
    const what = failures.map(({ probe, finding }) => `${probe}: ${finding.detail}`).join('; ');
    return unknown(firstFailure.finding.reason ?? 'command_failed', firstFailure.probe, `no protection observed, but ${what}`, facts);
  }
  const absentPaths = xprotect.state === 'absent' ? xprotect.paths.join(' and ') : 'its bundle paths';
  const defender =
    mdatp.state === 'reported'
      ? `Defender is installed but not active (healthy ${String(mdatp.health.healthy)}, real-time protection ${String(mdatp.health.real_time_protection)}${mdatp.health.passive_mode === true ? ', passive mode' : ''}${mdatp.health.definitions_problem ? `, ${mdatp.health.definitions_problem}` : ''})`
      : 'Defender (mdatp) is not installed';
  return known(
    false,
    'xprotect',
    `XProtect is missing (no ${absentPaths}), no EDR system extension is [activated enabled], and ${defender}`,
    facts,
  );
}

function summarise(edr: EdrExtension): Record<string, string> {
  return { product: edr.product, bundle_id: edr.bundle_id, version: edr.version, state: edr.state };
}
