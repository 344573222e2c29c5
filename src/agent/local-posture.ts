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
import type { ProbeLog } from './probe-log.ts';
import { recordProbes, replayProbes } from './probe-log.ts';

export interface LocalCollectOptions {
  readonly platform?: NodeJS.Platform;
  readonly onSignal?: CollectOptions['onSignal'];
}

/** A complete report: the five signals, the extras, and per-signal evidence. */
export async function collectLocalReport(options: LocalCollectOptions = {}): Promise<PostureReport> {
  return (await collect(options, false)).report;
}

/** The report and the record of every probe behind it (`ztna bugreport`, probe-log.ts). */
export async function collectRecordedReport(options: LocalCollectOptions = {}): Promise<{ report: PostureReport; log: ProbeLog }> {
  const { report, log } = await collect(options, true);
  return { report, log: log as ProbeLog };
}

async function collect(options: LocalCollectOptions, record: boolean): Promise<{ report: PostureReport; log: ProbeLog | null }> {
  const platform = options.platform ?? process.platform;
  const collectors = await collectorsFor(platform);
  if (collectors === null) {
    throw new ZtnaError('runtime', `ztna has no collectors for the platform "${platform}" (supported: linux, darwin, win32)`);
  }
  const runner = createCommandRunner({ allowList: ALLOWED_COMMANDS, platform });
  const recorder = record ? recordProbes(runner, realFileSystem, (name) => process.env[name]) : null;
  // On Windows, collectors learn their rights from the probes themselves (access denied → null).
  const privileged = typeof process.getuid === 'function' && process.getuid() === 0;
  const collected = await collectPosture({
    collectors,
    platform,
    runner: recorder?.runner ?? runner,
    fileSystem: recorder?.fileSystem ?? realFileSystem,
    privileged,
    ...(recorder ? { env: recorder.env } : {}),
    ...(options.onSignal ? { onSignal: options.onSignal } : {}),
  });
  const extras = { platform: goOs(platform), arch: goArch(), hostname: localHostname(), agent_version: AGENT_VERSION };
  const report = { ...collected.signals, ...extras, collected_at: collected.collected_at, evidence: collected.evidence };
  const log = recorder ? recorder.log({ recorded_at: collected.collected_at, platform, arch: extras.arch, hostname: extras.hostname, privileged, agent_version: AGENT_VERSION }) : null;
  return { report, log };
}

/**
 * The report a recorded bundle gives, computed here with this build's collectors: the
 * machine's answers come from the log (probe-log.ts), its clock is the recording's.
 */
export async function replayReport(log: ProbeLog, options: Pick<LocalCollectOptions, 'onSignal'> = {}): Promise<PostureReport> {
  const collectors = await collectorsFor(log.platform);
  if (collectors === null) throw new ZtnaError('runtime', `ztna has no collectors for the platform "${log.platform}" of this bundle`);
  const replay = replayProbes(log);
  const recordedAt = new Date(log.recorded_at);
  const collected = await collectPosture({
    collectors,
    platform: log.platform,
    runner: replay.runner,
    fileSystem: replay.fileSystem,
    privileged: log.privileged,
    env: replay.env,
    now: () => recordedAt,
    ...(options.onSignal ? { onSignal: options.onSignal } : {}),
  });
  return { ...collected.signals, platform: goOs(log.platform), arch: log.arch, hostname: log.hostname, agent_version: log.agent_version, collected_at: collected.collected_at, evidence: collected.evidence };
}
