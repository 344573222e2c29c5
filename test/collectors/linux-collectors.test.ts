/**
 * Linux collectors end to end against recorded outputs (test/fixtures/linux, sources in
 * SOURCES.md there). Each case is a fake host: the commands it has, the files it has;
 * anything else is absent.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { linuxAntivirus } from '../../collectors/linux/antivirus.ts';
import { linuxDiskEncryption } from '../../collectors/linux/disk-encryption.ts';
import { linuxFirewall } from '../../collectors/linux/firewall.ts';
import { linuxOsVersion } from '../../collectors/linux/os-version.ts';
import { linuxPatchAge } from '../../collectors/linux/patch-age.ts';
import type { Collector, SignalKey } from '../../collectors/types.ts';
import type { FakeFile, FakeHost } from '../fakes/probe-context.ts';
import { capture, fakeContext, fixture } from '../fakes/probe-context.ts';

/** The real Linux `mdatp health --output json` capture with some fields changed (states no capture shows). */
const mdatpVariant = (changes: Record<string, unknown>) => JSON.stringify({ ...JSON.parse(capture('linux/mdatp-health-101.23062-passive-glpi.json').body), ...changes });

const snapshot = (name: string): Record<string, FakeFile> => JSON.parse(fixture(`linux/sysfs/${name}`)) as Record<string, FakeFile>;
const NOW = new Date('2026-11-21T12:00:00Z');
const daysAgo = (days: number) => new Date(NOW.getTime() - days * 86_400_000);

interface Case {
  name: string;
  host: Omit<FakeHost, 'platform'>;
  value: boolean | number | string | null;
  reason?: string;
  detail: RegExp;
}

async function run(collector: Collector<SignalKey>, host: Omit<FakeHost, 'platform'>) {
  return collector.collect(fakeContext({ platform: 'linux', now: NOW, ...host }));
}

function table(collector: Collector<SignalKey>, cases: Case[]) {
  it.each(cases)('$name', async ({ host, value, reason, detail }) => {
    const finding = await run(collector, host);
    expect(finding.value).toEqual(value);
    if (reason !== undefined) expect(finding.reason ?? (finding.facts as { reason?: string } | undefined)?.reason).toBe(reason);
    if (value === null) expect(finding.reason).toBeTruthy();
    expect(finding.detail).toMatch(detail);
  });
}

describe('linux disk encryption', () => {
  table(linuxDiskEncryption as Collector<SignalKey>, [
    {
      name: 'this machine: ext4 on a plain virtio disk → false',
      host: { files: { '/proc/self/mountinfo': fixture('linux/mountinfo/this-machine-ext4-on-vda.txt'), ...snapshot('this-machine-plain-vda.json') } },
      value: false,
      detail: /\/ on vda \(disk\)/,
    },
    { name: 'LVM on LUKS2 (Ubuntu/Pop default) → true', host: { files: snapshot('lvm-on-luks.reconstructed.json') }, value: true, detail: /data-root \(lvm\) → cryptdata \(crypt LUKS2\) → nvme0n1p3 \(part\)/ },
    { name: 'LUKS on LVM root but a plain /home → false (names /home)', host: { files: snapshot('luks-on-lvm-with-plain-home.reconstructed.json') }, value: false, detail: /\/home on sda3/ },
    { name: 'dm-verity is integrity, not encryption → false', host: { files: snapshot('dm-verity-root-not-encryption.reconstructed.json') }, value: false, detail: /dm-verity/ },
    {
      name: 'no sysfs: lsblk fallback sees LVM on LUKS → true',
      host: {
        files: { '/proc/self/mountinfo': '27 1 253:1 / / rw - ext4 /dev/mapper/data-root rw\n' },
        commands: { lsblk: { stdout: fixture('linux/lsblk/lvm-on-luks.reconstructed.json') } },
      },
      value: true,
      detail: /cryptdata \(crypt\)/,
    },
    {
      name: 'no sysfs: lsblk fallback, plain partition → false',
      host: { files: { '/proc/self/mountinfo': '27 1 8:2 / / rw - ext4 /dev/sda2 rw\n' }, commands: { lsblk: { stdout: fixture('linux/lsblk/plain-partition.reconstructed.json') } } },
      value: false,
      detail: /sda2 \(part\)/,
    },
    {
      name: 'no sysfs and no lsblk → unknown (tool_missing)',
      host: { files: { '/proc/self/mountinfo': '27 1 8:2 / / rw - ext4 /dev/sda2 rw\n' } },
      value: null,
      reason: 'tool_missing',
      detail: /lsblk/,
    },
    {
      name: 'lsblk prints garbage → unknown (unparsed_output)',
      host: { files: { '/proc/self/mountinfo': '27 1 8:2 / / rw - ext4 /dev/sda2 rw\n' }, commands: { lsblk: { stdout: 'lsblk: unknown column' } } },
      value: null,
      reason: 'unparsed_output',
      detail: /unrecognised/,
    },
    {
      name: 'container root on overlay → unknown (not_applicable)',
      host: { files: { '/proc/self/mountinfo': '500 400 0:52 / / rw,relatime - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w\n' } },
      value: null,
      reason: 'not_applicable',
      detail: /overlay/,
    },
    { name: 'WSL → unknown (not_applicable)', host: { files: { '/proc/sys/fs/binfmt_misc/WSLInterop': 'enabled\n' } }, value: null, reason: 'not_applicable', detail: /WSL/ },
    {
      name: 'ZFS root with native encryption → true',
      host: {
        files: { '/proc/self/mountinfo': '27 1 0:25 / / rw - zfs rpool/ROOT/ubuntu_abc rw\n' },
        commands: { zfs: { stdout: 'encryption\taes-256-gcm\nkeystatus\tavailable\n' } },
      },
      value: true,
      detail: /aes-256-gcm/,
    },
    {
      name: 'ZFS root without encryption → false',
      host: { files: { '/proc/self/mountinfo': '27 1 0:25 / / rw - zfs bpool/BOOT rw\n' }, commands: { zfs: { stdout: 'encryption\toff\nkeystatus\t-\n' } } },
      value: false,
      detail: /encryption=off/,
    },
    { name: '/proc unreadable → unknown', host: { files: { '/proc/self/mountinfo': { failure: 'permission_denied' } } }, value: null, reason: 'command_failed', detail: /mountinfo/ },
  ]);
});

const privileged = { privileged: true };
const nftHost = (name: string) => ({ ...privileged, commands: { nft: { stdout: fixture(`linux/nft/${name}`) } } });

describe('linux firewall', () => {
  table(linuxFirewall as Collector<SignalKey>, [
    { name: 'nft: input policy drop → true', host: nftHost('input-policy-drop.json'), value: true, detail: /policy drop/ },
    // Was true: any drop reachable from the input hook counted, though this chain only
    // rejects tcp/23 and one source range — new connections to anything else are accepted.
    { name: 'nft: accept policy, jump to a chain that drops only tcp/23 and one range → false', host: nftHost('accept-policy-jump-to-drop-rule.json'), value: false, detail: /falls through to policy accept/ },
    {
      name: 'nft + iptables: ufw enabled with default deny → true (iptables -S reads the xt matches nft JSON cannot show)',
      host: { ...privileged, commands: { nft: { stdout: fixture('linux/nft/ufw-enabled-default-deny.json') }, iptables: { stdout: fixture('linux/iptables/ufw-enabled-default-deny.txt') } } },
      value: true,
      detail: /INPUT policy is DROP/,
    },
    { name: 'nft alone: ufw (iptables-nft xt matches) → unknown, not a guess', host: nftHost('ufw-enabled-default-deny.json'), value: null, reason: 'unparsed_output', detail: /cannot evaluate/ },
    { name: 'nft: empty ruleset, nothing else → false', host: nftHost('empty-ruleset.json'), value: false, detail: /empty/ },
    { name: 'nft: NAT and accept-all chains only (Docker-like) → false', host: nftHost('nat-and-accept-all-only.json'), value: false, detail: /policy accept/ },
    {
      name: 'iptables -S: policy DROP → true (nft absent)',
      host: { ...privileged, commands: { iptables: { stdout: fixture('linux/iptables/input-policy-drop.txt') } } },
      value: true,
      detail: /INPUT policy is DROP/,
    },
    {
      // Was true: a blocklist of one source range is not a host firewall.
      name: 'iptables -S: jump to a chain that rejects one source range → false',
      host: { ...privileged, commands: { iptables: { stdout: fixture('linux/iptables/accept-policy-jump-to-reject.txt') } } },
      value: false,
      detail: /only specific sources/,
    },
    // SPEC: a host firewall drops a NEW inbound connection from an arbitrary address to an
    // arbitrary port. Each of these failed open before (any reachable DROP counted).
    ...(
      [
        ['Kubernetes node: KUBE-FIREWALL drops only martian localnet and marked packets', 'kubernetes-node-kube-firewall', false],
        ['fail2ban: per-IP rejects on tcp/22', 'fail2ban-per-ip-rejects', false],
        ['INPUT policy DROP after an accept-everything rule', 'drop-policy-then-accept-all', false],
        ['RHEL iptables-services: specific accepts, then a final REJECT', 'rhel-iptables-services-final-reject', true],
      ] as const
    ).flatMap(([what, name, value]): Case[] => [
      { name: `iptables -S: ${what} → ${value}`, host: { ...privileged, commands: { iptables: { stdout: fixture(`linux/iptables/${name}.txt`) } } }, value, detail: value ? /REJECT/ : /only specific|accepted by/ },
      {
        name: `nft (iptables-nft) + iptables -S: ${what} → ${value}`,
        host: { ...privileged, commands: { nft: { stdout: fixture(`linux/nft/${name}.iptables-nft.json`) }, iptables: { stdout: fixture(`linux/iptables/${name}.txt`) } } },
        value,
        detail: /./,
      },
    ]),
    { name: 'nft: Tailscale ts-input alone on the input hook → false', host: nftHost('tailscale-ts-input-only.json'), value: false, detail: /falls through to policy accept/ },
    { name: 'nft: firewalld zones with a final reject → true', host: nftHost('firewalld-style-zone-final-reject.json'), value: true, detail: /dropped by rule 6 of chain "inet firewalld filter_INPUT"/ },
    { name: 'nft: an accept-everything base chain, then a policy-drop one → true (accept ends one base chain only)', host: nftHost('two-input-base-chains-accept-then-drop.json'), value: true, detail: /inet filter input" has policy drop/ },
    { name: 'nft: policy drop after an accept-everything rule → false', host: nftHost('drop-policy-then-accept-all.json'), value: false, detail: /accepted by rule 3/ },
    {
      name: 'iptables -S: default ACCEPT → false',
      host: { ...privileged, commands: { iptables: { stdout: fixture('linux/iptables/default-accept.txt') } } },
      value: false,
      detail: /ACCEPT/,
    },
    {
      name: 'ufw installed and ENABLED=yes but the kernel ruleset is empty → false (kernel wins)',
      host: {
        ...privileged,
        commands: { nft: { stdout: fixture('linux/nft/empty-ruleset.json') }, ufw: { stdout: fixture('linux/ufw/status-active.txt') } },
        files: { '/etc/ufw/ufw.conf': fixture('linux/ufw/ufw-conf-enabled.conf') },
      },
      value: false,
      detail: /kernel ruleset does not filter/,
    },
    {
      name: 'non-root: nft refuses, ufw.conf ENABLED=yes → true (configuration)',
      host: {
        commands: { nft: { exitCode: 1, stderr: fixture('linux/nft/non-root-error.stderr.txt') } },
        files: { '/etc/ufw/ufw.conf': fixture('linux/ufw/ufw-conf-enabled.conf') },
      },
      value: true,
      detail: /configuration/,
    },
    {
      name: 'non-root: tools present, ufw disabled → unknown (needs_privilege)',
      host: {
        commands: { nft: { exitCode: 1, stderr: fixture('linux/nft/non-root-error.stderr.txt') }, iptables: { exitCode: 4, stderr: fixture('linux/iptables/non-root-error.stderr.txt') } },
        files: { '/etc/ufw/ufw.conf': fixture('linux/ufw/ufw-conf-disabled.conf') },
      },
      value: null,
      reason: 'needs_privilege',
      detail: /needs root/,
    },
    {
      name: 'root: firewalld running but the kernel ruleset is empty → false (kernel wins)',
      host: { ...privileged, commands: { nft: { stdout: fixture('linux/nft/empty-ruleset.json') }, 'firewall-cmd --state': { stdout: 'running\n' }, 'firewall-cmd --get-default-zone': { stdout: 'public\n' } } },
      value: false,
      detail: /kernel ruleset does not filter/,
    },
    {
      name: 'non-root: firewalld running, zone public → true',
      host: { commands: { 'firewall-cmd --state': { stdout: 'running\n' }, 'firewall-cmd --get-default-zone': { stdout: 'public\n' } } },
      value: true,
      detail: /firewalld is running \(default zone public\)/,
    },
    {
      name: 'non-root: firewalld running with the trusted zone → false',
      host: { commands: { 'firewall-cmd --state': { stdout: 'running\n' }, 'firewall-cmd --get-default-zone': { stdout: 'trusted\n' } } },
      value: false,
      detail: /trusted/,
    },
    {
      name: 'non-root: firewalld not running (exit 252), no other tool → false',
      host: { commands: { 'firewall-cmd --state': { exitCode: 252, stdout: 'not running\n' } } },
      value: false,
      detail: /not running/,
    },
    {
      name: 'non-root: polkit refuses firewall-cmd → unknown, not "off" (mondoohq/mql#10416)',
      host: { commands: { 'firewall-cmd --state': { exitCode: 1, stderr: 'Authorization failed.\n' } } },
      value: null,
      reason: 'needs_privilege',
      detail: /Authorization failed/,
    },
    {
      name: 'no nft, iptables, ufw or firewalld at all → false (no_firewall_tooling)',
      host: { ...privileged },
      value: false,
      reason: 'no_firewall_tooling',
      detail: /no firewall is installed/,
    },
    {
      name: 'no tools, but legacy iptables tables loaded in the kernel → unknown',
      host: { ...privileged, files: { '/proc/net/ip_tables_names': 'filter\n' } },
      value: null,
      reason: 'tool_missing',
      detail: /tables are loaded/,
    },
  ]);
});

describe('linux antivirus', () => {
  const proc = (names: string[]): Record<string, FakeFile> =>
    Object.fromEntries([['/proc', { dir: [...names.map((_, i) => String(100 + i)), 'self', 'sys'] }], ...names.map((name, i) => [`/proc/${100 + i}/comm`, `${name}\n`])]);
  table(linuxAntivirus as Collector<SignalKey>, [
    { name: 'nothing installed → false (no_av_detected)', host: {}, value: false, reason: 'no_av_detected', detail: /no antivirus installed/ },
    {
      name: 'ClamAV: clamd running, signatures 1 day old → true',
      host: { files: { '/usr/sbin/clamd': 'x', '/var/lib/clamav/daily.cld': { content: 'x', mtime: daysAgo(1) }, ...proc(['systemd', 'clamd', 'freshclam']) } },
      value: true,
      detail: /clamd is running/,
    },
    {
      name: 'ClamAV installed, clamd not running → false (installed_not_running)',
      host: { files: { '/usr/bin/clamscan': 'x', ...proc(['systemd', 'sshd']) } },
      value: false,
      reason: 'installed_not_running',
      detail: /clamd is not running/,
    },
    {
      name: 'ClamAV running with 30-day-old signatures → false',
      host: { files: { '/usr/sbin/clamd': 'x', '/var/lib/clamav/daily.cvd': { content: 'x', mtime: daysAgo(30) }, ...proc(['clamd']) } },
      value: false,
      detail: /30 days old/,
    },
    // `mdatp health --output json` is the same camelCase {value} document on Linux as on
    // macOS (the real captures); the snake_case reconstructions it replaces parsed to unknown.
    ...(
      [
        ['the real Linux capture: passive mode, real-time off → false', capture('linux/mdatp-health-101.23062-passive-glpi.json').body, false, /passive mode/],
        ['the real (macOS-recorded, same format) healthy capture → true', fixture('darwin/mdatp/health-healthy-101.98.30.json'), true, /real-time protection on \(definitions upToDate\)/],
        ['unhealthy, with its issue (the Linux capture, healthy false) → false', mdatpVariant({ healthy: false, passiveModeEnabled: { value: false }, realTimeProtectionEnabled: { value: true }, healthIssues: ['no active event provider'] }), false, /unhealthy: no active event provider/],
        ['definitions out of date (the Linux capture, definitionsStatus outdated) → false', mdatpVariant({ passiveModeEnabled: { value: false }, realTimeProtectionEnabled: { value: true }, definitionsStatus: { $type: 'outdated' } }), false, /definitions are "outdated"/],
        ['definitions 30 days old → false', mdatpVariant({ passiveModeEnabled: { value: false }, realTimeProtectionEnabled: { value: true }, definitionsUpdatedMinutesAgo: 30 * 1440 }), false, /updated 30 days ago/],
      ] as const
    ).map(([what, stdout, value, detail]): Case => ({
      name: `Defender for Endpoint: ${what}`,
      host: { files: { '/opt/microsoft/mdatp': { dir: ['sbin'] }, ...proc(['wdavdaemon']) }, commands: { 'mdatp-linux': { stdout } } },
      value,
      detail,
    })),
    {
      name: 'Defender: mdatp health times out while the daemon runs → unknown',
      host: { files: { '/opt/microsoft/mdatp': { dir: ['sbin'] }, ...proc(['wdavdaemon']) }, commands: { 'mdatp-linux': { failure: 'timeout' } } },
      value: null,
      reason: 'timeout',
      detail: /timed out|timeout/,
    },
    {
      name: 'CrowdStrike running, root, rfm-state=false → true',
      host: { privileged: true, files: { '/opt/CrowdStrike': { dir: ['falconctl'] }, ...proc(['falcon-sensor']) }, commands: { falconctl: { stdout: fixture('linux/falconctl/rfm-state-false.reconstructed.txt') } } },
      value: true,
      detail: /falcon-sensor is running/,
    },
    {
      name: 'CrowdStrike in Reduced Functionality Mode → false',
      host: { privileged: true, files: { '/opt/CrowdStrike': { dir: ['falconctl'] }, ...proc(['falcon-sensor']) }, commands: { falconctl: { stdout: fixture('linux/falconctl/rfm-state-true.reconstructed.txt') } } },
      value: false,
      detail: /Reduced Functionality Mode/,
    },
    {
      name: 'Sophos: threat detector (comm truncated to 15 bytes) running → true',
      host: { files: { '/opt/sophos-spl': { dir: ['bin'] }, ...proc(['sophos_threat_d']) } },
      value: true,
      detail: /Sophos/,
    },
  ]);
});

describe('linux patch age', () => {
  const aptDir = (files: Record<string, FakeFile>): Record<string, FakeFile> => ({ '/var/log/apt': { dir: Object.keys(files) }, ...Object.fromEntries(Object.entries(files).map(([k, v]) => [`/var/log/apt/${k}`, v])) });
  table(linuxPatchAge as Collector<SignalKey>, [
    {
      name: 'apt history (this machine): the upgrade counts, the later install-only run does not',
      host: { files: aptDir({ 'history.log': fixture('linux/apt/this-machine-upgrade-then-install.log') }) },
      value: Math.floor((NOW.getTime() - new Date(2025, 5, 24, 14, 36, 25).getTime()) / 86_400_000),
      detail: /2 package\(s\) upgraded by `apt-get -qqy upgrade`/,
    },
    {
      name: 'apt history (plaso): 2019 upgrade',
      host: { files: aptDir({ 'history.log': fixture('linux/apt/plaso-upgrade.log') }) },
      value: Math.floor((NOW.getTime() - new Date(2019, 6, 10, 16, 38, 10).getTime()) / 86_400_000),
      detail: /2019-07-10/,
    },
    {
      name: 'apt: a transaction that ended in Error does not count',
      host: { files: aptDir({ 'history.log': fixture('linux/apt/upgrade-with-error.reconstructed.log') }) },
      value: 20,
      detail: /openssl|1 package/,
    },
    {
      name: 'apt: rotated .gz log is read when the live log has no upgrade',
      host: {
        files: aptDir({
          'history.log': 'Start-Date: 2026-11-20  10:00:00\nCommandline: apt-get install htop\nInstall: htop:amd64 (3.2.2-2)\nEnd-Date: 2026-11-20  10:00:05\n',
          'history.log.1.gz': gzipSync(fixture('linux/apt/plaso-upgrade.log')),
        }),
      },
      value: Math.floor((NOW.getTime() - new Date(2019, 6, 10, 16, 38, 10).getTime()) / 86_400_000),
      detail: /history\.log\.1\.gz/,
    },
    {
      name: 'apt answered: dpkg.log (the same runs, much bigger) is not parsed',
      host: { files: { '/var/log/apt': { dir: ['history.log'] }, '/var/log/apt/history.log': fixture('linux/apt/plaso-upgrade.log'), '/var/log': { dir: ['dpkg.log'] }, '/var/log/dpkg.log': { failure: 'error' } } },
      value: Math.floor((NOW.getTime() - new Date(2019, 6, 10, 16, 38, 10).getTime()) / 86_400_000),
      detail: /^(?!.*dpkg).*history\.log/,
    },
    {
      name: 'dpkg.log with installs only (plaso) → unknown (no_history)',
      host: { files: { '/var/log': { dir: ['dpkg.log'] }, '/var/log/dpkg.log': fixture('linux/dpkg/plaso.log') } },
      value: null,
      reason: 'no_history',
      detail: /no package upgrade recorded/,
    },
    {
      name: 'dnf.rpm.log: Upgrade counts, a later Install does not',
      host: { files: { '/var/log': { dir: ['dnf.rpm.log'] }, '/var/log/dnf.rpm.log': fixture('linux/dnf/upgrade.reconstructed.log') } },
      value: 9,
      detail: /kernel-core-6\.11\.7/,
    },
    {
      name: 'dnf5.log (Fedora 41+): an install that replaced an older version counts; a new package does not',
      host: { files: { '/var/log': { dir: ['dnf5.log', 'dnf5.log.1'] }, '/var/log/dnf5.log': fixture('linux/dnf/dnf5-upgrade.reconstructed.log'), '/var/log/dnf5.log.1': '' } },
      value: 13,
      detail: /openssl-libs 1:3\.2\.2-8\.fc41 → 1:3\.2\.2-9\.fc41.*dnf5\.log/,
    },
    {
      name: 'a host upgraded from dnf4 to dnf5: the newest upgrade of either log counts, not the first log found',
      host: {
        files: {
          '/var/log': { dir: ['dnf.rpm.log', 'dnf5.log'] },
          '/var/log/dnf.rpm.log': fixture('linux/dnf/upgrade.reconstructed.log'),
          '/var/log/dnf5.log': '2026-11-20T07:00:01+0000 [900] INFO RPM callback install stop "bash-0:5.2.37-1.fc41.x86_64" amount 1 total 1\n2026-11-20T07:00:02+0000 [900] INFO RPM callback uninstall stop "bash-0:5.2.32-1.fc41.x86_64" amount 1 total 1\n',
        },
      },
      value: 1,
      detail: /bash.*dnf5\.log/,
    },
    {
      name: 'pacman.log: newest upgraded line, new and old timestamp formats',
      host: { files: { '/var/log': { dir: ['pacman.log'] }, '/var/log/pacman.log': fixture('linux/pacman/upgrade-new-and-old-timestamps.log') } },
      value: Math.floor((NOW.getTime() - Date.parse('2024-05-03T09:16:00+02:00')) / 86_400_000),
      detail: /linux 6\.8-1 -> 6\.9-1/,
    },
    {
      name: 'zypper history: a re-install of a known package is an update; a new package is not',
      host: { files: { '/var/log/zypp': { dir: ['history'] }, '/var/log/zypp/history': fixture('linux/zypp/history.reconstructed') } },
      value: 6,
      detail: /kernel-default 6\.4\.0-150600\.23\.25\.1/,
    },
    {
      name: 'rpm database only → approximate answer',
      host: { commands: { rpm: { stdout: fixture('linux/rpm/qa-installtime.reconstructed.txt') } } },
      value: Math.floor((NOW.getTime() - 1731920000 * 1000) / 86_400_000),
      detail: /kernel-core/,
    },
    { name: 'no history anywhere → unknown (no_history)', host: {}, value: null, reason: 'no_history', detail: /no package manager history/ },
    { name: 'rpm fails → unknown (command_failed)', host: { commands: { rpm: { exitCode: 1, stderr: 'error: cannot open Packages database' } } }, value: null, reason: 'command_failed', detail: /Packages database/ },
  ]);
});

describe('linux OS version', () => {
  table(linuxOsVersion as Collector<SignalKey>, [
    {
      name: 'Debian 12 os-release (this machine) with kernel',
      host: { files: { '/etc/os-release': fixture('linux/os-release/debian-12.txt'), '/proc/sys/kernel/osrelease': '6.1.0-27-amd64\n' } },
      value: 'Debian GNU/Linux 12 (bookworm)',
      detail: /kernel 6\.1\.0-27-amd64/,
    },
    { name: 'only /usr/lib/os-release, no PRETTY_NAME', host: { files: { '/usr/lib/os-release': 'NAME="Fedora Linux"\nVERSION_ID=41\n' } }, value: 'Fedora Linux 41', detail: /Fedora/ },
    { name: 'no os-release: kernel release', host: { files: { '/proc/sys/kernel/osrelease': '6.9.1\n' } }, value: 'Linux 6.9.1', detail: /no os-release/ },
    { name: 'empty os-release → unknown', host: { files: { '/etc/os-release': '' } }, value: null, reason: 'empty_output', detail: /neither PRETTY_NAME/ },
  ]);
});
