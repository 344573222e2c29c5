/**
 * Realtime fan-out: events are published after their transaction commits and delivered
 * only to subscribers of the same org (SPEC section 4). In-process here; with several
 * server processes on PostgreSQL, the store relays events between processes and each
 * process's hub delivers them to its own sockets.
 */
export interface RealtimeEvent {
  readonly table: 'machines' | 'posture_reports' | 'audit_log';
  readonly type: 'INSERT' | 'UPDATE' | 'DELETE';
  readonly data: Record<string, unknown>;
}

export type Subscriber = (event: RealtimeEvent) => void;

export class RealtimeHub {
  private readonly subscribers = new Map<string, Set<Subscriber>>();

  subscribe(orgId: string, subscriber: Subscriber): () => void {
    let set = this.subscribers.get(orgId);
    if (!set) {
      set = new Set();
      this.subscribers.set(orgId, set);
    }
    set.add(subscriber);
    return () => {
      set.delete(subscriber);
      if (set.size === 0) this.subscribers.delete(orgId);
    };
  }

  publish(orgId: string, event: RealtimeEvent): void {
    for (const subscriber of this.subscribers.get(orgId) ?? []) {
      try {
        subscriber(event);
      } catch {
        // One broken socket must not stop delivery to the others; the socket layer closes it.
      }
    }
  }

}
