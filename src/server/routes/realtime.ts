/**
 * `GET /api/realtime`: a WebSocket that pushes `{table, type, data}` for the token's org
 * only. The token comes in `Authorization: Bearer …` or `?token=` (browsers cannot set
 * headers on WebSockets); an invalid one is refused with 401 before the upgrade.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AdminClaims } from '../auth/tokens.ts';
import type { ServerDeps } from '../app.ts';
import { ApiError } from '../errors.ts';

const PING_INTERVAL_MS = 30_000;

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
      socket.on('close', () => {
        clearInterval(ping);
        unsubscribe();
      });
      // Clients only listen; anything they send is ignored.
      socket.on('message', () => {});
    },
  });
}
