/**
 * os_version_number on Windows ("10.0.26100.2314") from the same registry probe as
 * os_version (collectors/windows/os-version.ts); collectors/parsers/windows-os-version.ts
 * builds the number.
 */
import { windowsVersionNumber } from '../parsers/windows-os-version.ts';
import type { Collector } from '../types.ts';
import { OS_VERSION_SCRIPT } from './os-version.ts';
import { runPowerShell } from './powershell.ts';

export const windowsOsVersionNumberCollector: Collector<'os_version_number'> = {
  signal: 'os_version_number',
  async collect(ctx) {
    const run = await runPowerShell(ctx, OS_VERSION_SCRIPT, 'registry:CurrentVersion');
    if ('problem' in run) return run.problem;
    return windowsVersionNumber(run.stdout);
  },
};
