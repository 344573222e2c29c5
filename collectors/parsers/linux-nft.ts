/**
 * `nft -j list ruleset` (libnftables JSON schema): `{"nftables": [ {metainfo}, {table},
 * {chain: {family, table, name, type, hook, prio, policy}}, {rule: {family, table, chain,
 * expr: [...]}} ]}`.
 *
 * The question is whether the kernel filters inbound traffic: some base chain with
 * `hook: "input"` and `type: "filter"` either has `policy: "drop"` or has a rule that
 * ends in `drop`/`reject` (directly, or in a chain it jumps to / goes to). A ruleset
 * with only NAT or accept-everything chains — Docker's, for one — is not a firewall.
 * Families `ip`, `ip6`, `inet` carry the input hook; `bridge`/`netdev`/`arp` are ignored.
 */
import type { Finding } from '../types.ts';
import { known, unknown } from '../types.ts';

interface NftChain {
  family: string;
  table: string;
  name: string;
  type?: string;
  hook?: string;
  policy?: string;
}

interface NftRule {
  family: string;
  table: string;
  chain: string;
  expr: unknown[];
}

const INPUT_FAMILIES = new Set(['ip', 'ip6', 'inet']);

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
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      malformed += 1;
      continue;
    }
    // Every field read below must be a string (or absent): a JSON object in a template literal can throw.
    const optionalString = (value: unknown) => value === undefined || typeof value === 'string';
    if ('chain' in entry) {
      const chain = (entry as { chain?: Partial<NftChain> }).chain;
      if (chain && typeof chain.name === 'string' && typeof chain.table === 'string' && typeof chain.family === 'string' && optionalString(chain.type) && optionalString(chain.hook) && optionalString(chain.policy)) {
        chains.push(chain as NftChain);
      } else malformed += 1;
    }
    if ('rule' in entry) {
      const rule = (entry as { rule?: Partial<NftRule> }).rule;
      if (rule && typeof rule.chain === 'string' && typeof rule.table === 'string' && typeof rule.family === 'string' && Array.isArray(rule.expr)) {
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
  // Does this chain (or one it jumps to) drop or reject anything?
  const drops = (family: string, table: string, chain: string, visited: Set<string>): boolean => {
    const k = key(family, table, chain);
    if (visited.has(k)) return false;
    visited.add(k);
    for (const rule of rulesByChain.get(k) ?? []) {
      for (const expression of rule.expr) {
        if (typeof expression !== 'object' || expression === null) continue;
        if ('drop' in expression || 'reject' in expression) return true;
        const target = (expression as { jump?: { target?: unknown }; goto?: { target?: unknown } }).jump?.target ??
          (expression as { goto?: { target?: unknown } }).goto?.target;
        if (typeof target === 'string' && drops(family, table, target, visited)) return true;
      }
    }
    return false;
  };
  const inputChains = chains.filter((c) => c.hook === 'input' && (c.type ?? 'filter') === 'filter' && INPUT_FAMILIES.has(c.family));
  const filtering = inputChains.filter((c) => c.policy === 'drop' || drops(c.family, c.table, c.name, new Set()));
  const facts = {
    tables: [...new Set(chains.map((c) => `${c.family} ${c.table}`))],
    input_chains: inputChains.map((c) => `${c.family} ${c.table} ${c.name} policy ${c.policy ?? 'accept'}`),
  };
  if (filtering.length > 0) {
    const chain = filtering[0] as NftChain;
    return known(true, 'nft', `input chain "${chain.family} ${chain.table} ${chain.name}" ${chain.policy === 'drop' ? 'has policy drop' : 'drops or rejects traffic'}`, facts);
  }
  if (inputChains.length === 0) {
    return known(false, 'nft', chains.length === 0 ? 'the nftables ruleset is empty' : 'no input filter chain in the ruleset (only NAT/forward/other chains)', facts);
  }
  return known(false, 'nft', 'input filter chains accept everything (policy accept, no drop or reject rule)', facts);
}
