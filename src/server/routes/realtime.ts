/**
 * `GET /api/realtime`: a WebSocket that pushes `{table, type, data}` for the token's org
 * only. The token comes in `Authorization: Bearer …` or `?token=` (browsers cannot set
 * headers on WebSockets); an invalid one is refused with 401 before the upgrade, and the
 * socket is closed (1008) when the token expires: a subscription never outlives its token
 * — nor, when opened with the dashboard's session cookie, the session's sign-out.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AdminClaims } from '../auth/tokens.ts';
import type { SessionClaims } from '../dashboard/sessions.ts';
import type { ServerDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';

const PING_INTERVAL_MS = 30_000;
/** setTimeout's largest delay; longer waits are re-armed. */
const MAX_TIMER_MS = 2_147_483_647;
const REALTIME_PATH = '/api/realtime';

// What the ws library accepts (ws/lib/websocket-server.js, ws/lib/subprotocol.js).
const WEBSOCKET_KEY = /^[+/0-9A-Za-z]{22}==$/;
const PROTOCOL_LIST = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:[ \t]*,[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+)*$/;

/**
 * Why an upgrade request would be refused by the ws library, or null. Checked first so
 * that the refusal leaves in the SPEC's error shape: ws itself answers a bad handshake
 * with a plain-text body.
 */
function handshakeProblem(request: FastifyRequest): string | null {
  if (request.method !== 'GET' || request.routeOptions.url !== REALTIME_PATH) {
    return `only GET ${REALTIME_PATH} accepts a WebSocket upgrade, not ${request.method} ${request.routeOptions.url}`;
  }
  const { upgrade } = request.headers;
  if (typeof upgrade !== 'string' || upgrade.toLowerCase() !== 'websocket') return 'upgrade: expected the Upgrade: websocket header';
  const key = request.headers['sec-websocket-key'];
  if (typeof key !== 'string' || !WEBSOCKET_KEY.test(key)) return 'sec-websocket-key: missing or not 16 bytes in base64';
  const version = request.headers['sec-websocket-version'];
  if (version !== '13' && version !== '8') return 'sec-websocket-version: expected 13';
  const protocols = request.headers['sec-websocket-protocol'];
  if (protocols !== undefined) {
    const names = protocols.split(',').map((name) => name.trim());
    if (!PROTOCOL_LIST.test(protocols) || new Set(names).size !== names.length) return 'sec-websocket-protocol: not a list of distinct protocol names';
  }
  return null;
}

/**
 * Every upgrade request to a known route — of any plugin, so app.ts adds this at the root —
 * passes here (@fastify/websocket routes them like any request and would otherwise upgrade a
 * route without a WebSocket handler only to close it at once); an unknown path is the
 * not-found handler's 404.
 */
export async function checkUpgrade(request: FastifyRequest): Promise<void> {
  if (!request.ws || request.routeOptions.url === undefined) return;
  const problem = handshakeProblem(request);
  if (problem) throw new ApiError('bad_request', problem);
}

export function realtimeRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const claimsByRequest = new WeakMap<FastifyRequest, AdminClaims>();
  app.route({
    method: 'GET',
    url: '/api/realtime',
    // A plain GET (no Upgrade header) is told what this route is.
    handler: async () => {
      throw new ApiError('bad_request', 'GET /api/realtime is a WebSocket endpoint: connect with an Upgrade: websocket request');
    },
    preValidation: async (request) => {
      const token = (request.query as Record<string, unknown>).token;
      claimsByRequest.set(request, await deps.authenticateAdmin(request, typeof token === 'string' ? token : undefined));
    },
    wsHandler: (socket, request) => {
      const claims = claimsByRequest.get(request);
      if (!claims) {
        socket.close(1008, 'unauthorized');
        return;
      }
      const unsubscribe = deps.context.realtime.subscribe(claims.orgId, (event) => {
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(event));
      });
      // Opened with a dashboard session: signing out closes it (SPEC 7.1), not only expiry.
      const sessionId = 'session' in claims ? (claims as SessionClaims).session.id : undefined;
      const forgetSession = sessionId === undefined ? () => {} : deps.context.realtime.onSessionEnd(sessionId, () => socket.close(1008, 'signed out'));
      let alive = true;
      socket.on('pong', () => {
        alive = true;
      });
      const ping = setInterval(() => {
        if (!alive) {
          socket.terminate();
          return;
        }
        alive = false;
        socket.ping();
      }, PING_INTERVAL_MS);
      ping.unref();
      let expiry: NodeJS.Timeout | undefined;
      const expiresAt = claims.expiresAt;
      const expire = () => socket.close(1008, 'token expired');
      // Waits longer than a timer can hold are re-measured when the timer fires.
      const closeAtExpiry = (left: number) => {
        if (left <= 0) return expire();
        expiry = left > MAX_TIMER_MS ? setTimeout(() => closeAtExpiry((expiresAt as number) - deps.context.clock.now().getTime()), MAX_TIMER_MS) : setTimeout(expire, left);
        expiry.unref();
      };
      if (expiresAt !== undefined) closeAtExpiry(expiresAt - deps.context.clock.now().getTime());
      socket.on('close', () => {
        clearInterval(ping);
        clearTimeout(expiry);
        unsubscribe();
        forgetSession();
      });
      // Clients only listen; anything they send is ignored.
      socket.on('message', () => {});
    },
  });
}
