/**
 * The Windows parsers on every fixture in test/fixtures/windows (sources in SOURCES.md
 * there), plus empty, truncated and wrong-typed input: a parser never throws.
 */
import { describe, expect, it } from 'vitest';
import { parseAntivirusOutput } from '../../collectors/parsers/windows-antivirus.ts';
import { parseBitLockerOutput } from '../../collectors/parsers/windows-bitlocker.ts';
import { parseFirewallOutput } from '../../collectors/parsers/windows-firewall.ts';
import { parseWindowsVersionOutput } from '../../collectors/parsers/windows-os-version.ts';
import {
  asArray,
  asBool,
  asInt,
  hresultHex,
  parsePowerShellJson,
  readScriptError,
} from '../../collectors/parsers/windows-powershell.ts';
import { decodeProductState } from '../../collectors/parsers/windows-security-center.ts';
import { parseUpdateHistoryOutput } from '../../collectors/parsers/windows-update-history.ts';
import type { Finding } from '../../collectors/types.ts';
import { fixture } from '../fakes/probe-context.ts';

interface Case {
  name: string;
  input: string;
  value: boolean | number | string | null;
  reason?: string;
  method?: string;
  detail: RegExp;
  facts?: Record<string, unknown>;
}

function check(finding: Finding<unknown>, expected: Case) {
  expect(finding.value).toEqual(expected.value);
  if (expected.reason !== undefined) expect(finding.reason).toBe(expected.reason);
  if (expected.value === null) expect(finding.reason).toBeTruthy();
  if (expected.method !== undefined) expect(finding.method).toBe(expected.method);
  expect(finding.detail).toMatch(expected.detail);
  if (expected.facts !== undefined) expect(finding.facts).toMatchObject(expected.facts);
}

/** Inputs every parser must survive with a null and a reason. */
const HOSTILE: Array<{ name: string; input: string; reason: string }> = [
  { name: 'empty output', input: '', reason: 'empty_output' },
  { name: 'whitespace and a BOM only', input: '\uFEFF \r\n', reason: 'empty_output' },
  { name: 'truncated JSON', input: fixture('windows/powershell/truncated.reconstructed.txt'), reason: 'unparsed_output' },
  { name: 'prose instead of JSON', input: 'Get-CimInstance : Invalid namespace\r\n', reason: 'unparsed_output' },
  { name: 'a JSON string', input: '"hello"', reason: 'unparsed_output' },
  { name: 'a JSON array of numbers', input: '[1,2,3]', reason: 'unparsed_output' },
  { name: 'an object of the wrong shape', input: '{"foo":1}', reason: 'unparsed_output' },
  { name: 'the outer catch fired', input: fixture('windows/powershell/script-error.reconstructed.json'), reason: 'command_failed' },
];

describe('PowerShell JSON helpers', () => {
  it('strips a UTF-8 BOM and reads the last line when a warning precedes the JSON', () => {
    expect(parsePowerShellJson('\uFEFF{"a":1}\r\n', 'm')).toEqual({ ok: true, value: { a: 1 } });
    expect(parsePowerShellJson('WARNING: something\r\n{"a":2}\r\n', 'm')).toEqual({ ok: true, value: { a: 2 } });
  });
  it('reads PS 5.1 arrays in all three shapes', () => {
    expect(asArray([1, 2])).toEqual([1, 2]);
    expect(asArray({ name: 'x' })).toEqual([{ name: 'x' }]);
    expect(asArray({ value: [1], Count: 1 })).toEqual([1]);
    expect(asArray(null)).toEqual([]);
  });
  it('reads integers and booleans strictly', () => {
    expect(asInt(397568)).toBe(397568);
    expect(asInt('266240')).toBe(266240);
    expect(asInt(1.5)).toBeNull();
    expect(asInt('1e3')).toBeNull();
    expect(asBool('False')).toBe(false);
    expect(asBool('NotConfigured')).toBeNull();
    expect(asBool(0)).toBeNull();
  });
  it('normalises signed HRESULTs to the unsigned spelling', () => {
    const error = readScriptError({ error: 'Invalid namespace ', hresult: -2147217394 });
    expect(error).toEqual({ message: 'Invalid namespace', hresult: 0x8004100e });
    expect(hresultHex(error?.hresult ?? null)).toBe('0x8004100E');
    expect(readScriptError({ error: 5 })).toBeNull();
  });
});

describe('Security Center productState', () => {
  it.each([
    [397568, 'on', true, true], // Defender on, up to date (ciwen3/PNPT)
    [393472, 'off', true, true], // Defender off (jcl45/CT_Dev)
    [266240, 'on', true, false], // third-party on (jcl45/CT_Dev)
    [397584, 'on', false, true], // Defender on, signatures out of date (jcl45/CT_Dev)
    [0x62100, 'snoozed', true, true],
    [0x63100, 'expired', true, true],
    [0x64100, 'unknown', true, true],
  ] as const)('%i → %s', (productState, state, upToDate, microsoft) => {
    expect(decodeProductState(productState)).toEqual({ state, signaturesUpToDate: upToDate, microsoft });
  });
});

describe('BitLocker (Win32_EncryptableVolume + shell property)', () => {
  const bitlocker = (name: string) => fixture(`windows/bitlocker/${name}`);
  const cases: Case[] = [
    { name: 'protection on → true', input: bitlocker('on.reconstructed.json'), value: true, method: 'wmi:Win32_EncryptableVolume', detail: /protection is on for C: .*FullyEncrypted/, facts: { encryption_method: 'XTS_AES_128' } },
    { name: 'fully decrypted → false', input: bitlocker('off-fully-decrypted.reconstructed.json'), value: false, detail: /C: is not encrypted.*FullyDecrypted/ },
    { name: 'encrypted, protection off → false suspended', input: bitlocker('off-suspended-waiting-for-activation.reconstructed.json'), value: false, reason: 'suspended', detail: /encrypted but BitLocker protection is off/ },
    { name: 'encryption in progress → false encrypting', input: bitlocker('off-encryption-in-progress.reconstructed.json'), value: false, reason: 'encrypting', detail: /being encrypted \(50%\)/ },
    { name: 'locked volume → null locked', input: bitlocker('locked.reconstructed.json'), value: null, reason: 'locked', detail: /locked/ },
    { name: 'Invalid namespace → false bitlocker_not_installed', input: bitlocker('not-installed-invalid-namespace.reconstructed.json'), value: false, reason: 'bitlocker_not_installed', detail: /not installed.*0x8004100E/ },
    { name: 'access denied, shell 1 → true (low confidence)', input: bitlocker('non-admin-shell-on.reconstructed.json'), value: true, method: 'shell:System.Volume.BitLockerProtection', detail: /is 1 .*refused access.*0x80041003/, facts: { confidence: 'low' } },
    { name: 'access denied, shell 2 → false (low confidence)', input: bitlocker('non-admin-shell-off.reconstructed.json'), value: false, method: 'shell:System.Volume.BitLockerProtection', detail: /is 2 /, facts: { confidence: 'low' } },
    { name: 'access denied, no shell value → null needs_privilege', input: bitlocker('non-admin-shell-unknown.reconstructed.json'), value: null, reason: 'needs_privilege', detail: /needs Administrator rights/ },
  ];
  it.each(cases)('$name', (c) => check(parseBitLockerOutput(c.input), c));

  it('names the drive from the environment when the output does not', () => {
    const text = JSON.stringify({ cim: { found: true, protectionStatus: 1, conversionStatus: 1 } });
    expect(parseBitLockerOutput(text, 'D:').detail).toMatch(/for D:/);
  });
  it('a method ReturnValue error falls back to the shell property', () => {
    const text = JSON.stringify({ drive: 'C:', cim: { found: true, protectionStatus: 0, protectionReturn: 2150694912, conversionStatus: 0, conversionReturn: 0 }, shell: 1 });
    const finding = parseBitLockerOutput(text);
    expect(finding.value).toBe(true);
    expect(finding.detail).toMatch(/returned 0x80310000/);
  });
  it('an unknown conversion code is not guessed', () => {
    const text = JSON.stringify({ drive: 'C:', cim: { found: true, protectionStatus: 0, conversionStatus: 9 }, shell: null });
    expect(parseBitLockerOutput(text)).toMatchObject({ value: null, reason: 'command_failed' });
  });
  it('no volume for the system drive → null volume_not_found', () => {
    const text = JSON.stringify({ drive: 'C:', cim: { found: false }, shell: null });
    expect(parseBitLockerOutput(text)).toMatchObject({ value: null, reason: 'volume_not_found' });
  });
  it('wrong types inside valid JSON → null', () => {
    const text = JSON.stringify({ drive: 7, cim: { found: 'yes', protectionStatus: 'on' }, cimError: 'x', shell: 'one' });
    expect(parseBitLockerOutput(text).value).toBeNull();
  });
  it.each(HOSTILE)('$name → null $reason', ({ input, reason }) => {
    expect(parseBitLockerOutput(input)).toMatchObject({ value: null, reason });
  });
});

describe('firewall (FwPolicy2 / Get-NetFirewallProfile / FirewallProduct)', () => {
  const firewall = (name: string) => fixture(`windows/firewall/${name}`);
  const cases: Case[] = [
    { name: 'private profile active and on → true', input: firewall('on-private-profile.reconstructed.json'), value: true, method: 'com:HNetCfg.FwPolicy2', detail: /private on \(CurrentProfileTypes 2\); mpssvc running/ },
    { name: 'an inactive domain profile off does not matter → true', input: firewall('on-inactive-domain-profile-off.reconstructed.json'), value: true, detail: /every active firewall profile is on/ },
    { name: 'active public profile off → false', input: firewall('off-public-profile-disabled.reconstructed.json'), value: false, detail: /active public firewall profile is off/ },
    { name: 'mpssvc stopped → false', input: firewall('off-service-stopped.reconstructed.json'), value: false, detail: /mpssvc is stopped/ },
    { name: 'public off but a third-party firewall on → true', input: firewall('third-party-on-public-profile-disabled.reconstructed.json'), value: true, reason: 'third_party_firewall', method: 'wsc:FirewallProduct', detail: /Bitdefender Firewall on \(productState 266240/ },
    { name: 'COM failed, ActiveStore says True → true', input: firewall('fallback-activestore-on.reconstructed.json'), value: true, method: 'Get-NetFirewallProfile', detail: /domain on \(active on the connected networks: domain\)/ },
    { name: 'COM failed, NotConfigured → null (not a boolean)', input: firewall('fallback-notconfigured.reconstructed.json'), value: null, reason: 'unparsed_output', detail: /domain=NotConfigured/ },
    { name: 'every probe failed → null', input: firewall('all-probes-failed.reconstructed.json'), value: null, reason: 'command_failed', detail: /FwPolicy2: Retrieving the COM class factory.*0x80040154/ },
  ];
  it.each(cases)('$name', (c) => check(parseFirewallOutput(c.input), c));

  it('the string "False" is not true (PS4 truthiness, osisoft PR #287)', () => {
    const text = JSON.stringify({ policy: null, policyError: { error: 'x', hresult: 1 }, profiles: [{ name: 'Public', enabled: 'False' }, { name: 'Private', enabled: 'True' }, { name: 'Domain', enabled: 'True' }], networkCategories: ['Public'] });
    expect(parseFirewallOutput(text)).toMatchObject({ value: false, method: 'Get-NetFirewallProfile' });
  });
  it('a profile off while no network says which is active → null active_profile_unknown', () => {
    const text = JSON.stringify({ policy: null, policyError: { error: 'x', hresult: 1 }, profiles: [{ name: 'Domain', enabled: 'False' }, { name: 'Private', enabled: 'True' }, { name: 'Public', enabled: 'True' }], networkCategories: [] });
    expect(parseFirewallOutput(text)).toMatchObject({ value: null, reason: 'active_profile_unknown' });
  });
  it('a single profile printed as an object, not an array (PS 5.1)', () => {
    const text = JSON.stringify({ policy: null, policyError: { error: 'x', hresult: 1 }, profiles: { name: 'Private', enabled: 'True' }, networkCategories: 'Private' });
    expect(parseFirewallOutput(text)).toMatchObject({ value: true });
  });
  it('mpssvc in a pending state is not guessed', () => {
    const text = JSON.stringify({ policy: { current: 2, domain: true, private: true, public: true }, service: 'StartPending' });
    expect(parseFirewallOutput(text)).toMatchObject({ value: null, reason: 'service_state' });
  });
  it('CurrentProfileTypes 0 → null', () => {
    const text = JSON.stringify({ policy: { current: 0, domain: true, private: true, public: true }, service: 'Running' });
    expect(parseFirewallOutput(text).value).toBeNull();
  });
  it.each(HOSTILE)('$name → null $reason', ({ input, reason }) => {
    expect(parseFirewallOutput(input)).toMatchObject({ value: null, reason });
  });
});

describe('antivirus (Security Center / Defender / EDR services)', () => {
  const antivirus = (name: string) => fixture(`windows/antivirus/${name}`);
  const cases: Case[] = [
    { name: 'Defender on in Security Center → true', input: antivirus('wsc-defender-on.reconstructed.json'), value: true, method: 'wsc:AntiVirusProduct', detail: /Windows Defender on \(productState 397568 = 0x61100\)/ },
    { name: 'third-party on, Defender passive → true', input: antivirus('wsc-third-party-on-defender-passive.reconstructed.json'), value: true, method: 'wsc:AntiVirusProduct', detail: /CrowdStrike Falcon Sensor on \(productState 266240/ },
    { name: 'Defender off and nothing else → false', input: antivirus('wsc-defender-off.reconstructed.json'), value: false, detail: /Windows Defender off .*real-time protection off; no known EDR service/ },
    { name: 'Server: no Security Center, Defender normal → true', input: antivirus('server-defender-normal.reconstructed.json'), value: true, method: 'Get-MpComputerStatus', detail: /AMRunningMode "Normal", real-time protection on/ },
    { name: 'Server: Defender passive, nothing else seen → null', input: antivirus('server-defender-passive.reconstructed.json'), value: null, reason: 'no_security_center', detail: /no Security Center.*"Passive Mode"/ },
    { name: 'Server: EDR Block Mode with ForceDefenderPassiveMode 0 → true', input: antivirus('server-defender-edr-block-mode-not-passive.reconstructed.json'), value: true, method: 'Get-MpComputerStatus', detail: /EDR Block Mode" with ForceDefenderPassiveMode 0/ },
    { name: 'Server: Defender not running, Falcon service running → true edr_service', input: antivirus('server-defender-not-running-falcon-service.reconstructed.json'), value: true, reason: 'edr_service', method: 'Get-Service', detail: /CrowdStrike Falcon \(CSFalconService\)/ },
    { name: 'WMI refused everything → null needs_privilege', input: antivirus('wmi-access-denied.reconstructed.json'), value: null, reason: 'needs_privilege', detail: /Security Center failed: Access denied \(0x80041003\)/ },
  ];
  it.each(cases)('$name', (c) => check(parseAntivirusOutput(c.input), c));

  it('EDR Block Mode without the policy is not counted as active', () => {
    const text = JSON.stringify({ wsc: [], defender: { installed: true, amRunningMode: 'EDR Block Mode', realTimeProtectionEnabled: true }, passiveModePolicy: { forceDefenderPassiveMode: null, forcePassiveMode: null }, services: [] });
    expect(parseAntivirusOutput(text)).toMatchObject({ value: false });
  });
  it('a snoozed or expired product is not on', () => {
    const text = JSON.stringify({ wsc: [{ name: 'X', productState: 0x62000 }, { name: 'Y', productState: 0x63000 }], defender: { installed: false }, services: [] });
    expect(parseAntivirusOutput(text)).toMatchObject({ value: false });
  });
  it('a failed service probe keeps a negative from being false', () => {
    const text = JSON.stringify({ wsc: [], defender: { installed: false }, services: null, servicesError: { error: 'boom', hresult: -1 } });
    expect(parseAntivirusOutput(text)).toMatchObject({ value: null, reason: 'command_failed' });
  });
  // One staleness rule for every engine that exposes its signature age (antivirus-freshness.ts).
  // Each of these was true before: presence was read as protection.
  describe('present but not protecting', () => {
    const defenderNormal = (signatureAge: number) => JSON.stringify({ wsc: [], defender: { installed: true, amRunningMode: 'Normal', antivirusEnabled: true, realTimeProtectionEnabled: true, signatureAge, signatureUpdated: null }, passiveModePolicy: {}, services: [] });
    it.each([
      [3, true, /real-time protection on$/],
      [7, true, /real-time protection on$/],
      [8, false, /signatures are 8 days old \(more than 7\)/],
      [610, false, /signatures are 610 days old/],
      [65535, false, /signatures were never updated \(age reported as 65535\)/],
      [4294967295, false, /never updated/],
    ])('Defender in Normal mode with signatures %i days old → %s', (age, value, detail) => {
      const finding = parseAntivirusOutput(defenderNormal(age));
      expect(finding.value).toBe(value);
      expect(finding.detail).toMatch(detail);
    });
    it('a Security Center product flagged "signatures out of date" is not protection', () => {
      const finding = parseAntivirusOutput(JSON.stringify({ wsc: [{ name: 'Old AV', productState: 0x41010 }], defender: { installed: true, amRunningMode: 'Passive Mode', realTimeProtectionEnabled: false }, passiveModePolicy: {}, services: [] }));
      expect(finding).toMatchObject({ value: false });
      expect(finding.detail).toMatch(/Old AV on \(productState 266256 = 0x41010, signatures out of date\).*not protecting/);
    });
    it('a Security Center entry left by an uninstalled product (its program is gone) is not protection', () => {
      const finding = parseAntivirusOutput(JSON.stringify({ wsc: [{ name: 'Removed AV', productState: 266240, exe: 'C:\\Program Files\\Removed\\av.exe', exeExists: false }], defender: { installed: true, amRunningMode: 'Passive Mode', realTimeProtectionEnabled: false }, passiveModePolicy: {}, services: [] }));
      expect(finding).toMatchObject({ value: false });
      expect(finding.detail).toMatch(/its program is gone: an entry left by an uninstalled product/);
      const present = parseAntivirusOutput(JSON.stringify({ wsc: [{ name: 'Real AV', productState: 266240, exe: 'C:\\Program Files\\Real\\av.exe', exeExists: true }], defender: null, services: null }));
      expect(present).toMatchObject({ value: true });
    });
  });

  it('a lone WSC product printed as an object (PS 5.1) still counts', () => {
    const text = JSON.stringify({ wsc: { name: 'Windows Defender', productState: 397568 }, defender: null, services: null });
    expect(parseAntivirusOutput(text)).toMatchObject({ value: true });
  });
  it.each(HOSTILE)('$name → null $reason', ({ input, reason }) => {
    expect(parseAntivirusOutput(input)).toMatchObject({ value: null, reason });
  });
});

describe('patch age (WUA history / Get-HotFix)', () => {
  const history = (name: string) => fixture(`windows/windows-update/${name}`);
  const november = new Date('2024-11-21T12:00:00Z');
  const cases: Array<Case & { now: Date }> = [
    { name: 'newest non-definition update is the cumulative update → 8 days', input: history('history-cumulative-update.reconstructed.json'), now: november, value: 8, method: 'wua:QueryHistory', detail: /2024-11-13T09:31:40.000Z \(2024-11 Cumulative Update .*KB5046617\)/, facts: { excluded_definition_updates: 2 } },
    { name: 'only definition updates → Get-HotFix fallback', input: history('history-definitions-only-hotfix-fallback.reconstructed.json'), now: new Date('2023-06-01T00:00:00Z'), value: 20, method: 'Get-HotFix', detail: /only Defender definition\/platform packages.*KB5026446/ },
    { name: 'WUA service disabled → Get-HotFix fallback', input: history('wua-service-disabled-hotfix-fallback.reconstructed.json'), now: new Date('2023-06-01T00:00:00Z'), value: 20, method: 'Get-HotFix', detail: /0x80070422/ },
    { name: 'empty history and no hotfix → null no_history', input: history('history-empty.reconstructed.json'), now: november, value: null, reason: 'no_history', detail: /lists no successful installation/ },
    { name: 'both probes failed → null', input: history('all-probes-failed.reconstructed.json'), now: november, value: null, reason: 'command_failed', detail: /Get-HotFix failed/ },
    { name: 'a future date clamps to 0 and says so', input: history('history-cumulative-update.reconstructed.json'), now: new Date('2024-11-01T00:00:00Z'), value: 0, detail: /clamped to 0/, facts: { clamped_future_date: true } },
  ];
  it.each(cases)('$name', (c) => check(parseUpdateHistoryOutput(c.input, c.now), c));

  it('matches excluded KBs by number even in a localized title', () => {
    const text = JSON.stringify({ history: [{ date: '2024-11-20T00:00:00.0000000Z', kb: '', title: 'Security Intelligence-Update für Microsoft Defender Antivirus – KB2267602 (Version 1.421.1.0)' }, { date: '2024-11-13T00:00:00.0000000Z', kb: 'KB5046617', title: '2024-11 Kumulatives Update für Windows 11 Version 24H2 für x64-basierte Systeme (KB5046617)' }] });
    expect(parseUpdateHistoryOutput(text, new Date('2024-11-21T00:00:00Z'))).toMatchObject({ value: 8 });
  });
  it('a feature update without a KB counts', () => {
    const text = JSON.stringify({ history: [{ date: '2024-11-01T00:00:00Z', kb: '', title: 'Windows 11, version 24H2' }] });
    expect(parseUpdateHistoryOutput(text, new Date('2024-11-21T00:00:00Z'))).toMatchObject({ value: 20 });
  });
  it('rows with unusable dates are skipped, not trusted', () => {
    const text = JSON.stringify({ history: [{ date: '/Date(1700000000000)/', kb: 'KB1' }, { date: 'yesterday' }], hotfixes: [] });
    expect(parseUpdateHistoryOutput(text, november)).toMatchObject({ value: null, reason: 'no_history' });
  });
  it.each(HOSTILE)('$name → null $reason', ({ input, reason }) => {
    expect(parseUpdateHistoryOutput(input, november)).toMatchObject({ value: null, reason });
  });
});

describe('os version (CurrentVersion registry key)', () => {
  const registry = (name: string) => fixture(`windows/registry/${name}`);
  const cases: Case[] = [
    { name: 'ProductName "Windows 10 Enterprise" on build 26100 → Windows 11 (verbatim, cnquery)', input: registry('windows-11-enterprise-24h2-arm64.json'), value: 'Windows 11 Enterprise 24H2 (build 26100.2033)', detail: /ProductName says "Windows 10 Enterprise" but build 26100/ },
    { name: 'Server 2019 without ProductName (verbatim, cnquery)', input: registry('windows-server-2019-datacenter-eval.json'), value: 'Windows ServerDatacenterEval 1809 (build 17763.720)', detail: /CurrentVersion/ },
    { name: 'Windows 11 Pro 24H2', input: registry('windows-11-pro-24h2.reconstructed.json'), value: 'Windows 11 Pro 24H2 (build 26100.2314)', detail: /build 26100/ },
    { name: 'Windows 10 stays Windows 10', input: registry('windows-10-pro-22h2.reconstructed.json'), value: 'Windows 10 Pro 22H2 (build 19045.4046)', detail: /^Windows 10 Pro/ },
    { name: 'a Server name is never rewritten', input: registry('windows-server-2022-datacenter.reconstructed.json'), value: 'Windows Server 2022 Datacenter 21H2 (build 20348.2700)', detail: /Server 2022/ },
  ];
  it.each(cases)('$name', (c) => check(parseWindowsVersionOutput(c.input), c));

  it('Server 2025 (build 26100) keeps its name', () => {
    const text = JSON.stringify({ ProductName: 'Windows Server 2025 Datacenter', DisplayVersion: '24H2', CurrentBuild: '26100', UBR: 2314, InstallationType: 'Server' });
    expect(parseWindowsVersionOutput(text).value).toBe('Windows Server 2025 Datacenter 24H2 (build 26100.2314)');
  });
  it.each(HOSTILE.filter((c) => c.name !== 'an object of the wrong shape'))('$name → null $reason', ({ input, reason }) => {
    expect(parseWindowsVersionOutput(input)).toMatchObject({ value: null, reason });
  });
  it('an object without ProductName or CurrentBuild → null', () => {
    expect(parseWindowsVersionOutput('{"foo":1}')).toMatchObject({ value: null, reason: 'unparsed_output' });
  });
});
