/**
 * The peer graph (src/server/domain/peer-graph.ts) against the definition, on random orgs:
 * b is a peer of a exactly when, for some port, the rules that /api/acl/evaluate applies
 * (acl.ts decideByRules) allow a → b or b → a. Pure: no server.
 */
import { describe, expect, it } from 'vitest';
import type { CompiledRule, MatchedMachine } from '../../src/server/domain/acl.ts';
import { compileRule, decideByRules, parsePorts, portsOverlap, portsWithout } from '../../src/server/domain/acl.ts';
import type { GraphMachine } from '../../src/server/domain/peer-graph.ts';
import { PeerGraph } from '../../src/server/domain/peer-graph.ts';

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const pick = <T,>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  return { next, pick };
}

const TAGS = ['dev', 'prod', 'db', 'ops'];
const PORTS = ['*', '22', '80-90', '22,443', '0-65535', '443', '1-21,23-65535', '85'];
const POLICIES = ['strict', 'baseline'];

interface Org {
  machines: Array<GraphMachine & { satisfies: Set<string> }>;
  rules: CompiledRule[];
}

function randomOrg(seed: number): Org {
  const { next, pick } = random(seed);
  const count = 2 + Math.floor(next() * 7);
  const machines = Array.from({ length: count }, (_, index) => {
    const id = `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`;
    const tags = TAGS.filter(() => next() < 0.35);
    const match: MatchedMachine = { id, hostKey: `host-${index}`, tags };
    return {
      match,
      peer: { id, hostname: `host-${index}`, os: 'linux', tags, online: true, last_seen: null },
      satisfies: new Set(POLICIES.filter(() => next() < 0.5)),
    };
  });
  const selector = () => {
    const parts = Array.from({ length: 1 + Math.floor(next() * 2) }, () => {
      const kind = next();
      if (kind < 0.2) return '*';
      if (kind < 0.6) return `tag:${pick(TAGS)}`;
      if (kind < 0.8) return `id:${pick(machines).match.id}`;
      return `host:${pick(machines).match.hostKey}`;
    });
    return parts.join(',');
  };
  const rules = Array.from({ length: Math.floor(next() * 7) }, (_, index) =>
    compileRule({
      id: `rule-${index}`,
      name: `rule-${index}`,
      action: next() < 0.55 ? 'allow' : 'deny',
      src: selector(),
      dst: selector(),
      ports: pick(PORTS),
      src_posture: next() < 0.3 ? pick(POLICIES) : null,
    }),
  );
  return { machines, rules };
}

/** Ports at which the rules' decisions can change: enough to find any allowed port. */
function probePorts(rules: readonly CompiledRule[]): Array<number | undefined> {
  const ports = new Set<number>([0, 65535]);
  for (const rule of rules) {
    for (const [from, to] of rule.ports) for (const port of [from - 1, from, to, to + 1]) if (port >= 0 && port <= 65535) ports.add(port);
  }
  return [undefined, ...ports];
}

describe('peer graph', () => {
  it('agrees with /api/acl/evaluate\'s rules on 400 random orgs, in both directions', () => {
    for (let seed = 1; seed <= 400; seed++) {
      const { machines, rules } = randomOrg(seed);
      const graph = new PeerGraph(machines, rules, (index, policy) => (machines[index] as Org['machines'][number]).satisfies.has(policy));
      const probes = probePorts(rules);
      const reaches = (a: Org['machines'][number], b: Org['machines'][number]) =>
        probes.some((port) => decideByRules(rules, a.match, b.match, port, (policy) => a.satisfies.has(policy)).allowed);
      for (const a of machines) {
        const expected = machines.filter((b) => b !== a && (reaches(a, b) || reaches(b, a))).map((b) => b.peer.id);
        const actual = (graph.peersOf(a.peer.id) ?? []).map((peer) => peer.id);
        expect(actual, `seed ${seed}, machine ${a.peer.id}`).toEqual(expected);
      }
    }
  });

  it('one class for the default allow-all org; lists keep the machines\' order and never hold the asker', () => {
    const { machines } = randomOrg(7);
    const allowAll = [compileRule({ id: 'r', name: 'default-allow-all', action: 'allow', src: '*', dst: '*', ports: '*', src_posture: null })];
    const graph = new PeerGraph(machines, allowAll, () => false);
    expect(graph.classCount).toBe(1);
    for (const machine of machines) expect(graph.peersOf(machine.peer.id)?.map((peer) => peer.id)).toEqual(machines.filter((m) => m !== machine).map((m) => m.peer.id));
    expect(graph.peersOf('not-a-member')).toBeNull();
    expect(new PeerGraph(machines, [], () => false).peersOf(machines[0]?.peer.id as string)).toEqual([]);
  });

  it('port sets: parse as portMatches reads them, overlap and subtract', () => {
    expect(parsePorts('*')).toEqual({ any: true, ranges: [[0, 65535]] });
    expect(parsePorts('443, 22,20-23,80-79,99999')).toEqual({ any: false, ranges: [[20, 23], [443, 443]] });
    expect(portsOverlap([[20, 23]], [[23, 30]])).toBe(true);
    expect(portsOverlap([[20, 23]], [[24, 30]])).toBe(false);
    expect(portsWithout([[0, 65535]], [[22, 22], [80, 90]])).toEqual([[0, 21], [23, 79], [91, 65535]]);
    expect(portsWithout([[22, 22]], [[0, 65535]])).toEqual([]);
  });
});
