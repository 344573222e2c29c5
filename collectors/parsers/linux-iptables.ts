/**
 * `iptables -S` / `ip6tables -S` (rule-spec listing of the filter table):
 *   -P INPUT DROP
 *   -N ufw-user-input
 *   -A INPUT -j ufw-before-input
 *   -A ufw-user-input -p tcp --dport 22 -j ACCEPT
 * The firewall filters inbound traffic when INPUT's policy is DROP, or INPUT (or a chain
 * reachable from it by -j/-g) has a rule whose target is DROP or REJECT.
 * The rule-spec format is not localized. Non-root gets "Permission denied (you must be
 * root)" on stderr and a non-zero exit, handled by the caller.
 */
import type { Finding } from '../types.ts';
import { known, unknown } from '../types.ts';

export function parseIptablesRules(text: string, method = 'iptables'): Finding<boolean> {
  if (text.trim() === '') return unknown('empty_output', method, `${method} printed nothing`);
  const policies = new Map<string, string>();
  const jumps = new Map<string, string[]>();
  let sawInput = false;
  for (const line of text.split('\n')) {
    const policy = /^-P (\S+) (\S+)/.exec(line.trim());
    if (policy) {
      policies.set(policy[1] as string, policy[2] as string);
      if (policy[1] === 'INPUT') sawInput = true;
      continue;
    }
    const rule = /^-A (\S+) .*?-[jg] (\S+)/.exec(line.trim());
    if (rule) {
      const chain = rule[1] as string;
      jumps.set(chain, [...(jumps.get(chain) ?? []), rule[2] as string]);
      if (chain === 'INPUT') sawInput = true;
    }
  }
  if (!sawInput) return unknown('unparsed_output', method, `no INPUT chain in ${method} output`);
  const facts = { input_policy: policies.get('INPUT') ?? 'unknown', chains: [...new Set([...policies.keys(), ...jumps.keys()])].length };
  const inputPolicy = policies.get('INPUT');
  if (inputPolicy === 'DROP' || inputPolicy === 'REJECT') return known(true, method, `INPUT policy is ${inputPolicy}`, facts);
  const visited = new Set<string>();
  const dropsFrom = (chain: string): boolean => {
    if (visited.has(chain)) return false;
    visited.add(chain);
    return (jumps.get(chain) ?? []).some((target) => target === 'DROP' || target === 'REJECT' || dropsFrom(target));
  };
  if (dropsFrom('INPUT')) return known(true, method, 'INPUT (or a chain it jumps to) drops or rejects traffic', facts);
  return known(false, method, `INPUT policy is ${inputPolicy ?? 'ACCEPT'} and no rule drops or rejects traffic`, facts);
}
