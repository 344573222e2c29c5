/**
 * Impact preview (`POST /api/posture/impact`): which machines a mode or policy change
 * would quarantine (or release) right now, computed from the stored latest reports with
 * the same rules as the continuous re-evaluation (posture-service.ts) — and changing
 * nothing: no write, no audit event, no realtime event.
 *
 * Rules mirrored from applyEnforcement / reevaluateOrg:
 * - only enforce mode changes statuses; under monitor or disabled nothing would change;
 * - an `online` machine whose verdict fails (and is not exempt) would be quarantined;
 * - a machine quarantined for `posture` or `expired` whose verdict passes (or which is
 *   exempt) would be released; a manual quarantine never is;
 * - an `offline` machine that fails is listed apart: it is quarantined when it comes back;
 * - machines without a report are not re-evaluated (counted only).
 */
import { z } from 'zod';
import { ENFORCEMENT_MODES } from '../../shared/wire.ts';
import type { PostureVerdict } from '../../shared/posture.ts';
import type { ImpactPreview, ImpactedMachine } from '../../shared/wire.ts';
import type { EvaluablePolicy } from '../../shared/signals.ts';
import { requirementsOf } from '../../shared/signals.ts';
import { EVALUATION_COLUMNS } from './tables/posture-reports.ts';
import { posturePolicySchema } from '../../shared/posture-schemas.ts';
import { eq } from '../store/query.ts';
import type { MachineRow, ReportRow } from '../store/tables.ts';
import { isoOf } from '../store/tables.ts';
import type { DomainContext } from './context.ts';
import { currentVerdict, loadOrgPolicy } from './posture-service.ts';

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
  const policies: EvaluablePolicy[] = request.policies ? request.policies.map((policy) => ({ enabled: policy.enabled, ...requirementsOf(policy) })) : [...view.policies];
  const proposed = { settings: { ...view.settings, posture_enforcement: mode }, policies: policies.filter((policy) => policy.enabled) };
  const [machines, reports] = await Promise.all([
    context.store.select('machines', {
      columns: ['id', 'hostname', 'os', 'agent_version', 'status', 'quarantine_reason', 'posture_exempt'],
      filters: [eq('org_id', orgId)],
      order: [{ column: 'hostname', descending: false }],
    }),
    context.store.select('posture_reports', {
      columns: [...EVALUATION_COLUMNS],
      filters: [eq('org_id', orgId)],
    }),
  ]);
  const reportOf = new Map(reports.map((report) => [report.machine_id, report]));
  const preview: ImpactPreview = {
    mode,
    current_mode: view.settings.posture_enforcement,
    proposed_policies: request.policies !== undefined,
    evaluated: 0,
    without_report: 0,
    would_quarantine: [],
    would_release: [],
    offline_failing: [],
    exempt_failing: [],
    computed_at: now.toISOString(),
  };
  for (const machine of machines) {
    const report = reportOf.get(machine.id);
    if (!report) {
      preview.without_report += 1;
      continue;
    }
    preview.evaluated += 1;
    if (mode !== 'enforce') continue;
    const verdict = currentVerdict(report, proposed, now, machine);
    const entry = describe(machine, report, verdict, verdict.expired);
    const exempt = machine.posture_exempt;
    if (!verdict.compliant && exempt) preview.exempt_failing.push(entry);
    const passes = verdict.compliant || exempt;
    if (!passes && machine.status === 'online') preview.would_quarantine.push(entry);
    else if (!passes && machine.status === 'offline') preview.offline_failing.push(entry);
    else if (passes && machine.status === 'quarantined' && (machine.quarantine_reason === 'posture' || machine.quarantine_reason === 'expired')) preview.would_release.push(entry);
  }
  return preview;
}

function describe(
  machine: Pick<MachineRow, 'id' | 'hostname' | 'os' | 'status' | 'quarantine_reason'>,
  report: Pick<ReportRow, 'reported_at'>,
  { violations, findings }: PostureVerdict,
  expired: boolean,
): ImpactedMachine {
  return {
    machine_id: machine.id,
    hostname: machine.hostname,
    os: machine.os,
    status: machine.status,
    quarantine_reason: machine.quarantine_reason,
    violations,
    findings,
    reported_at: isoOf(report.reported_at),
    expired,
  };
}
