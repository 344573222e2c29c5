/**
 * Risk score, 0–100 (SPEC section 4): 0 for a compliant machine that is not
 * quarantined; each violation adds its weight and quarantine adds 20, capped at 100.
 *
 *   disk_encryption_required  30    firewall_required   25    antivirus_required 25
 *   patch_age_exceeded (…)    15    posture_report_expired   20    quarantined   +20
 *
 * Weights reflect how much each gap exposes data at rest, the network, and the host.
 */
export const RISK_WEIGHTS = {
  disk_encryption_required: 30,
  firewall_required: 25,
  antivirus_required: 25,
  patch_age_exceeded: 15,
  posture_report_expired: 20,
  quarantined: 20,
} as const;

export function riskScore(violations: readonly string[], quarantined: boolean): number {
  let score = quarantined ? RISK_WEIGHTS.quarantined : 0;
  for (const violation of violations) {
    const code = violation.split(' ', 1)[0] as keyof typeof RISK_WEIGHTS;
    score += RISK_WEIGHTS[code] ?? 10;
  }
  return Math.min(100, score);
}
