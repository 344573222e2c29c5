/**
 * Windows collectors end to end against recorded script outputs (test/fixtures/windows,
 * sources in SOURCES.md there). Each fake host answers only the exact PowerShell command
 * line of that collector's script, so a case also proves which script ran; a host without
 * it is a host where powershell.exe is missing.
 */
import { SIGNAL_KEYS } from '../../src/shared/signals.ts';
import { describe, expect, it } from 'vitest';
import { ANTIVIRUS_SCRIPT, windowsAntivirusCollector } from '../../collectors/windows/antivirus.ts';
import { BITLOCKER_SCRIPT, windowsDiskEncryptionCollector } from '../../collectors/windows/disk-encryption.ts';
import { FIREWALL_SCRIPT, windowsFirewallCollector } from '../../collectors/windows/firewall.ts';
import { windowsCollectors } from '../../collectors/windows/index.ts';
import { OS_VERSION_SCRIPT, windowsOsVersionCollector } from '../../collectors/windows/os-version.ts';
import { PATCH_AGE_SCRIPT, windowsPatchAgeCollector } from '../../collectors/windows/patch-age.ts';
import { POWERSHELL_PREFIX, powershellArgs, wrapPowerShellScript } from '../../collectors/windows/powershell.ts';
import type { Collector, SignalKey } from '../../collectors/types.ts';
import { EDR_SERVICES } from '../../collectors/parsers/windows-antivirus.ts';
import { EXCLUDED_KBS } from '../../collectors/parsers/windows-update-history.ts';
import type { FakeCommand } from '../fakes/probe-context.ts';
import { fakeContext, fixture } from '../fakes/probe-context.ts';

const NOW = new Date('2024-11-21T12:00:00Z');

/** The fake-host key for one script: `powershell -NoProfile … -EncodedCommand <base64>`. */
const commandKey = (script: string) => ['powershell', ...powershellArgs(script)].join(' ');

interface Case {
  name: string;
  /** What the host's powershell.exe does for this collector's script; undefined = not installed. */
  command?: FakeCommand;
  privileged?: boolean;
  now?: Date;
  value: boolean | number | string | null;
  reason?: string;
  method?: string;
  detail: RegExp;
}

function table(collector: Collector<SignalKey>, script: string, cases: Case[]) {
  it.each(cases)('$name', async ({ command, privileged, now, value, reason, method, detail }) => {
    const ctx = fakeContext({
      platform: 'win32',
      privileged: privileged ?? false,
      now: now ?? NOW,
      env: { SystemDrive: 'C:' },
      commands: command === undefined ? {} : { [commandKey(script)]: command },
    });
    const finding = await collector.collect(ctx);
    expect(ctx.ran).toEqual([commandKey(script)]);
    expect(finding.value).toEqual(value);
    if (reason !== undefined) expect(finding.reason).toBe(reason);
    if (value === null) expect(finding.reason).toBeTruthy();
    if (method !== undefined) expect(finding.method).toBe(method);
    expect(finding.detail).toMatch(detail);
  });
}

const stdout = (path: string): FakeCommand => ({ stdout: fixture(`windows/${path}`) });

/** The ways powershell.exe itself can fail; the same for every collector. */
const RUN_FAILURES: Case[] = [
  { name: 'powershell.exe missing → null tool_missing', value: null, reason: 'tool_missing', detail: /not installed/ },
  { name: 'powershell.exe not allowed to run → null needs_privilege', command: { failure: 'permission_denied' }, value: null, reason: 'needs_privilege', detail: /not allowed to run/ },
  { name: 'powershell.exe timed out → null timeout', command: { failure: 'timeout' }, value: null, reason: 'timeout', detail: /timeout/ },
  {
    name: 'non-zero exit (script blocked) → null command_failed',
    command: { exitCode: 1, stderr: 'Program \'powershell.exe\' failed to run: This program is blocked by group policy.\r\n' },
    value: null,
    reason: 'command_failed',
    detail: /exited with 1: Program 'powershell.exe' failed to run: This program is blocked by group policy/,
  },
  { name: 'empty output → null empty_output', command: { stdout: '' }, value: null, reason: 'empty_output', detail: /printed nothing/ },
  { name: 'truncated output → null unparsed_output', command: stdout('powershell/truncated.reconstructed.txt'), value: null, reason: 'unparsed_output', detail: /not JSON/ },
  { name: 'the outer catch fired → null command_failed', command: stdout('powershell/script-error.reconstructed.json'), value: null, reason: 'command_failed', detail: /is not recognized as the name of a cmdlet/ },
];

describe('the PowerShell invocation', () => {
  it('passes the script as -EncodedCommand: base64 of UTF-16LE, with the required prefix and outer catch', () => {
    const args = powershellArgs(OS_VERSION_SCRIPT);
    expect(args.slice(0, 5)).toEqual(['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-EncodedCommand']);
    const decoded = Buffer.from(args[5] as string, 'base64').toString('utf16le');
    expect(decoded).toBe(wrapPowerShellScript(OS_VERSION_SCRIPT));
    expect(decoded.startsWith(POWERSHELL_PREFIX)).toBe(true);
    expect(decoded).toContain("HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion");
    expect(decoded).toMatch(/\} catch \{\n {2}ConvertTo-Json -Compress -InputObject \(ConvertTo-ZtnaError \$_\)\n\}/);
  });
  it('every script fits a Windows command line (32 767 characters) with room to spare', () => {
    for (const script of [BITLOCKER_SCRIPT, FIREWALL_SCRIPT, ANTIVIRUS_SCRIPT, PATCH_AGE_SCRIPT, OS_VERSION_SCRIPT]) {
      expect(powershellArgs(script).join(' ').length).toBeLessThan(16_000);
    }
  });
  it('scripts call the BitLocker methods, not the cached property, and carry the KB exclusions', () => {
    expect(BITLOCKER_SCRIPT).toMatch(/-MethodName GetProtectionStatus/);
    expect(BITLOCKER_SCRIPT).not.toMatch(/\$volume\.ProtectionStatus/);
    expect(PATCH_AGE_SCRIPT).toContain(`$excluded = @(${EXCLUDED_KBS.map((kb) => `'${kb}'`).join(',')})`);
    expect(EXCLUDED_KBS).toContain('KB890830'); // the monthly MSRT is not an OS patch
    expect(ANTIVIRUS_SCRIPT).toContain(`Get-Service -Name @(${Object.keys(EDR_SERVICES).map((name) => `'${name}'`).join(',')})`);
    expect(ANTIVIRUS_SCRIPT).toContain('exeExists = $exists');
  });
  it('the registry lists one collector per signal', () => {
    expect(Object.keys(windowsCollectors).sort()).toEqual([...SIGNAL_KEYS].sort());
    for (const [signal, collector] of Object.entries(windowsCollectors)) expect(collector.signal).toBe(signal);
  });
});

describe('windows disk encryption (BitLocker)', () => {
  table(windowsDiskEncryptionCollector as Collector<SignalKey>, BITLOCKER_SCRIPT, [
    { name: 'admin: protection on → true', privileged: true, command: stdout('bitlocker/on.reconstructed.json'), value: true, method: 'wmi:Win32_EncryptableVolume', detail: /protection is on for C:/ },
    { name: 'admin: fully decrypted → false', privileged: true, command: stdout('bitlocker/off-fully-decrypted.reconstructed.json'), value: false, detail: /C: is not encrypted/ },
    { name: 'admin: encrypted but protection off → false suspended', privileged: true, command: stdout('bitlocker/off-suspended-waiting-for-activation.reconstructed.json'), value: false, reason: 'suspended', detail: /key is stored in the clear/ },
    { name: 'admin: encrypting → false encrypting', privileged: true, command: stdout('bitlocker/off-encryption-in-progress.reconstructed.json'), value: false, reason: 'encrypting', detail: /being encrypted \(50%\)/ },
    { name: 'admin: locked → null locked', privileged: true, command: stdout('bitlocker/locked.reconstructed.json'), value: null, reason: 'locked', detail: /C: is locked/ },
    { name: 'Server without BitLocker → false bitlocker_not_installed', privileged: true, command: stdout('bitlocker/not-installed-invalid-namespace.reconstructed.json'), value: false, reason: 'bitlocker_not_installed', detail: /Invalid namespace \(0x8004100E\)/ },
    { name: 'non-admin: shell property 1 → true (fallback)', command: stdout('bitlocker/non-admin-shell-on.reconstructed.json'), value: true, method: 'shell:System.Volume.BitLockerProtection', detail: /low confidence/ },
    { name: 'non-admin: shell property 2 → false (fallback)', command: stdout('bitlocker/non-admin-shell-off.reconstructed.json'), value: false, method: 'shell:System.Volume.BitLockerProtection', detail: /is 2 \(protection off/ },
    { name: 'non-admin: no shell value → null needs_privilege', command: stdout('bitlocker/non-admin-shell-unknown.reconstructed.json'), value: null, reason: 'needs_privilege', detail: /needs Administrator rights \(Win32_EncryptableVolume refused access: Access denied \(0x80041003\)\)/ },
    ...RUN_FAILURES,
  ]);
});

describe('windows firewall', () => {
  table(windowsFirewallCollector as Collector<SignalKey>, FIREWALL_SCRIPT, [
    { name: 'active private profile on → true', command: stdout('firewall/on-private-profile.reconstructed.json'), value: true, method: 'com:HNetCfg.FwPolicy2', detail: /private on \(CurrentProfileTypes 2\)/ },
    { name: 'inactive domain profile off → still true', command: stdout('firewall/on-inactive-domain-profile-off.reconstructed.json'), value: true, detail: /every active firewall profile is on/ },
    { name: 'active public profile off → false', command: stdout('firewall/off-public-profile-disabled.reconstructed.json'), value: false, detail: /public off \(CurrentProfileTypes 4\)/ },
    { name: 'mpssvc stopped → false', command: stdout('firewall/off-service-stopped.reconstructed.json'), value: false, detail: /mpssvc is stopped/ },
    { name: 'public off, third-party firewall on → true', command: stdout('firewall/third-party-on-public-profile-disabled.reconstructed.json'), value: true, reason: 'third_party_firewall', detail: /Bitdefender Firewall on/ },
    { name: 'FwPolicy2 failed → ActiveStore fallback true', command: stdout('firewall/fallback-activestore-on.reconstructed.json'), value: true, method: 'Get-NetFirewallProfile', detail: /domain on/ },
    { name: 'fallback sees NotConfigured → null', command: stdout('firewall/fallback-notconfigured.reconstructed.json'), value: null, reason: 'unparsed_output', detail: /NotConfigured/ },
    { name: 'every probe failed → null command_failed', command: stdout('firewall/all-probes-failed.reconstructed.json'), value: null, reason: 'command_failed', detail: /could not be read/ },
    ...RUN_FAILURES,
  ]);
});

describe('windows antivirus', () => {
  table(windowsAntivirusCollector as Collector<SignalKey>, ANTIVIRUS_SCRIPT, [
    { name: 'Defender on (WSC 397568) → true', command: stdout('antivirus/wsc-defender-on.reconstructed.json'), value: true, method: 'wsc:AntiVirusProduct', detail: /397568/ },
    { name: 'third-party on, Defender passive → true', command: stdout('antivirus/wsc-third-party-on-defender-passive.reconstructed.json'), value: true, detail: /CrowdStrike Falcon Sensor on/ },
    { name: 'Defender off, nothing else → false', command: stdout('antivirus/wsc-defender-off.reconstructed.json'), value: false, detail: /no antivirus is active/ },
    { name: 'Server, Defender normal → true', command: stdout('antivirus/server-defender-normal.reconstructed.json'), value: true, method: 'Get-MpComputerStatus', detail: /"Normal", real-time protection on/ },
    { name: 'Server, Defender passive only → null', command: stdout('antivirus/server-defender-passive.reconstructed.json'), value: null, reason: 'no_security_center', detail: /Passive Mode/ },
    { name: 'Server, EDR Block Mode + policy 0 → true', command: stdout('antivirus/server-defender-edr-block-mode-not-passive.reconstructed.json'), value: true, detail: /ForceDefenderPassiveMode 0/ },
    { name: 'Server, Defender not running, Falcon running → true edr_service', command: stdout('antivirus/server-defender-not-running-falcon-service.reconstructed.json'), value: true, reason: 'edr_service', detail: /CSFalconService/ },
    { name: 'WMI refused → null needs_privilege', command: stdout('antivirus/wmi-access-denied.reconstructed.json'), value: null, reason: 'needs_privilege', detail: /Access denied/ },
    ...RUN_FAILURES,
  ]);
});

describe('windows patch age', () => {
  table(windowsPatchAgeCollector as Collector<SignalKey>, PATCH_AGE_SCRIPT, [
    { name: 'cumulative update 8 days ago, newer definitions ignored → 8', command: stdout('windows-update/history-cumulative-update.reconstructed.json'), value: 8, method: 'wua:QueryHistory', detail: /KB5046617\)\), 8 days ago/ },
    { name: 'definitions only → Get-HotFix fallback', now: new Date('2023-06-01T00:00:00Z'), command: stdout('windows-update/history-definitions-only-hotfix-fallback.reconstructed.json'), value: 20, method: 'Get-HotFix', detail: /KB5026446/ },
    { name: 'WUA service disabled → Get-HotFix fallback', now: new Date('2023-06-01T00:00:00Z'), command: stdout('windows-update/wua-service-disabled-hotfix-fallback.reconstructed.json'), value: 20, method: 'Get-HotFix', detail: /is disabled/ },
    { name: 'no history at all → null no_history', command: stdout('windows-update/history-empty.reconstructed.json'), value: null, reason: 'no_history', detail: /no installed update found/ },
    { name: 'both probes failed → null', command: stdout('windows-update/all-probes-failed.reconstructed.json'), value: null, reason: 'command_failed', detail: /no update history could be read/ },
    { name: 'clock behind the newest install → 0, said so', now: new Date('2024-11-13T00:00:00Z'), command: stdout('windows-update/history-cumulative-update.reconstructed.json'), value: 0, detail: /clamped to 0/ },
    ...RUN_FAILURES,
  ]);
});

describe('windows os version', () => {
  table(windowsOsVersionCollector as Collector<SignalKey>, OS_VERSION_SCRIPT, [
    { name: 'Windows 11 reported as "Windows 10" by ProductName', command: stdout('registry/windows-11-enterprise-24h2-arm64.json'), value: 'Windows 11 Enterprise 24H2 (build 26100.2033)', detail: /build 26100 ≥ 22000 is Windows 11/ },
    { name: 'Windows 11 Pro', command: stdout('registry/windows-11-pro-24h2.reconstructed.json'), value: 'Windows 11 Pro 24H2 (build 26100.2314)', detail: /CurrentVersion/ },
    { name: 'Windows 10 Pro', command: stdout('registry/windows-10-pro-22h2.reconstructed.json'), value: 'Windows 10 Pro 22H2 (build 19045.4046)', detail: /19045/ },
    { name: 'Server 2019 without ProductName', command: stdout('registry/windows-server-2019-datacenter-eval.json'), value: 'Windows ServerDatacenterEval 1809 (build 17763.720)', detail: /17763/ },
    ...RUN_FAILURES,
  ]);
});
