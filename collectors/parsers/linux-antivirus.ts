/**
 * Linux antivirus / EDR products: how each is recognised and what "active" means.
 *
 * Process names come from /proc/<pid>/comm, which the kernel truncates to 15 bytes
 * (TASK_COMM_LEN 16 with the NUL): `sophos_threat_detector` appears as
 * `sophos_threat_d`. Names below are matched against the truncated form.
 */
import type { Finding } from '../types.ts';
import { known } from '../types.ts';
import { parseMdatpHealth } from './mdatp-health.ts';

export interface LinuxAvProduct {
  readonly id: 'clamav' | 'mdatp' | 'crowdstrike' | 'sentinelone' | 'sophos' | 'elastic' | 'cisco' | 'trellix-ens' | 'trellix-hx' | 'huntress';
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
  // Elastic endpoint-command-reference: "On Linux: /opt/Elastic/Endpoint/elastic-endpoint". The
  // Elastic Agent alone (elastic-agent) is management, not protection.
  { id: 'elastic', name: 'Elastic Defend', installMarkers: ['/opt/Elastic/Endpoint'], processes: ['elastic-endpoint'] },
  // Cisco doc 215256 (Mac/Linux CLI): "/opt/cisco/amp/bin/ampcli", "status Get ampdaemon status".
  { id: 'cisco', name: 'Cisco Secure Endpoint', installMarkers: ['/opt/cisco/amp'], processes: ['ampdaemon'] },
  // docs.trellix.com, ENS for Linux processes: mfetpd (threat prevention), mfeespd. Not the Trellix Agent (masvc: management).
  { id: 'trellix-ens', name: 'Trellix Endpoint Security (ENS)', installMarkers: ['/opt/McAfee/ens'], processes: ['mfetpd', 'mfeespd'] },
  // docs.trellix.com, xAgent installation location: /opt/fireeye/bin/xagt (formerly FireEye HX).
  { id: 'trellix-hx', name: 'Trellix Endpoint Security (HX)', installMarkers: ['/opt/fireeye/bin/xagt'], processes: ['xagt'] },
  // huntresslabs/deployment-scripts huntress-linux-install.sh: /usr/share/huntress/huntress-agent, unit huntress-agent.
  { id: 'huntress', name: 'Huntress', installMarkers: ['/usr/share/huntress/huntress-agent'], processes: ['huntress-agent'] },
];

/** Truncates a process name the way /proc/<pid>/comm does. */
export function commName(name: string): string {
  return Buffer.from(name).subarray(0, 15).toString('utf8');
}

export function runningProcesses(product: LinuxAvProduct, comms: ReadonlySet<string>): string[] {
  return product.processes.filter((name) => comms.has(commName(name)));
}


/**
 * `mdatp health --output json` on Linux: the same camelCase `{value}` document as on macOS
 * (glpi-project/glpi-agent `resources/linux/antivirus/defender-101.23062.0010.json`), read
 * by mdatp-health.ts.
 */
export function mdatpFinding(text: string): Finding<boolean> {
  const parsed = parseMdatpHealth(text);
  if (!parsed.ok) return parsed.finding;
  const health = parsed.value;
  const facts = { ...health };
  if (health.passive_mode === true) return known(false, 'mdatp', 'Microsoft Defender runs in passive mode (it does not block)', facts);
  if (!health.real_time_protection) return known(false, 'mdatp', 'Microsoft Defender real-time protection is off', facts);
  if (health.healthy !== true) return known(false, 'mdatp', `Microsoft Defender reports unhealthy${health.health_issues ? `: ${health.health_issues.join(', ')}` : ''}`, facts);
  if (health.definitions_problem) return known(false, 'mdatp', `Microsoft Defender is on but not protecting: ${health.definitions_problem}`, facts);
  return known(true, 'mdatp', `Microsoft Defender is healthy with real-time protection on${health.definitions_status ? ` (definitions ${health.definitions_status})` : ''}`, facts);
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
