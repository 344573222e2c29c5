/**
 * What the domain services need, injected (STYLE principle 10): the store, a clock, the
 * realtime hub, the audit log stream and the metrics. Nothing here reads globals.
 */
import type { Logger } from 'pino';
import type { RealtimeEvent, RealtimeHub } from '../realtime/hub.ts';
import type { Store } from '../store/store.ts';
import type { ServerMetrics } from '../metrics.ts';
import type { LastSeenBuffer } from './last-seen.ts';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface DomainContext {
  readonly store: Store;
  readonly clock: Clock;
  readonly realtime: RealtimeHub;
  /** The audit stream: one JSON line per audit event (Loki/Promtail-ready). */
  readonly auditLog: Logger;
  readonly metrics: ServerMetrics;
  readonly lastSeen: LastSeenBuffer;
}

/**
 * Effects of a transaction that must happen only if it commits: realtime events and
 * audit log lines. Collected during the transaction, released after COMMIT.
 */
export class Effects {
  private readonly events: Array<{ orgId: string; event: RealtimeEvent }> = [];
  private readonly auditLines: Array<Record<string, unknown>> = [];
  private readonly counters: Array<() => void> = [];
  /** Orgs whose peer lists changed; their peers_version is bumped once, before COMMIT. */
  readonly peerListsChanged = new Set<string>();

  peersChanged(orgId: string): void {
    this.peerListsChanged.add(orgId);
  }

  emit(orgId: string, event: RealtimeEvent): void {
    this.events.push({ orgId, event });
  }

  auditLine(row: Record<string, unknown>): void {
    this.auditLines.push(row);
  }

  count(increment: () => void): void {
    this.counters.push(increment);
  }

  /** Events queued for other processes too (relay engines); they arrive through the listener. */
  async relay(tx: Store): Promise<void> {
    const relay = tx.relay;
    if (!relay) return;
    for (const { orgId, event } of this.events) await relay.notify(tx, encodeRelayed(orgId, event));
    this.relayed = true;
  }

  private relayed = false;

  release(context: DomainContext): void {
    for (const line of this.auditLines) context.auditLog.info({ audit: line }, `audit ${String(line.event)}`);
    for (const increment of this.counters) increment();
    // Relayed events reach this process's subscribers through the listener, like everyone's.
    if (!this.relayed) for (const { orgId, event } of this.events) context.realtime.publish(orgId, event);
  }
}

/** NOTIFY payloads are limited to 8000 bytes: large rows are cut down to their identity. */
const MAX_RELAY_BYTES = 7_900;

export function encodeRelayed(orgId: string, event: RealtimeEvent): string {
  const full = JSON.stringify({ org_id: orgId, event });
  if (Buffer.byteLength(full) <= MAX_RELAY_BYTES) return full;
  const data = event.data;
  const slim = { id: data.id, ...(data.status === undefined ? {} : { status: data.status }), ...(data.machine_id === undefined ? {} : { machine_id: data.machine_id }), ...(data.event === undefined ? {} : { event: data.event }), truncated: true };
  return JSON.stringify({ org_id: orgId, event: { ...event, data: slim } });
}

/** What one process tells the others: a committed event, or a signed-out dashboard session. */
export type Relayed = { readonly kind: 'event'; readonly orgId: string; readonly event: RealtimeEvent } | { readonly kind: 'session_ended'; readonly sessionId: string };

export function encodeSessionEnded(sessionId: string): string {
  return JSON.stringify({ session_ended: sessionId });
}

export function decodeRelayed(payload: string): Relayed | null {
  try {
    const parsed = JSON.parse(payload) as { org_id?: unknown; event?: RealtimeEvent; session_ended?: unknown };
    if (typeof parsed.session_ended === 'string') return { kind: 'session_ended', sessionId: parsed.session_ended };
    return typeof parsed.org_id === 'string' && parsed.event ? { kind: 'event', orgId: parsed.org_id, event: parsed.event } : null;
  } catch {
    return null;
  }
}

/** Runs `work` in one transaction and releases its effects only after it commits. */
export async function inTransaction<T>(context: DomainContext, work: (tx: Store, effects: Effects) => Promise<T>): Promise<T> {
  const effects = new Effects();
  const result = await context.store.transaction(async (tx) => {
    const value = await work(tx, effects);
    // One bump per org per transaction, however many machines changed (re-evaluation of
    // 100k machines bumps once).
    for (const orgId of effects.peerListsChanged) await tx.bumpPeersVersion(orgId);
    await effects.relay(tx);
    return value;
  });
  effects.release(context);
  return result;
}
