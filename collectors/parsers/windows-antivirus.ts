/**
 * Antivirus / EDR on Windows, from the JSON of collectors/windows/antivirus.ts:
 * `{wsc, wscError, defender, defenderError, passiveModePolicy, services, servicesError}`.
 *
 * - `wsc`: root/SecurityCenter2 AntiVirusProduct as `[{name, productState}]`; productState
 *   is decoded in windows-security-center.ts. The namespace does not exist on Windows
 *   Server ("Invalid namespace", HRESULT 0x8004100e: amidaware/tacticalrmm#1202,
 *   fusioninventory/fusioninventory-agent#701, Azure/Microsoft-Defender-for-Cloud#485),
 *   and its absence is never read as "no antivirus".
 * - `defender`: Get-MpComputerStatus. AMRunningMode (mondoohq/mql PR #10381) is "Normal"
 *   (Defender is the active antivirus), "Passive Mode", "SxS Passive Mode", "EDR Block Mode"
 *   or "Not running". A passive host still reports AntivirusEnabled and
 *   RealTimeProtectionEnabled true (same PR; MicrosoftDocs/windows-itpro-docs#7929), so
 *   Defender counts only in Normal mode with real-time protection on. "EDR Block Mode" hides
 *   whether Defender is passive or normal (MicrosoftDocs/microsoft-365-docs#9676, #9775):
 *   it counts as normal only when the ForceDefenderPassiveMode / ForcePassiveMode policy
 *   (both names exist: MicrosoftDocs/windows-itpro-docs PR #9162) is explicitly 0.
 *   HRESULT 0x800106ba from the cmdlet means Defender's service is not running
 *   (scipag/HardeningKitty#52, a host with CrowdStrike): an observation, not a failure.
 * - `services`: known EDR/AV agent services found, with `[string]` status.
 * Decision (research §3.1): a WSC product on, present and up to date → true; else Defender
 * normal + real-time with signatures no older than the shared limit (antivirus-freshness.ts:
 * `AntivirusSignatureAge` > 7 days, or a never-updated sentinel, is present but not
 * protecting) → true; else a known EDR service running → true (reason `edr_service`); else
 * false only when Security Center, Defender and the service probe all answered; otherwise
 * null. A Security Center entry whose program no longer exists (`exeExists` false: left by
 * an uninstaller) or whose signatures are flagged out of date never counts.
 */
import type { Finding } from '../types.ts';
import { known, unknown } from '../types.ts';
import {
  HRESULT,
  asArray,
  asBool,
  asInt,
  asRecord,
  asString,
  describeError,
  isAccessDenied,
  parseProbeOutput,
  readScriptError,
  withReason,
  type ScriptError,
} from './windows-powershell.ts';
import { describeProduct, isProtecting, readSecurityProducts, type SecurityProduct } from './windows-security-center.ts';
import { signatureAgeProblem } from './antivirus-freshness.ts';

export const WSC_AV_METHOD = 'wsc:AntiVirusProduct';
export const DEFENDER_METHOD = 'Get-MpComputerStatus';
export const EDR_SERVICE_METHOD = 'Get-Service';

/**
 * Agent services whose running state counts as protection (the script asks for exactly
 * these). Protection engines only, never a vendor's management agent (ESET's EraAgentSvc,
 * Trellix's masvc, the Elastic Agent service): those prove enrolment, not protection.
 * Sources: netwrix/pingcastle Scanners/AntivirusScanner.cs and mondoohq/cnspec's EDR policy
 * (cyserver, CiscoAMP, xagt, EPSecurityService, mfemms), Palo Alto's cytool page (cyserver),
 * Huntress's EDR Agent Health API article (HuntressAgent/HuntressUpdater), admin scripts for
 * ekrn ("ESET Service") and ElasticEndpoint.
 */
export const EDR_SERVICES: Readonly<Record<string, string>> = {
  Sense: 'Microsoft Defender for Endpoint',
  CSFalconService: 'CrowdStrike Falcon',
  SentinelAgent: 'SentinelOne',
  CbDefense: 'VMware Carbon Black Cloud',
  CylanceSvc: 'Cylance PROTECT',
  cyserver: 'Palo Alto Cortex XDR',
  ekrn: 'ESET Endpoint Security',
  ElasticEndpoint: 'Elastic Defend',
  CiscoAMP: 'Cisco Secure Endpoint',
  mfemms: 'Trellix Endpoint Security (ENS)',
  xagt: 'Trellix Endpoint Security (HX)',
  HuntressAgent: 'Huntress',
  EPSecurityService: 'Bitdefender GravityZone (BEST)',
};

export interface DefenderStatus {
  readonly installed: boolean;
  readonly amRunningMode: string | null;
  readonly realTimeProtectionEnabled: boolean | null;
  readonly antivirusEnabled: boolean | null;
  readonly signatureAgeDays: number | null;
  readonly signatureUpdated: string | null;
}

export interface AntivirusProbe {
  readonly wsc: readonly SecurityProduct[] | null;
  readonly wscError: ScriptError | null;
  readonly defender: DefenderStatus | null;
  readonly defenderError: ScriptError | null;
  /** ForceDefenderPassiveMode / ForcePassiveMode policy values (null = not set). */
  readonly passivePolicy: readonly (number | null)[];
  readonly services: ReadonlyArray<{ readonly name: string; readonly status: string }> | null;
  readonly servicesError: ScriptError | null;
}

export function parseAntivirusOutput(text: string): Finding<boolean> {
  return parseProbeOutput(text, WSC_AV_METHOD, 'antivirus', readAntivirusProbe, decideAntivirus);
}

export function readAntivirusProbe(value: unknown): AntivirusProbe | null {
  const record = asRecord(value);
  if (record === null || !('wsc' in record || 'wscError' in record)) return null;
  const wscError = readScriptError(record.wscError);
  const defenderRecord = asRecord(record.defender);
  const defender: DefenderStatus | null =
    defenderRecord === null
      ? null
      : {
          installed: asBool(defenderRecord.installed) !== false,
          amRunningMode: asString(defenderRecord.amRunningMode)?.trim() || null,
          realTimeProtectionEnabled: asBool(defenderRecord.realTimeProtectionEnabled),
          antivirusEnabled: asBool(defenderRecord.antivirusEnabled),
          signatureAgeDays: asInt(defenderRecord.signatureAge),
          signatureUpdated: asString(defenderRecord.signatureUpdated),
        };
  const policy = asRecord(record.passiveModePolicy);
  const servicesError = readScriptError(record.servicesError);
  const services =
    servicesError !== null
      ? null
      : asArray(record.services).flatMap((entry) => {
          const service = asRecord(entry);
          const name = asString(service?.name);
          const status = asString(service?.status);
          return name !== null && status !== null ? [{ name, status }] : [];
        });
  return {
    wsc: wscError !== null ? null : readSecurityProducts(record.wsc).products,
    wscError,
    defender,
    defenderError: readScriptError(record.defenderError),
    passivePolicy: policy === null ? [] : [asInt(policy.forceDefenderPassiveMode), asInt(policy.forcePassiveMode)],
    services,
    servicesError,
  };
}

export function decideAntivirus(probe: AntivirusProbe): Finding<boolean> {
  const facts: Record<string, unknown> = {};
  if (probe.wsc !== null) facts.products = probe.wsc.map(describeProduct);
  if (probe.defender !== null) {
    facts.defender = {
      installed: probe.defender.installed,
      am_running_mode: probe.defender.amRunningMode,
      real_time_protection: probe.defender.realTimeProtectionEnabled,
      signature_age_days: probe.defender.signatureAgeDays,
    };
  }
  if (probe.services !== null && probe.services.length > 0) facts.services = probe.services;

  // 1. Security Center lists a product that is on, present and up to date.
  const protecting = (probe.wsc ?? []).filter(isProtecting);
  if (protecting.length > 0) {
    return known(true, WSC_AV_METHOD, `Security Center reports antivirus on: ${protecting.map(describeProduct).join('; ')}`, facts);
  }
  // Listed as on, but stale or left behind: present, not protecting (said in the evidence below).
  const notProtecting = (probe.wsc ?? []).filter((product) => product.state === 'on');

  // 2. Defender itself is the active antivirus.
  const defender = describeDefender(probe);
  if (defender.active) {
    return known(true, DEFENDER_METHOD, `Microsoft Defender Antivirus is active: ${defender.summary}`, facts);
  }

  // 3. A known EDR agent is running.
  // Own keys only: `in` would count a service named "constructor" or "toString" as an EDR agent.
  const running = (probe.services ?? []).filter((service) => service.status === 'Running' && Object.hasOwn(EDR_SERVICES, service.name));
  if (running.length > 0) {
    const names = running.map((service) => `${EDR_SERVICES[service.name]} (${service.name})`).join(', ');
    return withReason(
      known(true, EDR_SERVICE_METHOD, `no antivirus is reported on, but an EDR agent service is running: ${names}`, facts),
      'edr_service',
    );
  }

  const wscAbsent =
    probe.wscError !== null &&
    (probe.wscError.hresult === HRESULT.wbemInvalidNamespace ||
      probe.wscError.hresult === HRESULT.wbemInvalidClass ||
      probe.wscError.hresult === HRESULT.classNotRegistered);
  const wscSeen =
    probe.wsc !== null
      ? probe.wsc.length === 0
        ? 'Security Center lists no antivirus'
        : `Security Center lists ${probe.wsc.map(describeProduct).join('; ')}${notProtecting.length > 0 ? ' (on, but not protecting: out-of-date signatures or a leftover entry)' : ''}`
      : wscAbsent
        ? `Security Center is absent (a Windows Server SKU: ${describeError(probe.wscError as ScriptError)})`
        : `Security Center failed: ${probe.wscError ? describeError(probe.wscError) : 'no answer'}`;
  const servicesSeen =
    probe.services === null
      ? `the service probe failed${probe.servicesError ? `: ${describeError(probe.servicesError)}` : ''}`
      : 'no known EDR service is running';
  const seen = `${wscSeen}; Defender: ${defender.summary}; ${servicesSeen}`;

  if (probe.wsc !== null && defender.answered && probe.services !== null) {
    return known(false, WSC_AV_METHOD, `no antivirus is active: ${seen}`, facts);
  }
  if (wscAbsent && defender.answered && probe.services !== null) {
    return unknown(
      'no_security_center',
      DEFENDER_METHOD,
      `Defender is not the active antivirus and this Windows has no Security Center to list a third-party one: ${seen}`,
      facts,
    );
  }
  const failures = [wscAbsent ? null : probe.wscError, defender.answered ? null : probe.defenderError, probe.servicesError];
  const denied = failures.some((error) => error !== null && isAccessDenied(error));
  return unknown(
    denied ? 'needs_privilege' : 'command_failed',
    WSC_AV_METHOD,
    `antivirus state could not be read: ${seen}${denied ? '; the refused probe may need Administrator rights' : ''}`,
    facts,
  );
}

/** Whether Defender answered (counting "not installed" and "service not running" as answers) and is active. */
function describeDefender(probe: AntivirusProbe): { answered: boolean; active: boolean; summary: string } {
  const status = probe.defender;
  if (status === null) {
    if (probe.defenderError !== null && probe.defenderError.hresult === HRESULT.defenderNotRunning) {
      return { answered: true, active: false, summary: `its service is not running (${describeError(probe.defenderError)})` };
    }
    return {
      answered: false,
      active: false,
      summary: probe.defenderError ? `Get-MpComputerStatus failed: ${describeError(probe.defenderError)}` : 'no answer',
    };
  }
  if (!status.installed) return { answered: true, active: false, summary: 'not installed (no Get-MpComputerStatus)' };
  const mode = status.amRunningMode ?? 'unknown';
  const realTime = status.realTimeProtectionEnabled;
  const realTimeText = `real-time protection ${realTime === true ? 'on' : realTime === false ? 'off' : 'unknown'}`;
  const explicitNormal =
    mode === 'EDR Block Mode' && probe.passivePolicy.some((value) => value === 0) && !probe.passivePolicy.some((value) => value === 1);
  const normal = mode === 'Normal' || explicitNormal;
  const stale = signatureAgeProblem(status.signatureAgeDays);
  const summary = `AMRunningMode "${mode}"${explicitNormal ? ' with ForceDefenderPassiveMode 0' : ''}, ${realTimeText}${stale ? `, but its ${stale}${status.signatureUpdated ? ` (last updated ${status.signatureUpdated})` : ''}` : ''}`;
  // Running with stale signatures is present, not protecting (the shared staleness rule).
  if (normal && realTime === true && stale) return { answered: true, active: false, summary };
  if (normal && realTime === true) return { answered: true, active: true, summary };
  // Passive, EDR-block or stopped: Defender is not the antivirus, whatever its toggles say.
  return { answered: status.amRunningMode !== null && (!normal || realTime !== null), active: false, summary };
}
