/**
 * `ztna remediate [ID] [--yes]`: the pending remediation commands the server prepared,
 * each explained with what exactly would run here; one is applied only after the person
 * confirms (or `--yes`). The outcome goes back to the server and the device re-reports
 * at once, so a fixed device leaves quarantine without waiting for its next poll.
 */
import { commandResultResponse, localCommandsAnswer, localPostureAnswer } from '../../shared/wire.ts';
import { ALLOWED_COMMANDS } from '../../../collectors/allowed-commands.ts';
import { createControlClient } from '../../agent/control-client.ts';
import { readEnrollment } from '../../agent/enrollment.ts';
import { askDaemon, localSocketPath } from '../../agent/local-api.ts';
import { collectLocalReport } from '../../agent/local-posture.ts';
import { configDir } from '../../agent/paths.ts';
import type { PendingCommand, RemediationOutcome, RemediationPlan } from '../../agent/remediation.ts';
import { applyPlan, explainCommand, planRemediation } from '../../agent/remediation.ts';
import { sendHeartbeat, sendReport } from '../../agent/reporting.ts';
import type { ReportResult } from '../../agent/state-machine.ts';
import { createCommandRunner } from '../../platform/command-runner.ts';
import { ZtnaError } from '../../shared/errors.ts';
import { AGENT_VERSION } from '../../version.ts';

export interface RemediateResult {
  readonly commands: ReadonlyArray<PendingCommand & { explanation: string; plan: RemediationPlan }>;
  readonly chosen: string | null;
  readonly outcome: RemediationOutcome | null;
  readonly verdict: ReportResult | null;
  readonly note: string;
}

export async function remediate(options: { id?: string; yes: boolean; confirm: ((question: string) => Promise<boolean>) | null }): Promise<RemediateResult> {
  const dir = configDir();
  const enrollment = await readEnrollment(dir);
  if (!enrollment) throw new ZtnaError('usage', 'this device is not enrolled: run `ztna up --server URL --auth-key KEY` first');
  const runner = createCommandRunner({ allowList: ALLOWED_COMMANDS });
  const client = await createControlClient(enrollment.server_url);
  try {
    const fromDaemon = await askDaemon(localSocketPath(dir), 'GET', '/v1/commands', localCommandsAnswer, 5_000);
    const pending = fromDaemon?.commands ?? (await sendHeartbeat(client, enrollment, AGENT_VERSION)).pending_commands;
    const installed = { ufw: (await runner.resolve('ufw')) !== null, firewalld: (await runner.resolve('firewall-cmd')) !== null, nft: (await runner.resolve('nft')) !== null };
    const commands = pending.map((command) => ({ ...command, explanation: explainCommand(command.command), plan: planRemediation(command.command, process.platform, installed) }));
    const none = { commands, chosen: null, outcome: null, verdict: null };
    if (commands.length === 0) return { ...none, note: 'no pending remediation commands' };
    const chosen = options.id ? commands.find((command) => command.id === options.id) : commands[0];
    if (!chosen) throw new ZtnaError('usage', `no pending command ${options.id}; pending: ${commands.map((c) => c.id).join(', ')}`);
    if (!options.yes) {
      if (!options.confirm) return { ...none, note: 'nothing applied: confirm with --yes (or run interactively)' };
      const verb = chosen.plan.kind === 'run' ? `apply "${chosen.command}" now (${chosen.plan.description})` : `show the steps for "${chosen.command}" and tell the server it needs manual action`;
      if (!(await options.confirm(`${verb}? [y/N] `))) return { ...none, note: 'nothing applied' };
    }
    const privileged = process.platform === 'win32' ? true : process.getuid?.() === 0;
    const outcome = await applyPlan(runner, chosen.plan, privileged);
    await client.post('/api/agent-commands/result', { node_key: enrollment.node_key, id: chosen.id, status: outcome.status, result: outcome.result }, commandResultResponse);
    // Re-report at once: through the daemon when it runs, else directly.
    const viaDaemon = await askDaemon(localSocketPath(dir), 'POST', '/v1/posture', localPostureAnswer);
    const verdict = viaDaemon ?? (await sendReport(client, enrollment, await collectLocalReport()));
    return { commands, chosen: chosen.id, outcome, verdict, note: outcome.status === 'applied' ? `applied ${chosen.command}` : `${chosen.command} not applied: ${String(outcome.result.description ?? '')}` };
  } finally {
    await client.close();
  }
}
