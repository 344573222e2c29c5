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

  release(context: DomainContext): void {
    for (const line of this.auditLines) context.auditLog.info({ audit: line }, `audit ${String(line.event)}`);
    for (const increment of this.counters) increment();
    for (const { orgId, event } of this.events) context.realtime.publish(orgId, event);
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
    return value;
  });
  effects.release(context);
  return result;
}
