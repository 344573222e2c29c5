/**
 * `ztna posture status` / `ztna posture check` as a person or a script sees them: real
 * processes, real exit codes (0 compliant, 1 non-compliant, 2 error), SPEC section 5's
 * labels and JSON shape.
 */
import { describe, expect, it } from 'vitest';
import { cliRunner, tempFiles } from '../support/cli.ts';

const ztna = cliRunner();
const plain = cliRunner({ NO_COLOR: '1' });

const healthy = { os_version: '14.5', disk_encrypted: true, firewall_enabled: true, antivirus_enabled: true, patch_age_days: 12 };
const strict = { enabled: true, require_disk_encryption: true, require_firewall: true, require_antivirus: true, max_patch_age_days: 30 };

describe('ztna posture status --local on this machine', () => {
  it('--json prints the report with every section 2 field and evidence; exit code matches compliance', async () => {
    const result = await ztna('posture', 'status', '--local', '--json');
    expect(result.stderr).toBe('');
    const output = JSON.parse(result.stdout);
    expect(Object.keys(output).sort()).toEqual(['compliant', 'findings', 'report', 'source', 'violations']);
    expect(output.findings.map((finding: { code: string }) => finding.code)).toEqual(output.violations.map((violation: string) => violation.split(' ')[0]));
    expect(output.source).toBe('local');
    for (const key of ['os_version', 'disk_encrypted', 'firewall_enabled', 'antivirus_enabled', 'patch_age_days', 'os_version_number', 'screen_lock_enabled', 'secure_boot_enabled']) {
      expect(output.report).toHaveProperty(key);
      if (key !== 'os_version') expect(output.report.evidence[key].detail, key).toBeTruthy();
    }
    expect(output.report.platform).toBe(process.platform === 'win32' ? 'windows' : process.platform);
    expect(result.exitCode).toBe(output.compliant ? 0 : 1);
  });

  it('prints the contract labels, aligned, without color when NO_COLOR is set', async () => {
    const result = await plain('posture', 'status', '--local');
    const lines = result.stdout.split('\n');
    expect(lines.slice(0, 2)).toEqual(['Device Posture Status', '-------------------------------------']);
    expect(lines[2]).toMatch(/^OS: {16}(linux|darwin|windows)\/[a-z0-9]+$/);
    expect(lines[3]).toMatch(/^Disk Encryption: {3}(enabled|disabled|unknown)$/);
    expect(lines[4]).toMatch(/^Firewall: {10}(enabled|disabled|unknown)$/);
    expect(lines[5]).toMatch(/^Antivirus: {9}(enabled|disabled|unknown)$/);
    expect(lines[6]).toMatch(/^Patch Age: {9}(\d+ days|unknown)$/);
    expect(lines[7]).toBe('');
    expect(lines[8]).toMatch(/^Compliance: {8}(COMPLIANT|NON-COMPLIANT)$/);
    // SPEC 7.2's signals follow the verdict, in the same column.
    expect(result.stdout).toMatch(/^OS Version: {8}(\d+(\.\d+)*|unknown|not applicable)$/m);
    expect(result.stdout).toMatch(/^Screen Lock: {7}(enabled|disabled|unknown|not applicable)$/m);
    expect(result.stdout).toMatch(/^Secure Boot: {7}(enabled|disabled|unknown|not applicable)$/m);
    expect(result.stdout).not.toContain('\u001b[');
    expect(result.stdout).toContain('Evidence');
  });

  it('colors only when asked to (FORCE_COLOR) and NO_COLOR wins over it', async () => {
    expect((await cliRunner({ FORCE_COLOR: '1' })('posture', 'status', '--local')).stdout).toContain('\u001b[');
    expect((await cliRunner({ FORCE_COLOR: '1', NO_COLOR: '1' })('posture', 'status', '--local')).stdout).not.toContain('\u001b[');
  });

  it('a policy that requires nothing makes this device compliant (exit 0)', async () => {
    const files = tempFiles({ 'nothing.json': JSON.stringify({ enabled: true }) });
    const result = await ztna('posture', 'status', '--local', '--policy', files['nothing.json'] as string, '--json');
    expect(JSON.parse(result.stdout)).toMatchObject({ compliant: true, violations: [] });
    expect(result.exitCode).toBe(0);
  });
});

describe('ztna posture check --policy P --report R (SPEC section 2 through the CLI)', () => {
  const cases: Array<{ name: string; report: object; policy: object | object[]; violations: string[] }> = [
    { name: 'compliant', report: healthy, policy: strict, violations: [] },
    { name: 'seed example', report: { ...healthy, firewall_enabled: false }, policy: strict, violations: ['firewall_required'] },
    {
      name: 'all four, in order',
      report: { ...healthy, disk_encrypted: false, firewall_enabled: false, antivirus_enabled: false, patch_age_days: 45 },
      policy: strict,
      violations: ['disk_encryption_required', 'firewall_required', 'antivirus_required', 'patch_age_exceeded (45 > 30 days)'],
    },
    {
      name: 'unknowns fail closed',
      report: { ...healthy, disk_encrypted: null, patch_age_days: null },
      policy: strict,
      violations: ['disk_encryption_required', 'patch_age_exceeded (unknown > 30 days)'],
    },
    { name: 'not required is not a violation', report: { ...healthy, antivirus_enabled: false }, policy: { ...strict, require_antivirus: false }, violations: [] },
    {
      name: 'array of policies: union and smallest limit',
      report: { ...healthy, firewall_enabled: false, patch_age_days: 20 },
      policy: [{ require_firewall: true, max_patch_age_days: 30 }, { max_patch_age_days: 14 }, { enabled: false, max_patch_age_days: 1 }],
      violations: ['firewall_required', 'patch_age_exceeded (20 > 14 days)'],
    },
  ];
  it.each(cases)('$name', async ({ report, policy, violations }) => {
    const files = tempFiles({ 'report.json': JSON.stringify(report), 'policy.json': JSON.stringify(policy) });
    const result = await ztna('posture', 'check', '--policy', files['policy.json'] as string, '--report', files['report.json'] as string, '--json');
    const output = JSON.parse(result.stdout);
    expect(output.violations).toEqual(violations);
    expect(output.compliant).toBe(violations.length === 0);
    expect(result.exitCode).toBe(violations.length === 0 ? 0 : 1);
    const human = await plain('posture', 'check', '--policy', files['policy.json'] as string, '--report', files['report.json'] as string);
    expect(human.exitCode).toBe(result.exitCode);
    for (const violation of violations) expect(human.stdout).toContain(`  - ${violation}`);
  });
});

describe('errors: exit 2 with a message that names the file and the problem', () => {
  const files = tempFiles({
    'good-policy.json': JSON.stringify(strict),
    'broken.json': '{"require_firewall": true,',
    'empty.json': '',
    'typo-policy.json': JSON.stringify({ require_firewal: true }),
    'bad-report.json': JSON.stringify({ ...healthy, patch_age_days: -3 }),
    'bad-version-report.json': JSON.stringify({ ...healthy, os_version_number: '14.4-beta' }),
    'array.json': '[]',
  });
  const path = (name: string) => files[name] as string;
  const cases: Array<{ name: string; args: string[]; message: RegExp }> = [
    { name: 'missing policy file', args: ['--policy', '/nonexistent/policy.json'], message: /policy file not found: \/nonexistent\/policy\.json/ },
    { name: 'malformed policy JSON', args: ['--policy', path('broken.json')], message: /broken\.json is not valid JSON/ },
    { name: 'empty policy file', args: ['--policy', path('empty.json')], message: /empty\.json is not valid JSON: the file is empty/ },
    { name: 'unknown policy key (typo)', args: ['--policy', path('typo-policy.json')], message: /typo-policy\.json is not a valid policy: .*require_firewal/ },
    { name: 'empty policy array', args: ['--policy', path('array.json')], message: /array\.json is not a valid policy/ },
    { name: 'missing report file', args: ['--policy', path('good-policy.json'), '--report', '/nonexistent/r.json'], message: /report file not found: \/nonexistent\/r\.json/ },
    { name: 'report field out of range', args: ['--policy', path('good-policy.json'), '--report', path('bad-report.json')], message: /bad-report\.json is not a valid report: patch_age_days/ },
    { name: 'report version not dotted', args: ['--policy', path('good-policy.json'), '--report', path('bad-version-report.json')], message: /bad-version-report\.json is not a valid report: os_version_number: expected a dotted version/ },
    { name: 'a directory instead of a file', args: ['--policy', '/tmp'], message: /\/tmp is a directory/ },
  ];
  it.each(cases)('$name', async ({ args, message }) => {
    const result = await ztna('posture', 'check', ...args);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/^\s+at /m); // no stack trace
    expect(result.stdout).toBe('');
  });
  it('with --json, the error is also JSON on stdout', async () => {
    const result = await ztna('posture', 'check', '--policy', '/nonexistent/p.json', '--json');
    expect(result.exitCode).toBe(2);
    expect(JSON.parse(result.stdout)).toEqual({ error: { code: 'file_not_found', message: 'policy file not found: /nonexistent/p.json' } });
  });
  it('a bad policy fails before anything is collected', async () => {
    const result = await ztna('posture', 'status', '--local', '--policy', path('broken.json'));
    expect(result.exitCode).toBe(2);
  });
  it.each([
    [['posture', 'check']],
    [['posture', 'nope']],
    [['frobnicate']],
    [['posture', 'status', '--bogus']],
  ])('usage mistakes exit 2: %j', async (args) => {
    const result = await ztna(...args);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/error|unknown/i);
  });
  it('--help and --version exit 0', async () => {
    const help = await ztna('posture', 'check', '--help');
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('--policy <file>');
    expect(help.stdout).toContain('Exit status');
    const version = await ztna('--version');
    expect(version.exitCode).toBe(0);
    expect(version.stdout).toMatch(/^ztna \d+\.\d+\.\d+ \(commit \S+, node 24\.\d+\.\d+, \w+\/\w+, node bundle\)$/m);
  });
});
