/**
 * Admin routes (Bearer JWT or the dashboard's session cookie; SPEC section 4): the
 * `/api/db/<table>` surface, `/api/org-management`, `/api/acl/evaluate`, and the
 * read-only `/api/posture/impact`. The org always comes from the verified token or
 * session, never from the request.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { aclEvaluateSchema, evaluateAccess } from '../domain/acl.ts';
import { apiTable, deleteRows, insertRow, parseTableQuery, selectRows, updateRows } from '../domain/db-api.ts';
import type { QueryParams } from '../domain/db-api.ts';
import { impactRequestSchema, previewImpact } from '../domain/posture-impact.ts';
import { badRequest, forbidden } from '../errors.ts';
import type { ServerDeps } from '../deps.ts';
import { parseBody } from './validation.ts';

export function adminRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const { context } = deps;
  const admin = (request: FastifyRequest) => deps.authenticateAdmin(request);
  const actorOf = (subject: string) => `admin:${subject}`;

  app.get<{ Params: { table: string } }>('/api/db/:table', async (request) => {
    const claims = await admin(request);
    const table = apiTable(request.params.table);
    const rows = await selectRows(context, table, claims.orgId, parseTableQuery(table, request.query as QueryParams));
    return { success: true, data: rows };
  });

  app.post<{ Params: { table: string } }>('/api/db/:table', async (request) => {
    const claims = await admin(request);
    const table = apiTable(request.params.table);
    const row = await insertRow(context, table, claims.orgId, actorOf(claims.subject), request.body);
    return { success: true, data: [row] };
  });

  app.patch<{ Params: { table: string } }>('/api/db/:table', async (request) => {
    const claims = await admin(request);
    const table = apiTable(request.params.table);
    const queryFilters = parseTableQuery(table, request.query as QueryParams).filters ?? [];
    const rows = await updateRows(context, table, claims.orgId, actorOf(claims.subject), queryFilters, request.body);
    return { success: true, data: rows };
  });

  app.delete<{ Params: { table: string } }>('/api/db/:table', async (request) => {
    const claims = await admin(request);
    const table = apiTable(request.params.table);
    const rows = await deleteRows(context, table, claims.orgId, actorOf(claims.subject), parseTableQuery(table, request.query as QueryParams).filters ?? []);
    return { success: true, data: rows };
  });

  const orgManagementSchema = z.looseObject({ action: z.string().max(64), org_id: z.string().max(64).optional() });

  app.post('/api/org-management', async (request) => {
    const claims = await admin(request);
    const { action, org_id, ...settings } = parseBody(orgManagementSchema, request.body);
    if (action !== 'update_org_settings') throw badRequest(`action: unknown action "${action}"; supported: update_org_settings`);
    if (org_id !== undefined && org_id !== claims.orgId) throw forbidden('org_id: that organisation is not yours');
    const [row] = await updateRows(context, 'org_settings', claims.orgId, actorOf(claims.subject), [], settings);
    return { success: true, data: [row] };
  });

  app.post('/api/acl/evaluate', async (request) => {
    const claims = await admin(request);
    return evaluateAccess(context, claims.orgId, parseBody(aclEvaluateSchema, request.body));
  });

  // Read-only: what a mode or policy change would do now (domain/posture-impact.ts). A body is optional.
  app.post('/api/posture/impact', async (request) => {
    const claims = await admin(request);
    return previewImpact(context, claims.orgId, parseBody(impactRequestSchema, request.body ?? {}));
  });
}
