/**
 * Peer lists (SPEC section 4). A peer is `{id, hostname, os, tags, online, last_seen}`;
 * quarantined machines appear in nobody's list and get an empty one themselves, and in
 * enforce mode so do machines without a current verdict (posture_state `pending`, SPEC
 * 7.1). A mode change bumps peers_version (db-api.ts), so a list built for one mode is never
 * served in another.
 *
 * `peers_version` is a per-org counter bumped in the same transaction as any change to
 * what a peer list shows (membership, status, hostname, tags) — not by `last_seen`,
 * which would change it on every heartbeat. A list built for a version is cached under
 * that version, so 1,000 machines heartbeating with an unchanged version cost no list
 * building at all.
 */
import { eq } from '../store/query.ts';
import type { Store } from '../store/store.ts';
import { isoOf } from '../store/tables.ts';

export interface Peer {
  readonly id: string;
  readonly hostname: string;
  readonly os: string | null;
  readonly tags: readonly string[];
  readonly online: boolean;
  readonly last_seen: string | null;
}

const MAX_CACHED_ORGS = 1024;

export class PeerLists {
  private readonly cache = new Map<string, { version: number; withoutPending: boolean; peers: Peer[] }>();

  async version(store: Store, orgId: string): Promise<number> {
    const row = await store.selectOne('org_state', [eq('org_id', orgId)]);
    return Number(row?.peers_version ?? 0);
  }

  /** The org's peer list at `version`, excluding `selfId` (and, in enforce mode, machines without a verdict). */
  async list(store: Store, orgId: string, version: number, selfId: string, withoutPending: boolean): Promise<Peer[]> {
    let entry = this.cache.get(orgId);
    if (!entry || entry.version !== version || entry.withoutPending !== withoutPending) {
      const rows = await store.select('machines', {
        columns: ['id', 'hostname', 'os', 'tags', 'status', 'last_seen'],
        filters: [
          eq('org_id', orgId),
          { column: 'status', op: 'neq', value: 'quarantined' },
          ...(withoutPending ? [{ column: 'posture_state', op: 'neq' as const, value: 'pending' }] : []),
        ],
        order: [{ column: 'hostname', descending: false }],
      });
      entry = {
        version,
        withoutPending,
        peers: rows.map((row) => ({
          id: row.id,
          hostname: row.hostname,
          os: row.os,
          tags: row.tags,
          online: row.status === 'online',
          last_seen: row.last_seen === null ? null : isoOf(row.last_seen),
        })),
      };
      if (this.cache.size >= MAX_CACHED_ORGS) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(orgId, entry);
    }
    return entry.peers.filter((peer) => peer.id !== selfId);
  }
}
