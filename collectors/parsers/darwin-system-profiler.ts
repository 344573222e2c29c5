/**
 * `system_profiler -json SPFirewallDataType` → firewall_enabled (fallback for socketfilterfw).
 *
 * Shape (osquery/osquery#8432, #8433, macOS 15):
 *   { "SPFirewallDataType": [ { "_name": "spfirewall_settings",
 *       "spfirewall_globalstate": "spfirewall_globalstate_limit_connections",
 *       "spfirewall_stealthenabled": "Yes", "spfirewall_loggingenabled": "Yes",
 *       "spfirewall_applications": { "<bundle id>": "spfirewall_allow_all", ... } } ] }
 *
 * Invariants:
 * - The enum decides, mapped exactly as osquery does since PR #8428 (firewall.mm):
 *   allow_all → 0 (off), limit_connections → 1, block_all → 2. Any other value
 *   (e.g. the unconfirmed `spfirewall_globalstate_off`) is unknown, not off.
 * - Truncated or non-JSON output, a missing array or a missing key is unknown.
 */
import type { Finding } from '../types.ts';
import { firstLine, known, unknown } from '../types.ts';
import { clip } from './darwin-plist.ts';

const METHOD = 'system_profiler';

const GLOBAL_STATES: Readonly<Record<string, { enabled: boolean; code: number }>> = {
  spfirewall_globalstate_allow_all: { enabled: false, code: 0 },
  spfirewall_globalstate_limit_connections: { enabled: true, code: 1 },
  spfirewall_globalstate_block_all: { enabled: true, code: 2 },
};

export function parseSpFirewallJson(stdout: string): Finding<boolean> {
  if (stdout.trim() === '') return unknown('empty_output', METHOD, '`system_profiler -json SPFirewallDataType` printed nothing');
  let root: unknown;
  try {
    root = JSON.parse(stdout);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return unknown('unparsed_output', METHOD, `system_profiler output is not JSON (${clip(why, 80)}): "${clip(firstLine(stdout), 60)}"`);
  }
  const items = isObject(root) ? root.SPFirewallDataType : undefined;
  if (!Array.isArray(items)) {
    return unknown('unparsed_output', METHOD, 'system_profiler JSON has no SPFirewallDataType array');
  }
  const values = new Set<string>();
  let stealth: unknown;
  for (const item of items) {
    if (!isObject(item)) continue;
    if (typeof item.spfirewall_globalstate === 'string') values.add(item.spfirewall_globalstate);
    if (stealth === undefined) stealth = item.spfirewall_stealthenabled;
  }
  if (values.size === 0) {
    return unknown('unparsed_output', METHOD, `SPFirewallDataType (${items.length} item(s)) has no spfirewall_globalstate`);
  }
  if (values.size > 1) {
    return unknown('unparsed_output', METHOD, `conflicting spfirewall_globalstate values: ${[...values].join(', ')}`);
  }
  const [value] = [...values] as [string];
  const facts: Record<string, unknown> = { spfirewall_globalstate: value };
  if (typeof stealth === 'string') facts.stealth_enabled = stealth;
  // Own keys only: "valueOf" or "constructor" must not find Object.prototype's members.
  const state = Object.hasOwn(GLOBAL_STATES, value) ? GLOBAL_STATES[value] : undefined;
  if (!state) return unknown('unparsed_output', METHOD, `unknown spfirewall_globalstate "${clip(value, 60)}"`, facts);
  return known(state.enabled, METHOD, `system_profiler reports ${value} (global state ${state.code})`, {
    ...facts,
    global_state: state.code,
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
