/**
 * The agent's background service (`ztna service install | uninstall | status`): `ztna
 * daemon` under the platform's service manager with the system-wide config directory.
 * Rendering and installing are in src/platform/service-manager.ts.
 *
 * systemd hardening: the daemon only reads the system (mountinfo, /sys/block, os-release,
 * package logs and databases, the firewall's kernel ruleset) and writes its own config
 * directory, so the file system is read-only except that directory, and the capability
 * bounding set keeps only what the firewall collector needs to read the ruleset as root:
 * CAP_NET_ADMIN (nft / iptables list rules) and CAP_NET_RAW (iptables-legacy's socket),
 * plus CAP_DAC_READ_SEARCH to read logs and databases owned by other users (e.g. 0640
 * files of syslog). Deliberately NOT set: MemoryDenyWriteExecute (V8's JIT needs W+X
 * pages), PrivateDevices (lsblk looks at /dev nodes), ProtectProc=invisible (the
 * antivirus collector looks for vendor processes), PrivateNetwork (it talks to the server).
 */
import { win32 } from 'node:path';
import type { ServiceDefinition, ServicePlatform } from '../platform/service-manager.ts';
import { BASE_SYSTEMD_HARDENING, defaultLogFile } from '../platform/service-manager.ts';

export const SERVICE_NAME = 'ztna';
export const LAUNCHD_LABEL = 'com.ztna.agent';

export function systemConfigDir(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): string {
  // win32.join: the Windows path is also rendered (and tested) on other systems.
  if (platform === 'win32') return win32.join(env.ProgramData ?? 'C:\\ProgramData', 'ztna');
  if (platform === 'darwin') return '/Library/Application Support/ztna';
  return '/var/lib/ztna';
}

export const AGENT_SYSTEMD_HARDENING: readonly string[] = [
  '# Hardening (see src/agent/service.ts): read-only system, writable config directory,',
  '# and only the capabilities the firewall collector needs to read the ruleset.',
  ...BASE_SYSTEMD_HARDENING,
  'ProtectHome=read-only',
  'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK',
  'CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW CAP_DAC_READ_SEARCH',
];

/** `command` is the daemon's command line: the program's real path, then its arguments. */
export function agentServiceDefinition(command: readonly string[], platform: ServicePlatform, env: NodeJS.ProcessEnv = process.env): ServiceDefinition {
  const configDir = systemConfigDir(platform, env);
  return {
    name: SERVICE_NAME,
    launchdLabel: LAUNCHD_LABEL,
    description: 'ztna device posture agent',
    command,
    environment: { ZTNA_CONFIG_DIR: configDir },
    stateDir: configDir,
    logFile: defaultLogFile(platform, 'agent', configDir),
    systemdHardening: AGENT_SYSTEMD_HARDENING,
  };
}
