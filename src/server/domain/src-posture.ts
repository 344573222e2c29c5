/**
 * Posture per resource (SPEC 7.3): whether a machine satisfies the posture policy an ACL
 * rule's `src_posture` names, and keeping peer lists in step when that changes.
 *
 * Invariants:
 * - A machine satisfies policy P when its latest stored report, read as the enforcement
 *   reads it (evaluationInput: the report's signals, platform and agent version, else the
 *   machine's), evaluated against exactly P's requirements by the shared evaluatePosture,
 *   is compliant. P counts whether or not it is `enabled`; its targeting (`platforms`,
 *   `tags`) does not narrow it (the rule, not the policy, says whom it applies to); no grace
 *   and no exemption apply (they excuse a device from org-wide enforcement; they do not
 *   make it meet a resource's requirement).
 * - Fail closed: no report, a report older than `report_max_age_s` (whatever the mode), or a
 *   name that no policy of the org has (deleted or renamed since) is not satisfied.
 * - Policy names are not unique: when several policies of the org share the name, the
 *   machine must satisfy all of them (their requirements combine as enabled policies do).
 * - Everything that can change a satisfaction some rule depends on bumps peers_version in
 *   the transaction that changes it: a report (postureWatch), a policy or settings change
 *   (peersFollowPolicies, called by re-evaluation), a rule change (tables/acl-rules.ts).
 *   Expiry by the passing of time is caught by the sweeper's expireVerdicts and by the peer
 *   cache's own deadline (peers.ts).
 */
import type { ScopedPolicy } from '../../shared/lifecycle.ts';
import { evaluatePosture } from '../../shared/posture.ts';
import { eq } from '../store/query.ts';
import type { Store } from '../store/store.ts';
import type { MachineRow } from '../store/tables.ts';
import type { Effects } from './context.ts';
import type { OrgSettings } from './settings.ts';
import { collectedAt, isExpired } from './posture-service.ts';
import { policyOf } from './tables/posture-policies.ts';
import type { EvaluatedReport } from './tables/posture-reports.ts';
import { evaluationInput } from './tables/posture-reports.ts';
import { compileRule, matchedMachine, matcherSelects } from './acl.ts';

/** Why a machine does or does not satisfy a src_posture policy. */
export type PostureOutcomeReason = 'satisfied' | 'failing' | 'no_report' | 'expired' | 'unknown_policy';

export interface PostureOutcome {
  readonly satisfied: boolean;
  readonly reason: PostureOutcomeReason;
  /** When a satisfied outcome stops holding because the report expires (ms), or null. */
  readonly until: number | null;
}

/** Policy name → the org's policies of that name, as evaluation takes them (all enabled). */
export type NamedPolicies = ReadonlyMap<string, readonly ScopedPolicy[]>;

/** The org's policies named in `names`, enabled or not. */
export async function loadNamedPolicies(store: Store, orgId: string, names: ReadonlySet<string>): Promise<NamedPolicies> {
  const byName = new Map<string, ScopedPolicy[]>();
  if (names.size === 0) return byName;
  for (const row of await store.select('posture_policies', { filters: [eq('org_id', orgId)] })) {
    if (!names.has(row.name)) continue;
    const list = byName.get(row.name) ?? [];
    // Enabled for this evaluation: a src_posture counts whether or not the policy enforces org-wide.
    list.push({ ...policyOf(row), enabled: true });
    byName.set(row.name, list);
  }
  return byName;
}

/** Whether a machine, by its latest report (null: none), satisfies the policies of one name (undefined: none). */
export function postureOutcome(
  policies: readonly ScopedPolicy[] | undefined,
  report: EvaluatedReport | null,
  machine: Pick<MachineRow, 'os' | 'agent_version'> | undefined,
  settings: OrgSettings,
  now: Date,
): PostureOutcome {
  if (!policies || policies.length === 0) return { satisfied: false, reason: 'unknown_policy', until: null };
  if (!report) return { satisfied: false, reason: 'no_report', until: null };
  if (isExpired(report, settings, now)) return { satisfied: false, reason: 'expired', until: null };
  if (!evaluatePosture(evaluationInput(report, machine), policies).compliant) return { satisfied: false, reason: 'failing', until: null };
  const maxAge = settings.report_max_age_s;
  return { satisfied: true, reason: 'satisfied', until: maxAge === null ? null : collectedAt(report) + maxAge * 1000 };
}

/** The policy names the org's ACL rules use as src_posture (empty: no rule uses posture). */
export async function postureRuleNames(store: Store, orgId: string): Promise<Set<string>> {
  // The same query as the peer graph's and evaluate's (served from the store's read cache on SQLite).
  const rules = await store.select('acl_rules', { columns: ['src_posture'], filters: [eq('org_id', orgId)] });
  return new Set(rules.flatMap((rule) => (rule.src_posture === null ? [] : [rule.src_posture])));
}

/**
 * A policy or setting of the org changed (re-evaluation runs after every such change): when
 * rules use src_posture, what they match may have changed, so the peer lists follow.
 */
export async function peersFollowPolicies(tx: Store, effects: Effects, orgId: string): Promise<void> {
  if ((await postureRuleNames(tx, orgId)).size > 0) effects.peersChanged(orgId);
}

export interface PostureWatch {
  /** After the machine's new report is stored: bumps peers_version when a satisfaction a rule uses changed. */
  settle(effects: Effects, stored: EvaluatedReport): void;
}

/**
 * Before a machine's report is replaced (inside the report's transaction): what it satisfied
 * of the policies the rules that select it as a source name. Null when no such rule exists
 * (then a report cannot change any peer list through posture).
 */
export async function postureWatch(tx: Store, orgId: string, machine: Pick<MachineRow, 'id' | 'hostname' | 'tags' | 'os' | 'agent_version'>, settings: OrgSettings, now: Date): Promise<PostureWatch | null> {
  const rows = await tx.select('acl_rules', { columns: ['id', 'name', 'action', 'src', 'dst', 'ports', 'src_posture'], filters: [eq('org_id', orgId)] });
  const self = matchedMachine(machine);
  const names = new Set<string>();
  for (const row of rows) {
    if (row.src_posture === null) continue;
    if (matcherSelects(compileRule(row).src, self)) names.add(row.src_posture);
  }
  if (names.size === 0) return null;
  const [policies, previous] = await Promise.all([loadNamedPolicies(tx, orgId, names), tx.selectOne('posture_reports', [eq('machine_id', machine.id)])]);
  const satisfiedBy = (report: EvaluatedReport | null) => [...names].map((name) => postureOutcome(policies.get(name), report, machine, settings, now).satisfied);
  const before = satisfiedBy(previous);
  return {
    settle(effects, stored) {
      const after = satisfiedBy(stored);
      if (after.some((value, index) => value !== before[index])) effects.peersChanged(orgId);
    },
  };
}
