/**
 * Pure formatting for the dashboard (no DOM): times shown relative and absolute, signal
 * values, violation codes and audit events in words. Unit-tested in test/dashboard.
 */

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

export type SignalKey = 'disk_encrypted' | 'firewall_enabled' | 'antivirus_enabled' | 'patch_age_days' | 'os_version';

export const SIGNALS: ReadonlyArray<{ key: SignalKey; label: string }> = [
  { key: 'disk_encrypted', label: 'Disk encryption' },
  { key: 'firewall_enabled', label: 'Firewall' },
  { key: 'antivirus_enabled', label: 'Antivirus' },
  { key: 'patch_age_days', label: 'Patch age' },
  { key: 'os_version', label: 'OS version' },
];

export function signalValue(key: SignalKey, value: unknown): string {
  if (value === null || value === undefined) return 'unknown';
  if (key === 'patch_age_days') return `${String(value)} day${value === 1 ? '' : 's'}`;
  if (key === 'os_version') return String(value);
  return value === true ? 'enabled' : 'disabled';
}

/** The signal a violation code is about, or null for the server's own codes. */
export function violationSignal(code: string): SignalKey | null {
  if (code === 'disk_encryption_required') return 'disk_encrypted';
  if (code === 'firewall_required') return 'firewall_enabled';
  if (code === 'antivirus_required') return 'antivirus_enabled';
  if (code.startsWith('patch_age_exceeded')) return 'patch_age_days';
  return null;
}

/** A short label for a violation chip: "disk encryption", "patch age 45 > 30 d". */
export function violationLabel(code: string): string {
  if (code === 'disk_encryption_required') return 'disk encryption';
  if (code === 'firewall_required') return 'firewall';
  if (code === 'antivirus_required') return 'antivirus';
  if (code === 'posture_report_expired') return 'report expired';
  const patch = /^patch_age_exceeded \((\w+) > (\d+) days\)$/.exec(code);
  if (patch) return `patch age ${patch[1]} > ${patch[2]} d`;
  return code;
}

/** One sentence saying what a violation means and what fixes it. */
export function violationExplanation(code: string): string {
  if (code === 'disk_encryption_required') return 'Disk encryption is required, and the device reported it off or could not tell. Turn on FileVault, BitLocker or LUKS.';
  if (code === 'firewall_required') return 'A host firewall is required, and the device reported it off or could not tell. Turn the firewall on (`ztna remediate` can do it when prepared).';
  if (code === 'antivirus_required') return 'An active antivirus or EDR is required, and the device reported none running (or could not tell).';
  if (code === 'posture_report_expired') return 'The device has not reported its posture recently enough: start the agent (`ztna daemon` or the service).';
  const patch = /^patch_age_exceeded \((\w+) > (\d+) days\)$/.exec(code);
  if (patch) {
    return patch[1] === 'unknown'
      ? `Updates must be at most ${patch[2]} days old, and the device could not tell when it was last patched.`
      : `The last OS update is ${patch[1]} days old; at most ${patch[2]} days are allowed. Install the pending updates.`;
  }
  return code;
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
  const violations = Array.isArray(details.violations) ? (details.violations as unknown[]).map(String) : null;
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
      return `${show(details.command)} for ${violationLabel(show(details.violation))}`;
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
