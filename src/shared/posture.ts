/**
 * The posture model shared by the agent and the server (SPEC section 2).
 *
 * The agent reports facts; a policy says which facts are required; `evaluatePosture`
 * renders the verdict. There is exactly one evaluation function: the agent's local
 * preview (`ztna posture status --local`, `ztna posture check`) and the server's
 * verdict both call it, so they can never disagree.
 *
 * Invariants:
 * - A signal is `true`, `false`, or `null` ("the agent could not tell"). Unknown fails
 *   closed: a required signal that is not `true` is a violation.
 * - Violations come in the fixed order disk encryption, firewall, antivirus, patch age.
 * - Several enabled policies combine: a requirement holds if any enabled policy requires
 *   it; the smallest `max_patch_age_days` wins. Disabled policies are ignored.
 */
import type { PosturePolicy, PostureSignals } from './posture-schemas.ts';

export type { PosturePolicy, PostureReport, PostureSignals } from './posture-schemas.ts';

/** The built-in policy used when no policy is given: all three signals, patches ≤ 30 days. */
export const DEFAULT_POLICY: PosturePolicy = Object.freeze({
  enabled: true,
  require_disk_encryption: true,
  require_firewall: true,
  require_antivirus: true,
  max_patch_age_days: 30,
});

export const VIOLATION = {
  diskEncryptionRequired: 'disk_encryption_required',
  firewallRequired: 'firewall_required',
  antivirusRequired: 'antivirus_required',
  /** Added by the server only (SPEC section 3): the latest report is older than allowed. */
  postureReportExpired: 'posture_report_expired',
} as const;

/** `patch_age_exceeded (45 > 30 days)`; an unknown age prints as `unknown`. */
export function patchAgeViolation(patchAgeDays: number | null, maxPatchAgeDays: number): string {
  return `patch_age_exceeded (${patchAgeDays ?? 'unknown'} > ${maxPatchAgeDays} days)`;
}

/** What a set of policies requires once combined. */
export interface EffectiveRequirements {
  requireDiskEncryption: boolean;
  requireFirewall: boolean;
  requireAntivirus: boolean;
  /** null = no limit. */
  maxPatchAgeDays: number | null;
}

export function combinePolicies(policies: readonly PosturePolicy[]): EffectiveRequirements {
  const combined: EffectiveRequirements = {
    requireDiskEncryption: false,
    requireFirewall: false,
    requireAntivirus: false,
    maxPatchAgeDays: null,
  };
  for (const policy of policies) {
    if (!policy.enabled) continue;
    combined.requireDiskEncryption ||= policy.require_disk_encryption;
    combined.requireFirewall ||= policy.require_firewall;
    combined.requireAntivirus ||= policy.require_antivirus;
    const limit = policy.max_patch_age_days;
    if (limit !== null && (combined.maxPatchAgeDays === null || limit < combined.maxPatchAgeDays)) {
      combined.maxPatchAgeDays = limit;
    }
  }
  return combined;
}

export interface PostureVerdict {
  compliant: boolean;
  violations: string[];
}

/** THE evaluation function (SPEC section 2). Pure; used by agent and server alike. */
export function evaluatePosture(signals: PostureSignals, policies: readonly PosturePolicy[]): PostureVerdict {
  const required = combinePolicies(policies);
  const violations: string[] = [];
  if (required.requireDiskEncryption && signals.disk_encrypted !== true) {
    violations.push(VIOLATION.diskEncryptionRequired);
  }
  if (required.requireFirewall && signals.firewall_enabled !== true) {
    violations.push(VIOLATION.firewallRequired);
  }
  if (required.requireAntivirus && signals.antivirus_enabled !== true) {
    violations.push(VIOLATION.antivirusRequired);
  }
  const limit = required.maxPatchAgeDays;
  if (limit !== null && (signals.patch_age_days === null || signals.patch_age_days > limit)) {
    violations.push(patchAgeViolation(signals.patch_age_days, limit));
  }
  return { compliant: violations.length === 0, violations };
}
