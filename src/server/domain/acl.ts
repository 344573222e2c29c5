/**
 * Access decisions (SPEC section 4 `/api/acl/evaluate`, SPEC 7.3 posture per resource), in
 * this order — the first that applies wins:
 *   1. either machine quarantined                    → deny, "machine_status_policy"
 *   2. enforce mode and the source's latest report
 *      non-compliant under the current policy, or
 *      missing, or expired (source not exempt); or
 *      the destination without a current verdict
 *      (no report or expired, not exempt)            → deny, "posture_policy"
 *   3. acl_rules by ascending priority (ties: oldest
 *      first, then id); the first matching rule
 *      decides                                       → its action, matched_rule = its name (or id)
 *   4. nothing matched                               → deny, "default_deny"
 *
 * `matched_rule` vocabulary (fixed; rule names may not take these forms, tables/acl-rules.ts):
 *   - `machine_status_policy`, `posture_policy`, `default_deny`: steps 1, 2 and 4 above;
 *   - a rule's name (its id when it has none): that rule decided — it allowed, or it denied
 *     and no rule before it was skipped for posture;
 *   - `posture:<policy name>`: denied, and the first rule (by priority) that would have
 *     allowed the access was skipped because the source does not satisfy its `src_posture`
 *     policy `<policy name>` (whatever rule or default denied afterwards).
 *
 * Posture per resource (SPEC 7.3): a rule with `src_posture` matches only when the source
 * satisfies the named policy (src-posture.ts): its latest stored report, evaluated against
 * exactly that policy's requirements — enabled or not, whatever the policy's targeting, with
 * no grace and no exemption — is compliant. No report, a report older than
 * `report_max_age_s` (in every mode) or a name no policy of the org has: not satisfied
 * (fail closed). Only the source's posture counts; the rule's other fields match as usual.
 *
 * Rule syntax: `src`/`dst` are comma-separated selectors — `*`, `id:<machine id>`,
 * `tag:<tag>`, `host:<hostname>`; a bare UUID is `id:`, any other bare word `host:`
 * (identity.ts: a hostname is never compared with an id). `ports` is `*` or a list of ports
 * and ranges (`22,443,8000-8100`).
 * A request without a port matches only rules whose ports are `*` (it asks about any
 * access, which a port-specific rule does not grant or deny as a whole).
 *
 * Rules are compiled once (compileRules) and the same compiled form decides here and in the
 * peer graph (peer-graph.ts), so a peer list and `/api/acl/evaluate` cannot disagree.
 */
import { z } from 'zod';
import { notFound } from '../errors.ts';
import { eq } from '../store/query.ts';
import type { Store } from '../store/store.ts';
import type { AclRuleRow, MachineRow } from '../store/tables.ts';
import type { DomainContext } from './context.ts';
import { hostnameKey, parseSelectorList, selectorListProblem } from './identity.ts';
import { isExpired, judgeStored, loadOrgPolicy } from './posture-service.ts';
import { loadFacts } from './lifecycle.ts';
import { loadNamedPolicies, postureOutcome } from './src-posture.ts';

export const aclEvaluateSchema = z.strictObject({
  src_machine_id: z.string().min(1).max(64),
  dst_machine_id: z.string().min(1).max(64),
  port: z.number().int().min(0).max(65535).optional(),
});

export interface AclDecision {
  readonly allowed: boolean;
  readonly matched_rule: string;
}

/** The fixed matched_rule values that are not rule names (a rule may not be named so). */
export const RESERVED_MATCHED_RULES = ['machine_status_policy', 'posture_policy', 'default_deny'] as const;
/** matched_rule of an access denied because the source failed a rule's src_posture. */
export const POSTURE_MATCHED_PREFIX = 'posture:';

export function portMatches(ports: string, port: number | undefined): boolean {
  const parts = ports.split(',').map((part) => part.trim());
  if (parts.includes('*')) return true;
  if (port === undefined) return false;
  return parts.some((part) => {
    const range = /^(\d+)-(\d+)$/.exec(part);
    if (range) return port >= Number(range[1]) && port <= Number(range[2]);
    return /^\d+$/.test(part) && Number(part) === port;
  });
}

/** Validates rule fields on write, so that evaluation never meets a rule it cannot read. */
export const aclSelector = z
  .string()
  .trim()
  .min(1)
  .max(4096)
  .superRefine((value, issues) => {
    const problem = selectorListProblem(value);
    if (problem) issues.addIssue({ code: 'custom', message: problem });
  });
export const aclPorts = z
  .string()
  .trim()
  .min(1)
  .max(512)
  .refine(
    (value) =>
      value.split(',').every((part) => {
        const p = part.trim();
        if (p === '*') return true;
        const range = /^(\d{1,5})-(\d{1,5})$/.exec(p);
        if (range) return Number(range[1]) <= Number(range[2]) && Number(range[2]) <= 65535;
        return /^\d{1,5}$/.test(p) && Number(p) <= 65535;
      }),
    'ports: * or a comma-separated list of ports and ranges (22,443,8000-8100) within 0-65535',
  );

// ---------------------------------------------------------------------------------------
// Compiled rules: what evaluation and the peer graph both read.

/** Sorted, disjoint, inclusive port ranges; `*` is [[0, 65535]]. */
export type PortRanges = ReadonlyArray<readonly [number, number]>;
export const MAX_PORT = 65535;
export const ALL_PORTS: PortRanges = [[0, MAX_PORT]];

/** A rule's `ports`, read as portMatches reads it: `*` is every port; unreadable parts match nothing. */
export function parsePorts(ports: string): { readonly any: boolean; readonly ranges: PortRanges } {
  const parts = ports.split(',').map((part) => part.trim());
  if (parts.includes('*')) return { any: true, ranges: ALL_PORTS };
  const ranges: Array<[number, number]> = [];
  for (const part of parts) {
    const range = /^(\d+)-(\d+)$/.exec(part);
    if (range) {
      const from = Number(range[1]);
      const to = Math.min(Number(range[2]), MAX_PORT);
      if (from <= to) ranges.push([from, to]);
    } else if (/^\d+$/.test(part) && Number(part) <= MAX_PORT) {
      ranges.push([Number(part), Number(part)]);
    }
  }
  return { any: false, ranges: normalise(ranges) };
}

function normalise(ranges: Array<[number, number]>): PortRanges {
  ranges.sort((x, y) => x[0] - y[0]);
  const merged: Array<[number, number]> = [];
  for (const [from, to] of ranges) {
    const last = merged[merged.length - 1];
    if (last && from <= last[1] + 1) last[1] = Math.max(last[1], to);
    else merged.push([from, to]);
  }
  return merged;
}

/** Whether two port sets share a port. */
export function portsOverlap(a: PortRanges, b: PortRanges): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as readonly [number, number];
    const y = b[j] as readonly [number, number];
    if (x[1] < y[0]) i += 1;
    else if (y[1] < x[0]) j += 1;
    else return true;
  }
  return false;
}

/** `a` without the ports of `b`. */
export function portsWithout(a: PortRanges, b: PortRanges): PortRanges {
  const result: Array<[number, number]> = [];
  for (const [from, to] of a) {
    let start = from;
    for (const [cutFrom, cutTo] of b) {
      if (cutTo < start || cutFrom > to) continue;
      if (cutFrom > start) result.push([start, cutFrom - 1]);
      start = Math.max(start, cutTo + 1);
      if (start > to) break;
    }
    if (start <= to) result.push([start, to]);
  }
  return result;
}

/** One side of a rule, compiled: which machines its selector list names. */
export interface MachineMatcher {
  /** `*` is among the selectors. */
  readonly all: boolean;
  readonly ids: ReadonlySet<string>;
  readonly hostKeys: ReadonlySet<string>;
  readonly tags: ReadonlySet<string>;
}

/** What a rule reads of a machine; `hostKey` is hostnameKey(hostname). */
export interface MatchedMachine {
  readonly id: string;
  readonly hostKey: string;
  readonly tags: readonly string[];
}

export function matchedMachine(machine: Pick<MachineRow, 'id' | 'hostname' | 'tags'>): MatchedMachine {
  return { id: machine.id.toLowerCase(), hostKey: hostnameKey(machine.hostname), tags: machine.tags };
}

/** Compiles a selector list as identity.ts parses it (lenient: unreadable entries match nothing). */
export function compileSelectors(list: string): MachineMatcher {
  const ids = new Set<string>();
  const hostKeys = new Set<string>();
  const tags = new Set<string>();
  let all = false;
  for (const selector of parseSelectorList(list)) {
    switch (selector.kind) {
      case 'all':
        all = true;
        break;
      case 'id':
        ids.add(selector.id);
        break;
      case 'host':
        hostKeys.add(selector.key);
        break;
      case 'tag':
        tags.add(selector.tag);
        break;
      case 'none':
        break;
    }
  }
  return { all, ids, hostKeys, tags };
}

export function matcherSelects(matcher: MachineMatcher, machine: MatchedMachine): boolean {
  return matcher.all || matcher.ids.has(machine.id) || matcher.hostKeys.has(machine.hostKey) || machine.tags.some((tag) => matcher.tags.has(tag));
}

export interface CompiledRule {
  readonly id: string;
  /** What matched_rule says when this rule decides: its name, else its id. */
  readonly label: string;
  readonly allow: boolean;
  readonly src: MachineMatcher;
  readonly dst: MachineMatcher;
  /** `ports` is `*`: the rule applies to requests without a port too. */
  readonly anyPort: boolean;
  readonly ports: PortRanges;
  /** The policy the source must satisfy (SPEC 7.3), or null. */
  readonly srcPosture: string | null;
}

export type StoredRule = Pick<AclRuleRow, 'id' | 'name' | 'action' | 'src' | 'dst' | 'ports' | 'src_posture'>;

export function compileRule(rule: StoredRule): CompiledRule {
  const ports = parsePorts(rule.ports);
  return {
    id: rule.id,
    label: rule.name || rule.id,
    allow: rule.action === 'allow',
    src: compileSelectors(rule.src),
    dst: compileSelectors(rule.dst),
    anyPort: ports.any,
    ports: ports.ranges,
    srcPosture: rule.src_posture ?? null,
  };
}

/** An org's rules in evaluation order: ascending priority, then oldest first, then id. */
export async function loadRules(store: Store, orgId: string): Promise<CompiledRule[]> {
  const rows = await store.select('acl_rules', {
    columns: ['id', 'name', 'action', 'src', 'dst', 'ports', 'src_posture'],
    filters: [eq('org_id', orgId)],
    order: [
      { column: 'priority', descending: false },
      { column: 'created_at', descending: false },
      { column: 'id', descending: false },
    ],
  });
  return rows.map(compileRule);
}

/** The policy names the rules' src_posture fields use. */
export function posturesUsed(rules: readonly CompiledRule[]): Set<string> {
  return new Set(rules.flatMap((rule) => (rule.srcPosture === null ? [] : [rule.srcPosture])));
}

/**
 * Step 3 and 4 of the order above for one request: the rules decide. `satisfies` tells
 * whether the source satisfies a policy (asked only for rules that otherwise match).
 */
export function decideByRules(rules: readonly CompiledRule[], src: MatchedMachine, dst: MatchedMachine, port: number | undefined, satisfies: (policy: string) => boolean): AclDecision {
  let postureFailed: string | null = null;
  for (const rule of rules) {
    if (!matcherSelects(rule.src, src) || !matcherSelects(rule.dst, dst)) continue;
    if (!rule.anyPort && (port === undefined || !rule.ports.some(([from, to]) => port >= from && port <= to))) continue;
    if (rule.srcPosture !== null && !satisfies(rule.srcPosture)) {
      if (rule.allow && postureFailed === null) postureFailed = `${POSTURE_MATCHED_PREFIX}${rule.srcPosture}`;
      continue;
    }
    if (rule.allow) return { allowed: true, matched_rule: rule.label };
    return { allowed: false, matched_rule: postureFailed ?? rule.label };
  }
  return { allowed: false, matched_rule: postureFailed ?? 'default_deny' };
}

export async function evaluateAccess(context: DomainContext, orgId: string, request: z.infer<typeof aclEvaluateSchema>): Promise<AclDecision> {
  const store = context.store;
  const [src, dst] = await Promise.all([
    store.selectOne('machines', [eq('id', request.src_machine_id), eq('org_id', orgId)]),
    store.selectOne('machines', [eq('id', request.dst_machine_id), eq('org_id', orgId)]),
  ]);
  // A machine of another org is indistinguishable from one that does not exist.
  if (!src) throw notFound(`src_machine_id: no machine ${request.src_machine_id} in this organisation`);
  if (!dst) throw notFound(`dst_machine_id: no machine ${request.dst_machine_id} in this organisation`);
  if (src.status === 'quarantined' || dst.status === 'quarantined') return { allowed: false, matched_rule: 'machine_status_policy' };
  const view = await loadOrgPolicy(store, orgId);
  const now = context.clock.now();
  if (view.settings.posture_enforcement === 'enforce') {
    const [srcReport, dstReport] = await Promise.all([
      src.posture_exempt === true ? null : store.selectOne('posture_reports', [eq('machine_id', src.id)]),
      dst.posture_exempt === true ? null : store.selectOne('posture_reports', [eq('machine_id', dst.id)]),
    ]);
    // The source must pass — or fail only inside a grace period or an exemption (SPEC 7.3);
    // the destination must at least have a current verdict (SPEC 7.1: a machine without one
    // is in no peer list, so nothing may reach it either).
    if (src.posture_exempt !== true && (!srcReport || judgeStored(srcReport, view, now, src, await loadFacts(store, src.id)).blocking)) return { allowed: false, matched_rule: 'posture_policy' };
    if (dst.posture_exempt !== true && (!dstReport || isExpired(dstReport, view.settings, now))) return { allowed: false, matched_rule: 'posture_policy' };
  }
  const rules = await loadRules(store, orgId);
  const names = posturesUsed(rules);
  const satisfied = new Map<string, boolean>();
  if (names.size > 0) {
    // The source's posture under each policy a rule names: one report read, evaluated per name.
    const [policies, report] = await Promise.all([loadNamedPolicies(store, orgId, names), store.selectOne('posture_reports', [eq('machine_id', src.id)])]);
    for (const name of names) satisfied.set(name, postureOutcome(policies.get(name), report, src, view.settings, now).satisfied);
  }
  return decideByRules(rules, matchedMachine(src), matchedMachine(dst), request.port, (name) => satisfied.get(name) === true);
}
