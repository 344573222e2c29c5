/**
 * Who may be whose peer under an org's ACL (SPEC 7.3 "peers follow the ACL"), computed once
 * per peers_version and then answered per machine. Pure: machines, compiled rules and a
 * posture oracle in, peer lists out.
 *
 * Invariants:
 * - b is a peer of a exactly when a may reach b or b may reach a, where "x may reach y" means:
 *   for some port p, the first rule (in evaluation order) that matches (x, y, p) — selectors,
 *   ports and src_posture, as acl.ts decideByRules reads them — is an allow rule. Ports are
 *   otherwise aside: an allow rule for port 22 alone makes two machines peers; a deny rule
 *   only shadows the ports it names; a deny `*` shadows everything after it.
 * - Membership (quarantined, pending) is the caller's business: `machines` holds exactly the
 *   machines that may appear in peer lists.
 *
 * Cost model. Machines whose rule-match signature is the same — for every distinct rule side
 * (a selector list, with its src_posture for sources), whether it selects the machine —
 * reach and are reached by exactly the same machines, so they form one class. Building the
 * graph is O(n + Σ matches) over distinct sides: machines are found through id / hostname /
 * tag indexes of just the names the rules use; a side that selects everyone (a `*`
 * destination, a `*` source without posture) costs nothing, and a side shared by many rules
 * is matched once. A class's row — which classes are its peers — is computed the first time
 * one of its machines asks, in O(K × source rules per class) for K classes (the first row
 * also lists every class's source rules, O(K × rules)); a row's peer list is built in O(n)
 * and shared by every class with the same row, within a memory budget. All of it is kept
 * until the next peers_version. The default allow-all org has one class, one row, one list.
 * Measured (2-core VM, Node 24, graph only — reading the rows costs more): 100,000 machines
 * and allow-all: build 50 ms; with 22 tag rules (40 classes): build 0.25 s, a class's first
 * list ≈ 3 ms, a cached one 0.3 ms; 10,000 machines with 2,000 `id:` rules (2,002 classes):
 * build 50 ms, a class's first row ≈ 1 ms.
 */
import type { CompiledRule, MachineMatcher, MatchedMachine, PortRanges } from './acl.ts';
import { ALL_PORTS, portsOverlap, portsWithout } from './acl.ts';

/** What a peer list shows of a machine (SPEC section 4). */
export interface Peer {
  readonly id: string;
  readonly hostname: string;
  readonly os: string | null;
  readonly tags: readonly string[];
  readonly online: boolean;
  readonly last_seen: string | null;
}

export interface GraphMachine {
  readonly match: MatchedMachine;
  readonly peer: Peer;
}

interface MachineClass {
  /** Per side matcher: whether the members are among the machines it selects. */
  readonly has: Uint8Array;
  /** The rules whose source the members are, ascending (filled when the first row is computed). */
  srcRules?: number[];
  row?: Uint8Array;
}

/**
 * How many peer references the cached lists of one graph may hold together: 1,000,000, or
 * 16 per machine in larger orgs (8 bytes each). Beyond it, lists are built per request (O(n)).
 */
export const MAX_CACHED_PEER_REFS = 1_000_000;
const CACHED_REFS_PER_MACHINE = 16;

/** A side of a rule as the signature counts it: its selectors, and for sources its src_posture. */
interface SideMatcher {
  readonly selects: MachineMatcher;
  readonly posture: string | null;
  /** Selects every machine (a `*` destination, a `*` source without posture): in no signature. */
  readonly everyone: boolean;
}

export class PeerGraph {
  private readonly machines: readonly GraphMachine[];
  private readonly rules: readonly CompiledRule[];
  /** Per rule, the index of its source / destination side matcher. */
  private readonly srcSide: Int32Array;
  private readonly dstSide: Int32Array;
  private readonly classOf: Int32Array;
  private readonly indexOf = new Map<string, number>();
  private readonly classes: MachineClass[] = [];
  /** Peer lists by row: classes with the same peers share one list. */
  private readonly lists = new Map<string, Peer[]>();
  private cachedRefs = 0;

  /**
   * @param machines the machines that may be peers, in the order lists show them
   * @param satisfies whether machine `index` satisfies the named policy (asked only for the
   *   sources of rules with src_posture)
   */
  constructor(machines: readonly GraphMachine[], rules: readonly CompiledRule[], satisfies: (index: number, policy: string) => boolean) {
    this.machines = machines;
    this.rules = rules;
    const n = machines.length;
    machines.forEach((machine, index) => this.indexOf.set(machine.peer.id, index));

    // Rules often share a side (`dst: tag:prod` in a hundred rules): each distinct side is matched once.
    const sides: SideMatcher[] = [];
    const sideByKey = new Map<string, number>();
    const sideOf = (selects: MachineMatcher, posture: string | null, everyone: boolean): number => {
      const key = everyone ? '*' : `${posture ?? ''}\u0000${[...selects.ids].sort().join(',')}\u0000${[...selects.hostKeys].sort().join(',')}\u0000${[...selects.tags].sort().join(',')}\u0000${selects.all}`;
      let found = sideByKey.get(key);
      if (found === undefined) {
        found = sides.length;
        sideByKey.set(key, found);
        sides.push({ selects, posture, everyone });
      }
      return found;
    };
    this.srcSide = Int32Array.from(rules, (rule) => sideOf(rule.src, rule.srcPosture, rule.src.all && rule.srcPosture === null));
    this.dstSide = Int32Array.from(rules, (rule) => sideOf(rule.dst, null, rule.dst.all));

    // Indexes of only what the rules name.
    const wanted = { ids: new Set<string>(), hostKeys: new Set<string>(), tags: new Set<string>() };
    for (const side of sides) {
      if (side.everyone || side.selects.all) continue;
      for (const id of side.selects.ids) wanted.ids.add(id);
      for (const key of side.selects.hostKeys) wanted.hostKeys.add(key);
      for (const tag of side.selects.tags) wanted.tags.add(tag);
    }
    const byId = new Map<string, number[]>();
    const byHost = new Map<string, number[]>();
    const byTag = new Map<string, number[]>();
    const add = (map: Map<string, number[]>, key: string, index: number) => {
      const list = map.get(key);
      if (list) list.push(index);
      else map.set(key, [index]);
    };
    if (wanted.ids.size + wanted.hostKeys.size + wanted.tags.size > 0) {
      machines.forEach(({ match }, index) => {
        if (wanted.ids.has(match.id)) add(byId, match.id, index);
        if (wanted.hostKeys.has(match.hostKey)) add(byHost, match.hostKey, index);
        for (const tag of match.tags) if (wanted.tags.has(tag) && byTag.get(tag)?.at(-1) !== index) add(byTag, tag, index);
      });
    }

    // Each machine's signature: the sides (not selecting everyone) that select it, ascending.
    const signature: Array<number[] | undefined> = new Array<number[] | undefined>(n);
    const seen = new Int32Array(n).fill(-1);
    sides.forEach((side, s) => {
      if (side.everyone) return;
      const take = (index: number) => {
        if (seen[index] === s) return;
        seen[index] = s;
        if (side.posture !== null && !satisfies(index, side.posture)) return;
        const bits = signature[index];
        if (bits) bits.push(s);
        else signature[index] = [s];
      };
      if (side.selects.all) {
        for (let index = 0; index < n; index++) take(index);
        return;
      }
      for (const id of side.selects.ids) for (const index of byId.get(id) ?? []) take(index);
      for (const key of side.selects.hostKeys) for (const index of byHost.get(key) ?? []) take(index);
      for (const tag of side.selects.tags) for (const index of byTag.get(tag) ?? []) take(index);
    });

    this.classOf = new Int32Array(n);
    const everyone = Uint8Array.from(sides, (side) => (side.everyone ? 1 : 0));
    const classByKey = new Map<string, number>();
    for (let index = 0; index < n; index++) {
      const bits = signature[index];
      const key = bits ? bits.join(',') : '';
      let found = classByKey.get(key);
      if (found === undefined) {
        found = this.classes.length;
        classByKey.set(key, found);
        const has = everyone.slice();
        for (const bit of bits ?? []) has[bit] = 1;
        this.classes.push({ has });
      }
      this.classOf[index] = found;
    }
  }

  /** How many classes (distinct rule-match signatures) the machines fall into. */
  get classCount(): number {
    return this.classes.length;
  }

  /** The peers of machine `id`, in list order; null when it is not one of the graph's machines. */
  peersOf(id: string): Peer[] | null {
    const index = this.indexOf.get(id);
    if (index === undefined) return null;
    const row = this.row(this.classes[this.classOf[index] as number] as MachineClass);
    const key = Buffer.from(row.buffer, row.byteOffset, row.byteLength).toString('base64');
    let list = this.lists.get(key);
    if (!list) {
      list = [];
      const { machines, classOf } = this;
      for (let other = 0; other < machines.length; other++) if (row[classOf[other] as number]) list.push((machines[other] as GraphMachine).peer);
      if (this.cachedRefs + list.length <= Math.max(MAX_CACHED_PEER_REFS, CACHED_REFS_PER_MACHINE * machines.length)) {
        this.lists.set(key, list);
        this.cachedRefs += list.length;
      }
    }
    // A copy without the asker (found by reference: native scans, no callback per peer).
    const self = list.indexOf((this.machines[index] as GraphMachine).peer);
    return self < 0 ? list.slice() : list.toSpliced(self, 1);
  }

  /** Whether a machine of class `from` may reach one of class `to` on some port (see the invariants). */
  private reaches(from: MachineClass, to: MachineClass): boolean {
    let open: PortRanges = ALL_PORTS;
    for (const r of from.srcRules as number[]) {
      if (!to.has[this.dstSide[r] as number]) continue;
      const rule = this.rules[r] as CompiledRule;
      // Some ports are still undecided here (else the walk ended): `*` decides them all.
      if (rule.anyPort) return rule.allow;
      if (!portsOverlap(open, rule.ports)) continue; // every port it names was decided earlier
      if (rule.allow) return true;
      open = portsWithout(open, rule.ports);
      if (open.length === 0) return false;
    }
    return false;
  }

  /** Which classes are a class's peers (computed once per class; the first also lists every class's source rules). */
  private row(cls: MachineClass): Uint8Array {
    if (cls.row) return cls.row;
    for (const other of this.classes) {
      if (other.srcRules) continue;
      const srcRules: number[] = [];
      for (let r = 0; r < this.rules.length; r++) if (other.has[this.srcSide[r] as number]) srcRules.push(r);
      other.srcRules = srcRules;
    }
    const row = new Uint8Array(this.classes.length);
    this.classes.forEach((other, index) => {
      row[index] = this.reaches(cls, other) || this.reaches(other, cls) ? 1 : 0;
    });
    cls.row = row;
    return row;
  }
}
