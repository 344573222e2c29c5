/**
 * A record of everything the collectors asked of the machine — each command with its full
 * output and exit code, each file read (bytes), each directory listed, each stat, each
 * program looked up, each environment variable read — and the replay of such a record as
 * the machine itself. `ztna bugreport` writes one; `ztna posture status --local --replay`
 * evaluates one anywhere, so a user on an unusual machine can send what the agent saw,
 * and a bundle from a real Mac or PC becomes a test fixture in one step.
 *
 * Invariants:
 * - Recording wraps the real command runner and file system; the collectors run unchanged.
 * - Replay answers exactly what was recorded, in the order it was recorded (a command run
 *   twice answers its two results in turn); anything never asked is "not installed" /
 *   "missing", as on a host without it. The recorded clock is the replay's clock, so a
 *   replay computes the same patch age years later.
 * - Text is passed through redactSecrets (ztna keys and JWTs) before it is written; file
 *   contents are stored as base64 (plists can be binary) and redacted when they are text.
 */
import { isUtf8 } from 'node:buffer';
import type { CommandResult, CommandRunner, RunOptions } from '../platform/command-runner.ts';
import type { DirList, FileFailure, FileStat, FileSystem } from '../platform/file-system.ts';
import { redactSecrets } from '../shared/secrets.ts';

export const PROBE_LOG_VERSION = 1;

interface RecordedCommand {
  readonly key: string;
  readonly argv: readonly string[];
  readonly exit_code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly duration_ms: number;
  readonly failure?: CommandResult['failure'];
  readonly failure_message?: string;
}

type RecordedRead = { readonly ok: true; readonly base64: string; readonly mtime_ms: number } | { readonly ok: false; readonly failure: FileFailure; readonly message: string };

export interface ProbeLog {
  readonly version: number;
  /** When the collectors ran: the replay's clock. */
  readonly recorded_at: string;
  readonly platform: NodeJS.Platform;
  readonly arch: string;
  readonly hostname: string;
  readonly privileged: boolean;
  readonly agent_version: string;
  readonly commands: RecordedCommand[];
  readonly resolved: Record<string, string | null>;
  readonly reads: Record<string, RecordedRead[]>;
  readonly lists: Record<string, DirList>;
  readonly stats: Record<string, FileStat>;
  readonly env: Record<string, string | null>;
}

const commandKey = (command: string, args: readonly string[]) => [command, ...args].join(' ');

/** Text safe to hand to someone else: no ztna key, no token. */
const redact = (text: string) => redactSecrets(text);

function redactBytes(data: Buffer): Buffer {
  if (!isUtf8(data)) return data;
  const text = data.toString('utf8');
  const clean = redact(text);
  return clean === text ? data : Buffer.from(clean, 'utf8');
}

export interface Recorder {
  readonly runner: CommandRunner;
  readonly fileSystem: FileSystem;
  readonly env: (name: string) => string | undefined;
  /** The log so far (call after the collectors finished). */
  log(meta: Pick<ProbeLog, 'recorded_at' | 'platform' | 'arch' | 'hostname' | 'privileged' | 'agent_version'>): ProbeLog;
}

/** Wraps the real runner and file system; every answer they give is kept, redacted. */
export function recordProbes(runner: CommandRunner, fileSystem: FileSystem, env: (name: string) => string | undefined): Recorder {
  const commands: RecordedCommand[] = [];
  const resolved: Record<string, string | null> = {};
  const reads: Record<string, RecordedRead[]> = {};
  const lists: Record<string, DirList> = {};
  const stats: Record<string, FileStat> = {};
  const envSeen: Record<string, string | null> = {};
  return {
    runner: {
      async run(command: string, args: readonly string[], options?: RunOptions) {
        const result = await runner.run(command, args, options);
        commands.push({
          key: redact(commandKey(command, args)),
          argv: result.argv.map(redact),
          exit_code: result.exitCode,
          stdout: redact(result.stdout),
          stderr: redact(result.stderr),
          duration_ms: Math.round(result.durationMs * 10) / 10,
          ...(result.failure === undefined ? {} : { failure: result.failure, failure_message: redact(result.failureMessage ?? '') }),
        });
        return result;
      },
      start: (command, args, options) => runner.start(command, args, options),
      async resolve(command: string) {
        const path = await runner.resolve(command);
        resolved[command] = path;
        return path;
      },
    },
    fileSystem: {
      async read(path, options) {
        const result = await fileSystem.read(path, options);
        (reads[path] ??= []).push(result.ok ? { ok: true, base64: redactBytes(result.data).toString('base64'), mtime_ms: result.mtimeMs } : { ok: false, failure: result.failure, message: redact(result.message) });
        return result;
      },
      async list(path) {
        const result = await fileSystem.list(path);
        lists[path] = result.ok ? result : { ...result, message: redact(result.message) };
        return result;
      },
      async stat(path) {
        const result = await fileSystem.stat(path);
        stats[path] = result;
        return result;
      },
    },
    env(name) {
      const value = env(name);
      envSeen[name] = value === undefined ? null : redact(value);
      return value;
    },
    log: (meta) => ({ version: PROBE_LOG_VERSION, ...meta, commands, resolved, reads, lists, stats, env: envSeen }),
  };
}

/** A runner, file system and environment that answer from a recorded log. */
export function replayProbes(log: ProbeLog): { runner: CommandRunner; fileSystem: FileSystem; env: (name: string) => string | undefined } {
  const pending = new Map<string, RecordedCommand[]>();
  for (const command of log.commands) pending.set(command.key, [...(pending.get(command.key) ?? []), command]);
  const nextOf = <T>(queue: T[] | undefined): T | undefined => (queue === undefined || queue.length === 0 ? undefined : queue.length === 1 ? queue[0] : queue.shift());
  const readQueues = new Map(Object.entries(log.reads).map(([path, list]) => [path, [...list]]));
  return {
    runner: {
      async run(command, args) {
        const recorded = nextOf(pending.get(commandKey(command, args)));
        if (!recorded) {
          return { argv: [command, ...args], exitCode: null, stdout: '', stderr: '', durationMs: 0, failure: 'not_found', failureMessage: 'not run when the bundle was recorded' };
        }
        return {
          argv: recorded.argv,
          exitCode: recorded.exit_code,
          stdout: recorded.stdout,
          stderr: recorded.stderr,
          durationMs: recorded.duration_ms,
          ...(recorded.failure === undefined ? {} : { failure: recorded.failure, failureMessage: recorded.failure_message ?? '' }),
        };
      },
      async start() {
        throw new Error('a replayed bundle starts no program');
      },
      resolve: async (command) => log.resolved[command] ?? null,
    },
    fileSystem: {
      async read(path) {
        const recorded = nextOf(readQueues.get(path));
        if (!recorded) return { ok: false, path, failure: 'missing', message: 'not read when the bundle was recorded' };
        return recorded.ok ? { ok: true, path, data: Buffer.from(recorded.base64, 'base64'), mtimeMs: recorded.mtime_ms } : { ok: false, path, failure: recorded.failure, message: recorded.message };
      },
      list: async (path) => log.lists[path] ?? { ok: false, path, failure: 'missing', message: 'not listed when the bundle was recorded' },
      stat: async (path) => log.stats[path] ?? { exists: false, isDirectory: false, mtimeMs: 0 },
    },
    env: (name) => log.env[name] ?? undefined,
  };
}

/** Whether a parsed JSON value is a probe log this version can replay (shape check, no zod in the agent). */
export function isProbeLog(value: unknown): value is ProbeLog {
  if (typeof value !== 'object' || value === null) return false;
  const log = value as Record<string, unknown>;
  const isRecord = (entry: unknown) => typeof entry === 'object' && entry !== null && !Array.isArray(entry);
  return (
    log.version === PROBE_LOG_VERSION &&
    typeof log.recorded_at === 'string' &&
    !Number.isNaN(Date.parse(log.recorded_at)) &&
    ['linux', 'darwin', 'win32'].includes(log.platform as string) &&
    typeof log.privileged === 'boolean' &&
    Array.isArray(log.commands) &&
    log.commands.every((command) => isRecord(command) && typeof (command as RecordedCommand).key === 'string' && typeof (command as RecordedCommand).stdout === 'string' && typeof (command as RecordedCommand).stderr === 'string' && Array.isArray((command as RecordedCommand).argv)) &&
    [log.resolved, log.reads, log.lists, log.stats, log.env].every(isRecord) &&
    Object.values(log.reads as Record<string, unknown>).every((list) => Array.isArray(list) && list.every((read) => isRecord(read) && ((read as { ok?: unknown }).ok === true ? typeof (read as { base64?: unknown }).base64 === 'string' : typeof (read as { message?: unknown }).message === 'string')))
  );
}
