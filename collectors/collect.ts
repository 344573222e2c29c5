/**
 * Runs one platform's collectors concurrently and assembles a posture report.
 *
 * Each collector gets its own recording ProbeContext (so its evidence lists exactly the
 * commands and files it used), a deadline, and a crash guard: a collector that throws or
 * hangs yields `null` with evidence, and never takes the others down with it.
 */
import { arch as osArch, hostname as osHostname, release as osRelease } from 'node:os';
import type { CommandRunner } from '../src/platform/command-runner.ts';
import type { FileSystem } from '../src/platform/file-system.ts';
import type { SignalSet } from '../src/shared/signals.ts';
import type {
  Collector,
  Finding,
  Observation,
  PlatformCollectors,
  ProbeContext,
  SignalEvidence,
  SignalKey,
  SignalResult,
} from './types.ts';
import { SIGNAL_KEYS, firstLine } from './types.ts';

const EXCERPT_CHARS = 600;
/**
 * A signal's evidence stays small whatever a tool printed or a file held: the report
 * carries it, and a report over the server's 64 KiB body limit would be refused whole.
 */
export const MAX_DETAIL_CHARS = 500;
export const MAX_FACTS_JSON_CHARS = 4_096;
/** The report schema's limit on `os_version` (src/shared/posture-schemas.ts). */
export const MAX_STRING_VALUE_CHARS = 256;
/** A collector that has not answered by then is abandoned with `timeout`. */
export const DEFAULT_COLLECTOR_DEADLINE_MS = 45_000;

export interface CollectOptions {
  readonly collectors: PlatformCollectors;
  readonly platform: NodeJS.Platform;
  readonly runner: CommandRunner;
  readonly fileSystem: FileSystem;
  readonly privileged: boolean;
  readonly now?: () => Date;
  readonly env?: (name: string) => string | undefined;
  readonly deadlineMs?: number;
  /** Called as each signal finishes (progress feedback for slow platforms). */
  readonly onSignal?: (signal: SignalKey, result: SignalResult<unknown>) => void;
}

export interface CollectedPosture {
  /** Every signal of the catalogue (null: could not tell); os_version always a string. */
  readonly signals: SignalSet & { readonly os_version: string };
  readonly evidence: Readonly<Record<SignalKey, SignalEvidence>>;
  readonly collected_at: string;
}

export async function collectPosture(options: CollectOptions): Promise<CollectedPosture> {
  const now = options.now ?? (() => new Date());
  const collectedAt = now().toISOString();
  const results = await Promise.all(
    SIGNAL_KEYS.map(async (signal) => {
      const result = await runCollector(options.collectors[signal] as Collector<SignalKey>, options);
      options.onSignal?.(signal, result);
      return [signal, result] as const;
    }),
  );
  const bySignal = Object.fromEntries(results) as Record<SignalKey, SignalResult<unknown>>;
  const evidence = Object.fromEntries(results.map(([signal, result]) => [signal, result.evidence])) as Record<
    SignalKey,
    SignalEvidence
  >;
  let osVersion = bySignal.os_version.value as string | null;
  if (osVersion === null) {
    // The report schema needs a string; fall back to what the kernel says, and say so.
    osVersion = `${options.platform} ${osRelease()}`;
    evidence.os_version = {
      ...evidence.os_version,
      detail: `${evidence.os_version.detail}; reported the kernel release "${osVersion}" instead`,
    };
  }
  const signals = Object.fromEntries(SIGNAL_KEYS.map((signal) => [signal, bySignal[signal].value])) as SignalSet;
  return {
    signals: { ...signals, os_version: osVersion },
    evidence,
    collected_at: collectedAt,
  };
}

export async function runCollector<K extends SignalKey>(
  collector: Collector<K>,
  options: Omit<CollectOptions, 'collectors' | 'onSignal'>,
): Promise<SignalResult<unknown>> {
  // Slots are reserved when a probe starts, so the evidence lists probes in the order the
  // collector issued them, not the order concurrent probes happened to finish.
  const observations: Array<Observation | undefined> = [];
  const context = recordingContext(options, observations);
  const started = performance.now();
  const deadlineMs = options.deadlineMs ?? DEFAULT_COLLECTOR_DEADLINE_MS;
  let timer: NodeJS.Timeout | undefined;
  let finding: Finding<unknown>;
  try {
    finding = await Promise.race([
      collector.collect(context),
      new Promise<Finding<unknown>>((resolve) => {
        timer = setTimeout(
          () =>
            resolve({
              value: null,
              reason: 'timeout',
              method: 'deadline',
              detail: `no answer within ${deadlineMs} ms`,
            }),
          deadlineMs,
        );
        timer.unref();
      }),
    ]);
  } catch (error) {
    // A collector bug must not hide the other signals; the error is kept in the evidence.
    finding = {
      value: null,
      reason: 'collector_error',
      method: 'collector',
      detail: `collector failed: ${error instanceof Error ? error.message : String(error)}`,
    };
  } finally {
    clearTimeout(timer);
  }
  finding = boundFinding(finding);
  const evidence: SignalEvidence = {
    method: finding.method,
    ...(finding.reason === undefined ? {} : { reason: finding.reason }),
    detail: finding.detail,
    ...(finding.facts === undefined ? {} : { facts: finding.facts }),
    observations: observations.filter((observation): observation is Observation => observation !== undefined),
    duration_ms: Math.round((performance.now() - started) * 10) / 10,
    privileged: options.privileged,
  };
  return { value: finding.value, evidence };
}

/**
 * The finding as it may enter a report: the detail clipped, facts over the limit (or not
 * JSON) replaced by a note saying so, a string value clipped to what the schema accepts.
 * Parsers quote tool output, and a tool can print anything (found by
 * test/collectors/fuzz-parsers.test.ts: a 100 KB firewall-cmd error became a 100 KB detail).
 */
export function boundFinding<T>(finding: Finding<T>): Finding<T> {
  const clipText = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
  let facts = finding.facts;
  if (facts !== undefined) {
    let size: number | null;
    try {
      size = JSON.stringify(facts).length;
    } catch {
      size = null;
    }
    if (size === null || size > MAX_FACTS_JSON_CHARS) {
      facts = { omitted: `the facts were ${size === null ? 'not JSON' : `${size} characters of JSON`}, over the ${MAX_FACTS_JSON_CHARS}-character limit` };
    }
  }
  const value = typeof finding.value === 'string' ? (clipText(finding.value, MAX_STRING_VALUE_CHARS) as T) : finding.value;
  return {
    ...finding,
    value,
    detail: clipText(finding.detail, MAX_DETAIL_CHARS),
    ...(facts === undefined ? {} : { facts }),
  };
}

function excerpt(text: string): string {
  const trimmed = text.trim();
  return trimmed.length > EXCERPT_CHARS ? `${trimmed.slice(0, EXCERPT_CHARS)}…` : trimmed;
}

function recordingContext(
  options: Omit<CollectOptions, 'collectors' | 'onSignal'>,
  observations: Array<Observation | undefined>,
): ProbeContext {
  const reserve = () => observations.push(undefined) - 1;
  const now = options.now ?? (() => new Date());
  return {
    platform: options.platform,
    privileged: options.privileged,
    now,
    env: options.env ?? ((name) => process.env[name]),
    async run(command, args, runOptions) {
      const slot = reserve();
      const result = await options.runner.run(command, args, runOptions);
      const seen = [excerpt(result.stdout), excerpt(result.stderr)].filter(Boolean).join('\n--- stderr ---\n');
      observations[slot] = {
        command: result.argv,
        exit_code: result.exitCode,
        ...(result.failure === undefined ? {} : { failure: `${result.failure}: ${result.failureMessage ?? ''}`.trim() }),
        seen: seen || '(no output)',
        duration_ms: Math.round(result.durationMs * 10) / 10,
      };
      return result;
    },
    async read(path, readOptions) {
      const slot = readOptions?.quiet ? -1 : reserve();
      const result = await options.fileSystem.read(path, readOptions);
      if (slot < 0) return result;
      observations[slot] = (
        result.ok
          ? { file: path, seen: `${result.data.length} bytes, modified ${new Date(result.mtimeMs).toISOString()}` }
          : { file: path, failure: result.failure, seen: firstLine(result.message) }
      );
      return result;
    },
    async list(path) {
      const slot = reserve();
      const result = await options.fileSystem.list(path);
      if (!result.ok) observations[slot] = { file: path, failure: result.failure, seen: firstLine(result.message) };
      return result;
    },
    stat: (path) => options.fileSystem.stat(path),
    has: async (command) => (await options.runner.resolve(command)) !== null,
  };
}

/** Architecture in the Go spelling users of Tailscale/NetBird know (`amd64`, `arm64`). */
export function goArch(nodeArch: string = osArch()): string {
  return ({ x64: 'amd64', ia32: '386', arm: 'arm' } as Record<string, string>)[nodeArch] ?? nodeArch;
}

/** Platform in the Go spelling (`linux`, `darwin`, `windows`). */
export function goOs(platform: NodeJS.Platform): string {
  return platform === 'win32' ? 'windows' : platform;
}

export function localHostname(): string {
  return osHostname();
}
