/**
 * Pure formatting for the dashboard (no DOM): times shown relative and absolute, signal
 * values, violation findings and audit events in words. Unit-tested in test/dashboard.
 * Signals and requirements come from the shared catalogue (src/shared/signals.ts).
 */
import type { Platform, PostureFinding, RequirementSpec, SignalKey } from '../shared/signals.ts';
import { SIGNALS as CATALOGUE, PLATFORMS, REPORT_EXPIRED, REQUIREMENTS, fixFor, signalSpec } from '../shared/signals.ts';

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
  'machine.exemption_granted': 'Exemption granted',
  'machine.exemption_expired': 'Exemption ended',
  'machine.grace_started': 'Grace period started',
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
    case 'machine.exemption_granted':
      return `${exemptionCodesText(details.codes)} until ${absoluteTime(typeof details.expires_at === 'string' ? details.expires_at : null)}${typeof details.reason === 'string' ? `: ${details.reason}` : ''}`;
    case 'machine.exemption_expired':
      return `${exemptionCodesText(details.codes)}${details.ended_early === true ? ', ended early' : ', expired'}${typeof details.reason === 'string' ? ` (was: ${details.reason})` : ''}`;
    case 'machine.grace_started': {
      const findings = Array.isArray(details.findings) ? (details.findings as PostureFinding[]) : [];
      const until = typeof details.blocks_at === 'string' ? `blocks at ${absoluteTime(details.blocks_at)}` : 'in grace';
      return findings.length > 0 ? `${until}: ${findings.map(violationLabel).join(', ')}` : until;
    }
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

// ---------------------------------------------------------------------------------------
// Policy lifecycle (SPEC 7.3): grace countdowns, exemptions, targeting.

/**
 * How long until `at`, for a countdown: "in 2 days", "in 1 day 23 h", "in 5 h 12 min",
 * "in 12 min", "in 45 s", or "now" once it has passed. Whole units rounded down, so it
 * never promises more time than is left. `compact`: the largest unit only ("in 1 day",
 * "in 5 h"), for a table cell.
 */
export function countdown(at: string | number, now: number, compact = false): string {
  const time = typeof at === 'number' ? at : Date.parse(at);
  if (Number.isNaN(time)) return 'at an unknown time';
  const s = Math.floor((time - now) / 1000);
  if (s <= 0) return 'now';
  if (s < 60) return `in ${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `in ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `in ${hours} h${!compact && minutes % 60 > 0 ? ` ${minutes % 60} min` : ''}`;
  const days = Math.floor(hours / 24);
  const rest = hours % 24;
  return `in ${days} day${days === 1 ? '' : 's'}${!compact && days < 3 && rest > 0 ? ` ${rest} h` : ''}`;
}

/** Where a local time is shown: the browser's own locale and zone unless given (tests). */
export interface LocalTimeOptions {
  locale?: string;
  timeZone?: string;
}

/** "Thu, 3 Dec 2026, 07:47 CET": a time in the admin's own zone, named. */
export function localTime(iso: string | null | undefined, options: LocalTimeOptions = {}): string {
  if (!iso) return '—';
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return iso;
  return new Intl.DateTimeFormat(options.locale, {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
    ...(options.timeZone ? { timeZone: options.timeZone } : {}),
  }).format(time);
}

/** The devices list's countdown, one line: "blocks in 2 days", "blocks in 11 h", then "blocks now" once grace is over. */
export function blocksIn(iso: string, now: number): string {
  return `blocks ${countdown(iso, now, true)}`;
}

/** The device page's: "blocks at Thu, 3 Dec 2026, 07:47 CET (in 2 days)"; "grace ended at … (blocks now)" after. */
export function blocksAt(iso: string, now: number, options: LocalTimeOptions = {}): string {
  const left = countdown(iso, now);
  return left === 'now' ? `grace ended at ${localTime(iso, options)} (blocks now)` : `blocks at ${localTime(iso, options)} (${left})`;
}

/** An end: "until Thu, 3 Dec 2026, 07:47 CET (in 6 days)"; "ended at …" once passed. */
export function until(iso: string, now: number, options: LocalTimeOptions = {}): string {
  const left = countdown(iso, now);
  return left === 'now' ? `ended at ${localTime(iso, options)}` : `until ${localTime(iso, options)} (${left})`;
}

const DURATION_UNITS = [
  { unit: 'days', seconds: 86_400, short: (n: number) => `${n} day${n === 1 ? '' : 's'}` },
  { unit: 'hours', seconds: 3600, short: (n: number) => `${n} h` },
  { unit: 'minutes', seconds: 60, short: (n: number) => `${n} min` },
  { unit: 'seconds', seconds: 1, short: (n: number) => `${n} s` },
] as const;

export type DurationUnit = 'days' | 'hours' | 'minutes';

/** A duration in words: "none" for 0, "2 days", "1 day 12 h", "90 min" → "1 h 30 min". */
export function durationText(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds <= 0) return 'none';
  let rest = Math.round(seconds);
  const parts: string[] = [];
  for (const { seconds: size, short } of DURATION_UNITS) {
    const count = Math.floor(rest / size);
    if (count > 0) parts.push(short(count));
    rest -= count * size;
  }
  return parts.join(' ');
}

/** The largest of days / hours / minutes that shows `seconds` as a whole number (minutes otherwise; 0 is 0 days). */
export function splitDuration(seconds: number): { amount: number; unit: DurationUnit } {
  if (seconds % 86_400 === 0) return { amount: seconds / 86_400, unit: 'days' };
  if (seconds > 0 && seconds % 3600 === 0) return { amount: seconds / 3600, unit: 'hours' };
  return { amount: seconds / 60, unit: 'minutes' };
}

const UNIT_SECONDS: Readonly<Record<DurationUnit, number>> = { days: 86_400, hours: 3600, minutes: 60 };

/**
 * Reads a duration typed as an amount of a unit: whole seconds, or the reason it is not
 * one. `what` names the field in the message; `max` is in seconds.
 */
export function parseDuration(raw: string, unit: DurationUnit, what: string, limits: { min: number; max: number }): { seconds: number } | { error: string } {
  const text = raw.trim();
  const amount = text === '' ? Number.NaN : Number(text);
  if (!Number.isFinite(amount) || amount < 0) return { error: `${what}: a number of ${unit}${limits.min > 0 ? ' greater than 0' : ', 0 or more'}.` };
  const seconds = Math.round(amount * UNIT_SECONDS[unit]);
  if (seconds < limits.min) return { error: `${what}: at least ${durationText(limits.min)}.` };
  if (seconds > limits.max) return { error: `${what}: at most ${durationText(limits.max)}.` };
  return { seconds };
}

/**
 * SPEC 7.1's tag pattern. The same as src/shared/posture-schemas.ts's TAG (a unit test
 * checks): not imported, as that module brings zod into the browser bundle.
 */
export const TAG_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** The longest grace a policy may give (src/shared/posture-schemas.ts MAX_GRACE_PERIOD_S). */
export const MAX_GRACE_S = 365 * 86_400;
/** The furthest an exemption may end (SPEC 7.3: 90 days ahead). */
export const MAX_EXEMPTION_S = 90 * 86_400;
export const MAX_POLICY_TAGS = 32;

/** Tags typed as "finance, eng-laptops" (commas or spaces): the list (null: none typed = every device), or why not. */
export function parseTags(raw: string): { tags: string[] | null } | { error: string } {
  const words = raw.split(/[\s,]+/).filter((word) => word !== '');
  if (words.length === 0) return { tags: null };
  const bad = words.find((word) => !TAG_PATTERN.test(word));
  if (bad !== undefined) {
    const hint = TAG_PATTERN.test(bad.toLowerCase()) ? ` (did you mean “${bad.toLowerCase()}”?)` : '';
    return { error: `Tags: “${bad}” is not a tag${hint}. Tags are lower-case letters, digits and dashes, starting with a letter or digit, at most 63 characters.` };
  }
  const tags = [...new Set(words)];
  if (tags.length > MAX_POLICY_TAGS) return { error: `Tags: at most ${MAX_POLICY_TAGS} tags.` };
  return { tags };
}

const PLATFORM_NAMES: Readonly<Record<Platform, string>> = { darwin: 'macOS', windows: 'Windows', linux: 'Linux' };

export function platformName(platform: string): string {
  return (PLATFORM_NAMES as Readonly<Record<string, string>>)[platform] ?? platform;
}

/** Which devices a policy applies to, in words: "every device", "macOS and Windows devices tagged finance or eng". */
export function scopeText(platforms: readonly string[] | null, tags: readonly string[] | null): string {
  const all = platforms === null || PLATFORMS.every((platform) => platforms.includes(platform));
  const names = all ? [] : (platforms ?? []).map(platformName);
  const which = names.length === 0 ? '' : names.length === 1 ? `${names[0]} ` : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]} `;
  const tagged = tags === null || tags.length === 0 ? '' : ` tagged ${tags.join(' or ')}`;
  return which === '' && tagged === '' ? 'every device' : `${which}devices${tagged}`;
}

/** Every violation code, in catalogue order (what an exemption can name). */
export const VIOLATION_CODES: readonly string[] = [...REQUIREMENTS.map((requirement) => requirement.code), REPORT_EXPIRED.code];

/** A violation code in words: "Firewall", "Patch age", "Agent version", "Report expired". */
export function codeLabel(code: string): string {
  if (code === REPORT_EXPIRED.code) return 'Report expired';
  const requirement = REQUIREMENTS.find((entry) => entry.code === code);
  if (!requirement) return code;
  const label = SIGNAL_LABELS[requirement.subject] ?? requirement.subject.replace(/_/g, ' ');
  return label.charAt(0).toUpperCase() + label.slice(1);
}

/** What an exemption covers: "all violations", or "firewall_required, patch_age_exceeded". */
export function exemptionCodesText(codes: unknown): string {
  return Array.isArray(codes) && codes.length > 0 ? codes.map(String).join(', ') : 'all violations';
}

/**
 * When a machine in grace will be blocked: its `grace_until` (what the server's sweeper
 * acts on), else the earliest future `blocks_at` among its findings that no exemption
 * covers. Null when it is not in grace.
 */
export function graceDeadline(state: string, graceUntil: string | null | undefined, findings: readonly ViolationLike[], now: number): string | null {
  if (state !== 'grace') return null;
  if (graceUntil) return graceUntil;
  let earliest: string | null = null;
  for (const finding of findings) {
    if (typeof finding === 'string' || finding.blocks_at === undefined || finding.exempt_until !== undefined) continue;
    const time = Date.parse(finding.blocks_at);
    if (Number.isNaN(time) || time <= now) continue;
    if (earliest === null || time < Date.parse(earliest)) earliest = finding.blocks_at;
  }
  return earliest;
}
