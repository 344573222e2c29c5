/**
 * Linux antivirus / EDR products: how each is recognised and what "active" means.
 *
 * Process names come from /proc/<pid>/comm, which the kernel truncates to 15 bytes
 * (TASK_COMM_LEN 16 with the NUL): `sophos_threat_detector` appears as
 * `sophos_threat_d`. Names below are matched against the truncated form.
 */
import type { Finding } from '../types.ts';
import { known, unknown } from '../types.ts';

export interface LinuxAvProduct {
  readonly id: 'clamav' | 'mdatp' | 'crowdstrike' | 'sentinelone' | 'sophos';
  readonly name: string;
  /** Any of these existing means the product is installed. */
  readonly installMarkers: readonly string[];
  /** Any of these processes running means its engine is running. */
  readonly processes: readonly string[];
}

export const LINUX_AV_PRODUCTS: readonly LinuxAvProduct[] = [
  { id: 'clamav', name: 'ClamAV', installMarkers: ['/usr/sbin/clamd', '/usr/bin/clamd', '/usr/bin/clamscan'], processes: ['clamd'] },
  { id: 'mdatp', name: 'Microsoft Defender for Endpoint', installMarkers: ['/opt/microsoft/mdatp', '/usr/bin/mdatp'], processes: ['wdavdaemon'] },
  { id: 'crowdstrike', name: 'CrowdStrike Falcon', installMarkers: ['/opt/CrowdStrike'], processes: ['falcon-sensor', 'falcond'] },
  { id: 'sentinelone', name: 'SentinelOne', installMarkers: ['/opt/sentinelone'], processes: ['s1-agent', 'sentinelone-age'] },
  { id: 'sophos', name: 'Sophos Protection for Linux', installMarkers: ['/opt/sophos-spl', '/opt/sophos-av'], processes: ['sophos_threat_d', 'sophos_managem', 'savd'] },
];

/** Truncates a process name the way /proc/<pid>/comm does. */
export function commName(name: string): string {
  return Buffer.from(name).subarray(0, 15).toString('utf8');
}

export function runningProcesses(product: LinuxAvProduct, comms: ReadonlySet<string>): string[] {
  return product.processes.filter((name) => comms.has(commName(name)));
}

/** ClamAV signatures older than this are stale (freshclam checks several times a day by default). */
export const CLAMAV_MAX_SIGNATURE_AGE_DAYS = 7;

/**
 * `mdatp health --output json`: fields documented in Microsoft's "health status" page
 * (`healthy`, `real_time_protection_enabled`, `passive_mode_enabled`, `definitions_status`).
 * Defender in passive mode does not block anything, so it is not active antivirus.
 * Older releases print `real_time_protection_enabled` as an object `{"value": true}`.
 */
export function parseMdatpHealth(text: string): Finding<boolean> {
  if (text.trim() === '') return unknown('empty_output', 'mdatp', 'mdatp health printed nothing');
  let health: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    health = parsed as Record<string, unknown>;
  } catch {
    return unknown('unparsed_output', 'mdatp', 'mdatp health output is not a JSON object');
  }
  const flag = (name: string): boolean | undefined => {
    const value = health[name];
    if (typeof value === 'boolean') return value;
    if (typeof value === 'object' && value !== null && typeof (value as { value?: unknown }).value === 'boolean') {
      return (value as { value: boolean }).value;
    }
    return undefined;
  };
  const healthy = flag('healthy');
  const realTime = flag('real_time_protection_enabled');
  const passive = flag('passive_mode_enabled');
  const facts = {
    healthy,
    real_time_protection_enabled: realTime,
    passive_mode_enabled: passive,
    definitions_status: health.definitions_status,
    app_version: health.app_version,
    health_issues: health.health_issues,
  };
  if (healthy === undefined || realTime === undefined) {
    return unknown('unparsed_output', 'mdatp', 'mdatp health lacks the healthy / real_time_protection_enabled fields', facts);
  }
  if (passive === true) return known(false, 'mdatp', 'Microsoft Defender runs in passive mode (it does not block)', facts);
  if (!realTime) return known(false, 'mdatp', 'Microsoft Defender real-time protection is off', facts);
  // Only string issues are quoted: join() would print a JSON object as [object Object], or throw on one with a non-callable toString.
  const issues = Array.isArray(health.health_issues) ? health.health_issues.filter((issue): issue is string => typeof issue === 'string') : [];
  if (!healthy) return known(false, 'mdatp', `Microsoft Defender reports unhealthy${issues.length > 0 ? `: ${issues.join(', ')}` : ''}`, facts);
  return known(true, 'mdatp', 'Microsoft Defender is healthy with real-time protection on', facts);
}

/**
 * `falconctl -g --rfm-state` prints `rfm-state=false.` or `rfm-state=true.` (note the
 * trailing period). Reduced Functionality Mode means the sensor cannot protect this
 * kernel. The option may also print `rfm-state is not set` on a fresh install.
 */
export function parseFalconRfmState(text: string): boolean | null {
  const match = /rfm-state\s*=\s*(true|false)/i.exec(text);
  return match ? (match[1] as string).toLowerCase() === 'true' : null;
}
