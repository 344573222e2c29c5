/**
 * `/api/db/posture_exemptions` (SPEC 7.3): an admin exempts one machine from some
 * violations (code prefixes) or all (`codes: null`), for a stated reason, until a time at
 * most 90 days ahead. Granting and ending are audited; the machine is judged again at once
 * (and, by the sweeper, when the exemption runs out). An exemption is not edited: end it
 * (DELETE) and grant a new one, so the audit log tells the whole story.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { badRequest } from '../../errors.ts';
import { eq } from '../../store/query.ts';
import type { ExemptionRow } from '../../store/tables.ts';
import { isoOf } from '../../store/tables.ts';
import { writeAudit } from '../audit.ts';
import { inTransaction } from '../context.ts';
import { reevaluateMachine } from '../posture-service.ts';
import type { TableRules } from './rules.ts';
import { isoTimestamp, orgIdField, ownOrg, validate } from './rules.ts';

/** SPEC 7.3: an exemption ends at most 90 days after it is granted. */
export const MAX_EXEMPTION_S = 90 * 86_400;

const createSchema = z.strictObject({
  org_id: orgIdField,
  machine_id: z.string().min(1).max(64),
  codes: z
    .array(z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'a violation code or its prefix, e.g. "os_version_too_old" or "patch_"'))
    .min(1, 'name at least one code (prefix), or null for every violation')
    .max(32)
    .nullable(),
  reason: z.string().trim().min(1, 'say why (it is shown in the audit log and the dashboard)').max(500),
  expires_at: isoTimestamp,
});

/** The audit details of an exemption. */
const described = (row: ExemptionRow) => ({ exemption_id: row.id, codes: row.codes, reason: row.reason, expires_at: isoOf(row.expires_at) });

export const postureExemptionsRules: TableRules = {
  async create({ context, orgId, actor, now }, body) {
    const input = validate(createSchema, body);
    ownOrg(input.org_id, orgId);
    const expiresAt = new Date(input.expires_at);
    if (expiresAt.getTime() <= now.getTime()) throw badRequest('expires_at: must be in the future');
    if (expiresAt.getTime() > now.getTime() + MAX_EXEMPTION_S * 1000) throw badRequest(`expires_at: at most 90 days ahead (until ${new Date(now.getTime() + MAX_EXEMPTION_S * 1000).toISOString()})`);
    const row = await inTransaction(context, async (tx, effects) => {
      const machine = await tx.selectOne('machines', [eq('id', input.machine_id), eq('org_id', orgId)]);
      if (!machine) throw badRequest(`machine_id: no machine ${input.machine_id} in this organisation`);
      const inserted = await tx.insert('posture_exemptions', {
        id: randomUUID(),
        org_id: orgId,
        machine_id: machine.id,
        codes: input.codes,
        reason: input.reason,
        expires_at: expiresAt.toISOString(),
        created_by: actor,
        created_at: now.toISOString(),
        ended_at: null,
      });
      await writeAudit(tx, effects, { orgId, event: 'machine.exemption_granted', machineId: machine.id, actor, details: { hostname: machine.hostname, ...described(inserted) }, at: now });
      return inserted;
    });
    await reevaluateMachine(context, orgId, row.machine_id);
    return row;
  },
  update: 'an exemption is not changed: end it (DELETE) and grant a new one',
  async remove({ context, orgId, actor, now }, where) {
    const rows = await inTransaction(context, async (tx, effects) => {
      const removed = await tx.remove('posture_exemptions', where);
      for (const row of removed) {
        if (row.ended_at !== null) continue; // already over
        await writeAudit(tx, effects, { orgId, event: 'machine.exemption_expired', machineId: row.machine_id, actor, details: { ...described(row), ended_early: true }, at: now });
      }
      return removed;
    });
    for (const machineId of new Set(rows.map((row) => row.machine_id))) await reevaluateMachine(context, orgId, machineId);
    return rows;
  },
};
