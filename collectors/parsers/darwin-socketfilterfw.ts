/**
 * `/usr/libexec/ApplicationFirewall/socketfilterfw --getglobalstate` → firewall_enabled.
 *
 * Lines seen in the wild:
 *   Firewall is disabled. (State = 0)                                           (rgcr/m-cli#160)
 *   Firewall is enabled. (State = 1)                                            (m-cli#160; trailing space in openradar-mirror#20994)
 *   Firewall is enabled. (State = 2)                                            (kolide test-data/data.txt)
 *   Firewall is blocking all non-essential incoming connections. (State = 2)    (dan-snelson/Mac-Health-Check PR #8)
 *
 * Invariants:
 * - The number in `(State = N)` decides, never the words: the State 2 sentence contains
 *   neither "enabled" nor "disabled", and parsers keyed on words reported such firewalls
 *   as off or unknown (kolide/launcher PR #1842, Mac-Health-Check PR #8, PureMac PR #176).
 * - 0 → off; 1 and 2 → on (`globalstate > 0`, snare/idiot PR #5). What 2 means is disputed
 *   (block-all per osquery PR #4247, firewall + stealth per Kolide PR #1842); either way the
 *   firewall filters, so it is on. Any other number is unknown.
 * - Other lines (when more `--get…` flags are passed) are ignored; conflicting State lines
 *   are unknown.
 * - `defaults read com.apple.alf` is never a fallback: that plist is gone on macOS 15 and the
 *   libexec copy is stale (osquery #8395, PR #8378).
 */
import type { Finding } from '../types.ts';
import { firstLine, known, unknown } from '../types.ts';
import { clip } from './darwin-plist.ts';

const METHOD = 'socketfilterfw';
const STATE_LINE = /^Firewall\b.*\(State\s*=\s*(\d+)\)$/i;

const STATE_MEANING: Readonly<Record<number, string>> = {
  0: 'off',
  1: 'on',
  2: 'on, blocking all non-essential incoming connections (or stealth mode; see Kolide PR #1842)',
};

export function parseSocketfilterfwGlobalState(stdout: string): Finding<boolean> {
  const lines = stdout
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  if (lines.length === 0) return unknown('empty_output', METHOD, '`socketfilterfw --getglobalstate` printed nothing');

  const states = new Map<number, string>();
  for (const line of lines) {
    const match = STATE_LINE.exec(line);
    if (match) states.set(Number(match[1]), line);
  }
  if (states.size === 0) {
    return unknown('unparsed_output', METHOD, `no "(State = N)" line in socketfilterfw output: "${clip(firstLine(stdout))}"`);
  }
  if (states.size > 1) {
    return unknown('unparsed_output', METHOD, `conflicting firewall states ${[...states.keys()].join(', ')}`);
  }
  const [[state, line]] = [...states] as [[number, string]];
  const facts = { global_state: state, line };
  const meaning = STATE_MEANING[state];
  if (meaning === undefined) {
    return unknown('unparsed_output', METHOD, `unknown Application Firewall state ${state}: "${clip(line)}"`, facts);
  }
  return known(state > 0, METHOD, `Application Firewall global state ${state} (${meaning}): "${clip(line)}"`, facts);
}
