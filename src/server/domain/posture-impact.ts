/**
 * Impact preview (`POST /api/posture/impact`): what a mode or policy change would do, and
 * what is already so — computed from the stored latest reports with the same judgement as
 * the continuous re-evaluation (posture-service.ts, lifecycle.ts) — and changing nothing:
 * no write, no audit event, no realtime event.
 *
 * Rules mirrored from applyEnforcement / reevaluateOrg:
 * - only enforce mode changes statuses; under monitor or disabled nothing would change;
 * - an `online` machine with a blocking violation (not exempt, grace over) would be
 *   quarantined now; one whose violations are all inside their grace is listed with the
 *   time it blocks (a grace run starts with enforcement: previewing enforce from monitor
 *   counts grace from now);
 * - a machine quarantined for `posture` or `expired` that no longer blocks would be
 *   released; a manual quarantine never is; one that still fails stays, and is listed;
 * - an `offline` machine that blocks is listed apart: it is quarantined when it comes back;
 * - exempt failing machines are listed with when their exemption ends (null: no end);
 * - machines without a current verdict (no report, or an expired one) are listed: in
 *   enforce mode they have no access (SPEC 7.1).
 */
import { z } from 'zod';
import type { ScopedPolicy } from '../../shared/lifecycle.ts';
import { ENFORCEMENT_MODES } from '../../shared/wire.ts';
import type { ImpactPreview, ImpactedMachine } from '../../shared/wire.ts';
import { requirementsOf } from '../../shared/signals.ts';
import { EVALUATION_COLUMNS } from './tables/posture-reports.ts';
import { posturePolicySchema } from '../../shared/posture-schemas.ts';
import { eq } from '../store/query.ts';
import type { MachineRow, ReportRow } from '../store/tables.ts';
import { isoOf } from '../store/tables.ts';
import type { DomainContext } from './context.ts';
import type { MachineJudgement } from './lifecycle.ts';
import { NO_FACTS, loadOrgFacts } from './lifecycle.ts';
import { judgeStored, loadOrgPolicy } from './posture-service.ts';

export const impactRequestSchema = z.strictObject({
  /** The mode to evaluate under (default: the org's current mode). */
  mode: z.enum(ENFORCEMENT_MODES).optional(),
  /**
   * The complete set of policies to evaluate against, replacing the org's (default: the
   * org's). Policy rows as `/api/db/posture_policies` returns them are accepted as they are.
   */
  policies: z.array(posturePolicySchema).max(100).optional(),
});

export type ImpactRequest = z.infer<typeof impactRequestSchema>;

export type { ImpactPreview, ImpactedMachine } from '../../shared/wire.ts';

export async function previewImpact(context: DomainContext, orgId: string, request: ImpactRequest): Promise<ImpactPreview> {
  const now = context.clock.now();
  const view = await loadOrgPolicy(context.store, orgId);
  const mode = request.mode ?? view.settings.posture_enforcement;
  const policies: ScopedPolicy[] = request.policies
    ? request.policies.map((policy) => ({ enabled: policy.enabled, ...requirementsOf(policy), platforms: policy.platforms, tags: policy.tags, grace_period_s: policy.grace_period_s }))
    : [...view.policies];
  const proposed = { settings: { ...view.settings, posture_enforcement: mode }, policies: policies.filter((policy) => policy.enabled) };
  const [machines, reports, factsOf] = await Promise.all([
    context.store.select('machines', {
      columns: ['id', 'hostname', 'os', 'agent_version', 'tags', 'status', 'quarantine_reason', 'posture_exempt'],
      filters: [eq('org_id', orgId)],
      order: [{ column: 'hostname', descending: false }],
    }),
    context.store.select('posture_reports', { columns: [...EVALUATION_COLUMNS], filters: [eq('org_id', orgId)] }),
    loadOrgFacts(context.store, orgId),
  ]);
  const reportOf = new Map(reports.map((report) => [report.machine_id, report]));
  const preview: ImpactPreview = {
    mode,
    current_mode: view.settings.posture_enforcement,
    proposed_policies: request.policies !== undefined,
    evaluated: 0,
    without_report: 0,
    would_quarantine: [],
    would_block_after_grace: [],
    would_release: [],
    still_quarantined: [],
    offline_failing: [],
    exempt_failing: [],
    no_verdict: [],
    computed_at: now.toISOString(),
  };
  for (const machine of machines) {
    const report = reportOf.get(machine.id);
    if (!report) {
      preview.without_report += 1;
      // An exempt machine without a report keeps its access (SPEC 7.1): not "no verdict, no access".
      if (!machine.posture_exempt) preview.no_verdict.push({ machine_id: machine.id, hostname: machine.hostname, os: machine.os, status: machine.status, why: 'no_report' });
      continue;
    }
    preview.evaluated += 1;
    // Leaving enforce mode ends every grace run; entering it starts them now.
    const facts = factsOf.get(machine.id) ?? NO_FACTS;
    const judgement = judgeStored(report, proposed, now, machine, mode === view.settings.posture_enforcement ? facts : { ...facts, firstFailed: new Map() });
    if (judgement.expired && !machine.posture_exempt) preview.no_verdict.push({ machine_id: machine.id, hostname: machine.hostname, os: machine.os, status: machine.status, why: 'expired' });
    if (mode !== 'enforce') continue;
    const entry = describe(machine, report, judgement);
    const failing = !judgement.verdict.compliant;
    if (failing && judgement.state === 'exempt') preview.exempt_failing.push(entry);
    const released = machine.status === 'quarantined' && (machine.quarantine_reason === 'posture' || machine.quarantine_reason === 'expired');
    if (judgement.blocking) {
      if (machine.status === 'online') preview.would_quarantine.push(entry);
      else if (machine.status === 'offline') preview.offline_failing.push(entry);
      else preview.still_quarantined.push(entry);
    } else if (released) {
      preview.would_release.push(entry);
    } else if (machine.status === 'quarantined' && failing) {
      preview.still_quarantined.push(entry); // held by an admin, failing too
    }
    if (!judgement.blocking && judgement.state === 'grace' && machine.status !== 'quarantined') preview.would_block_after_grace.push(entry);
  }
  return preview;
}

function describe(machine: Pick<MachineRow, 'id' | 'hostname' | 'os' | 'status' | 'quarantine_reason'>, report: Pick<ReportRow, 'reported_at'>, judgement: MachineJudgement): ImpactedMachine {
  const { violations, findings } = judgement.verdict;
  const exemptUntil = findings.map((finding) => finding.exempt_until).filter((until): until is string => until !== undefined);
  return {
    machine_id: machine.id,
    hostname: machine.hostname,
    os: machine.os,
    status: machine.status,
    quarantine_reason: machine.quarantine_reason,
    violations,
    findings,
    reported_at: isoOf(report.reported_at),
    expired: judgement.expired,
    blocks_at: judgement.state === 'grace' && judgement.graceUntil !== null ? new Date(judgement.graceUntil).toISOString() : null,
    // Exempt without an end (the legacy flag, or an exemption of every code with none): null.
    exempt_until: judgement.state === 'exempt' && exemptUntil.length > 0 && exemptUntil.length === findings.length ? exemptUntil.sort()[0] ?? null : null,
  };
}
