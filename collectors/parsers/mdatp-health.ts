/**
 * `mdatp health --output json` (Microsoft Defender for Endpoint on macOS and Linux: one
 * format, camelCase keys with `{value}` objects) → whether Defender is actively protecting.
 *
 * Shape (glpi-project/glpi-agent `resources/macos/antivirus/defender-101.98.30.json` and
 * `resources/linux/antivirus/defender-101.23062.0010.json`):
 *   { "$type": "getHealthAllResult", "appVersion": "101.98.30", "healthy": true, "licensed": true,
 *     "healthIssues": [], "definitionsStatus": { "$type": "upToDate" },
 *     "realTimeProtectionEnabled": { "displayValue": true, "isManaged": false, "value": true },
 *     "passiveModeEnabled": { ..., "value": false }, ... }
 * Settings are `{ value }` objects; a bare boolean is accepted too.
 *
 * Invariant: Defender counts as active only when it is healthy, real-time protection is on,
 * it is not in passive mode (passive mode reports healthy toggles while another AV does
 * the blocking; mondoohq/mql PR #10381 for the Windows twin of this trap) and its
 * definitions are current (antivirus-freshness.ts: `definitionsStatus` other than
 * `upToDate`, or `definitionsUpdatedMinutesAgo` beyond the shared limit, is stale).
 * (The plain-text `mdatp health` prints snake_case names; the JSON never does.)
 */
// Shared by the Linux and macOS collectors: nothing here may load the plist parser (xmldom
// costs the Linux CLI ~12 ms of start-up), so `clip` comes from types.ts.
import { clip, firstLine, unknown } from '../types.ts';
import { MAX_SIGNATURE_AGE_DAYS } from './antivirus-freshness.ts';
import type { Parsed } from './darwin-plist.ts';

export interface MdatpHealth {
  readonly healthy: boolean | null;
  readonly real_time_protection: boolean;
  readonly passive_mode: boolean | null;
  readonly app_version?: string;
  readonly definitions_status?: string;
  readonly definitions_age_days?: number;
  /** Why the definitions are not current, when they are not. */
  readonly definitions_problem?: string;
  readonly health_issues?: readonly string[];
  /** Healthy, real-time protection on, not passive, definitions current. */
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
  const minutesAgo = typeof root.definitionsUpdatedMinutesAgo === 'number' && Number.isFinite(root.definitionsUpdatedMinutesAgo) ? root.definitionsUpdatedMinutesAgo : undefined;
  const ageDays = minutesAgo === undefined ? undefined : Math.floor(minutesAgo / 1440);
  const definitionsProblem =
    typeof definitions === 'string' && definitions !== 'upToDate'
      ? `definitions are "${definitions}", not up to date`
      : ageDays !== undefined && ageDays > MAX_SIGNATURE_AGE_DAYS
        ? `definitions were updated ${ageDays} days ago (more than ${MAX_SIGNATURE_AGE_DAYS})`
        : undefined;
  return {
    ok: true,
    value: {
      healthy,
      real_time_protection: realTime,
      passive_mode: passive,
      ...(typeof root.appVersion === 'string' ? { app_version: root.appVersion } : {}),
      ...(typeof definitions === 'string' ? { definitions_status: definitions } : {}),
      ...(ageDays !== undefined ? { definitions_age_days: ageDays } : {}),
      ...(definitionsProblem ? { definitions_problem: definitionsProblem } : {}),
      ...(issues && issues.length > 0 ? { health_issues: issues } : {}),
      active: healthy === true && realTime && passive !== true && definitionsProblem === undefined,
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
