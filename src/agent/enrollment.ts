/**
 * The agent's enrollment (server URL, machine id, node key) and the daemon's persisted
 * state, as two JSON files in the config directory written atomically with mode 0600.
 * The node key is a secret: it is never logged or printed.
 */
import { randomBytes } from 'node:crypto';
import { chmod, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ZtnaError } from '../shared/errors.ts';
import type { AgentMachine } from './state-machine.ts';
import { ensureConfigDir } from './paths.ts';

export interface Enrollment {
  readonly server_url: string;
  readonly machine_id: string;
  readonly node_key: string;
  readonly hostname: string;
  readonly enrolled_at: string;
}

/** Five string fields; checked by hand because zod would add 6 MB to the daemon. */
function isEnrollment(value: unknown): value is Enrollment {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return ['server_url', 'machine_id', 'node_key', 'hostname', 'enrolled_at'].every((key) => typeof record[key] === 'string' && (key === 'hostname' || record[key] !== ''));
}

export interface PersistedState {
  readonly pid: number;
  readonly updated_at: string;
  readonly machine: AgentMachine;
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

/** The parsed file, or null when it does not exist; a clear error when it is corrupt. */
async function readJson(dir: string, name: string): Promise<unknown> {
  const path = join(dir, `${name}.json`);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'EACCES' || code === 'EPERM') throw new ZtnaError('runtime', `no permission to read ${path}: run as the user who enrolled (or root for the service)`, { cause: error });
    throw error;
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ZtnaError('runtime', `${path} is corrupt (${(error as Error).message}); remove it and run \`ztna up\` again`, { cause: error });
  }
}

export async function readEnrollment(dir: string): Promise<Enrollment | null> {
  const value = await readJson(dir, 'enrollment');
  if (value === null) return null;
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
  await rm(join(dir, 'enrollment.json'), { force: true });
  await rm(join(dir, 'state.json'), { force: true });
  return existed;
}

export async function readState(dir: string): Promise<PersistedState | null> {
  return (await readJson(dir, 'state')) as PersistedState | null;
}

export async function writeState(dir: string, state: PersistedState): Promise<void> {
  await writeJson(dir, 'state', state);
}
