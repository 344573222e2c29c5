/**
 * What every route plugin gets from the server (app.ts builds it once per server). Its own
 * module so that route modules and app.ts do not import each other: app.ts imports the
 * routes, the routes import this.
 */
import type { FastifyRequest } from 'fastify';
import type { AdminClaims } from './auth/tokens.ts';
import type { DomainContext } from './domain/context.ts';
import type { PeerLists } from './domain/peers.ts';
import type { RateLimiter } from './rate-limit.ts';

export interface ServerDeps {
  readonly context: DomainContext;
  readonly peers: PeerLists;
  readonly registerLimiter: RateLimiter;
  authenticateAdmin(request: FastifyRequest, tokenOverride?: string): Promise<AdminClaims>;
}
