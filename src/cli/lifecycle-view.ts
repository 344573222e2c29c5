/**
 * How the CLI tells a person about grace periods and exemptions (SPEC 7.3): when a
 * violation blocks, until when it is exempt, and whether the device as a whole is in grace.
 * Pure functions of the server's findings and a clock (`now`, injected for tests); times are
 * shown in the local time zone with its name, and relative to now (timeUntil).
 */
import { timeUntil } from '../shared/lifecycle.ts';
import { escapeUnsafe } from '../shared/text.ts';

/** The fields of a finding this module reads. */
export interface TimedFinding {
  readonly code: string;
  readonly blocks_at?: string | undefined;
  readonly exempt_until?: string | undefined;
}

/** Milliseconds since the epoch, or null for a value that is not a time. */
export function timeOf(value: string | null | undefined): number | null {
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** "2026-12-04 18:44 UTC": local date and time (to the minute) and the zone's short name. */
export function localTime(ms: number): string {
  const at = new Date(ms);
  let zone: string | undefined;
  try {
    zone = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(at).find((part) => part.type === 'timeZoneName')?.value;
  } catch (error) {
    // A runtime without time zone data: show the offset instead of a name.
    if (!(error instanceof RangeError)) throw error;
  }
  if (zone === undefined) {
    const offset = -at.getTimezoneOffset();
    zone = `${offset < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  }
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${pad(at.getHours())}:${pad(at.getMinutes())} ${zone}`;
}

/** A server-sent time for people: local, or the text itself (escaped) when it is not a time. */
function shown(value: string): string {
  const ms = timeOf(value);
  return ms === null ? escapeUnsafe(value) : localTime(ms);
}

/** "blocks at 2026-12-04 18:44 UTC (in 2 days)", or, once the deadline has passed, "blocking since …". */
export function blocksText(blocksAt: string, now: number): string {
  const ms = timeOf(blocksAt);
  if (ms === null) return `blocks at ${shown(blocksAt)}`;
  return ms > now ? `blocks at ${localTime(ms)} (${timeUntil(ms, now)})` : `blocking since ${localTime(ms)} (its grace period ended)`;
}

/** "exempt until 2026-12-20 00:00 UTC" (or "exemption ended …" for a time already past). */
export function exemptText(exemptUntil: string, now: number): string {
  const ms = timeOf(exemptUntil);
  return ms !== null && ms <= now ? `exemption ended ${localTime(ms)}` : `exempt until ${shown(exemptUntil)}`;
}

/**
 * What one finding's times mean for a person, or null when it carries none: "blocks at …
 * (in 2 days)", "exempt until …", and, for an exemption that ends before the grace period
 * does, "exempt until …, then blocks at …".
 */
export function findingWhen(finding: TimedFinding, now: number): string | null {
  const { blocks_at: blocksAt, exempt_until: exemptUntil } = finding;
  if (exemptUntil !== undefined) {
    const ends = timeOf(exemptUntil);
    const blocks = timeOf(blocksAt);
    if (ends === null || ends > now) {
      return blocksAt !== undefined && (blocks === null || ends === null || blocks > ends) ? `${exemptText(exemptUntil, now)}, then ${blocksText(blocksAt, now)}` : exemptText(exemptUntil, now);
    }
    return blocksAt === undefined ? exemptText(exemptUntil, now) : blocksText(blocksAt, now);
  }
  return blocksAt === undefined ? null : blocksText(blocksAt, now);
}

const future = (value: string | null | undefined, now: number): number | null => {
  const ms = timeOf(value);
  return ms !== null && ms > now ? ms : null;
};

/**
 * When the device blocks unless fixed first: per finding, the later of its grace deadline
 * and its exemption's end (those still ahead); the earliest of those. null when no finding
 * has a time ahead.
 */
export function nextBlock(findings: readonly TimedFinding[], now: number): number | null {
  let earliest: number | null = null;
  for (const finding of findings) {
    const grace = future(finding.blocks_at, now);
    const exempt = future(finding.exempt_until, now);
    if (grace === null && exempt === null) continue;
    const at = Math.max(grace ?? now, exempt ?? now);
    earliest = earliest === null ? at : Math.min(earliest, at);
  }
  return earliest;
}

/** The earliest `exempt_until` still ahead: when an exemption ends first. */
export function nextExemptionEnd(findings: readonly TimedFinding[], now: number): number | null {
  const times = findings.map((finding) => future(finding.exempt_until, now)).filter((ms): ms is number => ms !== null);
  return times.length > 0 ? Math.min(...times) : null;
}

/**
 * The posture_state a verdict shows by itself, as the server judges it (src/shared/lifecycle.ts
 * judge): `compliant` without violations; `grace` when no violation blocks (each is inside its
 * grace period or exempt) and one is in grace; `exempt` when each is exempt. null when the
 * findings cannot tell — a violation with neither time blocks, unless the legacy
 * `posture_exempt` flag (which has no end, so no `exempt_until`) covers it: only the server knows.
 */
export function stateOfVerdict(verdict: { readonly compliant: boolean; readonly findings: readonly TimedFinding[] }, now: number): 'compliant' | 'grace' | 'exempt' | null {
  if (verdict.compliant && verdict.findings.length === 0) return 'compliant';
  if (verdict.findings.length === 0) return null;
  let inGrace = false;
  for (const finding of verdict.findings) {
    const grace = future(finding.blocks_at, now) !== null;
    if (!grace && future(finding.exempt_until, now) === null) return null;
    if (grace) inGrace = true;
  }
  return inGrace ? 'grace' : 'exempt';
}

/**
 * One line for the device's posture_state when it is one a person would not guess from
 * COMPLIANT / NON-COMPLIANT: "in grace — blocks at … (in 2 days)", "exempt until …".
 * null for the others (compliant, failing, pending are shown elsewhere).
 */
export function postureStateText(state: string | null | undefined, findings: readonly TimedFinding[], now: number, graceUntil: string | null = null): string | null {
  if (state === 'grace') {
    const at = nextBlock(findings, now) ?? future(graceUntil, now);
    return at === null ? 'in grace (not blocked yet): run `ztna posture status` to see when it blocks' : `in grace — ${blocksText(new Date(at).toISOString(), now)} unless fixed first`;
  }
  if (state === 'exempt') {
    const ends = nextExemptionEnd(findings, now);
    return ends === null ? 'exempt: violations are recorded, not enforced (no expiry)' : `exempt: violations are recorded, not enforced, ${exemptText(new Date(ends).toISOString(), now)}`;
  }
  return null;
}

/** `ztna status`'s Posture row: every posture_state in words (grace and exempt with their times). */
export function statusPostureText(state: string, findings: readonly TimedFinding[], now: number, blocksAt: string | null): string {
  const special = postureStateText(state, findings, now, blocksAt);
  if (special !== null) return special;
  if (state === 'pending') return 'pending: no current verdict (no report yet, or the last one expired)';
  return escapeUnsafe(state);
}
