/**
 * How a machine's status changes — decided in ONE pure function, applied in ONE place.
 *
 * `nextStatus(machine, fact)` is an ordered switch over what just happened (a verdict, a
 * heartbeat, silence, an admin's hold or release) with the reason for each case, in the
 * manner of tailscale's ipnlocal nextState: facts in, the next state out, no I/O.
 * `applyTransition` then does everything a change entails, always in the same order and
 * inside the caller's transaction: the conditional update (the change happens only if the
 * row still has the status it was decided from), the audit event, remediation for an
 * automatic quarantine, the realtime event and peer-list bump, and the metric.
 *
 * Rules (SPEC 3 and 7.1):
 * - only enforce mode changes a status on a verdict; only `online` machines are
 *   quarantined at verdict time (an offline one is judged when its heartbeat brings it back);
 * - a failing verdict quarantines for `posture`, an expired report for `expired`;
 * - a passing verdict (or an exemption) lifts only a `posture` or `expired` quarantine; a
 *   `manual` one waits for an admin;
 * - a quarantined machine stays quarantined whatever its liveness: silence never turns it
 *   `offline`, a heartbeat never turns it `online`;
 * - an admin hold makes any quarantine `manual` (it then outlasts compliant reports); an
 *   admin release lifts any quarantine.
 */
import { randomUUID } from 'node:crypto';
import type { PostureFinding } from '../../shared/signals.ts';
import type { AgentCommandName, MachineStatusName as MachineStatus, QuarantineReason } from '../../shared/wire.ts';
import { ApiError } from '../errors.ts';
import { eq } from '../store/query.ts';
import type { Filter } from '../store/query.ts';
import type { Store } from '../store/store.ts';
import type { MachineRow, Patch } from '../store/tables.ts';
import { publicRow } from '../store/tables.ts';
import type { AuditEvent } from './audit.ts';
import { writeAudit } from './audit.ts';
import type { DomainContext, Effects } from './context.ts';
import { riskScore } from './risk.ts';
import type { EnforcementMode, OrgSettings } from './settings.ts';
import { loadSettings } from './settings.ts';

export type { MachineStatusName as MachineStatus, QuarantineReason } from '../../shared/wire.ts';

/** What the decision reads of a machine. */
export interface StatusView {
  readonly status: MachineStatus;
  readonly quarantine_reason: QuarantineReason | null;
  readonly posture_exempt: boolean;
}

/** What just happened to a machine. */
export type Fact =
  /** A verdict of its latest report: on arrival, on re-evaluation, on coming back, on expiry. */
  | {
      readonly kind: 'verdict';
      readonly mode: EnforcementMode;
      readonly compliant: boolean;
      /** A violation neither exempt nor inside its grace period (SPEC 7.3): what quarantines. */
      readonly blocking: boolean;
      readonly expired: boolean;
    }
  /** It was heard from (a heartbeat). */
  | { readonly kind: 'heartbeat' }
  /** It was not heard from for offline_after_s. */
  | { readonly kind: 'silence' }
  | { readonly kind: 'admin_hold' }
  | { readonly kind: 'admin_release' };

export type TransitionKind = 'auto_quarantine' | 'auto_release' | 'manual_quarantine' | 'manual_hold' | 'manual_release' | 'went_offline' | 'came_back';

export interface Transition {
  readonly kind: TransitionKind;
  readonly to: { readonly status: MachineStatus; readonly quarantine_reason: QuarantineReason | null };
  /** The row must still be like this for the change to apply (the conditional update). */
  readonly requires: { readonly status: MachineStatus; readonly reasons?: readonly QuarantineReason[] };
  /** Why, in words (tests and debugging). */
  readonly why: string;
}

/** No change, and why not. */
export interface Stay {
  readonly kind: 'stay';
  readonly why: string;
}

const stay = (why: string): Stay => ({ kind: 'stay', why });

/** THE status decision. Pure: the same machine and fact always give the same answer. */
export function nextStatus(machine: StatusView, fact: Fact): Transition | Stay {
  switch (fact.kind) {
    case 'admin_hold':
      // An admin's quarantine is `manual` whatever was there before, so a compliant report
      // cannot lift it (a stolen laptop stays blocked).
      if (machine.status === 'quarantined' && machine.quarantine_reason === 'manual') return stay('already held by an admin');
      if (machine.status === 'quarantined') {
        return { kind: 'manual_hold', to: { status: 'quarantined', quarantine_reason: 'manual' }, requires: { status: 'quarantined' }, why: `the admin's hold replaces the ${String(machine.quarantine_reason)} quarantine` };
      }
      return { kind: 'manual_quarantine', to: { status: 'quarantined', quarantine_reason: 'manual' }, requires: { status: machine.status }, why: 'an admin quarantined it' };
    case 'admin_release':
      // An admin lifts any quarantine; liveness is not the admin's to set.
      if (machine.status !== 'quarantined') return stay('not quarantined');
      return { kind: 'manual_release', to: { status: 'online', quarantine_reason: null }, requires: { status: 'quarantined' }, why: 'an admin released it' };
    case 'silence':
      // Quarantine outlives silence: going offline must not be a way out of it.
      if (machine.status !== 'online') return stay(machine.status === 'quarantined' ? 'a quarantined machine never goes offline' : 'already offline');
      return { kind: 'went_offline', to: { status: 'offline', quarantine_reason: null }, requires: { status: 'online' }, why: 'not heard from for offline_after_s' };
    case 'heartbeat':
      // Only an offline machine comes back; a quarantined one's heartbeat changes nothing.
      if (machine.status !== 'offline') return stay(machine.status === 'quarantined' ? 'heartbeats do not lift a quarantine' : 'already online');
      return { kind: 'came_back', to: { status: 'online', quarantine_reason: null }, requires: { status: 'offline' }, why: 'heard from again' };
    case 'verdict': {
      // Monitor and disabled modes record verdicts but never change a status.
      if (fact.mode !== 'enforce') return stay(`${fact.mode} mode does not change statuses`);
      // An exempt machine is evaluated and recorded, never held back for posture; a violation
      // inside its grace period or covered by an exemption does not block (SPEC 7.3).
      const passes = !fact.blocking || machine.posture_exempt;
      if (!passes && machine.status === 'online') {
        const reason = fact.expired ? 'expired' : 'posture';
        return { kind: 'auto_quarantine', to: { status: 'quarantined', quarantine_reason: reason }, requires: { status: 'online' }, why: fact.expired ? 'its latest report expired' : 'its latest report fails the policy' };
      }
      // Offline machines are judged when they come back; quarantined ones stay until passing.
      if (!passes) return stay(machine.status === 'offline' ? 'offline: judged when it comes back' : 'already quarantined');
      if (machine.status === 'quarantined' && (machine.quarantine_reason === 'posture' || machine.quarantine_reason === 'expired')) {
        return { kind: 'auto_release', to: { status: 'online', quarantine_reason: null }, requires: { status: 'quarantined', reasons: ['posture', 'expired'] }, why: fact.compliant ? 'a compliant report' : machine.posture_exempt ? 'exempt from posture' : 'its violations are in grace or exempt' };
      }
      return stay(machine.status === 'quarantined' ? 'a manual quarantine waits for an admin' : 'passing, nothing to lift');
    }
  }
}

/**
 * The columns of a machine that deciding and applying a transition read (callers that
 * select only some columns select at least these); the realtime event of a change carries
 * the row as updated, in full.
 */
export const DECISION_COLUMNS = ['id', 'org_id', 'hostname', 'status', 'quarantine_reason', 'posture_exempt', 'posture_state', 'risk_score', 'grace_until'] as const;
export type DecidedMachine = Pick<MachineRow, (typeof DECISION_COLUMNS)[number]>;

/** A machine row as the decision reads it. */
export function statusView(machine: DecidedMachine): StatusView {
  return { status: machine.status, quarantine_reason: machine.quarantine_reason, posture_exempt: machine.posture_exempt };
}

const AUDIT_EVENTS: Partial<Record<TransitionKind, AuditEvent>> = {
  auto_quarantine: 'machine.auto_quarantine',
  auto_release: 'machine.auto_unquarantine',
  manual_quarantine: 'machine.manual_quarantine',
  manual_hold: 'machine.manual_quarantine',
  manual_release: 'machine.manual_unquarantine',
};

export interface ApplyOptions {
  readonly now: Date;
  /** `system` for automatic transitions, the admin otherwise. */
  readonly actor: string;
  /** The findings of the machine's current verdict (risk, audit, remediation); none for no report. */
  readonly findings: readonly PostureFinding[];
  readonly violations?: readonly string[];
  /** Whether the verdict itself passed (an exempt machine's release keeps its findings in the audit). */
  readonly compliant?: boolean;
  /** The org's settings when the caller has them (remediation reads them). */
  readonly settings?: OrgSettings;
  /** An admin's request fails with 409 when the row changed meanwhile; an automatic one re-reads. */
  readonly onConflict?: 'reread' | 'throw';
}

/** A transition applied (the row as updated, in full) or not (the row as it is now). */
export type Applied<M> = { readonly machine: MachineRow; readonly changed: true } | { readonly machine: M | MachineRow; readonly changed: false };

/**
 * The one place a status change is written. Returns the machine as it is afterwards, and
 * whether the change was made (false: nothing to do, or the row changed meanwhile).
 */
export async function applyTransition<M extends DecidedMachine>(
  context: DomainContext,
  tx: Store,
  effects: Effects,
  machine: M,
  transition: Transition | Stay,
  options: ApplyOptions,
): Promise<Applied<M>> {
  if (transition.kind === 'stay') return { machine, changed: false };
  const { id, org_id: orgId } = machine;
  const where: Filter[] = [eq('id', id), eq('status', transition.requires.status)];
  if (transition.requires.reasons) where.push({ column: 'quarantine_reason', op: 'in', value: [...transition.requires.reasons] });
  const columns: Patch<'machines'> = { status: transition.to.status, quarantine_reason: transition.to.quarantine_reason };
  if (transition.kind !== 'went_offline' && transition.kind !== 'came_back' && transition.kind !== 'manual_hold') {
    columns.risk_score = riskScore(transition.kind === 'auto_release' && options.compliant !== false ? [] : options.findings, transition.to.status === 'quarantined');
  }
  if (transition.kind === 'manual_release' || transition.kind === 'came_back') columns.last_seen = options.now.toISOString();
  const [changed] = await tx.update('machines', where, columns);
  if (!changed) {
    if (options.onConflict === 'throw') throw new ApiError('conflict', 'the machine changed status meanwhile; retry');
    return { machine: (await tx.selectOne('machines', [eq('id', id)])) ?? machine, changed: false };
  }
  const event = AUDIT_EVENTS[transition.kind];
  if (event) await writeAudit(tx, effects, { orgId, event, machineId: id, actor: options.actor, details: auditDetails(transition, machine, options), at: options.now });
  if (transition.kind === 'auto_quarantine') await prepareRemediation(tx, effects, changed, options.findings, options.now, options.settings ?? (await loadSettings(tx, orgId)));
  // A hold only renames the reason: peers and realtime subscribers see no change of status.
  if (transition.kind !== 'manual_hold') statusChanged(effects, changed);
  if (transition.kind === 'auto_quarantine' || transition.kind === 'manual_quarantine') {
    const reason = transition.to.quarantine_reason ?? 'posture';
    effects.count(() => context.metrics.quarantines.inc({ reason }));
  }
  if (transition.kind === 'auto_release' || transition.kind === 'manual_release') {
    const kind = transition.kind === 'auto_release' ? 'auto' : 'manual';
    effects.count(() => context.metrics.releases.inc({ kind }));
  }
  return { machine: changed, changed: true };
}

function auditDetails(transition: Transition, machine: DecidedMachine, options: ApplyOptions): Record<string, unknown> {
  switch (transition.kind) {
    case 'auto_quarantine':
      return { violations: [...(options.violations ?? [])], findings: [...options.findings], reason: transition.to.quarantine_reason, hostname: machine.hostname };
    case 'auto_release':
      return options.compliant === false ? { exempt: true, violations: [...(options.violations ?? [])] } : { hostname: machine.hostname };
    case 'manual_quarantine':
      return { previous_status: machine.status, hostname: machine.hostname };
    case 'manual_hold':
    case 'manual_release':
      return { previous_reason: machine.quarantine_reason, ...(transition.kind === 'manual_release' ? { hostname: machine.hostname } : {}) };
    default:
      return {};
  }
}

/** A machine's status changed: its peers' lists change, and realtime subscribers hear of it. */
export function statusChanged(effects: Effects, machine: DecidedMachine): void {
  effects.peersChanged(machine.org_id);
  effects.emit(machine.org_id, { table: 'machines', type: 'UPDATE', data: publicRow('machines', machine) });
}

const REMEDIATION: Record<string, { command: AgentCommandName; setting: 'auto_remediate_firewall' | 'auto_remediate_encryption' }> = {
  firewall_required: { command: 'enable_firewall', setting: 'auto_remediate_firewall' },
  disk_encryption_required: { command: 'enable_disk_encryption', setting: 'auto_remediate_encryption' },
};

export const REMEDIATION_TTL_MS = 3_600_000;

/**
 * SPEC section 4 "AI operator": prepared, never run silently. One pending command per
 * kind per machine at a time; the person on the device applies it (`ztna remediate`).
 */
async function prepareRemediation(tx: Store, effects: Effects, machine: DecidedMachine, findings: readonly PostureFinding[], now: Date, settings: OrgSettings) {
  if (!settings.ai_operator_enabled) return;
  for (const { code: violation } of findings) {
    const remedy = REMEDIATION[violation];
    if (!remedy || !settings[remedy.setting]) continue;
    const existing = await tx.selectOne('agent_commands', [
      eq('machine_id', machine.id),
      eq('command', remedy.command),
      eq('status', 'pending'),
      { column: 'expires_at', op: 'gt', value: now.toISOString() },
    ]);
    if (existing) continue;
    const command = await tx.insert('agent_commands', {
      id: randomUUID(),
      org_id: machine.org_id,
      machine_id: machine.id,
      command: remedy.command,
      status: 'pending',
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + REMEDIATION_TTL_MS).toISOString(),
      result: null,
    });
    await writeAudit(tx, effects, {
      orgId: machine.org_id,
      event: 'ai.auto_remediation_prepared',
      machineId: machine.id,
      actor: 'system',
      details: { command: remedy.command, command_id: command.id, violation, expires_at: command.expires_at },
      at: now,
    });
  }
}
