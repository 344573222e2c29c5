/**
 * The admin dashboard's routes: its static files and its session.
 *
 * - `GET /` and `GET /login` serve the single page (`index.html`); `GET /assets/<file>`
 *   its scripts and styles. Without a build they answer a 503 page saying how to build.
 * - `POST /api/session {token}` redeems a login link and sets the session cookie. The
 *   link's token travels in the URL fragment (`/login#token=…`), which the page posts
 *   here: fragments never reach server logs or Referer headers, and a mail scanner that
 *   fetches the link does not use it up.
 * - `GET /api/session` tells the page who it is signed in as and its CSRF token;
 *   `DELETE /api/session` signs out.
 *
 * Every page response carries a strict Content-Security-Policy (same-origin scripts,
 * styles and connections only; no framing) and no-referrer.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ServerDeps } from '../deps.ts';
import { forbidden, unauthorized } from '../errors.ts';
import { eq } from '../store/query.ts';
import type { DashboardAssets } from './assets.ts';
import type { SessionClaims, SessionService } from './sessions.ts';
import { parseBody } from '../routes/validation.ts';

const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function notBuiltPage(source: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>ztna dashboard — not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; padding: 0 1rem; line-height: 1.5">
<h1>The dashboard has not been built</h1>
<p>This server found no dashboard files in ${escapeHtml(source)}.</p>
<p>In the ztna checkout, run <code>npm run build</code>, then reload this page. The API (<code>/api/…</code>) works without it.</p>
</body></html>
`;
}

const sessionBodySchema = z.strictObject({ token: z.string().max(200) });

function isSessionClaims(claims: unknown): claims is SessionClaims {
  return typeof claims === 'object' && claims !== null && 'session' in claims;
}

export function dashboardRoutes(app: FastifyInstance, deps: ServerDeps, sessions: SessionService, assets: DashboardAssets): void {
  const send = (request: FastifyRequest, reply: FastifyReply, name: string, missingStatus: number) => {
    securityHeaders(reply);
    const file = assets.get(name);
    if (!file) {
      if (missingStatus === 503) return reply.status(503).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(notBuiltPage(assets.source));
      return reply.status(404).header('content-type', 'text/plain; charset=utf-8').send(`no dashboard asset ${name}\n`);
    }
    reply.header('etag', file.etag).header('cache-control', 'no-cache');
    if (request.headers['if-none-match'] === file.etag) return reply.status(304).send();
    return reply.header('content-type', file.contentType).send(file.body);
  };

  const page = (request: FastifyRequest, reply: FastifyReply) => send(request, reply, 'index.html', 503);
  app.get('/', page);
  app.get('/login', page);
  app.get<{ Params: { file: string } }>('/assets/:file', (request, reply) => send(request, reply, request.params.file, 404));

  app.post('/api/session', async (request, reply) => {
    const origin = request.headers.origin;
    if (origin !== undefined && URL.parse(origin)?.host !== request.headers.host) throw forbidden('cross-origin sign-in refused: open the sign-in link itself');
    const { token } = parseBody(sessionBodySchema, request.body);
    const session = await sessions.redeem(token);
    sessions.setCookie(request, reply, session);
    reply.header('cache-control', 'no-store');
    return { success: true, data: await describe(session.orgId, session.expiresAt, session.csrfToken) };
  });

  app.get('/api/session', async (request, reply) => {
    const claims = await deps.authenticateAdmin(request);
    reply.header('cache-control', 'no-store');
    if (!isSessionClaims(claims)) return { success: true, data: await describe(claims.orgId, null, null) };
    return { success: true, data: await describe(claims.orgId, claims.session.expiresAt, claims.session.csrfToken) };
  });

  app.delete('/api/session', async (request, reply) => {
    const claims = await deps.authenticateAdmin(request);
    if (!isSessionClaims(claims)) throw unauthorized('no dashboard session to sign out of (Bearer tokens expire by themselves)');
    await sessions.end(claims.session.id);
    sessions.clearCookie(request, reply);
    return { success: true, data: { signed_out: true } };
  });

  async function describe(orgId: string, expiresAt: string | null, csrfToken: string | null) {
    const org = await deps.context.store.selectOne('orgs', [eq('id', orgId)]);
    return { org_id: orgId, org_name: org ? String(org.name) : null, expires_at: expiresAt, csrf_token: csrfToken };
  }
}
