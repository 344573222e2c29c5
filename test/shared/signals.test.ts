/**
 * The signal catalogue (src/shared/signals.ts) and the v2 evaluation it drives (SPEC 7.2):
 * optional signals, version rules, the violation order, and one finding per violation.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, evaluatePosture, expiredVerdict } from '../../src/shared/posture.ts';
import { posturePolicySchema, postureReportSchema, unknownReportFields } from '../../src/shared/posture-schemas.ts';
import { REQUIREMENTS, SIGNALS, SIGNAL_KEYS, signalFingerprint, signalSet } from '../../src/shared/signals.ts';
import { findingsFromViolations } from '../../src/shared/legacy-findings.ts';

const policy = (fields: Record<string, unknown>) => posturePolicySchema.parse(fields);
const passing = {
  os_version: 'macOS 14.4.1 (23E224)',
  os_version_number: '14.4.1',
  disk_encrypted: true,
  firewall_enabled: true,
  antivirus_enabled: true,
  patch_age_days: 3,
  screen_lock_enabled: true,
  secure_boot_enabled: true,
  platform: 'darwin',
  agent_version: '0.2.0',
};
const everything = policy({
  require_disk_encryption: true,
  require_firewall: true,
  require_antivirus: true,
  max_patch_age_days: 30,
  min_os_versions: { darwin: '14.4', windows: '10.0.22631', linux: '12' },
  min_agent_version: '0.2.0',
  require_screen_lock: true,
  require_secure_boot: true,
});

describe('the catalogue', () => {
  it('has unique keys, fields and codes, and every requirement judges a known field', () => {
    expect(new Set(SIGNAL_KEYS).size).toBe(SIGNALS.length);
    expect(new Set(REQUIREMENTS.map((requirement) => requirement.field)).size).toBe(REQUIREMENTS.length);
    expect(new Set(REQUIREMENTS.map((requirement) => requirement.code)).size).toBe(REQUIREMENTS.length);
    for (const requirement of REQUIREMENTS) expect([...SIGNAL_KEYS, 'agent_version']).toContain(requirement.subject);
    for (const requirement of REQUIREMENTS) for (const platform of ['darwin', 'windows', 'linux'] as const) expect(requirement.fix[platform].length).toBeGreaterThan(10);
  });

  it('orders violation codes as SPEC 2 and 7.2 do', () => {
    expect(REQUIREMENTS.map((requirement) => requirement.code)).toEqual([
      'disk_encryption_required',
      'firewall_required',
      'antivirus_required',
      'patch_age_exceeded',
      'os_version_too_old',
      'agent_version_too_old',
      'screen_lock_required',
      'secure_boot_required',
    ]);
  });

  it('the schemas know every signal and requirement of the catalogue', () => {
    for (const key of SIGNAL_KEYS) expect(Object.keys(postureReportSchema.shape)).toContain(key);
    for (const requirement of REQUIREMENTS) expect(Object.keys(posturePolicySchema.shape)).toContain(requirement.field);
  });
});

describe('evaluation v2', () => {
  it('a device meeting every requirement is compliant, with no findings', () => {
    expect(evaluatePosture(passing, [everything])).toEqual({ compliant: true, violations: [], findings: [] });
  });

  it('every signal is optional: absent is unknown and fails closed, in the catalogue order', () => {
    const verdict = evaluatePosture({ platform: 'darwin' }, [everything]);
    expect(verdict.violations).toEqual([
      'disk_encryption_required',
      'firewall_required',
      'antivirus_required',
      'patch_age_exceeded (unknown > 30 days)',
      'os_version_too_old (unknown < 14.4)',
      'agent_version_too_old (unknown < 0.2.0)',
      'screen_lock_required',
      'secure_boot_required',
    ]);
    expect(verdict.findings.map((finding) => finding.code)).toEqual(verdict.violations.map((violation) => violation.split(' ')[0]));
  });

  it('versions compare numerically per platform; a platform not named has no minimum', () => {
    const policies = [policy({ min_os_versions: { darwin: '14.4', windows: '10.0.22631' } })];
    expect(evaluatePosture({ ...passing, os_version_number: '13.6.1' }, policies).violations).toEqual(['os_version_too_old (13.6.1 < 14.4)']);
    expect(evaluatePosture({ ...passing, os_version_number: '14.10' }, policies).violations).toEqual([]);
    expect(evaluatePosture({ ...passing, platform: 'windows', os_version_number: '10.0.22621.3447' }, policies).violations).toEqual(['os_version_too_old (10.0.22621.3447 < 10.0.22631)']);
    expect(evaluatePosture({ ...passing, platform: 'windows', os_version_number: '10.0.22631.3447' }, policies).violations).toEqual([]);
    expect(evaluatePosture({ ...passing, platform: 'linux', os_version_number: '11' }, policies).violations).toEqual([]);
    const finding = evaluatePosture({ ...passing, os_version_number: '13.6.1' }, policies).findings[0];
    expect(finding).toEqual({ code: 'os_version_too_old', signal: 'os_version_number', required: '>= 14.4', observed: '13.6.1', limit: '14.4', message: expect.stringMatching(/13\.6\.1 is older than the required 14\.4/) });
  });

  it('several policies: the largest minimum and the smallest maximum win, flags add up', () => {
    const policies = [
      policy({ min_agent_version: '0.2.0', min_os_versions: { darwin: '14.4' }, max_patch_age_days: 30 }),
      policy({ min_agent_version: '0.10.0', min_os_versions: { darwin: '13', linux: '12' }, max_patch_age_days: 14, require_screen_lock: true }),
      policy({ enabled: false, min_agent_version: '9.0', max_patch_age_days: 1, require_secure_boot: true }),
    ];
    const verdict = evaluatePosture({ ...passing, agent_version: '0.9.0', patch_age_days: 20, screen_lock_enabled: false }, policies);
    expect(verdict.violations).toEqual(['patch_age_exceeded (20 > 14 days)', 'agent_version_too_old (0.9.0 < 0.10.0)', 'screen_lock_required']);
  });

  it('findings carry what was required, observed and the limit', () => {
    const verdict = evaluatePosture({ ...passing, firewall_enabled: false, patch_age_days: 45, screen_lock_enabled: null }, [everything]);
    expect(verdict.findings).toEqual([
      { code: 'firewall_required', signal: 'firewall_enabled', required: true, observed: false, limit: null, message: 'The firewall is off; the policy requires it' },
      { code: 'patch_age_exceeded', signal: 'patch_age_days', required: '<= 30', observed: 45, limit: 30, message: 'The patch age is 45 days; the policy allows at most 30' },
      { code: 'screen_lock_required', signal: 'screen_lock_enabled', required: true, observed: null, limit: null, message: expect.stringMatching(/could not be determined/) },
    ]);
    expect(verdict.violations).toEqual(['firewall_required', 'patch_age_exceeded (45 > 30 days)', 'screen_lock_required']);
  });

  it('a version that is not dotted numbers is unknown, never compared as text', () => {
    expect(evaluatePosture({ ...passing, agent_version: 'dev-build' }, [policy({ min_agent_version: '0.2.0' })]).violations).toEqual(['agent_version_too_old (unknown < 0.2.0)']);
  });

  it('the default policy keeps SPEC 5: three flags and 30 days, nothing of 7.2', () => {
    expect(evaluatePosture({ ...passing, screen_lock_enabled: false, secure_boot_enabled: false, os_version_number: null }, [DEFAULT_POLICY]).compliant).toBe(true);
  });

  it('an expired report is one finding after everything else', () => {
    expect(expiredVerdict(900.7, 600)).toEqual({
      compliant: false,
      violations: ['posture_report_expired'],
      findings: [{ code: 'posture_report_expired', signal: 'collected_at', required: '<= 600 s old', observed: 900, limit: 600, message: expect.any(String) }],
    });
  });
});

describe('the wire', () => {
  it('a report may leave out any signal; unknown fields are named, not refused', () => {
    expect(postureReportSchema.safeParse({}).success).toBe(true);
    expect(postureReportSchema.safeParse({ os_version: 'Debian 12' }).success).toBe(true);
    expect(unknownReportFields({ node_key: 'k', os_version: 'x', battery_health: 'good', tpm_present: true }, ['node_key'])).toEqual(['battery_health', 'tpm_present']);
  });

  it('signalSet fills every catalogue signal and drops invalid values', () => {
    expect(signalSet({ disk_encrypted: true, patch_age_days: -3, os_version_number: 'x', extra: 1 })).toEqual({
      ...Object.fromEntries(SIGNAL_KEYS.map((key) => [key, null])),
      disk_encrypted: true,
    });
  });

  it('the fingerprint changes with any catalogue signal, not with extras', () => {
    const base = signalFingerprint(passing);
    expect(signalFingerprint({ ...passing, screen_lock_enabled: false })).not.toBe(base);
    expect(signalFingerprint({ ...passing, os_version_number: '14.5' })).not.toBe(base);
    expect(signalFingerprint({ ...passing, collected_at: 'later' })).toBe(base);
  });

  it('violations of a server older than findings become findings in one place', () => {
    expect(findingsFromViolations(['firewall_required', 'patch_age_exceeded (45 > 30 days)', 'posture_report_expired', 'something_new'], { firewall_enabled: 0, patch_age_days: 45 })).toEqual([
      { code: 'firewall_required', signal: 'firewall_enabled', required: true, observed: false, limit: null, message: expect.any(String) },
      { code: 'patch_age_exceeded', signal: 'patch_age_days', required: '<= 30', observed: 45, limit: 30, message: expect.any(String) },
      { code: 'posture_report_expired', signal: 'collected_at', required: true, observed: null, limit: null, message: expect.any(String) },
      { code: 'something_new', signal: 'unknown', required: true, observed: null, limit: null, message: expect.any(String) },
    ]);
  });
});
