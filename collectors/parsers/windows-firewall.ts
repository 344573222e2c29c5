/**
 * Windows Defender Firewall, from the JSON of collectors/windows/firewall.ts:
 * `{policy, policyError, service, serviceError, profiles, profilesError,
 *   networkCategories, products, productsError}`.
 *
 * - `policy` is COM HNetCfg.FwPolicy2 (INetFwPolicy2): `current` = CurrentProfileTypes, a
 *   bitmask (1 domain, 2 private, 4 public), and FirewallEnabled(1/2/4) as booleans. It
 *   reports the effective, GPO-applied state, unlike the deprecated INetFwMgr
 *   (crowdsecurity/cs-windows-firewall-bouncer#12); Ansible moved to it to escape
 *   localized netsh output (ansible/ansible PR #27381).
 * - `service` is mpssvc's Status cast to a string ("Running", "Stopped", …).
 * - `profiles` (only when FwPolicy2 failed) is Get-NetFirewallProfile -PolicyStore
 *   ActiveStore with `[string]$_.Enabled`: "True"/"False". Without ActiveStore a
 *   GPO-managed host shows "NotConfigured" (Icinga/icinga-powershell-plugins#480), and
 *   PowerShell 4 treated the string "False" as true (osisoft/PI-Security-Audit-Tools
 *   PR #287), so the strings are compared exactly. `networkCategories` (Get-NetConnectionProfile:
 *   "Public", "Private", "DomainAuthenticated") says which profiles are active there.
 * - `products` is root/SecurityCenter2 FirewallProduct (third-party firewalls; client SKUs).
 * Decision (research §2.2): every active profile enabled → true; an active profile
 * disabled, or mpssvc stopped → false, unless Security Center shows a third-party
 * firewall on, which then answers true. "Disabled" means a disabled ACTIVE profile: an
 * off Domain profile on a home laptop filters nothing anyway.
 */
import type { Finding } from '../types.ts';
import { known, unknown } from '../types.ts';
import {
  asArray,
  asBool,
  asInt,
  asRecord,
  asString,
  describeError,
  parseProbeOutput,
  readScriptError,
  scriptFailure,
  withReason,
  type ScriptError,
} from './windows-powershell.ts';
import { describeProduct, readSecurityProducts, type SecurityProduct } from './windows-security-center.ts';

export const FWPOLICY2_METHOD = 'com:HNetCfg.FwPolicy2';
export const NETFIREWALLPROFILE_METHOD = 'Get-NetFirewallProfile';
export const FIREWALL_PRODUCT_METHOD = 'wsc:FirewallProduct';

type ProfileName = 'domain' | 'private' | 'public';
const PROFILE_BITS: ReadonlyArray<readonly [ProfileName, number]> = [
  ['domain', 1],
  ['private', 2],
  ['public', 4],
];

export interface FirewallProbe {
  readonly policy: { readonly current: number; readonly enabled: Readonly<Record<ProfileName, boolean>> } | null;
  readonly policyError: ScriptError | null;
  readonly service: string | null;
  readonly serviceError: ScriptError | null;
  /** Profile → the exact [string] Enabled value; null when the fallback did not run or failed. */
  readonly profiles: Readonly<Partial<Record<ProfileName, string>>> | null;
  readonly profilesError: ScriptError | null;
  /** Profiles the connected networks use, from Get-NetConnectionProfile; null when unknown. */
  readonly activeFromConnections: readonly ProfileName[] | null;
  readonly products: readonly SecurityProduct[];
  readonly productsError: ScriptError | null;
}

export function parseFirewallOutput(text: string): Finding<boolean> {
  return parseProbeOutput(text, FWPOLICY2_METHOD, 'firewall', readFirewallProbe, decideFirewall);
}

export function readFirewallProbe(value: unknown): FirewallProbe | null {
  const record = asRecord(value);
  if (record === null || !('policy' in record || 'policyError' in record)) return null;
  const policyRecord = asRecord(record.policy);
  let policy: FirewallProbe['policy'] = null;
  if (policyRecord !== null) {
    const current = asInt(policyRecord.current);
    const domain = asBool(policyRecord.domain);
    const privateProfile = asBool(policyRecord.private);
    const publicProfile = asBool(policyRecord.public);
    if (current !== null && domain !== null && privateProfile !== null && publicProfile !== null) {
      policy = { current, enabled: { domain, private: privateProfile, public: publicProfile } };
    }
  }
  let profiles: Partial<Record<ProfileName, string>> | null = null;
  if (record.profiles !== null && record.profiles !== undefined) {
    profiles = {};
    for (const entry of asArray(record.profiles)) {
      const profile = asRecord(entry);
      const name = asString(profile?.name)?.trim().toLowerCase();
      const enabled = asString(profile?.enabled);
      if ((name === 'domain' || name === 'private' || name === 'public') && enabled !== null) profiles[name] = enabled.trim();
    }
  }
  let activeFromConnections: ProfileName[] | null = null;
  if (record.networkCategories !== null && record.networkCategories !== undefined) {
    activeFromConnections = [];
    for (const category of asArray(record.networkCategories)) {
      // A string and an own key only: String() of a JSON object can throw, and a name such
      // as "constructor" would find Object.prototype's member.
      const categories = { Public: 'public', Private: 'private', DomainAuthenticated: 'domain' } as const;
      const profile = typeof category === 'string' && Object.hasOwn(categories, category) ? categories[category as keyof typeof categories] : undefined;
      if (profile !== undefined && !activeFromConnections.includes(profile)) activeFromConnections.push(profile);
    }
  }
  return {
    policy,
    policyError: readScriptError(record.policyError),
    service: asString(record.service)?.trim() || null,
    serviceError: readScriptError(record.serviceError),
    profiles,
    profilesError: readScriptError(record.profilesError),
    activeFromConnections,
    products: readSecurityProducts(record.products).products,
    productsError: readScriptError(record.productsError),
  };
}

export function decideFirewall(probe: FirewallProbe): Finding<boolean> {
  const thirdPartyOn = probe.products.filter((product) => product.state === 'on' && !product.microsoft);
  const facts: Record<string, unknown> = {
    service: probe.service,
    ...(probe.products.length > 0 ? { third_party: probe.products.map(describeProduct) } : {}),
  };

  let method: string;
  let active: ProfileName[];
  let enabledOf: (profile: ProfileName) => boolean | null;
  let profileSource: string;
  if (probe.policy !== null) {
    const { current, enabled } = probe.policy;
    method = FWPOLICY2_METHOD;
    active = PROFILE_BITS.filter(([, bit]) => (current & bit) !== 0).map(([name]) => name);
    enabledOf = (profile) => enabled[profile];
    profileSource = `CurrentProfileTypes ${current}`;
    Object.assign(facts, { current_profile_types: current, enabled: enabled });
    if (active.length === 0) {
      return unknown('unparsed_output', method, `FwPolicy2 reports no current profile (CurrentProfileTypes ${current})`, facts);
    }
  } else if (probe.profiles !== null && Object.keys(probe.profiles).length > 0) {
    const profiles = probe.profiles;
    method = NETFIREWALLPROFILE_METHOD;
    Object.assign(facts, { profiles, network_categories: probe.activeFromConnections });
    const unreadable = PROFILE_BITS.map(([name]) => name).filter((name) => profiles[name] !== 'True' && profiles[name] !== 'False');
    enabledOf = (profile) => (profiles[profile] === 'True' ? true : profiles[profile] === 'False' ? false : null);
    if (probe.activeFromConnections !== null && probe.activeFromConnections.length > 0) {
      active = [...probe.activeFromConnections];
      profileSource = `active on the connected networks: ${active.join(', ')}`;
    } else {
      // No connected network tells which profile applies: every profile must answer.
      active = PROFILE_BITS.map(([name]) => name);
      profileSource = 'no connected network, so every profile counts';
      if (unreadable.length === 0 && active.some((profile) => profiles[profile] === 'False')) {
        const disabled = active.filter((profile) => profiles[profile] === 'False');
        return unknown(
          'active_profile_unknown',
          method,
          `the ${disabled.join(', ')} firewall profile is off, but no connected network says which profile is active`,
          facts,
        );
      }
    }
    const unreadableActive = active.filter((profile) => unreadable.includes(profile));
    if (unreadableActive.length > 0) {
      return unknown(
        'unparsed_output',
        method,
        `Get-NetFirewallProfile -PolicyStore ActiveStore gave ${unreadableActive.map((p) => `${p}=${profiles[p] ?? 'nothing'}`).join(', ')} instead of True/False`,
        facts,
      );
    }
  } else {
    const errors = [
      probe.policyError ? `FwPolicy2: ${describeError(probe.policyError)}` : 'FwPolicy2 gave no answer',
      probe.profilesError ? `Get-NetFirewallProfile: ${describeError(probe.profilesError)}` : null,
    ].filter((line): line is string => line !== null);
    if (thirdPartyOn.length > 0) return thirdPartyFinding(thirdPartyOn, `${errors.join('; ')}`, facts);
    if (probe.policyError !== null && probe.profilesError === null && probe.profiles === null) {
      return scriptFailure(probe.policyError, FWPOLICY2_METHOD);
    }
    return unknown('command_failed', FWPOLICY2_METHOD, `the firewall state could not be read: ${errors.join('; ')}`, facts);
  }

  const disabled = active.filter((profile) => enabledOf(profile) === false);
  const profileSummary = `${active.map((profile) => `${profile} ${enabledOf(profile) ? 'on' : 'off'}`).join(', ')} (${profileSource})`;
  if (probe.service === 'Stopped') {
    if (thirdPartyOn.length > 0) return thirdPartyFinding(thirdPartyOn, 'the Windows Firewall service mpssvc is stopped', facts);
    return known(false, method, `the Windows Firewall service mpssvc is stopped, so no profile filters traffic (${profileSummary})`, facts);
  }
  if (disabled.length > 0) {
    const what = `the active ${disabled.join(' and ')} firewall profile${disabled.length > 1 ? 's are' : ' is'} off: ${profileSummary}`;
    if (thirdPartyOn.length > 0) return thirdPartyFinding(thirdPartyOn, what, facts);
    return known(false, method, what, facts);
  }
  if (probe.service !== null && probe.service !== 'Running') {
    return unknown('service_state', method, `every active profile is on (${profileSummary}) but mpssvc is ${probe.service}`, facts);
  }
  const serviceNote =
    probe.service === 'Running'
      ? 'mpssvc running'
      : `mpssvc state unknown${probe.serviceError ? ` (${describeError(probe.serviceError)})` : ''}`;
  return known(true, method, `every active firewall profile is on: ${profileSummary}; ${serviceNote}`, facts);
}

function thirdPartyFinding(products: readonly SecurityProduct[], windowsState: string, facts: Record<string, unknown>): Finding<boolean> {
  return withReason(
    known(
      true,
      FIREWALL_PRODUCT_METHOD,
      `Security Center reports a third-party firewall on: ${products.map(describeProduct).join('; ')} (Windows Firewall: ${windowsState})`,
      { ...facts, provider: products.map((product) => product.name) },
    ),
    'third_party_firewall',
  );
}
