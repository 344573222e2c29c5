/** `ztna service install | uninstall | status`; see src/agent/service.ts for the model. */
import { copyFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { ALLOWED_COMMANDS } from '../../../collectors/allowed-commands.ts';
import { readEnrollment } from '../../agent/enrollment.ts';
import { configDir, ensureConfigDir } from '../../agent/paths.ts';
import type { ServiceResult } from '../../agent/service.ts';
import { installService, serviceStatus, systemConfigDir, uninstallService } from '../../agent/service.ts';
import { createCommandRunner } from '../../platform/command-runner.ts';
import { ZtnaError } from '../../shared/errors.ts';

export async function serviceCommand(action: string): Promise<ServiceResult> {
  const runner = createCommandRunner({ allowList: ALLOWED_COMMANDS });
  if (action === 'status') return serviceStatus(runner);
  if (action === 'uninstall') return uninstallService(runner);
  if (action !== 'install') throw new ZtnaError('usage', `service: unknown action "${action}"; use install, uninstall or status`);
  const systemDir = systemConfigDir();
  // Carry the current enrollment over when the system-wide directory has none yet.
  const current = configDir();
  let carried = '';
  if (current !== systemDir && (await readEnrollment(current).catch(() => null)) && !(await readEnrollment(systemDir).catch(() => null))) {
    await ensureConfigDir(systemDir);
    await copyFile(join(current, 'enrollment.json'), join(systemDir, 'enrollment.json'));
    await chmod(join(systemDir, 'enrollment.json'), 0o600);
    carried = ` (enrollment copied from ${current})`;
  }
  if (!(await readEnrollment(systemDir).catch(() => null))) {
    throw new ZtnaError('usage', `no enrollment in ${systemDir}: enroll first with \`sudo ZTNA_CONFIG_DIR="${systemDir}" ztna up --server URL --auth-key KEY\``);
  }
  // The daemon runs exactly what is running now: this runtime and this entry point.
  const command = [process.execPath, ...(process.argv[1] ? [process.argv[1]] : []), 'daemon'];
  const result = await installService(runner, { command, configDir: systemDir });
  return { ...result, detail: result.detail + carried };
}
