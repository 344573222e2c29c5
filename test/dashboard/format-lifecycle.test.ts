/**
 * The dashboard's pure helpers for the policy lifecycle (SPEC 7.3; src/dashboard/format.ts
 * and src/dashboard/exemptions.ts): countdowns, local times, durations, tags, targeting in
 * words, and a machine's exemption history.
 */
import { describe, expect, it } from 'vitest';
import { exemptionHistory } from '../../src/dashboard/exemptions.ts';
import {
  MAX_EXEMPTION_S,
  MAX_GRACE_S,
  TAG_PATTERN,
  VIOLATION_CODES,
  auditSummary,
  blocksAt,
  blocksIn,
  codeLabel,
  countdown,
  durationText,
  eventLabel,
  exemptionCodesText,
  graceDeadline,
  localTime,
  parseDuration,
  parseTags,
  scopeText,
  splitDuration,
  until,
} from '../../src/dashboard/format.ts';
import type { AuditRow, ExemptionRow } from '../../src/dashboard/types.ts';
import { MAX_EXEMPTION_S as SERVER_MAX_EXEMPTION_S } from '../../src/server/domain/tables/posture-exemptions.ts';
import { MAX_GRACE_PERIOD_S, TAG } from '../../src/shared/posture-schemas.ts';
import type { PostureFinding } from '../../src/shared/signals.ts';
import { REQUIREMENTS } from '../../src/shared/signals.ts';

const NOW = Date.parse('2026-12-02T18:47:00.000Z');
const later = (seconds: number) => new Date(NOW + seconds * 1000).toISOString();
const PARIS = { locale: 'en-GB', timeZone: 'Europe/Paris' };

describe('countdowns', () => {
  it('count down in whole units, never promising more time than is left', () => {
    expect(countdown(later(2 * 86_400), NOW)).toBe('in 2 days');
    expect(countdown(later(2 * 86_400 - 1), NOW)).toBe('in 1 day 23 h');
    expect(countdown(later(86_400), NOW)).toBe('in 1 day');
    expect(countdown(later(3 * 86_400 + 5 * 3600), NOW)).toBe('in 3 days');
    expect(countdown(later(12 * 3600 - 60), NOW)).toBe('in 11 h 59 min');
    expect(countdown(later(5 * 3600), NOW)).toBe('in 5 h');
    expect(countdown(later(12 * 60 + 59), NOW)).toBe('in 12 min');
    expect(countdown(later(45.9), NOW)).toBe('in 45 s');
    expect(countdown(later(0.4), NOW)).toBe('now');
    expect(countdown(later(-30), NOW)).toBe('now');
    expect(countdown(NOW + 90_000, NOW)).toBe('in 1 min');
    expect(countdown('not a date', NOW)).toBe('at an unknown time');
    // Compact, for a table cell: the largest unit only, still rounded down.
    expect(countdown(later(2 * 86_400 - 1), NOW, true)).toBe('in 1 day');
    expect(countdown(later(12 * 3600 - 60), NOW, true)).toBe('in 11 h');
    expect(countdown(later(12 * 60 + 59), NOW, true)).toBe('in 12 min');
  });

  it('say when a device blocks, in the devices list and on its page (local time, zone named)', () => {
    expect(blocksIn(later(2 * 86_400), NOW)).toBe('blocks in 2 days');
    expect(blocksIn(later(12 * 3600 - 60), NOW)).toBe('blocks in 11 h');
    expect(blocksIn(later(5), NOW)).toBe('blocks in 5 s');
    expect(blocksIn(later(-1), NOW)).toBe('blocks now');
    const at = '2026-12-03T06:47:00.000Z';
    expect(localTime(at, PARIS)).toMatch(/^Thu,? 3 Dec 2026,? 07:47 CET$/);
    expect(localTime(at, { locale: 'en-GB', timeZone: 'UTC' })).toMatch(/06:47 UTC$/);
    expect(localTime(null)).toBe('—');
    expect(localTime('garbage')).toBe('garbage');
    expect(blocksAt(at, NOW, PARIS)).toMatch(/^blocks at Thu,? 3 Dec 2026,? 07:47 CET \(in 12 h\)$/);
    expect(blocksAt(at, Date.parse(at) + 1000, PARIS)).toMatch(/^grace ended at .* \(blocks now\)$/);
    expect(until(later(6 * 86_400), NOW, PARIS)).toMatch(/^until Tue,? 8 Dec 2026,? 19:47 CET \(in 6 days\)$/);
    expect(until(later(-60), NOW, PARIS)).toMatch(/^ended at /);
  });

  it('take a machine’s grace deadline from grace_until, else its earliest future blocks_at not exempt', () => {
    const finding = (code: string, extra: Partial<PostureFinding>): PostureFinding => ({ code, signal: 'x', required: true, observed: false, limit: null, message: code, ...extra });
    const findings = [finding('a', { blocks_at: later(600) }), finding('b', { blocks_at: later(60), exempt_until: later(9000) }), finding('c', { blocks_at: later(-5) }), finding('d', { blocks_at: later(300) })];
    expect(graceDeadline('grace', later(100), findings, NOW)).toBe(later(100));
    expect(graceDeadline('grace', null, findings, NOW)).toBe(later(300));
    expect(graceDeadline('grace', null, ['firewall_required'], NOW)).toBeNull();
    expect(graceDeadline('failing', later(100), findings, NOW)).toBeNull();
  });
});

describe('durations', () => {
  it('read as words and split into the largest whole unit', () => {
    expect(durationText(0)).toBe('none');
    expect(durationText(172_800)).toBe('2 days');
    expect(durationText(129_600)).toBe('1 day 12 h');
    expect(durationText(43_200)).toBe('12 h');
    expect(durationText(5400)).toBe('1 h 30 min');
    expect(durationText(90)).toBe('1 min 30 s');
    expect(splitDuration(172_800)).toEqual({ amount: 2, unit: 'days' });
    expect(splitDuration(43_200)).toEqual({ amount: 12, unit: 'hours' });
    expect(splitDuration(5400)).toEqual({ amount: 90, unit: 'minutes' });
    expect(splitDuration(90)).toEqual({ amount: 1.5, unit: 'minutes' });
    expect(splitDuration(0)).toEqual({ amount: 0, unit: 'days' });
  });

  it('are parsed into whole seconds, with a message naming the field when they cannot be', () => {
    const grace = { min: 0, max: MAX_GRACE_S };
    expect(parseDuration('2', 'days', 'Grace period', grace)).toEqual({ seconds: 172_800 });
    expect(parseDuration('1.5', 'hours', 'Grace period', grace)).toEqual({ seconds: 5400 });
    expect(parseDuration(' 0 ', 'days', 'Grace period', grace)).toEqual({ seconds: 0 });
    expect(parseDuration('365', 'days', 'Grace period', grace)).toEqual({ seconds: MAX_GRACE_S });
    expect(parseDuration('366', 'days', 'Grace period', grace)).toEqual({ error: 'Grace period: at most 365 days.' });
    expect(parseDuration('-1', 'hours', 'Grace period', grace)).toEqual({ error: 'Grace period: a number of hours, 0 or more.' });
    expect(parseDuration('', 'days', 'Grace period', grace)).toEqual({ error: 'Grace period: a number of days, 0 or more.' });
    expect(parseDuration('soon', 'days', 'Grace period', grace)).toEqual({ error: 'Grace period: a number of days, 0 or more.' });
    const exemption = { min: 60, max: MAX_EXEMPTION_S };
    expect(parseDuration('90', 'days', 'Ends in', exemption)).toEqual({ seconds: 90 * 86_400 });
    expect(parseDuration('91', 'days', 'Ends in', exemption)).toEqual({ error: 'Ends in: at most 90 days.' });
    expect(parseDuration('0', 'days', 'Ends in', exemption)).toEqual({ error: 'Ends in: at least 1 min.' });
    expect(parseDuration('-2', 'days', 'Ends in', exemption)).toEqual({ error: 'Ends in: a number of days greater than 0.' });
  });

  it('follow the server’s limits', () => {
    expect(MAX_GRACE_S).toBe(MAX_GRACE_PERIOD_S);
    expect(MAX_EXEMPTION_S).toBe(SERVER_MAX_EXEMPTION_S);
    expect(TAG_PATTERN.source).toBe(TAG.source);
  });
});

describe('targeting', () => {
  it('reads tags typed with commas or spaces; none typed means every device', () => {
    expect(parseTags('')).toEqual({ tags: null });
    expect(parseTags(' ,  ')).toEqual({ tags: null });
    expect(parseTags('finance, eng-laptops  finance')).toEqual({ tags: ['finance', 'eng-laptops'] });
    expect(parseTags('Finance')).toEqual({ error: expect.stringMatching(/^Tags: “Finance” is not a tag \(did you mean “finance”\?\)\. Tags are lower-case letters, digits and dashes/) });
    expect(parseTags('ok, -bad')).toEqual({ error: expect.stringMatching(/^Tags: “-bad” is not a tag\. /) });
    expect(parseTags(Array.from({ length: 33 }, (_, index) => `t${index}`).join(' '))).toEqual({ error: 'Tags: at most 32 tags.' });
  });

  it('says which devices a policy applies to', () => {
    expect(scopeText(null, null)).toBe('every device');
    expect(scopeText(['darwin', 'windows', 'linux'], null)).toBe('every device');
    expect(scopeText(['darwin'], null)).toBe('macOS devices');
    expect(scopeText(['darwin', 'windows'], ['finance'])).toBe('macOS and Windows devices tagged finance');
    expect(scopeText(null, ['finance', 'eng'])).toBe('devices tagged finance or eng');
  });
});

describe('exemptions', () => {
  it('name every violation code an exemption can cover, in catalogue order', () => {
    expect(VIOLATION_CODES).toEqual([...REQUIREMENTS.map((requirement) => requirement.code), 'posture_report_expired']);
    expect(codeLabel('firewall_required')).toBe('Firewall');
    expect(codeLabel('os_version_too_old')).toBe('OS Version');
    expect(codeLabel('agent_version_too_old')).toBe('Agent version');
    expect(codeLabel('posture_report_expired')).toBe('Report expired');
    expect(codeLabel('custom_code')).toBe('custom_code');
    expect(exemptionCodesText(null)).toBe('all violations');
    expect(exemptionCodesText(['firewall_required', 'patch_'])).toBe('firewall_required, patch_');
  });

  it('read in the audit log', () => {
    expect(eventLabel('machine.exemption_granted')).toBe('Exemption granted');
    expect(eventLabel('machine.exemption_expired')).toBe('Exemption ended');
    expect(eventLabel('machine.grace_started')).toBe('Grace period started');
    expect(auditSummary('machine.exemption_granted', { codes: ['firewall_required'], reason: 'new laptop on order', expires_at: '2026-12-09T18:47:00.000Z' })).toBe('firewall_required until 2026-12-09 18:47:00 UTC: new laptop on order');
    expect(auditSummary('machine.exemption_expired', { codes: null, reason: 'travel', ended_early: true })).toBe('all violations, ended early (was: travel)');
    expect(auditSummary('machine.exemption_expired', { codes: null, reason: 'travel' })).toBe('all violations, expired (was: travel)');
    const finding = { code: 'disk_encryption_required', signal: 'disk_encrypted', required: true, observed: false, limit: null, message: 'Disk encryption is off' };
    expect(auditSummary('machine.grace_started', { blocks_at: '2026-12-03T06:47:00.000Z', findings: [finding] })).toBe('blocks at 2026-12-03 06:47:00 UTC: disk encryption');
  });

  it('list a machine’s exemptions: active first (soonest end first), then ended ones — expired rows and those ended early, told by the audit log', () => {
    const row = (id: string, expires: number, extra: Partial<ExemptionRow> = {}): ExemptionRow => ({
      id,
      machine_id: 'm1',
      codes: null,
      reason: `reason ${id}`,
      expires_at: later(expires),
      created_by: 'admin:x',
      created_at: later(-86_400),
      ended_at: null,
      ...extra,
    });
    const event = (name: string, id: string, at: number, details: Record<string, unknown>, actor = 'admin:y'): AuditRow => ({
      id: `${name}-${id}`,
      event: name,
      machine_id: 'm1',
      actor,
      details: { exemption_id: id, ...details },
      created_at: later(at),
    });
    const rows = [row('late', 7 * 86_400), row('soon', 3600, { codes: ['firewall_required'] }), row('expired', -600, { ended_at: later(-599) }), row('unswept', -5)];
    const events = [
      event('machine.exemption_expired', 'gone', -60, { codes: ['patch_'], reason: 'old laptop', expires_at: later(86_400), ended_early: true }),
      event('machine.exemption_granted', 'gone', -7200, { codes: ['patch_'], reason: 'old laptop', expires_at: later(86_400) }, 'admin:granter'),
      // The sweeper's end of a row still listed, and an early end of a row still there (not deleted yet): not twice.
      event('machine.exemption_expired', 'expired', -599, { codes: null, reason: 'reason expired' }, 'system'),
      event('machine.exemption_expired', 'late', -1, { ended_early: true }),
    ];
    const views = exemptionHistory(rows, events, NOW);
    expect(views.map((view) => [view.id, view.state])).toEqual([
      ['soon', 'active'],
      ['late', 'active'],
      ['unswept', 'expired'],
      ['gone', 'ended_early'],
      ['expired', 'expired'],
    ]);
    expect(views.find((view) => view.id === 'gone')).toEqual({
      id: 'gone',
      codes: ['patch_'],
      reason: 'old laptop',
      expires_at: later(86_400),
      created_by: 'admin:granter',
      created_at: later(-7200),
      state: 'ended_early',
      ended_at: later(-60),
      ended_by: 'admin:y',
    });
    expect(views.find((view) => view.id === 'unswept')?.ended_at).toBe(later(-5));
    expect(exemptionHistory([], [], NOW)).toEqual([]);
  });
});
