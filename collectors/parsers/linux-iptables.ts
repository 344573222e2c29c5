/**
 * `iptables -S` / `ip6tables -S` (rule-spec listing of the filter table; identical for the
 * legacy and the nf_tables backend):
 *   -P INPUT DROP
 *   -N ufw-user-input
 *   -A INPUT -j ufw-before-input
 *   -A ufw-user-input -p tcp -m tcp --dport 22 -j ACCEPT
 *   -A f2b-sshd -s 203.0.113.9/32 -j REJECT --reject-with icmp-port-unreachable
 *
 * The question (linux-inbound-probe.ts) is what happens to a NEW TCP connection from an
 * arbitrary address to an arbitrary port: INPUT is walked rule by rule with that probe;
 * a rule decides it only if every match of the rule holds for every such connection
 * (`-m conntrack --ctstate NEW`, `! -i lo`, `-m addrtype --dst-type LOCAL`, `-p tcp`,
 * `! --dport 22`, a comment …). Jumps are followed (a RETURN, or the end of a chain, comes
 * back), `-g` returns to the caller's caller, and the INPUT policy applies at the end.
 * Non-terminating targets (LOG, MARK, …) continue; NFQUEUE hands the packet to a program,
 * which this reading cannot judge (unknown).
 *
 * The format is not localized. Non-root gets "Permission denied (you must be root)" on
 * stderr and a non-zero exit, handled by the caller.
 */
import type { Finding } from '../types.ts';
import { known, unknown } from '../types.ts';
import type { ProbeVerdict } from './linux-inbound-probe.ts';
import { INTERNAL_INTERFACE, isAnyAddress, portsCoverArbitrary, statesIncludeNew, tcpFlagsMatchSyn } from './linux-inbound-probe.ts';

interface Rule {
  /** The rule as printed, for evidence. */
  readonly text: string;
  /** How the rule's matches relate to the arbitrary probe (probeMatch). */
  readonly match: 'all' | 'specific' | 'unknown';
  readonly target: string | null;
  readonly goto: boolean;
}

/** Splits a rule-spec into words; `--comment "a b"` keeps its quoted words together. */
function words(line: string): string[] {
  const result: string[] = [];
  const pattern = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let match = pattern.exec(line); match; match = pattern.exec(line)) result.push(match[1] ?? (match[2] as string));
  return result;
}

/** Options whose value(s) follow them, by count (everything not listed takes one value). */
const VALUE_COUNT: Record<string, number> = { '--tcp-flags': 2, '--match-set': 2, '--syn': 0, '-f': 0, '--fragment': 0, '--rsource': 0, '--rdest': 0, '--set': 0, '--rcheck': 0, '--update': 0, '--remove': 0, '--log-uid': 0, '--log-tcp-sequence': 0, '--log-tcp-options': 0, '--log-ip-options': 0 };

/** Options known to select particular traffic (never every new connection). */
const SPECIFIC_OPTIONS = new Set([
  '--match-set', '--mark', '--limit', '--limit-burst', '--icmp-type', '--icmpv6-type', '--uid-owner', '--gid-owner',
  '--name', '--seconds', '--hitcount', '--rsource', '--rdest', '--set', '--rcheck', '--update', '--remove', '--reap',
  '--connlimit-above', '--connlimit-upto', '--connlimit-mask', '--src-cc', '--dst-cc', '--string', '--algo', '--hex-string',
  '--ttl-eq', '--ttl-gt', '--ttl-lt', '--hl-eq', '--length', '--physdev-in', '--physdev-is-bridged', '--physdev-is-in',
  '--hashlimit', '--hashlimit-upto', '--hashlimit-above', '--hashlimit-name', '--hashlimit-mode', '--hashlimit-burst',
  '--ctstatus', '--ctorigsrc', '--ctorigdst', '--ctproto', '--log-prefix', '-o', '--out-interface', '-f', '--fragment',
  '--every', '--mode', '--probability', '--timestart', '--timestop', '--weekdays', '--datestart', '--datestop',
]);

/**
 * How the match options of one rule relate to the probe: `all` (every option holds for
 * every arbitrary new connection), `specific` (some option selects particular traffic),
 * `unknown` (an option this reading does not know). `options` are the words between
 * `-A CHAIN` and `-j`/`-g`.
 */
function probeMatch(options: string[]): 'all' | 'specific' | 'unknown' {
  let negate = false;
  let result: 'all' | 'unknown' = 'all';
  for (let index = 0; index < options.length; index++) {
    const option = options[index] as string;
    if (option === '!') {
      negate = true;
      continue;
    }
    const count = VALUE_COUNT[option] ?? (option.startsWith('-') ? 1 : 0);
    const values = options.slice(index + 1, index + 1 + count);
    index += count;
    const value = values[0] ?? '';
    let holds: boolean;
    switch (option) {
      case '-m':
      case '--match':
        // A module declaration matches nothing by itself; its options follow.
        negate = false;
        continue;
      case '-p':
      case '--protocol':
        holds = ['tcp', '6', 'all', '0'].includes(value.toLowerCase());
        break;
      case '-s':
      case '--source':
      case '-d':
      case '--destination':
        // Negated: "not from this specific range" holds for an arbitrary address.
        holds = negate ? !isAnyAddress(value) : isAnyAddress(value);
        negate = false;
        if (!holds) return 'specific';
        continue;
      case '-i':
      case '--in-interface':
        // Positive: only traffic of that interface (an internal one never carries the probe;
        // a named physical one is specific traffic). Negated: holds when the excluded one is internal.
        holds = negate ? INTERNAL_INTERFACE.test(value) : value === '+';
        negate = false;
        if (!holds) return 'specific';
        continue;
      case '--ctstate':
      case '--state':
        holds = statesIncludeNew(value);
        break;
      case '--dport':
      case '--destination-port':
      case '--dports':
      case '--destination-ports':
      case '--sport':
      case '--source-port':
      case '--sports':
      case '--source-ports':
        holds = negate ? !portsCoverArbitrary(value) : portsCoverArbitrary(value);
        negate = false;
        if (!holds) return 'specific';
        continue;
      case '--tcp-flags':
        holds = tcpFlagsMatchSyn(values[0] ?? '', values[1] ?? '');
        break;
      case '--syn':
        holds = true;
        break;
      case '--dst-type':
        holds = value.split(',').includes('LOCAL');
        break;
      case '--src-type':
        holds = value.split(',').includes('UNICAST');
        break;
      case '--pkt-type':
        holds = value === 'unicast' || value === 'host';
        break;
      case '--comment':
        holds = !negate;
        break;
      default:
        // Ipsets, marks, limits, recent, owner, geoip, icmp types …: some traffic, not all of it.
        // Anything else: this reading cannot tell.
        negate = false;
        if (SPECIFIC_OPTIONS.has(option)) return 'specific';
        result = 'unknown';
        continue;
    }
    if (negate) holds = !holds;
    negate = false;
    if (!holds) return 'specific';
  }
  return result;
}

/** The rules of each chain and the built-in chains' policies. */
function parseRuleset(text: string): { policies: Map<string, string>; chains: Map<string, Rule[]> } | null {
  const policies = new Map<string, string>();
  const chains = new Map<string, Rule[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const parts = words(line);
    if (parts[0] === '-P' && parts.length >= 3) {
      policies.set(parts[1] as string, parts[2] as string);
      continue;
    }
    if (parts[0] === '-N' && parts.length >= 2) {
      if (!chains.has(parts[1] as string)) chains.set(parts[1] as string, []);
      continue;
    }
    if (parts[0] !== '-A' || parts.length < 2) continue;
    const chain = parts[1] as string;
    const rest = parts.slice(2);
    const targetAt = rest.findIndex((word, i) => (word === '-j' || word === '--jump' || word === '-g' || word === '--goto') && rest[i - 1] !== '!');
    const target = targetAt >= 0 ? (rest[targetAt + 1] ?? null) : null;
    const options = targetAt >= 0 ? rest.slice(0, targetAt) : rest;
    const rule: Rule = { text: line, match: probeMatch(options), target, goto: targetAt >= 0 && (rest[targetAt] === '-g' || rest[targetAt] === '--goto') };
    chains.set(chain, [...(chains.get(chain) ?? []), rule]);
  }
  return policies.has('INPUT') || chains.has('INPUT') ? { policies, chains } : null;
}

const TERMINAL: Record<string, ProbeVerdict> = { ACCEPT: 'accept', DROP: 'drop', REJECT: 'drop', QUEUE: 'queue', NFQUEUE: 'queue' };

interface Decision {
  readonly verdict: ProbeVerdict;
  /** The rule (or policy) that decided, for evidence. */
  readonly by: string | null;
}

export function parseIptablesRules(text: string, method = 'iptables'): Finding<boolean> {
  if (text.trim() === '') return unknown('empty_output', method, `${method} printed nothing`);
  const ruleset = parseRuleset(text);
  if (!ruleset) return unknown('unparsed_output', method, `no INPUT chain in ${method} output`);
  const { policies, chains } = ruleset;
  // Rules with a match this reading does not know that would have let the probe through
  // (ACCEPT, RETURN, a jump): if one of them was on the way, a drop is not proven.
  const uncertain: string[] = [];

  const walk = (chain: string, depth: number, path: ReadonlySet<string>): Decision => {
    if (depth > 64 || path.has(chain)) return { verdict: 'continue', by: null };
    const inside = new Set([...path, chain]);
    for (const rule of chains.get(chain) ?? []) {
      if (rule.target === null || rule.match === 'specific') continue;
      const terminal = TERMINAL[rule.target];
      if (rule.match === 'unknown') {
        if (terminal !== 'drop') uncertain.push(rule.text);
        continue;
      }
      if (terminal) return { verdict: terminal, by: rule.text };
      if (rule.target === 'RETURN') return { verdict: 'continue', by: null };
      if (!chains.has(rule.target)) continue; // LOG, MARK, CONNMARK, … do not end the walk
      const inner = walk(rule.target, depth + 1, inside);
      if (inner.verdict !== 'continue') return inner;
      // A goto's chain returning means this chain is done as well (back to its caller).
      if (rule.goto) return { verdict: 'continue', by: null };
    }
    return { verdict: 'continue', by: null };
  };

  const decision = walk('INPUT', 0, new Set());
  const policy = (policies.get('INPUT') ?? 'ACCEPT').toUpperCase();
  const rules = [...chains.values()].reduce((sum, list) => sum + list.length, 0);
  const facts = { input_policy: policy, rules, chains: chains.size };
  if (decision.verdict === 'queue') return unknown('unparsed_output', method, `new inbound connections are handed to a userspace program (${decision.by}); whether it filters them cannot be read from the ruleset`, facts);
  const dropping = decision.verdict === 'drop' || (decision.verdict === 'continue' && (policy === 'DROP' || policy === 'REJECT'));
  if (dropping && uncertain.length > 0) return unknown('unparsed_output', method, `a drop is reached only past rules with matches this reading cannot evaluate (\`${uncertain[0]}\`), which may let the connection through`, facts);
  if (decision.verdict === 'drop') return known(true, method, `a new inbound connection to an arbitrary port is dropped: \`${decision.by}\``, facts);
  if (decision.verdict === 'accept') return known(false, method, `new inbound connections from anywhere to any port are accepted by \`${decision.by}\`${policy === 'DROP' || policy === 'REJECT' ? ` before the INPUT policy ${policy}` : ''}`, facts);
  if (policy === 'DROP' || policy === 'REJECT') return known(true, method, `INPUT policy is ${policy}: new inbound connections not explicitly allowed are dropped`, facts);
  const specific = [...chains.values()].flat().filter((rule) => (rule.target === 'DROP' || rule.target === 'REJECT') && rule.match !== 'all').length;
  return known(false, method, `INPUT policy is ${policy} and no rule drops an arbitrary new inbound connection${specific > 0 ? ` (${specific} DROP/REJECT rule${specific === 1 ? ' matches' : 's match'} only specific sources, ports, interfaces or states)` : ''}`, facts);
}
