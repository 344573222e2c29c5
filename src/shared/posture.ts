/**
 * The posture model shared by the agent and the server (SPEC sections 2 and 7.2).
 *
 * The agent reports facts; a policy says which facts are required; `evaluatePosture`
 * renders the verdict. There is exactly one evaluation function: the agent's local
 * preview (`ztna posture status --local`, `ztna posture check`) and the server's
 * verdict both call it, so they can never disagree. What the signals and requirements
 * are comes from the catalogue (signals.ts); this module only walks it.
 *
 * Invariants:
 * - A signal is its value or `null` ("the agent could not tell", also when absent). Unknown
 *   fails closed: a required signal that is not `true` is a violation; an unknown value
 *   under a limit or a minimum is a violation.
 * - Violations come in the catalogue's order (SPEC 2, then 7.2), then the server's
 *   `posture_report_expired`. Each violation string has a structured finding beside it.
 * - Several enabled policies combine: a flag holds if any enabled policy requires it; the
 *   smallest maximum and the largest minimum win. Disabled policies are ignored.
 */
import type { EvaluablePolicy, PolicyRequirements, PostureFinding } from './signals.ts';
import { REPORT_EXPIRED, REQUIREMENTS, checkRequirement, combineRequirements, requirementsOf, signalSet, violationText } from './signals.ts';

export type { PosturePolicy, PostureReport, PostureSignals } from './posture-schemas.ts';
export type { PostureFinding } from './signals.ts';

/** The built-in policy used when no policy is given (SPEC 5): the three flags, patches ≤ 30 days. */
export const DEFAULT_POLICY: EvaluablePolicy = Object.freeze({
  enabled: true,
  ...requirementsOf({ require_disk_encryption: true, require_firewall: true, require_antivirus: true, max_patch_age_days: 30 }),
});

export const VIOLATION = {
  diskEncryptionRequired: 'disk_encryption_required',
  firewallRequired: 'firewall_required',
  antivirusRequired: 'antivirus_required',
  /** Added by the server only (SPEC section 3): the latest report is older than allowed. */
  postureReportExpired: REPORT_EXPIRED.code,
} as const;

/** A policy in any shape that carries `enabled` and some requirement fields (rows, files, old servers). */
export type PolicyLike = { readonly enabled: boolean } & Readonly<Partial<PolicyRequirements>>;

/** What a set of policies requires once combined (each requirement field's effective value). */
export function combinePolicies(policies: readonly PolicyLike[]): PolicyRequirements {
  return combineRequirements(policies.map((policy) => ({ enabled: policy.enabled, ...requirementsOf(policy) })));
}

export interface PostureVerdict {
  compliant: boolean;
  violations: string[];
  findings: PostureFinding[];
}

/**
 * THE evaluation function (SPEC 2 and 7.2). Pure; used by agent and server alike.
 * `report` holds the signals (absent ones are unknown) and the extras the requirements
 * read: `platform` (for `min_os_versions`) and `agent_version`.
 */
export function evaluatePosture(report: Readonly<Record<string, unknown>>, policies: readonly PolicyLike[]): PostureVerdict {
  const required = combinePolicies(policies);
  const signals = signalSet(report);
  const context = {
    platform: typeof report.platform === 'string' ? report.platform : null,
    agent_version: typeof report.agent_version === 'string' ? report.agent_version : null,
  };
  const findings: PostureFinding[] = [];
  for (const requirement of REQUIREMENTS) {
    const finding = checkRequirement(requirement, required[requirement.field], signals, context);
    if (finding) findings.push(finding);
  }
  return verdictOf(findings);
}

export function verdictOf(findings: readonly PostureFinding[]): PostureVerdict {
  return { compliant: findings.length === 0, violations: findings.map(violationText), findings: [...findings] };
}

/** The server's verdict for a report older than `report_max_age_s` (SPEC 3). */
export function expiredVerdict(ageSeconds: number, maxAgeSeconds: number): PostureVerdict {
  return verdictOf([
    {
      code: REPORT_EXPIRED.code,
      signal: 'collected_at',
      required: `<= ${maxAgeSeconds} s old`,
      observed: Math.max(0, Math.floor(ageSeconds)),
      limit: maxAgeSeconds,
      message: `The latest posture report was collected ${Math.max(0, Math.floor(ageSeconds))} s ago; the organisation accepts reports at most ${maxAgeSeconds} s old`,
    },
  ]);
}

