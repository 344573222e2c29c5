/**
 * The signals SPEC 7.2 added, on every platform, through the real collectors and pure
 * parsers against recorded outputs (sources in each fixture folder's SOURCES.md):
 * os_version_number, screen_lock_enabled, secure_boot_enabled.
 */
import { describe, expect, it } from 'vitest';
import { osVersionNumberCollector } from '../../collectors/darwin/os-version-number.ts';
import { screenLockCollector as darwinScreenLock } from '../../collectors/darwin/screen-lock.ts';
import { secureBootCollector as darwinSecureBoot } from '../../collectors/darwin/secure-boot.ts';
import { linuxOsVersionNumber } from '../../collectors/linux/os-version-number.ts';
import { linuxScreenLock } from '../../collectors/linux/screen-lock.ts';
import { linuxSecureBoot } from '../../collectors/linux/secure-boot.ts';
import { parseSysadminctlScreenLock } from '../../collectors/parsers/darwin-screen-lock.ts';
import { parseGsettingsValue, parseKscreenlockerrc } from '../../collectors/parsers/linux-screen-lock.ts';
import { SECURE_BOOT_VAR, SETUP_MODE_VAR, MOK_SB_STATE_VAR, efiBooleanVariable } from '../../collectors/parsers/linux-secure-boot.ts';
import { windowsVersionNumber } from '../../collectors/parsers/windows-os-version.ts';
import { windowsOsVersionNumberCollector } from '../../collectors/windows/os-version-number.ts';
import { SCREEN_LOCK_SCRIPT, windowsScreenLockCollector } from '../../collectors/windows/screen-lock.ts';
import { SECURE_BOOT_SCRIPT, windowsSecureBootCollector } from '../../collectors/windows/secure-boot.ts';
import { powershellArgs } from '../../collectors/windows/powershell.ts';
import type { Collector, SignalKey } from '../../collectors/types.ts';
import type { FakeHost } from '../fakes/probe-context.ts';
import { fakeContext, fixture, fixtureBytes } from '../fakes/probe-context.ts';

interface Case {
  name: string;
  host: Omit<FakeHost, 'platform'>;
  value: boolean | string | null;
  reason?: string;
  detail: RegExp;
}

function table(platform: NodeJS.Platform, collector: Collector<SignalKey>, cases: Case[]) {
  it.each(cases)('$name', async ({ host, value, reason, detail }) => {
    const finding = await collector.collect(fakeContext({ platform, ...host }));
    expect(finding.value).toEqual(value);
    if (reason !== undefined) expect(finding.reason).toBe(reason);
    if (value === null) expect(finding.reason).toBeTruthy();
    expect(finding.detail).toMatch(detail);
  });
}

/** efivarfs content: 4 attribute bytes (NV+BS+RT = 0x06) then the one-byte value. */
const efi = (value: number) => Buffer.from([0x06, 0x00, 0x00, 0x00, value]);
const uefiHost = (secureBoot: Buffer | null, setupMode: Buffer | null, extra: Record<string, Buffer> = {}) => ({
  files: {
    '/sys/firmware/efi/efivars/.keep': '',
    ...(secureBoot ? { [SECURE_BOOT_VAR]: secureBoot } : {}),
    ...(setupMode ? { [SETUP_MODE_VAR]: setupMode } : {}),
    ...extra,
  },
});

describe('os_version_number', () => {
  describe('linux (os-release VERSION_ID)', () => {
    table('linux', linuxOsVersionNumber as Collector<SignalKey>, [
      { name: 'Debian 12 (this machine\'s os-release)', host: { files: { '/etc/os-release': fixture('linux/os-release/debian-12.txt') } }, value: '12', detail: /VERSION_ID=12/ },
      { name: 'Ubuntu 24.04 from /usr/lib/os-release', host: { files: { '/usr/lib/os-release': 'NAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\n' } }, value: '24.04', detail: /24\.04/ },
      { name: 'Arch: a rolling release has no number → not_applicable', host: { files: { '/etc/os-release': 'NAME="Arch Linux"\nID=arch\nBUILD_ID=rolling\n' } }, value: null, reason: 'not_applicable', detail: /rolling release/ },
      { name: 'Tumbleweed: a date is not a release number', host: { files: { '/etc/os-release': 'NAME="openSUSE Tumbleweed"\nID="opensuse-tumbleweed"\nVERSION_ID="20240828"\n' } }, value: null, reason: 'not_applicable', detail: /rolling/ },
      { name: 'a VERSION_ID that is not dotted numbers → unknown', host: { files: { '/etc/os-release': 'NAME=Foo\nID=foo\nVERSION_ID=2024.1-beta\n' } }, value: null, reason: 'unparsed_output', detail: /not a dotted version/ },
      { name: 'no os-release → unknown', host: {}, value: null, detail: /could be read/ },
    ]);
  });

  describe('darwin (sw_vers ProductVersion)', () => {
    table('darwin', osVersionNumberCollector as Collector<SignalKey>, [
      { name: 'macOS 13.3.1 with a Rapid Security Response: the number is 13.3.1', host: { commands: { sw_vers: { stdout: 'ProductName:\t\tmacOS\nProductVersion:\t\t13.3.1\nProductVersionExtra:\t(a)\nBuildVersion:\t\t22E772610a\n' } } }, value: '13.3.1', detail: /ProductVersion 13\.3\.1 \(macOS 13\.3\.1 \(a\)/ },
      { name: 'sw_vers missing: SystemVersion.plist', host: { files: { '/System/Library/CoreServices/SystemVersion.plist': fixtureBytes('darwin/system-version/SystemVersion-12.3.plist') } }, value: '12.3', detail: /12\.3/ },
      { name: 'neither → unknown', host: {}, value: null, detail: /./ },
    ]);
  });

  describe('windows (CurrentVersion major.minor.build.UBR)', () => {
    const args = (script: string) => `powershell ${powershellArgs(script).join(' ')}`;
    it.each([
      ['registry/windows-11-enterprise-24h2-arm64.json', '10.0.26100.2033'],
      ['registry/windows-server-2019-datacenter-eval.json', '10.0.17763.720'],
      ['registry/windows-10-pro-22h2.reconstructed.json', '10.0.19045.4046'],
    ])('%s → %s', (file, expected) => {
      expect(windowsVersionNumber(fixture(`windows/${file}`)).value).toBe(expected);
    });
    it('Windows 8.1 keeps its CurrentVersion 6.3; the major/minor values win where present', () => {
      expect(windowsVersionNumber('{"CurrentVersion":"6.3","CurrentBuild":"9600","UBR":20778}').value).toBe('6.3.9600.20778');
      expect(windowsVersionNumber('{"CurrentMajorVersionNumber":10,"CurrentMinorVersionNumber":0,"CurrentVersion":"6.3","CurrentBuild":"22631","UBR":3447}').value).toBe('10.0.22631.3447');
      expect(windowsVersionNumber('{"ProductName":"Windows"}').reason).toBe('unparsed_output');
    });
    it('the collector runs the os_version registry probe', async () => {
      const { OS_VERSION_SCRIPT: script } = await import('../../collectors/windows/os-version.ts');
      const ctx = fakeContext({ platform: 'win32', commands: { [args(script)]: { stdout: fixture('windows/registry/windows-11-pro-24h2.reconstructed.json') } } });
      expect((await windowsOsVersionNumberCollector.collect(ctx)).value).toBe('10.0.26100.2314');
    });
  });
});

describe('secure_boot_enabled', () => {
  describe('linux (efivarfs)', () => {
    table('linux', linuxSecureBoot as Collector<SignalKey>, [
      { name: 'SecureBoot=1, SetupMode=0 → on', host: uefiHost(efi(1), efi(0)), value: true, detail: /enforced/ },
      { name: 'SecureBoot=0 → off', host: uefiHost(efi(0), efi(0)), value: false, detail: /SecureBoot=0/ },
      { name: 'Setup Mode (no Platform Key) → off', host: uefiHost(efi(1), efi(1)), value: false, detail: /Setup Mode/ },
      { name: 'shim validation disabled (MokSBStateRT) → off', host: uefiHost(efi(1), efi(0), { [MOK_SB_STATE_VAR]: efi(1) }), value: false, detail: /shim's validation is disabled/ },
      { name: 'UEFI without a SecureBoot variable → unsupported, off', host: uefiHost(null, null), value: false, detail: /not supported/ },
      { name: 'legacy BIOS (no /sys/firmware/efi, this machine) → off', host: {}, value: false, detail: /legacy BIOS/ },
      { name: 'a SecureBoot variable of the wrong size → unknown', host: uefiHost(Buffer.from([6, 0, 0, 0, 1, 0]), efi(0)), value: null, reason: 'unparsed_output', detail: /6 bytes/ },
      { name: 'an unreadable variable → unknown', host: { files: { '/sys/firmware/efi/efivars/.keep': '', [SECURE_BOOT_VAR]: { failure: 'permission_denied' } } }, value: null, reason: 'needs_privilege', detail: /could not be read/ },
      { name: 'SecureBoot=1 without SetupMode → unknown', host: uefiHost(efi(1), null), value: null, detail: /SetupMode is missing/ },
    ]);
    it('efivarfs values are one byte after four attribute bytes', () => {
      expect(efiBooleanVariable(efi(1))).toBe(1);
      expect(efiBooleanVariable(efi(2))).toBeNull();
      expect(efiBooleanVariable(Buffer.from([1]))).toBeNull();
    });
  });

  describe('darwin (not applicable; boot policy as evidence)', () => {
    it('Apple silicon: not_applicable with the LocalPolicy summary', async () => {
      const ctx = fakeContext({ platform: 'darwin', commands: { 'sysctl -n hw.optional.arm64': { stdout: '1\n' }, 'system_profiler -json SPiBridgeDataType': { stdout: fixture('darwin/system_profiler/ibridge-apple-silicon-full-security.json') } } });
      const finding = await darwinSecureBoot.collect(ctx);
      expect(finding).toMatchObject({ value: null, reason: 'not_applicable', facts: { apple_silicon: true, secure_boot: 'Full Security', system_integrity_protection: 'Enabled', signed_system_volume: 'Enabled' } });
      expect(finding.detail).toMatch(/do not use UEFI Secure Boot.*Full Security/);
    });
    it('Intel with T2: the NVRAM policy; without T2: said so', async () => {
      const t2 = await darwinSecureBoot.collect(fakeContext({ platform: 'darwin', commands: { 'sysctl -n hw.optional.arm64': { exitCode: 1, stderr: "sysctl: unknown oid 'hw.optional.arm64'" }, nvram: { stdout: fixture('darwin/nvram/apple-secure-boot-policy-full.txt') } } }));
      expect(t2).toMatchObject({ value: null, reason: 'not_applicable', facts: { apple_silicon: false, t2: true, secure_boot_policy: 'full' } });
      const old = await darwinSecureBoot.collect(fakeContext({ platform: 'darwin', commands: { 'sysctl -n hw.optional.arm64': { exitCode: 1 }, nvram: { exitCode: 1, stderr: fixture('darwin/nvram/apple-secure-boot-policy-missing.reconstructed.txt') } } }));
      expect(old).toMatchObject({ value: null, reason: 'not_applicable', facts: { t2: false } });
    });
  });

  describe('windows (firmware type, Confirm-SecureBootUEFI, registry)', () => {
    const key = `powershell ${powershellArgs(SECURE_BOOT_SCRIPT).join(' ')}`;
    const host = (file: string) => ({ commands: { [key]: { stdout: fixture(`windows/secure-boot/${file}`) } } });
    table('win32', windowsSecureBootCollector as Collector<SignalKey>, [
      { name: 'elevated, on', host: host('uefi-on-elevated.reconstructed.json'), value: true, detail: /Confirm-SecureBootUEFI says Secure Boot is on/ },
      { name: 'not elevated: the registry answers', host: host('uefi-on-not-elevated.reconstructed.json'), value: true, detail: /UEFISecureBootEnabled = 1/ },
      { name: 'off', host: host('uefi-off.reconstructed.json'), value: false, detail: /off/ },
      { name: 'legacy BIOS → off', host: host('legacy-bios.reconstructed.json'), value: false, detail: /legacy BIOS/ },
      { name: 'not elevated and no registry value → unknown (needs_privilege), never off', host: host('not-elevated-registry-denied.reconstructed.json'), value: null, reason: 'needs_privilege', detail: /needs Administrator/ },
    ]);
  });
});

describe('screen_lock_enabled', () => {
  describe('linux (logind sessions; GNOME gsettings, KDE kscreenlockerrc)', () => {
    const sessions = (files: Record<string, string>) => Object.fromEntries(Object.entries(files).map(([id, name]) => [`/run/systemd/sessions/${id}`, fixture(`linux/logind/${name}`)]));
    const gnome = (values: Partial<Record<'lock-enabled' | 'idle-delay' | 'lock-delay' | 'disable-lock-screen', string>>, asRoot = true) => {
      const defaults = { 'lock-enabled': 'true', 'idle-delay': 'uint32 300', 'lock-delay': 'uint32 0', 'disable-lock-screen': 'false', ...values };
      const schema = { 'lock-enabled': 'org.gnome.desktop.screensaver', 'idle-delay': 'org.gnome.desktop.session', 'lock-delay': 'org.gnome.desktop.screensaver', 'disable-lock-screen': 'org.gnome.desktop.lockdown' } as const;
      return Object.fromEntries(
        Object.entries(defaults).map(([name, stdout]) => [
          asRoot ? `runuser -u alice -- /usr/bin/gsettings get ${schema[name as keyof typeof schema]} ${name}` : `gsettings get ${schema[name as keyof typeof schema]} ${name}`,
          { stdout: `${stdout}\n` },
        ]),
      );
    };
    const passwd = 'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000:Alice:/home/alice:/bin/bash\nbob:x:1001:1001:Bob:/home/bob:/bin/bash\n';
    table('linux', linuxScreenLock as Collector<SignalKey>, [
      { name: 'a server with ssh sessions only → not_applicable', host: { files: sessions({ '7': 'ssh-tty.reconstructed' }) }, value: null, reason: 'not_applicable', detail: /no graphical session/ },
      { name: 'a login screen (greeter) only → not_applicable', host: { files: sessions({ c1: 'gdm-greeter.reconstructed', '7.ref': 'ssh-tty.reconstructed' }) }, value: null, reason: 'not_applicable', detail: /no graphical session/ },
      { name: 'no logind session list → unknown', host: {}, value: null, reason: 'unparsed_output', detail: /could not be listed/ },
      { name: 'GNOME defaults (lock after 300 s) as root → on', host: { privileged: true, files: sessions({ '2': 'gnome-wayland-session.reconstructed' }), commands: gnome({}) }, value: true, detail: /GNOME locks the screen of alice after 300 s/ },
      { name: 'GNOME lock-enabled false → off', host: { privileged: true, files: sessions({ '2': 'gnome-wayland-session.reconstructed' }), commands: gnome({ 'lock-enabled': 'false' }) }, value: false, detail: /lock-enabled false/ },
      { name: 'GNOME never blanks (idle-delay 0) → off', host: { privileged: true, files: sessions({ '2': 'gnome-wayland-session.reconstructed' }), commands: gnome({ 'idle-delay': 'uint32 0' }) }, value: false, detail: /never blanks/ },
      { name: 'GNOME blanks after an hour → off', host: { privileged: true, files: sessions({ '2': 'gnome-wayland-session.reconstructed' }), commands: gnome({ 'idle-delay': 'uint32 3600' }) }, value: false, detail: /3600 s idle/ },
      { name: 'GNOME lock screen disabled by lockdown → off', host: { privileged: true, files: sessions({ '2': 'gnome-wayland-session.reconstructed' }), commands: gnome({ 'disable-lock-screen': 'true' }) }, value: false, detail: /disabled by policy/ },
      { name: 'GNOME as the session user itself (no root)', host: { env: { USER: 'alice' }, files: sessions({ '2': 'gnome-wayland-session.reconstructed' }), commands: gnome({}, false) }, value: true, detail: /after 300 s/ },
      { name: 'GNOME of another user without root → unknown', host: { env: { USER: 'carol' }, files: sessions({ '2': 'gnome-wayland-session.reconstructed' }) }, value: null, reason: 'needs_privilege', detail: /only as that user or as root/ },
      {
        name: 'gsettings fell back to the memory backend → unknown, not its defaults',
        host: { privileged: true, files: sessions({ '2': 'gnome-wayland-session.reconstructed' }), commands: { ...gnome({}), 'runuser -u alice -- /usr/bin/gsettings get org.gnome.desktop.screensaver lock-enabled': { stdout: 'true\n', stderr: "(process:1): GLib-GIO-WARNING **: Using the 'memory' GSettings backend.  Your settings will not be saved or shared with other applications.\n" } } },
        value: null,
        detail: /no usable answer/,
      },
      { name: 'KDE without kscreenlockerrc: the defaults lock after 300 s', host: { files: { ...sessions({ '3': 'kde-x11-session.reconstructed' }), '/etc/passwd': passwd } }, value: true, detail: /KDE locks the screen of bob after 300 s/ },
      { name: 'KDE Autolock=false → off', host: { files: { ...sessions({ '3': 'kde-x11-session.reconstructed' }), '/etc/passwd': passwd, '/home/bob/.config/kscreenlockerrc': fixture('linux/kde/kscreenlockerrc-autolock-off.reconstructed') } }, value: false, detail: /Autolock=false/ },
      { name: 'KDE Timeout=10 (600 s) → on', host: { files: { ...sessions({ '3': 'kde-x11-session.reconstructed' }), '/etc/passwd': passwd, '/home/bob/.config/kscreenlockerrc': fixture('linux/kde/kscreenlockerrc-timeout-10.reconstructed') } }, value: true, detail: /600 s/ },
      {
        name: 'two sessions: the weaker one counts',
        host: { privileged: true, files: { ...sessions({ '2': 'gnome-wayland-session.reconstructed', '3': 'kde-x11-session.reconstructed' }), '/etc/passwd': passwd, '/home/bob/.config/kscreenlockerrc': fixture('linux/kde/kscreenlockerrc-autolock-off.reconstructed') }, commands: gnome({}) },
        value: false,
        detail: /bob/,
      },
      { name: 'an unsupported desktop → unknown', host: { files: { '/run/systemd/sessions/4': 'UID=1000\nUSER=alice\nTYPE=x11\nCLASS=user\nSTATE=active\nDESKTOP=XFCE\n' } }, value: null, reason: 'unsupported_desktop', detail: /XFCE/ },
    ]);
    it('parses gsettings values and kscreenlockerrc strictly', () => {
      expect(parseGsettingsValue('uint32 300\n')).toBe(300);
      expect(parseGsettingsValue('true')).toBe(true);
      expect(parseGsettingsValue("'300'")).toBeNull();
      expect(parseKscreenlockerrc('[Daemon]\nAutolock=maybe\n')).toBeNull();
      expect(parseKscreenlockerrc('[Other]\nAutolock=false\n')).toEqual({ autolock: true, requirePassword: true, timeoutMinutes: 5, lockGraceSeconds: 5 });
    });
  });

  describe('darwin (MDM profile, then sysadminctl in the console user\'s session)', () => {
    const asUser = (file: string) => ({ commands: { 'sysadminctl -screenLock status': { stderr: fixture(`darwin/sysadminctl/${file}`) } } });
    table('darwin', darwinScreenLock as Collector<SignalKey>, [
      { name: 'immediate → on', host: asUser('screenlock-immediate.reconstructed.txt'), value: true, detail: /immediately/ },
      { name: '300 seconds → on', host: asUser('screenlock-300-seconds.txt'), value: true, detail: /300 s/ },
      { name: '8 hours → off (the grace is too long)', host: asUser('screenlock-28800-seconds.txt'), value: false, detail: /28800 s/ },
      { name: 'off → off', host: asUser('screenlock-off.txt'), value: false, detail: /screenLock is off/ },
      { name: 'an unexpected answer → unknown', host: asUser('screenlock-unknown-state.txt'), value: null, reason: 'unparsed_output', detail: /Unknown state for screenLock/ },
      { name: 'an MDM profile requiring the password decides first', host: { files: { '/Library/Managed Preferences/com.apple.screensaver.plist': fixture('darwin/managed-preferences/screensaver-ask-5s.reconstructed.plist') } }, value: true, detail: /MDM profile requires a password 5 s/ },
      { name: 'a profile with the delay disabled is off', host: { files: { '/Library/Managed Preferences/com.apple.screensaver.plist': fixture('darwin/managed-preferences/screensaver-delay-disabled.reconstructed.plist') } }, value: false, detail: /does not require/ },
      {
        name: 'as root: asks in the console user\'s session (launchctl asuser)',
        host: { privileged: true, files: { '/dev/console': { content: '', uid: 501 } }, commands: { 'launchctl asuser 501 /usr/sbin/sysadminctl -screenLock status': { stderr: fixture('darwin/sysadminctl/screenlock-300-seconds.txt') } } },
        value: true,
        detail: /300 s/,
      },
      { name: 'as root at the login window → not_applicable', host: { privileged: true, files: { '/dev/console': { content: '', uid: 0 } } }, value: null, reason: 'not_applicable', detail: /nobody is logged in/ },
      { name: 'sysadminctl missing → unknown', host: {}, value: null, reason: 'tool_missing', detail: /not installed/ },
    ]);
    it('tolerates fractional and negative delays (reported by one project, unconfirmed)', () => {
      expect(parseSysadminctlScreenLock('screenLock delay is 300.000000 seconds').value).toBe(true);
      expect(parseSysadminctlScreenLock('screenLock delay is -1.000000 seconds').value).toBe(false);
      expect(parseSysadminctlScreenLock('').reason).toBe('empty_output');
    });
  });

  describe('windows (machine and MDM inactivity limits, the console user\'s screen saver)', () => {
    const key = `powershell ${powershellArgs(SCREEN_LOCK_SCRIPT).join(' ')}`;
    const host = (file: string) => ({ commands: { [key]: { stdout: fixture(`windows/screen-lock/${file}`) } } });
    table('win32', windowsScreenLockCollector as Collector<SignalKey>, [
      { name: 'a fresh profile (ScreenSaveActive only) → off', host: host('fresh-profile-no-lock.reconstructed.json'), value: false, detail: /no screen saver program/ },
      { name: 'machine inactivity limit 900 s → on', host: host('machine-inactivity-900.reconstructed.json'), value: true, detail: /900 s of inactivity/ },
      { name: 'a GPO screen saver (policy over the user\'s own) → on', host: host('gpo-screensaver-600.reconstructed.json'), value: true, detail: /after 600 s/ },
      { name: 'a secure screen saver after an hour → off', host: host('screensaver-one-hour.reconstructed.json'), value: false, detail: /3600 s/ },
      { name: 'nobody logged on and no machine limit → not_applicable', host: host('nobody-logged-on.reconstructed.json'), value: null, reason: 'not_applicable', detail: /nobody is logged on/ },
    ]);
  });
});
