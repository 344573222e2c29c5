/**
 * `nft -j list ruleset` (libnftables JSON schema): `{"nftables": [ {metainfo}, {table},
 * {chain: {family, table, name, type, hook, prio, policy}}, {rule: {family, table, chain,
 * expr: [...]}} ]}`.
 *
 * The question (linux-inbound-probe.ts) is what happens to a NEW IPv4 TCP connection from
 * an arbitrary address to an arbitrary port. Every base chain of type `filter` on the
 * `input` hook, in the `ip` and `inet` families, sees the packet, lowest priority first:
 * an `accept` ends only that chain (the next base chain still sees the packet), a `drop`
 * or `reject` is final, and a chain the packet falls off applies its policy. So the probe
 * is walked through each of them in order, following `jump`/`goto` and verdict maps
 * (`ct state vmap { invalid : drop, established : accept, … }`). A rule decides the probe
 * only when each of its matches holds for every such connection: `ct state new`, `meta
 * l4proto tcp`, `iifname != "lo"`, `fib daddr type local`; a match on an address, a port,
 * an interface, a set, a mark, a rate limit or anything unknown selects specific traffic and
 * does not. `ip6`, `bridge`, `netdev` and `arp` chains do not see the probe.
 * An input hook with only NAT or accept-everything chains — Docker's — is not a firewall.
 */
import type { Finding } from '../types.ts';
import { known, unknown } from '../types.ts';
import type { ProbeVerdict } from './linux-inbound-probe.ts';
import { INTERNAL_INTERFACE, portsCoverArbitrary } from './linux-inbound-probe.ts';

interface NftChain {
  family: string;
  table: string;
  name: string;
  type?: string;
  hook?: string;
  prio?: number;
  policy?: string;
}

interface NftRule {
  family: string;
  table: string;
  chain: string;
  expr: unknown[];
}

/** Families whose input hook sees an IPv4 packet. */
const IPV4_FAMILIES = new Set(['ip', 'inet']);
const INPUT_FAMILIES = new Set(['ip', 'ip6', 'inet']);

type Json = unknown;
const isObject = (value: Json): value is Record<string, Json> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The values of a match's right-hand side: a scalar, an anonymous set, or a named set (`@name`, unknown). */
function rightValues(right: Json): Json[] | null {
  if (Array.isArray(right)) return right;
  if (isObject(right) && Array.isArray(right.set)) return right.set as Json[];
  if (typeof right === 'string' && right.startsWith('@')) return null;
  return [right];
}

/**
 * Whether one `match` holds for the probe: true (for every arbitrary new connection),
 * false (only for specific traffic, or never), null (an expression this reading does not know).
 */
function matchHolds(match: Record<string, Json>): boolean | null {
  const op = typeof match.op === 'string' ? match.op : '==';
  const negated = op === '!=';
  const positive = op === '==' || op === 'in';
  if (!negated && !positive) return null;
  const left = match.left;
  const values = rightValues(match.right);
  const has = (wanted: (value: Json) => boolean) => values !== null && values.some(wanted);
  const eq = (wanted: (value: Json) => boolean) => (negated ? values !== null && !has(wanted) : has(wanted));
  if (!isObject(left)) return null;
  if (isObject(left.ct)) {
    if (left.ct.key === 'state') return eq((value) => value === 'new');
    return negated; // ct status, ct mark … != something: the probe has none
  }
  if (isObject(left.meta)) {
    const key = left.meta.key;
    if (key === 'iifname' || key === 'iif') {
      // Positive: only that interface's traffic. Negated: holds when every excluded one is internal.
      return negated && values !== null && values.every((value) => typeof value === 'string' && INTERNAL_INTERFACE.test(value.replace(/\*$/, '+')));
    }
    if (key === 'l4proto') return eq((value) => value === 'tcp' || value === 6);
    if (key === 'nfproto') return eq((value) => value === 'ipv4');
    if (key === 'pkttype') return eq((value) => value === 'host' || value === 'unicast');
    if (key === 'mark') return negated;
    return null;
  }
  if (isObject(left.payload)) {
    const { protocol, field } = left.payload;
    if ((protocol === 'ip' && field === 'protocol') || (protocol === 'ip6' && field === 'nexthdr')) return eq((value) => value === 'tcp' || value === 6);
    if (field === 'saddr' || field === 'daddr') {
      const any = (value: Json) => isObject(value) && isObject(value.prefix) && Number(value.prefix.len) === 0;
      return negated ? true : has(any);
    }
    if (field === 'dport' || field === 'sport') {
      if (protocol !== 'tcp' && protocol !== 'th') return negated;
      const spec = (values ?? []).map((value) => (isObject(value) && Array.isArray(value.range) ? `${String(value.range[0])}-${String(value.range[1])}` : String(value))).join(',');
      const covers = values !== null && portsCoverArbitrary(spec);
      return negated ? !covers : covers;
    }
    // tcp flags, ip ttl, … : the probe's values are not modelled.
    return null;
  }
  if (isObject(left.fib)) {
    // `fib daddr type local`: the probe is addressed to this host. Reverse-path checks
    // (`fib saddr . iif oif missing drop`) drop spoofed traffic only.
    const flags = Array.isArray(left.fib.flags) ? left.fib.flags : [];
    if (left.fib.result === 'type' && flags.includes('daddr')) return eq((value) => value === 'local');
    return false;
  }
  if ('&' in left) return null; // bitwise tests (tcp flags & … == syn)
  return null;
}

/** The verdict of a statement, if it is one: `accept`, `drop`, `reject`, `return`, `queue`, a jump/goto. */
/** `stop`: the rule selects specific traffic; `unknown`: it has an expression this reading cannot evaluate. */
type Step = { kind: 'verdict'; verdict: ProbeVerdict | 'return' } | { kind: 'jump' | 'goto'; target: string } | { kind: 'none' } | { kind: 'stop' } | { kind: 'unknown' };

function statementStep(statement: Json): Step {
  if (!isObject(statement)) return { kind: 'unknown' };
  if ('accept' in statement) return { kind: 'verdict', verdict: 'accept' };
  if ('drop' in statement || 'reject' in statement) return { kind: 'verdict', verdict: 'drop' };
  if ('return' in statement) return { kind: 'verdict', verdict: 'return' };
  if ('queue' in statement) return { kind: 'verdict', verdict: 'queue' };
  if ('continue' in statement) return { kind: 'none' };
  const jump = isObject(statement.jump) ? statement.jump.target : undefined;
  if (typeof jump === 'string') return { kind: 'jump', target: jump };
  const goto = isObject(statement.goto) ? statement.goto.target : undefined;
  if (typeof goto === 'string') return { kind: 'goto', target: goto };
  // iptables-nft targets it could not translate: REJECT (with options), LOG, MARK, …
  if (isObject(statement.xt) && statement.xt.type === 'target') {
    const name = String(statement.xt.name).toUpperCase();
    if (name === 'REJECT' || name === 'DROP') return { kind: 'verdict', verdict: 'drop' };
    if (name === 'ACCEPT') return { kind: 'verdict', verdict: 'accept' };
    if (name === 'NFQUEUE' || name === 'QUEUE') return { kind: 'verdict', verdict: 'queue' };
    return { kind: 'none' };
  }
  if ('match' in statement) {
    const holds = isObject(statement.match) ? matchHolds(statement.match) : null;
    return holds === null ? { kind: 'unknown' } : holds ? { kind: 'none' } : { kind: 'stop' };
  }
  if ('vmap' in statement) return vmapStep(statement.vmap);
  // Non-terminal statements that act on every packet reaching them.
  if (['counter', 'log', 'mangle', 'notrack', 'comment'].some((key) => key in statement)) return { kind: 'none' };
  // Rate limits and quotas select some packets; xt matches (iptables-nft) and anything else
  // are not readable here.
  if ('limit' in statement || 'quota' in statement) return { kind: 'stop' };
  return { kind: 'unknown' };
}

/** A verdict map keyed by something the probe has a value for (ct state, l4proto). */
function vmapStep(vmap: Json): Step {
  if (!isObject(vmap) || !isObject(vmap.key) || !isObject(vmap.data) || !Array.isArray(vmap.data.set)) return { kind: 'unknown' };
  const key = vmap.key;
  const probeKeys: Json[] = isObject(key.ct) && key.ct.key === 'state' ? ['new'] : isObject(key.meta) && key.meta.key === 'l4proto' ? ['tcp', 6] : [];
  for (const entry of vmap.data.set as Json[]) {
    if (!Array.isArray(entry) || entry.length < 2) continue;
    const [entryKey, verdict] = entry;
    const keys = Array.isArray(entryKey) ? entryKey : isObject(entryKey) && Array.isArray(entryKey.set) ? entryKey.set : [entryKey];
    if (keys.some((value: Json) => probeKeys.includes(value))) return statementStep(verdict);
  }
  // Keyed by something the probe has no single value for (an interface, an address): specific.
  return probeKeys.length > 0 ? { kind: 'none' } : { kind: 'stop' };
}

interface Decision {
  readonly verdict: ProbeVerdict;
  readonly by: string | null;
}

export function parseNftRuleset(text: string): Finding<boolean> {
  if (text.trim() === '') return unknown('empty_output', 'nft', 'nft printed nothing');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return unknown('unparsed_output', 'nft', 'nft output is not JSON');
  }
  const entries = (parsed as { nftables?: unknown })?.nftables;
  if (!Array.isArray(entries)) return unknown('unparsed_output', 'nft', 'no "nftables" array in nft output');
  const chains: NftChain[] = [];
  const rules: NftRule[] = [];
  // A chain or rule we cannot read could be the one that filters: refuse to conclude.
  let malformed = 0;
  for (const entry of entries) {
    if (!isObject(entry)) {
      malformed += 1;
      continue;
    }
    // Every field read below must be a string (or absent): a JSON object in a template literal can throw.
    const optionalString = (value: unknown) => value === undefined || typeof value === 'string';
    if ('chain' in entry) {
      const chain = entry.chain as Partial<NftChain> | undefined;
      if (isObject(chain) && typeof chain.name === 'string' && typeof chain.table === 'string' && typeof chain.family === 'string' && optionalString(chain.type) && optionalString(chain.hook) && optionalString(chain.policy) && (chain.prio === undefined || typeof chain.prio === 'number')) {
        chains.push(chain as NftChain);
      } else malformed += 1;
    }
    if ('rule' in entry) {
      const rule = entry.rule as Partial<NftRule> | undefined;
      if (isObject(rule) && typeof rule.chain === 'string' && typeof rule.table === 'string' && typeof rule.family === 'string' && Array.isArray(rule.expr)) {
        rules.push(rule as NftRule);
      } else malformed += 1;
    }
  }
  if (malformed > 0) return unknown('unparsed_output', 'nft', `${malformed} ruleset entr${malformed === 1 ? 'y' : 'ies'} not in the libnftables JSON shape`);
  const key = (family: string, table: string, chain: string) => `${family}/${table}/${chain}`;
  const rulesByChain = new Map<string, NftRule[]>();
  for (const rule of rules) {
    const k = key(rule.family, rule.table, rule.chain);
    rulesByChain.set(k, [...(rulesByChain.get(k) ?? []), rule]);
  }
  const describe = (chain: NftChain | { family: string; table: string; name: string }) => `${chain.family} ${chain.table} ${chain.name}`;

  // Rules with an expression this reading cannot evaluate that would have let the probe
  // through: if one was on the way, a drop is not proven.
  const uncertain: string[] = [];
  /** The probe through one chain: decided, or fell off / returned ('continue'). */
  const walk = (family: string, table: string, name: string, depth: number, path: ReadonlySet<string>): Decision => {
    const k = key(family, table, name);
    if (depth > 64 || path.has(k)) return { verdict: 'continue', by: null };
    const inside = new Set([...path, k]);
    rules: for (const [index, rule] of (rulesByChain.get(k) ?? []).entries()) {
      for (const statement of rule.expr) {
        const step = statementStep(statement);
        if (step.kind === 'stop') continue rules;
        if (step.kind === 'unknown') {
          // Skipped; but a rule that would have let the probe through makes a drop unproven.
          const final = rule.expr.map(statementStep).find((later) => later.kind === 'verdict' || later.kind === 'jump' || later.kind === 'goto');
          if (!(final?.kind === 'verdict' && final.verdict === 'drop')) uncertain.push(`rule ${index + 1} of chain "${describe({ family, table, name })}"`);
          continue rules;
        }
        if (step.kind === 'none') continue;
        const where = `rule ${index + 1} of chain "${describe({ family, table, name })}"`;
        if (step.kind === 'verdict') {
          if (step.verdict === 'return') return { verdict: 'continue', by: null };
          return { verdict: step.verdict, by: where };
        }
        const inner = walk(family, table, step.target, depth + 1, inside);
        if (inner.verdict !== 'continue') return inner;
        if (step.kind === 'goto') return { verdict: 'continue', by: null };
        continue rules;
      }
    }
    return { verdict: 'continue', by: null };
  };

  const inputChains = chains.filter((c) => c.hook === 'input' && (c.type ?? 'filter') === 'filter' && INPUT_FAMILIES.has(c.family));
  const ipv4Chains = inputChains.filter((c) => IPV4_FAMILIES.has(c.family)).sort((a, b) => (a.prio ?? 0) - (b.prio ?? 0));
  const facts = {
    tables: [...new Set(chains.map((c) => `${c.family} ${c.table}`))],
    input_chains: inputChains.map((c) => `${describe(c)} prio ${c.prio ?? 0} policy ${c.policy ?? 'accept'}`),
  };
  if (inputChains.length === 0) {
    return known(false, 'nft', chains.length === 0 ? 'the nftables ruleset is empty' : 'no input filter chain in the ruleset (only NAT/forward/other chains)', facts);
  }
  const accepted: string[] = [];
  for (const chain of ipv4Chains) {
    const decision = walk(chain.family, chain.table, chain.name, 0, new Set());
    if (decision.verdict === 'queue') return unknown('unparsed_output', 'nft', `new inbound connections are queued to a userspace program (${decision.by}); whether it filters them cannot be read from the ruleset`, facts);
    const dropping = decision.verdict === 'drop' || (decision.verdict === 'continue' && chain.policy === 'drop');
    if (dropping && uncertain.length > 0) return unknown('unparsed_output', 'nft', `a drop is reached only past ${uncertain[0]}, whose expressions this reading cannot evaluate (e.g. iptables-nft xt matches) and which may let the connection through`, facts);
    if (decision.verdict === 'drop') return known(true, 'nft', `a new inbound connection to an arbitrary port is dropped by ${decision.by}`, facts);
    if (decision.verdict === 'accept') {
      accepted.push(`accepted by ${decision.by}`);
      continue;
    }
    if (chain.policy === 'drop') return known(true, 'nft', `input chain "${describe(chain)}" has policy drop: new inbound connections not explicitly allowed are dropped`, facts);
    accepted.push(`"${describe(chain)}" falls through to policy ${chain.policy ?? 'accept'}`);
  }
  if (ipv4Chains.length === 0) return known(false, 'nft', 'only IPv6 input chains: IPv4 inbound traffic is not filtered', facts);
  return known(false, 'nft', `no input chain drops an arbitrary new inbound connection (${accepted.join('; ')})`, facts);
}
