/** The dashboard's pure formatting (src/dashboard/format.ts): times, violations, audit events. */
import { describe, expect, it } from 'vitest';
import { absoluteTime, auditSummary, eventLabel, eventTone, relativeTime, requirementText, searchText, signalValue, violationExplanation, violationLabel, violationSignal } from '../../src/dashboard/format.ts';
import type { PostureFinding, RequirementSpec } from '../../src/shared/signals.ts';
import { REQUIREMENTS } from '../../src/shared/signals.ts';

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

const finding = (code: string, signal: string, observed: unknown, limit: unknown = null) => ({ code, signal, required: true, observed, limit, message: `${signal} is off; the policy requires it` }) as PostureFinding;

describe('signals and violations', () => {
  it('say enabled / disabled / unknown and name each finding', () => {
    expect(signalValue('disk_encrypted', true)).toBe('enabled');
    expect(signalValue('firewall_enabled', false)).toBe('disabled');
    expect(signalValue('antivirus_enabled', null)).toBe('unknown');
    expect(signalValue('screen_lock_enabled', true)).toBe('enabled');
    expect(signalValue('patch_age_days', 1)).toBe('1 day');
    expect(signalValue('patch_age_days', 45)).toBe('45 days');
    expect(signalValue('os_version_number', '14.4.1')).toBe('14.4.1');
    expect(violationLabel(finding('patch_age_exceeded', 'patch_age_days', 45, 30))).toBe('patch age 45 > 30 d');
    expect(violationLabel(finding('patch_age_exceeded', 'patch_age_days', null, 30))).toBe('patch age unknown > 30 d');
    expect(violationLabel(finding('os_version_too_old', 'os_version_number', '13.6.1', '14.4'))).toBe('OS 13.6.1 < 14.4');
    expect(violationLabel(finding('firewall_required', 'firewall_enabled', false))).toBe('firewall');
    expect(violationLabel(finding('screen_lock_required', 'screen_lock_enabled', null))).toBe('screen lock');
    expect(violationLabel(finding('posture_report_expired', 'collected_at', 900, 600))).toBe('report expired');
    // An older record holds only the string: shown as written, never parsed.
    expect(violationLabel('patch_age_exceeded (45 > 30 days)')).toBe('patch_age_exceeded (45 > 30 days)');
    expect(violationSignal(finding('firewall_required', 'firewall_enabled', false))).toBe('firewall_enabled');
    expect(violationSignal(finding('posture_report_expired', 'collected_at', 1, 1))).toBeNull();
    expect(violationSignal('firewall_required')).toBeNull();
    expect(violationExplanation(finding('firewall_required', 'firewall_enabled', false), 'darwin')).toMatch(/policy requires it\. To fix: turn on the firewall \(System Settings/);
  });

  it('say what each requirement asks', () => {
    const spec = (field: string) => REQUIREMENTS.find((requirement) => requirement.field === field) as RequirementSpec;
    expect(requirementText(spec('require_firewall'), true)).toBe('required');
    expect(requirementText(spec('require_firewall'), false)).toBeNull();
    expect(requirementText(spec('max_patch_age_days'), 30)).toBe('≤ 30 days');
    expect(requirementText(spec('min_agent_version'), '0.2.0')).toBe('≥ 0.2.0');
    expect(requirementText(spec('min_os_versions'), { darwin: '14.4', windows: '10.0.22631' })).toBe('darwin ≥ 14.4, windows ≥ 10.0.22631');
    expect(requirementText(spec('min_os_versions'), { darwin: '14.4' }, 'darwin')).toBe('≥ 14.4');
    expect(requirementText(spec('min_os_versions'), { darwin: '14.4' }, 'linux')).toBeNull();
  });
});

describe('audit events', () => {
  it('read as words, with the details that matter', () => {
    expect(eventLabel('machine.auto_quarantine')).toBe('Quarantined (posture)');
    expect(eventLabel('custom.event')).toBe('custom.event');
    expect(eventTone('machine.manual_quarantine')).toBe('bad');
    expect(eventTone('machine.auto_unquarantine')).toBe('good');
    expect(eventTone('org.settings_updated')).toBe('neutral');
    expect(auditSummary('machine.auto_quarantine', { violations: ['firewall_required', 'patch_age_exceeded (45 > 30 days)'], findings: [finding('firewall_required', 'firewall_enabled', false), finding('patch_age_exceeded', 'patch_age_days', 45, 30)], reason: 'posture' })).toBe('violations: firewall, patch age 45 > 30 d');
    expect(auditSummary('machine.auto_quarantine', { violations: ['firewall_required'], reason: 'posture' })).toBe('violations: firewall_required');
    expect(auditSummary('org.settings_updated', { changes: { posture_enforcement: { from: 'monitor', to: 'enforce' } } })).toBe('posture_enforcement: monitor → enforce');
    expect(auditSummary('posture.policy_changed', { action: 'updated', changes: { require_firewall: true }, policy: { name: 'baseline' } })).toBe('updated “baseline”: require_firewall = true');
    expect(auditSummary('machine.manual_unquarantine', { previous_reason: 'posture' })).toBe('was quarantined for posture');
    expect(auditSummary('machine.registered', { hostname: 'box', os: null })).toBe('box');
  });

  it('search text covers hostname, OS, tags and id', () => {
    expect(searchText({ id: 'ID-1', hostname: 'Laptop', os: 'darwin', os_version: 'macOS 15', tags: ['finance'] })).toBe('laptop darwin macos 15 finance id-1');
  });
});
