/**
 * `/api/db/acl_rules`: access rules (SPEC section 4, selectors of SPEC 7.1, `src_posture` of
 * SPEC 7.3). Plain rows, validated so that evaluation never meets a rule it cannot read:
 * - `src_posture` is null or the name of a posture policy of the org (enabled or not); a rule
 *   whose policy is later deleted or renamed matches no source (acl.ts: fail closed);
 * - `name` may not be one of the fixed `matched_rule` values of `/api/acl/evaluate`
 *   (`machine_status_policy`, `posture_policy`, `default_deny`) nor start with `posture:`,
 *   so a matched_rule always says unambiguously what decided.
 * Every change bumps the org's peers_version in its transaction: peers follow the ACL.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ACL_ACTIONS } from '../../../shared/wire.ts';
import { badRequest } from '../../errors.ts';
import { eq } from '../../store/query.ts';
import type { Store } from '../../store/store.ts';
import { POSTURE_MATCHED_PREFIX, RESERVED_MATCHED_RULES, aclPorts, aclSelector } from '../acl.ts';
import { inTransaction } from '../context.ts';
import type { TableRules } from './rules.ts';
import { nameField, orgIdField, ownOrg, validate } from './rules.ts';

const ruleName = nameField.refine(
  (name) => !(RESERVED_MATCHED_RULES as readonly string[]).includes(name) && !name.toLowerCase().startsWith(POSTURE_MATCHED_PREFIX),
  `a rule may not be named ${RESERVED_MATCHED_RULES.join(', ')} or start with "${POSTURE_MATCHED_PREFIX}": /api/acl/evaluate reports those as matched_rule`,
);

const fields = {
  name: ruleName.optional(),
  priority: z.number().int().min(-1_000_000).max(1_000_000).optional(),
  action: z.enum(ACL_ACTIONS).optional(),
  src: aclSelector.optional(),
  dst: aclSelector.optional(),
  ports: aclPorts.optional(),
  /** The name of a posture policy of the org the source must satisfy (SPEC 7.3), or null. */
  src_posture: z.string().trim().min(1, 'a policy name, or null for no posture requirement').max(200).nullable().optional(),
};
const createSchema = z.strictObject({ org_id: orgIdField, ...fields });
const patchSchema = z.strictObject(fields);

/** 400 unless `name` names a posture policy of the org (read inside the writing transaction). */
async function requirePolicy(tx: Store, orgId: string, name: string): Promise<void> {
  const policies = await tx.select('posture_policies', { columns: ['name'], filters: [eq('org_id', orgId)] });
  if (policies.some((policy) => policy.name === name)) return;
  const known = [...new Set(policies.map((policy) => policy.name))];
  const listed = known.length === 0 ? 'it has none' : `it has ${known.slice(0, 20).map((known) => JSON.stringify(known)).join(', ')}${known.length > 20 ? ', …' : ''}`;
  throw badRequest(`src_posture: no posture policy named ${JSON.stringify(name)} in this organisation (${listed}); name one, or send null`);
}

export const aclRulesRules: TableRules = {
  async create({ context, orgId, now }, body) {
    const input = validate(createSchema, body);
    ownOrg(input.org_id, orgId);
    return inTransaction(context, async (tx, effects) => {
      const srcPosture = input.src_posture ?? null;
      if (srcPosture !== null) await requirePolicy(tx, orgId, srcPosture);
      const row = await tx.insert('acl_rules', {
        id: randomUUID(),
        org_id: orgId,
        name: input.name ?? 'rule',
        priority: input.priority ?? 100,
        action: input.action ?? 'allow',
        src: input.src ?? '*',
        dst: input.dst ?? '*',
        ports: input.ports ?? '*',
        src_posture: srcPosture,
        created_at: now.toISOString(),
      });
      effects.peersChanged(orgId);
      return row;
    });
  },
  async update({ context, orgId }, where, body) {
    const patch = validate(patchSchema, body);
    return inTransaction(context, async (tx, effects) => {
      if (patch.src_posture != null) await requirePolicy(tx, orgId, patch.src_posture);
      const rows = await tx.update('acl_rules', where, patch);
      if (rows.length > 0) effects.peersChanged(orgId);
      return rows;
    });
  },
  remove: ({ context, orgId }, where) =>
    inTransaction(context, async (tx, effects) => {
      const rows = await tx.remove('acl_rules', where);
      if (rows.length > 0) effects.peersChanged(orgId);
      return rows;
    }),
};
