/**
 * The server's tables (SPEC section 4), described once as data. The query builder, the
 * row codecs of every engine and the `/api/db/<table>` surface all read these
 * definitions, so a column exists in exactly one place.
 *
 * `internal` columns (key hashes) never leave the server: they are stripped from every
 * API response and cannot be filtered on or written through `/api/db`.
 */
import type { PostureFinding } from '../../shared/posture.ts';
import type { Platform } from '../../shared/signals.ts';
import { ACL_ACTIONS, AGENT_COMMANDS, AGENT_COMMAND_STATUSES, ENFORCEMENT_MODES, MACHINE_STATUSES, POSTURE_STATES, QUARANTINE_REASONS } from '../../shared/wire.ts';

export type ColumnType = 'text' | 'integer' | 'boolean' | 'json' | 'timestamp';

export interface ColumnDef {
  readonly type: ColumnType;
  readonly nullable?: boolean;
  readonly internal?: boolean;
  /** A text column's vocabulary: the values its CHECK constraint allows. */
  readonly values?: readonly string[];
}

/**
 * A column description that also carries the TypeScript type of its values (a phantom:
 * never set at run time). Text columns with a CHECK constraint name their vocabulary,
 * JSON columns their shape; `RowOf` reads it.
 */
interface TypedColumn<Type extends ColumnType, Value, Nullable extends boolean = false> extends ColumnDef {
  readonly type: Type;
  readonly nullable?: Nullable;
  readonly __value?: Value;
}

export interface TableDef {
  readonly name: TableName;
  readonly primaryKey: string;
  readonly columns: Readonly<Record<string, ColumnDef>>;
}

/**
 * A timestamp as the engines hand it back: SQLite an ISO string, node-postgres a Date
 * (which the hot paths do not convert). Read it with timeOf(); write ISO strings.
 */
export type StoredTime = string | Date;

const oneOf = <const Values extends readonly string[]>(values: Values): TypedColumn<'text', Values[number]> => ({ type: 'text', values });
const nullableOneOf = <const Values extends readonly string[]>(values: Values): TypedColumn<'text', Values[number], true> => ({ type: 'text', nullable: true, values });
const textOf = (): TypedColumn<'text', string> => ({ type: 'text' });
const nullableTextOf = (): TypedColumn<'text', string, true> => ({ type: 'text', nullable: true });
const jsonOf = <Value,>(): TypedColumn<'json', Value> => ({ type: 'json' });
const nullableJsonOf = <Value,>(): TypedColumn<'json', Value, true> => ({ type: 'json', nullable: true });
const text = textOf();
const nullableText = nullableTextOf();
const int: TypedColumn<'integer', number> = { type: 'integer' };
const nullableInt: TypedColumn<'integer', number, true> = { type: 'integer', nullable: true };
const bool: TypedColumn<'boolean', boolean> = { type: 'boolean' };
const nullableBool: TypedColumn<'boolean', boolean, true> = { type: 'boolean', nullable: true };
const ts: TypedColumn<'timestamp', StoredTime> = { type: 'timestamp' };
const nullableTs: TypedColumn<'timestamp', StoredTime, true> = { type: 'timestamp', nullable: true };
/** A key hash: never leaves the server. */
const secret: TypedColumn<'text', string> = { type: 'text', internal: true };
/** A JSON object kept whole (details, signals, requirements). */
type JsonObject = Record<string, unknown>;

export const TABLES = {
  orgs: { name: 'orgs', primaryKey: 'id', columns: { id: text, name: text, created_at: ts } },
  /** Per-org counters that change with peer-visible state; not an API table. */
  org_state: { name: 'org_state', primaryKey: 'org_id', columns: { org_id: text, peers_version: int } },
  org_settings: {
    name: 'org_settings',
    primaryKey: 'org_id',
    columns: {
      org_id: text,
      posture_enforcement: oneOf(ENFORCEMENT_MODES),
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
      requirements: { ...jsonOf<JsonObject>(), internal: true },
      /** SPEC 7.3 targeting (null: every platform / every machine) and grace. */
      platforms: nullableJsonOf<Platform[]>(),
      tags: nullableJsonOf<string[]>(),
      grace_period_s: int,
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
      tags: jsonOf<string[]>(),
      status: oneOf(MACHINE_STATUSES),
      quarantine_reason: nullableOneOf(QUARANTINE_REASONS),
      last_seen: nullableTs,
      risk_score: int,
      posture_exempt: bool,
      /** pending | compliant | failing | grace | exempt (SPEC 7.1): see domain/posture-state.ts. */
      posture_state: oneOf(POSTURE_STATES),
      /** In `grace`: the earliest blocks_at of its violations (the sweeper acts at it); null otherwise. */
      grace_until: nullableTs,
      created_at: ts,
      /**
       * hostnameKey(hostname): uniqueness per org and `host:` selectors (domain/identity.ts).
       * Always written, but nullable in the database: schema 5 added it with ALTER TABLE ADD
       * COLUMN, which cannot add a NOT NULL column without a default.
       */
      hostname_key: { ...nullableTextOf(), internal: true },
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
      signals: { ...jsonOf<JsonObject>(), internal: true },
      /** The report's `platform` and `agent_version`: what min_os_versions and min_agent_version judge. */
      platform: nullableText,
      agent_version: nullableText,
      compliant: bool,
      violations: jsonOf<string[]>(),
      /** One structured finding per violation (SPEC 7.2), in the same order. */
      findings: jsonOf<PostureFinding[]>(),
      mode: oneOf(ENFORCEMENT_MODES),
      reported_at: ts,
      /**
       * When the agent collected the signals (its `collected_at`, never later than
       * reported_at): a report's age — and so its expiry — counts from here.
       */
      collected_at: ts,
      /** The agent's optional extras (platform, arch, hostname, agent_version, collected_at, evidence). */
      extras: nullableJsonOf<JsonObject>(),
    },
  },
  audit_log: {
    name: 'audit_log',
    primaryKey: 'id',
    columns: { id: text, org_id: text, event: text, machine_id: nullableText, actor: text, details: jsonOf<JsonObject>(), created_at: ts },
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
      tags: jsonOf<string[]>(),
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
      command: oneOf(AGENT_COMMANDS),
      status: oneOf(AGENT_COMMAND_STATUSES),
      created_at: ts,
      expires_at: ts,
      result: nullableJsonOf<unknown>(),
    },
  },
  acl_rules: {
    name: 'acl_rules',
    primaryKey: 'id',
    /** `src_posture`: the name of a policy the source must satisfy for the rule to match (SPEC 7.3), or null. */
    columns: { id: text, org_id: text, name: text, priority: int, action: oneOf(ACL_ACTIONS), src: text, dst: text, ports: text, src_posture: nullableText, created_at: ts },
  },
  /**
   * SPEC 7.3 grace: since when each violation of a machine has failed without a break
   * (id = machine id + ' ' + code). Kept in enforce mode only; a passing check ends the run.
   * Never an /api/db table: findings show blocks_at.
   */
  posture_failures: {
    name: 'posture_failures',
    primaryKey: 'id',
    columns: { id: text, org_id: text, machine_id: text, code: text, first_failed_at: ts },
  },
  /** SPEC 7.3 exemptions with a reason and an end; `ended_at` is set once the end was acted on. */
  posture_exemptions: {
    name: 'posture_exemptions',
    primaryKey: 'id',
    columns: {
      id: text,
      org_id: text,
      machine_id: text,
      codes: nullableJsonOf<string[]>(),
      reason: text,
      expires_at: ts,
      created_by: text,
      created_at: ts,
      ended_at: nullableTs,
    },
  },
  /**
   * Machines that were deleted (`POST /api/deregister`, admin DELETE): what re-enrolment
   * of the same hostname is checked against (machine.reenrolled_after_manual_quarantine).
   * Never an /api/db table; the audit log holds the events.
   */
  deleted_machines: {
    name: 'deleted_machines',
    primaryKey: 'id',
    columns: { id: text, org_id: text, hostname: text, hostname_key: text, status: oneOf(MACHINE_STATUSES), quarantine_reason: nullableOneOf(QUARANTINE_REASONS), deleted_at: ts, deleted_by: text },
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

/** Any row, untyped: only where code walks every table alike (codecs, /api/db's output). */
export type Row = Record<string, unknown>;

type Columns<T extends TableName> = (typeof TABLES)[T]['columns'];
export type ColumnName<T extends TableName> = keyof Columns<T> & string;

type ValueOf<C> = (C extends { readonly __value?: infer V } ? V : never) | (C extends { readonly nullable?: infer N } ? (true extends N ? null : never) : never);

/**
 * A row of table T as the domain sees it, derived from the description above: booleans,
 * numbers, StoredTime, parsed JSON, each column's vocabulary; nullable columns may be null.
 */
export type RowOf<T extends TableName> = { [K in ColumnName<T>]: ValueOf<Columns<T>[K]> };

/** A row to insert: every column that is not nullable is named (a forgotten one does not compile). */
export type NewRow<T extends TableName> = { [K in ColumnName<T> as null extends RowOf<T>[K] ? never : K]: RowOf<T>[K] } & {
  [K in ColumnName<T> as null extends RowOf<T>[K] ? K : never]?: RowOf<T>[K];
};

/** Columns to change. */
export type Patch<T extends TableName> = Partial<RowOf<T>>;

/**
 * Milliseconds since the epoch of a timestamp column's value. SQLite hands back the ISO
 * string; node-postgres a Date, which the hot paths do not convert (and whose String()
 * form would lose the milliseconds).
 */
export function timeOf(value: unknown): number {
  return value instanceof Date ? value.getTime() : Date.parse(String(value));
}

/** A timestamp column's value as the ISO string the API shows (SQLite's is one already). */
export function isoOf(value: StoredTime): string {
  return typeof value === 'string' ? value : value.toISOString();
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

/**
 * `names` as columns of `table`, checked once (at module load, where lists of columns are
 * built from the signal catalogue): a name that is not a column is a bug, reported at once.
 */
export function columnNames<T extends TableName>(table: T, names: readonly string[]): Array<ColumnName<T>> {
  const def = tableDef(table);
  for (const name of names) if (!columnOf(def, name)) throw new Error(`${table}.${name} is not a column (tables.ts)`);
  return names as Array<ColumnName<T>>;
}

export type MachineRow = RowOf<'machines'>;
export type ReportRow = RowOf<'posture_reports'>;
export type PolicyRow = RowOf<'posture_policies'>;
export type SettingsRow = RowOf<'org_settings'>;
export type AuthKeyRow = RowOf<'auth_keys'>;
export type AgentCommandRow = RowOf<'agent_commands'>;
export type AclRuleRow = RowOf<'acl_rules'>;
export type ExemptionRow = RowOf<'posture_exemptions'>;
