/**
 * The agent's enrollment (server URL, machine id, node key) and the daemon's persisted
 * state, as two JSON files in the config directory written atomically with mode 0600
 * (conf: temp file + rename). The node key is a secret: it is never logged or printed.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ZtnaError } from '../shared/errors.ts';
import type ConfType from 'conf';
import type { AgentMachine } from './state-machine.ts';
import { ensureConfigDir } from './paths.ts';

const enrollmentSchema = z.object({
  server_url: z.string().url(),
  machine_id: z.string().min(1),
  node_key: z.string().min(1),
  hostname: z.string(),
  enrolled_at: z.string(),
});

export type Enrollment = z.infer<typeof enrollmentSchema>;

export interface PersistedState {
  readonly pid: number;
  readonly updated_at: string;
  readonly machine: AgentMachine;
}


async function store(dir: string, name: string) {
  await ensureConfigDir(dir);
  const { default: Conf } = (await import('conf')) as { default: typeof ConfType };
  try {
    return new Conf<Record<string, unknown>>({ cwd: dir, configName: name, configFileMode: 0o600, projectSuffix: '', clearInvalidConfig: false });
  } catch (error) {
    throw new ZtnaError('runtime', `${join(dir, `${name}.json`)} is unreadable or corrupt (${(error as Error).message}); remove it and run \`ztna up\` again`, { cause: error });
  }
}

export async function readEnrollment(dir: string): Promise<Enrollment | null> {
  const conf = await store(dir, 'enrollment');
  if (conf.size === 0) return null;
  const parsed = enrollmentSchema.safeParse(conf.store);
  if (!parsed.success) {
    throw new ZtnaError('runtime', `${conf.path} does not hold a valid enrollment; run \`ztna down\` and \`ztna up\` again`);
  }
  return parsed.data;
}

export async function writeEnrollment(dir: string, enrollment: Enrollment): Promise<string> {
  const conf = await store(dir, 'enrollment');
  conf.store = enrollment;
  return conf.path;
}

export async function forgetEnrollment(dir: string): Promise<boolean> {
  const existed = (await readEnrollment(dir).catch(() => null)) !== null;
  await rm(join(dir, 'enrollment.json'), { force: true });
  await rm(join(dir, 'state.json'), { force: true });
  return existed;
}

export async function readState(dir: string): Promise<PersistedState | null> {
  const conf = await store(dir, 'state');
  return conf.size === 0 ? null : (conf.store as unknown as PersistedState);
}

export async function writeState(dir: string, state: PersistedState): Promise<void> {
  const conf = await store(dir, 'state');
  conf.store = state as unknown as Record<string, unknown>;
}
