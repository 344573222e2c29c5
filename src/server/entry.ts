/**
 * Process entry of `ztna-server` (run by bin/ztna-server): `serve`, `bootstrap`,
 * `migrate` (SPEC section 4). The only module of the server that exits the process or
 * installs signal handlers.
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import pino from 'pino';
import { AGENT_VERSION } from '../version.ts';
import { buildServer } from './app.ts';
import { createTokenService, loadJwtSecret } from './auth/tokens.ts';
import { findOrCreateOrg } from './domain/orgs.ts';
import { LATEST_SCHEMA_VERSION } from './store/migrations.ts';
import { openPostgresStore } from './store/postgres/postgres-store.ts';
import { openSqliteStore } from './store/sqlite/sqlite-store.ts';
import type { Store } from './store/store.ts';

class UsageError extends Error {}

export function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value.trim());
  const port = Number(match?.[3]);
  if (!match || port > 65535) throw new UsageError(`--listen: expected HOST:PORT (e.g. 127.0.0.1:8787 or [::1]:8787), got "${value}"`);
  return { host: (match[1] ?? match[2]) as string, port };
}

function displayAddress(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The URL without its credentials, for messages. */
const redact = (url: string) => url.replace(/\/\/[^@/]*@/, '//…@');

async function openStore(options: { data: string; db?: string }, migrate = true): Promise<Store> {
  if (options.db) {
    if (!/^postgres(ql)?:\/\//.test(options.db)) throw new UsageError(`--db: expected postgres://USER@HOST:PORT/DB, got "${redact(options.db)}"`);
    try {
      return await openPostgresStore({ url: options.db, migrate });
    } catch (error) {
      if ((error as Error).name === 'SchemaError') throw error;
      throw new UsageError(`cannot use PostgreSQL at ${redact(options.db)}: ${(error as Error).message}`);
    }
  }
  const dataDir = resolve(options.data);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
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
  return loadJwtSecret(resolve(dataDir));
}

async function serve(options: { listen: string; data: string; db?: string; logLevel: string }): Promise<number> {
  const { host, port } = parseListen(options.listen);
  const logger = pino({ level: options.logLevel, base: { service: 'ztna-server' } });
  const store = await openStore(options);
  const tokens = createTokenService(await signingSecret(store, options.data));
  const server = await buildServer({ store, tokens, logger, auditLog: pino({ base: { stream: 'audit' } }) });
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
  process.stdout.write(`listening on ${displayAddress(host, bound)}\n`);
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

async function migrate(options: { data: string; db?: string }): Promise<number> {
  const store = await openStore(options, true);
  await store.close();
  process.stdout.write(`schema is at version ${LATEST_SCHEMA_VERSION}\n`);
  return 0;
}

export async function runServerCli(argv: readonly string[]): Promise<number> {
  if (Number(process.versions.node.split('.')[0]) < 24) {
    process.stderr.write(`ztna-server: needs Node.js 24 or newer, but this is ${process.version}. Run \`npm ci\` in the checkout (it installs the pinned runtime).\n`);
    return 2;
  }
  let exitCode = 0;
  const program = new Command('ztna-server')
    .description('ztna reference server: enrolls machines, evaluates posture, quarantines and releases, answers access checks')
    .version(`ztna-server ${AGENT_VERSION} (node ${process.versions.node})`, '-v, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const dataOption = ['--data <dir>', 'data directory (SQLite file, JWT secret)', './data'] as const;
  const dbOption = ['--db <url>', 'postgres://USER@HOST:PORT/DB: use PostgreSQL instead of the SQLite file (several server processes may share it)'] as const;
  program
    .command('serve')
    .description('run the server')
    .option('--listen <host:port>', 'address to listen on; port 0 picks a free port', '127.0.0.1:8787')
    .option(...dataOption)
    .option(...dbOption)
    .option('--log-level <level>', 'fatal, error, warn, info, debug or silent', 'info')
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

if (process.argv[1] && /ztna-server(\.js)?$/.test(process.argv[1])) {
  process.exitCode = await runServerCli(process.argv.slice(2));
}
