/**
 * The server's tables (SPEC section 4), described once as data. The query builder, the
 * row codecs of every engine and the `/api/db/<table>` surface all read these
 * definitions, so a column exists in exactly one place.
 *
 * `internal` columns (key hashes) never leave the server: they are stripped from every
 * API response and cannot be filtered on or written through `/api/db`.
 */
export type ColumnType = 'text' | 'integer' | 'boolean' | 'json' | 'timestamp';

export interface ColumnDef {
  readonly type: ColumnType;
  readonly nullable?: boolean;
  readonly internal?: boolean;
}

export interface TableDef {
  readonly name: TableName;
  readonly primaryKey: string;
  readonly columns: Readonly<Record<string, ColumnDef>>;
}

const text: ColumnDef = { type: 'text' };
const nullableText: ColumnDef = { type: 'text', nullable: true };
const int: ColumnDef = { type: 'integer' };
const nullableInt: ColumnDef = { type: 'integer', nullable: true };
const bool: ColumnDef = { type: 'boolean' };
const nullableBool: ColumnDef = { type: 'boolean', nullable: true };
const json: ColumnDef = { type: 'json' };
const nullableJson: ColumnDef = { type: 'json', nullable: true };
const ts: ColumnDef = { type: 'timestamp' };
const nullableTs: ColumnDef = { type: 'timestamp', nullable: true };
const secret: ColumnDef = { type: 'text', internal: true };

export const TABLES = {
  orgs: { name: 'orgs', primaryKey: 'id', columns: { id: text, name: text, created_at: ts } },
  /** Per-org counters that change with peer-visible state; not an API table. */
  org_state: { name: 'org_state', primaryKey: 'org_id', columns: { org_id: text, peers_version: int } },
  org_settings: {
    name: 'org_settings',
    primaryKey: 'org_id',
    columns: {
      org_id: text,
      posture_enforcement: text,
      ai_operator_enabled: bool,
      auto_remediate_firewall: bool,
      auto_remediate_encryption: bool,
      heartbeat_interval_s: int,
      posture_interval_s: int,
      quarantine_poll_s: int,
      offline_after_s: int,
      report_max_age_s: nullableInt,
      updated_at: ts,
    },
  },
  posture_policies: {
    name: 'posture_policies',
    primaryKey: 'id',
    columns: {
      id: text,
      org_id: text,
      name: text,
      enabled: bool,
      require_disk_encryption: bool,
      require_firewall: bool,
      require_antivirus: bool,
      max_patch_age_days: nullableInt,
      /**
       * Requirements without a column of their own (every one after schema 1: SPEC 7.2's
       * min_os_versions, min_agent_version, require_screen_lock, require_secure_boot, …),
       * keyed by policy field. The API shows them as top-level fields (domain/policies.ts).
       */
      requirements: { type: 'json', internal: true },
      created_at: ts,
      updated_at: ts,
    },
  },
  machines: {
    name: 'machines',
    primaryKey: 'id',
    columns: {
      id: text,
      org_id: text,
      hostname: text,
      os: nullableText,
      os_version: nullableText,
      arch: nullableText,
      agent_version: nullableText,
      tags: json,
      status: text,
      quarantine_reason: nullableText,
      last_seen: nullableTs,
      risk_score: int,
      posture_exempt: bool,
      /** pending | compliant | failing | grace | exempt (SPEC 7.1): see domain/posture-state.ts. */
      posture_state: text,
      created_at: ts,
      /**
       * hostnameKey(hostname): uniqueness per org and `host:` selectors (domain/identity.ts).
       * Always written, but nullable in the database: schema 5 added it with ALTER TABLE ADD
       * COLUMN, which cannot add a NOT NULL column without a default.
       */
      hostname_key: { type: 'text', internal: true, nullable: true },
      node_key_id: secret,
      node_key_hash: secret,
    },
  },
  posture_reports: {
    name: 'posture_reports',
    primaryKey: 'id',
    columns: {
      id: text,
      machine_id: text,
      org_id: text,
      /** The signals of SPEC 2 keep their columns (null: unknown or not sent). */
      os_version: nullableText,
      disk_encrypted: nullableBool,
      firewall_enabled: nullableBool,
      antivirus_enabled: nullableBool,
      patch_age_days: nullableInt,
      /** Every later signal of the catalogue, keyed by signal; the API shows them as top-level fields. */
      signals: { type: 'json', internal: true },
      /** The report's `platform` and `agent_version`: what min_os_versions and min_agent_version judge. */
      platform: nullableText,
      agent_version: nullableText,
      compliant: bool,
      violations: json,
      /** One structured finding per violation (SPEC 7.2), in the same order. */
      findings: json,
      mode: text,
      reported_at: ts,
      /**
       * When the agent collected the signals (its `collected_at`, never later than
       * reported_at): a report's age — and so its expiry — counts from here.
       */
      collected_at: ts,
      /** The agent's optional extras (platform, arch, hostname, agent_version, collected_at, evidence). */
      extras: nullableJson,
    },
  },
  audit_log: {
    name: 'audit_log',
    primaryKey: 'id',
    columns: { id: text, org_id: text, event: text, machine_id: nullableText, actor: text, details: json, created_at: ts },
  },
  auth_keys: {
    name: 'auth_keys',
    primaryKey: 'id',
    columns: {
      id: text,
      org_id: text,
      description: text,
      key_prefix: text,
      key_hash: secret,
      reusable: bool,
      tags: json,
      expires_at: nullableTs,
      used_count: int,
      last_used_at: nullableTs,
      revoked: bool,
      created_at: ts,
    },
  },
  agent_commands: {
    name: 'agent_commands',
    primaryKey: 'id',
    columns: {
      id: text,
      org_id: text,
      machine_id: text,
      command: text,
      status: text,
      created_at: ts,
      expires_at: ts,
      result: nullableJson,
    },
  },
  acl_rules: {
    name: 'acl_rules',
    primaryKey: 'id',
    columns: { id: text, org_id: text, name: text, priority: int, action: text, src: text, dst: text, ports: text, created_at: ts },
  },
  /**
   * Machines that were deleted (`POST /api/deregister`, admin DELETE): what re-enrolment
   * of the same hostname is checked against (machine.reenrolled_after_manual_quarantine).
   * Never an /api/db table; the audit log holds the events.
   */
  deleted_machines: {
    name: 'deleted_machines',
    primaryKey: 'id',
    columns: { id: text, org_id: text, hostname: text, hostname_key: text, status: text, quarantine_reason: nullableText, deleted_at: ts, deleted_by: text },
  },
  /** Dashboard sign-in (src/server/dashboard/sessions.ts); never an /api/db table. */
  login_links: {
    name: 'login_links',
    primaryKey: 'id',
    columns: { id: text, org_id: text, token_hash: secret, created_at: ts, expires_at: ts, used_at: nullableTs },
  },
  /** Dashboard sessions (cookie `ztna_session`); never an /api/db table. */
  admin_sessions: {
    name: 'admin_sessions',
    primaryKey: 'id',
    columns: { id: text, org_id: text, token_hash: secret, login_link_id: nullableText, created_at: ts, expires_at: ts },
  },
} as const satisfies Record<string, Omit<TableDef, 'name'> & { name: string }>;

export type TableName = keyof typeof TABLES;

export function tableDef(name: TableName): TableDef {
  return TABLES[name] as TableDef;
}

/**
 * A column of a table, or undefined. An own-property check: a name like `constructor`
 * or `__proto__` must not find Object.prototype's members and reach SQL as a column.
 */
export function columnOf(table: TableDef, name: string): ColumnDef | undefined {
  return Object.hasOwn(table.columns, name) ? table.columns[name] : undefined;
}

/** A row as the domain sees it: booleans, numbers, ISO strings, parsed JSON. */
export type Row = Record<string, unknown>;

/**
 * Milliseconds since the epoch of a timestamp column's value. SQLite hands back the ISO
 * string; node-postgres a Date, which the hot paths do not convert (and whose String()
 * form would lose the milliseconds).
 */
export function timeOf(value: unknown): number {
  return value instanceof Date ? value.getTime() : Date.parse(String(value));
}

/** Drops internal columns (key hashes) before a row leaves the server. */
export function publicRow(table: TableName, row: Row): Row {
  const columns = tableDef(table).columns;
  const result: Row = {};
  for (const [key, value] of Object.entries(row)) {
    if (!(Object.hasOwn(columns, key) && columns[key]?.internal)) result[key] = value;
  }
  return result;
}
