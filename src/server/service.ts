/**
 * The server's background service (`ztna-server service install | uninstall | status`):
 * `ztna-server serve --data DIR [--listen HOST:PORT] [--db URL]` under the platform's
 * service manager. Rendering and installing are in src/platform/service-manager.ts.
 *
 * Under systemd it runs as its own system user, `ztna-server` (created with
 * systemd-sysusers at install and given the data directory), never as root; TLS files
 * reach it through LoadCredential. launchd and Windows still run it as root/LocalSystem.
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
  /** A PostgreSQL URL without a password (a password is refused on the command line). */
  readonly db?: string;
  /** ZTNA_DB_URL from the installing environment: a secret, kept out of argv and the unit. */
  readonly dbUrlSecret?: string;
  /** Absolute paths of the certificate and key for `serve --tls-cert/--tls-key`. */
  readonly tls?: { readonly cert: string; readonly key: string };
  /** `serve` flags passed through as given (already validated). */
  readonly serveFlags?: readonly string[];
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

/** The system user the server's systemd unit runs as (created at install). */
export const SERVER_USER = 'ztna-server';

export function serverServiceDefinition(options: ServerServiceOptions, platform: ServicePlatform): ServiceDefinition {
  const data = isAbsolute(options.data) ? options.data : resolve(options.data);
  // systemd: the TLS files (root-only, as they should be) reach the unprivileged service
  // user through LoadCredential; elsewhere the service runs as root/LocalSystem and reads them.
  const viaCredentials = platform === 'linux' && options.tls !== undefined;
  const tlsArgs = options.tls ? ['--tls-cert', viaCredentials ? '%d/tls-cert' : options.tls.cert, '--tls-key', viaCredentials ? '%d/tls-key' : options.tls.key] : [];
  const args = ['serve', '--data', data, '--listen', options.listen, ...(options.db ? ['--db', options.db] : []), ...tlsArgs, ...(options.serveFlags ?? [])];
  return {
    name: SERVER_SERVICE_NAME,
    launchdLabel: SERVER_LAUNCHD_LABEL,
    description: 'ztna reference server',
    command: [...options.program, ...args],
    environment: {},
    ...(options.dbUrlSecret ? { secretEnvironment: { ZTNA_DB_URL: options.dbUrlSecret } } : {}),
    stateDir: data,
    logFile: defaultLogFile(platform, 'server', data),
    systemdHardening: serverSystemdHardening(options.listen, data),
    ...(platform === 'linux' ? { user: SERVER_USER } : {}),
    ...(viaCredentials && options.tls ? { credentials: { 'tls-cert': options.tls.cert, 'tls-key': options.tls.key } } : {}),
  };
}
