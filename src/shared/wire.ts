/**
 * THE agent ↔ server wire contract (SPEC 4, 7.1, 7.2): one schema per request and per
 * response, used by the server to validate what agents send and by the agent to parse
 * what servers answer (never a cast). Requests are strict (an unknown field is a 400 that
 * names it; the posture report is the exception: SPEC 7.2 ignores and lists unknown fields).
 * Responses are read leniently: an answer from a newer server may carry fields this agent
 * does not know (kept, ignored), and fields added later are optional, so an answer from an
 * older server still parses.
 */
import { z } from 'zod';
import { TAG, postureReportSchema } from './posture-schemas.ts';
import type { PostureFinding } from './signals.ts';

export { TAG } from './posture-schemas.ts';

/**
 * Free text a device sends. The string rules of SPEC 7.1 (no control, format or separator
 * characters) hold for every body before any schema runs (server app.ts, bodyProblem).
 */
const deviceText = (max: number) => z.string().trim().max(max);
const optionalText = (max: number) => deviceText(max).optional();
const nodeKey = z.string().min(1).max(200);
const seconds = z.number().int().min(1);

// ---------------------------------------------------------------------------------------
// Requests (the server validates them)

export const registerRequest = z.strictObject({
  auth_key: z.string().min(1).max(200),
  hostname: deviceText(255).min(1),
  os: optionalText(64),
  os_version: optionalText(256),
  arch: optionalText(32),
  agent_version: optionalText(64),
  /** Tags the device asks for: only those its auth key carries (SPEC 7.1); default: all of them. */
  tags: z.array(z.string().regex(TAG, `tags match ${TAG.source}`)).max(32).optional(),
});

export const heartbeatRequest = z.strictObject({
  node_key: nodeKey,
  agent_version: optionalText(64),
  peers_version: z.number().int().min(0).optional(),
});

/** The posture report plus the node key; unknown fields are stripped and listed (`ignored_fields`). */
export const postureReportRequest = postureReportSchema.extend({ node_key: nodeKey });

export const deregisterRequest = z.strictObject({ node_key: nodeKey });

export const commandResultRequest = z.strictObject({
  node_key: nodeKey,
  id: z.string().min(1).max(64),
  status: z.enum(['applied', 'failed']),
  result: z.unknown().optional(),
});

export type RegisterRequest = z.infer<typeof registerRequest>;
export type HeartbeatRequest = z.infer<typeof heartbeatRequest>;
export type CommandResultRequest = z.infer<typeof commandResultRequest>;

// ---------------------------------------------------------------------------------------
// Responses (the agent parses them)

const intervals = {
  heartbeat_interval_s: seconds,
  posture_interval_s: seconds,
  quarantine_poll_s: seconds,
};

/** A machine's own tags as a server reports them; read leniently (no pattern: a newer server's tags still read). */
const machineTags = z.array(z.string().max(200)).max(256);

/** SPEC 7.1 / 7.3 `posture_state`; any string, so that a state a newer server adds still reads. */
const postureState = z.string().max(64);

export const registerResponse = z.looseObject({
  machine_id: z.string().min(1),
  node_key: z.string().min(1),
  /** Since SPEC 7.1 (a taken name gets a suffix); older servers do not send it. */
  hostname: z.string().optional(),
  status: z.string(),
  ...intervals,
  /**
   * The tags the machine was given (SPEC 7.1: the auth key's, or those it asked for), which
   * policy targeting reads (SPEC 7.3, `ztna posture check`). Optional: older servers do not send them.
   */
  tags: machineTags.optional(),
});

export const peer = z.looseObject({
  id: z.string(),
  hostname: z.string(),
  os: z.string().nullable(),
  tags: z.array(z.string()),
  online: z.boolean(),
  last_seen: z.string().nullable(),
});

export const heartbeatResponse = z.looseObject({
  status: z.string(),
  quarantined: z.boolean(),
  mode: z.string(),
  ...intervals,
  peers_version: z.number().int(),
  peers: z.array(peer).optional(),
  peers_unchanged: z.boolean().optional(),
  pending_commands: z.array(z.looseObject({ id: z.string(), command: z.string(), expires_at: z.string() })).default([]),
  /** SPEC 7.1 / 7.3: `pending` | `compliant` | `failing` | `grace` | `exempt`. Optional: older servers do not send it. */
  posture_state: postureState.optional(),
  /** The machine's tags now (an admin may change them); optional, like everything added later. */
  tags: machineTags.optional(),
  /** In grace: when its first violation blocks (machines.grace_until). Optional; null outside grace. */
  grace_until: z.string().nullable().optional(),
});

export const finding = z.looseObject({
  code: z.string(),
  signal: z.string(),
  required: z.union([z.boolean(), z.string()]),
  observed: z.union([z.boolean(), z.number(), z.string()]).nullable(),
  limit: z.union([z.number(), z.string()]).nullable(),
  message: z.string(),
  blocks_at: z.string().optional(),
  exempt_until: z.string().optional(),
});

export const reportResponse = z.looseObject({
  compliant: z.boolean(),
  violations: z.array(z.string()),
  /** SPEC 7.2; an older server sends none (the agent derives them: legacy-findings.ts). */
  findings: z.array(finding).optional(),
  quarantined: z.boolean(),
  mode: z.string(),
  status: z.string(),
  /** SPEC 7.2: the fields of the report the server did not know. */
  ignored_fields: z.array(z.string()).optional(),
  /** SPEC 7.3: the machine's posture_state after this verdict (e.g. `grace`). Optional. */
  posture_state: postureState.optional(),
});

export const deregisterResponse = z.looseObject({ deregistered: z.literal(true), machine_id: z.string() });

export const commandResultResponse = z.looseObject({ success: z.literal(true) });

// ---------------------------------------------------------------------------------------
// The daemon's local API (its socket; src/agent/local-api.ts), read by the CLI

const verdictShape = z.looseObject({
  compliant: z.boolean(),
  violations: z.array(z.string()),
  findings: z.array(finding).optional(),
  quarantined: z.boolean(),
  mode: z.string(),
});

export const localStatusAnswer = z.looseObject({
  machine: z.looseObject({
    state: z.enum(['DISCONNECTED', 'CONNECTED', 'QUARANTINE', 'COMPLIANT']),
    serverReachable: z.boolean(),
    serverStatus: z.string().nullable(),
    lastHeartbeatAt: z.number().nullable(),
    lastReportAt: z.number().nullable(),
    lastVerdict: verdictShape.nullable(),
    /** Since SPEC 7.3 (the server's posture_state and the machine's tags); a daemon of an older version has none. */
    postureState: postureState.nullable().optional(),
    tags: machineTags.nullable().optional(),
  }),
});

export const localPeersAnswer = z.looseObject({ quarantined: z.boolean(), peers: z.array(peer) });

export const localCommandsAnswer = z.looseObject({ commands: z.array(z.looseObject({ id: z.string(), command: z.string(), expires_at: z.string() })) });

export const localPostureAnswer = verdictShape.extend({ report: postureReportSchema, findings: z.array(finding).default([]), status: z.string(), posture_state: postureState.optional() });

export const localDownAnswer = z.looseObject({ state: z.string() });

export type RegisterResponse = z.infer<typeof registerResponse>;
export type HeartbeatResponse = z.infer<typeof heartbeatResponse>;
export type ReportResponse = z.infer<typeof reportResponse>;
export type Peer = z.infer<typeof peer>;

// ---------------------------------------------------------------------------------------
// Admin answers the dashboard reads (types only: the server builds them, the dashboard
// renders them; declared once here).

// The vocabulary of SPEC sections 4 and 7.1: the values these columns and fields can hold.
// The server's table descriptions name these lists, and a test checks that the database's
// CHECK constraints accept exactly them.
export const ENFORCEMENT_MODES = ['disabled', 'monitor', 'enforce'] as const;
export const MACHINE_STATUSES = ['online', 'offline', 'quarantined'] as const;
export const QUARANTINE_REASONS = ['posture', 'expired', 'manual'] as const;
/** SPEC 7.1: whether a machine has a verdict, and which. */
export const POSTURE_STATES = ['pending', 'compliant', 'failing', 'grace', 'exempt'] as const;
export const AGENT_COMMANDS = ['enable_firewall', 'enable_disk_encryption'] as const;
export const AGENT_COMMAND_STATUSES = ['pending', 'applied', 'failed', 'expired', 'cancelled'] as const;
export const ACL_ACTIONS = ['allow', 'deny'] as const;
export type EnforcementMode = (typeof ENFORCEMENT_MODES)[number];
export type MachineStatusName = (typeof MACHINE_STATUSES)[number];
export type QuarantineReason = (typeof QUARANTINE_REASONS)[number];
export type PostureState = (typeof POSTURE_STATES)[number];
export type AgentCommandName = (typeof AGENT_COMMANDS)[number];
export type AgentCommandStatus = (typeof AGENT_COMMAND_STATUSES)[number];
export type AclAction = (typeof ACL_ACTIONS)[number];

/** One machine in an impact preview (`POST /api/posture/impact`). */
export interface ImpactedMachine {
  machine_id: string;
  hostname: string;
  os: string | null;
  status: MachineStatusName;
  quarantine_reason: string | null;
  violations: string[];
  findings: PostureFinding[];
  reported_at: string;
  expired: boolean;
  /** In grace (SPEC 7.3): when its first violation blocks; null otherwise. */
  blocks_at: string | null;
  /** Exempt: when the exemption that ends first ends; null for none or no end. */
  exempt_until: string | null;
}

/** A machine with no current verdict: no report yet, or its latest one expired. */
export interface NoVerdictMachine {
  machine_id: string;
  hostname: string;
  os: string | null;
  status: MachineStatusName;
  why: 'no_report' | 'expired';
}

export interface ImpactPreview {
  /** The mode evaluated, and the org's mode now. */
  mode: EnforcementMode;
  current_mode: EnforcementMode;
  /** Whether `policies` replaced the org's policies for this preview. */
  proposed_policies: boolean;
  /** Machines with a stored report (the ones re-evaluation looks at). */
  evaluated: number;
  without_report: number;
  /** Online, blocking (not exempt, grace over): quarantined as soon as the change is made. */
  would_quarantine: ImpactedMachine[];
  /** Online, failing inside a grace period: quarantined at `blocks_at` unless fixed first. */
  would_block_after_grace: ImpactedMachine[];
  /** Quarantined for posture or expiry, no longer blocking: released by the change. */
  would_release: ImpactedMachine[];
  /** Quarantined now and still failing: they stay blocked. */
  still_quarantined: ImpactedMachine[];
  /** Offline and blocking: quarantined when they come back. */
  offline_failing: ImpactedMachine[];
  /** Exempt and failing: recorded, never quarantined until the exemption ends. */
  exempt_failing: ImpactedMachine[];
  /** No current verdict: in enforce mode, no access until they report (SPEC 7.1). */
  no_verdict: NoVerdictMachine[];
  computed_at: string;
}
