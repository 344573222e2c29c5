/**
 * The collector model: one collector per signal per platform; each answers a value or
 * `null` ("could not tell"), always with evidence saying what was run or read, what was
 * seen, and why the answer is what it is.
 *
 * Collectors never touch `node:child_process` or `node:fs` themselves: they get a
 * `ProbeContext` whose `run` goes through the allow-listed command runner and whose file
 * reads go through an injectable file system. The context records every command and
 * file it served, so evidence is complete without each collector bookkeeping it.
 *
 * The parsing of each tool's output lives in collectors/parsers/ as pure functions that
 * turn text into a `Finding`, so every platform's parsers are tested on every OS.
 */
import type { CommandResult, RunOptions } from '../src/platform/command-runner.ts';
import type { DirList, FileRead, FileStat } from '../src/platform/file-system.ts';
import type { SignalKey, SignalValue } from '../src/shared/signals.ts';

/** The signals are the catalogue's (src/shared/signals.ts): a platform answers every one of them. */
export type { SignalKey, SignalValue } from '../src/shared/signals.ts';
export { SIGNAL_KEYS } from '../src/shared/signals.ts';

/**
 * Why a value is null (or, for some, why it is false). Stable codes, so a server or a
 * script can tell "needs root" from "the tool printed something we do not understand".
 */
export type ReasonCode =
  | 'needs_privilege'
  | 'tool_missing'
  | 'timeout'
  | 'command_failed'
  | 'unparsed_output'
  | 'empty_output'
  | 'not_applicable'
  | 'no_history'
  | 'collector_error'
  | (string & {});

/** What a parser or a collector concludes about one signal. */
export interface Finding<T> {
  readonly value: T | null;
  /** Stable code; required when `value` is null. */
  readonly reason?: ReasonCode;
  /** One sentence a person can read: what was seen and why that means `value`. */
  readonly detail: string;
  /** The probe that decided, e.g. `fdesetup`, `sysfs`, `nft`. */
  readonly method: string;
  /** Parsed facts worth keeping (versions, states, product names). Never secrets. */
  readonly facts?: Readonly<Record<string, unknown>>;
}

/** One command run or file read during a collection, as recorded in the evidence. */
export interface Observation {
  readonly command?: readonly string[];
  readonly exit_code?: number | null;
  readonly file?: string;
  readonly failure?: string;
  /** A bounded excerpt of what came back (stdout, then stderr), or a summary for files. */
  readonly seen: string;
  readonly duration_ms?: number;
}

export interface SignalEvidence {
  readonly method: string;
  readonly reason?: ReasonCode;
  readonly detail: string;
  readonly facts?: Readonly<Record<string, unknown>>;
  readonly observations: readonly Observation[];
  readonly duration_ms: number;
  /** Whether the agent ran with root/Administrator rights (a null may depend on it). */
  readonly privileged: boolean;
}

export interface SignalResult<T> {
  readonly value: T | null;
  readonly evidence: SignalEvidence;
}

/** Everything a collector may use to look at the host. */
export interface ProbeContext {
  readonly platform: NodeJS.Platform;
  readonly privileged: boolean;
  now(): Date;
  /** Environment values a collector may need (e.g. Windows `SystemDrive`). */
  env(name: string): string | undefined;
  run(command: string, args: readonly string[], options?: RunOptions): Promise<CommandResult>;
  /** Whether an allow-listed program is installed here (nothing is run). */
  has(command: string): Promise<boolean>;
  /** `quiet`: do not record the read as evidence (bulk reads such as /proc/<pid>/comm). */
  read(path: string, options?: { maxBytes?: number; quiet?: boolean }): Promise<FileRead>;
  list(path: string): Promise<DirList>;
  stat(path: string): Promise<FileStat>;
}

export interface Collector<K extends SignalKey> {
  readonly signal: K;
  collect(context: ProbeContext): Promise<Finding<SignalValue<K>>>;
}

export type PlatformCollectors = { readonly [K in SignalKey]: Collector<K> };

/** Shorthand constructors used by parsers and collectors. */
export function known<T>(value: T, method: string, detail: string, facts?: Record<string, unknown>): Finding<T> {
  return facts === undefined ? { value, method, detail } : { value, method, detail, facts };
}

export function unknown<T = never>(
  reason: ReasonCode,
  method: string,
  detail: string,
  facts?: Record<string, unknown>,
): Finding<T> {
  return facts === undefined ? { value: null, reason, method, detail } : { value: null, reason, method, detail, facts };
}

/**
 * The unknown finding for a command that did not produce usable output: missing tool,
 * timeout, permission error, or a non-zero exit. Returns null when the command ran and
 * exited 0, so the caller goes on to parse it.
 */
export function commandProblem<T = never>(result: CommandResult, method: string): Finding<T> | null {
  const what = result.argv.join(' ');
  switch (result.failure) {
    case 'not_found':
      return unknown('tool_missing', method, `${result.argv[0]} is ${result.failureMessage ?? 'not installed'}`);
    case 'timeout':
      return unknown('timeout', method, `\`${what}\` ${result.failureMessage ?? 'timed out'}`);
    case 'permission_denied':
      return unknown('needs_privilege', method, `not allowed to run \`${what}\`: ${result.failureMessage ?? ''}`.trim());
    case 'spawn_error':
      return unknown('command_failed', method, `could not run \`${what}\`: ${result.failureMessage ?? ''}`.trim());
    case undefined:
      break;
  }
  if (result.exitCode !== 0) {
    const message = firstLine(result.stderr) || firstLine(result.stdout) || 'no output';
    return unknown('command_failed', method, `\`${what}\` exited with ${result.exitCode}: ${message}`);
  }
  return null;
}

/** Keeps quoted tool output short enough for a one-sentence detail. */
export function clip(text: string, max = 120): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export function firstLine(text: string): string {
  return text.trim().split(/\r?\n/, 1)[0]?.trim() ?? '';
}
