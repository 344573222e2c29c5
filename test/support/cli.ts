/** Runs bin/ztna as a real process through the project's command runner. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCommandRunner } from '../../src/platform/command-runner.ts';
import type { CommandResult } from '../../src/platform/command-runner.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function cliRunner(env: NodeJS.ProcessEnv = {}) {
  const runner = createCommandRunner({
    platform: process.platform,
    env: { ...process.env, NO_COLOR: '', FORCE_COLOR: undefined, ...env },
    allowList: { ztna: { paths: { [process.platform]: [join(ROOT, 'bin/ztna')] }, timeoutMs: 60_000 } },
  });
  return (...args: string[]): Promise<CommandResult> => runner.run('ztna', args);
}

/** A command runner for the real `bin/ztna-server` (allow-list id `ztna-server`). */
export function serverRunner(options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}) {
  return createCommandRunner({
    platform: process.platform,
    ...(options.env ? { env: options.env } : {}),
    allowList: { 'ztna-server': { paths: { [process.platform]: [join(ROOT, 'bin/ztna-server')] }, timeoutMs: options.timeoutMs ?? 30_000 } },
  });
}

/** Writes files into a fresh temporary directory; returns their paths by name. */
export function tempFiles(files: Record<string, string>): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'ztna-cli-'));
  return Object.fromEntries(
    Object.entries(files).map(([name, content]) => {
      const path = join(dir, name);
      writeFileSync(path, content);
      return [name, path];
    }),
  );
}
