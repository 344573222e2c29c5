/**
 * Background jobs, run every half second so that "a machine not heard from for
 * offline_after_s is offline within a second of that" (SPEC section 4):
 *   - flush buffered last_seen values;
 *   - online machines silent for offline_after_s → offline (never quarantined ones: a
 *     device must not leave quarantine by going offline and coming back);
 *   - with report_max_age_s, machines whose latest report is too old lose their verdict
 *     (posture_state → `pending`: in enforce mode they leave every peer list), and in
 *     enforce mode online ones are quarantined (reason `expired`, violation
 *     posture_report_expired). A report's age counts from when it was collected;
 *   - pending agent commands past expires_at → expired.
 * Each job's writes are conditional updates, so a run racing a heartbeat or a report
 * never applies a stale decision.
 */
import { eq } from '../store/query.ts';
import { isoOf, publicRow } from '../store/tables.ts';
import type { DomainContext } from './context.ts';
import { inTransaction } from './context.ts';
import { applyEnforcement, isExpired, judgeStored, loadOrgPolicy, reevaluateMachine, settleMachine, statusChanged } from './posture-service.ts';
import { loadFacts } from './lifecycle.ts';
import { writeAudit } from './audit.ts';
import type { OrgSettings } from './settings.ts';

export const SWEEP_INTERVAL_MS = 500;

export interface SweepResult {
  wentOffline: number;
  expiredVerdicts: number;
  expiredQuarantines: number;
  expiredCommands: number;
  /** Machines quarantined because their grace period ran out (SPEC 7.3). */
  graceEnded: number;
  /** Exemptions whose end was acted on. */
  exemptionsEnded: number;
}

export async function sweepOnce(context: DomainContext): Promise<SweepResult> {
  const result: SweepResult = { wentOffline: 0, expiredVerdicts: 0, expiredQuarantines: 0, expiredCommands: 0, graceEnded: 0, exemptionsEnded: 0 };
  // Each process writes its own buffered heartbeats; the sweep itself runs in one process
  // at a time (an advisory lock on PostgreSQL), the others skip this round.
  await context.lastSeen.flush(context.store);
  await context.store.exclusive('ztna-sweeper', () => sweepInto(context, result));
  return result;
}

async function sweepInto(context: DomainContext, result: SweepResult): Promise<void> {
  const now = context.clock.now();
  const orgs = await context.store.select('org_settings');
  for (const settings of orgs) {
    result.wentOffline += await markOffline(context, settings, now);
    const maxAge = settings.report_max_age_s;
    if (maxAge !== null) result.expiredVerdicts += await expireVerdicts(context, settings, reportCutoff(now, maxAge));
    if (settings.posture_enforcement === 'enforce' && maxAge !== null) {
      result.expiredQuarantines += await quarantineExpired(context, settings, now, reportCutoff(now, maxAge));
    }
  }
  const expired = await context.store.update(
    'agent_commands',
    [eq('status', 'pending'), { column: 'expires_at', op: 'lte', value: now.toISOString() }],
    { status: 'expired' },
  );
  result.expiredCommands = expired.length;
  await lifecycleDeadlines(context, now, result);
}

/**
 * `silence` for every machine of the org at once: one conditional UPDATE of exactly the rows
 * for which transitions.ts's nextStatus(machine, silence) is `went_offline` — online ones
 * (never quarantined ones) — which has no audit event; the UPDATE's filter is that case's
 * `requires`. A per-row apply would cost one statement per machine on a fleet that loses
 * its network; test/server/transitions.test.ts pins the equivalence.
 */
async function markOffline(context: DomainContext, settings: OrgSettings, now: Date): Promise<number> {
  const cutoff = new Date(now.getTime() - settings.offline_after_s * 1000).toISOString();
  return inTransaction(context, async (tx, effects) => {
    const silent = await tx.update(
      'machines',
      [eq('org_id', settings.org_id), eq('status', 'online'), { column: 'last_seen', op: 'lt', value: cutoff }],
      { status: 'offline' },
    );
    if (silent.length > 0) {
      effects.peersChanged(settings.org_id);
      for (const machine of silent) effects.emit(settings.org_id, { table: 'machines', type: 'UPDATE', data: publicRow('machines', machine) });
    }
    return silent.length;
  });
}

/** Reports collected before this (ISO) are older than report_max_age_s. */
function reportCutoff(now: Date, maxAgeS: number): string {
  return new Date(now.getTime() - maxAgeS * 1000).toISOString();
}

async function expireVerdicts(context: DomainContext, settings: OrgSettings, cutoff: string): Promise<number> {
  return inTransaction(context, async (tx, effects) => {
    const changed = await tx.expireVerdicts(settings.org_id, cutoff);
    for (const machine of changed) statusChanged(effects, machine);
    return changed.length;
  });
}

async function quarantineExpired(context: DomainContext, settings: OrgSettings, now: Date, cutoff: string): Promise<number> {
  const view = await loadOrgPolicy(context.store, settings.org_id);
  return inTransaction(context, async (tx, effects) => {
    const stale = await tx.select('posture_reports', {
      columns: ['machine_id'],
      filters: [eq('org_id', settings.org_id), { column: 'collected_at', op: 'lt', value: cutoff }],
    });
    let count = 0;
    for (const candidate of stale) {
      // Lock the machine, then look at its report again: a fresh report may have landed.
      const [machine] = await tx.select('machines', { filters: [eq('id', candidate.machine_id), eq('status', 'online'), eq('posture_exempt', false)], forUpdate: true });
      if (!machine) continue;
      const report = await tx.selectOne('posture_reports', [eq('machine_id', candidate.machine_id)]);
      if (!report || !isExpired(report, settings, now)) continue;
      // An exemption of posture_report_expired (or of every code) still holds.
      const judgement = judgeStored(report, view, now, machine, await loadFacts(tx, machine.id));
      const after = await settleMachine(tx, effects, await applyEnforcement(context, tx, effects, machine, judgement, now, settings), judgement, now);
      if (after.status === 'quarantined') count += 1;
    }
    return count;
  });
}

/**
 * SPEC 7.3 deadlines: machines whose grace ran out are judged again (and so quarantined);
 * exemptions that ended are judged without (the machine at once), then audited once.
 */
async function lifecycleDeadlines(context: DomainContext, now: Date, result: SweepResult): Promise<void> {
  const at = now.toISOString();
  const graceOver = await context.store.select('machines', {
    columns: ['id', 'org_id'],
    filters: [eq('posture_state', 'grace'), { column: 'grace_until', op: 'lte', value: at }],
  });
  for (const machine of graceOver) {
    const after = await reevaluateMachine(context, machine.org_id, machine.id);
    if (after?.status === 'quarantined') result.graceEnded += 1;
  }
  const ended = await context.store.select('posture_exemptions', {
    filters: [{ column: 'ended_at', op: 'is', value: null }, { column: 'expires_at', op: 'lte', value: at }],
  });
  for (const exemption of ended) {
    // Judged first (an expired exemption already covers nothing), then marked: a crash
    // between the two leaves it unmarked, and the next sweep does both again.
    await reevaluateMachine(context, exemption.org_id, exemption.machine_id);
    await inTransaction(context, async (tx, effects) => {
      const [marked] = await tx.update('posture_exemptions', [eq('id', exemption.id), { column: 'ended_at', op: 'is', value: null }], { ended_at: at });
      if (!marked) return;
      result.exemptionsEnded += 1;
      await writeAudit(tx, effects, {
        orgId: exemption.org_id,
        event: 'machine.exemption_expired',
        machineId: exemption.machine_id,
        actor: 'system',
        details: { exemption_id: exemption.id, codes: exemption.codes, reason: exemption.reason, expires_at: isoOf(exemption.expires_at) },
        at: now,
      });
    });
  }
}


/** Starts the periodic sweep; returns a stop function that waits for a running sweep. */
export function startSweeper(context: DomainContext, onError: (error: unknown) => void, intervalMs = SWEEP_INTERVAL_MS): () => Promise<void> {
  let running: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    if (running) return; // a slow sweep is never overlapped by the next
    running = sweepOnce(context)
      .catch(onError)
      .finally(() => {
        running = null;
      });
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
