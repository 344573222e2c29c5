/**
 * `/api/db/machines`. Machines are created by enrolment only. An admin may rename one
 * (never onto another machine's name), set its tags, exempt it, quarantine it by hand or
 * release it (`status`), and delete it (remembered in deleted_machines, audited).
 */
import { z } from 'zod';
import { MACHINE_STATUSES } from '../../../shared/wire.ts';
import { ApiError } from '../../errors.ts';
import type { Filter } from '../../store/query.ts';
import { eq } from '../../store/query.ts';
import type { MachineRow, Patch } from '../../store/tables.ts';
import { writeAudit } from '../audit.ts';
import { inTransaction } from '../context.ts';
import type { DomainContext } from '../context.ts';
import { MAX_HOSTNAME_LENGTH, hostnameKey, requireValidHostname } from '../identity.ts';
import { retireMachines, setMachineStatus } from '../machines.ts';
import { judgeStored, loadOrgPolicy, postureStateOf, reevaluateMachine as reevaluateMachineNow, statusChanged } from '../posture-service.ts';
import { loadFacts } from '../lifecycle.ts';
import type { TableRules, WriteContext } from './rules.ts';
import { tagField, validate } from './rules.ts';

const patchSchema = z.strictObject({
  status: z.enum(MACHINE_STATUSES).optional(),
  posture_exempt: z.boolean().optional(),
  tags: z.array(tagField).max(32).optional(),
  hostname: z.string().trim().min(1).max(MAX_HOSTNAME_LENGTH).optional(),
});
type MachinePatch = z.infer<typeof patchSchema>;

async function updateMachine(write: WriteContext, target: MachineRow, patch: MachinePatch): Promise<MachineRow> {
  const { context, orgId, actor } = write;
  const { id } = target;
  let machine = target;
  const { status, posture_exempt, ...visible } = patch;
  if (status !== undefined) machine = await setMachineStatus(context, orgId, id, status, actor);
  if (visible.hostname !== undefined || visible.tags !== undefined) machine = await rename(context, orgId, machine, visible);
  if (posture_exempt !== undefined && posture_exempt !== machine.posture_exempt) {
    const now = context.clock.now();
    const view = await loadOrgPolicy(context.store, orgId);
    machine = await inTransaction(context, async (tx, effects) => {
      const report = await tx.selectOne('posture_reports', [eq('machine_id', id)]);
      const posture_state = postureStateOf(posture_exempt, report ? judgeStored(report, view, now, { ...machine, posture_exempt }, await loadFacts(tx, id)) : null);
      const [changed = machine] = await tx.update('machines', [eq('id', id)], { posture_exempt, posture_state });
      await writeAudit(tx, effects, { orgId, event: 'machine.exemption_changed', machineId: id, actor, details: { changes: { posture_exempt: { from: !posture_exempt, to: posture_exempt } } }, at: now });
      statusChanged(effects, changed); // an exempt machine without a report joins the peer lists
      return changed;
    });
    machine = await reevaluateMachine(context, machine);
  }
  return machine;
}

/** Hostname and tags: part of every peer list. */
async function rename(context: DomainContext, orgId: string, machine: MachineRow, visible: Pick<MachinePatch, 'hostname' | 'tags'>): Promise<MachineRow> {
  if (visible.hostname !== undefined) requireValidHostname(visible.hostname);
  return inTransaction(context, async (tx, effects) => {
    const changes: Patch<'machines'> = { ...visible };
    if (visible.hostname !== undefined) {
      // An admin names machines explicitly: a name another machine holds is a conflict,
      // not a silent suffix (which registration gives a device).
      await tx.select('org_state', { filters: [eq('org_id', orgId)], forUpdate: true });
      const key = hostnameKey(visible.hostname);
      const holders = await tx.select('machines', { columns: ['id'], filters: [eq('org_id', orgId), eq('hostname_key', key)] });
      if (holders.some((holder) => holder.id !== machine.id)) throw new ApiError('conflict', `hostname: another machine of this organisation is already called "${visible.hostname}"`);
      changes.hostname_key = key;
    }
    const [changed = machine] = await tx.update('machines', [eq('id', machine.id)], changes);
    statusChanged(effects, changed);
    return changed;
  });
}

/** Applies the current judgement to one machine (after its exemption changed). */
async function reevaluateMachine(context: DomainContext, machine: MachineRow): Promise<MachineRow> {
  return (await reevaluateMachineNow(context, machine.org_id, machine.id)) ?? machine;
}

export const machinesRules: TableRules = {
  // Heartbeat times are buffered (domain/last-seen.ts): a read shows them.
  beforeRead: async (context) => {
    await context.lastSeen.flush(context.store);
  },
  create: 'machines are created by enrollment (POST /api/register with an auth key)',
  async update(write, where: readonly Filter[], body) {
    const patch = validate(patchSchema, body);
    const results: MachineRow[] = [];
    for (const target of await write.context.store.select('machines', { filters: where })) results.push(await updateMachine(write, target, patch));
    return results;
  },
  remove: ({ context, orgId, actor, now }, where) =>
    inTransaction(context, async (tx, effects) => {
      const rows = await tx.remove('machines', where);
      await retireMachines(tx, effects, orgId, rows, { event: 'machine.deleted', actor }, now);
      return rows;
    }),
};
