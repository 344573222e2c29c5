/**
 * The macOS parsers, on every recorded fixture plus empty, malformed and wrong-typed input.
 * Pure functions: these run on every OS.
 */
import { buildBinary } from 'plist';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../collectors/types.ts';
import { decideDarwinAntivirus, type DarwinAntivirusProbes } from '../../collectors/parsers/darwin-antivirus.ts';
import { parseApfsList } from '../../collectors/parsers/darwin-diskutil.ts';
import { parseFdesetupStatus } from '../../collectors/parsers/darwin-fdesetup.ts';
import {
  decideDarwinPatchAge,
  isOsUpdate,
  parseInstallHistory,
  type InstallEntry,
} from '../../collectors/parsers/darwin-install-history.ts';
import { parseMdatpHealth } from '../../collectors/parsers/mdatp-health.ts';
import { parseSwVers, parseSystemVersionPlist } from '../../collectors/parsers/darwin-os-version.ts';
import { decodePlist } from '../../collectors/parsers/darwin-plist.ts';
import { parseSocketfilterfwGlobalState } from '../../collectors/parsers/darwin-socketfilterfw.ts';
import { parseSpFirewallJson } from '../../collectors/parsers/darwin-system-profiler.ts';
import { parseSystemExtensionsList } from '../../collectors/parsers/darwin-systemextensionsctl.ts';
import { parseXProtectInfoPlist } from '../../collectors/parsers/darwin-xprotect.ts';
import { capture, fixture } from '../fakes/probe-context.ts';

const NOW = new Date('2026-11-21T12:00:00Z');

interface Case<T> {
  readonly name: string;
  readonly input: string;
  readonly value: T | null;
  readonly reason?: string;
  readonly detail: string | RegExp;
  readonly facts?: Record<string, unknown>;
}

function expectFinding<T>(finding: Finding<T>, expected: Case<T>): void {
  expect(finding.value).toEqual(expected.value);
  expect(finding.reason).toBe(expected.reason);
  if (typeof expected.detail === 'string') expect(finding.detail).toContain(expected.detail);
  else expect(finding.detail).toMatch(expected.detail);
  if (expected.facts) expect(finding.facts).toMatchObject(expected.facts);
}

const GARBAGE = ['', '   \n\n', 'garbage\u0000\u00ff', '{"truncated": ', '<plist><dict><key>a</key>', '[1, 2, 3]', 'null', '42'];

describe('parseFdesetupStatus', () => {
  const cases: Case<boolean>[] = [
    { name: 'on', input: fixture('darwin/fdesetup/on.txt'), value: true, detail: 'FileVault is On.' },
    { name: 'off', input: fixture('darwin/fdesetup/off.txt'), value: false, detail: 'FileVault is Off.' },
    {
      name: 'off with deferred enablement',
      input: fixture('darwin/fdesetup/off-deferred-enablement.txt'),
      value: false,
      detail: 'deferred',
      facts: { deferred_enablement: true },
    },
    {
      name: 'encryption in progress counts as on',
      input: fixture('darwin/fdesetup/on-encryption-in-progress.txt'),
      value: true,
      detail: '42% done',
      facts: { converting: 'encrypting', percent_completed: 42 },
    },
    {
      name: 'encryption pending (on battery)',
      input: fixture('darwin/fdesetup/on-encryption-pending.txt'),
      value: true,
      detail: 'Pending',
      facts: { converting: 'encrypting', progress_state: 'Pending' },
    },
    {
      name: 'decryption in progress is off',
      input: fixture('darwin/fdesetup/off-decryption-in-progress.reconstructed.txt'),
      value: false,
      detail: 'decryption in progress, 73% done',
      facts: { converting: 'decrypting', percent_completed: 73 },
    },
    {
      name: '"On, but needs to be restarted" is not on',
      input: fixture('darwin/fdesetup/on-needs-restart.txt'),
      value: false,
      reason: 'pending_restart',
      detail: 'needs to be restarted',
    },
    {
      name: 'off until the next restart',
      input: fixture('darwin/fdesetup/off-will-enable-after-restart.txt'),
      value: false,
      reason: 'pending_restart',
      detail: 'will be enabled after the next restart',
    },
    {
      name: 'lower-case percent line',
      input: 'FileVault is On.\nEncryption in progress: percent completed = 12.5\n',
      value: true,
      detail: '12.5% done',
    },
    {
      name: 'unrecognised extra line is kept, not decisive',
      input: 'FileVault is On.\nFileVault master keychain appears to be installed.\n',
      value: true,
      detail: 'FileVault is On.',
      facts: { other_lines: ['FileVault master keychain appears to be installed.'] },
    },
    {
      name: 'malformed',
      input: fixture('darwin/fdesetup/malformed.reconstructed.txt'),
      value: null,
      reason: 'unparsed_output',
      detail: 'Unable to communicate',
    },
    { name: 'substring of On is not On', input: 'FileVault is Onward.\n', value: null, reason: 'unparsed_output', detail: 'Onward' },
    { name: 'empty', input: '', value: null, reason: 'empty_output', detail: 'printed nothing' },
  ];
  it.each(cases)('$name', (testCase) => expectFinding(parseFdesetupStatus(testCase.input), testCase));
  it.each(GARBAGE)('never throws on %j', (input) => expect(parseFdesetupStatus(input).value).toBeNull());
});

describe('parseApfsList', () => {
  const cases: Case<boolean>[] = [
    {
      name: 'Data volume with FileVault on',
      input: fixture('darwin/diskutil/apfs-list-data-filevault-on.plist'),
      value: true,
      detail: 'disk3s5',
      facts: { data_volumes: [{ device: 'disk3s5', name: 'Data', filevault: true, hardware_encryption: true }] },
    },
    {
      name: 'hardware encryption without FileVault is off',
      input: fixture('darwin/diskutil/apfs-list-data-filevault-off.reconstructed.plist'),
      value: false,
      detail: 'hardware encryption',
      facts: { data_volumes: [{ device: 'disk3s5', filevault: false, hardware_encryption: true }] },
    },
    {
      // Was unknown (no_data_volume): 10.13/10.14 have no roles; the role-less volume is the boot volume.
      name: 'no roles and no FileVault key (macOS 10.13, a real capture): Encryption false decides',
      input: capture('darwin/diskutil-apfs-list-plist-10.13-unencrypted-no-filevault-key-cauliflowervest.plist').body,
      value: false,
      detail: 'no volume roles',
    },
    {
      name: 'no roles, Encryption on, no FileVault key: hardware encryption cannot be told from FileVault',
      input: capture('darwin/diskutil-apfs-list-plist-10.13-unencrypted-no-filevault-key-cauliflowervest.plist').body.replace('<key>Encryption</key>\n                                        <false/>', '<key>Encryption</key>\n                                        <true/>'),
      value: null,
      reason: 'ambiguous',
      detail: 'hardware encryption',
    },
    {
      name: 'truncated',
      input: fixture('darwin/diskutil/apfs-list-truncated.reconstructed.plist'),
      value: null,
      reason: 'unparsed_output',
      detail: 'truncated',
    },
    {
      name: 'two Data volumes that disagree',
      input: twoDataVolumes(true, false),
      value: null,
      reason: 'ambiguous',
      detail: 'disagree',
    },
    { name: 'two Data volumes that agree', input: twoDataVolumes(true, true), value: true, detail: 'all 2 APFS Data volumes' },
    {
      name: 'FileVault key of the wrong type',
      input: plistXml('<dict><key>Containers</key><array><dict><key>Volumes</key><array><dict><key>DeviceIdentifier</key><string>disk3s5</string><key>FileVault</key><string>Yes</string><key>Roles</key><array><string>Data</string></array></dict></array></dict></array></dict>'),
      value: null,
      reason: 'unparsed_output',
      detail: 'no boolean FileVault',
    },
    {
      name: 'no Containers',
      input: plistXml('<dict><key>Other</key><true/></dict>'),
      value: null,
      reason: 'unparsed_output',
      detail: 'no Containers array',
    },
    { name: 'not a plist', input: 'Error: -69808\n', value: null, reason: 'unparsed_output', detail: 'not an XML plist' },
    { name: 'empty', input: '', value: null, reason: 'empty_output', detail: 'empty' },
  ];
  it.each(cases)('$name', (testCase) => expectFinding(parseApfsList(testCase.input), testCase));
  it.each(GARBAGE)('never throws on %j', (input) => expect(parseApfsList(input).value).toBeNull());
});

describe('parseSocketfilterfwGlobalState', () => {
  const cases: Case<boolean>[] = [
    {
      name: 'state 0',
      input: fixture('darwin/socketfilterfw/state-0-disabled.txt'),
      value: false,
      detail: 'global state 0',
      facts: { global_state: 0 },
    },
    {
      name: 'state 1 with trailing space',
      input: fixture('darwin/socketfilterfw/state-1-enabled.txt'),
      value: true,
      detail: 'global state 1',
      facts: { global_state: 1 },
    },
    {
      name: 'state 2 without the word enabled',
      input: fixture('darwin/socketfilterfw/state-2-blocking-all.txt'),
      value: true,
      detail: 'global state 2',
      facts: { global_state: 2 },
    },
    {
      name: 'state 2 among other flags',
      input: fixture('darwin/socketfilterfw/state-2-multi-flag.txt'),
      value: true,
      detail: 'global state 2',
    },
    {
      name: 'state 1 with a stealth-mode error line',
      input: fixture('darwin/socketfilterfw/state-1-stealth-key-error.txt'),
      value: true,
      detail: 'global state 1',
    },
    {
      name: 'malformed (kolide test-data)',
      input: fixture('darwin/socketfilterfw/malformed.txt'),
      value: null,
      reason: 'unparsed_output',
      detail: 'no "(State = N)" line',
    },
    {
      name: 'unknown state number',
      input: 'Firewall is enabled. (State = 4)\n',
      value: null,
      reason: 'unparsed_output',
      detail: 'unknown Application Firewall state 4',
    },
    {
      name: 'conflicting states',
      input: 'Firewall is disabled. (State = 0)\nFirewall is enabled. (State = 1)\n',
      value: null,
      reason: 'unparsed_output',
      detail: 'conflicting',
    },
    { name: 'empty', input: '\n', value: null, reason: 'empty_output', detail: 'printed nothing' },
  ];
  it.each(cases)('$name', (testCase) => expectFinding(parseSocketfilterfwGlobalState(testCase.input), testCase));
  it.each(GARBAGE)('never throws on %j', (input) => expect(parseSocketfilterfwGlobalState(input).value).toBeNull());
});

describe('parseSpFirewallJson', () => {
  const cases: Case<boolean>[] = [
    {
      name: 'limit connections',
      input: fixture('darwin/system_profiler/firewall-limit-connections.reconstructed.json'),
      value: true,
      detail: 'spfirewall_globalstate_limit_connections',
      facts: { global_state: 1, stealth_enabled: 'No' },
    },
    {
      name: 'allow all is off',
      input: fixture('darwin/system_profiler/firewall-allow-all.reconstructed.json'),
      value: false,
      detail: 'spfirewall_globalstate_allow_all',
      facts: { global_state: 0 },
    },
    {
      name: 'block all',
      input: fixture('darwin/system_profiler/firewall-block-all.reconstructed.json'),
      value: true,
      detail: 'spfirewall_globalstate_block_all',
      facts: { global_state: 2, stealth_enabled: 'Yes' },
    },
    {
      name: 'unconfirmed enum value',
      input: fixture('darwin/system_profiler/firewall-unknown-state.reconstructed.json'),
      value: null,
      reason: 'unparsed_output',
      detail: 'spfirewall_globalstate_off',
    },
    {
      name: 'truncated JSON',
      input: fixture('darwin/system_profiler/firewall-truncated.reconstructed.json'),
      value: null,
      reason: 'unparsed_output',
      detail: 'not JSON',
    },
    {
      name: 'empty data type array',
      input: '{"SPFirewallDataType":[]}',
      value: null,
      reason: 'unparsed_output',
      detail: 'no spfirewall_globalstate',
    },
    {
      name: 'wrong type for the state',
      input: '{"SPFirewallDataType":[{"spfirewall_globalstate":1}]}',
      value: null,
      reason: 'unparsed_output',
      detail: 'no spfirewall_globalstate',
    },
    { name: 'other data type', input: '{"SPNetworkDataType":[]}', value: null, reason: 'unparsed_output', detail: 'no SPFirewallDataType' },
    { name: 'empty', input: '', value: null, reason: 'empty_output', detail: 'printed nothing' },
  ];
  it.each(cases)('$name', (testCase) => expectFinding(parseSpFirewallJson(testCase.input), testCase));
  it.each(GARBAGE)('never throws on %j', (input) => expect(parseSpFirewallJson(input).value).toBeNull());
});

describe('parseXProtectInfoPlist', () => {
  it('reads the version', () => {
    const parsed = parseXProtectInfoPlist(fixture('darwin/xprotect/info.reconstructed.plist'));
    expect(parsed).toEqual({ ok: true, value: { version: '5329', bundle_id: 'com.apple.XProtectFramework.plugin-data' } });
  });
  it('reads a binary plist', () => {
    const parsed = parseXProtectInfoPlist(buildBinary({ CFBundleShortVersionString: '5330' }));
    expect(parsed).toEqual({ ok: true, value: { version: '5330' } });
  });
  it.each([
    ['no version key', fixture('darwin/xprotect/info-without-version.reconstructed.plist'), 'unparsed_output', 'no CFBundleShortVersionString'],
    ['not a dictionary', plistXml('<array><string>5329</string></array>'), 'unparsed_output', 'not a dictionary'],
    ['empty', '', 'empty_output', 'empty'],
    ['garbage', 'not a plist', 'unparsed_output', 'not an XML plist'],
  ])('%s is unknown', (_name, input, reason, detail) => {
    const parsed = parseXProtectInfoPlist(input);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.finding.reason).toBe(reason);
      expect(parsed.finding.detail).toContain(detail);
    }
  });
  it.each(GARBAGE)('never throws on %j', (input) => expect(parseXProtectInfoPlist(input).ok).toBe(false));
});

describe('parseSystemExtensionsList', () => {
  it('lists a non-EDR extension (LuLu) and no EDR', () => {
    const parsed = parseSystemExtensionsList(fixture('darwin/systemextensionsctl/lulu-network-extension.txt'));
    expect(parsed.ok).toBe(true);
    if (parsed.ok) {
      expect(parsed.value.declared_count).toBe(1);
      expect(parsed.value.extensions).toEqual([
        {
          category: 'com.apple.system_extension.network_extension',
          team_id: 'VBG97UB4TA',
          bundle_id: 'com.objective-see.lulu.extension',
          version: '2.3.0/2.3.0',
          name: 'Extension',
          state: 'activated enabled',
        },
      ]);
      expect(parsed.value.edr).toEqual([]);
    }
  });
  it('finds active CrowdStrike and Defender extensions', () => {
    const parsed = parseSystemExtensionsList(fixture('darwin/systemextensionsctl/crowdstrike-defender-activated.reconstructed.txt'));
    expect(parsed.ok && parsed.value.edr.map((edr) => [edr.product, edr.active])).toEqual([
      ['CrowdStrike Falcon', true],
      ['Microsoft Defender for Endpoint', true],
    ]);
  });
  it('does not count extensions that are waiting for the user or terminated', () => {
    const parsed = parseSystemExtensionsList(fixture('darwin/systemextensionsctl/crowdstrike-waiting-for-user.reconstructed.txt'));
    expect(parsed.ok && parsed.value.edr.map((edr) => [edr.state, edr.active])).toEqual([
      ['activated waiting for user', false],
      ['terminated waiting to uninstall on reboot', false],
    ]);
  });
  it('needs the exact vendor prefix', () => {
    const parsed = parseSystemExtensionsList(
      '1 extension(s)\n--- com.apple.system_extension.endpoint_security\n*\t*\tAAAAAAAAAA\tcom.sophosfake.agent (1.0/1)\tFake\t[activated enabled]\n',
    );
    expect(parsed.ok && parsed.value.edr).toEqual([]);
  });
  it.each([
    ['an error message', fixture('darwin/systemextensionsctl/list-failed-sandbox.stderr.txt'), 'unparsed_output', 'list command failed'],
    ['a row without columns', '1 extension(s)\n--- x\n*  *  TEAM  com.crowdstrike.falcon.Agent  [activated enabled]\n', 'unparsed_output', 'unrecognised system extension row'],
    ['empty', '', 'empty_output', 'printed nothing'],
  ])('%s is unknown', (_name, input, reason, detail) => {
    const parsed = parseSystemExtensionsList(input);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.finding.reason).toBe(reason);
      expect(parsed.finding.detail).toContain(detail);
    }
  });
  it('accepts zero extensions', () => {
    expect(parseSystemExtensionsList('0 extension(s)\n')).toMatchObject({ ok: true, value: { declared_count: 0, edr: [] } });
  });
  it.each(GARBAGE)('never throws on %j', (input) => expect(parseSystemExtensionsList(input).ok).toBe(false));
});

describe('parseMdatpHealth', () => {
  it('healthy with real-time protection is active', () => {
    expect(parseMdatpHealth(fixture('darwin/mdatp/health-healthy-101.98.30.json'))).toEqual({
      ok: true,
      value: {
        healthy: true,
        real_time_protection: true,
        passive_mode: false,
        app_version: '101.98.30',
        definitions_status: 'upToDate',
        definitions_age_days: 0,
        active: true,
      },
    });
  });
  it('real-time protection off is not active', () => {
    const parsed = parseMdatpHealth(fixture('darwin/mdatp/health-real-time-off.reconstructed.json'));
    expect(parsed).toMatchObject({
      ok: true,
      value: { healthy: false, real_time_protection: false, active: false, health_issues: ['real-time protection is disabled'] },
    });
  });
  it('passive mode is not active', () => {
    const parsed = parseMdatpHealth('{"healthy":true,"realTimeProtectionEnabled":true,"passiveModeEnabled":{"value":true}}');
    expect(parsed).toMatchObject({ ok: true, value: { passive_mode: true, active: false } });
  });
  it.each([
    ['no real-time key', '{"healthy":true}', 'unparsed_output', 'no boolean realTimeProtectionEnabled'],
    ['string instead of boolean', '{"realTimeProtectionEnabled":{"value":"true"}}', 'unparsed_output', 'no boolean'],
    ['an array', '[]', 'unparsed_output', 'not an object'],
    ['not JSON', 'ERROR: Daemon not running', 'unparsed_output', 'not JSON'],
    ['empty', '', 'empty_output', 'printed nothing'],
  ])('%s is unknown', (_name, input, reason, detail) => {
    const parsed = parseMdatpHealth(input);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.finding.reason).toBe(reason);
      expect(parsed.finding.detail).toContain(detail);
    }
  });
  it.each(GARBAGE)('never throws on %j', (input) => expect(parseMdatpHealth(input).ok).toBe(false));
});

describe('decideDarwinAntivirus', () => {
  const present = { state: 'present', version: '5329', path: '/Library/…/Info.plist' } as const;
  const absent = { state: 'absent', paths: ['/a', '/b'] } as const;
  const noExtensions = { state: 'listed', edr: [] } as const;
  const failed = {
    state: 'failed',
    finding: { value: null, reason: 'timeout', method: 'systemextensionsctl', detail: 'timed out' },
  } as const;
  const cases: Array<{ name: string; probes: DarwinAntivirusProbes; value: boolean | null; reason?: string; detail: string }> = [
    {
      name: 'XProtect alone',
      probes: { xprotect: present, systemExtensions: noExtensions, mdatp: { state: 'not_installed' } },
      value: true,
      reason: 'builtin_xprotect',
      detail: 'XProtect 5329',
    },
    {
      name: 'XProtect wins over a failed EDR probe',
      probes: { xprotect: present, systemExtensions: failed, mdatp: { state: 'not_installed' } },
      value: true,
      reason: 'builtin_xprotect',
      detail: 'XProtect 5329',
    },
    {
      name: 'nothing, every probe succeeded',
      probes: { xprotect: absent, systemExtensions: noExtensions, mdatp: { state: 'not_installed' } },
      value: false,
      detail: 'XProtect is missing',
    },
    {
      name: 'nothing seen, one probe failed',
      probes: { xprotect: absent, systemExtensions: failed, mdatp: { state: 'not_installed' } },
      value: null,
      reason: 'timeout',
      detail: 'systemextensionsctl: timed out',
    },
  ];
  it.each(cases)('$name', ({ probes, value, reason, detail }) => {
    const finding = decideDarwinAntivirus(probes);
    expect(finding.value).toBe(value);
    expect(finding.reason).toBe(reason);
    expect(finding.detail).toContain(detail);
  });
});

describe('InstallHistory.plist', () => {
  const cases: Case<number>[] = [
    {
      name: 'OS update, then package installs that do not count',
      input: fixture('darwin/install-history/macos-13.4.1-then-packages.plist'),
      value: 1223,
      detail: '"macOS 13.4.1"',
      facts: { last_update: { installed_at: '2023-07-17T08:45:50.000Z' }, last_any_install_at: '2024-05-08T13:13:12.000Z' },
    },
    {
      name: 'data feeds after the OS update do not count',
      input: fixture('darwin/install-history/sequoia-15.7.2-then-xprotect.reconstructed.plist'),
      value: 19,
      detail: '"macOS Sequoia 15.7.2"',
      facts: { os_update_entries: 2 },
    },
    {
      name: 'a Rapid Security Response counts',
      input: fixture('darwin/install-history/rapid-security-response.reconstructed.plist'),
      value: 1227,
      detail: '13.4.1 (a)',
    },
    {
      name: 'an upgrade of an Apple package counts',
      input: fixture('darwin/install-history/safari-upgrade-after-os-update.reconstructed.plist'),
      value: 10,
      detail: '"Safari" (26.1)',
    },
    {
      name: 'a future date is clamped to 0',
      input: fixture('darwin/install-history/future-date.reconstructed.plist'),
      value: 0,
      detail: 'clamped to 0',
      facts: { clamped_from_days: -4 },
    },
    {
      name: 'only config-data entries',
      input: fixture('darwin/install-history/config-data-only.plist'),
      value: null,
      reason: 'no_history',
      detail: 'none of the 2 install records',
    },
    {
      name: 'a first install through Software Update is not patching',
      input: fixture('darwin/install-history/clt-first-install-via-softwareupdated.plist'),
      value: null,
      reason: 'no_history',
      detail: 'none of the 5 install records',
    },
    {
      name: 'an empty history',
      input: plistXml('<array/>'),
      value: null,
      reason: 'no_history',
      detail: 'records no installs',
    },
  ];
  it.each(cases)('$name', (testCase) => {
    const history = parseInstallHistory(testCase.input);
    expect(history.ok).toBe(true);
    if (history.ok) expectFinding(decideDarwinPatchAge(history.value, NOW), testCase);
  });

  it('reads a binary plist', () => {
    const bytes = buildBinary([
      { date: new Date('2026-11-01T00:00:00Z'), displayName: 'macOS 15.7.2', displayVersion: '15.7.2', processName: 'softwareupdated' },
    ]);
    const history = parseInstallHistory(bytes);
    expect(history.ok && decideDarwinPatchAge(history.value, NOW).value).toBe(20);
  });

  it('skips records without a valid date and counts them', () => {
    const history = parseInstallHistory(
      plistXml(
        '<array><dict><key>displayName</key><string>macOS 15.7.2</string><key>processName</key><string>softwareupdated</string></dict><dict><key>date</key><date>not a date</date><key>displayName</key><string>macOS 15.7.3</string><key>processName</key><string>softwareupdated</string></dict><string>stray</string></array>',
      ),
    );
    expect(history).toMatchObject({ ok: true, value: { entries: [], skipped: 3 } });
  });

  it.each([
    ['truncated', fixture('darwin/install-history/truncated.reconstructed.plist'), 'unparsed_output', 'truncated'],
    ['not an array', plistXml('<dict/>'), 'unparsed_output', 'not an array'],
    ['empty', '', 'empty_output', 'empty'],
  ])('%s is unknown', (_name, input, reason, detail) => {
    const history = parseInstallHistory(input);
    expect(history.ok).toBe(false);
    if (!history.ok) {
      expect(history.finding.reason).toBe(reason);
      expect(history.finding.detail).toContain(detail);
    }
  });
  it.each(GARBAGE)('never throws on %j', (input) => expect(parseInstallHistory(input).ok).toBe(false));

  it.each<[string, Partial<InstallEntry>, boolean]>([
    ['macOS update', { displayName: 'macOS 14.4', processName: 'softwareupdated' }, true],
    ['major upgrade', { displayName: 'macOS Sonoma', processName: 'macOS Installer' }, true],
    ['legacy security update', { displayName: 'Security Update 2021-005', processName: 'Software Update' }, true],
    ['RSR', { displayName: 'Rapid Security Response macOS 13.4.1 (a)', processName: 'softwareupdated' }, true],
    ['XProtect feed', { displayName: 'XProtectPlistConfigData', processName: 'softwareupdated' }, false],
    ['config-data flag', { displayName: 'macOS Something', processName: 'softwareupdated', contentType: 'config-data' }, false],
    ['bridgeOS', { displayName: 'BridgeOSUpdateCustomer', processName: 'softwareupdated' }, false],
    ['installer pkg named macOS', { displayName: 'macOS 15.0', processName: 'installer' }, false],
    ['App Store app', { displayName: 'Xcode', processName: 'appstoreagent' }, false],
  ])('isOsUpdate: %s', (_name, partial, expected) => {
    const entry: InstallEntry = {
      date: new Date('2026-01-01T00:00:00Z'),
      displayName: '',
      displayVersion: '',
      processName: '',
      packageIdentifiers: [],
      ...partial,
    };
    expect(isOsUpdate(entry, [entry])).toBe(expected);
  });
});

describe('os version', () => {
  const cases: Array<Case<string> & { parse: (input: string) => Finding<string> }> = [
    {
      name: 'sw_vers with a Rapid Security Response',
      parse: parseSwVers,
      input: fixture('darwin/sw_vers/13.3.1-rsr-a.txt'),
      value: 'macOS 13.3.1 (a) (22E772610a)',
      detail: '13.3.1 (a)',
      facts: { product_version_extra: '(a)', build_version: '22E772610a' },
    },
    {
      name: 'sw_vers',
      parse: parseSwVers,
      input: fixture('darwin/sw_vers/15.7.2.reconstructed.txt'),
      value: 'macOS 15.7.2 (24G325)',
      detail: 'macOS 15.7.2 (24G325)',
    },
    {
      name: 'sw_vers from Mac OS X with single tabs',
      parse: parseSwVers,
      input: 'ProductName:\tMac OS X\nProductVersion:\t10.15.7\nBuildVersion:\t19H2\n',
      value: 'Mac OS X 10.15.7 (19H2)',
      detail: 'Mac OS X 10.15.7',
    },
    {
      name: 'sw_vers without a version',
      parse: parseSwVers,
      input: 'ProductName:\t\tmacOS\n',
      value: null,
      reason: 'unparsed_output',
      detail: 'no ProductVersion',
    },
    {
      name: 'sw_vers with a non-numeric version',
      parse: parseSwVers,
      input: 'ProductName: macOS\nProductVersion: fifteen\n',
      value: null,
      reason: 'unparsed_output',
      detail: 'not a version number',
    },
    { name: 'sw_vers empty', parse: parseSwVers, input: '', value: null, reason: 'empty_output', detail: 'printed nothing' },
    {
      name: 'SystemVersion.plist',
      parse: parseSystemVersionPlist,
      input: fixture('darwin/system-version/SystemVersion-12.3.plist'),
      value: 'macOS 12.3 (21E5227a)',
      detail: 'SystemVersion.plist reports macOS 12.3',
      facts: { rapid_security_response_may_be_missing: true },
    },
    {
      name: 'SystemVersion.plist without ProductName',
      parse: parseSystemVersionPlist,
      input: plistXml('<dict><key>ProductVersion</key><string>15.0</string></dict>'),
      value: null,
      reason: 'unparsed_output',
      detail: 'no ProductName',
    },
    { name: 'SystemVersion.plist empty', parse: parseSystemVersionPlist, input: '', value: null, reason: 'empty_output', detail: 'empty' },
  ];
  it.each(cases)('$name', (testCase) => expectFinding(testCase.parse(testCase.input), testCase));
  it.each(GARBAGE)('sw_vers never throws on %j', (input) => expect(parseSwVers(input).value).toBeNull());
  it.each(GARBAGE)('SystemVersion.plist never throws on %j', (input) => expect(parseSystemVersionPlist(input).value).toBeNull());
});

describe('decodePlist', () => {
  it.each([
    ['binary plist read as text', 'bplist00\u0000garbage', 'binary plist read as text'],
    ['damaged binary plist', new Uint8Array([...Buffer.from('bplist00'), 1, 2, 3]), 'damaged binary plist'],
    ['invalid XML inside a plist envelope', '<plist version="1.0"><dict><key>a</key><string>x</dict></plist>', 'not a valid plist: Opening and ending tag mismatch'],
  ])('%s is unparsed', (_name, input, detail) => {
    const decoded = decodePlist(input, 'input');
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.detail).toContain(detail);
  });
});

function plistXml(body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0">\n${body}\n</plist>\n`;
}

function twoDataVolumes(first: boolean, second: boolean): string {
  const volume = (device: string, filevault: boolean) =>
    `<dict><key>DeviceIdentifier</key><string>${device}</string><key>Encryption</key><true/><key>FileVault</key><${filevault}/><key>Name</key><string>Data</string><key>Roles</key><array><string>Data</string></array></dict>`;
  return plistXml(
    `<dict><key>Containers</key><array><dict><key>Volumes</key><array>${volume('disk3s5', first)}</array></dict><dict><key>Volumes</key><array>${volume('disk5s2', second)}</array></dict></array></dict>`,
  );
}
