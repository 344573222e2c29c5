/**
 * Audit events (SPEC section 4). Each is written in the transaction of the change it
 * records — so it exists exactly when the change does — and, after commit, also as one
 * JSON log line and a realtime `audit_log` INSERT.
 */
import { randomUUID } from 'node:crypto';
import type { Store } from '../store/store.ts';
import type { RowOf } from '../store/tables.ts';
import type { Effects } from './context.ts';

export type AuditEvent =
  | 'machine.auto_quarantine'
  | 'machine.auto_unquarantine'
  | 'machine.manual_quarantine'
  | 'machine.manual_unquarantine'
  | 'machine.registered'
  | 'machine.deleted'
  | 'machine.deregistered'
  | 'machine.reenrolled_after_manual_quarantine'
  | 'org.settings_updated'
  | 'posture.policy_changed'
  | 'ai.auto_remediation_prepared'
  | 'agent_command.result'
  | 'machine.exemption_changed'
  | 'machine.exemption_granted'
  | 'machine.exemption_expired'
  | 'machine.grace_started';

export interface AuditEntry {
  readonly orgId: string;
  readonly event: AuditEvent;
  readonly machineId?: string | null;
  /** `system`, `machine:<id>` or `admin:<subject>`. */
  readonly actor: string;
  readonly details?: Record<string, unknown>;
  readonly at: Date;
}

export async function writeAudit(tx: Store, effects: Effects, entry: AuditEntry): Promise<RowOf<'audit_log'>> {
  const row = await tx.insertKnown('audit_log', {
    id: randomUUID(),
    org_id: entry.orgId,
    event: entry.event,
    machine_id: entry.machineId ?? null,
    actor: entry.actor,
    details: entry.details ?? {},
    created_at: entry.at.toISOString(),
  });
  effects.auditLine(row);
  effects.emit(entry.orgId, { table: 'audit_log', type: 'INSERT', data: row });
  return row;
}
