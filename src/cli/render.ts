/**
 * Human rendering of CLI results. The status block's labels and their column are part
 * of the contract (SPEC section 5): values start at column 20, `enabled` / `disabled` /
 * `unknown` per signal, `COMPLIANT` / `NON-COMPLIANT`. Evidence follows the block so
 * that a person can see why each signal is what it is. Text that comes from outside
 * (tool output quoted in evidence, a server's verdict) is printed through escapeUnsafe.
 */
import type { ChalkInstance } from 'chalk';
import type { PostureResult } from './commands/posture.ts';
import type { SignalSpec } from '../shared/signals.ts';
import { SIGNALS, fixFor } from '../shared/signals.ts';
import { escapeUnsafe } from '../shared/text.ts';

/** Values start at column 20 (SPEC 5); every catalogue label fits. */
const LABEL_WIDTH = 19;
const label = (text: string) => text.padEnd(LABEL_WIDTH, ' ');

interface EvidenceLike {
  method?: string;
  reason?: string;
  detail?: string;
  duration_ms?: number;
}

function flagWord(value: unknown, evidence: EvidenceLike | undefined, color: ChalkInstance): string {
  if (value === true) return color.green('enabled');
  if (value === false) return color.red('disabled');
  if (evidence?.reason === 'not_applicable') return color.dim('not applicable');
  return color.yellow('unknown');
}

/** A signal's value as the status block shows it, by the catalogue's kind. */
function valueText(signal: SignalSpec, value: unknown, evidence: EvidenceLike | undefined, color: ChalkInstance): string {
  if (signal.kind === 'flag') return flagWord(value, evidence, color);
  if (value === null || value === undefined) return evidence?.reason === 'not_applicable' ? color.dim('not applicable') : color.yellow('unknown');
  if (signal.kind === 'days') return `${String(value)} days`;
  return escapeUnsafe(String(value));
}

export function renderPostureResult(result: PostureResult, color: ChalkInstance, options: { evidence?: boolean } = {}): string {
  const { report } = result;
  const fields = report as Readonly<Record<string, unknown>>;
  const evidenceOf = (key: string) => report.evidence?.[key] as EvidenceLike | undefined;
  const lines = [
    'Device Posture Status',
    '-------------------------------------',
    `${label('OS:')}${escapeUnsafe(report.platform ?? 'unknown')}/${escapeUnsafe(report.arch ?? 'unknown')}`,
    // Exactly SPEC 5's four lines here: scripts read this block by position.
    ...SIGNALS.filter((signal) => signal.status === 'core').map((signal) => `${label(`${signal.label}:`)}${valueText(signal, fields[signal.key] ?? null, evidenceOf(signal.key), color)}`),
    '',
    `${label('Compliance:')}${result.compliant ? color.green.bold('COMPLIANT') : color.red.bold('NON-COMPLIANT')}`,
  ];
  if (result.quarantined) lines.push(`${label('Quarantine:')}${color.red.bold('QUARANTINED')} (enforce mode: this device has no access until it is compliant)`);
  if (result.violations.length > 0) {
    lines.push('Violations:');
    for (const violation of result.violations) lines.push(`  - ${escapeUnsafe(violation)}`);
    const fixes = result.findings.map((finding) => [finding.code, fixFor(finding.code, report.platform)] as const).filter(([, fix]) => fix !== undefined);
    if (fixes.length > 0) {
      lines.push(color.dim('What to do:'));
      for (const [code, fix] of fixes) lines.push(color.dim(`    ${code}: ${fix ?? ''}`));
    }
  }
  // The catalogue's later signals (SPEC 7.2), after the verdict.
  lines.push('', ...SIGNALS.filter((signal) => signal.status === 'more').map((signal) => `${label(`${signal.label}:`)}${valueText(signal, fields[signal.key] ?? null, evidenceOf(signal.key), color)}`));
  if (options.evidence !== false && report.evidence) {
    lines.push('', color.bold('Evidence') + color.dim(` (${result.source} evaluation, policy: ${result.policy})`));
    for (const signal of SIGNALS) {
      const evidence = evidenceOf(signal.key);
      if (!evidence) continue;
      const meta = [evidence.method, evidence.reason, evidence.duration_ms === undefined ? undefined : `${Math.round(evidence.duration_ms)} ms`]
        .filter(Boolean)
        .join(', ');
      const text = signal.key === 'os_version' ? String(report.os_version ?? evidence.detail ?? '') : (evidence.detail ?? '');
      lines.push(`  ${label(`${signal.label}:`)}${escapeUnsafe(text)}${meta ? color.dim(`  [${meta}]`) : ''}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
