/**
 * Peer lists (SPEC section 4, SPEC 7.3 "peers follow the ACL"). A peer is `{id, hostname,
 * os, tags, online, last_seen}`. A machine's peers are the machines it may reach, or that
 * may reach it, under some allow rule (peer-graph.ts: ports aside, rules in priority order,
 * deny rules and src_posture count); quarantined machines appear in nobody's list and get an
 * empty one themselves, and in enforce mode so do machines without a current verdict
 * (posture_state `pending`, SPEC 7.1). A mode change bumps peers_version (org-settings.ts),
 * so a list built for one mode is never served in another.
 *
 * `peers_version` is a per-org counter bumped in the same transaction as any change to
 * what a peer list shows or who may reach whom: membership, status, posture_state,
 * hostname, tags, ACL rules (tables/acl-rules.ts), and — when rules use src_posture — a
 * report that changes what a rule's source satisfies, a policy or settings change
 * (src-posture.ts). Not `last_seen`, which would change it on every heartbeat.
 *
 * Cost: the org's peer graph is built once per peers_version in each process (one read of
 * the org's rules and machines, plus its reports and the named policies when a rule uses
 * src_posture; O(machines + rule matches)), and each class of machines' list once within
 * it (peer-graph.ts). A heartbeat that sends back the current peers_version builds nothing;
 * one that needs the full list costs a copy of its class's list. A satisfied src_posture
 * that will expire by time (`report_max_age_s`) gives the graph a deadline: the first
 * heartbeat after it bumps peers_version (a conditional update, so several processes bump
 * once) and the graph is rebuilt — the sweeper's expireVerdicts bumps it too.
 */
import { eq } from '../store/query.ts';
import type { Store } from '../store/store.ts';
import { isoOf } from '../store/tables.ts';
import { loadRules, matchedMachine, posturesUsed } from './acl.ts';
import type { Clock } from './context.ts';
import { systemClock } from './context.ts';
import type { GraphMachine, Peer } from './peer-graph.ts';
import { PeerGraph } from './peer-graph.ts';
import { loadSettings } from './settings.ts';
import { loadNamedPolicies, postureOutcome } from './src-posture.ts';
import { EVALUATION_COLUMNS } from './tables/posture-reports.ts';

export type { Peer } from './peer-graph.ts';

const MAX_CACHED_ORGS = 1024;

interface CachedGraph {
  readonly version: number;
  readonly withoutPending: boolean;
  readonly graph: PeerGraph;
  /** When a satisfied src_posture the graph relies on expires (ms), or null. */
  readonly staleAt: number | null;
}

export class PeerLists {
  private readonly cache = new Map<string, CachedGraph>();
  private readonly building = new Map<string, { readonly key: string; readonly promise: Promise<CachedGraph> }>();
  /** Graphs built (each process builds at most one per org and peers_version): tests and metrics read it. */
  builds = 0;

  private readonly clock: Clock;

  constructor(clock: Clock = systemClock) {
    this.clock = clock;
  }

  async version(store: Store, orgId: string): Promise<number> {
    const current = await readVersion(store, orgId);
    const cached = this.cache.get(orgId);
    if (cached && cached.version === current && cached.staleAt !== null && cached.staleAt < this.clock.now().getTime()) {
      // A src_posture this graph relied on has expired by time: the lists change, so the version does.
      const [bumped] = await store.update('org_state', [eq('org_id', orgId), eq('peers_version', current)], { peers_version: current + 1 });
      this.cache.delete(orgId);
      return bumped ? Number(bumped.peers_version) : readVersion(store, orgId);
    }
    return current;
  }

  /** Machine `selfId`'s peers at `version` (in enforce mode, `withoutPending`: machines without a verdict are in no list). */
  async list(store: Store, orgId: string, version: number, selfId: string, withoutPending: boolean): Promise<Peer[]> {
    let entry = this.cache.get(orgId);
    const fresh = (candidate: CachedGraph | undefined): candidate is CachedGraph =>
      candidate !== undefined && candidate.version === version && candidate.withoutPending === withoutPending && (candidate.staleAt === null || candidate.staleAt >= this.clock.now().getTime());
    if (!fresh(entry)) entry = await this.buildOnce(store, orgId, version, withoutPending);
    let peers = entry.graph.peersOf(selfId);
    if (peers === null) {
      // Not in the graph: it joined (or left quarantine) after the graph's rows were read, in
      // a transaction whose bump this version predates. Its rows are newer: read them again.
      entry = await this.build(store, orgId, version, withoutPending);
      peers = entry.graph.peersOf(selfId);
    }
    return peers ?? [];
  }

  /** One build per org and version at a time: heartbeats that arrive while it runs wait for it. */
  private buildOnce(store: Store, orgId: string, version: number, withoutPending: boolean): Promise<CachedGraph> {
    const key = `${version} ${withoutPending}`;
    const running = this.building.get(orgId);
    if (running && running.key === key) return running.promise;
    const promise = this.build(store, orgId, version, withoutPending).finally(() => {
      if (this.building.get(orgId)?.promise === promise) this.building.delete(orgId);
    });
    this.building.set(orgId, { key, promise });
    return promise;
  }

  /** Reads the org's machines and rules (the version was read before: the rows are at least that new). */
  private async build(store: Store, orgId: string, version: number, withoutPending: boolean): Promise<CachedGraph> {
    this.builds += 1;
    const [rules, rows] = await Promise.all([
      loadRules(store, orgId),
      store.select('machines', {
        columns: ['id', 'hostname', 'os', 'agent_version', 'tags', 'status', 'last_seen'],
        filters: [
          eq('org_id', orgId),
          { column: 'status', op: 'neq', value: 'quarantined' },
          ...(withoutPending ? [{ column: 'posture_state', op: 'neq' as const, value: 'pending' }] : []),
        ],
        order: [{ column: 'hostname', descending: false }],
      }),
    ]);
    const machines: GraphMachine[] = rows.map((row) => ({
      match: matchedMachine(row),
      peer: {
        id: row.id,
        hostname: row.hostname,
        os: row.os,
        tags: row.tags,
        online: row.status === 'online',
        last_seen: row.last_seen === null ? null : isoOf(row.last_seen),
      },
    }));
    let staleAt: number | null = null;
    let satisfies = (_index: number, _policy: string): boolean => false;
    const names = posturesUsed(rules);
    if (names.size > 0) {
      const now = this.clock.now();
      const [settings, policies, reports] = await Promise.all([
        loadSettings(store, orgId),
        loadNamedPolicies(store, orgId, names),
        store.select('posture_reports', { columns: [...EVALUATION_COLUMNS], filters: [eq('org_id', orgId)] }),
      ]);
      const reportOf = new Map(reports.map((report) => [report.machine_id, report]));
      const known = new Map<string, boolean>();
      satisfies = (index, policy) => {
        const key = `${index} ${policy}`;
        let answer = known.get(key);
        if (answer === undefined) {
          const row = rows[index] as (typeof rows)[number];
          const outcome = postureOutcome(policies.get(policy), reportOf.get(row.id) ?? null, row, settings, now);
          answer = outcome.satisfied;
          if (outcome.until !== null) staleAt = staleAt === null ? outcome.until : Math.min(staleAt, outcome.until);
          known.set(key, answer);
        }
        return answer;
      };
    }
    const graph = new PeerGraph(machines, rules, satisfies);
    const entry: CachedGraph = { version, withoutPending, graph, staleAt };
    this.cache.delete(orgId);
    if (this.cache.size >= MAX_CACHED_ORGS) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(orgId, entry);
    return entry;
  }
}

async function readVersion(store: Store, orgId: string): Promise<number> {
  const row = await store.selectOne('org_state', [eq('org_id', orgId)]);
  return Number(row?.peers_version ?? 0);
}
