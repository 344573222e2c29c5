/**
 * Machine lifecycle: enrollment with an auth key, node-key authentication, heartbeats
 * (liveness, peers, pending commands), manual quarantine and release, and the answers
 * to remediation commands.
 *
 * Liveness rules (SPEC section 3): a heartbeat sets last_seen and turns an offline
 * machine online — then applies its latest verdict at once; it never changes
 * `quarantined`. The sweeper (sweeper.ts) turns silent online machines offline and never
 * touches quarantined ones.
 */
import { randomUUID } from 'node:crypto';
import type { CommandResultRequest, HeartbeatRequest, RegisterRequest } from '../../shared/wire.ts';
import { generateKey, keyId, keyMatches, keyPrefix } from '../auth/keys.ts';
import { ApiError, badRequest, notFound, unauthorized } from '../errors.ts';
import { eq } from '../store/query.ts';
import type { AgentCommandRow, MachineRow } from '../store/tables.ts';
import { columnNames, isoOf, publicRow, timeOf } from '../store/tables.ts';
import { writeAudit } from './audit.ts';
import type { DomainContext, Effects } from './context.ts';
import { inTransaction } from './context.ts';
import { hostnameKey, requireValidHostname, uniqueHostname } from './identity.ts';
import type { Store } from '../store/store.ts';
import type { PeerLists } from './peers.ts';
import type { ReportingMachine } from './posture-service.ts';
import { applyEnforcement, deniedForNoVerdict, judgeStored, loadOrgPolicy, settleMachine } from './posture-service.ts';
import { loadFacts, saveRuns } from './lifecycle.ts';
import type { DecidedMachine } from './transitions.ts';
import { DECISION_COLUMNS, applyTransition, nextStatus, statusView } from './transitions.ts';
import { storedFindings } from './tables/posture-reports.ts';
import { agentIntervals, loadSettings } from './settings.ts';

/**
 * POST /api/register. The auth key decides the org and the tags (SPEC 7.1: tags belong to
 * admins); the device proposes a hostname, which must not pose as an id or a selector and
 * gets a numeric suffix when another machine of the org holds it. `admitEnrolment` is the
 * per-address enrolment limit, consulted only once the key is known to be valid, so a
 * stream of wrong keys (the failed-authentication limit's business) cannot use it up.
 */
export async function registerMachine(context: DomainContext, request: RegisterRequest, admitEnrolment: () => void = () => {}) {
  const now = context.clock.now();
  const id = keyId('auth', request.auth_key);
  const key = id === null ? null : await context.store.selectOne('auth_keys', [eq('key_prefix', keyPrefix('auth', id))]);
  // One message for every failure: no oracle for which keys exist.
  if (!key || !keyMatches(request.auth_key, key.key_hash)) throw unauthorized('invalid auth key');
  if (key.revoked) throw unauthorized('this auth key has been revoked');
  if (key.expires_at !== null && timeOf(key.expires_at) <= now.getTime()) throw unauthorized('this auth key has expired');
  requireValidHostname(request.hostname);
  const keyTags = key.tags;
  const notPermitted = (request.tags ?? []).filter((tag) => !keyTags.includes(tag));
  if (notPermitted.length > 0) {
    throw new ApiError('tags_not_permitted', `tags: this auth key does not grant ${notPermitted.map((tag) => `"${tag}"`).join(', ')}; tags come from the auth key an admin created (it grants: ${keyTags.length ? keyTags.join(', ') : 'none'})`);
  }
  admitEnrolment();
  const tags = request.tags ? [...new Set(request.tags)] : keyTags;
  const orgId = key.org_id;
  const settings = await loadSettings(context.store, orgId);
  const node = generateKey('node');
  const machine = await inTransaction(context, async (tx, effects) => {
    // Single-use keys: the conditional update is the lock; a second concurrent use finds 0 rows.
    const usage = key.reusable ? [eq('id', key.id)] : [eq('id', key.id), eq('used_count', 0)];
    const [used] = await tx.update('auth_keys', usage, { used_count: key.used_count + 1, last_used_at: now.toISOString() });
    if (!used) throw unauthorized('this auth key has already been used');
    // One registration per org at a time picks a hostname (PostgreSQL: the org's row lock;
    // SQLite runs one transaction at a time anyway).
    await tx.select('org_state', { filters: [eq('org_id', orgId)], forUpdate: true });
    const hostname = await uniqueHostname(tx, orgId, request.hostname);
    const row = await tx.insert('machines', {
      id: randomUUID(),
      org_id: orgId,
      hostname,
      hostname_key: hostnameKey(hostname),
      os: request.os ?? null,
      os_version: request.os_version ?? null,
      arch: request.arch ?? null,
      agent_version: request.agent_version ?? null,
      tags,
      status: 'online',
      quarantine_reason: null,
      last_seen: now.toISOString(),
      risk_score: 0,
      posture_exempt: false,
      posture_state: 'pending',
      created_at: now.toISOString(),
      node_key_id: node.id,
      node_key_hash: node.hash,
    });
    const actor = `auth_key:${key.id}`;
    await writeAudit(tx, effects, {
      orgId,
      event: 'machine.registered',
      machineId: row.id,
      actor,
      details: { hostname: row.hostname, ...(hostname === request.hostname ? {} : { requested_hostname: request.hostname }), os: row.os, tags, auth_key_id: key.id },
      at: now,
    });
    await flagReenrolment(tx, effects, orgId, row, request.hostname, actor, now);
    effects.peersChanged(orgId);
    effects.emit(orgId, { table: 'machines', type: 'INSERT', data: publicRow('machines', row) });
    return row;
  });
  return { machine_id: machine.id, node_key: node.key, hostname: machine.hostname, status: 'online', tags: machine.tags, ...agentIntervals(settings) };
}

/**
 * A stolen laptop that an admin quarantined by hand must not walk back in under a fresh
 * enrolment unnoticed: enrolling a hostname that a manually quarantined machine of the org
 * holds, or held when it was deleted, is audited as
 * `machine.reenrolled_after_manual_quarantine` (hostnames are device-chosen, so this is a
 * flag for an admin, not a block).
 */
async function flagReenrolment(tx: Store, effects: Effects, orgId: string, machine: MachineRow, requested: string, actor: string, now: Date): Promise<void> {
  const key = hostnameKey(requested);
  const [held, deleted] = await Promise.all([
    tx.select('machines', { columns: ['id'], filters: [eq('org_id', orgId), eq('hostname_key', key), eq('status', 'quarantined'), eq('quarantine_reason', 'manual')] }),
    tx.select('deleted_machines', { columns: ['id', 'deleted_at', 'deleted_by'], filters: [eq('org_id', orgId), eq('hostname_key', key), eq('status', 'quarantined'), eq('quarantine_reason', 'manual')] }),
  ]);
  if (held.length === 0 && deleted.length === 0) return;
  await writeAudit(tx, effects, {
    orgId,
    event: 'machine.reenrolled_after_manual_quarantine',
    machineId: machine.id,
    actor,
    details: {
      hostname: machine.hostname,
      requested_hostname: requested,
      quarantined_machines: held.map((row) => row.id),
      deleted_quarantined_machines: deleted.map((row) => ({ id: row.id, deleted_at: row.deleted_at, deleted_by: row.deleted_by })),
    },
    at: now,
  });
}

/** What agent routes need of the authenticated machine (not the JSON tags, not timestamps). */
const AUTH_COLUMNS = columnNames('machines', [...DECISION_COLUMNS, 'os', 'os_version', 'agent_version', 'tags', 'node_key_hash']) as ReadonlyArray<keyof AuthenticatedMachine>;
export type AuthenticatedMachine = ReportingMachine & Pick<MachineRow, 'tags' | 'node_key_hash'>;

/** The machine a node key belongs to; 401 for anything else. Constant-time comparison. */
export async function authenticateMachine(context: DomainContext, nodeKey: unknown): Promise<AuthenticatedMachine> {
  const id = keyId('node', nodeKey);
  const machine = id === null ? null : (await context.store.select('machines', { columns: AUTH_COLUMNS, filters: [eq('node_key_id', id)], limit: 1 }))[0];
  if (!machine || typeof nodeKey !== 'string' || !keyMatches(nodeKey, machine.node_key_hash)) throw unauthorized('unknown node key');
  return machine;
}

export async function heartbeat(context: DomainContext, peers: PeerLists, machine: AuthenticatedMachine, request: HeartbeatRequest) {
  const now = context.clock.now();
  const orgId = machine.org_id;
  let current: ReportingMachine & Pick<MachineRow, 'tags'> = machine;
  if (current.status === 'offline') {
    current = await comeBack(context, current, now);
  } else {
    context.lastSeen.record(current.id, now);
  }
  if (request.agent_version !== undefined && request.agent_version !== current.agent_version) {
    current = (await context.store.update('machines', [eq('id', current.id)], { agent_version: request.agent_version }))[0] ?? current;
  }
  const settings = await loadSettings(context.store, orgId);
  const version = await peers.version(context.store, orgId);
  const quarantined = current.status === 'quarantined';
  // Expiry is filtered here rather than in SQL so that the query is the same on every
  // heartbeat (and so served from the store's read cache).
  const pending = (
    await context.store.select('agent_commands', {
      columns: ['id', 'command', 'expires_at'],
      filters: [eq('org_id', orgId), eq('machine_id', current.id), eq('status', 'pending')],
      order: [{ column: 'created_at', descending: false }],
    })
  ).filter((command) => timeOf(command.expires_at) > now.getTime());
  const mode = settings.posture_enforcement;
  const base = {
    status: current.status,
    quarantined,
    mode,
    posture_state: current.posture_state,
    // SPEC 7.3: when a machine in grace blocks, and the tags policy targeting reads.
    grace_until: current.grace_until === null ? null : isoOf(current.grace_until),
    tags: current.tags,
    ...agentIntervals(settings),
    peers_version: version,
    pending_commands: pending,
  };
  // A quarantined machine always gets an explicitly empty list (SPEC section 4), and so
  // does one without a current verdict in enforce mode (SPEC 7.1: no verdict, no access).
  if (quarantined || deniedForNoVerdict(mode, current.posture_state)) return { ...base, peers: [] };
  if (request.peers_version === version) return { ...base, peers_unchanged: true };
  return { ...base, peers: await peers.list(context.store, orgId, version, current.id, mode === 'enforce') };
}

/** An offline machine's heartbeat: online again, then its latest verdict applies at once. */
async function comeBack<M extends DecidedMachine & Pick<MachineRow, 'os' | 'agent_version'>>(context: DomainContext, machine: M, now: Date): Promise<M | MachineRow> {
  const orgId = machine.org_id;
  const view = await loadOrgPolicy(context.store, orgId);
  return inTransaction(context, async (tx, effects) => {
    const back = nextStatus(statusView(machine), { kind: 'heartbeat' });
    const { machine: online, changed } = await applyTransition(context, tx, effects, machine, back, { now, actor: 'system', findings: [] });
    if (!changed) return online;
    context.lastSeen.forget(machine.id);
    if (view.settings.posture_enforcement !== 'enforce') return online;
    // The conditional update above holds the machine's row lock until COMMIT, and returned
    // the whole row: what judging reads (tags) is there.
    const [report, facts] = await Promise.all([tx.selectOne('posture_reports', [eq('machine_id', machine.id)]), loadFacts(tx, machine.id)]);
    if (!report) return online;
    const judgement = judgeStored(report, view, now, online, facts);
    await saveRuns(tx, orgId, machine.id, facts, judgement);
    return settleMachine(tx, effects, await applyEnforcement(context, tx, effects, online, judgement, now, view.settings), judgement, now);
  });
}

/**
 * An admin sets `machines.status`: `quarantined` is a manual quarantine (reason
 * `manual`, never lifted by a report), `online` releases any quarantine. Liveness
 * (`offline`) is the server's to decide.
 */
export async function setMachineStatus(context: DomainContext, orgId: string, machineId: string, status: unknown, actor: string): Promise<MachineRow> {
  if (status !== 'online' && status !== 'quarantined') {
    throw badRequest('status: an admin may set "quarantined" (manual quarantine) or "online" (release); "offline" follows the machine\'s heartbeats');
  }
  const now = context.clock.now();
  return inTransaction(context, async (tx, effects) => {
    const [machine] = await tx.select('machines', { filters: [eq('id', machineId), eq('org_id', orgId)], forUpdate: true });
    if (!machine) throw notFound(`no machine ${machineId} in this organisation`);
    const report = await tx.selectOne('posture_reports', [eq('machine_id', machineId)]);
    const transition = nextStatus(statusView(machine), { kind: status === 'quarantined' ? 'admin_hold' : 'admin_release' });
    return (await applyTransition(context, tx, effects, machine, transition, { now, actor, findings: storedFindings(report), onConflict: 'throw' })).machine;
  });
}

/**
 * Deletes machines for good (SPEC 7.1 "Leaving"): the rows go (their reports and commands
 * with them), each deletion is audited and remembered in `deleted_machines` — with the
 * status it had, so a later enrolment under its hostname can be flagged when an admin had
 * quarantined it by hand — and peer lists and realtime subscribers hear of it. A node key
 * of a deleted machine finds no row, so it is 401 for ever. Runs inside the caller's
 * transaction; `rows` are the removed rows.
 */
export async function retireMachines(tx: Store, effects: Effects, orgId: string, rows: readonly MachineRow[], how: { event: 'machine.deleted' | 'machine.deregistered'; actor: string }, now: Date): Promise<void> {
  if (rows.length === 0) return;
  for (const row of rows) {
    await tx.insert('deleted_machines', {
      id: row.id,
      org_id: orgId,
      hostname: row.hostname,
      hostname_key: hostnameKey(row.hostname),
      status: row.status,
      quarantine_reason: row.quarantine_reason,
      deleted_at: now.toISOString(),
      deleted_by: how.actor,
    });
    await writeAudit(tx, effects, {
      orgId,
      event: how.event,
      machineId: row.id,
      actor: how.actor,
      details: { hostname: row.hostname, status: row.status, ...(row.quarantine_reason ? { quarantine_reason: row.quarantine_reason } : {}) },
      at: now,
    });
    effects.emit(orgId, { table: 'machines', type: 'DELETE', data: { id: row.id } });
  }
  effects.peersChanged(orgId);
}

/** POST /api/deregister: the machine of this node key leaves (`ztna down`). */
export async function deregisterMachine(context: DomainContext, machine: AuthenticatedMachine): Promise<{ deregistered: true; machine_id: string }> {
  const now = context.clock.now();
  const orgId = machine.org_id;
  await inTransaction(context, async (tx, effects) => {
    const removed = await tx.remove('machines', [eq('id', machine.id)]);
    await retireMachines(tx, effects, orgId, removed, { event: 'machine.deregistered', actor: `machine:${machine.id}` }, now);
  });
  context.lastSeen.forget(machine.id);
  return { deregistered: true, machine_id: machine.id };
}

/** POST /api/agent-commands/result: a machine reports what became of one of ITS commands. */
export async function recordCommandResult(context: DomainContext, machine: AuthenticatedMachine, request: CommandResultRequest): Promise<AgentCommandRow> {
  const now = context.clock.now();
  const resultText = JSON.stringify(request.result ?? null);
  if (resultText.length > 16_384) throw badRequest('result: at most 16 KiB of JSON');
  return inTransaction(context, async (tx, effects) => {
    // Another machine's command id simply does not exist for this machine.
    const command = await tx.selectOne('agent_commands', [eq('id', request.id), eq('machine_id', machine.id)]);
    if (!command) throw notFound(`no command ${request.id} for this machine`);
    if (command.status !== 'pending') throw new ApiError('conflict', `command ${request.id} is already ${command.status}`);
    const [updated] = await tx.update('agent_commands', [eq('id', request.id), eq('status', 'pending')], {
      status: request.status,
      result: request.result ?? null,
    });
    // The machine's row lock (PostgreSQL) or the single writer (SQLite) holds since the read.
    if (!updated) throw new ApiError('conflict', `command ${request.id} was decided meanwhile`);
    await writeAudit(tx, effects, {
      orgId: machine.org_id,
      event: 'agent_command.result',
      machineId: machine.id,
      actor: `machine:${machine.id}`,
      details: { command_id: request.id, command: command.command, status: request.status },
      at: now,
    });
    return updated;
  });
}
