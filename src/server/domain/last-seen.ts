/**
 * Heartbeats must not cost a write transaction each (10,000/s goal): a heartbeat of a
 * machine that is already online only records `last_seen` here, and the buffer is
 * written in one transaction per flush (every second, before every sweep, before admin
 * reads of `machines`, and at shutdown). Status changes are never buffered.
 */
import type { Store } from '../store/store.ts';

export class LastSeenBuffer {
  private pending = new Map<string, string>();

  record(machineId: string, at: Date): void {
    this.pending.set(machineId, at.toISOString());
  }

  forget(machineId: string): void {
    this.pending.delete(machineId);
  }

  async flush(store: Store): Promise<number> {
    if (this.pending.size === 0) return 0;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await store.recordLastSeen([...batch]);
    } catch (error) {
      // Keep what could not be written; newer values recorded meanwhile win.
      for (const [id, lastSeen] of batch) if (!this.pending.has(id)) this.pending.set(id, lastSeen);
      throw error;
    }
    return batch.size;
  }
}
