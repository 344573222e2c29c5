/**
 * `mdatp health --output json` (Microsoft Defender for Endpoint on macOS) → whether Defender
 * is actively protecting.
 *
 * Shape (glpi-project/glpi-agent `resources/macos/antivirus/defender-101.98.30.json`):
 *   { "$type": "getHealthAllResult", "appVersion": "101.98.30", "healthy": true, "licensed": true,
 *     "healthIssues": [], "definitionsStatus": { "$type": "upToDate" },
 *     "realTimeProtectionEnabled": { "displayValue": true, "isManaged": false, "value": true },
 *     "passiveModeEnabled": { ..., "value": false }, ... }
 * Settings are `{ value }` objects; a bare boolean is accepted too.
 *
 * Invariant: Defender counts as active only when it is healthy, real-time protection is on
 * and it is not in passive mode (passive mode reports healthy toggles while another AV does
 * the blocking; mondoohq/mql PR #10381 for the Windows twin of this trap).
 */
import { firstLine, unknown } from '../types.ts';
import type { Parsed } from './darwin-plist.ts';
import { clip } from './darwin-plist.ts';

export interface MdatpHealth {
  readonly healthy: boolean | null;
  readonly real_time_protection: boolean;
  readonly passive_mode: boolean | null;
  readonly app_version?: string;
  readonly definitions_status?: string;
  readonly health_issues?: readonly string[];
  /** Healthy, real-time protection on, not passive. */
  readonly active: boolean;
}

export function parseMdatpHealth(stdout: string): Parsed<MdatpHealth> {
  const method = 'mdatp';
  if (stdout.trim() === '') {
    return { ok: false, finding: unknown('empty_output', method, '`mdatp health --output json` printed nothing') };
  }
  let root: unknown;
  try {
    root = JSON.parse(stdout);
  } catch {
    return {
      ok: false,
      finding: unknown('unparsed_output', method, `mdatp health output is not JSON: "${clip(firstLine(stdout), 80)}"`),
    };
  }
  if (!isObject(root)) {
    return { ok: false, finding: unknown('unparsed_output', method, 'mdatp health JSON is not an object') };
  }
  const realTime = setting(root.realTimeProtectionEnabled);
  if (realTime === undefined) {
    return {
      ok: false,
      finding: unknown('unparsed_output', method, 'mdatp health JSON has no boolean realTimeProtectionEnabled'),
    };
  }
  const healthy = typeof root.healthy === 'boolean' ? root.healthy : null;
  const passive = setting(root.passiveModeEnabled) ?? null;
  const definitions = isObject(root.definitionsStatus) ? root.definitionsStatus.$type : undefined;
  const issues = Array.isArray(root.healthIssues) ? root.healthIssues.filter((issue) => typeof issue === 'string') : undefined;
  return {
    ok: true,
    value: {
      healthy,
      real_time_protection: realTime,
      passive_mode: passive,
      ...(typeof root.appVersion === 'string' ? { app_version: root.appVersion } : {}),
      ...(typeof definitions === 'string' ? { definitions_status: definitions } : {}),
      ...(issues && issues.length > 0 ? { health_issues: issues } : {}),
      active: healthy === true && realTime && passive !== true,
    },
  };
}

function setting(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (isObject(value) && typeof value.value === 'boolean') return value.value;
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
