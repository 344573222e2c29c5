/**
 * firewalld. `firewall-cmd --state` prints `running` (exit 0) or `not running` (exit 252,
 * NOT_RUNNING). Exit 251 is RUNNING_BUT_FAILED (firewalld PR #1484). A polkit refusal
 * prints `Authorization failed.` and must not be read as "not running" (mondoohq/mql
 * PR #10416). `firewall-cmd --get-default-zone` prints the zone name; a `trusted` default
 * zone accepts everything, so firewalld running with it is not a firewall.
 */
import type { Finding } from '../types.ts';
import { known, unknown } from '../types.ts';

export function parseFirewalldState(exitCode: number | null, stdout: string, stderr: string): Finding<boolean> {
  const out = stdout.trim();
  const err = stderr.trim();
  if (/authorization failed|access denied|not authorized/i.test(`${out}\n${err}`)) {
    return unknown('needs_privilege', 'firewall-cmd', `firewall-cmd refused: ${err || out}`);
  }
  if (exitCode === 0 && out === 'running') return known(true, 'firewall-cmd', 'firewalld is running');
  if (exitCode === 252 || out === 'not running' || /^FirewallD is not running$/i.test(err)) {
    return known(false, 'firewall-cmd', 'firewalld is not running');
  }
  if (exitCode === 251) return unknown('command_failed', 'firewall-cmd', 'firewalld is running but failed to apply its configuration (exit 251)');
  if (out === '' && err === '') return unknown('empty_output', 'firewall-cmd', `firewall-cmd --state printed nothing (exit ${exitCode})`);
  return unknown('unparsed_output', 'firewall-cmd', `unrecognised firewall-cmd --state output (exit ${exitCode}): ${(out || err).slice(0, 80)}`);
}

/** Zones whose target accepts everything. */
export function isPermissiveZone(zone: string): boolean {
  return zone.trim() === 'trusted';
}
