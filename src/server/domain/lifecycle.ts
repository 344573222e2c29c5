/**
 * The server's side of the policy lifecycle (SPEC 7.3): the stored facts grace and
 * exemptions need — since when each violation has failed (`posture_failures`) and the open
 * exemptions (`posture_exemptions`) — and judging a machine's report with them
 * (src/shared/lifecycle.ts decides; this module reads and writes).
 *
 * Invariants:
 * - Runs are kept in enforce mode only (a run starts when enforcement does); each judgement
 *   in enforce mode writes exactly the runs it returns, so a violation that passes once ends
 *   its run, and a restart or another process reads the same first-failed times.
 * - Leaving enforce mode drops the org's runs.
 * - An exemption counts until `expires_at`; the sweeper then audits its end once
 *   (`ended_at`) and re-evaluates the machine.
 */
import type { Exemption, Judgement } from '../../shared/lifecycle.ts';
import { applyingPolicies, graceByCode, judge } from '../../shared/lifecycle.ts';
import type { PostureVerdict } from '../../shared/posture.ts';
import { evaluatePosture } from '../../shared/posture.ts';
import type { Store } from '../store/store.ts';
import { eq } from '../store/query.ts';
import type { MachineRow } from '../store/tables.ts';
import { timeOf } from '../store/tables.ts';
import type { OrgPolicyView } from './posture-service.ts';

/** What grace and exemptions read of one machine. */
export interface LifecycleFacts {
  /** Violation code → when its unbroken failing run began (ms). */
  readonly firstFailed: ReadonlyMap<string, number>;
  readonly exemptions: readonly Exemption[];
}

export const NO_FACTS: LifecycleFacts = Object.freeze({ firstFailed: new Map<string, number>(), exemptions: [] });

/** A machine as judging reads it. */
export type JudgedMachine = Pick<MachineRow, 'os' | 'agent_version' | 'tags' | 'posture_exempt'>;

export interface MachineJudgement extends Judgement {
  /** The report is older than report_max_age_s: its verdict is posture_report_expired. */
  readonly expired: boolean;
}

const runId = (machineId: string, code: string) => `${machineId} ${code}`;

function factsFrom(runs: ReadonlyArray<{ code: string; first_failed_at: string | Date }>, exemptions: ReadonlyArray<{ codes: string[] | null; expires_at: string | Date }>): LifecycleFacts {
  return {
    firstFailed: new Map(runs.map((run) => [run.code, timeOf(run.first_failed_at)])),
    exemptions: exemptions.map((exemption) => ({ codes: exemption.codes, expiresAt: timeOf(exemption.expires_at) })),
  };
}

export async function loadFacts(store: Store, machineId: string): Promise<LifecycleFacts> {
  const [runs, exemptions] = await Promise.all([
    store.select('posture_failures', { columns: ['code', 'first_failed_at'], filters: [eq('machine_id', machineId)] }),
    store.select('posture_exemptions', { columns: ['codes', 'expires_at'], filters: [eq('machine_id', machineId), { column: 'ended_at', op: 'is', value: null }] }),
  ]);
  return factsFrom(runs, exemptions);
}

/** Every machine's facts in an org (re-evaluation, the impact preview): two queries. */
export async function loadOrgFacts(store: Store, orgId: string): Promise<Map<string, LifecycleFacts>> {
  const [runs, exemptions] = await Promise.all([
    store.select('posture_failures', { columns: ['machine_id', 'code', 'first_failed_at'], filters: [eq('org_id', orgId)] }),
    store.select('posture_exemptions', { columns: ['machine_id', 'codes', 'expires_at'], filters: [eq('org_id', orgId), { column: 'ended_at', op: 'is', value: null }] }),
  ]);
  const byMachine = new Map<string, { runs: typeof runs; exemptions: typeof exemptions }>();
  const entry = (id: string) => {
    let found = byMachine.get(id);
    if (!found) byMachine.set(id, (found = { runs: [], exemptions: [] }));
    return found;
  };
  for (const run of runs) entry(run.machine_id).runs.push(run);
  for (const exemption of exemptions) entry(exemption.machine_id).exemptions.push(exemption);
  return new Map([...byMachine].map(([id, facts]) => [id, factsFrom(facts.runs, facts.exemptions)]));
}

/**
 * Judges a machine's signals under the org's policies: the policies that apply to it
 * (platform: the report's, else the machine's; its tags), grace and exemptions.
 * `expired` replaces the evaluation with the expiry verdict (no policy, so no grace).
 */
export function judgeMachine(
  input: Readonly<Record<string, unknown>>,
  expired: PostureVerdict | null,
  view: OrgPolicyView,
  now: Date,
  machine: JudgedMachine | undefined,
  facts: LifecycleFacts,
): MachineJudgement {
  const platform = typeof input.platform === 'string' ? input.platform : (machine?.os ?? null);
  const applying = applyingPolicies(view.policies, { platform, tags: machine?.tags ?? [] });
  const verdict = expired ?? evaluatePosture(input, applying);
  const exemptions = machine?.posture_exempt ? [...facts.exemptions, { codes: null, expiresAt: null }] : facts.exemptions;
  const judgement = judge({
    verdict,
    grace: expired ? new Map() : graceByCode(input, applying),
    firstFailed: facts.firstFailed,
    exemptions,
    now: now.getTime(),
    trackRuns: view.settings.posture_enforcement === 'enforce',
  });
  return { ...judgement, expired: expired !== null };
}

/** Writes the runs a judgement keeps (enforce mode), given the facts it was judged with. */
export async function saveRuns(tx: Store, orgId: string, machineId: string, before: LifecycleFacts, judgement: Judgement): Promise<void> {
  for (const [code, first] of judgement.runs) {
    if (before.firstFailed.get(code) === first) continue;
    await tx.upsert('posture_failures', { id: runId(machineId, code), org_id: orgId, machine_id: machineId, code, first_failed_at: new Date(first).toISOString() }, 'id', ['first_failed_at']);
  }
  const ended = [...before.firstFailed.keys()].filter((code) => !judgement.runs.has(code));
  if (ended.length > 0) await tx.remove('posture_failures', [{ column: 'id', op: 'in', value: ended.map((code) => runId(machineId, code)) }]);
}

/** Leaving enforce mode: every run of the org ends (a later enforce starts them afresh). */
export async function clearOrgRuns(tx: Store, orgId: string): Promise<void> {
  await tx.remove('posture_failures', [eq('org_id', orgId)]);
}
