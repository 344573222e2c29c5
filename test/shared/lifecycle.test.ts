/** The pure policy-lifecycle decisions (src/shared/lifecycle.ts, SPEC 7.3). */
import { describe, expect, it } from 'vitest';
import type { ScopedPolicy } from '../../src/shared/lifecycle.ts';
import { appliesTo, applyingPolicies, exemptionCovers, graceByCode, judge, timeUntil } from '../../src/shared/lifecycle.ts';
import { evaluatePosture } from '../../src/shared/posture.ts';
import { requirementsOf } from '../../src/shared/signals.ts';

const policy = (fields: Record<string, unknown>): ScopedPolicy => ({ enabled: true, ...requirementsOf(fields), ...fields }) as ScopedPolicy;
const FAILING = { disk_encrypted: false, firewall_enabled: false, antivirus_enabled: true, patch_age_days: 1, os_version: 'x' };
const NOW = Date.parse('2026-12-02T12:00:00.000Z');
const HOUR = 3_600_000;

describe('appliesTo', () => {
  it.each([
    [{}, { platform: 'linux', tags: [] }, true],
    [{ platforms: ['windows'] }, { platform: 'linux', tags: [] }, false],
    [{ platforms: ['windows', 'linux'] }, { platform: 'linux', tags: [] }, true],
    // An unknown platform: the policy applies (fail closed).
    [{ platforms: ['windows'] }, { platform: null, tags: [] }, true],
    [{ platforms: ['windows'] }, { platform: 'plan9', tags: [] }, true],
    [{ tags: ['prod'] }, { platform: 'linux', tags: [] }, false],
    [{ tags: ['prod', 'db'] }, { platform: 'linux', tags: ['db'] }, true],
    [{ tags: null, platforms: null }, { platform: 'darwin', tags: ['x'] }, true],
  ] as const)('%o on %o → %s', (scope, target, expected) => {
    expect(appliesTo(scope, target)).toBe(expected);
  });

  it('applyingPolicies drops disabled ones', () => {
    const off = { ...policy({ require_firewall: true }), enabled: false };
    expect(applyingPolicies([off, policy({ require_antivirus: true })], { platform: 'linux', tags: [] })).toHaveLength(1);
  });
});

describe('graceByCode', () => {
  it('gives each code the shortest grace among the policies that produce it alone', () => {
    const grace = graceByCode(FAILING, [
      policy({ require_firewall: true, grace_period_s: 600 }),
      policy({ require_firewall: true, require_disk_encryption: true, grace_period_s: 60 }),
      policy({ require_antivirus: true, grace_period_s: 5 }), // antivirus passes: no code
    ]);
    expect([...grace].sort()).toEqual([
      ['disk_encryption_required', 60],
      ['firewall_required', 60],
    ]);
  });
});

describe('judge', () => {
  const verdict = evaluatePosture(FAILING, [policy({ require_firewall: true, require_disk_encryption: true })]);
  const base = { verdict, grace: new Map<string, number>(), firstFailed: new Map<string, number>(), exemptions: [], now: NOW, trackRuns: true };

  it('without grace or exemptions a failure blocks, and its run starts now', () => {
    const judged = judge(base);
    expect(judged).toMatchObject({ blocking: true, state: 'failing', graceUntil: null });
    expect([...judged.runs]).toEqual([
      ['disk_encryption_required', NOW],
      ['firewall_required', NOW],
    ]);
    expect(judged.verdict.findings.every((finding) => finding.blocks_at === undefined)).toBe(true);
  });

  it('inside grace it warns with blocks_at from the first failure; past it, it blocks', () => {
    const grace = new Map([
      ['disk_encryption_required', 2 * 3600],
      ['firewall_required', 3600],
    ]);
    const firstFailed = new Map([['firewall_required', NOW - 30 * 60_000]]);
    const judged = judge({ ...base, grace, firstFailed });
    expect(judged).toMatchObject({ blocking: false, state: 'grace', graceUntil: NOW + 30 * 60_000 });
    expect(judged.verdict.compliant).toBe(false);
    expect(judged.verdict.findings.map((finding) => finding.blocks_at)).toEqual([new Date(NOW + 2 * HOUR).toISOString(), new Date(NOW + 30 * 60_000).toISOString()]);
    expect(judge({ ...base, grace, firstFailed, now: NOW + HOUR })).toMatchObject({ blocking: true, state: 'failing' });
  });

  it('exemptions cover codes by prefix until they end; the legacy flag (no end) has no exempt_until', () => {
    const judged = judge({ ...base, exemptions: [{ codes: ['firewall'], expiresAt: NOW + HOUR }, { codes: ['disk_'], expiresAt: null }] });
    expect(judged).toMatchObject({ blocking: false, state: 'exempt' });
    expect(judged.verdict.findings.map((finding) => finding.exempt_until ?? null)).toEqual([null, new Date(NOW + HOUR).toISOString()]);
    expect(judge({ ...base, exemptions: [{ codes: ['firewall'], expiresAt: NOW }] }).blocking).toBe(true);
    expect(exemptionCovers({ codes: null, expiresAt: null }, 'anything', NOW)).toBe(true);
    expect(exemptionCovers({ codes: ['patch_'], expiresAt: null }, 'firewall_required', NOW)).toBe(false);
  });

  it('outside enforce mode keeps no runs and puts nothing in grace', () => {
    const judged = judge({ ...base, trackRuns: false, grace: new Map([['firewall_required', 3600]]) });
    expect(judged).toMatchObject({ blocking: true, state: 'failing' });
    expect(judged.runs.size).toBe(0);
  });

  it('a compliant verdict is compliant and keeps no runs', () => {
    const judged = judge({ ...base, verdict: evaluatePosture(FAILING, []) });
    expect(judged).toMatchObject({ blocking: false, state: 'compliant' });
    expect(judged.runs.size).toBe(0);
  });
});

describe('timeUntil', () => {
  it.each([
    [-5_000, 'now'],
    [0, 'now'],
    [45_000, 'in 45 s'],
    [10 * 60_000, 'in 10 min'],
    [5 * HOUR, 'in 5 h'],
    [48 * HOUR, 'in 2 days'],
    [36 * HOUR, 'in 2 days'],
    [24 * HOUR + 1, 'in 24 h'],
  ])('%d ms → %s', (delta, text) => {
    expect(timeUntil(NOW + delta, NOW)).toBe(text);
  });
});
