import { describe, expect, it } from 'vitest';
import type { PosturePolicy, PostureSignals } from '../../src/shared/posture.ts';
import { REQUIREMENTS, requirementDefault } from '../../src/shared/signals.ts';
import { DEFAULT_POLICY, combinePolicies, evaluatePosture } from '../../src/shared/posture.ts';
import { policyFileSchema, postureReportSchema, posturePolicySchema } from '../../src/shared/posture-schemas.ts';

const compliantDevice: PostureSignals = {
  os_version: '14.5',
  disk_encrypted: true,
  firewall_enabled: true,
  antivirus_enabled: true,
  patch_age_days: 12,
};

const policy = (overrides: Partial<PosturePolicy>): PosturePolicy => posturePolicySchema.parse(overrides);
const all = policy({ require_disk_encryption: true, require_firewall: true, require_antivirus: true, max_patch_age_days: 30 });

describe('evaluatePosture (SPEC section 2)', () => {
  const cases: Array<{ name: string; signals: Partial<PostureSignals>; policies: PosturePolicy[]; violations: string[] }> = [
    { name: 'everything healthy', signals: {}, policies: [all], violations: [] },
    { name: 'seed example: firewall off', signals: { firewall_enabled: false }, policies: [all], violations: ['firewall_required'] },
    {
      name: 'all failing, fixed order',
      signals: { disk_encrypted: false, firewall_enabled: false, antivirus_enabled: false, patch_age_days: 45 },
      policies: [all],
      violations: ['disk_encryption_required', 'firewall_required', 'antivirus_required', 'patch_age_exceeded (45 > 30 days)'],
    },
    {
      name: 'unknown fails closed for every required signal',
      signals: { disk_encrypted: null, firewall_enabled: null, antivirus_enabled: null, patch_age_days: null },
      policies: [all],
      violations: ['disk_encryption_required', 'firewall_required', 'antivirus_required', 'patch_age_exceeded (unknown > 30 days)'],
    },
    { name: 'patch age equal to the limit passes', signals: { patch_age_days: 30 }, policies: [all], violations: [] },
    { name: 'patch age one over the limit fails', signals: { patch_age_days: 31 }, policies: [all], violations: ['patch_age_exceeded (31 > 30 days)'] },
    { name: 'limit 0 allows only today', signals: { patch_age_days: 1 }, policies: [policy({ max_patch_age_days: 0 })], violations: ['patch_age_exceeded (1 > 0 days)'] },
    {
      name: 'not required is recorded but never a violation',
      signals: { disk_encrypted: false, firewall_enabled: null, antivirus_enabled: false, patch_age_days: null },
      policies: [policy({ require_firewall: false, max_patch_age_days: null })],
      violations: [],
    },
    {
      name: 'disabled policies are ignored',
      signals: { disk_encrypted: false },
      policies: [policy({ enabled: false, require_disk_encryption: true })],
      violations: [],
    },
    { name: 'no policy at all requires nothing', signals: { disk_encrypted: false }, policies: [], violations: [] },
    {
      name: 'policies combine: union of requirements',
      signals: { disk_encrypted: false, firewall_enabled: false, antivirus_enabled: true },
      policies: [policy({ require_disk_encryption: true }), policy({ require_firewall: true })],
      violations: ['disk_encryption_required', 'firewall_required'],
    },
    {
      name: 'policies combine: smallest max patch age wins',
      signals: { patch_age_days: 20 },
      policies: [policy({ max_patch_age_days: 30 }), policy({ max_patch_age_days: 14 }), policy({ max_patch_age_days: null })],
      violations: ['patch_age_exceeded (20 > 14 days)'],
    },
    {
      name: 'a disabled stricter policy does not lower the limit',
      signals: { patch_age_days: 20 },
      policies: [policy({ max_patch_age_days: 30 }), policy({ enabled: false, max_patch_age_days: 7 })],
      violations: [],
    },
  ];
  it.each(cases)('$name', ({ signals, policies, violations }) => {
    const verdict = evaluatePosture({ ...compliantDevice, ...signals }, policies);
    expect(verdict.violations).toEqual(violations);
    expect(verdict.compliant).toBe(violations.length === 0);
  });

  it('the default policy requires all three signals and patches within 30 days', () => {
    // SPEC 5's default; every later requirement of the catalogue stays at its default (off).
    expect(combinePolicies([DEFAULT_POLICY])).toEqual({
      ...Object.fromEntries(REQUIREMENTS.map((requirement) => [requirement.field, requirementDefault(requirement.kind)])),
      require_disk_encryption: true,
      require_firewall: true,
      require_antivirus: true,
      max_patch_age_days: 30,
    });
  });
});

describe('schemas', () => {
  it('accepts a report with extras and strips unknown keys', () => {
    const parsed = postureReportSchema.parse({ ...compliantDevice, platform: 'linux', surprise: 1, evidence: { disk_encrypted: { method: 'sysfs' } } });
    expect(parsed).not.toHaveProperty('surprise');
    expect(parsed.platform).toBe('linux');
  });
  it.each([
    [{ ...compliantDevice, disk_encrypted: 'yes' }, 'disk_encrypted'],
    [{ ...compliantDevice, patch_age_days: -1 }, 'patch_age_days'],
    [{ ...compliantDevice, patch_age_days: 1.5 }, 'patch_age_days'],
    [{ ...compliantDevice, os_version: '' }, 'os_version'],
    [{ ...compliantDevice, os_version_number: '14.4-beta' }, 'os_version_number'],
    [{ ...compliantDevice, screen_lock_enabled: 'on' }, 'screen_lock_enabled'],
  ])('rejects a bad report naming the field (%#)', (report, field) => {
    const result = postureReportSchema.safeParse(report);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toContain(field);
  });
  it('a policy file may be one object or an array; typos are errors', () => {
    expect(policyFileSchema.safeParse({ require_firewall: true }).success).toBe(true);
    expect(policyFileSchema.safeParse([{ require_firewall: true }, { max_patch_age_days: 10 }]).success).toBe(true);
    expect(policyFileSchema.safeParse([]).success).toBe(false);
    expect(policyFileSchema.safeParse({ require_firewal: true }).success).toBe(false);
    expect(policyFileSchema.safeParse({ max_patch_age_days: '30' }).success).toBe(false);
  });
});
