/**
 * Human rendering of CLI results. The status block's labels and their column are part
 * of the contract (SPEC section 5): values start at column 20, `enabled` / `disabled` /
 * `unknown` per signal, `COMPLIANT` / `NON-COMPLIANT`. Evidence follows the block so
 * that a person can see why each signal is what it is. Text that comes from outside
 * (tool output quoted in evidence, a server's verdict) is printed through escapeUnsafe.
 */
import type { ChalkInstance } from 'chalk';
import type { PostureResult } from './commands/posture.ts';
import { escapeUnsafe } from '../shared/text.ts';

const LABEL_WIDTH = 19;
const label = (text: string) => text.padEnd(LABEL_WIDTH, ' ');

interface EvidenceLike {
  method?: string;
  reason?: string;
  detail?: string;
  duration_ms?: number;
}

function signalWord(value: boolean | null, color: ChalkInstance): string {
  if (value === true) return color.green('enabled');
  if (value === false) return color.red('disabled');
  return color.yellow('unknown');
}

function patchAge(days: number | null, color: ChalkInstance): string {
  return days === null ? color.yellow('unknown') : `${days} days`;
}

export function renderPostureResult(result: PostureResult, color: ChalkInstance, options: { evidence?: boolean } = {}): string {
  const { report } = result;
  const lines = [
    'Device Posture Status',
    '-------------------------------------',
    `${label('OS:')}${escapeUnsafe(report.platform ?? 'unknown')}/${escapeUnsafe(report.arch ?? 'unknown')}`,
    `${label('Disk Encryption:')}${signalWord(report.disk_encrypted, color)}`,
    `${label('Firewall:')}${signalWord(report.firewall_enabled, color)}`,
    `${label('Antivirus:')}${signalWord(report.antivirus_enabled, color)}`,
    `${label('Patch Age:')}${patchAge(report.patch_age_days, color)}`,
    '',
    `${label('Compliance:')}${result.compliant ? color.green.bold('COMPLIANT') : color.red.bold('NON-COMPLIANT')}`,
  ];
  if (result.quarantined) lines.push(`${label('Quarantine:')}${color.red.bold('QUARANTINED')} (enforce mode: this device has no access until it is compliant)`);
  if (result.violations.length > 0) {
    lines.push('Violations:');
    for (const violation of result.violations) lines.push(`  - ${escapeUnsafe(violation)}`);
  }
  if (options.evidence !== false && report.evidence) {
    lines.push('', color.bold('Evidence') + color.dim(` (${result.source} evaluation, policy: ${result.policy})`));
    const rows: Array<[string, string]> = [
      ['OS Version', 'os_version'],
      ['Disk Encryption', 'disk_encrypted'],
      ['Firewall', 'firewall_enabled'],
      ['Antivirus', 'antivirus_enabled'],
      ['Patch Age', 'patch_age_days'],
    ];
    for (const [name, key] of rows) {
      const evidence = report.evidence[key] as EvidenceLike | undefined;
      if (!evidence) continue;
      const meta = [evidence.method, evidence.reason, evidence.duration_ms === undefined ? undefined : `${Math.round(evidence.duration_ms)} ms`]
        .filter(Boolean)
        .join(', ');
      lines.push(`  ${label(`${name}:`)}${escapeUnsafe(key === 'os_version' ? report.os_version : (evidence.detail ?? ''))}${meta ? color.dim(`  [${meta}]`) : ''}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
