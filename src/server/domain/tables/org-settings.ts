/**
 * `/api/db/org_settings`: one row per org. A change is audited with what changed and
 * applies at once: in enforce mode every machine's latest report is re-evaluated.
 */
import { forbidden } from '../../errors.ts';
import type { Filter } from '../../store/query.ts';
import { eq } from '../../store/query.ts';
import type { Patch, SettingsRow } from '../../store/tables.ts';
import { writeAudit } from '../audit.ts';
import { inTransaction } from '../context.ts';
import { reevaluateOrg } from '../posture-service.ts';
import { settingsPatchSchema } from '../settings.ts';
import type { TableRules, WriteContext } from './rules.ts';
import { ownOrg, validate } from './rules.ts';

async function updateSettings({ context, orgId, actor, now }: WriteContext, where: readonly Filter[], body: unknown): Promise<SettingsRow> {
  const { org_id: bodyOrg, ...changes } = validate(settingsPatchSchema, body);
  ownOrg(bodyOrg, orgId);
  const updated = await inTransaction(context, async (tx, effects) => {
    const before = await tx.selectOne('org_settings', where);
    if (!before) throw forbidden('org_id: that organisation is not yours');
    if (Object.keys(changes).length === 0) return before;
    const [after = before] = await tx.update('org_settings', [eq('org_id', orgId)], { ...changes, updated_at: now.toISOString() } satisfies Patch<'org_settings'>);
    const diff: Record<string, { from: unknown; to: unknown }> = {};
    for (const key of Object.keys(changes) as Array<keyof typeof changes>) if (before[key] !== after[key]) diff[key] = { from: before[key], to: after[key] };
    if (Object.keys(diff).length > 0) await writeAudit(tx, effects, { orgId, event: 'org.settings_updated', actor, details: { changes: diff }, at: now });
    // Who is in a peer list depends on the mode (pending machines count only in enforce).
    if (diff.posture_enforcement) effects.peersChanged(orgId);
    return after;
  });
  await reevaluateOrg(context, orgId);
  return updated;
}

export const orgSettingsRules: TableRules = {
  oneRowPerOrg: true,
  // The org's row exists from its creation: a POST is the same change as a PATCH.
  create: async (write, body) => updateSettings(write, [eq('org_id', write.orgId)], body),
  update: async (write, where, body) => [await updateSettings(write, where, body)],
  remove: 'org_settings rows cannot be deleted (change them with PATCH)',
};
