/** Every Linux parser on empty, malformed and hostile input: an answer or unknown, never a throw. */
import { describe, expect, it } from 'vitest';
import { classifyDmUuid, parseLsblkInverse, parseUevent } from '../../collectors/parsers/linux-block-devices.ts';
import { isPermissiveZone, parseFirewalldState } from '../../collectors/parsers/linux-firewalld.ts';
import { parseIptablesRules } from '../../collectors/parsers/linux-iptables.ts';
import { mdatpFinding, parseFalconRfmState } from '../../collectors/parsers/linux-antivirus.ts';
import { parseMountinfo, persistentDataMounts } from '../../collectors/parsers/linux-mountinfo.ts';
import { parseNftRuleset } from '../../collectors/parsers/linux-nft.ts';
import { osReleaseFinding, parseOsRelease } from '../../collectors/parsers/linux-os-release.ts';
import { parseAptHistory, parseDnf5Log, parseDnfRpmLog, parseDpkgLog, parsePacmanLog, parseRpmInstallTimes, parseZyppHistory } from '../../collectors/parsers/linux-package-logs.ts';
import { parseUfwConf, parseUfwStatus } from '../../collectors/parsers/linux-ufw.ts';
import { parseZfsEncryption } from '../../collectors/parsers/linux-zfs.ts';
import { fixture } from '../fakes/probe-context.ts';

const HOSTILE = [
  '',
  '   \n\n',
  'garbage \u0000 \uFFFD',
  '{',
  '[]',
  'null',
  '{"nftables": "nope"}',
  '{"nftables": [null, 1, "x", {"chain": null}, {"rule": {"expr": "x"}}]}',
  '{"blockdevices": [{"name": 5}]}',
  'Status: activeish',
  '-P INPUT',
  'x'.repeat(100_000),
  '\n'.repeat(10_000),
];

describe('Linux parsers never throw', () => {
  const findingParsers = {
    parseNftRuleset,
    parseIptablesRules: (t: string) => parseIptablesRules(t),
    parseUfwStatus,
    parseMdatpHealth: mdatpFinding,
    parseZfsEncryption,
    osReleaseFinding: (t: string) => osReleaseFinding(t, null),
    firewalldState: (t: string) => parseFirewalldState(0, t, ''),
  };
  for (const [name, parse] of Object.entries(findingParsers)) {
    it.each(HOSTILE.map((input, index) => [index, input] as const))(`${name} on hostile input #%i → null with a reason`, (_i, input) => {
      const finding = parse(input);
      expect(finding.value).toBeNull();
      expect(finding.reason).toMatch(/^(empty_output|unparsed_output|needs_privilege)$/);
    });
  }
  const historyParsers = { parseAptHistory, parseDpkgLog, parseDnfRpmLog, parseDnf5Log, parsePacmanLog, parseZyppHistory, parseRpmInstallTimes };
  for (const [name, parse] of Object.entries(historyParsers)) {
    it(`${name} finds no update in hostile input`, () => {
      for (const input of HOSTILE) expect(parse(input).lastUpdate).toBeNull();
    });
  }
  it('structural parsers return empty/null on hostile input', () => {
    for (const input of HOSTILE) {
      expect(parseLsblkInverse(input)).toBeNull();
      expect(parseMountinfo(input)).toEqual([]);
      expect(parseFalconRfmState(input)).toBeNull();
      expect(parseUfwConf(input)).toBeNull();
      expect(typeof parseUevent(input)).toBe('object');
      expect(typeof parseOsRelease(input)).toBe('object');
    }
  });
});

describe('dnf5.log (Fedora 41+)', () => {
  const history = () => parseDnf5Log(fixture('linux/dnf/dnf5-upgrade.reconstructed.log'));
  it('an install whose older version is uninstalled in the same transaction is an upgrade', () => {
    const parsed = history();
    expect(parsed.lastUpdate?.toISOString()).toBe('2026-11-08T09:14:10.000Z');
    expect(parsed.lastUpdateLabel).toBe('openssl-libs 1:3.2.2-8.fc41 → 1:3.2.2-9.fc41');
    expect(parsed.updates).toBe(1);
  });
  it('a new package, a reinstall of the same version and an install that failed to unpack are not upgrades', () => {
    // htop (new), bash (reinstall: same NEVRA out and in), curl (unpack error, no install stop)
    expect(history().lastAnyChange?.toISOString()).toBe('2026-11-17T10:02:05.000Z');
  });
  it('an upgrade whose old version is cleaned up much later in the transaction still counts', () => {
    const log = [
      '2026-11-20T07:00:01+0000 [900] INFO RPM callback install start "kernel-core-0:6.11.8-300.fc41.x86_64" total 1',
      '2026-11-20T07:00:02+0000 [900] INFO RPM callback install stop "kernel-core-0:6.11.8-300.fc41.x86_64" amount 1 total 1',
      '2026-11-20T07:00:03+0000 [900] INFO RPM callback install start "htop-0:3.3.0-4.fc41.x86_64" total 1',
      '2026-11-20T07:00:03+0000 [900] INFO RPM callback install stop "htop-0:3.3.0-4.fc41.x86_64" amount 1 total 1',
      '2026-11-20T07:00:09+0000 [900] INFO RPM callback uninstall stop "kernel-core-0:6.11.5-300.fc41.x86_64" amount 1 total 1',
    ].join('\n');
    const parsed = parseDnf5Log(log);
    expect(parsed.lastUpdate?.toISOString()).toBe('2026-11-20T07:00:02.000Z');
    expect(parsed.lastUpdateLabel).toMatch(/^kernel-core /);
  });
  it('two runs are separate transactions: removing a package after installing it elsewhere is no upgrade', () => {
    const log = [
      '2026-11-20T07:00:02+0000 [900] INFO RPM callback install stop "foo-0:2-1.fc41.x86_64" amount 1 total 1',
      '2026-11-21T07:00:02+0000 [901] INFO RPM callback uninstall stop "foo-0:1-1.fc41.i686" amount 1 total 1',
    ].join('\n');
    expect(parseDnf5Log(log).lastUpdate).toBeNull();
  });
});

describe('Linux parser details', () => {
  it('mountinfo: optional fields, octal escapes, bind mounts and boot partitions', () => {
    const mounts = parseMountinfo(
      [
        '36 35 98:0 /mnt1 /mnt\\040two rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue',
        '40 1 8:1 / /boot/efi rw - vfat /dev/sda1 rw',
        '41 1 8:2 / / rw - ext4 /dev/sda2 rw',
        '42 1 8:2 /srv /srv rw - ext4 /dev/sda2 rw',
        '43 1 7:0 / /snap/core/1 ro - squashfs /dev/loop0 ro',
        '44 1 0:40 / /data rw - btrfs /dev/mapper/data[/@data] rw',
      ].join('\n'),
    );
    expect(mounts[0]).toMatchObject({ majorMinor: '98:0', mountPoint: '/mnt two', fsType: 'ext3', source: '/dev/root' });
    expect(persistentDataMounts(mounts).map((m) => m.mountPoint)).toEqual(['/mnt two', '/', '/data']);
  });
  it('dm uuids: crypt types, LVM, and integrity-only targets', () => {
    expect(classifyDmUuid('CRYPT-LUKS2-abc-name')).toEqual({ type: 'crypt', cryptType: 'LUKS2' });
    expect(classifyDmUuid('CRYPT-PLAIN-name')).toEqual({ type: 'crypt', cryptType: 'PLAIN' });
    expect(classifyDmUuid('CRYPT-BITLK-abc-name')).toEqual({ type: 'crypt', cryptType: 'BITLK' });
    expect(classifyDmUuid('CRYPT-INTEGRITY-abc-name').type).toBe('dm-integrity');
    expect(classifyDmUuid('LVM-xyz').type).toBe('lvm');
  });
  it('ufw status: whole-line match, "inactive" is not "active" (brainfucksec/kalitorify#28)', () => {
    expect(parseUfwStatus(fixture('linux/ufw/status-active.txt')).value).toBe(true);
    expect(parseUfwStatus(fixture('linux/ufw/status-inactive.txt')).value).toBe(false);
    expect(parseUfwStatus('Status: aktiv').value).toBeNull();
    expect(parseUfwStatus('Status: active\n\nTo                         Action      From\n--                         ------      ----\n22/tcp                     ALLOW       Anywhere').value).toBe(true);
  });
  it('ufw.conf: ENABLED yes/no, quoted or not', () => {
    expect(parseUfwConf(fixture('linux/ufw/ufw-conf-enabled.conf'))).toBe(true);
    expect(parseUfwConf(fixture('linux/ufw/ufw-conf-disabled.conf'))).toBe(false);
    expect(parseUfwConf('ENABLED="yes"\n')).toBe(true);
  });
  it('firewalld state: running, not running, failed, refused', () => {
    expect(parseFirewalldState(0, 'running\n', '').value).toBe(true);
    expect(parseFirewalldState(252, 'not running\n', '').value).toBe(false);
    expect(parseFirewalldState(252, '', 'FirewallD is not running\n').value).toBe(false);
    expect(parseFirewalldState(251, 'running\n', '').reason).toBe('command_failed');
    expect(parseFirewalldState(1, '', 'Authorization failed.').reason).toBe('needs_privilege');
    expect(isPermissiveZone('trusted\n')).toBe(true);
    expect(isPermissiveZone('public')).toBe(false);
  });
  it('nft: a jump loop does not hang and an accept-only loop is not a firewall', () => {
    const loop = JSON.stringify({
      nftables: [
        { chain: { family: 'inet', table: 't', name: 'input', type: 'filter', hook: 'input', policy: 'accept' } },
        { chain: { family: 'inet', table: 't', name: 'a' } },
        { rule: { family: 'inet', table: 't', chain: 'input', expr: [{ jump: { target: 'a' } }] } },
        { rule: { family: 'inet', table: 't', chain: 'a', expr: [{ jump: { target: 'input' } }] } },
      ],
    });
    expect(parseNftRuleset(loop).value).toBe(false);
  });
  it('iptables: ufw default-deny ruleset recorded here is a firewall', () => {
    expect(parseIptablesRules(fixture('linux/iptables/ufw-enabled-default-deny.txt')).value).toBe(true);
  });
  it('apt history: install-only transactions move lastAnyChange but not lastUpdate', () => {
    const history = parseAptHistory(fixture('linux/apt/this-machine-upgrade-then-install.log'));
    expect(history.updates).toBe(1);
    expect(history.lastAnyChange!.getTime()).toBeGreaterThan(history.lastUpdate!.getTime());
  });
  it('dpkg.log: upgrade lines only', () => {
    const history = parseDpkgLog('2026-11-01 10:00:00 install htop:amd64 <none> 3.2.2-2\n2026-11-02 11:00:00 upgrade libc6:amd64 2.36-9 2.36-10\n');
    expect(history.lastUpdateLabel).toBe('libc6:amd64 2.36-9 → 2.36-10');
    const installsOnly = parseDpkgLog(fixture('linux/dpkg/this-machine-excerpt.log'));
    expect(installsOnly.updates).toBe(0);
    expect(installsOnly.lastAnyChange).not.toBeNull();
  });
});
