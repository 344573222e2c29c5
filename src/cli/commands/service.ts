/** `ztna service install | uninstall | status`; see src/agent/service.ts for the agent's service. */
import { copyFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { readEnrollment } from '../../agent/enrollment.ts';
import { configDir, ensureConfigDir } from '../../agent/paths.ts';
import { agentServiceDefinition, systemConfigDir } from '../../agent/service.ts';
import { isSingleExecutable } from '../../build-info.ts';
import { createCommandRunner } from '../../platform/command-runner.ts';
import type { ServicePlan, ServiceResult } from '../../platform/service-manager.ts';
import { SERVICE_MANAGER_COMMANDS, installPlan, installService, requireRootOwnedProgram, selfCommand, servicePlatform, serviceStatus, uninstallService } from '../../platform/service-manager.ts';
import { ZtnaError } from '../../shared/errors.ts';

export async function serviceCommand(action: string, options: { dryRun?: boolean } = {}): Promise<ServiceResult | ServicePlan> {
  const platform = servicePlatform();
  // The daemon runs exactly what is running now: this binary, or this runtime and entry.
  const command = selfCommand(['daemon'], isSingleExecutable());
  const definition = agentServiceDefinition(command, platform);
  // The daemon runs as root: nothing a non-root user can change may be in its program.
  if (action === 'install') await requireRootOwnedProgram(command.slice(0, command.length - 1), platform);
  if (action === 'install' && options.dryRun) return installPlan(definition, platform);
  const runner = createCommandRunner({ allowList: SERVICE_MANAGER_COMMANDS });
  if (action === 'status') return serviceStatus(runner, definition, platform);
  if (action === 'uninstall') return uninstallService(runner, definition, platform);
  if (action !== 'install') throw new ZtnaError('usage', `service: unknown action "${action}"; use install, uninstall or status`);
  const systemDir = systemConfigDir();
  // Carry the current enrollment over when the system-wide directory has none yet.
  const current = configDir();
  let carried = '';
  if (current !== systemDir && (await readEnrollment(current)) && !(await readEnrollment(systemDir))) {
    await ensureConfigDir(systemDir);
    await copyFile(join(current, 'enrollment.json'), join(systemDir, 'enrollment.json'));
    await chmod(join(systemDir, 'enrollment.json'), 0o600);
    carried = ` (enrollment copied from ${current})`;
  }
  if (!(await readEnrollment(systemDir))) {
    throw new ZtnaError('usage', `no enrollment in ${systemDir}: enroll first with \`sudo ZTNA_CONFIG_DIR="${systemDir}" ztna up --server URL --auth-key KEY\``);
  }
  const result = await installService(runner, definition, platform);
  return { ...result, detail: result.detail + carried };
}
