/**
 * Posture evaluation and enforcement (SPEC sections 2 and 3). The server renders the
 * verdict with the same `evaluatePosture` the agent uses.
 *
 * Every status transition is a conditional update — "set quarantined WHERE status is
 * still online" — inside the transaction that also writes the report and the audit
 * event. A transition therefore happens once, its audit event exists exactly when it
 * does, and concurrent reports for one machine cannot both quarantine it.
 *
 * Rules implemented here:
 * - disabled: stored as compliant with no violations; monitor: evaluated, never changes
 *   status; enforce: non-compliant + online → quarantined, compliant + quarantined for
 *   posture/expiry → online.
 * - Only `online` machines are quarantined; an offline machine's failing verdict is
 *   applied when its heartbeat brings it back (machines.ts).
 * - A manual quarantine is never lifted by a report; exempt machines are never
 *   quarantined for posture (and an exempt machine's posture quarantine is lifted).
 * - An expired report (collected longer than report_max_age_s ago, measured from the
 *   agent's `collected_at` when it sent one) fails with posture_report_expired — also on
 *   arrival. A `collected_at` more than 300 s in the server's future is refused
 *   (clock_skew): it would otherwise postpone the report's expiry.
 * - machines.posture_state (SPEC 7.1) is maintained with every verdict: `pending` while a
 *   machine has no current verdict (no report yet, or it expired) — in enforce mode such a
 *   machine has no access at all, whatever its status ("no verdict, no access").
 */
import { randomUUID } from 'node:crypto';
import type { PostureFinding, PostureReport, PostureVerdict } from '../../shared/posture.ts';
import { expiredVerdict, verdictOf } from '../../shared/posture.ts';
import type { ScopedPolicy } from '../../shared/lifecycle.ts';
import { SIGNAL_KEYS } from '../../shared/signals.ts';
import { eq } from '../store/query.ts';
import type { Store } from '../store/store.ts';
import type { PostureState } from '../../shared/wire.ts';
import type { MachineRow, Patch, ReportRow, Row } from '../store/tables.ts';
import { isoOf } from '../store/tables.ts';
import { timeOf } from '../store/tables.ts';
import type { DomainContext, Effects } from './context.ts';
import { inTransaction } from './context.ts';
import { writeAudit } from './audit.ts';
import { ApiError, unauthorized } from '../errors.ts';
import { riskScore } from './risk.ts';
import type { DecidedMachine } from './transitions.ts';
import { DECISION_COLUMNS, applyTransition, nextStatus, statusChanged, statusView } from './transitions.ts';
import { policyOf } from './tables/posture-policies.ts';
import type { EvaluatedReport } from './tables/posture-reports.ts';
import { EVALUATION_COLUMNS, evaluationInput, reportApiRow, signalColumns, verdictColumns } from './tables/posture-reports.ts';
import type { EnforcementMode, OrgSettings } from './settings.ts';
import { loadSettings } from './settings.ts';
import type { JudgedMachine, LifecycleFacts, MachineJudgement } from './lifecycle.ts';
import { NO_FACTS, clearOrgRuns, judgeMachine, loadFacts, loadOrgFacts, saveRuns } from './lifecycle.ts';
import { peersFollowPolicies, postureWatch } from './src-posture.ts';

export interface OrgPolicyView {
  readonly settings: OrgSettings;
  /** The enabled policies, with their targeting and grace (each machine gets those that apply). */
  readonly policies: readonly ScopedPolicy[];
}

/** Settings and enabled policies, read fresh (no cache: SPEC section 3, "no stale settings"). */
export async function loadOrgPolicy(store: Store, orgId: string): Promise<OrgPolicyView> {
  const [settings, policies] = await Promise.all([
    loadSettings(store, orgId),
    store.select('posture_policies', { filters: [eq('org_id', orgId), eq('enabled', true)] }),
  ]);
  return { settings, policies: policies.map(policyOf) };
}

/** How far ahead of the server's clock an agent's `collected_at` may be (SPEC 7.1). */
export const MAX_CLOCK_SKEW_S = 300;

/** When a stored report's signals were collected (reports of schema 4 have only reported_at). */
export function collectedAt(report: Pick<ReportRow, 'collected_at' | 'reported_at'>): number {
  return timeOf(report.collected_at ?? report.reported_at);
}

export function isExpired(report: Pick<ReportRow, 'collected_at' | 'reported_at'>, settings: OrgSettings, now: Date): boolean {
  const maxAge = settings.report_max_age_s;
  if (maxAge === null) return false;
  return now.getTime() - collectedAt(report) > maxAge * 1000;
}


/**
 * A machine's posture_state (SPEC 7.1, 7.3) from the legacy exemption flag and its current
 * judgement (null: no report): `pending` without a current verdict, else the judgement's
 * compliant / failing / grace / exempt.
 */
export function postureStateOf(exempt: boolean, judgement: Pick<MachineJudgement, 'state' | 'expired'> | null): PostureState {
  if (exempt) return 'exempt';
  if (judgement === null || judgement.expired) return 'pending';
  return judgement.state;
}

/**
 * SPEC 7.1 "no verdict, no access": in enforce mode a machine without a current verdict
 * (and not exempt) gets no peers, is in no peer list and is denied by every access check.
 */
export function deniedForNoVerdict(mode: EnforcementMode, postureState: unknown): boolean {
  return mode === 'enforce' && postureState === 'pending';
}

/** The expiry verdict of a report collected at `collected` (ms), under `report_max_age_s`. */
export function expiryVerdict(collected: number, settings: OrgSettings, now: Date): PostureVerdict {
  return expiredVerdict((now.getTime() - collected) / 1000, settings.report_max_age_s ?? 0);
}

/**
 * What a stored report means now, under the current policies and settings, for this
 * machine: the evaluation by the policies that apply to it (or the expiry violation when
 * the report is too old), with its grace and exemptions. `machine` supplies the platform
 * and agent version of reports stored before they were kept with the report, and its tags.
 */
export function judgeStored(report: EvaluatedReport, view: OrgPolicyView, now: Date, machine: JudgedMachine | undefined, facts: LifecycleFacts): MachineJudgement {
  const expired = isExpired(report, view.settings, now) ? expiryVerdict(collectedAt(report), view.settings, now) : null;
  return judgeMachine(evaluationInput(report, machine), expired, view, now, machine, facts);
}

export type { QuarantineReason } from './transitions.ts';

/**
 * Applies an enforce-mode judgement to a machine's status (transitions.ts decides and
 * applies): a blocking violation quarantines, none releases. Returns the machine as it is after.
 */
export async function applyEnforcement<M extends DecidedMachine>(
  context: DomainContext,
  tx: Store,
  effects: Effects,
  machine: M,
  judgement: MachineJudgement,
  now: Date,
  /** The org's settings when the caller has them (re-evaluation); read on demand otherwise. */
  settings?: OrgSettings,
): Promise<M | MachineRow> {
  const { verdict } = judgement;
  const transition = nextStatus(statusView(machine), { kind: 'verdict', mode: 'enforce', compliant: verdict.compliant, blocking: judgement.blocking, expired: judgement.expired });
  const applied = await applyTransition(context, tx, effects, machine, transition, {
    now,
    actor: 'system',
    findings: verdict.findings,
    violations: verdict.violations,
    compliant: verdict.compliant,
    ...(settings ? { settings } : {}),
  });
  return applied.machine;
}

/**
 * After a judgement: the machine's risk, posture_state and grace_until follow it (written
 * only when they change); peers and realtime hear of a new posture_state. Returns the row after.
 */
export async function settleMachine<M extends DecidedMachine>(
  tx: Store,
  effects: Effects,
  machine: M,
  judgement: MachineJudgement | null,
  now: Date,
  extra: Patch<'machines'> = {},
): Promise<M | MachineRow> {
  const patch: Patch<'machines'> = { ...extra };
  if (judgement) {
    const risk = riskScore(judgement.verdict.findings, machine.status === 'quarantined');
    if (risk !== machine.risk_score) patch.risk_score = risk;
  }
  const state = postureStateOf(machine.posture_exempt, judgement);
  if (state !== machine.posture_state) patch.posture_state = state;
  const graceUntil = state === 'grace' && judgement?.graceUntil != null ? new Date(judgement.graceUntil).toISOString() : null;
  if ((machine.grace_until === null ? null : isoOf(machine.grace_until)) !== graceUntil) patch.grace_until = graceUntil;
  if (Object.keys(patch).length === 0) return machine;
  const [after = machine] = await tx.update('machines', [eq('id', machine.id)], patch);
  if (patch.posture_state !== undefined || patch.grace_until !== undefined) statusChanged(effects, after); // a pending machine joins the peer lists
  if (patch.posture_state === 'grace' && judgement) {
    const inGrace = judgement.verdict.findings.filter((finding) => finding.blocks_at !== undefined && finding.exempt_until === undefined);
    await writeAudit(tx, effects, {
      orgId: machine.org_id,
      event: 'machine.grace_started',
      machineId: machine.id,
      actor: 'system',
      details: { hostname: machine.hostname, blocks_at: graceUntil, findings: inGrace },
      at: now,
    });
  }
  return after;
}

export { REMEDIATION_TTL_MS, statusChanged } from './transitions.ts';

/** What a report needs of the machine that sent it (the authenticated machine is enough). */
export type ReportingMachine = DecidedMachine & Pick<MachineRow, 'os' | 'os_version' | 'agent_version'>;

export interface ReportOutcome {
  readonly compliant: boolean;
  readonly violations: string[];
  readonly findings: PostureFinding[];
  readonly quarantined: boolean;
  readonly mode: EnforcementMode;
  readonly status: string;
  /** SPEC 7.3: the machine's posture_state after this verdict (`grace`: not blocking yet). */
  readonly posture_state: PostureState;
  /** Fields of the request this server does not know (SPEC 7.2): a newer agent's signals, typos. */
  readonly ignored_fields: string[];
}

/** POST /api/posture-report for an authenticated machine. */
export async function handleReport(context: DomainContext, machine: ReportingMachine, report: PostureReport, ignoredFields: readonly string[] = []): Promise<ReportOutcome> {
  const orgId = machine.org_id;
  const received = context.clock.now();
  // Refused before anything is read or written: a report "from the future" would stay fresh
  // for as long as the device's clock is ahead.
  const claimedCollection = report.collected_at === undefined ? null : Date.parse(report.collected_at);
  if (claimedCollection !== null && claimedCollection > received.getTime() + MAX_CLOCK_SKEW_S * 1000) {
    throw new ApiError(
      'clock_skew',
      `collected_at: ${report.collected_at} is ${Math.round((claimedCollection - received.getTime()) / 1000)} s ahead of the server's clock (at most ${MAX_CLOCK_SKEW_S} s are tolerated): set this device's clock (NTP) and report again`,
    );
  }
  const view = await loadOrgPolicy(context.store, orgId);
  const mode = view.settings.posture_enforcement;
  // The report's own platform and agent version, else what the machine enrolled with.
  const platform = report.platform ?? machine.os;
  const agentVersion = report.agent_version ?? machine.agent_version;
  const input = { ...report, platform, agent_version: agentVersion };
  const extras: Row = {};
  for (const [key, value] of Object.entries(report)) if (!(SIGNAL_KEYS as readonly string[]).includes(key)) extras[key] = value;
  const { after, verdict } = await inTransaction(context, async (tx, effects) => {
    // Lock the machine first: concurrent reports for it (other processes) wait here and then
    // decide on the status this one leaves, so status and stored report always agree.
    let current = (await tx.select('machines', { filters: [eq('id', machine.id)], forUpdate: true }))[0];
    // Deleted since it authenticated (an admin, or its own `ztna down` racing): its key is gone.
    if (!current) throw unauthorized('unknown node key');
    // Time is taken once the lock is held, so reported_at and audit times follow the order in
    // which reports for this machine were actually applied.
    const now = context.clock.now();
    const collected = new Date(Math.min(claimedCollection ?? now.getTime(), now.getTime()));
    // A report collected longer than report_max_age_s ago is expired on arrival (SPEC 7.1).
    const expired = mode !== 'disabled' && isExpired({ collected_at: collected.toISOString(), reported_at: now.toISOString() }, view.settings, now);
    const facts = mode === 'disabled' ? NO_FACTS : await loadFacts(tx, machine.id);
    // ACL rules with src_posture (SPEC 7.3): peer lists follow what this report changes.
    const posture = await postureWatch(tx, orgId, current, view.settings, now);
    const judged =
      mode === 'disabled'
        ? judgeMachine(input, verdictOf([]), view, now, current, NO_FACTS)
        : judgeMachine(input, expired ? expiryVerdict(collected.getTime(), view.settings, now) : null, view, now, current, facts);
    const fields = {
      org_id: orgId,
      ...signalColumns(report),
      platform,
      agent_version: agentVersion,
      ...verdictColumns(judged.verdict),
      mode,
      reported_at: now.toISOString(),
      collected_at: collected.toISOString(),
      extras: Object.keys(extras).length > 0 ? extras : null,
    };
    // One report per machine: the newest replaces the older (SPEC section 3). An upsert, so
    // two first reports arriving at once (two server processes) cannot both insert.
    const stored = await tx.upsert('posture_reports', { id: randomUUID(), machine_id: machine.id, ...fields }, 'machine_id', ['id']);
    effects.emit(orgId, { table: 'posture_reports', type: 'INSERT', data: reportEventData(stored) });
    posture?.settle(effects, stored);
    if (mode === 'enforce') {
      await saveRuns(tx, orgId, machine.id, facts, judged);
      current = await applyEnforcement(context, tx, effects, current, judged, now, view.settings);
    }
    const osVersion = report.os_version != null && report.os_version !== current.os_version ? { os_version: report.os_version } : {};
    return { after: await settleMachine(tx, effects, current, judged, now, osVersion), verdict: judged.verdict };
  });
  context.metrics.reports.inc({ verdict: verdict.compliant ? 'compliant' : 'non_compliant', mode });
  return {
    compliant: verdict.compliant,
    violations: verdict.violations,
    findings: verdict.findings,
    quarantined: after.status === 'quarantined',
    mode,
    status: after.status,
    posture_state: after.posture_state,
    ignored_fields: [...ignoredFields],
  };
}

/** Realtime payloads leave the (possibly large) evidence out. */
function reportEventData(report: ReportRow): Row {
  const { extras: _extras, ...rest } = reportApiRow(report);
  return rest;
}

/**
 * Continuous re-evaluation (SPEC section 3): after a policy or mode change in enforce
 * mode, every machine's latest report is judged again at once, in one transaction,
 * quarantining and releasing accordingly and refreshing the stored verdicts, the grace
 * runs and each machine's posture_state.
 */
export async function reevaluateOrg(context: DomainContext, orgId: string): Promise<{ evaluated: number; quarantined: number; released: number }> {
  const now = context.clock.now();
  return inTransaction(context, async (tx, effects) => {
    const view = await loadOrgPolicy(tx, orgId);
    const counts = { evaluated: 0, quarantined: 0, released: 0 };
    // What ACL rules with src_posture match may have changed with the policy or setting.
    await peersFollowPolicies(tx, effects, orgId);
    if (view.settings.posture_enforcement !== 'enforce') {
      // Grace runs belong to enforcement: they end with it (a later enforce starts afresh).
      await clearOrgRuns(tx, orgId);
      const graceLeft = await tx.update('machines', [eq('org_id', orgId), eq('posture_state', 'grace')], { posture_state: 'failing', grace_until: null });
      for (const machine of graceLeft) statusChanged(effects, machine);
      return counts;
    }
    // Machines first, locked: a report racing the re-evaluation waits for it (and vice versa).
    const machines = await tx.select('machines', {
      columns: [...DECISION_COLUMNS, 'os', 'agent_version', 'tags', 'grace_until'],
      filters: [eq('org_id', orgId)],
      order: [{ column: 'id', descending: false }], // one lock order: concurrent re-evaluations cannot deadlock
      forUpdate: true,
    });
    const [reports, factsOf] = await Promise.all([tx.select('posture_reports', { columns: [...EVALUATION_COLUMNS], filters: [eq('org_id', orgId)] }), loadOrgFacts(tx, orgId)]);
    const byId = new Map(machines.map((m) => [m.id, m]));
    for (const report of reports) {
      const machine = byId.get(report.machine_id);
      if (!machine) continue;
      counts.evaluated += 1;
      const facts = factsOf.get(machine.id) ?? NO_FACTS;
      const judgement = judgeStored(report, view, now, machine, facts);
      const { verdict } = judgement;
      await refreshStoredVerdict(tx, effects, orgId, report, verdict, 'enforce');
      await saveRuns(tx, orgId, machine.id, facts, judgement);
      const before = machine.status;
      const after = await applyEnforcement(context, tx, effects, machine, judgement, now, view.settings);
      if (before !== 'quarantined' && after.status === 'quarantined') counts.quarantined += 1;
      if (before === 'quarantined' && after.status !== 'quarantined') counts.released += 1;
      await settleMachine(tx, effects, after, judgement, now);
    }
    return counts;
  });
}

/**
 * A stored report's verdict columns follow its current judgement (written only when they
 * change), and realtime subscribers hear of it (an UPDATE with the verdict, no evidence).
 */
async function refreshStoredVerdict(
  tx: Store,
  effects: Effects,
  orgId: string,
  report: Pick<ReportRow, 'id' | 'machine_id' | 'compliant' | 'findings' | 'mode' | 'reported_at'>,
  verdict: PostureVerdict,
  mode: EnforcementMode,
): Promise<void> {
  if (report.compliant === verdict.compliant && JSON.stringify(report.findings) === JSON.stringify(verdict.findings) && report.mode === mode) return;
  await tx.updateCount('posture_reports', [eq('id', report.id)], { ...verdictColumns(verdict), mode });
  effects.emit(orgId, { table: 'posture_reports', type: 'UPDATE', data: { id: report.id, machine_id: report.machine_id, ...verdictColumns(verdict), mode, reported_at: isoOf(report.reported_at) } });
}

/**
 * One machine judged again now — an exemption began or ended, a grace period ran out, the
 * legacy flag changed: its stored verdict, grace runs and posture_state follow, and in
 * enforce mode its status. Returns the machine after (null: it is gone).
 */
export async function reevaluateMachine(context: DomainContext, orgId: string, machineId: string): Promise<MachineRow | null> {
  const view = await loadOrgPolicy(context.store, orgId);
  const now = context.clock.now();
  const enforce = view.settings.posture_enforcement === 'enforce';
  return inTransaction(context, async (tx, effects) => {
    const [machine] = await tx.select('machines', { filters: [eq('id', machineId), eq('org_id', orgId)], forUpdate: true });
    if (!machine) return null;
    const report = await tx.selectOne('posture_reports', [eq('machine_id', machineId)]);
    if (!report) return settleMachine(tx, effects, machine, null, now);
    const facts = await loadFacts(tx, machineId);
    const judgement = judgeStored(report, view, now, machine, facts);
    if (view.settings.posture_enforcement !== 'disabled') await refreshStoredVerdict(tx, effects, orgId, report, judgement.verdict, report.mode);
    if (!enforce) return settleMachine(tx, effects, machine, judgement, now);
    await saveRuns(tx, orgId, machineId, facts, judgement);
    return settleMachine(tx, effects, await applyEnforcement(context, tx, effects, machine, judgement, now, view.settings), judgement, now);
  });
}
