/**
 * Dashboard sign-in: one-time login links and cookie sessions.
 *
 * `ztna-server login-link` stores a link (only the SHA-256 of its secret) that expires
 * after a few minutes; redeeming it creates an admin session for that org and sets the
 * session cookie. A session authenticates the admin API exactly like a Bearer token of
 * the same org (same org scoping, same domain logic).
 *
 * Invariants:
 * - A link is redeemed at most once, even by concurrent requests on several processes:
 *   the redemption is a conditional update (`used_at IS NULL AND expires_at > now`) in
 *   the transaction that creates the session, so exactly one request changes the row.
 * - Secrets (link and session tokens) have 256 random bits; only their SHA-256 is stored
 *   and it is compared in constant time (auth/keys.ts).
 * - The cookie is HttpOnly, SameSite=Strict, Path=/, and Secure when served over https.
 * - Signing out closes the session's realtime sockets at once, on every process.
 * - A request authenticated by the cookie that changes state must carry `X-ZTNA-CSRF`
 *   with the session's CSRF token (derived from the session secret, so it is bound to
 *   the session and never stored), or it is refused 403. A request whose `Origin` names
 *   another host is refused 403, and a WebSocket upgrade must send a same-host Origin.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AdminClaims } from '../auth/tokens.ts';
import { hashKey, keyMatches } from '../auth/keys.ts';
import type { Clock } from '../domain/context.ts';
import { encodeSessionEnded } from '../domain/context.ts';
import type { RealtimeHub } from '../realtime/hub.ts';
import { forbidden, unauthorized } from '../errors.ts';
import { eq } from '../store/query.ts';
import type { Store } from '../store/store.ts';
import { isoOf, timeOf } from '../store/tables.ts';

export const SESSION_COOKIE = 'ztna_session';
export const CSRF_HEADER = 'x-ztna-csrf';
export const DEFAULT_LINK_TTL_S = 600;
export const MAX_LINK_TTL_S = 86_400;
export const SESSION_TTL_S = 12 * 3600;

const LINK_PATTERN = /^ztna_login_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const SESSION_PATTERN = /^ztna_session_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function newSecret(kind: 'login' | 'session'): { id: string; token: string } {
  const id = randomBytes(8).toString('hex');
  return { id, token: `ztna_${kind}_${id}_${randomBytes(32).toString('base64url')}` };
}

/** The CSRF token of a session: a one-way function of its secret (never stored). */
export function csrfTokenFor(sessionToken: string): string {
  return createHash('sha256').update(`ztna-csrf\u0000${sessionToken}`).digest('base64url');
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Stores a one-time login link for `orgId`; returns the token to put in the URL (shown once). */
export async function createLoginLink(store: Store, orgId: string, now: Date, ttlSeconds = DEFAULT_LINK_TTL_S): Promise<{ token: string; expiresAt: string }> {
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_LINK_TTL_S) throw new RangeError(`login link lifetime must be 1 to ${MAX_LINK_TTL_S} seconds`);
  const { id, token } = newSecret('login');
  const expiresAt = new Date(now.getTime() + ttlSeconds * 1000).toISOString();
  await store.insert('login_links', { id, org_id: orgId, token_hash: hashKey(token), created_at: now.toISOString(), expires_at: expiresAt, used_at: null });
  return { token, expiresAt };
}

/** The URL `ztna-server login-link` prints: the token rides in the fragment, which browsers never send to a server. */
export function loginUrl(base: string, token: string): string {
  return `${base.replace(/\/+$/, '')}/login#token=${token}`;
}

export interface DashboardSession {
  readonly id: string;
  readonly orgId: string;
  readonly expiresAt: string;
  readonly csrfToken: string;
}

export interface RedeemedSession extends DashboardSession {
  /** The cookie value (shown once, in Set-Cookie). */
  readonly token: string;
}

/** What a request authenticated by the session cookie carries. */
export interface SessionClaims extends AdminClaims {
  readonly session: DashboardSession;
}

/** Is this request's Origin (when it sends one) the host it was sent to? */
function originMatches(request: FastifyRequest): boolean | null {
  const origin = request.headers.origin;
  if (origin === undefined) return null;
  return URL.parse(origin)?.host === request.headers.host;
}

function cookieValue(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index > 0 && part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
  }
  return undefined;
}

/** Served over https — by this server, or by a proxy `--trust-proxy` trusts (Fastify reads its X-Forwarded-Proto). */
function isHttps(request: FastifyRequest): boolean {
  return request.protocol === 'https';
}

export class SessionService {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly realtime: RealtimeHub;

  constructor(store: Store, clock: Clock, realtime: RealtimeHub) {
    this.store = store;
    this.clock = clock;
    this.realtime = realtime;
  }

  /**
   * Redeems a login link: exactly once, before it expires. The link's use and the new
   * session commit together; every failure is a 401 that says what to do.
   */
  async redeem(linkToken: unknown): Promise<RedeemedSession> {
    const match = typeof linkToken === 'string' && linkToken.length <= 128 ? LINK_PATTERN.exec(linkToken) : null;
    if (!match || typeof linkToken !== 'string') throw unauthorized('not a sign-in link token: run `ztna-server login-link` for a new link');
    const linkId = match[1] as string;
    const now = this.clock.now();
    const at = now.toISOString();
    const session = newSecret('session');
    const expiresAt = new Date(now.getTime() + SESSION_TTL_S * 1000).toISOString();
    const orgId = await this.store.transaction(async (tx) => {
      const link = await tx.selectOne('login_links', [eq('id', linkId)]);
      if (!link || !keyMatches(linkToken, link.token_hash)) throw unauthorized('this sign-in link is not valid: run `ztna-server login-link` for a new link');
      const [used] = await tx.update('login_links', [eq('id', linkId), { column: 'used_at', op: 'is', value: null }, { column: 'expires_at', op: 'gt', value: at }], { used_at: at });
      if (!used) {
        const again = await tx.selectOne('login_links', [eq('id', linkId)]);
        const why = again?.used_at ? 'has already been used' : 'has expired';
        throw unauthorized(`this sign-in link ${why} (links work once, for a few minutes): run \`ztna-server login-link\` for a new one`);
      }
      // Housekeeping: sessions past their end, and links a day past theirs, are gone for good.
      await tx.remove('admin_sessions', [{ column: 'expires_at', op: 'lt', value: at }]);
      await tx.remove('login_links', [{ column: 'expires_at', op: 'lt', value: new Date(now.getTime() - 86_400_000).toISOString() }]);
      await tx.insert('admin_sessions', { id: session.id, org_id: used.org_id, token_hash: hashKey(session.token), login_link_id: linkId, created_at: at, expires_at: expiresAt });
      return used.org_id;
    });
    return { id: session.id, orgId, expiresAt, csrfToken: csrfTokenFor(session.token), token: session.token };
  }

  /**
   * The admin claims of a request that carries the session cookie, or null when it
   * carries none. 401 for an unknown or expired session; 403 for a cross-origin request
   * or a state-changing one without the session's CSRF token.
   */
  async authenticate(request: FastifyRequest): Promise<SessionClaims | null> {
    const token = cookieValue(request, SESSION_COOKIE);
    if (token === undefined || token === '') return null;
    const match = token.length <= 128 ? SESSION_PATTERN.exec(token) : null;
    const row = match ? await this.store.selectOne('admin_sessions', [eq('id', match[1] as string)]) : null;
    if (!row || !keyMatches(token, row.token_hash) || timeOf(row.expires_at) <= this.clock.now().getTime()) {
      throw unauthorized('your dashboard session has expired or was signed out: run `ztna-server login-link` for a new sign-in link');
    }
    const origin = originMatches(request);
    if (origin === false) throw forbidden('cross-origin request refused: the dashboard session works only from the dashboard itself');
    const websocket = String(request.headers.upgrade ?? '').toLowerCase() === 'websocket';
    if (websocket && origin === null) throw forbidden('a WebSocket authenticated by the session cookie must send its Origin');
    const csrfToken = csrfTokenFor(token);
    if (!SAFE_METHODS.has(request.method)) {
      const presented = request.headers[CSRF_HEADER];
      if (typeof presented !== 'string' || !sameSecret(presented, csrfToken)) {
        throw forbidden(`a change made with the session cookie needs the ${CSRF_HEADER} header holding the session's CSRF token`);
      }
    }
    const { id } = row;
    return {
      orgId: row.org_id,
      role: 'admin',
      subject: `dashboard-${id.slice(0, 8)}`,
      // A realtime socket opened with the cookie closes when the session ends.
      expiresAt: timeOf(row.expires_at),
      session: { id, orgId: row.org_id, expiresAt: isoOf(row.expires_at), csrfToken },
    };
  }

  /**
   * Ends a session (sign-out): later requests with its cookie get 401, and every realtime
   * socket it opened is closed — on every server process: with PostgreSQL the sign-out is
   * relayed (NOTIFY, sent only if the deletion commits) and each process closes its own.
   */
  async end(sessionId: string): Promise<void> {
    const relay = this.store.relay;
    await this.store.transaction(async (tx) => {
      await tx.remove('admin_sessions', [eq('id', sessionId)]);
      if (relay) await relay.notify(tx, encodeSessionEnded(sessionId));
    });
    if (!relay) this.realtime.endSession(sessionId);
  }

  setCookie(request: FastifyRequest, reply: FastifyReply, session: RedeemedSession): void {
    reply.header('set-cookie', `${SESSION_COOKIE}=${session.token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_TTL_S}${isHttps(request) ? '; Secure' : ''}`);
  }

  clearCookie(request: FastifyRequest, reply: FastifyReply): void {
    reply.header('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${isHttps(request) ? '; Secure' : ''}`);
  }
}
