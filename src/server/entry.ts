/**
 * Process entry of `ztna-server` (run by bin/ztna-server): `serve`, `bootstrap`,
 * `login-link`, `migrate` (SPEC section 4). The only module of the server that exits the
 * process or installs signal handlers.
 */
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import pino from 'pino';
import { isSingleExecutable, versionLine } from '../build-info.ts';
import { buildServer } from './app.ts';
import { DataDirectoryError, checkDataDirectory, preparePrivateDatabase } from './data-dir.ts';
import { createTokenService, loadJwtSecret } from './auth/tokens.ts';
import { DEFAULT_LINK_TTL_S, MAX_LINK_TTL_S, createLoginLink, loginUrl } from './dashboard/sessions.ts';
import { findOrCreateOrg } from './domain/orgs.ts';
import type { CreatedKey, ListedKey } from './admin-commands.ts';
import { keysCreate, keysList, keysRevoke, requireOrg } from './admin-commands.ts';
import { LATEST_SCHEMA_VERSION } from './store/migrations.ts';
import { parseRate, parseTrustProxy, resolveDatabaseUrl } from './serve-options.ts';
import { openPostgresStore } from './store/postgres/postgres-store.ts';
import { openSqliteStore } from './store/sqlite/sqlite-store.ts';
import type { Store } from './store/store.ts';

import { UsageError } from './usage-error.ts';

export function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value.trim());
  const port = Number(match?.[3]);
  if (!match || port > 65535) throw new UsageError(`--listen: expected HOST:PORT (e.g. 127.0.0.1:8787 or [::1]:8787), got "${value}"`);
  return { host: (match[1] ?? match[2]) as string, port };
}

function displayAddress(scheme: 'http' | 'https', host: string, port: number): string {
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * The PEM certificate (chain) and private key of `--tls-cert` / `--tls-key`, checked to
 * be readable, parseable and a pair before anything else starts. Messages name the files,
 * never their contents.
 */
async function loadTls(options: { tlsCert?: string; tlsKey?: string }, logger: pino.Logger): Promise<{ cert: Buffer; key: Buffer } | undefined> {
  if (options.tlsCert === undefined && options.tlsKey === undefined) return undefined;
  if (options.tlsCert === undefined || options.tlsKey === undefined) throw new UsageError('--tls-cert and --tls-key go together: give both (PEM files) or neither');
  const read = async (flag: string, path: string) => {
    try {
      return await readFile(path);
    } catch (error) {
      throw new UsageError(`${flag}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  };
  const cert = await read('--tls-cert', options.tlsCert);
  const key = await read('--tls-key', options.tlsKey);
  const { X509Certificate, createPrivateKey } = await import('node:crypto');
  const { createSecureContext } = await import('node:tls');
  let certificate: InstanceType<typeof X509Certificate>;
  try {
    certificate = new X509Certificate(cert);
  } catch {
    throw new UsageError(`--tls-cert: ${options.tlsCert} does not hold a PEM certificate`);
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new UsageError(`--tls-key: ${options.tlsKey} does not hold an unencrypted PEM private key`);
  }
  if (!certificate.checkPrivateKey(privateKey)) throw new UsageError(`--tls-key: ${options.tlsKey} is not the private key of the certificate in ${options.tlsCert}`);
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    throw new UsageError(`--tls-cert / --tls-key: cannot use them for TLS: ${(error as Error).message}`);
  }
  if (Date.parse(certificate.validTo) <= Date.now()) logger.warn({ file: options.tlsCert, valid_to: certificate.validTo }, 'the TLS certificate has expired: agents will refuse this server');
  if (process.platform !== 'win32' && ((await stat(options.tlsKey)).mode & 0o077) !== 0) logger.warn({ file: options.tlsKey }, 'the TLS private key is readable by other users: chmod 600 it');
  return { cert, key };
}

/** The URL without its credentials, for messages. */
const redact = (url: string) => url.replace(/\/\/[^@/]*@/, '//…@');

/** `--db`, else ZTNA_DB_URL; a password on the command line is refused (serve-options.ts). */
function databaseUrl(options: { db?: string }): string | undefined {
  let url: string | undefined;
  try {
    url = resolveDatabaseUrl(options.db);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (url !== undefined && !/^postgres(ql)?:\/\//.test(url)) throw new UsageError(`${options.db === undefined ? 'ZTNA_DB_URL' : '--db'}: expected postgres://USER@HOST:PORT/DB, got "${redact(url)}"`);
  return url;
}

async function openStore(options: { data: string; db?: string }, migrate = true): Promise<Store> {
  const url = databaseUrl(options);
  if (url) {
    try {
      return await openPostgresStore({ url, migrate });
    } catch (error) {
      if ((error as Error).name === 'SchemaError') throw error;
      throw new UsageError(`cannot use PostgreSQL at ${redact(url)}: ${(error as Error).message}`);
    }
  }
  const dataDir = resolve(options.data);
  try {
    await checkDataDirectory(dataDir);
    await preparePrivateDatabase(join(dataDir, 'ztna.db'));
  } catch (error) {
    if (error instanceof DataDirectoryError) throw new UsageError(error.message);
    throw error;
  }
  return openSqliteStore({ dataDir, migrate });
}

/**
 * The JWT signing secret: ZTNA_JWT_SECRET, else on PostgreSQL one kept in the database
 * (shared by every process), else the file under --data.
 */
async function signingSecret(store: Store, dataDir: string): Promise<Uint8Array> {
  if (store.engine === 'postgres' && !process.env.ZTNA_JWT_SECRET) {
    const { randomBytes } = await import('node:crypto');
    return new TextEncoder().encode(await store.sharedSecret('jwt_signing_key', () => randomBytes(48).toString('base64url')));
  }
  try {
    return await loadJwtSecret(resolve(dataDir));
  } catch (error) {
    if (error instanceof DataDirectoryError) throw new UsageError(error.message);
    throw error;
  }
}

interface ServeOptions {
  listen: string;
  data: string;
  db?: string;
  logLevel: string;
  tlsCert?: string;
  tlsKey?: string;
  trustProxy?: string;
  registerRate: string;
  authFailRate: string;
}

/** The client-address and limit options of `serve` (and of the service it installs). */
function limitOptions(options: Pick<ServeOptions, 'trustProxy' | 'registerRate' | 'authFailRate'>) {
  try {
    return {
      ...(options.trustProxy === undefined ? {} : { trustProxy: parseTrustProxy(options.trustProxy) }),
      registerPerMinute: parseRate('--register-rate', options.registerRate),
      failedAuthPerMinute: parseRate('--auth-fail-rate', options.authFailRate),
    };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

async function serve(options: ServeOptions): Promise<number> {
  const { host, port } = parseListen(options.listen);
  const limits = limitOptions(options);
  const logger = pino({ level: options.logLevel, base: { service: 'ztna-server' } });
  const tls = await loadTls(options, logger);
  const store = await openStore(options);
  const tokens = createTokenService(await signingSecret(store, options.data));
  const server = await buildServer({ store, tokens, logger, auditLog: pino({ base: { stream: 'audit' } }), ...limits, ...(tls ? { tls } : {}) });
  try {
    await server.app.listen({ host, port });
  } catch (error) {
    await server.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UsageError(`${host}:${port} is already in use; choose another with --listen HOST:PORT (port 0 = any free port)`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new UsageError(`cannot listen on ${host}: no such local address`);
    throw error;
  }
  const address = server.app.server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  process.stdout.write(`listening on ${displayAddress(tls ? 'https' : 'http', host, bound)}\n`);
  await new Promise<void>((resolveStop) => {
    const stop = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'shutting down');
      resolveStop();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await server.close();
  return 0;
}

async function bootstrap(options: { data: string; db?: string; org: string; json?: boolean; ttl: string }): Promise<number> {
  const ttlSeconds = Number(options.ttl);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 60 || ttlSeconds > 366 * 86400) throw new UsageError('--ttl: whole seconds between 60 and 31622400');
  const name = options.org.trim();
  if (name === '' || name.length > 200) throw new UsageError('--org: a name of 1 to 200 characters');
  const store = await openStore(options);
  try {
    const { org, created } = await findOrCreateOrg(store, name, new Date());
    const tokens = createTokenService(await signingSecret(store, options.data));
    const token = await tokens.mint({ orgId: String(org.id), subject: 'bootstrap', ttlSeconds });
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ org_id: org.id, admin_token: token })}\n`);
    } else {
      process.stdout.write(`${created ? 'created' : 'found'} org "${name}" (${String(org.id)})\nadmin token (valid ${Math.round(ttlSeconds / 3600)} h):\n${token}\n`);
    }
    return 0;
  } finally {
    await store.close();
  }
}

async function serviceAction(
  action: string,
  options: { data?: string; listen: string; db?: string; tlsCert?: string; tlsKey?: string; trustProxy?: string; registerRate: string; authFailRate: string; dryRun?: boolean; json?: boolean },
): Promise<number> {
  const { SERVICE_MANAGER_COMMANDS, describeServiceOutcome, installPlan, installService, requireRootOwnedProgram, selfCommand, servicePlatform, serviceStatus, uninstallService } = await import('../platform/service-manager.ts');
  const { serverServiceDefinition } = await import('./service.ts');
  const { createCommandRunner } = await import('../platform/command-runner.ts');
  if (!['install', 'uninstall', 'status'].includes(action)) throw new UsageError(`service: unknown action "${action}"; use install, uninstall or status`);
  if (action === 'install' && !options.data) throw new UsageError('service install needs --data DIR: where the service keeps its database and secret (e.g. /var/lib/ztna-server)');
  parseListen(options.listen);
  limitOptions(options);
  // A URL with a password comes only from ZTNA_DB_URL; it goes to a root-only file, never argv.
  const url = databaseUrl(options);
  const fromEnvironment = options.db === undefined && url !== undefined;
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together: give both (PEM files) or neither');
  const tls = options.tlsCert && options.tlsKey ? { cert: resolve(options.tlsCert), key: resolve(options.tlsKey) } : undefined;
  const serveFlags = [
    ...(options.trustProxy === undefined ? [] : ['--trust-proxy', options.trustProxy]),
    ...(options.registerRate === '300' ? [] : ['--register-rate', options.registerRate]),
    ...(options.authFailRate === '100' ? [] : ['--auth-fail-rate', options.authFailRate]),
  ];
  const platform = servicePlatform();
  const program = selfCommand([], isSingleExecutable());
  const definition = serverServiceDefinition(
    { program, data: options.data ?? defaultServiceData(platform), listen: options.listen, ...(fromEnvironment ? { dbUrlSecret: url } : url ? { db: url } : {}), tls, serveFlags },
    platform,
  );
  // The service runs as root (or starts as root): nothing a non-root user can change may be in its program.
  if (action === 'install') await requireRootOwnedProgram(program, platform);
  const runner = createCommandRunner({ allowList: SERVICE_MANAGER_COMMANDS });
  const outcome =
    action === 'install'
      ? options.dryRun
        ? installPlan(definition, platform)
        : await installService(runner, definition, platform)
      : action === 'uninstall'
        ? await uninstallService(runner, definition, platform)
        : await serviceStatus(runner, definition, platform);
  process.stdout.write(options.json ? `${JSON.stringify(outcome, null, 2)}\n` : describeServiceOutcome(outcome));
  return 'action' in outcome && outcome.action === 'status' && outcome.active !== true ? 1 : 0;
}

/** Where uninstall/status look when no --data is given: only the file names depend on it. */
function defaultServiceData(platform: NodeJS.Platform): string {
  if (platform === 'win32') return `${process.env.ProgramData ?? 'C:\\ProgramData'}\\ztna-server`;
  return platform === 'darwin' ? '/Library/Application Support/ztna-server' : '/var/lib/ztna-server';
}

async function migrate(options: { data: string; db?: string }): Promise<number> {
  const store = await openStore(options, true);
  await store.close();
  process.stdout.write(`schema is at version ${LATEST_SCHEMA_VERSION}\n`);
  return 0;
}

/** A one-time dashboard sign-in URL for the org's admin (src/server/dashboard/sessions.ts). */
async function withStore(options: { data: string; db?: string }, work: (store: Store) => Promise<number>): Promise<number> {
  const store = await openStore(options);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

function describeCreated(key: CreatedKey): string {
  const lines = [
    'auth key (shown once; only its hash is stored):',
    key.key,
    '',
    `id:          ${key.id}`,
    `enrols:      ${key.reusable ? 'any number of devices' : 'one device'}`,
    `expires:     ${key.expires_at ?? 'never'}`,
    `tags:        ${key.tags.length > 0 ? key.tags.join(', ') : 'none'}`,
    '',
    'On a device: ZTNA_AUTH_KEY=<the key above> ztna up --server <this server\'s URL>',
  ];
  return `${lines.join('\n')}\n`;
}

function describeKeys(keys: readonly ListedKey[]): string {
  if (keys.length === 0) return 'no auth keys yet: `ztna-server keys create` makes one\n';
  const rows = keys.map((key) => [key.id, key.state, key.reusable ? 'reusable' : 'single-use', key.expires_at ?? 'never', String(key.used_count), key.tags.join(',') || '-', key.description || '-']);
  const header = ['ID', 'STATE', 'KIND', 'EXPIRES', 'USED', 'TAGS', 'DESCRIPTION'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  return `${[header, ...rows].map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join('  ')).join('\n')}\n`;
}

async function loginLink(options: { data: string; db?: string; org: string; createOrg?: boolean; url: string; ttl: string; json?: boolean }): Promise<number> {
  const ttlSeconds = Number(options.ttl);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 60 || ttlSeconds > MAX_LINK_TTL_S) throw new UsageError(`--ttl: whole seconds between 60 and ${MAX_LINK_TTL_S}`);
  const name = options.org.trim();
  if (name === '' || name.length > 200) throw new UsageError('--org: a name of 1 to 200 characters');
  let base: URL;
  try {
    base = new URL(options.url);
  } catch {
    throw new UsageError(`--url: expected the server's address, e.g. http://127.0.0.1:8787, got "${options.url}"`);
  }
  if ((base.protocol !== 'http:' && base.protocol !== 'https:') || base.pathname !== '/' || base.search !== '' || base.hash !== '' || base.username !== '') {
    throw new UsageError(`--url: expected http(s)://HOST:PORT with no path, got "${options.url}"`);
  }
  const store = await openStore(options);
  try {
    const now = new Date();
    const org = await requireOrg(store, options, now);
    const { created } = org;
    const { token, expiresAt } = await createLoginLink(store, org.id, now, ttlSeconds);
    const url = loginUrl(base.origin, token);
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ url, org_id: org.id, expires_at: expiresAt })}\n`);
    } else {
      process.stdout.write(`${url}\n`);
      process.stderr.write(`${created ? 'created' : 'found'} org "${name}"; open the link above in a browser within ${Math.round(ttlSeconds / 60)} min (it works once)\n`);
    }
    return 0;
  } finally {
    await store.close();
  }
}

export async function runServerCli(argv: readonly string[]): Promise<number> {
  if (Number(process.versions.node.split('.')[0]) < 24) {
    process.stderr.write(`ztna-server: needs Node.js 24 or newer, but this is ${process.version}. Run \`npm ci\` in the checkout (it installs the pinned runtime).\n`);
    return 2;
  }
  let exitCode = 0;
  const program = new Command('ztna-server')
    .description('ztna reference server: enrolls machines, evaluates posture, quarantines and releases, answers access checks')
    .version(versionLine('ztna-server'), '-v, --version', 'print the version, commit and runtime')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const dataOption = ['--data <dir>', 'data directory (SQLite file, JWT secret)', './data'] as const;
  const dbOption = ['--db <url>', 'postgres://USER@HOST:PORT/DB: use PostgreSQL instead of the SQLite file (several server processes may share it). No password here: use ZTNA_DB_URL (the whole URL) or PGPASSWORD / PGPASSFILE'] as const;
  const limitFlags = (command: Command) =>
    command
      .option('--trust-proxy <cidrs>', 'load balancers / reverse proxies (IP or CIDR, comma-separated) whose X-Forwarded-For names the client; from anyone else it is ignored')
      .option('--register-rate <n>', 'enrolments per minute per client address', '300')
      .option('--auth-fail-rate <n>', 'failed authentications per minute per client address; past it, that address\'s requests without valid credentials get 429 (valid ones are always served)', '100');
  const serveCommand = program
    .command('serve')
    .description('run the server')
    .option('--listen <host:port>', 'address to listen on; port 0 picks a free port', '127.0.0.1:8787')
    .option(...dataOption)
    .option(...dbOption)
    .option('--log-level <level>', 'fatal, error, warn, info, debug or silent', 'info')
    .option('--tls-cert <file>', 'terminate TLS here: PEM certificate (chain) for https (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert (unencrypted; keep it mode 0600)');
  limitFlags(serveCommand)
    .addHelpText('after', '\nBehind a load balancer, name it with --trust-proxy so that limits apply per client, not per\nbalancer; behind an office NAT every device shares one address: raise --register-rate for a\nroll-out (valid credentials are never limited by --auth-fail-rate).\n\nPostgreSQL: ZTNA_DB_URL=postgres://ztna:SECRET@db:5432/ztna ztna-server serve')
    .exitOverride()
    .action(async (options) => {
      exitCode = await serve(options);
    });
  program
    .command('bootstrap')
    .description('create the org if it does not exist and print a fresh admin token (safe while the server runs)')
    .option(...dataOption)
    .option(...dbOption)
    .option('--org <name>', 'organisation name', 'default')
    .option('--ttl <seconds>', 'admin token lifetime', String(7 * 86400))
    .option('--json', 'print {"org_id", "admin_token"}')
    .exitOverride()
    .action(async (options) => {
      exitCode = await bootstrap(options);
    });
  program
    .command('migrate')
    .description('apply pending schema migrations')
    .option(...dataOption)
    .option(...dbOption)
    .exitOverride()
    .action(async (options) => {
      exitCode = await migrate(options);
    });
  program
    .command('login-link')
    .description('print a one-time URL that signs a browser in to the dashboard as the org\'s admin (safe while the server runs)')
    .option(...dataOption)
    .option(...dbOption)
    .option('--org <name>', 'organisation name (it must exist: `bootstrap` creates one)', 'default')
    .option('--create-org', 'create the organisation if it does not exist')
    .option('--url <base>', 'the address browsers reach the server at', 'http://127.0.0.1:8787')
    .option('--ttl <seconds>', 'how long the link stays valid (it works once)', String(DEFAULT_LINK_TTL_S))
    .option('--json', 'print {"url", "org_id", "expires_at"}')
    .exitOverride()
    .action(async (options) => {
      exitCode = await loginLink(options);
    });
  const keys = program
    .command('keys')
    .description('auth keys for enrolling devices: create (shown once), list, revoke (safe while the server runs)')
    .addHelpText('after', '\nExamples:\n  ztna-server keys create --data ./data --description laptops --expires 30d --tags engineering\n  ztna-server keys create --data ./data --json | jq -r .key\n  ztna-server keys list --data ./data\n  ztna-server keys revoke 3f0c… --data ./data\n');
  /** A `keys` subcommand: the store options, --org, and the result printed as JSON or for people. */
  const keysCommand = (name: string, description: string) =>
    keys.command(name).description(description).option(...dataOption).option(...dbOption).exitOverride();
  const printed = <T>(json: boolean | undefined, result: T, human: (value: T) => string) => {
    process.stdout.write(json ? `${JSON.stringify(result)}\n` : human(result));
    return 0;
  };
  keysCommand('create', 'create an auth key and print it (the only time it is shown; only its hash is stored)')
    .option('--org <name>', 'organisation name (it must exist unless --create-org)', 'default')
    .option('--create-org', 'create the organisation if it does not exist')
    .option('--reusable', 'the key enrols any number of devices (default: one device)')
    .option('--expires <duration>', 'lifetime: 30d, 12h, 45m, or never', '90d')
    .option('--tags <list>', 'comma-separated tags every device enrolled with it gets (SPEC 7.1)')
    .option('--description <text>', 'what the key is for (shown in the dashboard and the audit log)')
    .option('--json', 'print {"id", "key", "expires_at", "reusable", "tags", …}')
    .action(async (options) => {
      exitCode = await withStore(options, async (store) => printed(options.json, await keysCreate(store, options, new Date()), describeCreated));
    });
  keysCommand('list', "list the organisation's auth keys (never the keys themselves)")
    .option('--org <name>', 'organisation name', 'default')
    .option('--json', 'print a JSON array')
    .action(async (options) => {
      exitCode = await withStore(options, async (store) => printed(options.json, await keysList(store, options, new Date()), describeKeys));
    });
  keysCommand('revoke', 'revoke an auth key: it enrols no more devices (enrolled ones are not affected)')
    .argument('<id>', "the key's id (`keys list`)")
    .option('--org <name>', 'organisation name', 'default')
    .option('--json', 'print the revoked key as JSON')
    .action(async (id: string, options) => {
      exitCode = await withStore(options, async (store) =>
        printed(options.json, await keysRevoke(store, id, options, new Date()), (revoked) => `revoked auth key ${revoked.id} (${revoked.key_prefix}…${revoked.description ? `, ${revoked.description}` : ''})\n`),
      );
    });
  program
    .command('service')
    .description('run `serve` in the background under systemd (Linux), launchd (macOS) or the Windows service manager')
    .argument('<action>', 'install, uninstall or status')
    .option('--data <dir>', 'data directory for the service (install: required)')
    .option('--listen <host:port>', 'address the service listens on', '127.0.0.1:8787')
    .option(...dbOption)
    .option('--tls-cert <file>', 'the service terminates TLS with this PEM certificate (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert (systemd hands it to the service user with LoadCredential; keep it root-only)')
    .option('--trust-proxy <cidrs>', 'passed to serve: proxies whose X-Forwarded-For names the client')
    .option('--register-rate <n>', 'passed to serve: enrolments per minute per client address', '300')
    .option('--auth-fail-rate <n>', 'passed to serve: failed authentications per minute per client address', '100')
    .option('--dry-run', 'install: print the service definition and the commands, change nothing')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExample (as root):\n  ztna-server service install --data /var/lib/ztna-server --listen 0.0.0.0:8787\n  ZTNA_DB_URL=postgres://ztna:SECRET@db/ztna ztna-server service install --data /var/lib/ztna-server\n(the URL goes to /etc/ztna/ztna-server.env, mode 0600; on Linux the service runs as user ztna-server)\nLogs: journalctl -u ztna-server (Linux), /Library/Logs/ztna/server.log (macOS),\nDATA\\logs\\server.log (Windows).')
    .exitOverride()
    .action(async (action: string, options) => {
      exitCode = await serviceAction(action, options);
    });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`ztna-server: ${message}\n`);
    if (!(error instanceof UsageError) && error instanceof Error && error.name !== 'SchemaError') process.stderr.write(`${error.stack ?? ''}\n`);
    return 2;
  }
}

// Run only as the process entry (the bundle or the single-file binary), not when imported
// by tests. No top-level await: the single-file binary is built from a CommonJS bundle.
if (process.argv[1] && /ztna-server(\.js|\.exe)?$/i.test(process.argv[1])) {
  void runServerCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
