/**
 * Grace and exemptions as `ztna posture status` and `ztna status` show them (SPEC 7.3, issue
 * 15 item 2): each violation with a `blocks_at` prints "blocks at <local time> (in 2 days)",
 * one with `exempt_until` prints "exempt until <time>", and a device in grace says so on a
 * `Posture:` line. A fixed clock; TZ=UTC (vitest config), so local time is UTC here.
 * Without colors (NO_COLOR, not a terminal) the output holds no escape sequences.
 */
import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import type { PostureResult } from '../../src/cli/commands/posture.ts';
import { findingWhen, localTime, nextBlock, postureStateText, stateOfVerdict, statusPostureText } from '../../src/cli/lifecycle-view.ts';
import { renderPostureResult } from '../../src/cli/render.ts';
import type { PostureFinding } from '../../src/shared/signals.ts';

const NOW = Date.parse('2026-12-02T18:44:00.000Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
const plain = new Chalk({ level: 0 });

const firewall: PostureFinding = { code: 'firewall_required', signal: 'firewall_enabled', required: true, observed: false, limit: null, message: 'The firewall is off; the policy requires it' };
const antivirus: PostureFinding = { code: 'antivirus_required', signal: 'antivirus_enabled', required: true, observed: false, limit: null, message: 'Antivirus is off; the policy requires it' };
const patches: PostureFinding = { code: 'patch_age_exceeded', signal: 'patch_age_days', required: '<= 30', observed: 45, limit: 30, message: 'Patches are 45 days old' };

function serverResult(findings: PostureFinding[], extra: Partial<PostureResult> = {}): PostureResult {
  const text = (finding: PostureFinding) => (finding.code === 'patch_age_exceeded' ? 'patch_age_exceeded (45 > 30 days)' : finding.code);
  return {
    report: { os_version: 'Debian GNU/Linux 12', disk_encrypted: true, firewall_enabled: false, antivirus_enabled: false, patch_age_days: 45, platform: 'linux', arch: 'amd64' },
    compliant: findings.length === 0,
    violations: findings.map(text),
    findings,
    quarantined: false,
    mode: 'enforce',
    source: 'server',
    policy: 'the server\'s',
    ...extra,
  };
}

describe('times for people', () => {
  it('local time to the minute with the zone, and how far away', () => {
    expect(localTime(NOW + 2 * DAY)).toBe('2026-12-04 18:44 UTC');
    expect(findingWhen({ code: 'x', blocks_at: iso(NOW + 2 * DAY) }, NOW)).toBe('blocks at 2026-12-04 18:44 UTC (in 2 days)');
    expect(findingWhen({ code: 'x', blocks_at: iso(NOW + 3 * HOUR) }, NOW)).toBe('blocks at 2026-12-02 21:44 UTC (in 3 h)');
    expect(findingWhen({ code: 'x', exempt_until: '2026-12-20T09:00:00.000Z' }, NOW)).toBe('exempt until 2026-12-20 09:00 UTC');
    expect(findingWhen({ code: 'x' }, NOW)).toBeNull();
  });

  it('a deadline already past, an exemption that ends before its grace does, and a value that is not a time', () => {
    expect(findingWhen({ code: 'x', blocks_at: iso(NOW - HOUR) }, NOW)).toBe('blocking since 2026-12-02 17:44 UTC (its grace period ended)');
    expect(findingWhen({ code: 'x', exempt_until: iso(NOW + DAY), blocks_at: iso(NOW + 3 * DAY) }, NOW)).toBe('exempt until 2026-12-03 18:44 UTC, then blocks at 2026-12-05 18:44 UTC (in 3 days)');
    expect(findingWhen({ code: 'x', exempt_until: iso(NOW + 3 * DAY), blocks_at: iso(NOW + DAY) }, NOW)).toBe('exempt until 2026-12-05 18:44 UTC');
    expect(findingWhen({ code: 'x', blocks_at: 'soon\u001b[2J' }, NOW)).toBe('blocks at soon\\u{1b}[2J');
  });

  it('the device state a verdict shows by itself, as the server judges it', () => {
    expect(stateOfVerdict({ compliant: true, findings: [] }, NOW)).toBe('compliant');
    expect(stateOfVerdict({ compliant: false, findings: [{ ...firewall, blocks_at: iso(NOW + DAY) }, { ...antivirus, exempt_until: iso(NOW + 9 * DAY) }] }, NOW)).toBe('grace');
    expect(stateOfVerdict({ compliant: false, findings: [{ ...antivirus, exempt_until: iso(NOW + 9 * DAY) }] }, NOW)).toBe('exempt');
    // A violation with neither time blocks — or is covered by the legacy flag: only the server knows.
    expect(stateOfVerdict({ compliant: false, findings: [{ ...firewall, blocks_at: iso(NOW + DAY) }, antivirus] }, NOW)).toBeNull();
    expect(stateOfVerdict({ compliant: false, findings: [{ ...firewall, blocks_at: iso(NOW - 1) }] }, NOW)).toBeNull();
  });

  it('the device blocks at the earliest time a violation stops being covered', () => {
    const findings = [{ ...firewall, blocks_at: iso(NOW + 2 * DAY) }, { ...antivirus, exempt_until: iso(NOW + DAY), blocks_at: iso(NOW + 5 * DAY) }, { ...patches, exempt_until: iso(NOW + 4 * DAY) }];
    expect(nextBlock(findings, NOW)).toBe(NOW + 2 * DAY);
    expect(postureStateText('grace', findings, NOW)).toBe('in grace — blocks at 2026-12-04 18:44 UTC (in 2 days) unless fixed first');
    expect(postureStateText('grace', [], NOW, iso(NOW + 30 * 60_000))).toBe('in grace — blocks at 2026-12-02 19:14 UTC (in 30 min) unless fixed first');
    expect(postureStateText('exempt', [{ ...antivirus, exempt_until: iso(NOW + DAY) }], NOW)).toBe('exempt: violations are recorded, not enforced, exempt until 2026-12-03 18:44 UTC');
    expect(postureStateText('failing', [firewall], NOW)).toBeNull();
    expect(statusPostureText('pending', [], NOW, null)).toMatch(/^pending: no current verdict/);
    expect(statusPostureText('grace', [], NOW, null)).toMatch(/^in grace \(not blocked yet\)/);
  });
});

describe('ztna posture status, human output', () => {
  it('each violation says when it blocks or until when it is exempt, then its fix; the device is "in grace"', () => {
    const result = serverResult([{ ...firewall, blocks_at: iso(NOW + 2 * DAY) }, { ...antivirus, exempt_until: '2026-12-20T09:00:00.000Z' }], { posture_state: 'grace' });
    const lines = renderPostureResult(result, plain, { now: NOW, evidence: false }).split('\n');
    const at = lines.indexOf('Violations:');
    expect(lines.slice(8, at + 7)).toEqual([
      'Compliance:        NON-COMPLIANT',
      'Posture:           in grace — blocks at 2026-12-04 18:44 UTC (in 2 days) unless fixed first',
      'Violations:',
      '  - firewall_required',
      '      blocks at 2026-12-04 18:44 UTC (in 2 days)',
      '      fix: enable a host firewall that drops new inbound connections (sudo ufw enable, or firewalld)',
      '  - antivirus_required',
      '      exempt until 2026-12-20 09:00 UTC',
      expect.stringMatching(/^ {6}fix: /),
    ]);
  });

  it('without posture_state from the server, grace is read from the findings; the SPEC block keeps its lines', () => {
    const result = serverResult([{ ...patches, blocks_at: iso(NOW + 26 * HOUR) }]);
    const lines = renderPostureResult(result, plain, { now: NOW, evidence: false }).split('\n');
    expect(lines.slice(0, 9)).toEqual([
      'Device Posture Status',
      '-------------------------------------',
      'OS:                linux/amd64',
      'Disk Encryption:   enabled',
      'Firewall:          disabled',
      'Antivirus:         disabled',
      'Patch Age:         45 days',
      '',
      'Compliance:        NON-COMPLIANT',
    ]);
    expect(lines[9]).toBe('Posture:           in grace — blocks at 2026-12-03 20:44 UTC (in 26 h) unless fixed first');
    expect(lines).toContain('  - patch_age_exceeded (45 > 30 days)');
    expect(lines).toContain('      blocks at 2026-12-03 20:44 UTC (in 26 h)');
  });

  it('a failing device (a violation that blocks) has no Posture line; a quarantined one says quarantined', () => {
    const failing = renderPostureResult(serverResult([firewall, { ...antivirus, blocks_at: iso(NOW + 2 * DAY) }]), plain, { now: NOW, evidence: false });
    expect(failing).not.toContain('Posture:');
    expect(failing).toContain('  - antivirus_required\n      blocks at 2026-12-04 18:44 UTC (in 2 days)\n');
    const quarantined = renderPostureResult(serverResult([{ ...firewall, blocks_at: iso(NOW - DAY) }], { quarantined: true, posture_state: 'failing' }), plain, { now: NOW, evidence: false });
    expect(quarantined).toContain('Quarantine:        QUARANTINED');
    expect(quarantined).toContain('      blocking since 2026-12-01 18:44 UTC (its grace period ended)');
    expect(quarantined).not.toContain('Posture:');
  });

  it('exempt: the Posture line says until when', () => {
    const output = renderPostureResult(serverResult([{ ...antivirus, exempt_until: iso(NOW + 7 * DAY) }]), plain, { now: NOW, evidence: false });
    expect(output).toContain('Posture:           exempt: violations are recorded, not enforced, exempt until 2026-12-09 18:44 UTC');
    expect(output).toContain('      exempt until 2026-12-09 18:44 UTC');
  });

  it('no escape sequences without colors; with colors, the time lines are colored', () => {
    const result = serverResult([{ ...firewall, blocks_at: iso(NOW + 2 * DAY) }], { posture_state: 'grace' });
    expect(renderPostureResult(result, plain, { now: NOW })).not.toContain('\u001b[');
    expect(renderPostureResult(result, new Chalk({ level: 2 }), { now: NOW })).toContain('\u001b[');
  });

  it('a local check with a grace period in the file says grace is not applied here', () => {
    const result: PostureResult = {
      ...serverResult([firewall]),
      source: 'local',
      policy: 'policy.json',
      policies: {
        device: { platform: 'linux', tags: [], tags_from: 'not_enrolled' },
        applied: [{ position: 1, name: 'baseline', platforms: null, tags: null, grace_period_s: 86_400 }],
        skipped: [{ position: 2, name: 'macs', platforms: ['darwin'], tags: null, grace_period_s: 0, reason: 'platform', detail: 'it applies to darwin; this device is linux' }],
      },
    };
    const output = renderPostureResult(result, plain, { now: NOW, evidence: false });
    expect(output).toContain('Policies:          1 of 2 apply to this device (linux; tags: none (not enrolled))');
    expect(output).toContain('  - skipped policy 2 "macs": it applies to darwin; this device is linux');
    expect(output).toMatch(/grace periods \(grace_period_s\) are not applied here/);
    expect(output).not.toContain('Posture:');
  });
});
