/** `/api/db/acl_rules`: access rules (SPEC section 4, selectors of SPEC 7.1). Plain rows. */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ACL_ACTIONS } from '../../../shared/wire.ts';
import { aclPorts, aclSelector } from '../acl.ts';
import type { TableRules } from './rules.ts';
import { nameField, orgIdField, ownOrg, validate } from './rules.ts';

const fields = {
  name: nameField.optional(),
  priority: z.number().int().min(-1_000_000).max(1_000_000).optional(),
  action: z.enum(ACL_ACTIONS).optional(),
  src: aclSelector.optional(),
  dst: aclSelector.optional(),
  ports: aclPorts.optional(),
};
const createSchema = z.strictObject({ org_id: orgIdField, ...fields });
const patchSchema = z.strictObject(fields);

export const aclRulesRules: TableRules = {
  async create({ context, orgId, now }, body) {
    const input = validate(createSchema, body);
    ownOrg(input.org_id, orgId);
    return context.store.insert('acl_rules', {
      id: randomUUID(),
      org_id: orgId,
      name: input.name ?? 'rule',
      priority: input.priority ?? 100,
      action: input.action ?? 'allow',
      src: input.src ?? '*',
      dst: input.dst ?? '*',
      ports: input.ports ?? '*',
      created_at: now.toISOString(),
    });
  },
  update: ({ context }, where, body) => context.store.update('acl_rules', where, validate(patchSchema, body)),
  remove: ({ context }, where) => context.store.remove('acl_rules', where),
};
