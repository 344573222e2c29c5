/**
 * The admin table surface, `/api/db/<table>` (SPEC section 4), PostgREST-style.
 *
 * Invariants:
 * - Every query and write is scoped to the token's org: an `org_id` naming another org
 *   is refused (403); another org's rows are simply not found.
 * - Filters may name only public columns; values are parsed per column type and bound
 *   as parameters (query.ts), so no filter reaches SQL as text.
 * - Writes go through the same domain logic as everything else: enforcement mode and
 *   policy changes are audited and re-evaluate in enforce mode; `machines.status` is a
 *   manual quarantine or release; auth keys are returned once and stored as hashes.
 * - `audit_log` and `posture_reports` are read-only here.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { generateKey, keyPrefix } from '../auth/keys.ts';
import { ApiError, badRequest, forbidden } from '../errors.ts';
import type { Filter, FilterOp, OrderBy, Query } from '../store/query.ts';
import { eq } from '../store/query.ts';
import type { ColumnDef, Row, TableName } from '../store/tables.ts';
import { publicRow, tableDef } from '../store/tables.ts';
import type { Store } from '../store/store.ts';
import { aclPorts, aclSelector } from './acl.ts';
import { writeAudit } from './audit.ts';
import type { DomainContext } from './context.ts';
import { inTransaction } from './context.ts';
import { setMachineStatus } from './machines.ts';
import { applyEnforcement, currentVerdict, loadOrgPolicy, reevaluateOrg, statusChanged, REMEDIATION_TTL_MS } from './posture-service.ts';
import { settingsPatchSchema } from './settings.ts';

export const API_TABLES = ['machines', 'posture_reports', 'posture_policies', 'org_settings', 'audit_log', 'auth_keys', 'agent_commands', 'acl_rules'] as const;
export type ApiTable = (typeof API_TABLES)[number];

export function apiTable(name: string): ApiTable {
  if (!(API_TABLES as readonly string[]).includes(name)) throw badRequest(`unknown table "${name}"; tables: ${API_TABLES.join(', ')}`);
  return name as ApiTable;
}

const OPS: readonly FilterOp[] = ['eq', 'neq', 'gte', 'gt', 'lte', 'lt', 'in', 'is'];
const RESERVED = new Set(['order', 'limit', 'offset', 'select']);
const MAX_LIMIT = 10_000;

function publicColumn(table: ApiTable, column: string, what: string): ColumnDef {
  const def = tableDef(table).columns[column];
  if (!def || def.internal) throw badRequest(`${what}: unknown column "${column}" in ${table}`);
  return def;
}

/** Parses one filter value as the column's type; 400 naming the column otherwise. */
function parseValue(column: string, def: ColumnDef, raw: string): unknown {
  switch (def.type) {
    case 'boolean':
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      throw badRequest(`${column}: expected true or false, got "${raw.slice(0, 40)}"`);
    case 'integer':
      if (/^-?\d{1,15}$/.test(raw)) return Number(raw);
      throw badRequest(`${column}: expected an integer, got "${raw.slice(0, 40)}"`);
    case 'timestamp': {
      const time = Date.parse(raw);
      if (Number.isNaN(time) || !/^\d{4}-\d{2}-\d{2}/.test(raw)) throw badRequest(`${column}: expected an ISO 8601 timestamp, got "${raw.slice(0, 40)}"`);
      return new Date(time).toISOString();
    }
    case 'json':
      throw badRequest(`${column}: JSON columns can only be filtered with is.null`);
    case 'text':
      if (raw.length > 1024) throw badRequest(`${column}: value too long`);
      return raw;
  }
}

function parseFilter(table: ApiTable, column: string, raw: string): Filter {
  const def = publicColumn(table, column, 'filter');
  const match = /^(eq|neq|gte|gt|lte|lt|in|is)\.(.*)$/s.exec(raw);
  const op = (match?.[1] ?? 'eq') as FilterOp;
  const operand = match ? (match[2] as string) : raw;
  if (op === 'is') {
    if (operand === 'null') return { column, op, value: null };
    if ((operand === 'true' || operand === 'false') && def.type === 'boolean') return { column, op, value: operand === 'true' };
    throw badRequest(`${column}: is. takes null${def.type === 'boolean' ? ', true or false' : ''}`);
  }
  if (op === 'in') {
    const list = /^\((.*)\)$/s.exec(operand);
    if (!list) throw badRequest(`${column}: in. takes a parenthesised list, e.g. in.(a,b)`);
    const items = (list[1] as string) === '' ? [] : (list[1] as string).split(',').map((item) => item.trim().replace(/^"(.*)"$/, '$1'));
    if (items.length > 1000) throw badRequest(`${column}: at most 1000 values in in.()`);
    return { column, op, value: items.map((item) => parseValue(column, def, item)) };
  }
  if (def.type === 'json') throw badRequest(`${column}: JSON columns can only be filtered with is.null`);
  return { column, op, value: parseValue(column, def, operand) };
}

export type QueryParams = Record<string, string | string[] | undefined>;

/** PostgREST query string → Query. `orgId` scoping is added by the caller. */
export function parseTableQuery(table: ApiTable, params: QueryParams): Query {
  const filters: Filter[] = [];
  let order: OrderBy[] | undefined;
  let limit: number | undefined;
  let offset: number | undefined;
  let columns: string[] | undefined;
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    if (RESERVED.has(key)) {
      if (values.length > 1) throw badRequest(`${key}: given more than once`);
      const single = values[0] as string;
      if (key === 'order') {
        order = single.split(',').map((part) => {
          const [column = '', direction = 'asc', ...rest] = part.trim().split('.');
          publicColumn(table, column, 'order');
          if ((direction !== 'asc' && direction !== 'desc') || rest.some((r) => !/^nulls(first|last)$/.test(r))) {
            throw badRequest(`order: expected column.asc or column.desc, got "${part.slice(0, 60)}"`);
          }
          return { column, descending: direction === 'desc' };
        });
      } else if (key === 'limit' || key === 'offset') {
        if (!/^\d{1,9}$/.test(single)) throw badRequest(`${key}: expected a non-negative integer`);
        const number = Number(single);
        if (key === 'limit') limit = Math.min(number, MAX_LIMIT);
        else offset = number;
      } else if (single !== '*') {
        columns = single.split(',').map((column) => {
          publicColumn(table, column.trim(), 'select');
          return column.trim();
        });
      }
      continue;
    }
    for (const raw of values) filters.push(parseFilter(table, key, raw));
  }
  return { filters, ...(order ? { order } : {}), limit: limit ?? MAX_LIMIT, ...(offset !== undefined ? { offset } : {}), ...(columns ? { columns } : {}) };
}

/** Adds the org scope; refuses filters that name another org. */
function scoped(table: ApiTable, filters: readonly Filter[], orgId: string): Filter[] {
  for (const filter of filters) {
    if (filter.column !== 'org_id') continue;
    const values = filter.op === 'in' ? (filter.value as unknown[]) : [filter.value];
    if (filter.op !== 'eq' && filter.op !== 'in') continue; // other operators are narrowed by the scope below
    if (values.some((value) => value !== orgId)) throw forbidden('org_id: that organisation is not yours');
  }
  void table; // every API table carries org_id (org_settings has it as its key)
  return [...filters, eq('org_id', orgId)];
}

export async function selectRows(context: DomainContext, table: ApiTable, orgId: string, query: Query): Promise<Row[]> {
  if (table === 'machines') await context.lastSeen.flush(context.store);
  const rows = await context.store.select(table, { ...query, filters: scoped(table, query.filters ?? [], orgId) });
  return rows.map((row) => publicRow(table, row));
}

// ---------------------------------------------------------------------------------------
// Writes

const name = z.string().trim().min(1).max(200);
const tag = z.string().trim().min(1).max(64).regex(/^[A-Za-z0-9:_.\-/]+$/, 'tags are letters, digits and :_.-/');
const isoTimestamp = z.iso.datetime({ offset: true });

const policyFields = {
  name: name.optional(),
  enabled: z.boolean().optional(),
  require_disk_encryption: z.boolean().optional(),
  require_firewall: z.boolean().optional(),
  require_antivirus: z.boolean().optional(),
  max_patch_age_days: z.number().int().min(0).max(100_000).nullable().optional(),
};
const aclFields = {
  name: name.optional(),
  priority: z.number().int().min(-1_000_000).max(1_000_000).optional(),
  action: z.enum(['allow', 'deny']).optional(),
  src: aclSelector.optional(),
  dst: aclSelector.optional(),
  ports: aclPorts.optional(),
};

const CREATE_SCHEMAS = {
  posture_policies: z.strictObject({ id: z.uuid().optional(), org_id: z.string().optional(), ...policyFields }),
  acl_rules: z.strictObject({ id: z.uuid().optional(), org_id: z.string().optional(), ...aclFields }),
  auth_keys: z.strictObject({
    org_id: z.string().optional(),
    description: z.string().trim().max(200).optional(),
    reusable: z.boolean().optional(),
    tags: z.array(tag).max(32).optional(),
    expires_at: isoTimestamp.nullable().optional(),
  }),
  agent_commands: z.strictObject({
    org_id: z.string().optional(),
    machine_id: z.string().min(1).max(64),
    command: z.enum(['enable_firewall', 'enable_disk_encryption']),
    expires_at: isoTimestamp.optional(),
  }),
};

const PATCH_SCHEMAS = {
  posture_policies: z.strictObject(policyFields),
  acl_rules: z.strictObject(aclFields),
  auth_keys: z.strictObject({ description: z.string().trim().max(200).optional(), revoked: z.boolean().optional(), expires_at: isoTimestamp.nullable().optional() }),
  agent_commands: z.strictObject({ status: z.literal('cancelled') }),
  machines: z.strictObject({
    status: z.enum(['online', 'quarantined', 'offline']).optional(),
    posture_exempt: z.boolean().optional(),
    tags: z.array(tag).max(32).optional(),
    hostname: z.string().trim().min(1).max(255).optional(),
  }),
  org_settings: settingsPatchSchema,
};

/** Auth keys without an explicit expiry last 90 days. */
const AUTH_KEY_DEFAULT_TTL_MS = 90 * 24 * 3600 * 1000;

function validate<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const result = schema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue?.path.length ? issue.path.join('.') : 'body';
    throw badRequest(`${path}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

function ownOrg(bodyOrgId: unknown, orgId: string): void {
  if (bodyOrgId !== undefined && bodyOrgId !== orgId) throw forbidden('org_id: that organisation is not yours');
}

export async function insertRow(context: DomainContext, table: ApiTable, orgId: string, actor: string, body: unknown): Promise<Row> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('body: expected one JSON object (a row)');
  const now = context.clock.now();
  const at = now.toISOString();
  switch (table) {
    case 'posture_reports':
    case 'audit_log':
      throw new ApiError('method_not_allowed', `${table} is read-only: it is written by ${table === 'audit_log' ? 'the server' : 'agents (POST /api/posture-report)'}`);
    case 'machines':
      throw new ApiError('method_not_allowed', 'machines are created by enrollment (POST /api/register with an auth key)');
    case 'org_settings':
      return (await updateRows(context, 'org_settings', orgId, actor, [], body))[0] as Row;
    case 'posture_policies': {
      const input = validate(CREATE_SCHEMAS.posture_policies, body);
      ownOrg(input.org_id, orgId);
      const row = await inTransaction(context, async (tx, effects) => {
        const inserted = await tx.insert('posture_policies', {
          id: input.id ?? randomUUID(),
          org_id: orgId,
          name: input.name ?? 'posture policy',
          enabled: input.enabled ?? true,
          require_disk_encryption: input.require_disk_encryption ?? false,
          require_firewall: input.require_firewall ?? false,
          require_antivirus: input.require_antivirus ?? false,
          max_patch_age_days: input.max_patch_age_days ?? null,
          created_at: at,
          updated_at: at,
        });
        await writeAudit(tx, effects, { orgId, event: 'posture.policy_changed', actor, details: { action: 'created', policy: inserted }, at: now });
        return inserted;
      });
      await reevaluateOrg(context, orgId);
      return row;
    }
    case 'acl_rules': {
      const input = validate(CREATE_SCHEMAS.acl_rules, body);
      ownOrg(input.org_id, orgId);
      return context.store.insert('acl_rules', {
        id: input.id ?? randomUUID(),
        org_id: orgId,
        name: input.name ?? 'rule',
        priority: input.priority ?? 100,
        action: input.action ?? 'allow',
        src: input.src ?? '*',
        dst: input.dst ?? '*',
        ports: input.ports ?? '*',
        created_at: at,
      });
    }
    case 'auth_keys': {
      const input = validate(CREATE_SCHEMAS.auth_keys, body);
      ownOrg(input.org_id, orgId);
      const generated = generateKey('auth');
      const expiresAt = input.expires_at === undefined ? new Date(now.getTime() + AUTH_KEY_DEFAULT_TTL_MS).toISOString() : input.expires_at;
      const row = await context.store.insert('auth_keys', {
        id: randomUUID(),
        org_id: orgId,
        description: input.description ?? '',
        key_prefix: keyPrefix('auth', generated.id),
        key_hash: generated.hash,
        reusable: input.reusable ?? true,
        tags: input.tags ?? [],
        expires_at: expiresAt === null ? null : new Date(expiresAt).toISOString(),
        used_count: 0,
        last_used_at: null,
        revoked: false,
        created_at: at,
      });
      // The only time the key itself is ever shown.
      return { ...publicRow('auth_keys', row), key: generated.key };
    }
    case 'agent_commands': {
      const input = validate(CREATE_SCHEMAS.agent_commands, body);
      ownOrg(input.org_id, orgId);
      const machine = await context.store.selectOne('machines', [eq('id', input.machine_id), eq('org_id', orgId)]);
      if (!machine) throw badRequest(`machine_id: no machine ${input.machine_id} in this organisation`);
      const expiresAt = input.expires_at ? new Date(input.expires_at) : new Date(now.getTime() + REMEDIATION_TTL_MS);
      if (expiresAt.getTime() <= now.getTime()) throw badRequest('expires_at: must be in the future');
      return context.store.insert('agent_commands', {
        id: randomUUID(),
        org_id: orgId,
        machine_id: input.machine_id,
        command: input.command,
        status: 'pending',
        created_at: at,
        expires_at: expiresAt.toISOString(),
        result: null,
      });
    }
  }
}

function requireFilters(filters: readonly Filter[], verb: string): void {
  if (filters.length === 0) throw badRequest(`${verb} needs at least one filter (in _filters or the query string), e.g. id=eq.<id>`);
}

/** `_filters` values are plain equality (`{"id": "…"}`); the query string may add PostgREST filters. */
export function bodyFilters(table: ApiTable, raw: unknown): Filter[] {
  if (raw === undefined) return [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw badRequest('_filters: expected an object of column: value');
  return Object.entries(raw as Record<string, unknown>).map(([column, value]) => {
    const def = publicColumn(table, column, '_filters');
    if (value === null) return { column, op: 'is' as const, value: null };
    if (typeof value === 'object') throw badRequest(`_filters.${column}: expected a plain value`);
    return { column, op: 'eq' as const, value: parseValue(column, def, String(value)) };
  });
}

export async function updateRows(context: DomainContext, table: ApiTable, orgId: string, actor: string, queryFilters: readonly Filter[], body: unknown): Promise<Row[]> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('body: expected a JSON object of fields (and optional _filters)');
  const { _filters, ...fields } = body as Record<string, unknown>;
  const filters = [...queryFilters, ...bodyFilters(table, _filters)];
  if (table === 'posture_reports' || table === 'audit_log') throw new ApiError('method_not_allowed', `${table} is read-only`);
  if (table !== 'org_settings') requireFilters(filters, 'PATCH');
  const where = scoped(table, filters, orgId);
  const now = context.clock.now();
  switch (table) {
    case 'org_settings': {
      const patch = validate(PATCH_SCHEMAS.org_settings, fields);
      ownOrg(patch.org_id, orgId);
      const { org_id: _org, ...changes } = patch;
      return [await updateSettings(context, orgId, actor, changes, where)];
    }
    case 'machines': {
      const patch = validate(PATCH_SCHEMAS.machines, fields);
      const targets = await context.store.select('machines', { filters: where });
      const results: Row[] = [];
      for (const target of targets) results.push(publicRow('machines', await updateMachine(context, orgId, actor, target, patch)));
      return results;
    }
    case 'posture_policies': {
      const patch = validate(PATCH_SCHEMAS.posture_policies, fields);
      const rows = await inTransaction(context, async (tx, effects) => {
        const updated = await tx.update('posture_policies', where, { ...patch, updated_at: now.toISOString() });
        for (const policy of updated) {
          await writeAudit(tx, effects, { orgId, event: 'posture.policy_changed', actor, details: { action: 'updated', changes: patch, policy }, at: now });
        }
        return updated;
      });
      if (rows.length > 0) await reevaluateOrg(context, orgId);
      return rows;
    }
    case 'acl_rules':
      return context.store.update('acl_rules', where, validate(PATCH_SCHEMAS.acl_rules, fields));
    case 'auth_keys': {
      const patch = validate(PATCH_SCHEMAS.auth_keys, fields);
      const rows = await context.store.update('auth_keys', where, patch.expires_at ? { ...patch, expires_at: new Date(patch.expires_at).toISOString() } : patch);
      return rows.map((row) => publicRow('auth_keys', row));
    }
    case 'agent_commands': {
      validate(PATCH_SCHEMAS.agent_commands, fields);
      // Only pending commands can be cancelled; others are already decided.
      return context.store.update('agent_commands', [...where, eq('status', 'pending')], { status: 'cancelled' });
    }
  }
}

async function updateSettings(context: DomainContext, orgId: string, actor: string, changes: Record<string, unknown>, where: Filter[]): Promise<Row> {
  const now = context.clock.now();
  const updated = await inTransaction(context, async (tx, effects) => {
    const before = await tx.selectOne('org_settings', where);
    if (!before) throw forbidden('org_id: that organisation is not yours');
    if (Object.keys(changes).length === 0) return before;
    const [after] = (await tx.update('org_settings', [eq('org_id', orgId)], { ...changes, updated_at: now.toISOString() })) as [Row];
    const diff: Record<string, { from: unknown; to: unknown }> = {};
    for (const key of Object.keys(changes)) if (before[key] !== after[key]) diff[key] = { from: before[key], to: after[key] };
    if (Object.keys(diff).length > 0) await writeAudit(tx, effects, { orgId, event: 'org.settings_updated', actor, details: { changes: diff }, at: now });
    return after;
  });
  // A change applies at once: in enforce mode every machine's latest report is re-evaluated.
  await reevaluateOrg(context, orgId);
  return updated;
}

async function updateMachine(context: DomainContext, orgId: string, actor: string, target: Row, patch: z.infer<typeof PATCH_SCHEMAS.machines>): Promise<Row> {
  const id = String(target.id);
  let machine = target;
  const { status, posture_exempt, ...visible } = patch;
  if (status !== undefined) machine = await setMachineStatus(context, orgId, id, status, actor);
  if (Object.keys(visible).length > 0) {
    machine = await inTransaction(context, async (tx, effects) => {
      const [changed] = (await tx.update('machines', [eq('id', id)], visible)) as [Row];
      await statusChanged(tx, effects, changed); // hostname and tags are part of peer lists
      return changed;
    });
  }
  if (posture_exempt !== undefined && posture_exempt !== machine.posture_exempt) {
    const now = context.clock.now();
    machine = await inTransaction(context, async (tx, effects) => {
      const [changed] = (await tx.update('machines', [eq('id', id)], { posture_exempt })) as [Row];
      await writeAudit(tx, effects, { orgId, event: 'machine.exemption_changed', machineId: id, actor, details: { changes: { posture_exempt: { from: !posture_exempt, to: posture_exempt } } }, at: now });
      effects.emit(orgId, { table: 'machines', type: 'UPDATE', data: publicRow('machines', changed) });
      return changed;
    });
    machine = await reevaluateMachine(context, machine);
  }
  return machine;
}

/** Applies the current verdict to one machine (after its exemption changed). */
async function reevaluateMachine(context: DomainContext, machine: Row): Promise<Row> {
  const orgId = String(machine.org_id);
  const view = await loadOrgPolicy(context.store, orgId);
  if (view.settings.posture_enforcement !== 'enforce') return machine;
  const now = context.clock.now();
  return inTransaction(context, async (tx, effects) => {
    const report = await tx.selectOne('posture_reports', [eq('machine_id', machine.id)]);
    const current = (await tx.selectOne('machines', [eq('id', machine.id)])) ?? machine;
    if (!report) return current;
    const verdict = currentVerdict(report, view, now);
    return applyEnforcement(context, tx, effects, current, verdict, verdict.expired ? 'expired' : 'posture', now, view.settings);
  });
}

export async function deleteRows(context: DomainContext, table: ApiTable, orgId: string, actor: string, filters: readonly Filter[]): Promise<Row[]> {
  if (table === 'posture_reports' || table === 'audit_log' || table === 'org_settings') {
    throw new ApiError('method_not_allowed', `${table} rows cannot be deleted${table === 'org_settings' ? ' (change them with PATCH)' : ''}`);
  }
  requireFilters(filters, 'DELETE');
  const where = scoped(table, filters, orgId);
  const now = context.clock.now();
  const deleted = await inTransaction(context, async (tx: Store, effects) => {
    const rows = await tx.remove(table, where);
    if (table === 'machines' && rows.length > 0) {
      await tx.bumpPeersVersion(orgId);
      for (const row of rows) {
        await writeAudit(tx, effects, { orgId, event: 'machine.deleted', machineId: String(row.id), actor, details: { hostname: row.hostname }, at: now });
        effects.emit(orgId, { table: 'machines', type: 'DELETE', data: { id: row.id } });
      }
    }
    if (table === 'posture_policies') {
      for (const row of rows) await writeAudit(tx, effects, { orgId, event: 'posture.policy_changed', actor, details: { action: 'deleted', policy: row }, at: now });
    }
    return rows;
  });
  if (table === 'posture_policies' && deleted.length > 0) await reevaluateOrg(context, orgId);
  return deleted.map((row) => publicRow(table, row));
}
