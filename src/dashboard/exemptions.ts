/**
 * A machine's exemptions as the device page lists them (SPEC 7.3): the rows of
 * `/api/db/posture_exemptions` — active, or expired (the sweeper sets `ended_at`) — and
 * those an admin ended early, which the server deletes: their story is told by the audit
 * log (`machine.exemption_granted` / `machine.exemption_expired` with `ended_early`).
 * Pure (no DOM), unit-tested in test/dashboard.
 */
import type { AuditRow, ExemptionRow } from './types.ts';

export type ExemptionState = 'active' | 'expired' | 'ended_early';

export interface ExemptionView {
  id: string;
  codes: string[] | null;
  reason: string;
  expires_at: string;
  created_by: string | null;
  created_at: string | null;
  state: ExemptionState;
  /** When it stopped covering anything (null while active). */
  ended_at: string | null;
  /** Who ended it early (an admin), or null. */
  ended_by: string | null;
}

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const codesOf = (value: unknown): string[] | null => (Array.isArray(value) ? value.map(String) : null);

/** Active first (the soonest end first), then the ended ones, the latest end first. */
export function exemptionHistory(rows: readonly ExemptionRow[], events: readonly AuditRow[], now: number): ExemptionView[] {
  const views: ExemptionView[] = rows.map((row) => {
    const over = row.ended_at !== null || Date.parse(row.expires_at) <= now;
    return {
      id: row.id,
      codes: row.codes,
      reason: row.reason,
      expires_at: row.expires_at,
      created_by: row.created_by,
      created_at: row.created_at,
      state: over ? 'expired' : 'active',
      ended_at: over ? (row.ended_at ?? row.expires_at) : null,
      ended_by: null,
    };
  });
  const known = new Set(rows.map((row) => row.id));
  const granted = new Map<string, AuditRow>();
  for (const event of events) {
    const id = text(event.details.exemption_id);
    if (event.event === 'machine.exemption_granted' && id !== null) granted.set(id, event);
  }
  for (const event of events) {
    const id = text(event.details.exemption_id);
    if (event.event !== 'machine.exemption_expired' || event.details.ended_early !== true || id === null || known.has(id)) continue;
    known.add(id);
    const grant = granted.get(id);
    views.push({
      id,
      codes: codesOf(event.details.codes),
      reason: text(event.details.reason) ?? '',
      expires_at: text(event.details.expires_at) ?? event.created_at,
      created_by: grant?.actor ?? null,
      created_at: grant?.created_at ?? null,
      state: 'ended_early',
      ended_at: event.created_at,
      ended_by: event.actor,
    });
  }
  const time = (iso: string | null) => (iso === null ? 0 : Date.parse(iso));
  return views.sort((a, b) => {
    if ((a.state === 'active') !== (b.state === 'active')) return a.state === 'active' ? -1 : 1;
    return a.state === 'active' ? time(a.expires_at) - time(b.expires_at) : time(b.ended_at) - time(a.ended_at);
  });
}
