/**
 * Policy targeting on the device (SPEC 7.3) for the local evaluations — `ztna posture check`
 * and `ztna posture status --policy`: which policies of a policy file apply to this device,
 * and, for each one that does not, why. The rule itself is the server's (appliesTo in
 * src/shared/lifecycle.ts); this module adds what only the device has to decide: where its
 * platform and tags come from, and what to do when they are not known.
 *
 * Decisions (documented in the README, "Targeting in local checks"):
 * - The platform is the report's `platform` (this device's when it collects). A report that
 *   names none matches every platform list: the policy applies (fail closed, as appliesTo).
 * - Tags exist only as an admin's grant on a server. A device that is not enrolled carries
 *   none, so a policy with `tags` does not apply to it — as on a server, for a machine
 *   without tags. (`--tags` checks as if the device carried some.)
 * - An enrolled device whose tags no server answer has named (an older server, or an
 *   enrollment made by an older agent) is not known to carry none: a policy with `tags`
 *   applies (fail closed), and the selection says so.
 */
import { appliesTo } from '../shared/lifecycle.ts';
import type { PolicyScope } from '../shared/lifecycle.ts';
import { PLATFORMS } from '../shared/signals.ts';

/** Where the device's tags came from. */
export type TagsSource =
  /** `--tags` on the command line. */
  | 'option'
  /** The daemon's saved state: the latest heartbeat that named them. */
  | 'server'
  /** The enrollment: the tags the server gave at registration. */
  | 'enrollment'
  /** Not enrolled: the device carries no tags. */
  | 'not_enrolled'
  /** Enrolled, but no server answer has named them (tagged policies apply: fail closed). */
  | 'unknown'
  /** No policy names tags, so they were not looked up. */
  | 'not_needed';

export interface DeviceTarget {
  /** `darwin` / `windows` / `linux` from the report; null when it names none. */
  readonly platform: string | null;
  /** null when not known (sources `unknown` and `not_needed`). */
  readonly tags: readonly string[] | null;
  readonly tags_from: TagsSource;
}

/** A policy of the file, identified for a person: its position in the file (from 1) and its name, if any. */
export interface PolicyRef {
  readonly position: number;
  readonly name: string | null;
  readonly platforms: readonly string[] | null;
  readonly tags: readonly string[] | null;
  readonly grace_period_s: number;
}

export interface AppliedPolicy extends PolicyRef {
  /** Set when it applies only because something was not known (fail closed). */
  readonly note?: string;
}

export type SkipReason = 'disabled' | 'platform' | 'tags' | 'not_enrolled';

export interface SkippedPolicy extends PolicyRef {
  readonly reason: SkipReason;
  /** One sentence for a person. */
  readonly detail: string;
}

/** What `--json` shows under `policies`. */
export interface PolicySelection {
  readonly device: DeviceTarget;
  readonly applied: readonly AppliedPolicy[];
  readonly skipped: readonly SkippedPolicy[];
}

export type TargetablePolicy = { readonly enabled: boolean; readonly name?: string | undefined; readonly id?: string | undefined } & PolicyScope;

/** Whether any policy needs the device's tags to be decided (so they are looked up only then). */
export function needsTags(policies: readonly TargetablePolicy[]): boolean {
  return policies.some((policy) => policy.enabled && (policy.tags ?? null) !== null);
}

const list = (items: readonly string[]) => items.join(', ');

/** The policies that apply to `device` (in file order), and the selection that explains it. */
export function selectPolicies<P extends TargetablePolicy>(policies: readonly P[], device: DeviceTarget): { policies: P[]; selection: PolicySelection } {
  const chosen: P[] = [];
  const applied: AppliedPolicy[] = [];
  const skipped: SkippedPolicy[] = [];
  const knownPlatform = device.platform !== null && (PLATFORMS as readonly string[]).includes(device.platform);
  policies.forEach((policy, index) => {
    const platforms = policy.platforms ?? null;
    const tags = policy.tags ?? null;
    const ref: PolicyRef = { position: index + 1, name: policy.name ?? policy.id ?? null, platforms, tags, grace_period_s: policy.grace_period_s ?? 0 };
    const skip = (reason: SkipReason, detail: string) => skipped.push({ ...ref, reason, detail });
    if (!policy.enabled) return skip('disabled', 'it is disabled ("enabled": false)');
    // The platform half and the tags half of appliesTo, each alone, so that the reason can be told.
    if (!appliesTo({ platforms }, { platform: device.platform, tags: [] })) {
      return skip('platform', `it applies to ${list(platforms ?? [])}; this device is ${device.platform ?? 'unknown'}`);
    }
    const notes: string[] = [];
    if (platforms !== null && !knownPlatform) notes.push(`the report names no known platform, so its platform list (${list(platforms)}) cannot exclude it (fail closed)`);
    if (tags !== null) {
      if (device.tags === null) {
        notes.push(`it targets tags ${list(tags)} and this device's tags are not known (no answer from the server has named them), so it applies (fail closed)`);
      } else if (!appliesTo({ tags }, { platform: null, tags: device.tags })) {
        if (device.tags_from === 'not_enrolled') {
          return skip('not_enrolled', `it targets tags ${list(tags)}; this device is not enrolled, so it carries no tags (check as if it did with --tags)`);
        }
        return skip('tags', `it targets tags ${list(tags)}; this device carries ${device.tags.length > 0 ? list(device.tags) : 'no tags'}`);
      }
    }
    chosen.push(policy);
    applied.push(notes.length > 0 ? { ...ref, note: notes.join('; ') } : ref);
  });
  return { policies: chosen, selection: { device, applied, skipped } };
}
