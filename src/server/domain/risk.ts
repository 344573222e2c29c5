/**
 * Risk score, 0–100 (SPEC section 4): 0 for a compliant machine that is not
 * quarantined; each violation adds its weight and quarantine adds 20, capped at 100.
 * The weights are the catalogue's (src/shared/signals.ts, `risk` of each requirement):
 *
 *   disk_encryption_required  30    firewall_required      25    antivirus_required 25
 *   patch_age_exceeded        15    os_version_too_old     15    agent_version_too_old 10
 *   screen_lock_required      10    secure_boot_required   10
 *   posture_report_expired    20    quarantined           +20
 *
 * Weights reflect how much each gap exposes data at rest, the network, and the host. A
 * code the catalogue does not know (a newer server's, in a stored report) weighs 10.
 */
import { QUARANTINE_RISK, REPORT_EXPIRED, REQUIREMENTS } from '../../shared/signals.ts';

export const RISK_WEIGHTS: Readonly<Record<string, number>> = Object.freeze({
  ...Object.fromEntries(REQUIREMENTS.map((requirement) => [requirement.code, requirement.risk])),
  [REPORT_EXPIRED.code]: REPORT_EXPIRED.risk,
  quarantined: QUARANTINE_RISK,
});

const UNKNOWN_CODE_WEIGHT = 10;

export function riskScore(findings: ReadonlyArray<{ readonly code: string }>, quarantined: boolean): number {
  let score = quarantined ? QUARANTINE_RISK : 0;
  for (const { code } of findings) score += Object.hasOwn(RISK_WEIGHTS, code) ? (RISK_WEIGHTS[code] as number) : UNKNOWN_CODE_WEIGHT;
  return Math.min(100, score);
}
