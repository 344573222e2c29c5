/**
 * Org settings (SPEC section 4 `org_settings`). Read from the store on every request
 * that needs them — never cached — so a change applies to the very next request on
 * every server process (the seed product cached them for an hour; SPEC section 3).
 */
import { z } from 'zod';
import { ENFORCEMENT_MODES } from '../../shared/wire.ts';
import type { Store } from '../store/store.ts';
import { eq } from '../store/query.ts';
import { notFound } from '../errors.ts';
import type { SettingsRow } from '../store/tables.ts';

export type { EnforcementMode } from '../../shared/wire.ts';

/** An org's settings: its row of `org_settings` (store/tables.ts describes the columns). */
export type OrgSettings = SettingsRow;

export const DEFAULT_SETTINGS = {
  posture_enforcement: 'disabled',
  ai_operator_enabled: false,
  auto_remediate_firewall: false,
  auto_remediate_encryption: false,
  heartbeat_interval_s: 30,
  posture_interval_s: 300,
  quarantine_poll_s: 60,
  offline_after_s: 120,
  report_max_age_s: null,
} as const;

/**
 * Every interval is whole seconds from 1 to 86,400 (SPEC 7.1). An agent arms timers from
 * these; Node fires a timer longer than 2^31-1 ms (24.8 days) at once, so one huge value
 * would make every agent of the org loop (the agent clamps too).
 */
export const MAX_INTERVAL_S = 86_400;
const seconds = z.number().int().min(1).max(MAX_INTERVAL_S);

/** What an admin may change; unknown keys are errors. */
export const settingsPatchSchema = z.strictObject({
  org_id: z.string().optional(),
  posture_enforcement: z.enum(ENFORCEMENT_MODES).optional(),
  ai_operator_enabled: z.boolean().optional(),
  auto_remediate_firewall: z.boolean().optional(),
  auto_remediate_encryption: z.boolean().optional(),
  heartbeat_interval_s: seconds.optional(),
  posture_interval_s: seconds.optional(),
  quarantine_poll_s: seconds.optional(),
  offline_after_s: seconds.optional(),
  report_max_age_s: seconds.nullable().optional(),
});

export type SettingsPatch = z.infer<typeof settingsPatchSchema>;

export async function loadSettings(store: Store, orgId: string): Promise<OrgSettings> {
  const row = await store.selectOne('org_settings', [eq('org_id', orgId)]);
  if (!row) throw notFound(`organisation ${orgId} has no settings`);
  return row;
}

/** The intervals every agent response carries. */
export function agentIntervals(settings: OrgSettings) {
  return {
    heartbeat_interval_s: settings.heartbeat_interval_s,
    posture_interval_s: settings.posture_interval_s,
    quarantine_poll_s: settings.quarantine_poll_s,
  };
}
