/**
 * Human rendering of CLI results. The status block's labels and their column are part
 * of the contract (SPEC section 5): values start at column 20, `enabled` / `disabled` /
 * `unknown` per signal, `COMPLIANT` / `NON-COMPLIANT`. Evidence follows the block so
 * that a person can see why each signal is what it is. Text that comes from outside
 * (tool output quoted in evidence, a server's verdict) is printed through escapeUnsafe.
 */
import type { ChalkInstance } from 'chalk';
import type { PolicyRef, PolicySelection } from '../agent/targeting.ts';
import type { PostureResult } from './commands/posture.ts';
import type { PostureFinding, SignalSpec } from '../shared/signals.ts';
import { SIGNALS, fixFor } from '../shared/signals.ts';
import { escapeUnsafe } from '../shared/text.ts';
import { findingWhen, postureStateText, stateOfVerdict } from './lifecycle-view.ts';

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

/** The finding behind a violation string: the one at the same position, else the first with its code. */
function findingFor(violation: string, index: number, findings: readonly PostureFinding[]): PostureFinding | undefined {
  const code = violation.split(' ', 1)[0];
  const same = findings[index];
  return same?.code === code ? same : findings.find((finding) => finding.code === code);
}

const policyName = (policy: PolicyRef) => `policy ${policy.position}${policy.name === null ? '' : ` "${escapeUnsafe(policy.name)}"`}`;

const TAGS_FROM: Record<PolicySelection['device']['tags_from'], string> = {
  option: '--tags',
  server: 'as the server last named them',
  enrollment: 'from the enrollment',
  not_enrolled: 'not enrolled',
  unknown: 'not known',
  not_needed: '',
};

/** Which policies of a policy file applied to this device, and why the others did not (SPEC 7.3 targeting). */
function renderSelection(selection: PolicySelection, color: ChalkInstance): string[] {
  const { device, applied, skipped } = selection;
  const total = applied.length + skipped.length;
  const tags =
    device.tags_from === 'not_needed'
      ? ''
      : device.tags === null
        ? '; tags not known'
        : `; tags: ${device.tags.length > 0 ? device.tags.map(escapeUnsafe).join(', ') : 'none'} (${TAGS_FROM[device.tags_from]})`;
  const lines = [`${label('Policies:')}${applied.length} of ${total} apply to this device (${escapeUnsafe(device.platform ?? 'platform unknown')}${tags})`];
  for (const policy of skipped) lines.push(color.dim(`  - skipped ${policyName(policy)}: ${escapeUnsafe(policy.detail)}`));
  for (const policy of applied) if (policy.note !== undefined) lines.push(color.yellow(`  - applied ${policyName(policy)}: ${escapeUnsafe(policy.note)}`));
  if (applied.length === 0) lines.push('  nothing is required: no policy in the file applies to this device');
  if (applied.some((policy) => policy.grace_period_s > 0)) {
    lines.push(color.dim('  grace periods (grace_period_s) are not applied here: only a server knows when a violation first appeared, so every violation counts now'));
  }
  return lines;
}

export function renderPostureResult(result: PostureResult, color: ChalkInstance, options: { evidence?: boolean; now?: number } = {}): string {
  const { report } = result;
  const now = options.now ?? Date.now();
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
  // SPEC 7.3: a verdict that does not block yet (grace) or not at all (exempt) says so and until when.
  const state = result.posture_state ?? (result.source === 'server' ? stateOfVerdict(result, now) : null);
  const stateText = result.quarantined ? null : postureStateText(state, result.findings, now);
  if (stateText !== null) lines.push(`${label('Posture:')}${color.yellow(stateText)}`);
  if (result.quarantined) lines.push(`${label('Quarantine:')}${color.red.bold('QUARANTINED')} (enforce mode: this device has no access until it is compliant)`);
  if (result.violations.length > 0) {
    lines.push('Violations:');
    // Each violation, then when it blocks or until when it is exempt, then how to fix it on this OS.
    result.violations.forEach((violation, index) => {
      lines.push(`  - ${escapeUnsafe(violation)}`);
      const finding = findingFor(violation, index, result.findings);
      const when = finding ? findingWhen(finding, now) : null;
      if (when !== null) lines.push(`      ${color.yellow(when)}`);
      const fix = fixFor(violation, report.platform);
      if (fix !== undefined) lines.push(color.dim(`      fix: ${fix}`));
    });
  }
  if (result.policies) lines.push(...renderSelection(result.policies, color));
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
