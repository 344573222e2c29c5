/**
 * `/api/db/agent_commands`: remediation commands (SPEC section 4 "AI operator"). An admin
 * may prepare one for a machine of the org or cancel a pending one; results come from the
 * machine (POST /api/agent-commands/result).
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AGENT_COMMANDS } from '../../../shared/wire.ts';
import { badRequest } from '../../errors.ts';
import { eq } from '../../store/query.ts';
import { REMEDIATION_TTL_MS } from '../transitions.ts';
import type { TableRules } from './rules.ts';
import { isoTimestamp, orgIdField, ownOrg, validate } from './rules.ts';

const createSchema = z.strictObject({
  org_id: orgIdField,
  machine_id: z.string().min(1).max(64),
  command: z.enum(AGENT_COMMANDS),
  expires_at: isoTimestamp.optional(),
});
const patchSchema = z.strictObject({ status: z.literal('cancelled') });

export const agentCommandsRules: TableRules = {
  async create({ context, orgId, now }, body) {
    const input = validate(createSchema, body);
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
      created_at: now.toISOString(),
      expires_at: expiresAt.toISOString(),
      result: null,
    });
  },
  update({ context }, where, body) {
    validate(patchSchema, body);
    // Only pending commands can be cancelled; others are already decided.
    return context.store.update('agent_commands', [...where, eq('status', 'pending')], { status: 'cancelled' });
  },
  remove: ({ context }, where) => context.store.remove('agent_commands', where),
};
