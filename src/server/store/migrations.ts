/**
 * Versioned schema migrations, written once for both engines. `{{bool}}`, `{{json}}`,
 * `{{ts}}`, `{{int}}` and `{{text}}` are replaced by each engine's column types
 * (SQLite: INTEGER 0/1, TEXT JSON, TEXT ISO-8601; PostgreSQL: boolean, jsonb,
 * timestamptz). Timestamps are always written as UTC ISO strings with milliseconds, so
 * they sort correctly as text on SQLite.
 *
 * Rules: never edit a released migration; add a new one. A server refuses to start on
 * a schema newer than it knows (`schema_migrations` holds what was applied).
 */
import { findingsFromViolations } from '../../shared/legacy-findings.ts';
import { hostnameKey, typedSelectorList } from '../domain/identity.ts';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  /** A rewrite SQL cannot express (Unicode normalisation, parsing rule text), run after `sql`. */
  readonly data?: DataStep;
}

/**
 * A data migration as a pure function, so that both engines run the same logic: each
 * engine runs the named `reads` (plain SELECTs, rows as the engine returns them: text
 * columns are strings either way), hands the rows to `rewrite`, and runs the statements
 * it returns (`?` placeholders; PostgreSQL's are numbered by the engine).
 */
export interface DataStep {
  readonly reads: Readonly<Record<string, string>>;
  rewrite(rows: Readonly<Record<string, ReadonlyArray<Record<string, unknown>>>>): Array<{ readonly sql: string; readonly params: readonly unknown[] }>;
}

/** Migration 5's data step: hostname keys, and ACL selectors in their typed form (identity.ts). */
const typedIdentities: DataStep = {
  reads: { machines: 'SELECT id, org_id, hostname FROM machines', rules: 'SELECT id, org_id, src, dst FROM acl_rules' },
  rewrite({ machines = [], rules = [] }) {
    const statements: Array<{ sql: string; params: unknown[] }> = [];
    const idsByOrg = new Map<string, Set<string>>();
    const keysByOrg = new Map<string, Set<string>>();
    for (const machine of machines) {
      const org = String(machine.org_id);
      const key = hostnameKey(String(machine.hostname));
      if (!idsByOrg.has(org)) idsByOrg.set(org, new Set());
      if (!keysByOrg.has(org)) keysByOrg.set(org, new Set());
      idsByOrg.get(org)?.add(String(machine.id).toLowerCase());
      keysByOrg.get(org)?.add(key);
      statements.push({ sql: 'UPDATE machines SET hostname_key = ? WHERE id = ?', params: [key, machine.id] });
    }
    for (const rule of rules) {
      const org = String(rule.org_id);
      const ids = idsByOrg.get(org) ?? new Set<string>();
      const keys = keysByOrg.get(org) ?? new Set<string>();
      const src = typedSelectorList(String(rule.src), ids, keys);
      const dst = typedSelectorList(String(rule.dst), ids, keys);
      if (src !== rule.src || dst !== rule.dst) statements.push({ sql: 'UPDATE acl_rules SET src = ?, dst = ? WHERE id = ?', params: [src, dst, rule.id] });
    }
    return statements;
  },
};

/**
 * Migration 6's data step: findings for the reports stored before findings existed. Their
 * violation strings are the only record of their verdict (a report stored in monitor or
 * disabled mode cannot be re-evaluated into the same answer), so each string is translated
 * once, here, into the finding it stands for; nothing else ever parses them.
 */
const findingsOfStoredReports: DataStep = {
  reads: { reports: 'SELECT id, violations, disk_encrypted, firewall_enabled, antivirus_enabled, patch_age_days FROM posture_reports' },
  rewrite({ reports = [] }) {
    const statements: Array<{ sql: string; params: unknown[] }> = [];
    for (const report of reports) {
      const violations: unknown = typeof report.violations === 'string' ? JSON.parse(report.violations) : report.violations;
      if (!Array.isArray(violations) || violations.length === 0) continue;
      const findings = findingsFromViolations(violations.map(String), report);
      statements.push({ sql: 'UPDATE posture_reports SET findings = ? WHERE id = ?', params: [JSON.stringify(findings), report.id] });
    }
    return statements;
  },
};

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE orgs (
  id {{text}} PRIMARY KEY,
  name {{text}} NOT NULL UNIQUE,
  created_at {{ts}} NOT NULL
);
CREATE TABLE org_state (
  org_id {{text}} PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
  peers_version {{int}} NOT NULL DEFAULT 1
);
CREATE TABLE org_settings (
  org_id {{text}} PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
  posture_enforcement {{text}} NOT NULL DEFAULT 'disabled' CHECK (posture_enforcement IN ('disabled', 'monitor', 'enforce')),
  ai_operator_enabled {{bool}} NOT NULL DEFAULT {{false}},
  auto_remediate_firewall {{bool}} NOT NULL DEFAULT {{false}},
  auto_remediate_encryption {{bool}} NOT NULL DEFAULT {{false}},
  heartbeat_interval_s {{int}} NOT NULL DEFAULT 30 CHECK (heartbeat_interval_s >= 1),
  posture_interval_s {{int}} NOT NULL DEFAULT 300 CHECK (posture_interval_s >= 1),
  quarantine_poll_s {{int}} NOT NULL DEFAULT 60 CHECK (quarantine_poll_s >= 1),
  offline_after_s {{int}} NOT NULL DEFAULT 120 CHECK (offline_after_s >= 1),
  report_max_age_s {{int}} CHECK (report_max_age_s IS NULL OR report_max_age_s >= 1),
  updated_at {{ts}} NOT NULL
);
CREATE TABLE posture_policies (
  id {{text}} PRIMARY KEY,
  org_id {{text}} NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  name {{text}} NOT NULL,
  enabled {{bool}} NOT NULL,
  require_disk_encryption {{bool}} NOT NULL,
  require_firewall {{bool}} NOT NULL,
  require_antivirus {{bool}} NOT NULL,
  max_patch_age_days {{int}} CHECK (max_patch_age_days IS NULL OR max_patch_age_days >= 0),
  created_at {{ts}} NOT NULL,
  updated_at {{ts}} NOT NULL
);
CREATE INDEX posture_policies_org ON posture_policies(org_id);
CREATE TABLE machines (
  id {{text}} PRIMARY KEY,
  org_id {{text}} NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  hostname {{text}} NOT NULL,
  os {{text}},
  os_version {{text}},
  arch {{text}},
  agent_version {{text}},
  tags {{json}} NOT NULL,
  status {{text}} NOT NULL CHECK (status IN ('online', 'offline', 'quarantined')),
  quarantine_reason {{text}} CHECK (quarantine_reason IS NULL OR quarantine_reason IN ('posture', 'expired', 'manual')),
  last_seen {{ts}},
  risk_score {{int}} NOT NULL DEFAULT 0,
  posture_exempt {{bool}} NOT NULL DEFAULT {{false}},
  created_at {{ts}} NOT NULL,
  node_key_id {{text}} NOT NULL UNIQUE,
  node_key_hash {{text}} NOT NULL
);
CREATE INDEX machines_org_status ON machines(org_id, status);
CREATE TABLE posture_reports (
  id {{text}} PRIMARY KEY,
  machine_id {{text}} NOT NULL UNIQUE REFERENCES machines(id) ON DELETE CASCADE,
  org_id {{text}} NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  os_version {{text}} NOT NULL,
  disk_encrypted {{bool}},
  firewall_enabled {{bool}},
  antivirus_enabled {{bool}},
  patch_age_days {{int}},
  compliant {{bool}} NOT NULL,
  violations {{json}} NOT NULL,
  mode {{text}} NOT NULL,
  reported_at {{ts}} NOT NULL,
  extras {{json}}
);
CREATE INDEX posture_reports_org ON posture_reports(org_id);
CREATE TABLE audit_log (
  id {{text}} PRIMARY KEY,
  org_id {{text}} NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  event {{text}} NOT NULL,
  machine_id {{text}},
  actor {{text}} NOT NULL,
  details {{json}} NOT NULL,
  created_at {{ts}} NOT NULL
);
CREATE INDEX audit_log_org_created ON audit_log(org_id, created_at);
CREATE INDEX audit_log_machine ON audit_log(machine_id);
CREATE TABLE auth_keys (
  id {{text}} PRIMARY KEY,
  org_id {{text}} NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  description {{text}} NOT NULL,
  key_prefix {{text}} NOT NULL UNIQUE,
  key_hash {{text}} NOT NULL,
  reusable {{bool}} NOT NULL,
  tags {{json}} NOT NULL,
  expires_at {{ts}},
  used_count {{int}} NOT NULL DEFAULT 0,
  last_used_at {{ts}},
  revoked {{bool}} NOT NULL DEFAULT {{false}},
  created_at {{ts}} NOT NULL
);
CREATE TABLE agent_commands (
  id {{text}} PRIMARY KEY,
  org_id {{text}} NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  machine_id {{text}} NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
  command {{text}} NOT NULL CHECK (command IN ('enable_firewall', 'enable_disk_encryption')),
  status {{text}} NOT NULL CHECK (status IN ('pending', 'applied', 'failed', 'expired', 'cancelled')),
  created_at {{ts}} NOT NULL,
  expires_at {{ts}} NOT NULL,
  result {{json}}
);
CREATE INDEX agent_commands_machine_status ON agent_commands(machine_id, status);
CREATE TABLE acl_rules (
  id {{text}} PRIMARY KEY,
  org_id {{text}} NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  name {{text}} NOT NULL,
  priority {{int}} NOT NULL,
  action {{text}} NOT NULL CHECK (action IN ('allow', 'deny')),
  src {{text}} NOT NULL,
  dst {{text}} NOT NULL,
  ports {{text}} NOT NULL,
  created_at {{ts}} NOT NULL
);
CREATE INDEX acl_rules_org_priority ON acl_rules(org_id, priority);
`,
  },
  {
    version: 2,
    name: 'indexes for the sweeper',
    sql: `
DROP INDEX machines_org_status;
CREATE INDEX machines_org_status_last_seen ON machines(org_id, status, last_seen);
CREATE INDEX posture_reports_org_reported ON posture_reports(org_id, reported_at);
`,
  },
  {
    version: 3,
    name: 'server secrets shared by every process (PostgreSQL)',
    sql: `
CREATE TABLE server_secrets (
  name {{text}} PRIMARY KEY,
  value {{text}} NOT NULL
);
`,
  },
  {
    version: 4,
    name: 'dashboard sign-in: one-time login links and admin sessions',
    sql: `
CREATE TABLE login_links (
  id {{text}} PRIMARY KEY,
  org_id {{text}} NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  token_hash {{text}} NOT NULL,
  created_at {{ts}} NOT NULL,
  expires_at {{ts}} NOT NULL,
  used_at {{ts}}
);
CREATE INDEX login_links_expires ON login_links(expires_at);
CREATE TABLE admin_sessions (
  id {{text}} PRIMARY KEY,
  org_id {{text}} NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  token_hash {{text}} NOT NULL,
  login_link_id {{text}},
  created_at {{ts}} NOT NULL,
  expires_at {{ts}} NOT NULL
);
CREATE INDEX admin_sessions_expires ON admin_sessions(expires_at);
`,
  },
  {
    version: 5,
    name: 'identity and access (SPEC 7.1): hostname keys, typed ACL selectors, posture_state, collected_at, deleted machines, interval caps',
    sql: `
ALTER TABLE machines ADD COLUMN hostname_key {{text}};
ALTER TABLE machines ADD COLUMN posture_state {{text}} NOT NULL DEFAULT 'pending' CHECK (posture_state IN ('pending', 'compliant', 'failing', 'grace', 'exempt'));
UPDATE machines SET posture_state = 'exempt' WHERE posture_exempt = {{true}};
UPDATE machines SET posture_state = CASE WHEN (SELECT r.compliant FROM posture_reports r WHERE r.machine_id = machines.id) = {{true}} THEN 'compliant' ELSE 'failing' END WHERE posture_exempt = {{false}} AND EXISTS (SELECT 1 FROM posture_reports r WHERE r.machine_id = machines.id);
CREATE INDEX machines_org_hostname_key ON machines(org_id, hostname_key);
ALTER TABLE posture_reports ADD COLUMN collected_at {{ts}};
UPDATE posture_reports SET collected_at = reported_at;
CREATE INDEX posture_reports_org_collected ON posture_reports(org_id, collected_at);
UPDATE org_settings SET heartbeat_interval_s = 86400 WHERE heartbeat_interval_s > 86400;
UPDATE org_settings SET posture_interval_s = 86400 WHERE posture_interval_s > 86400;
UPDATE org_settings SET quarantine_poll_s = 86400 WHERE quarantine_poll_s > 86400;
UPDATE org_settings SET offline_after_s = 86400 WHERE offline_after_s > 86400;
UPDATE org_settings SET report_max_age_s = 86400 WHERE report_max_age_s > 86400;
CREATE TABLE deleted_machines (
  id {{text}} PRIMARY KEY,
  org_id {{text}} NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  hostname {{text}} NOT NULL,
  hostname_key {{text}} NOT NULL,
  status {{text}} NOT NULL,
  quarantine_reason {{text}},
  deleted_at {{ts}} NOT NULL,
  deleted_by {{text}} NOT NULL
);
CREATE INDEX deleted_machines_org_hostname_key ON deleted_machines(org_id, hostname_key);
`,
    data: typedIdentities,
  },
  {
    version: 6,
    name: 'posture model v2 (SPEC 7.2): signals and requirements as data, findings, optional os_version',
    // posture_reports is rebuilt (the one portable way to drop NOT NULL from os_version on
    // SQLite); nothing references it. Signals added after schema 1 live in `signals` and
    // requirements added after it in posture_policies.requirements, so a new signal or
    // requirement needs no migration (src/shared/signals.ts).
    sql: `
CREATE TABLE posture_reports_v6 (
  id {{text}} PRIMARY KEY,
  machine_id {{text}} NOT NULL UNIQUE REFERENCES machines(id) ON DELETE CASCADE,
  org_id {{text}} NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  os_version {{text}},
  disk_encrypted {{bool}},
  firewall_enabled {{bool}},
  antivirus_enabled {{bool}},
  patch_age_days {{int}},
  signals {{json}} NOT NULL,
  platform {{text}},
  agent_version {{text}},
  compliant {{bool}} NOT NULL,
  violations {{json}} NOT NULL,
  findings {{json}} NOT NULL,
  mode {{text}} NOT NULL,
  reported_at {{ts}} NOT NULL,
  collected_at {{ts}} NOT NULL,
  extras {{json}}
);
INSERT INTO posture_reports_v6 (id, machine_id, org_id, os_version, disk_encrypted, firewall_enabled, antivirus_enabled, patch_age_days, signals, platform, agent_version, compliant, violations, findings, mode, reported_at, collected_at, extras)
  SELECT id, machine_id, org_id, os_version, disk_encrypted, firewall_enabled, antivirus_enabled, patch_age_days, '{}', NULL, NULL, compliant, violations, '[]', mode, reported_at, COALESCE(collected_at, reported_at), extras FROM posture_reports;
DROP TABLE posture_reports;
ALTER TABLE posture_reports_v6 RENAME TO posture_reports;
CREATE INDEX posture_reports_org ON posture_reports(org_id);
CREATE INDEX posture_reports_org_reported ON posture_reports(org_id, reported_at);
CREATE INDEX posture_reports_org_collected ON posture_reports(org_id, collected_at);
ALTER TABLE posture_policies ADD COLUMN requirements {{json}} NOT NULL DEFAULT '{}';
`,
    data: findingsOfStoredReports,
  },
  {
    version: 7,
    name: 'policy lifecycle (SPEC 7.3): targeting, grace periods, exemptions, posture per resource',
    sql: `
ALTER TABLE posture_policies ADD COLUMN platforms {{json}};
ALTER TABLE posture_policies ADD COLUMN tags {{json}};
ALTER TABLE posture_policies ADD COLUMN grace_period_s {{int}} NOT NULL DEFAULT 0 CHECK (grace_period_s >= 0);
ALTER TABLE acl_rules ADD COLUMN src_posture {{text}};
ALTER TABLE machines ADD COLUMN grace_until {{ts}};
CREATE INDEX machines_grace_until ON machines(grace_until);
CREATE TABLE posture_failures (
  id {{text}} PRIMARY KEY,
  org_id {{text}} NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  machine_id {{text}} NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
  code {{text}} NOT NULL,
  first_failed_at {{ts}} NOT NULL
);
CREATE INDEX posture_failures_org ON posture_failures(org_id);
CREATE INDEX posture_failures_machine ON posture_failures(machine_id);
CREATE TABLE posture_exemptions (
  id {{text}} PRIMARY KEY,
  org_id {{text}} NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  machine_id {{text}} NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
  codes {{json}},
  reason {{text}} NOT NULL,
  expires_at {{ts}} NOT NULL,
  created_by {{text}} NOT NULL,
  created_at {{ts}} NOT NULL,
  ended_at {{ts}}
);
CREATE INDEX posture_exemptions_org ON posture_exemptions(org_id);
CREATE INDEX posture_exemptions_machine ON posture_exemptions(machine_id);
CREATE INDEX posture_exemptions_open ON posture_exemptions(ended_at, expires_at);
`,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;

export function renderMigration(sql: string, types: Record<'bool' | 'json' | 'ts' | 'int' | 'text' | 'false' | 'true', string>): string {
  return sql.replace(/\{\{(bool|json|ts|int|text|false|true)\}\}/g, (_, key: keyof typeof types) => types[key]);
}

/** Splits a migration into statements (none of ours contain a semicolon inside a literal). */
export function statements(sql: string): string[] {
  return sql
    .split(';')
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0);
}
