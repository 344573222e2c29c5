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
  /** Sockets opened with a dashboard session, by session id: closed when it is signed out. */
  private readonly sessionSockets = new Map<string, Set<() => void>>();

  /** Registers `close` to run when dashboard session `sessionId` ends; returns the unregister function. */
  onSessionEnd(sessionId: string, close: () => void): () => void {
    let set = this.sessionSockets.get(sessionId);
    if (!set) {
      set = new Set();
      this.sessionSockets.set(sessionId, set);
    }
    set.add(close);
    return () => {
      set.delete(close);
      if (set.size === 0) this.sessionSockets.delete(sessionId);
    };
  }

  /** A dashboard session ended (sign-out, on this process or — relayed — another): close its sockets. */
  endSession(sessionId: string): void {
    const closers = this.sessionSockets.get(sessionId);
    this.sessionSockets.delete(sessionId);
    for (const close of closers ?? []) close();
  }

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
