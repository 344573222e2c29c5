/**
 * The agent's enrollment (server URL, machine id, node key) and the daemon's persisted
 * state, as two JSON files in the config directory written atomically with mode 0600.
 * The node key is a secret: it is never logged or printed.
 *
 * Reading either file never fails with a raw error: whatever is wrong (missing
 * permission, a directory in its place, corrupt or wrong-typed JSON) becomes a ZtnaError
 * that names the file and says what to do. An enrollment file that other users can read
 * is refused, as ssh refuses a private key file with such a mode: its node key may have
 * been copied, and the person must decide whether to rotate it.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { chmod, open, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ZtnaError } from '../shared/errors.ts';
import type { AgentMachine } from './state-machine.ts';
import { MAX_INTERVAL_S } from './state-machine.ts';
import { ensureConfigDir } from './paths.ts';

export interface Enrollment {
  readonly server_url: string;
  readonly machine_id: string;
  readonly node_key: string;
  readonly hostname: string;
  readonly enrolled_at: string;
  /**
   * The tags the server gave the machine at registration (SPEC 7.1), when it said (SPEC 7.3
   * targeting in `ztna posture check`); absent in enrollments made with older servers or agents.
   */
  readonly tags?: readonly string[];
}

const isStringList = (value: unknown): value is string[] => Array.isArray(value) && value.every((item) => typeof item === 'string');

/** Five string fields, the server's an http(s) URL; checked by hand because zod would add 6 MB to the daemon. */
function isEnrollment(value: unknown): value is Enrollment {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  const fields = ['server_url', 'machine_id', 'node_key', 'hostname', 'enrolled_at'].every((key) => typeof record[key] === 'string' && (key === 'hostname' || record[key] !== ''));
  if (record.tags !== undefined && !isStringList(record.tags)) return false;
  // A server_url that is not a URL would otherwise surface as a TypeError from node:http.
  return fields && /^https?:\/\/[^/]/.test(record.server_url as string) && URL.canParse(record.server_url as string);
}

export interface PersistedState {
  readonly pid: number;
  readonly updated_at: string;
  readonly machine: AgentMachine;
}

const STATES = ['DISCONNECTED', 'CONNECTED', 'QUARANTINE', 'COMPLIANT'];

/**
 * The fields of AgentMachine the daemon resumes from, with their types: a state file with
 * `"intervals": null` would otherwise give timers of NaN ms (a busy loop) or a crash.
 */
function isPersistedState(value: unknown): value is PersistedState {
  if (typeof value !== 'object' || value === null) return false;
  const machine = (value as Record<string, unknown>).machine as Record<string, unknown> | null | undefined;
  if (typeof machine !== 'object' || machine === null) return false;
  const intervals = machine.intervals as Record<string, unknown> | null | undefined;
  const positive = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n >= 1 && n <= MAX_INTERVAL_S * 1000;
  const countOrNull = (n: unknown) => n === null || (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0);
  const verdict = machine.lastVerdict as Record<string, unknown> | null | undefined;
  return (
    STATES.includes(machine.state as string) &&
    typeof machine.enrolled === 'boolean' &&
    typeof intervals === 'object' &&
    intervals !== null &&
    ['heartbeatMs', 'postureMs', 'quarantinePollMs', 'localCheckMs'].every((key) => positive(intervals[key])) &&
    typeof machine.consecutiveFailures === 'number' &&
    Number.isSafeInteger(machine.consecutiveFailures) &&
    machine.consecutiveFailures >= 0 &&
    typeof machine.serverReachable === 'boolean' &&
    countOrNull(machine.peersVersion) &&
    countOrNull(machine.lastHeartbeatAt) &&
    countOrNull(machine.lastReportAt) &&
    (machine.serverStatus === null || typeof machine.serverStatus === 'string') &&
    // Added with SPEC 7.3; a state file written by an older agent has neither.
    (machine.postureState === undefined || machine.postureState === null || typeof machine.postureState === 'string') &&
    (machine.tags === undefined || machine.tags === null || isStringList(machine.tags)) &&
    (verdict === null ||
      (typeof verdict === 'object' &&
        verdict !== undefined &&
        typeof verdict.compliant === 'boolean' &&
        typeof verdict.quarantined === 'boolean' &&
        typeof verdict.mode === 'string' &&
        Array.isArray(verdict.violations) &&
        verdict.violations.every((violation) => typeof violation === 'string')))
  );
}


/**
 * Atomic JSON files, mode 0600: written to a temporary name in the same directory, then
 * renamed over the old one, so a crash never leaves half a file. (conf does the same; it
 * measured +8 MB of resident memory in the daemon for these few lines.)
 */
async function writeJson(dir: string, name: string, value: unknown): Promise<string> {
  await ensureConfigDir(dir);
  const path = join(dir, `${name}.json`);
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
  return path;
}

/** Files larger than this are not ours (an enrollment is ~300 bytes, a state ~1 KB). */
const MAX_FILE_BYTES = 1024 * 1024;

/**
 * The parsed file, or undefined when it does not exist (a file holding `null` is not
 * "no file": it is refused by the caller's shape check); otherwise a ZtnaError naming the file
 * for anything that stops it being read. `secret`: refuse a file other users can read.
 * `remedy` says what to do about a file that is there but unusable.
 */
async function readJson(dir: string, name: string, options: { secret: boolean; remedy: string }): Promise<unknown> {
  const path = join(dir, `${name}.json`);
  let text: string;
  try {
    // One open file for the mode check and the read: the file cannot be swapped in between.
    // O_NONBLOCK: a FIFO in the file's place must not hang the CLI (it is refused below).
    const handle = await open(path, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw new ZtnaError('runtime', `${path} is not a regular file; ${options.remedy}`);
      if (options.secret && process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
        const mode = (info.mode & 0o777).toString(8).padStart(4, '0');
        throw new ZtnaError(
          'runtime',
          `${path} holds this device's node key but other users can read it (mode ${mode}); refusing to use it. Run \`chmod 600 ${path}\`, and if someone else may have copied it, \`ztna down\` and \`ztna up\` for a new key`,
        );
      }
      if (info.size > MAX_FILE_BYTES) throw new ZtnaError('runtime', `${path} is ${info.size} bytes, too large to be ztna's; ${options.remedy}`);
      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (error instanceof ZtnaError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'EACCES' || code === 'EPERM') throw new ZtnaError('runtime', `no permission to read ${path}: run as the user who enrolled (or root for the service)`, { cause: error });
    if (code === 'EISDIR') throw new ZtnaError('runtime', `${path} is a directory, not a file; ${options.remedy}`, { cause: error });
    if (code === 'ENOTDIR') throw new ZtnaError('runtime', `cannot read ${path}: ${dir} is not a directory; point ZTNA_CONFIG_DIR at a directory`, { cause: error });
    throw new ZtnaError('runtime', `cannot read ${path} (${code ?? (error as Error).message}); ${options.remedy}`, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    // V8 quotes the text around the error ('Unexpected token …, "…" is not valid JSON'):
    // for the enrollment that could be part of the node key, so only the position is kept.
    const message = (error as Error).message;
    const reason = options.secret ? `not valid JSON${/ at position \d+/.exec(message)?.[0] ?? ''}` : message;
    throw new ZtnaError('runtime', `${path} is corrupt (${reason}); ${options.remedy}`, options.secret ? {} : { cause: error });
  }
}

const ENROLLMENT_REMEDY = 'remove it (or run `ztna down`) and run `ztna up` again';
const STATE_REMEDY = 'remove it: the daemon starts from DISCONNECTED and writes a new one';

export async function readEnrollment(dir: string): Promise<Enrollment | null> {
  const value = await readJson(dir, 'enrollment', { secret: true, remedy: ENROLLMENT_REMEDY });
  if (value === undefined) return null;
  if (!isEnrollment(value)) {
    throw new ZtnaError('runtime', `${join(dir, 'enrollment.json')} does not hold a valid enrollment; run \`ztna down\` and \`ztna up\` again`);
  }
  return value;
}

export async function writeEnrollment(dir: string, enrollment: Enrollment): Promise<string> {
  return writeJson(dir, 'enrollment', enrollment);
}

export async function forgetEnrollment(dir: string): Promise<boolean> {
  const existed = (await readEnrollment(dir).catch(() => null)) !== null;
  for (const name of ['enrollment.json', 'state.json']) {
    const path = join(dir, name);
    // `ztna down` is the way out of a corrupt enrollment: it must not fail with a raw error either.
    await rm(path, { force: true }).catch((error: NodeJS.ErrnoException) => {
      throw new ZtnaError('runtime', `cannot remove ${path} (${error.code ?? error.message}); remove it by hand`, { cause: error });
    });
  }
  return existed;
}

export async function readState(dir: string): Promise<PersistedState | null> {
  const value = await readJson(dir, 'state', { secret: false, remedy: STATE_REMEDY });
  if (value === undefined) return null;
  if (!isPersistedState(value)) throw new ZtnaError('runtime', `${join(dir, 'state.json')} does not hold the agent's state; ${STATE_REMEDY}`);
  // A state file of an older agent lacks the fields added since: they are not known yet.
  return { ...value, machine: { ...value.machine, postureState: value.machine.postureState ?? null, tags: value.machine.tags ?? null } };
}

export async function writeState(dir: string, state: PersistedState): Promise<void> {
  await writeJson(dir, 'state', state);
}
