/**
 * Collects this device's posture with the host's collectors and real command runner:
 * the report the agent sends and `ztna posture status --local` shows.
 */
import { collectPosture, goArch, goOs, localHostname } from '../../collectors/collect.ts';
import type { CollectOptions } from '../../collectors/collect.ts';
import { ALLOWED_COMMANDS } from '../../collectors/allowed-commands.ts';
import { collectorsFor } from '../../collectors/registry.ts';
import { createCommandRunner } from '../platform/command-runner.ts';
import { realFileSystem } from '../platform/file-system.ts';
import { ZtnaError } from '../shared/errors.ts';
import type { PostureReport } from '../shared/posture.ts';
import { AGENT_VERSION } from '../version.ts';

export interface LocalCollectOptions {
  readonly platform?: NodeJS.Platform;
  readonly onSignal?: CollectOptions['onSignal'];
}

/** A complete report: the five signals, the extras, and per-signal evidence. */
export async function collectLocalReport(options: LocalCollectOptions = {}): Promise<PostureReport> {
  const platform = options.platform ?? process.platform;
  const collectors = await collectorsFor(platform);
  if (collectors === null) {
    throw new ZtnaError('runtime', `ztna has no collectors for the platform "${platform}" (supported: linux, darwin, win32)`);
  }
  const collected = await collectPosture({
    collectors,
    platform,
    runner: createCommandRunner({ allowList: ALLOWED_COMMANDS, platform }),
    fileSystem: realFileSystem,
    // On Windows, collectors learn their rights from the probes themselves (access denied → null).
    privileged: typeof process.getuid === 'function' && process.getuid() === 0,
    ...(options.onSignal ? { onSignal: options.onSignal } : {}),
  });
  return {
    ...collected.signals,
    platform: goOs(platform),
    arch: goArch(),
    hostname: localHostname(),
    agent_version: AGENT_VERSION,
    collected_at: collected.collected_at,
    evidence: collected.evidence,
  };
}
