/**
 * Pure formatting for the dashboard (no DOM): times shown relative and absolute, signal
 * values, violation findings and audit events in words. Unit-tested in test/dashboard.
 * Signals and requirements come from the shared catalogue (src/shared/signals.ts).
 */
import type { PostureFinding, RequirementSpec, SignalKey } from '../shared/signals.ts';
import { SIGNALS as CATALOGUE, fixFor, signalSpec } from '../shared/signals.ts';

/** "just now", "45 s ago", "3 min ago", "2 h ago", "5 d ago"; "in 3 min" for the future. */
export function relativeTime(iso: string | null | undefined, now: number): string {
  if (!iso) return 'never';
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return 'unknown';
  const seconds = Math.round((now - time) / 1000);
  const future = seconds < 0;
  const s = Math.abs(seconds);
  if (s < 5) return 'just now';
  let text: string;
  if (s < 60) text = `${s} s`;
  else if (s < 3600) text = `${Math.floor(s / 60)} min`;
  else if (s < 86_400) text = `${Math.floor(s / 3600)} h`;
  else text = `${Math.floor(s / 86_400)} d`;
  return future ? `in ${text}` : `${text} ago`;
}

/** "2026-11-21 12:00:03 UTC": absolute, unambiguous, the same for every admin. */
export function absoluteTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return iso;
  return `${new Date(time).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export type { SignalKey } from '../shared/signals.ts';

/** The signals in catalogue order (src/shared/signals.ts), as the device page lists them. */
export const SIGNALS: ReadonlyArray<{ key: SignalKey; label: string }> = CATALOGUE.map(({ key, label }) => ({ key, label }));

export function signalValue(key: SignalKey, value: unknown): string {
  if (value === null || value === undefined) return 'unknown';
  const kind = signalSpec(key).kind;
  if (kind === 'days') return `${String(value)} day${value === 1 ? '' : 's'}`;
  if (kind === 'text' || kind === 'version') return String(value);
  return value === true ? 'enabled' : 'disabled';
}

/** A violation as the dashboard gets it: a finding (SPEC 7.2), or a bare code from an older record. */
export type ViolationLike = PostureFinding | string;

const codeOf = (violation: ViolationLike) => (typeof violation === 'string' ? violation : violation.code);

/** A short label for a violation chip: "disk encryption", "patch age 45 > 30 d", "OS 13.6 < 14.4". */
export function violationLabel(violation: ViolationLike): string {
  if (typeof violation === 'string') return violation; // an older record: shown as it was written
  const observed = violation.observed === null ? 'unknown' : String(violation.observed);
  switch (violation.code) {
    case 'patch_age_exceeded':
      return `patch age ${observed} > ${String(violation.limit)} d`;
    case 'os_version_too_old':
      return `OS ${observed} < ${String(violation.limit)}`;
    case 'agent_version_too_old':
      return `agent ${observed} < ${String(violation.limit)}`;
    case 'posture_report_expired':
      return 'report expired';
    default:
      return violation.signal in SIGNAL_LABELS ? (SIGNAL_LABELS[violation.signal] as string).toLowerCase() : violation.code;
  }
}

const SIGNAL_LABELS: Readonly<Record<string, string>> = Object.fromEntries(CATALOGUE.map(({ key, label }) => [key, label]));

/** The signal a violation is about (for the device page's signal table), or null. */
export function violationSignal(violation: ViolationLike): string | null {
  return typeof violation === 'string' ? null : violation.signal in SIGNAL_LABELS ? violation.signal : null;
}

/** One sentence saying what a violation means and what fixes it on the device's platform. */
export function violationExplanation(violation: ViolationLike, platform?: string | null): string {
  if (typeof violation === 'string') return `Recorded as ${violation}.`;
  if (violation.code === 'posture_report_expired') return 'The device has not reported its posture recently enough: start the agent (`ztna daemon` or the service).';
  const fix = fixFor(violation.code, platform);
  return `${violation.message}.${fix ? ` To fix: ${fix}.` : ''}`;
}

/**
 * What a (combined) requirement asks, in words, or null when it asks nothing:
 * "required", "≤ 30 days", "≥ 0.2.0", "darwin ≥ 14.4, windows ≥ 10.0.22631". With a
 * platform, a per-platform minimum is told for that platform only.
 */
export function requirementText(requirement: RequirementSpec, value: unknown, platform?: string | null): string | null {
  switch (requirement.kind) {
    case 'flag':
      return value === true ? 'required' : null;
    case 'max':
      return typeof value === 'number' ? `≤ ${value} days` : null;
    case 'min_version':
      return typeof value === 'string' ? `≥ ${value}` : null;
    case 'min_version_by_platform': {
      if (value === null || typeof value !== 'object') return null;
      const minimums = Object.entries(value as Record<string, string>).filter(([name]) => platform === undefined || name === platform);
      if (minimums.length === 0) return null;
      return platform === undefined ? minimums.map(([name, minimum]) => `${name} ≥ ${minimum}`).join(', ') : `≥ ${(minimums[0] as [string, string])[1]}`;
    }
  }
}

/** The violation code of a violation, for titles and filters. */
export function violationCode(violation: ViolationLike): string {
  return codeOf(violation);
}

const EVENTS: Record<string, string> = {
  'machine.auto_quarantine': 'Quarantined (posture)',
  'machine.auto_unquarantine': 'Released (compliant)',
  'machine.manual_quarantine': 'Quarantined by an admin',
  'machine.manual_unquarantine': 'Released by an admin',
  'machine.registered': 'Enrolled',
  'machine.deleted': 'Deleted',
  'machine.exemption_changed': 'Exemption changed',
  'org.settings_updated': 'Settings changed',
  'posture.policy_changed': 'Policy changed',
  'ai.auto_remediation_prepared': 'Remediation prepared',
  'agent_command.result': 'Remediation result',
};

export const AUDIT_EVENTS: readonly string[] = Object.keys(EVENTS);

export function eventLabel(event: string): string {
  return EVENTS[event] ?? event;
}

/** "bad", "good" or "neutral": how an audit event is coloured. */
export function eventTone(event: string): 'bad' | 'good' | 'neutral' {
  if (event.endsWith('_quarantine') && !event.endsWith('unquarantine')) return 'bad';
  if (event.endsWith('unquarantine')) return 'good';
  return 'neutral';
}

function show(value: unknown): string {
  if (value === null || value === undefined) return 'none';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** One line summarising an audit event's details. */
export function auditSummary(event: string, details: Record<string, unknown>): string {
  // Events since SPEC 7.2 carry findings; older ones only the violation strings, shown as written.
  const violations: ViolationLike[] | null = Array.isArray(details.findings)
    ? (details.findings as PostureFinding[])
    : Array.isArray(details.violations)
      ? (details.violations as unknown[]).map(String)
      : null;
  switch (event) {
    case 'machine.auto_quarantine':
      return violations ? `violations: ${violations.map(violationLabel).join(', ')}${details.reason === 'expired' ? ' (report expired)' : ''}` : '';
    case 'machine.auto_unquarantine':
      return details.exempt === true ? 'posture exemption' : 'a compliant report';
    case 'machine.manual_quarantine':
    case 'machine.manual_unquarantine':
      if (details.previous_reason !== undefined) return `was quarantined for ${show(details.previous_reason)}`;
      return details.previous_status !== undefined ? `was ${show(details.previous_status)}` : '';
    case 'machine.registered':
      return [details.hostname, details.os].filter((part) => part !== null && part !== undefined).map(String).join(', ');
    case 'machine.deleted':
      return show(details.hostname);
    case 'machine.exemption_changed':
    case 'org.settings_updated': {
      const changes = details.changes as Record<string, { from: unknown; to: unknown }> | undefined;
      if (!changes) return '';
      return Object.entries(changes)
        .map(([key, change]) => `${key}: ${show(change?.from)} → ${show(change?.to)}`)
        .join('; ');
    }
    case 'posture.policy_changed': {
      const policy = details.policy as { name?: unknown } | undefined;
      const changes = details.changes as Record<string, unknown> | undefined;
      const what = changes ? `: ${Object.entries(changes).map(([key, value]) => `${key} = ${show(value)}`).join(', ')}` : '';
      return `${show(details.action)} “${show(policy?.name)}”${what}`;
    }
    case 'ai.auto_remediation_prepared':
      return `${show(details.command)} for ${show(details.violation)}`;
    case 'agent_command.result':
      return [details.command, details.status].filter((part) => part !== undefined).map(show).join(': ');
    default:
      return Object.keys(details).length > 0 ? JSON.stringify(details).slice(0, 200) : '';
  }
}

/** Text a device list search matches against. */
export function searchText(machine: { hostname: string; os: string | null; os_version: string | null; tags: readonly string[]; id: string }): string {
  return [machine.hostname, machine.os ?? '', machine.os_version ?? '', machine.tags.join(' '), machine.id].join(' ').toLowerCase();
}
