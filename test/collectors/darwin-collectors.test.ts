/**
 * The macOS collectors end to end against recorded hosts: each signal on, off and unknown
 * (tool missing, permission denied, non-zero exit, timeout, malformed or empty output) and
 * every fallback chain. Commands absent from a fake host are "not installed".
 */
import { describe, expect, it } from 'vitest';
import { runCollector } from '../../collectors/collect.ts';
import { darwinCollectors } from '../../collectors/darwin/index.ts';
import { INSTALL_HISTORY_PLIST } from '../../collectors/darwin/patch-age.ts';
import { SYSTEM_VERSION_PLIST } from '../../collectors/parsers/darwin-os-version.ts';
import { XPROTECT_INFO_PLISTS } from '../../collectors/parsers/darwin-xprotect.ts';
import type { Collector, SignalKey, SignalValue } from '../../collectors/types.ts';
import { SIGNAL_KEYS } from '../../collectors/types.ts';
import { fakeContext, fixture, type FakeHost } from '../fakes/probe-context.ts';

const [XPROTECT_LIBRARY, XPROTECT_PROTECTED] = XPROTECT_INFO_PLISTS;

const FDESETUP = 'fdesetup status';
const DISKUTIL = 'diskutil apfs list -plist';
const SOCKETFILTERFW = 'socketfilterfw --getglobalstate';
const SYSTEM_PROFILER = 'system_profiler -json SPFirewallDataType';
const SYSTEMEXTENSIONSCTL = 'systemextensionsctl list';
const MDATP = 'mdatp-darwin health --output json';
const SW_VERS = 'sw_vers';

interface CollectorCase<K extends SignalKey> {
  readonly name: string;
  readonly host: Omit<FakeHost, 'platform'>;
  readonly value: SignalValue<K> | null;
  readonly reason?: string;
  readonly method: string;
  /** A substring the detail must contain: the key fact. */
  readonly detail: string;
  readonly facts?: Record<string, unknown>;
  /** The commands run, in order (when the chain matters). */
  readonly ran?: readonly string[];
}

async function check<K extends SignalKey>(collector: Collector<K>, testCase: CollectorCase<K>): Promise<void> {
  const ctx = fakeContext({ platform: 'darwin', ...testCase.host });
  const finding = await collector.collect(ctx);
  expect(finding.value).toEqual(testCase.value);
  expect(finding.reason).toBe(testCase.reason);
  expect(finding.method).toBe(testCase.method);
  expect(finding.detail).toContain(testCase.detail);
  if (testCase.facts) expect(finding.facts).toMatchObject(testCase.facts);
  if (testCase.ran) expect(ctx.ran).toEqual(testCase.ran);
}

const out = (path: string) => ({ stdout: fixture(path) });

describe('darwin disk_encrypted', () => {
  const cases: CollectorCase<'disk_encrypted'>[] = [
    {
      name: 'FileVault on',
      host: { commands: { [FDESETUP]: out('darwin/fdesetup/on.txt') } },
      value: true,
      method: 'fdesetup',
      detail: 'FileVault is On.',
      ran: [FDESETUP],
    },
    {
      name: 'FileVault off',
      host: { commands: { [FDESETUP]: out('darwin/fdesetup/off.txt') } },
      value: false,
      method: 'fdesetup',
      detail: 'FileVault is Off.',
      ran: [FDESETUP],
    },
    {
      name: 'encrypting counts as on, with the sub-state',
      host: { commands: { [FDESETUP]: out('darwin/fdesetup/on-encryption-in-progress.txt') } },
      value: true,
      method: 'fdesetup',
      detail: '42% done',
      facts: { converting: 'encrypting', percent_completed: 42 },
    },
    {
      name: 'on, but needs a restart, is off (pending_restart)',
      host: { commands: { [FDESETUP]: out('darwin/fdesetup/on-needs-restart.txt') } },
      value: false,
      reason: 'pending_restart',
      method: 'fdesetup',
      detail: 'needs to be restarted',
      ran: [FDESETUP],
    },
    {
      name: 'decrypting is off',
      host: { commands: { [FDESETUP]: out('darwin/fdesetup/off-decryption-in-progress.reconstructed.txt') } },
      value: false,
      method: 'fdesetup',
      detail: 'decryption in progress',
    },
    {
      name: 'fdesetup missing → diskutil Data volume FileVault on',
      host: { commands: { [DISKUTIL]: out('darwin/diskutil/apfs-list-data-filevault-on.plist') } },
      value: true,
      method: 'diskutil',
      detail: 'disk3s5',
      facts: { primary: { method: 'fdesetup', reason: 'tool_missing' } },
      ran: [FDESETUP, DISKUTIL],
    },
    {
      name: 'fdesetup malformed → diskutil: hardware encryption only is off',
      host: {
        commands: {
          [FDESETUP]: out('darwin/fdesetup/malformed.reconstructed.txt'),
          [DISKUTIL]: out('darwin/diskutil/apfs-list-data-filevault-off.reconstructed.plist'),
        },
      },
      value: false,
      method: 'diskutil',
      detail: 'FileVault off',
      facts: { primary: { reason: 'unparsed_output' } },
    },
    {
      name: 'fdesetup timeout, diskutil missing',
      host: { commands: { [FDESETUP]: { failure: 'timeout' } } },
      value: null,
      reason: 'timeout',
      method: 'fdesetup',
      detail: 'fallback diskutil',
      ran: [FDESETUP, DISKUTIL],
    },
    {
      name: 'fdesetup permission denied, diskutil output truncated',
      host: {
        commands: {
          [FDESETUP]: { failure: 'permission_denied' },
          [DISKUTIL]: out('darwin/diskutil/apfs-list-truncated.reconstructed.plist'),
        },
      },
      value: null,
      reason: 'needs_privilege',
      method: 'fdesetup',
      detail: 'truncated',
      facts: { fallback: { method: 'diskutil', reason: 'unparsed_output' } },
    },
    {
      name: 'fdesetup non-zero exit, diskutil has no APFS volume at all',
      host: {
        commands: {
          [FDESETUP]: { exitCode: 1, stderr: 'Error: Unable to determine FileVault status.' },
          [DISKUTIL]: { stdout: '<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>Containers</key><array/></dict></plist>' },
        },
      },
      value: null,
      reason: 'command_failed',
      method: 'fdesetup',
      detail: 'exited with 1',
      facts: { fallback: { reason: 'no_data_volume' } },
    },
    {
      name: 'fdesetup empty output, diskutil non-zero exit',
      host: { commands: { [FDESETUP]: { stdout: '' }, [DISKUTIL]: { exitCode: 1, stderr: 'Error: -69808' } } },
      value: null,
      reason: 'empty_output',
      method: 'fdesetup',
      detail: 'printed nothing',
    },
  ];
  it.each(cases)('$name', (testCase) => check(darwinCollectors.disk_encrypted, testCase));
});

describe('darwin firewall_enabled', () => {
  const cases: CollectorCase<'firewall_enabled'>[] = [
    {
      name: 'state 0 is off',
      host: { commands: { [SOCKETFILTERFW]: out('darwin/socketfilterfw/state-0-disabled.txt') } },
      value: false,
      method: 'socketfilterfw',
      detail: 'global state 0',
      ran: [SOCKETFILTERFW],
    },
    {
      name: 'state 1 is on',
      host: { commands: { [SOCKETFILTERFW]: out('darwin/socketfilterfw/state-1-enabled.txt') } },
      value: true,
      method: 'socketfilterfw',
      detail: 'global state 1',
    },
    {
      name: 'state 2 (block all) is on',
      host: { commands: { [SOCKETFILTERFW]: out('darwin/socketfilterfw/state-2-blocking-all.txt') } },
      value: true,
      method: 'socketfilterfw',
      detail: 'global state 2',
      facts: { global_state: 2 },
    },
    {
      name: 'state 2 among other flags is on',
      host: { commands: { [SOCKETFILTERFW]: out('darwin/socketfilterfw/state-2-multi-flag.txt') } },
      value: true,
      method: 'socketfilterfw',
      detail: 'global state 2',
    },
    {
      name: 'socketfilterfw missing → system_profiler limit_connections',
      host: { commands: { [SYSTEM_PROFILER]: out('darwin/system_profiler/firewall-limit-connections.reconstructed.json') } },
      value: true,
      method: 'system_profiler',
      detail: 'spfirewall_globalstate_limit_connections',
      facts: { primary: { reason: 'tool_missing' } },
      ran: [SOCKETFILTERFW, SYSTEM_PROFILER],
    },
    {
      name: 'socketfilterfw malformed → system_profiler allow_all is off',
      host: {
        commands: {
          [SOCKETFILTERFW]: out('darwin/socketfilterfw/malformed.txt'),
          [SYSTEM_PROFILER]: out('darwin/system_profiler/firewall-allow-all.reconstructed.json'),
        },
      },
      value: false,
      method: 'system_profiler',
      detail: 'spfirewall_globalstate_allow_all',
    },
    {
      name: 'socketfilterfw timeout → system_profiler block_all',
      host: {
        commands: {
          [SOCKETFILTERFW]: { failure: 'timeout' },
          [SYSTEM_PROFILER]: out('darwin/system_profiler/firewall-block-all.reconstructed.json'),
        },
      },
      value: true,
      method: 'system_profiler',
      detail: 'global state 2',
    },
    {
      name: 'socketfilterfw permission denied, system_profiler unknown enum',
      host: {
        commands: {
          [SOCKETFILTERFW]: { failure: 'permission_denied' },
          [SYSTEM_PROFILER]: out('darwin/system_profiler/firewall-unknown-state.reconstructed.json'),
        },
      },
      value: null,
      reason: 'needs_privilege',
      method: 'socketfilterfw',
      detail: 'spfirewall_globalstate_off',
    },
    {
      name: 'socketfilterfw non-zero exit, system_profiler truncated',
      host: {
        commands: {
          [SOCKETFILTERFW]: { exitCode: 255, stderr: 'socketfilterfw: internal error' },
          [SYSTEM_PROFILER]: out('darwin/system_profiler/firewall-truncated.reconstructed.json'),
        },
      },
      value: null,
      reason: 'command_failed',
      method: 'socketfilterfw',
      detail: 'exited with 255',
      facts: { fallback: { reason: 'unparsed_output' } },
    },
    {
      name: 'both tools missing',
      host: {},
      value: null,
      reason: 'tool_missing',
      method: 'socketfilterfw',
      detail: 'not installed',
      ran: [SOCKETFILTERFW, SYSTEM_PROFILER],
    },
  ];
  it.each(cases)('$name', (testCase) => check(darwinCollectors.firewall_enabled, testCase));
});

describe('darwin antivirus_enabled', () => {
  const xprotect = { [XPROTECT_LIBRARY]: fixture('darwin/xprotect/info.reconstructed.plist') };
  const lulu = { [SYSTEMEXTENSIONSCTL]: out('darwin/systemextensionsctl/lulu-network-extension.txt') };
  const cases: CollectorCase<'antivirus_enabled'>[] = [
    {
      name: 'built-in XProtect, no EDR, Defender not installed',
      host: { files: xprotect, commands: lulu },
      value: true,
      reason: 'builtin_xprotect',
      method: 'xprotect',
      detail: 'XProtect 5329',
      facts: { xprotect_version: '5329', xprotect_path: XPROTECT_LIBRARY, edr_products: [] },
    },
    {
      name: 'XProtect plus active CrowdStrike and Defender extensions',
      host: {
        files: xprotect,
        commands: { [SYSTEMEXTENSIONSCTL]: out('darwin/systemextensionsctl/crowdstrike-defender-activated.reconstructed.txt') },
      },
      value: true,
      method: 'xprotect',
      detail: 'active EDR: CrowdStrike Falcon, Microsoft Defender for Endpoint',
      facts: { edr_products: ['CrowdStrike Falcon', 'Microsoft Defender for Endpoint'] },
    },
    {
      name: 'no XProtect, CrowdStrike extension active',
      host: { commands: { [SYSTEMEXTENSIONSCTL]: out('darwin/systemextensionsctl/crowdstrike-defender-activated.reconstructed.txt') } },
      value: true,
      method: 'systemextensionsctl',
      detail: 'CrowdStrike Falcon',
    },
    {
      name: 'no XProtect, Defender healthy via mdatp',
      host: { commands: { ...lulu, [MDATP]: out('darwin/mdatp/health-healthy-101.98.30.json') } },
      value: true,
      method: 'mdatp',
      detail: 'Microsoft Defender for Endpoint',
      facts: { mdatp: { app_version: '101.98.30', active: true } },
    },
    {
      name: 'XProtect only at the macOS 15 protected location',
      host: { files: { [XPROTECT_PROTECTED]: fixture('darwin/xprotect/info.reconstructed.plist') }, commands: lulu },
      value: true,
      reason: 'builtin_xprotect',
      method: 'xprotect',
      detail: 'XProtect 5329',
      facts: { xprotect_path: XPROTECT_PROTECTED },
    },
    {
      name: 'nothing: XProtect missing, no EDR, Defender not installed',
      host: { commands: lulu },
      value: false,
      method: 'xprotect',
      detail: 'XProtect is missing',
    },
    {
      name: 'nothing active: EDR waiting for user, Defender real-time off',
      host: {
        commands: {
          [SYSTEMEXTENSIONSCTL]: out('darwin/systemextensionsctl/crowdstrike-waiting-for-user.reconstructed.txt'),
          [MDATP]: out('darwin/mdatp/health-real-time-off.reconstructed.json'),
        },
      },
      value: false,
      method: 'xprotect',
      detail: 'Defender is installed but not active',
      facts: { inactive_edr_extensions: [{ state: 'activated waiting for user' }, { state: 'terminated waiting to uninstall on reboot' }] },
    },
    {
      name: 'XProtect unreadable at the protected location (needs root), no EDR',
      host: { files: { [XPROTECT_PROTECTED]: { failure: 'permission_denied' } }, commands: lulu },
      value: null,
      reason: 'needs_privilege',
      method: 'xprotect',
      detail: 'needs root',
    },
    {
      name: 'no XProtect, systemextensionsctl exits non-zero',
      host: {
        commands: {
          [SYSTEMEXTENSIONSCTL]: { exitCode: 69, stderr: fixture('darwin/systemextensionsctl/list-failed-sandbox.stderr.txt') },
        },
      },
      value: null,
      reason: 'command_failed',
      method: 'systemextensionsctl',
      detail: 'Connection refused',
    },
    {
      name: 'no XProtect, systemextensionsctl times out',
      host: { commands: { [SYSTEMEXTENSIONSCTL]: { failure: 'timeout' } } },
      value: null,
      reason: 'timeout',
      method: 'systemextensionsctl',
      detail: 'timeout',
    },
    {
      name: 'no XProtect, systemextensionsctl missing',
      host: {},
      value: null,
      reason: 'tool_missing',
      method: 'systemextensionsctl',
      detail: 'not installed',
    },
    {
      name: 'XProtect Info.plist without a version, no EDR',
      host: { files: { [XPROTECT_LIBRARY]: fixture('darwin/xprotect/info-without-version.reconstructed.plist') }, commands: lulu },
      value: null,
      reason: 'unparsed_output',
      method: 'xprotect',
      detail: 'no CFBundleShortVersionString',
    },
    {
      name: 'no XProtect, mdatp prints nothing',
      host: { commands: { ...lulu, [MDATP]: { stdout: '' } } },
      value: null,
      reason: 'empty_output',
      method: 'mdatp',
      detail: 'printed nothing',
    },
  ];
  it.each(cases)('$name', (testCase) => check(darwinCollectors.antivirus_enabled, testCase));
});

describe('darwin patch_age_days', () => {
  const history = (path: string) => ({ files: { [INSTALL_HISTORY_PLIST]: fixture(path) } });
  const cases: CollectorCase<'patch_age_days'>[] = [
    {
      name: 'macOS 13.4.1, later package installs do not count',
      host: history('darwin/install-history/macos-13.4.1-then-packages.plist'),
      value: 1223,
      method: 'InstallHistory.plist',
      detail: 'macOS 13.4.1',
      facts: { last_update: { name: 'macOS 13.4.1', installed_at: '2023-07-17T08:45:50.000Z' } },
    },
    {
      name: 'macOS 15.7.2, XProtect feeds after it do not count',
      host: history('darwin/install-history/sequoia-15.7.2-then-xprotect.reconstructed.plist'),
      value: 19,
      method: 'InstallHistory.plist',
      detail: 'macOS Sequoia 15.7.2',
    },
    {
      name: 'a Rapid Security Response counts',
      host: history('darwin/install-history/rapid-security-response.reconstructed.plist'),
      value: 1227,
      method: 'InstallHistory.plist',
      detail: '13.4.1 (a)',
    },
    {
      name: 'a Safari upgrade counts',
      host: history('darwin/install-history/safari-upgrade-after-os-update.reconstructed.plist'),
      value: 10,
      method: 'InstallHistory.plist',
      detail: 'Safari',
    },
    {
      name: 'an update dated in the future is clamped to 0',
      host: history('darwin/install-history/future-date.reconstructed.plist'),
      value: 0,
      method: 'InstallHistory.plist',
      detail: 'clamped to 0',
      facts: { clamped_from_days: -4 },
    },
    {
      name: 'only data feeds: no history of an OS update',
      host: history('darwin/install-history/config-data-only.plist'),
      value: null,
      reason: 'no_history',
      method: 'InstallHistory.plist',
      detail: 'none of the 2 install records',
    },
    {
      name: 'a first install of Command Line Tools is not an update',
      host: history('darwin/install-history/clt-first-install-via-softwareupdated.plist'),
      value: null,
      reason: 'no_history',
      method: 'InstallHistory.plist',
      detail: 'none of the 5 install records',
    },
    {
      name: 'no InstallHistory.plist',
      host: {},
      value: null,
      reason: 'no_history',
      method: 'InstallHistory.plist',
      detail: 'does not exist',
    },
    {
      name: 'InstallHistory.plist unreadable',
      host: { files: { [INSTALL_HISTORY_PLIST]: { failure: 'permission_denied' } } },
      value: null,
      reason: 'needs_privilege',
      method: 'InstallHistory.plist',
      detail: 'denied',
    },
    {
      name: 'InstallHistory.plist truncated',
      host: history('darwin/install-history/truncated.reconstructed.plist'),
      value: null,
      reason: 'unparsed_output',
      method: 'InstallHistory.plist',
      detail: 'truncated',
    },
    {
      name: 'InstallHistory.plist empty',
      host: { files: { [INSTALL_HISTORY_PLIST]: '' } },
      value: null,
      reason: 'empty_output',
      method: 'InstallHistory.plist',
      detail: 'empty',
    },
  ];
  it.each(cases)('$name', (testCase) => check(darwinCollectors.patch_age_days, testCase));
});

describe('darwin os_version', () => {
  const systemVersion = { [SYSTEM_VERSION_PLIST]: fixture('darwin/system-version/SystemVersion-12.3.plist') };
  const cases: CollectorCase<'os_version'>[] = [
    {
      name: 'sw_vers with a Rapid Security Response',
      host: { commands: { [SW_VERS]: out('darwin/sw_vers/13.3.1-rsr-a.txt') }, files: systemVersion },
      value: 'macOS 13.3.1 (a) (22E772610a)',
      method: 'sw_vers',
      detail: '13.3.1 (a)',
      ran: [SW_VERS],
    },
    {
      name: 'sw_vers',
      host: { commands: { [SW_VERS]: out('darwin/sw_vers/15.7.2.reconstructed.txt') } },
      value: 'macOS 15.7.2 (24G325)',
      method: 'sw_vers',
      detail: 'macOS 15.7.2 (24G325)',
    },
    {
      name: 'sw_vers missing → SystemVersion.plist',
      host: { files: systemVersion },
      value: 'macOS 12.3 (21E5227a)',
      method: 'SystemVersion.plist',
      detail: 'macOS 12.3',
      facts: { rapid_security_response_may_be_missing: true, primary: { reason: 'tool_missing' } },
    },
    {
      name: 'sw_vers garbage → SystemVersion.plist',
      host: { commands: { [SW_VERS]: { stdout: 'usage: sw_vers\n' } }, files: systemVersion },
      value: 'macOS 12.3 (21E5227a)',
      method: 'SystemVersion.plist',
      detail: 'macOS 12.3',
    },
    {
      name: 'sw_vers non-zero exit, no SystemVersion.plist',
      host: { commands: { [SW_VERS]: { exitCode: 1, stderr: 'sw_vers: error' } } },
      value: null,
      reason: 'command_failed',
      method: 'sw_vers',
      detail: 'does not exist',
    },
    {
      name: 'sw_vers timeout, SystemVersion.plist unreadable',
      host: { commands: { [SW_VERS]: { failure: 'timeout' } }, files: { [SYSTEM_VERSION_PLIST]: { failure: 'permission_denied' } } },
      value: null,
      reason: 'timeout',
      method: 'sw_vers',
      detail: 'needs root',
    },
  ];
  it.each(cases)('$name', (testCase) => check(darwinCollectors.os_version, testCase));
});

describe('darwin registry and evidence', () => {
  it('has one collector per signal, each for its own signal', () => {
    for (const signal of SIGNAL_KEYS) expect(darwinCollectors[signal].signal).toBe(signal);
  });

  it('records every command of a fallback chain in the evidence', async () => {
    const ctx = fakeContext({
      platform: 'darwin',
      commands: { [DISKUTIL]: out('darwin/diskutil/apfs-list-data-filevault-on.plist') },
    });
    const result = await runCollector(darwinCollectors.disk_encrypted, {
      platform: 'darwin',
      privileged: false,
      runner: { run: ctx.run, resolve: async () => null, start: () => Promise.reject(new Error('not used')) },
      fileSystem: { read: ctx.read, list: ctx.list, stat: ctx.stat },
    });
    expect(result.value).toBe(true);
    expect(result.evidence.method).toBe('diskutil');
    expect(result.evidence.detail).toContain('disk3s5');
    expect(result.evidence.observations.map((observation) => observation.command?.[0])).toEqual([
      'fdesetup',
      '/fake/diskutil',
    ]);
    expect(result.evidence.observations[0]?.failure).toContain('not_found');
  });
});
