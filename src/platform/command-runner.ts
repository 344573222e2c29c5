/**
 * The one place in ztna that starts external programs.
 *
 * Invariants (STYLE principle 2; enforced by the lint rule in eslint.config.js):
 * - Programs are named by an allow-listed id, never by a path the caller builds; the id
 *   maps to absolute candidate paths per OS (collectors/allowed-commands.ts) and the
 *   first one that exists is run. No shell, no PATH lookup.
 * - Every run has a timeout; on expiry the process (and its children) are killed.
 * - POSIX programs run with LC_ALL=C / LANG=C / LANGUAGE= so their output is not
 *   localized (ufw, for one, translates its status line through LANGUAGE).
 * - node:child_process is used directly rather than execa: the runner needs only spawn,
 *   a bounded buffer and a process-group kill, and loading execa measured 38 ms — more
 *   than the bare Node start the CLI's startup budget is measured against.
 * - Running never throws for what the program did: a non-zero exit, a timeout, a
 *   missing binary or a permission error are all described in the result, so a
 *   collector can answer "unknown" with evidence instead of crashing.
 */
import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';

export interface CommandSpec {
  /** Absolute candidate paths per platform, tried in order. */
  readonly paths: Partial<Record<NodeJS.Platform, readonly string[]>>;
  /** Default timeout for this program, in milliseconds. */
  readonly timeoutMs?: number;
}

export type CommandFailure = 'not_found' | 'timeout' | 'permission_denied' | 'spawn_error';

export interface CommandResult {
  /** The argv actually run (absolute path first), or the id and args when nothing ran. */
  readonly argv: readonly string[];
  /** Exit code; null when the program did not run to completion. */
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
  /** Set when the program could not be run or did not finish. */
  readonly failure?: CommandFailure;
  /** Human-readable description of `failure`. */
  readonly failureMessage?: string;
}

export interface RunOptions {
  readonly timeoutMs?: number;
  /** Text written to the program's standard input. */
  readonly input?: string;
}

/** A long-running program (a server under test, a benchmark target). */
export interface RunningProcess {
  readonly pid: number;
  readonly argv: readonly string[];
  /** Everything the program printed so far. */
  readonly output: { stdout: string; stderr: string };
  /** Resolves with the first stdout line matching `pattern` (rejects on exit or timeout). */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Sends `signal` (default SIGTERM) and resolves with the exit code; SIGKILL after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
  /** Resolves when the program exits, with its exit code. */
  readonly exited: Promise<number | null>;
}

export interface CommandRunner {
  run(command: string, args: readonly string[], options?: RunOptions): Promise<CommandResult>;
  /** Starts an allow-listed program without waiting for it; the caller must stop it. */
  start(command: string, args: readonly string[], options?: { env?: NodeJS.ProcessEnv }): Promise<RunningProcess>;
  /** The absolute path the id resolves to on this machine, or null when none exists. */
  resolve(command: string): Promise<string | null>;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** Output beyond this is cut: a collector never needs more, and a runaway tool cannot exhaust memory. */
const MAX_OUTPUT_BYTES = 8 * 1024 * 1024;

export interface CommandRunnerOptions {
  readonly allowList: Readonly<Record<string, CommandSpec>>;
  readonly platform?: NodeJS.Platform;
  readonly env?: NodeJS.ProcessEnv;
  readonly now?: () => number;
}

export function createCommandRunner(options: CommandRunnerOptions): CommandRunner {
  const platform = options.platform ?? process.platform;
  const baseEnv = options.env ?? process.env;
  const now = options.now ?? (() => performance.now());
  const resolved = new Map<string, Promise<string | null>>();

  const resolve = (command: string): Promise<string | null> => {
    let pending = resolved.get(command);
    if (!pending) {
      pending = resolveExecutable(options.allowList[command], platform);
      resolved.set(command, pending);
    }
    return pending;
  };

  const env = platform === 'win32' ? { ...baseEnv } : { ...baseEnv, LC_ALL: 'C', LANG: 'C', LANGUAGE: '' };

  installExitHook();
  return {
    resolve,
    async start(command, args, startOptions = {}) {
      const path = await resolve(command);
      if (path === null) throw new Error(`cannot start "${command}": ${options.allowList[command] ? 'not installed' : 'not in the allow-list'}`);
      return startLongRunning(path, args, { ...env, ...(startOptions.env ?? {}) }, platform !== 'win32');
    },
    async run(command, args, runOptions = {}) {
      const spec = options.allowList[command];
      if (!spec) {
        // A programming error, not a host condition: fail loudly.
        throw new Error(`command "${command}" is not in the allow-list`);
      }
      const started = now();
      const path = await resolve(command);
      if (path === null) {
        const candidates = spec.paths[platform] ?? [];
        return {
          argv: [command, ...args],
          exitCode: null,
          stdout: '',
          stderr: '',
          durationMs: now() - started,
          failure: 'not_found',
          failureMessage:
            candidates.length > 0 ? `not installed (looked for ${candidates.join(', ')})` : `not available on ${platform}`,
        };
      }
      const timeoutMs = runOptions.timeoutMs ?? spec.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const outcome = await spawnBounded(path, args, { env, timeoutMs, input: runOptions.input, ownGroup: platform !== 'win32' });
      const base = { argv: [path, ...args], stdout: outcome.stdout, stderr: outcome.stderr, durationMs: now() - started };
      if (outcome.timedOut) {
        return { ...base, exitCode: null, failure: 'timeout', failureMessage: `timed out after ${timeoutMs} ms` };
      }
      if (outcome.spawnError) {
        const code = outcome.spawnError.code;
        const failure: CommandFailure =
          code === 'EACCES' || code === 'EPERM' ? 'permission_denied' : code === 'ENOENT' ? 'not_found' : 'spawn_error';
        return { ...base, exitCode: null, failure, failureMessage: outcome.spawnError.message };
      }
      if (outcome.exitCode === null) {
        return { ...base, exitCode: null, failure: 'spawn_error', failureMessage: `killed by ${outcome.signal ?? 'a signal'}` };
      }
      return { ...base, exitCode: outcome.exitCode };
    },
  };
}

function startLongRunning(path: string, args: readonly string[], env: NodeJS.ProcessEnv, ownGroup: boolean): RunningProcess {
  const child = spawn(path, [...args], { env, shell: false, detached: ownGroup, windowsHide: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  const lineWaiters = new Set<(text: string) => void>();
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output.stdout += chunk;
    for (const waiter of lineWaiters) waiter(output.stdout);
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    output.stderr += chunk;
  });
  if (child.pid !== undefined && ownGroup) liveGroups.add(child.pid);
  const exited = new Promise<number | null>((resolveExit) => {
    child.once('error', () => resolveExit(null));
    child.once('close', (code) => {
      if (child.pid !== undefined) liveGroups.delete(child.pid);
      resolveExit(code);
    });
  });
  return {
    pid: child.pid ?? -1,
    argv: [path, ...args],
    output,
    exited,
    waitForLine(pattern, timeoutMs = 15_000) {
      return new Promise((resolveLine, reject) => {
        const check = (text: string) => {
          for (const line of text.split('\n')) {
            const match = pattern.exec(line);
            if (match) {
              done();
              resolveLine(match);
              return;
            }
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; stderr: ${output.stderr.slice(-2000)}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          lineWaiters.delete(check);
        };
        void exited.then((code) => {
          done();
          reject(new Error(`exited with ${code} before printing ${pattern}; stderr: ${output.stderr.slice(-2000)}`));
        });
        lineWaiters.add(check);
        check(output.stdout);
      });
    },
    async stop(signal = 'SIGTERM', graceMs = 5_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => killTree(child, ownGroup), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Process groups still running; killed if ztna itself exits first (Ctrl-C, a crash). */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const pid of liveGroups) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });
}

interface SpawnOutcome {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  spawnError?: NodeJS.ErrnoException;
}

/** Spawns without a shell, buffers at most MAX_OUTPUT_BYTES per stream, kills the group on timeout. */
function spawnBounded(
  path: string,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; timeoutMs: number; input: string | undefined; ownGroup: boolean },
): Promise<SpawnOutcome> {
  return new Promise((resolve) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const sizes = { stdout: 0, stderr: 0 };
    let timedOut = false;
    let settled = false;
    const child = spawn(path, [...args], {
      env: options.env,
      shell: false,
      // POSIX: the program leads its own process group, so a timeout kills everything it
      // started (a shell's `sleep` would otherwise keep the pipes open past the timeout).
      detached: options.ownGroup,
      windowsHide: true,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const pid = child.pid;
    if (pid !== undefined && options.ownGroup) liveGroups.add(pid);
    const collect = (stream: 'stdout' | 'stderr', chunks: Buffer[]) => (chunk: Buffer) => {
      if (sizes[stream] >= MAX_OUTPUT_BYTES) return;
      sizes[stream] += chunk.length;
      chunks.push(chunk);
    };
    child.stdout?.on('data', collect('stdout', stdout));
    child.stderr?.on('data', collect('stderr', stderr));
    if (options.input !== undefined) {
      child.stdin?.on('error', () => {
        // The program exited without reading its input; its exit status tells the story.
      });
      child.stdin?.end(options.input);
    }
    const timer = setTimeout(() => {
      timedOut = true;
      killTree(child, options.ownGroup);
    }, options.timeoutMs);
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null, spawnError?: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (pid !== undefined) liveGroups.delete(pid);
      resolve({
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        exitCode,
        signal,
        timedOut,
        ...(spawnError ? { spawnError } : {}),
      });
    };
    child.once('error', (error: NodeJS.ErrnoException) => finish(null, null, error));
    child.once('close', (code, signal) => finish(code, signal));
  });
}

function killTree(subprocess: { pid?: number | undefined; kill: (signal?: NodeJS.Signals) => boolean }, ownGroup: boolean): void {
  if (ownGroup && subprocess.pid !== undefined) {
    try {
      process.kill(-subprocess.pid, 'SIGKILL');
      return;
    } catch {
      // The group is gone already; fall through to the direct kill.
    }
  }
  subprocess.kill('SIGKILL');
}

async function resolveExecutable(spec: CommandSpec | undefined, platform: NodeJS.Platform): Promise<string | null> {
  for (const candidate of spec?.paths[platform] ?? []) {
    const path = platform === 'win32' ? expandWindowsVariables(candidate) : candidate;
    try {
      await access(path, platform === 'win32' ? constants.F_OK : constants.X_OK);
      return path;
    } catch {
      // Not here (or not executable): try the next candidate. Absence is reported by the caller.
    }
  }
  return null;
}

/** `%SystemRoot%\System32\...` → `C:\Windows\System32\...`; an unset variable stays as written. */
export function expandWindowsVariables(path: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.replace(/%([^%]+)%/g, (whole, name: string) => {
    const key = Object.keys(env).find((k) => k.toLowerCase() === name.toLowerCase());
    return key ? (env[key] ?? whole) : whole;
  });
}
