/**
 * Policy lifecycle (SPEC 7.3): which policies apply to a machine (targeting), how long a
 * violation may last before it blocks (grace), and which violations an exemption covers.
 * Pure functions over values; the server stores the inputs (first-failed times, exemptions)
 * and the agent's `ztna posture check` uses the targeting.
 *
 * Invariants:
 * - A policy applies when its `platforms` (null: all) names the machine's platform and its
 *   `tags` (null: all) share a tag with the machine. An unknown platform matches every
 *   platform list (fail closed: the policy applies).
 * - A violation's grace is the shortest `grace_period_s` among the applying policies that,
 *   alone, produce that violation code ("the shortest grace wins"). The server's
 *   `posture_report_expired` has no policy and so no grace.
 * - `blocks_at` = when the violation first appeared in an unbroken failing run + its grace;
 *   a violation with grace 0 blocks at once and carries no `blocks_at`.
 * - An exemption covers a violation when one of its `codes` is a prefix of the code (null:
 *   every code) and it has not expired. The legacy `posture_exempt` flag is an exemption of
 *   every code with no expiry.
 * - The verdict's `compliant` and `violations` are the evaluation's, unchanged: grace and
 *   exemptions decide only whether the verdict blocks.
 */
import type { PostureVerdict } from './posture.ts';
import { evaluatePosture } from './posture.ts';
import type { EvaluablePolicy, Platform, PostureFinding } from './signals.ts';
import { PLATFORMS } from './signals.ts';

/** The targeting and grace fields of a policy (SPEC 7.3); absent means the default. */
export interface PolicyScope {
  readonly platforms?: readonly Platform[] | null;
  readonly tags?: readonly string[] | null;
  readonly grace_period_s?: number;
}

export type ScopedPolicy = EvaluablePolicy & PolicyScope;

/** What targeting reads of a machine. */
export interface PolicyTarget {
  /** `darwin` / `windows` / `linux`, or null when not known. */
  readonly platform: string | null;
  readonly tags: readonly string[];
}

export function appliesTo(policy: PolicyScope, target: PolicyTarget): boolean {
  const platforms = policy.platforms ?? null;
  if (platforms !== null && (PLATFORMS as readonly string[]).includes(target.platform ?? '') && !platforms.includes(target.platform as Platform)) return false;
  const tags = policy.tags ?? null;
  if (tags !== null && !tags.some((tag) => target.tags.includes(tag))) return false;
  return true;
}

/** The enabled policies that apply to `target`. */
export function applyingPolicies<P extends ScopedPolicy>(policies: readonly P[], target: PolicyTarget): P[] {
  return policies.filter((policy) => policy.enabled && appliesTo(policy, target));
}

/**
 * Grace per violation code: the shortest grace among the applying policies that produce
 * the code on their own. Codes no policy produces alone (none today) get no grace.
 */
export function graceByCode(report: Readonly<Record<string, unknown>>, policies: readonly ScopedPolicy[]): Map<string, number> {
  const grace = new Map<string, number>();
  for (const policy of policies) {
    if (!policy.enabled) continue;
    const seconds = policy.grace_period_s ?? 0;
    for (const finding of evaluatePosture(report, [policy]).findings) {
      const current = grace.get(finding.code);
      if (current === undefined || seconds < current) grace.set(finding.code, seconds);
    }
  }
  return grace;
}

export interface Exemption {
  /** Violation code prefixes, or null for every code. */
  readonly codes: readonly string[] | null;
  /** When it ends (ms since the epoch), or null for none (the legacy flag). */
  readonly expiresAt: number | null;
}

export function exemptionCovers(exemption: Exemption, code: string, now: number): boolean {
  if (exemption.expiresAt !== null && exemption.expiresAt <= now) return false;
  return exemption.codes === null || exemption.codes.some((prefix) => code.startsWith(prefix));
}

/** What a machine's verdict means once grace and exemptions are applied. */
export type LifecycleState = 'compliant' | 'failing' | 'grace' | 'exempt';

export interface Judgement {
  /** The verdict with `blocks_at` / `exempt_until` on its findings. */
  readonly verdict: PostureVerdict;
  /** Whether a violation is neither exempt nor inside its grace: what quarantines. */
  readonly blocking: boolean;
  readonly state: LifecycleState;
  /** The earliest `blocks_at` of a violation still in grace (when the sweeper must look again). */
  readonly graceUntil: number | null;
  /** First-failed time per violation code (ms): the runs to keep; codes not here have ended. */
  readonly runs: ReadonlyMap<string, number>;
}

export interface JudgeInput {
  readonly verdict: PostureVerdict;
  /** Grace per code (graceByCode); ignored outside runs (`trackRuns` false). */
  readonly grace: ReadonlyMap<string, number>;
  /** Known runs: code → first-failed time (ms). */
  readonly firstFailed: ReadonlyMap<string, number>;
  readonly exemptions: readonly Exemption[];
  readonly now: number;
  /**
   * Whether violations run towards a deadline (enforce mode). Otherwise nothing is in grace
   * and no run is kept: a run starts when enforcement does.
   */
  readonly trackRuns: boolean;
}

export function judge(input: JudgeInput): Judgement {
  const { verdict, now } = input;
  const runs = new Map<string, number>();
  const findings: PostureFinding[] = [];
  let blocking = false;
  let inGrace = false;
  let graceUntil: number | null = null;
  for (const finding of verdict.findings) {
    const annotated: { -readonly [K in keyof PostureFinding]: PostureFinding[K] } = { ...finding };
    let blocks = true;
    if (input.trackRuns) {
      const first = input.firstFailed.get(finding.code) ?? now;
      runs.set(finding.code, first);
      const grace = input.grace.get(finding.code) ?? 0;
      if (grace > 0) {
        const deadline = first + grace * 1000;
        annotated.blocks_at = new Date(deadline).toISOString();
        if (deadline > now) {
          blocks = false;
          inGrace = true;
          graceUntil = graceUntil === null ? deadline : Math.min(graceUntil, deadline);
        }
      }
    }
    const covering = input.exemptions.filter((exemption) => exemptionCovers(exemption, finding.code, now));
    if (covering.length > 0) {
      blocks = false;
      const ends = covering.map((exemption) => exemption.expiresAt);
      // The latest end of the exemptions that cover it; none when one of them has no end.
      if (!ends.includes(null)) annotated.exempt_until = new Date(Math.max(...(ends as number[]))).toISOString();
    }
    if (blocks) blocking = true;
    findings.push(annotated);
  }
  const state: LifecycleState = findings.length === 0 ? 'compliant' : blocking ? 'failing' : inGrace ? 'grace' : 'exempt';
  return { verdict: { ...verdict, findings }, blocking, state, graceUntil: blocking ? null : graceUntil, runs };
}

/** "in 2 days", "in 3 h", "in 5 min", "now": how far `at` is from `now`, for people. */
export function timeUntil(at: number, now: number): string {
  const seconds = Math.round((at - now) / 1000);
  if (seconds <= 0) return 'now';
  if (seconds < 90) return `in ${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `in ${minutes} min`;
  const hours = Math.round(minutes / 60);
  if (hours < 36) return `in ${hours} h`;
  const days = Math.round(hours / 24);
  return `in ${days} day${days === 1 ? '' : 's'}`;
}
