/**
 * os-release(5): shell-style `KEY=value` lines, values optionally in double or single
 * quotes with backslash escapes. PRETTY_NAME is the human name ("Debian GNU/Linux 12
 * (bookworm)"); NAME + VERSION_ID is the fallback when it is absent.
 */
import type { Finding } from '../types.ts';
import { known, unknown } from '../types.ts';

export function parseOsRelease(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!match) continue;
    let value = (match[2] as string).trim();
    if ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'"))) {
      value = value.slice(1, -1).replace(/\\(["'$`\\])/g, '$1');
    }
    fields[match[1] as string] = value;
  }
  return fields;
}

export function osReleaseFinding(text: string, kernel: string | null): Finding<string> {
  const fields = parseOsRelease(text);
  const name = fields.PRETTY_NAME || [fields.NAME, fields.VERSION_ID].filter(Boolean).join(' ');
  const facts = { id: fields.ID, version_id: fields.VERSION_ID, kernel };
  if (!name) return unknown(text.trim() === '' ? 'empty_output' : 'unparsed_output', 'os-release', 'os-release has neither PRETTY_NAME nor NAME', facts);
  return known(name, 'os-release', `${name}${kernel ? `, kernel ${kernel}` : ''}`, facts);
}
