/**
 * Access decisions (SPEC section 4 `/api/acl/evaluate`), in this order — the first that
 * applies wins:
 *   1. either machine quarantined                    → deny, "machine_status_policy"
 *   2. enforce mode and the source's latest report
 *      non-compliant under the current policy, or
 *      missing, or expired (source not exempt); or
 *      the destination without a current verdict
 *      (no report or expired, not exempt)            → deny, "posture_policy"
 *   3. acl_rules by ascending priority (ties: oldest
 *      first); the first matching rule decides       → its action, matched_rule = its name (or id)
 *   4. nothing matched                               → deny, "default_deny"
 *
 * Rule syntax: `src`/`dst` are comma-separated selectors — `*`, `id:<machine id>`,
 * `tag:<tag>`, `host:<hostname>`; a bare UUID is `id:`, any other bare word `host:`
 * (identity.ts: a hostname is never compared with an id). `ports` is `*` or a list of ports
 * and ranges (`22,443,8000-8100`).
 * A request without a port matches only rules whose ports are `*` (it asks about any
 * access, which a port-specific rule does not grant or deny as a whole).
 */
import { z } from 'zod';
import { notFound } from '../errors.ts';
import { eq } from '../store/query.ts';
import type { DomainContext } from './context.ts';
import { parseSelectorList, selectorListProblem, selectorsMatch } from './identity.ts';
import { isExpired, judgeStored, loadOrgPolicy } from './posture-service.ts';
import { loadFacts } from './lifecycle.ts';

export const aclEvaluateSchema = z.strictObject({
  src_machine_id: z.string().min(1).max(64),
  dst_machine_id: z.string().min(1).max(64),
  port: z.number().int().min(0).max(65535).optional(),
});

export interface AclDecision {
  readonly allowed: boolean;
  readonly matched_rule: string;
}

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
  if (view.settings.posture_enforcement === 'enforce') {
    const now = context.clock.now();
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
  const rules = await store.select('acl_rules', {
    filters: [eq('org_id', orgId)],
    order: [
      { column: 'priority', descending: false },
      { column: 'created_at', descending: false },
    ],
  });
  for (const rule of rules) {
    if (selectorsMatch(parseSelectorList(rule.src), src) && selectorsMatch(parseSelectorList(rule.dst), dst) && portMatches(rule.ports, request.port)) {
      return { allowed: rule.action === 'allow', matched_rule: rule.name || rule.id };
    }
  }
  return { allowed: false, matched_rule: 'default_deny' };
}
