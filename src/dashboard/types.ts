/** Rows as the admin API returns them (SPEC section 4, `/api/db/<table>`). */
import type { Platform, PolicyRequirements, PostureFinding, SignalSet } from '../shared/signals.ts';
import type { EnforcementMode, MachineStatusName, PostureState } from '../shared/wire.ts';
export type Mode = EnforcementMode;
export type MachineStatus = MachineStatusName;

export interface Machine {
  id: string;
  org_id: string;
  hostname: string;
  os: string | null;
  os_version: string | null;
  arch: string | null;
  agent_version: string | null;
  tags: string[];
  status: MachineStatus;
  quarantine_reason: 'posture' | 'expired' | 'manual' | null;
  last_seen: string | null;
  risk_score: number;
  posture_exempt: boolean;
  /** SPEC 7.1: `pending` = no current verdict (no report, or it expired): no access in enforce mode. */
  posture_state: PostureState;
  /** SPEC 7.3: while in `grace`, the earliest time a violation blocks (quarantines); null otherwise. */
  grace_until: string | null;
  created_at: string;
}

export interface Observation {
  command?: string[];
  exit_code?: number | null;
  file?: string;
  failure?: string;
  seen?: string;
  duration_ms?: number;
}

export interface SignalEvidence {
  method?: string;
  reason?: string;
  detail?: string;
  facts?: Record<string, unknown>;
  observations?: Observation[];
  duration_ms?: number;
  privileged?: boolean;
}

/** A posture report row: every signal of the catalogue top-level (null: unknown), and its verdict. */
export type PostureReportRow = SignalSet & {
  id: string;
  machine_id: string;
  platform: string | null;
  agent_version: string | null;
  compliant: boolean;
  violations: string[];
  /** One per violation, in the same order (SPEC 7.2). Older rows: translated by the server's migration. */
  findings: PostureFinding[];
  mode: Mode;
  reported_at: string;
  collected_at: string;
  extras?: {
    platform?: string;
    arch?: string;
    hostname?: string;
    agent_version?: string;
    collected_at?: string;
    evidence?: Record<string, SignalEvidence | undefined>;
  } | null;
};

/** A policy row: every requirement of the catalogue top-level (src/shared/signals.ts). */
export type PolicyRow = PolicyRequirements & {
  id: string;
  name: string;
  enabled: boolean;
  /** SPEC 7.3 targeting: the platforms it applies to (null: all) and tags (null: every machine). */
  platforms: Platform[] | null;
  tags: string[] | null;
  /** SPEC 7.3: how long a new violation may stand before it blocks (0: at once). */
  grace_period_s: number;
  created_at: string;
  updated_at: string;
};

/** An access rule (SPEC 7.1 selectors: *, id:, tag:, host:; a bare UUID is id:, any other bare word host:). */
export interface AclRuleRow {
  id: string;
  name: string;
  priority: number;
  action: 'allow' | 'deny';
  src: string;
  dst: string;
  ports: string;
  /** SPEC 7.3: the policy the source must satisfy for the rule to match, or null. */
  src_posture: string | null;
}

export interface OrgSettingsRow {
  org_id: string;
  posture_enforcement: Mode;
  report_max_age_s: number | null;
  offline_after_s: number;
  [key: string]: unknown;
}

export interface AuditRow {
  id: string;
  event: string;
  machine_id: string | null;
  actor: string;
  details: Record<string, unknown>;
  created_at: string;
}

export interface AgentCommandRow {
  id: string;
  machine_id: string;
  command: string;
  status: string;
  created_at: string;
  expires_at: string;
  result: unknown;
}

/** `/api/db/posture_exemptions` (SPEC 7.3). An exemption ended early is deleted (its story stays in the audit log). */
export interface ExemptionRow {
  id: string;
  machine_id: string;
  /** Violation code prefixes, or null for every violation. */
  codes: string[] | null;
  reason: string;
  expires_at: string;
  created_by: string;
  created_at: string;
  /** Set once the sweeper acted on its expiry. */
  ended_at: string | null;
}

export type { ImpactPreview, ImpactedMachine, NoVerdictMachine } from '../shared/wire.ts';

export interface SessionInfo {
  org_id: string;
  org_name: string | null;
  expires_at: string | null;
  csrf_token: string | null;
}

export interface RealtimeEvent {
  table: 'machines' | 'posture_reports' | 'audit_log' | string;
  type: 'INSERT' | 'UPDATE' | 'DELETE' | string;
  data: Record<string, unknown>;
}
