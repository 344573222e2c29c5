/**
 * The tables of `/api/db/<table>` (SPEC section 4) and each one's rules: adding an API
 * table is a module in this folder and a line here.
 */
import { aclRulesRules } from './acl-rules.ts';
import { agentCommandsRules } from './agent-commands.ts';
import { auditLogRules } from './audit-log.ts';
import { authKeysRules } from './auth-keys.ts';
import { machinesRules } from './machines.ts';
import { orgSettingsRules } from './org-settings.ts';
import { posturePoliciesRules } from './posture-policies.ts';
import { postureExemptionsRules } from './posture-exemptions.ts';
import { postureReportsRules } from './posture-reports.ts';
import type { TableRules } from './rules.ts';

export const TABLE_RULES = {
  machines: machinesRules,
  posture_reports: postureReportsRules,
  posture_policies: posturePoliciesRules,
  org_settings: orgSettingsRules,
  audit_log: auditLogRules,
  auth_keys: authKeysRules,
  agent_commands: agentCommandsRules,
  acl_rules: aclRulesRules,
  posture_exemptions: postureExemptionsRules,
} as const satisfies Record<string, TableRules>;

export type ApiTable = keyof typeof TABLE_RULES;
export const API_TABLES = Object.keys(TABLE_RULES) as ApiTable[];

export function rulesOf(table: ApiTable): TableRules {
  return TABLE_RULES[table];
}
