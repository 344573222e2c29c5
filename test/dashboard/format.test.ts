/** The dashboard's pure formatting (src/dashboard/format.ts): times, violations, audit events. */
import { describe, expect, it } from 'vitest';
import { absoluteTime, auditSummary, eventLabel, eventTone, relativeTime, searchText, signalValue, violationExplanation, violationLabel, violationSignal } from '../../src/dashboard/format.ts';

const NOW = Date.parse('2026-11-21T12:00:00.000Z');
const ago = (seconds: number) => new Date(NOW - seconds * 1000).toISOString();

describe('times', () => {
  it('are relative in the largest whole unit, and absolute in UTC', () => {
    expect(relativeTime(ago(2), NOW)).toBe('just now');
    expect(relativeTime(ago(45), NOW)).toBe('45 s ago');
    expect(relativeTime(ago(3 * 60 + 59), NOW)).toBe('3 min ago');
    expect(relativeTime(ago(2 * 3600 + 5), NOW)).toBe('2 h ago');
    expect(relativeTime(ago(5 * 86_400), NOW)).toBe('5 d ago');
    expect(relativeTime(ago(-3 * 60), NOW)).toBe('in 3 min');
    expect(relativeTime(null, NOW)).toBe('never');
    expect(relativeTime('not a date', NOW)).toBe('unknown');
    expect(absoluteTime('2026-11-21T12:00:03.456Z')).toBe('2026-11-21 12:00:03 UTC');
    expect(absoluteTime(null)).toBe('—');
  });
});

describe('signals and violations', () => {
  it('say enabled / disabled / unknown and name each violation', () => {
    expect(signalValue('disk_encrypted', true)).toBe('enabled');
    expect(signalValue('firewall_enabled', false)).toBe('disabled');
    expect(signalValue('antivirus_enabled', null)).toBe('unknown');
    expect(signalValue('patch_age_days', 1)).toBe('1 day');
    expect(signalValue('patch_age_days', 45)).toBe('45 days');
    expect(violationLabel('patch_age_exceeded (45 > 30 days)')).toBe('patch age 45 > 30 d');
    expect(violationLabel('patch_age_exceeded (unknown > 30 days)')).toBe('patch age unknown > 30 d');
    expect(violationLabel('posture_report_expired')).toBe('report expired');
    expect(violationLabel('something_new')).toBe('something_new');
    expect(violationSignal('firewall_required')).toBe('firewall_enabled');
    expect(violationSignal('patch_age_exceeded (45 > 30 days)')).toBe('patch_age_days');
    expect(violationSignal('posture_report_expired')).toBeNull();
    expect(violationExplanation('patch_age_exceeded (45 > 30 days)')).toMatch(/45 days old; at most 30/);
    expect(violationExplanation('patch_age_exceeded (unknown > 30 days)')).toMatch(/could not tell/);
  });
});

describe('audit events', () => {
  it('read as words, with the details that matter', () => {
    expect(eventLabel('machine.auto_quarantine')).toBe('Quarantined (posture)');
    expect(eventLabel('custom.event')).toBe('custom.event');
    expect(eventTone('machine.manual_quarantine')).toBe('bad');
    expect(eventTone('machine.auto_unquarantine')).toBe('good');
    expect(eventTone('org.settings_updated')).toBe('neutral');
    expect(auditSummary('machine.auto_quarantine', { violations: ['firewall_required', 'patch_age_exceeded (45 > 30 days)'], reason: 'posture' })).toBe('violations: firewall, patch age 45 > 30 d');
    expect(auditSummary('org.settings_updated', { changes: { posture_enforcement: { from: 'monitor', to: 'enforce' } } })).toBe('posture_enforcement: monitor → enforce');
    expect(auditSummary('posture.policy_changed', { action: 'updated', changes: { require_firewall: true }, policy: { name: 'baseline' } })).toBe('updated “baseline”: require_firewall = true');
    expect(auditSummary('machine.manual_unquarantine', { previous_reason: 'posture' })).toBe('was quarantined for posture');
    expect(auditSummary('machine.registered', { hostname: 'box', os: null })).toBe('box');
  });

  it('search text covers hostname, OS, tags and id', () => {
    expect(searchText({ id: 'ID-1', hostname: 'Laptop', os: 'darwin', os_version: 'macOS 15', tags: ['finance'] })).toBe('laptop darwin macos 15 finance id-1');
  });
});
