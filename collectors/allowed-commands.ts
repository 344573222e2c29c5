/**
 * The allow-list: every external program ztna may run, by id, with its absolute paths
 * per OS (first existing one wins). Nothing else can be run: the command runner refuses
 * an id that is not here. Paths follow where each OS and vendor installs the tool;
 * `/usr/sbin` and `/sbin` both appear because merged-/usr is not universal.
 */
import type { CommandSpec } from '../src/platform/command-runner.ts';

const sbin = (name: string) => [`/usr/sbin/${name}`, `/sbin/${name}`, `/usr/bin/${name}`, `/bin/${name}`];
const bin = (name: string) => [`/usr/bin/${name}`, `/bin/${name}`, `/usr/sbin/${name}`, `/sbin/${name}`];

export const ALLOWED_COMMANDS = {
  // Linux
  lsblk: { paths: { linux: bin('lsblk') }, timeoutMs: 5_000 },
  zfs: { paths: { linux: sbin('zfs') }, timeoutMs: 5_000 },
  nft: { paths: { linux: sbin('nft') }, timeoutMs: 5_000 },
  iptables: { paths: { linux: sbin('iptables') }, timeoutMs: 5_000 },
  'iptables-legacy': { paths: { linux: sbin('iptables-legacy') }, timeoutMs: 5_000 },
  ufw: { paths: { linux: sbin('ufw') }, timeoutMs: 10_000 },
  'firewall-cmd': { paths: { linux: bin('firewall-cmd') }, timeoutMs: 10_000 },
  rpm: { paths: { linux: bin('rpm') }, timeoutMs: 20_000 },
  'mdatp-linux': { paths: { linux: ['/usr/bin/mdatp', '/opt/microsoft/mdatp/sbin/wdavdaemonclient'] }, timeoutMs: 15_000 },
  falconctl: { paths: { linux: ['/opt/CrowdStrike/falconctl'] }, timeoutMs: 15_000 },
  systemctl: { paths: { linux: bin('systemctl') }, timeoutMs: 30_000 },
  /** Runs gsettings as a session's user (root agent): `runuser -u USER -- /usr/bin/gsettings get …`. */
  runuser: { paths: { linux: sbin('runuser') }, timeoutMs: 10_000 },
  gsettings: { paths: { linux: bin('gsettings') }, timeoutMs: 10_000 },
  // macOS
  launchctl: { paths: { darwin: ['/bin/launchctl'] }, timeoutMs: 30_000 },
  fdesetup: { paths: { darwin: ['/usr/bin/fdesetup'] }, timeoutMs: 10_000 },
  socketfilterfw: { paths: { darwin: ['/usr/libexec/ApplicationFirewall/socketfilterfw'] }, timeoutMs: 10_000 },
  system_profiler: { paths: { darwin: ['/usr/sbin/system_profiler'] }, timeoutMs: 30_000 },
  systemextensionsctl: { paths: { darwin: ['/usr/bin/systemextensionsctl'] }, timeoutMs: 10_000 },
  'mdatp-darwin': { paths: { darwin: ['/usr/local/bin/mdatp'] }, timeoutMs: 15_000 },
  sw_vers: { paths: { darwin: ['/usr/bin/sw_vers'] }, timeoutMs: 5_000 },
  diskutil: { paths: { darwin: ['/usr/sbin/diskutil'] }, timeoutMs: 15_000 },
  sysadminctl: { paths: { darwin: ['/usr/sbin/sysadminctl'] }, timeoutMs: 10_000 },
  sysctl: { paths: { darwin: ['/usr/sbin/sysctl'] }, timeoutMs: 5_000 },
  nvram: { paths: { darwin: ['/usr/sbin/nvram'] }, timeoutMs: 5_000 },
  // Windows: Windows PowerShell 5.1 ships with every supported Windows; pwsh is not guaranteed.
  powershell: {
    paths: { win32: ['%SystemRoot%\\System32\\WindowsPowerShell\\v1.0\\powershell.exe'] },
    timeoutMs: 30_000,
  },
} as const satisfies Record<string, CommandSpec>;

export type AllowedCommand = keyof typeof ALLOWED_COMMANDS;
