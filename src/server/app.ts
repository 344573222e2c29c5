/**
 * `buildServer(options)` assembles the reference server without listening (STYLE,
 * fastify model): tests call it with an in-memory store and a fake clock and talk to it
 * over real HTTP or `inject()`; `ztna-server serve` calls it and listens.
 *
 * Cross-cutting rules enforced here: bodies over 64 KiB → 413; malformed JSON,
 * prototype-pollution keys and wrong content types → 4xx; every error leaves in the
 * SPEC's `{"success": false, "error": {code, message}}` shape; nothing a client sends
 * can produce a 5xx (anything unexpected is logged with its stack and answered 500
 * without internals).
 */
import fastifyWebsocket from '@fastify/websocket';
import Fastify from 'fastify';
import type { FastifyError, FastifyInstance } from 'fastify';
import pino from 'pino';
import type { Logger } from 'pino';
import type { TokenService } from './auth/tokens.ts';
import type { Clock, DomainContext } from './domain/context.ts';
import { decodeRelayed, systemClock } from './domain/context.ts';
import { LastSeenBuffer } from './domain/last-seen.ts';
import { PeerLists } from './domain/peers.ts';
import { startSweeper, sweepOnce } from './domain/sweeper.ts';
import { ApiError, errorBody, unauthorized } from './errors.ts';
import { dashboardAssets } from './dashboard/assets.ts';
import type { DashboardAssets } from './dashboard/assets.ts';
import { dashboardRoutes } from './dashboard/routes.ts';
import { SessionService } from './dashboard/sessions.ts';
import { createMetrics } from './metrics.ts';
import { FailedAuthLimiter, RateLimiter, clientKey } from './rate-limit.ts';
import { RealtimeHub } from './realtime/hub.ts';
import type { ServerDeps } from './deps.ts';
import { adminRoutes } from './routes/admin.ts';
import { agentRoutes } from './routes/agent.ts';
import { checkUpgrade, realtimeRoutes } from './routes/realtime.ts';
import type { Store } from './store/store.ts';
import { eq } from './store/query.ts';
import { ConstraintError } from './store/store.ts';
import { findUnsafeText } from '../shared/text.ts';

export const BODY_LIMIT_BYTES = 64 * 1024;
/** JSON nested deeper than this is refused: nothing legitimate needs it, and it overflows stacks. */
export const MAX_JSON_DEPTH = 32;

/**
 * What no request body may hold, found without recursion (so it cannot overflow itself):
 * nesting deeper than `limit`, or — anywhere, keys included — a string that SPEC 7.1's
 * string rules refuse (src/shared/text.ts: control, format and separator characters, lone
 * surrogates). Every string the server stores arrives in a body, so checking bodies here
 * keeps both engines alike (PostgreSQL cannot store NUL or a lone surrogate at all) and
 * keeps terminal escapes and invisible characters out of every stored field.
 */
export function bodyProblem(value: unknown, limit: number): string | null {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop() as { value: unknown; depth: number };
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= limit) return `body: JSON nested deeper than ${limit} levels`;
    for (const child of Array.isArray(current) ? current : Object.values(current)) stack.push({ value: child, depth: depth + 1 });
  }
  const unsafe = findUnsafeText(value);
  return unsafe ? `${unsafe.path}: ${unsafe.problem}` : null;
}

function frameworkErrorBody(status: number, message: string) {
  const code = status === 413 ? 'payload_too_large' : status === 404 ? 'not_found' : 'bad_request';
  return errorBody(new ApiError(code, message));
}

export interface ServerOptions {
  readonly store: Store;
  readonly tokens: TokenService;
  readonly clock?: Clock;
  /** Operational log (errors, lifecycle). Default: silent. */
  readonly logger?: Logger;
  /** Audit stream: one JSON line per audit event. Default: the operational logger. */
  readonly auditLog?: Logger;
  /** Enrolments (registrations with a valid auth key) per client address per minute (default 300). */
  readonly registerPerMinute?: number;
  /**
   * Failed authentications (401s) per client address per minute (default 100). Past it,
   * that address's requests *without valid credentials* get 429 until the minute ends;
   * a request with valid credentials is always served (SPEC 7.1), so one device with a
   * stale key behind an office NAT cannot lock out every device and admin behind it.
   */
  readonly failedAuthPerMinute?: number;
  /**
   * Proxies allowed to say who the client is (`serve --trust-proxy`): addresses or CIDR
   * ranges. Only a TCP peer inside them may set the client address with
   * X-Forwarded-For (and the scheme with X-Forwarded-Proto); from anyone else those
   * headers are ignored. Default: none — the client is the TCP peer.
   */
  readonly trustProxy?: readonly string[];
  /** Run the offline/expiry sweeper in the background (default true). */
  readonly sweeper?: boolean;
  /** The dashboard's static files (default: the single executable's assets, else dist/dashboard). */
  readonly dashboard?: DashboardAssets;
  /** Terminate TLS here (PEM certificate chain and private key): the server speaks https only. */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
}

export type { ServerDeps } from './deps.ts';

export interface BuiltServer {
  readonly app: FastifyInstance;
  readonly context: DomainContext;
  /** One pass of the background jobs (tests drive time with a fake clock and call this). */
  sweep(): ReturnType<typeof sweepOnce>;
  /** Stops background work, flushes buffered state and closes the store. */
  close(): Promise<void>;
}

export async function buildServer(options: ServerOptions): Promise<BuiltServer> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const store = options.store;
  const context: DomainContext = {
    store,
    clock: options.clock ?? systemClock,
    realtime: new RealtimeHub(),
    auditLog: options.auditLog ?? logger,
    metrics: createMetrics(async () => {
      const counts: Record<string, number> = {};
      for (const status of ['online', 'offline', 'quarantined']) counts[status] = await store.count('machines', [{ column: 'status', op: 'eq', value: status }]);
      return counts;
    }),
    lastSeen: new LastSeenBuffer(),
  };
  const sessions = new SessionService(store, context.clock, context.realtime);
  const deps: ServerDeps = {
    context,
    peers: new PeerLists(context.clock),
    registerLimiter: new RateLimiter(options.registerPerMinute ?? 300, 60_000, () => context.clock.now().getTime()),
    async authenticateAdmin(request, tokenOverride) {
      const header = request.headers.authorization;
      const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : tokenOverride;
      // Without a token, the dashboard's session cookie (CSRF and Origin checked there).
      const session = token ? null : await sessions.authenticate(request);
      if (session) return session;
      if (!token) throw unauthorized('missing admin token: send Authorization: Bearer <token>');
      const claims = await options.tokens.verify(token);
      if (!claims) throw unauthorized('invalid or expired admin token');
      // A token outlives nothing it names: once its org is gone, it is not a credential.
      if (!(await store.selectOne('orgs', [eq('id', claims.orgId)]))) throw unauthorized('the organisation of this admin token does not exist');
      return claims;
    },
  };

  const app = Fastify({
    ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key } } : {}),
    // proxy-addr walks X-Forwarded-For from the right while the hop is trusted: request.ip
    // is the first address not inside these ranges.
    ...(options.trustProxy && options.trustProxy.length > 0 ? { trustProxy: [...options.trustProxy] } : {}),
    logger: false,
    bodyLimit: BODY_LIMIT_BYTES,
    // Reject, rather than strip, JSON that tries prototype pollution.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    routerOptions: { maxParamLength: 200 },
    // Errors raised before routing (bad percent-encoding, over-long path parameters) also
    // leave in the SPEC's error shape — without the query string, which Fastify's messages
    // quote and which may carry a token (`/api/realtime?token=`).
    frameworkErrors: (error, _request, reply) => {
      const status = error.statusCode && error.statusCode < 500 ? error.statusCode : 400;
      const message = error.message.replace(/\?[^\s'"]*/g, '?…');
      (reply as unknown as { status(code: number): { send(body: unknown): void } }).status(status).send(frameworkErrorBody(status, message));
    },
    // Malformed HTTP (oversized headers, garbage request lines) never reaches Fastify's
    // handlers; answer it in the same shape on the raw socket.
    clientErrorHandler: (error, socket) => {
      const code = (error as NodeJS.ErrnoException).code;
      const status = code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
      const body = JSON.stringify(frameworkErrorBody(status, status === 431 ? 'request headers (or query string) too large' : 'malformed HTTP request'));
      if (socket.writable) {
        socket.end(`HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      } else {
        socket.destroy();
      }
    },
  });

  const failedAuth = new FailedAuthLimiter(options.failedAuthPerMinute ?? 100, 60_000, () => context.clock.now().getTime());

  app.addHook('preValidation', async (request) => {
    const problem = request.body === undefined ? null : bodyProblem(request.body, MAX_JSON_DEPTH);
    if (problem) throw new ApiError('bad_request', problem);
  });

  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    if (error instanceof ApiError) {
      // Credentials that did not authenticate, from an address over its failed-auth budget:
      // 429 instead of 401. Decided here, after the route tried the credentials, so a
      // request with valid ones never gets this far, and every route and every spelling
      // of its path (percent-encoded, absolute-form) is covered alike.
      const wait = error.status === 401 ? failedAuth.blockedFor(clientKey(request.ip)) : 0;
      const answer = wait > 0 ? new ApiError('rate_limited', `too many failed authentication attempts from this address; retry in ${wait} s`) : error;
      if (answer.status === 429) reply.header('retry-after', /retry in (\d+)/.exec(answer.message)?.[1] ?? '60');
      return reply.status(answer.status).send(errorBody(answer));
    }
    if (error instanceof ConstraintError) {
      // Validation should have caught it; never a 5xx for what the client sent.
      const apiError = error.kind === 'unique' ? new ApiError('conflict', 'that row conflicts with an existing one') : new ApiError('bad_request', 'the row violates a constraint of its table');
      return reply.status(apiError.status).send(errorBody(apiError));
    }
    const status = (error as FastifyError).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      const code = status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : status === 404 ? 'not_found' : status === 429 ? 'rate_limited' : 'bad_request';
      const message = status === 413 ? `request body larger than ${BODY_LIMIT_BYTES} bytes` : error.message;
      return reply.status(status).send(errorBody(new ApiError(code, message)));
    }
    logger.error({ err: error, route: request.routeOptions.url }, 'unhandled error');
    return reply.status(500).send(errorBody(new ApiError('internal', 'internal server error')));
  });

  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send(errorBody(new ApiError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`)));
  });

  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode === 401) failedAuth.failed(clientKey(request.ip));
    const route = request.routeOptions.url ?? 'unmatched';
    context.metrics.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    context.metrics.latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  await app.register(fastifyWebsocket, { options: { maxPayload: 4096 } });
  app.addHook('onRequest', checkUpgrade);
  // Each route module is a plugin; the hooks and error handler above are the root's, which
  // every plugin inherits.
  await app.register(async (routes) => agentRoutes(routes, deps));
  await app.register(async (routes) => adminRoutes(routes, deps));
  await app.register(async (routes) => realtimeRoutes(routes, deps));
  await app.register(async (routes) => dashboardRoutes(routes, deps, sessions, options.dashboard ?? dashboardAssets()));

  app.get('/healthz', async () => {
    await store.count('orgs');
    return { status: 'ok' };
  });
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', context.metrics.registry.contentType);
    return context.metrics.registry.metrics();
  });

  // Several processes on one database: every process hears every committed event.
  const stopListening = store.relay
    ? await store.relay.listen((payload) => {
        const relayed = decodeRelayed(payload);
        if (relayed?.kind === 'event') context.realtime.publish(relayed.orgId, relayed.event);
        if (relayed?.kind === 'session_ended') context.realtime.endSession(relayed.sessionId);
      })
    : async () => {};
  const stopSweeper = options.sweeper === false ? async () => {} : startSweeper(context, (error) => logger.error({ err: error }, 'sweep failed'));
  let closed = false;
  return {
    app,
    context,
    sweep: () => sweepOnce(context),
    async close() {
      if (closed) return;
      closed = true;
      await stopSweeper();
      await app.close();
      await stopListening();
      await context.lastSeen.flush(store).catch((error: unknown) => logger.error({ err: error }, 'final last_seen flush failed'));
      await store.close();
    },
  };
}
