/**
 * The server's background service (`ztna-server service install | uninstall | status`):
 * `ztna-server serve --data DIR [--listen HOST:PORT] [--db URL]` under the platform's
 * service manager. Rendering and installing are in src/platform/service-manager.ts.
 *
 * systemd hardening is stricter than the agent's: the server reads nothing of the system,
 * so it gets no capabilities at all (CAP_NET_BIND_SERVICE only for a port below 1024), no
 * devices, no view of /home, and writes only its data directory. MemoryDenyWriteExecute
 * stays off: V8's JIT needs W+X pages.
 */
import { isAbsolute, resolve } from 'node:path';
import type { ServiceDefinition, ServicePlatform } from '../platform/service-manager.ts';
import { BASE_SYSTEMD_HARDENING, defaultLogFile } from '../platform/service-manager.ts';

export const SERVER_SERVICE_NAME = 'ztna-server';
export const SERVER_LAUNCHD_LABEL = 'com.ztna.server';

export interface ServerServiceOptions {
  /** How to run `ztna-server` (see selfCommand): program path and any script path. */
  readonly program: readonly string[];
  readonly data: string;
  readonly listen: string;
  readonly db?: string;
  /** Absolute paths of the certificate and key for `serve --tls-cert/--tls-key`. */
  readonly tls?: { readonly cert: string; readonly key: string };
}

export function serverSystemdHardening(listen: string, dataDir: string): string[] {
  const port = Number(/:(\d+)$/.exec(listen)?.[1] ?? 0);
  const underHome = /^\/(home|root)(\/|$)/.test(dataDir);
  return [
    '# Hardening (see src/server/service.ts): nothing writable but the data directory,',
    '# no capabilities, no devices, network only over IP and Unix sockets.',
    ...BASE_SYSTEMD_HARDENING,
    // A data directory under /home or /root must stay reachable; otherwise hide them.
    `ProtectHome=${underHome ? 'read-only' : 'yes'}`,
    'PrivateDevices=yes',
    'ProtectKernelLogs=yes',
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6',
    port > 0 && port < 1024 ? 'CapabilityBoundingSet=CAP_NET_BIND_SERVICE\nAmbientCapabilities=CAP_NET_BIND_SERVICE' : 'CapabilityBoundingSet=',
  ];
}

export function serverServiceDefinition(options: ServerServiceOptions, platform: ServicePlatform): ServiceDefinition {
  const data = isAbsolute(options.data) ? options.data : resolve(options.data);
  const args = ['serve', '--data', data, '--listen', options.listen, ...(options.db ? ['--db', options.db] : []), ...(options.tls ? ['--tls-cert', options.tls.cert, '--tls-key', options.tls.key] : [])];
  return {
    name: SERVER_SERVICE_NAME,
    launchdLabel: SERVER_LAUNCHD_LABEL,
    description: 'ztna reference server',
    command: [...options.program, ...args],
    environment: {},
    stateDir: data,
    logFile: defaultLogFile(platform, 'server', data),
    systemdHardening: serverSystemdHardening(options.listen, data),
    // A PostgreSQL URL with a password must not land in a world-readable unit file.
    secret: options.db !== undefined && /\/\/[^/@]*:[^/@]*@/.test(options.db),
  };
}
