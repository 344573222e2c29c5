/**
 * posture_policies rows ↔ policies, and `/api/db/posture_policies`. The requirements of
 * SPEC 2 keep their columns; every later requirement of the catalogue lives in the
 * `requirements` JSON column, keyed by policy field, so a new requirement needs no
 * migration. Outside the server a policy row shows every requirement as a top-level field.
 *
 * Every change is audited with the policy as it is after, and re-evaluates the org.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { policyScopeShape, requirementFieldSchemas } from '../../../shared/posture-schemas.ts';
import type { ScopedPolicy } from '../../../shared/lifecycle.ts';
import type { PolicyRequirements } from '../../../shared/signals.ts';
import { REQUIREMENTS, requirementDefault, requirementsOf } from '../../../shared/signals.ts';
import type { Filter } from '../../store/query.ts';
import { eq } from '../../store/query.ts';
import type { Patch, PolicyRow, Row } from '../../store/tables.ts';
import { columnNames } from '../../store/tables.ts';
import { writeAudit } from '../audit.ts';
import { inTransaction } from '../context.ts';
import { reevaluateOrg } from '../posture-service.ts';
import type { Fields, TableRules } from './rules.ts';
import { nameField, orgIdField, ownOrg, validate } from './rules.ts';

type Requirement = (typeof REQUIREMENTS)[number];
type LegacyRequirement = Extract<Requirement, { legacyColumn: true }>;
/** The requirements of SPEC 2, each a column of its own. */
type RequirementColumn = LegacyRequirement['field'];
const isLegacy = (requirement: Requirement): requirement is LegacyRequirement => 'legacyColumn' in requirement && requirement.legacyColumn;
// Checked against the table description at load.
columnNames('posture_policies', REQUIREMENTS.filter(isLegacy).map((requirement) => requirement.field));

/** The stored form of a policy's requirements. */
type RequirementColumns = Pick<PolicyRow, RequirementColumn | 'requirements'>;

/**
 * The columns for a set of requirement fields: legacy ones as columns, the others merged
 * into `requirements` over `current` (the row's stored JSON, for a partial update). The
 * `requirements` column is set only when a field kept there is among `fields`.
 */
export function requirementColumns(fields: Fields, current: Readonly<Record<string, unknown>> = {}): Partial<RequirementColumns> {
  const columns: Record<string, unknown> = {};
  const json: Record<string, unknown> = { ...current };
  let touched = false;
  for (const requirement of REQUIREMENTS) {
    if (!Object.hasOwn(fields, requirement.field)) continue;
    const value = fields[requirement.field];
    if (isLegacy(requirement)) {
      columns[requirement.field] = value;
      continue;
    }
    touched = true;
    if (value === requirementDefault(requirement.kind)) delete json[requirement.field];
    else json[requirement.field] = value;
  }
  if (touched) columns.requirements = json;
  // Values were validated by the catalogue's schemas (requirementFieldSchemas), whose types
  // the columns match (schema-matches-tables.test.ts).
  return columns as Partial<RequirementColumns>;
}

/** Every requirement's columns, defaults for the fields not given (a new policy). */
function allRequirementColumns(fields: Fields): RequirementColumns {
  return requirementColumns({ ...requirementsOf(fields) }) as RequirementColumns;
}

/** Whether a set of fields touches a requirement kept in the JSON column (a read-modify-write). */
export function touchesJsonRequirements(fields: Fields): boolean {
  return REQUIREMENTS.some((requirement) => !isLegacy(requirement) && Object.hasOwn(fields, requirement.field));
}

/** The requirement fields kept in the JSON column (never filterable: see db-api.ts). */
export const JSON_REQUIREMENT_FIELDS: readonly string[] = REQUIREMENTS.filter((requirement) => !isLegacy(requirement)).map((requirement) => requirement.field);

/** A stored policy as the API shows it: every requirement top-level (defaults filled), no `requirements` column. */
export function policyApiRow(row: Partial<PolicyRow>): Row {
  const { requirements: json, ...rest } = row;
  if (json === undefined) return rest;
  const result: Row = { ...rest };
  for (const requirement of REQUIREMENTS) {
    if (isLegacy(requirement)) continue;
    result[requirement.field] = Object.hasOwn(json, requirement.field) ? json[requirement.field] : requirementDefault(requirement.kind);
  }
  return result;
}

/** A stored policy as the evaluation takes it: requirements, targeting and grace. */
export function policyOf(row: PolicyRow): ScopedPolicy {
  return { enabled: row.enabled, ...requirementsOf(policyApiRow(row)), platforms: row.platforms, tags: row.tags, grace_period_s: row.grace_period_s };
}

// ---------------------------------------------------------------------------------------
// /api/db/posture_policies

/** A policy's name, `enabled`, and every requirement of the catalogue (src/shared/signals.ts). */
const policyFields = {
  name: nameField.optional(),
  enabled: z.boolean().optional(),
  ...(Object.fromEntries(REQUIREMENTS.map((requirement) => [requirement.field, requirementFieldSchemas[requirement.field].optional()])) as {
    [F in keyof PolicyRequirements]: z.ZodOptional<z.ZodType<PolicyRequirements[F]>>;
  }),
  // Targeting and grace (SPEC 7.3); the shared schema's defaults apply only when a policy is created.
  platforms: policyScopeShape.platforms.removeDefault().optional(),
  tags: policyScopeShape.tags.removeDefault().optional(),
  grace_period_s: policyScopeShape.grace_period_s.removeDefault().optional(),
};
const createSchema = z.strictObject({ org_id: orgIdField, ...policyFields });
const patchSchema = z.strictObject(policyFields);

/** A policy patch without its requirement fields (name, enabled, targeting, grace). */
function nonRequirementFields(patch: z.infer<typeof patchSchema>): Patch<'posture_policies'> {
  const { name, enabled, platforms, tags, grace_period_s } = patch;
  const fields: Patch<'posture_policies'> = { name, enabled, platforms, tags, grace_period_s };
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

export const posturePoliciesRules: TableRules = {
  jsonFields: { column: 'requirements', fields: JSON_REQUIREMENT_FIELDS },
  show: (row) => policyApiRow(row as Partial<PolicyRow>),
  async create({ context, orgId, actor, now }, body) {
    const input = validate(createSchema, body);
    ownOrg(input.org_id, orgId);
    const at = now.toISOString();
    const row = await inTransaction(context, async (tx, effects) => {
      const inserted = await tx.insert('posture_policies', {
        id: randomUUID(),
        org_id: orgId,
        name: input.name ?? 'posture policy',
        enabled: input.enabled ?? true,
        ...allRequirementColumns(input),
        platforms: input.platforms ?? null,
        tags: input.tags ?? null,
        grace_period_s: input.grace_period_s ?? 0,
        created_at: at,
        updated_at: at,
      });
      await writeAudit(tx, effects, { orgId, event: 'posture.policy_changed', actor, details: { action: 'created', policy: policyApiRow(inserted) }, at: now });
      return inserted;
    });
    await reevaluateOrg(context, orgId);
    return row;
  },
  async update({ context, orgId, actor, now }, where: readonly Filter[], body) {
    const patch = validate(patchSchema, body);
    const rows = await inTransaction(context, async (tx, effects) => {
      let updated: PolicyRow[];
      if (touchesJsonRequirements(patch)) {
        // Requirements kept in JSON merge into each row's own: read, merge, write, locked.
        updated = [];
        for (const current of await tx.select('posture_policies', { filters: where, forUpdate: true })) {
          const columns = { ...nonRequirementFields(patch), ...requirementColumns(patch, current.requirements), updated_at: now.toISOString() };
          const [row] = await tx.update('posture_policies', [eq('id', current.id)], columns);
          if (row) updated.push(row);
        }
      } else {
        updated = await tx.update('posture_policies', where, { ...nonRequirementFields(patch), ...requirementColumns(patch), updated_at: now.toISOString() });
      }
      for (const policy of updated) {
        await writeAudit(tx, effects, { orgId, event: 'posture.policy_changed', actor, details: { action: 'updated', changes: patch, policy: policyApiRow(policy) }, at: now });
      }
      return updated;
    });
    if (rows.length > 0) await reevaluateOrg(context, orgId);
    return rows;
  },
  async remove({ context, orgId, actor, now }, where) {
    const rows = await inTransaction(context, async (tx, effects) => {
      const removed = await tx.remove('posture_policies', where);
      for (const row of removed) await writeAudit(tx, effects, { orgId, event: 'posture.policy_changed', actor, details: { action: 'deleted', policy: policyApiRow(row) }, at: now });
      return removed;
    });
    if (rows.length > 0) await reevaluateOrg(context, orgId);
    return rows;
  },
};
