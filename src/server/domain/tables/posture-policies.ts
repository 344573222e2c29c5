/**
 * posture_policies rows ↔ policies. The requirements of SPEC 2 keep their columns; every
 * later requirement of the catalogue lives in the `requirements` JSON column, keyed by
 * policy field, so a new requirement needs no migration. Outside the server a policy row
 * shows every requirement as a top-level field.
 */
import type { EvaluablePolicy } from '../../../shared/signals.ts';
import { REQUIREMENTS, requirementDefault, requirementsOf } from '../../../shared/signals.ts';
import type { Row } from '../../store/tables.ts';

const isLegacy = (requirement: (typeof REQUIREMENTS)[number]) => 'legacyColumn' in requirement && requirement.legacyColumn === true;

/**
 * The columns for a set of requirement fields: legacy ones as columns, the others merged
 * into `requirements` over `current` (the row's stored JSON, for a partial update). The
 * `requirements` column is set only when a field kept there is among `fields`.
 */
export function requirementColumns(fields: Readonly<Record<string, unknown>>, current: unknown = {}): Row {
  const columns: Row = {};
  const json: Record<string, unknown> = { ...(current !== null && typeof current === 'object' ? (current as Record<string, unknown>) : {}) };
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
  return columns;
}

/** Whether a set of fields touches a requirement kept in the JSON column (a read-modify-write). */
export function touchesJsonRequirements(fields: Readonly<Record<string, unknown>>): boolean {
  return REQUIREMENTS.some((requirement) => !isLegacy(requirement) && Object.hasOwn(fields, requirement.field));
}

/** The requirement fields kept in the JSON column (never filterable: see db-api.ts). */
export const JSON_REQUIREMENT_FIELDS: readonly string[] = REQUIREMENTS.filter((requirement) => !isLegacy(requirement)).map((requirement) => requirement.field);

/** A stored policy as the API shows it: every requirement top-level (defaults filled), no `requirements` column. */
export function policyApiRow(row: Row): Row {
  const { requirements, ...rest } = row;
  if (requirements === undefined) return rest;
  const json = requirements !== null && typeof requirements === 'object' ? (requirements as Record<string, unknown>) : {};
  const result: Row = { ...rest };
  for (const requirement of REQUIREMENTS) {
    if (isLegacy(requirement)) continue;
    result[requirement.field] = Object.hasOwn(json, requirement.field) ? json[requirement.field] : requirementDefault(requirement.kind);
  }
  return result;
}

/** A stored policy as the evaluation takes it. */
export function policyOf(row: Row): EvaluablePolicy {
  return { enabled: row.enabled === true, ...requirementsOf(policyApiRow(row)) };
}
