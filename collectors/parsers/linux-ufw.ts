/**
 * ufw. `ufw status` (root only) starts with `Status: active` or `Status: inactive`; the
 * line is translated through LANGUAGE (omacom/omakub#266), which the command runner
 * clears. Match the whole line: `grep active$` also matches "inactive"
 * (brainfucksec/kalitorify#28).
 * `/etc/ufw/ufw.conf` (`ENABLED=yes|no`) is readable by anyone, but it is configuration,
 * not state: with ENABLED=yes the rules may still not be loaded. It is used only when the
 * kernel ruleset cannot be read, and says so.
 */
import type { Finding } from '../types.ts';
import { known, unknown } from '../types.ts';

export function parseUfwStatus(text: string): Finding<boolean> {
  const first = text.trim().split('\n', 1)[0]?.trim() ?? '';
  if (first === 'Status: active') return known(true, 'ufw', 'ufw status: active');
  if (first === 'Status: inactive') return known(false, 'ufw', 'ufw status: inactive');
  if (first === '') return unknown('empty_output', 'ufw', 'ufw status printed nothing');
  return unknown('unparsed_output', 'ufw', `unrecognised ufw status line: "${first.slice(0, 80)}"`);
}

/** `ENABLED=yes` → true, `ENABLED=no` → false, anything else → null. Quotes are allowed. */
export function parseUfwConf(text: string): boolean | null {
  for (const line of text.split('\n')) {
    const match = /^\s*ENABLED\s*=\s*["']?(yes|no)["']?\s*$/i.exec(line);
    if (match) return (match[1] as string).toLowerCase() === 'yes';
  }
  return null;
}
