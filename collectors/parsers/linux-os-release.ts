/**
 * os-release(5): shell-style `KEY=value` lines, values optionally in double or single
 * quotes with backslash escapes. PRETTY_NAME is the human name ("Debian GNU/Linux 12
 * (bookworm)"); NAME + VERSION_ID is the fallback when it is absent.
 */
import { isVersion } from '../../src/shared/versions.ts';
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

/**
 * os_version_number on Linux: os-release's VERSION_ID when it is a dotted version ("12",
 * "24.04", "9.4"). A rolling release has none (Arch, Gentoo, openSUSE Tumbleweed: its
 * VERSION_ID is a date like "20240828", which is a number but not a release to compare
 * against a minimum, so only IDs known to be rolling are refused).
 */
export function osReleaseVersionNumber(text: string): Finding<string> {
  const fields = parseOsRelease(text);
  const id = fields.ID ?? '';
  const versionId = fields.VERSION_ID;
  const facts = { id, version_id: versionId ?? null };
  if (text.trim() === '') return unknown('empty_output', 'os-release', 'os-release is empty', facts);
  if (ROLLING_IDS.has(id) || fields.BUILD_ID === 'rolling') {
    return unknown('not_applicable', 'os-release', `${fields.NAME ?? id} is a rolling release: it has no version number to compare`, facts);
  }
  if (versionId === undefined || versionId === '') return unknown('unparsed_output', 'os-release', `os-release of ${fields.NAME ?? (id || 'this distribution')} has no VERSION_ID`, facts);
  if (!isVersion(versionId)) return unknown('unparsed_output', 'os-release', `VERSION_ID "${versionId.slice(0, 40)}" is not a dotted version`, facts);
  return known(versionId, 'os-release', `VERSION_ID=${versionId} (${fields.NAME ?? id})`, facts);
}

/** os-release IDs of rolling releases (os-release(5) ID values as their distributions ship them). */
const ROLLING_IDS: ReadonlySet<string> = new Set(['arch', 'archarm', 'manjaro', 'endeavouros', 'gentoo', 'opensuse-tumbleweed', 'void']);
