/**
 * Where the agent keeps what it writes (SPEC section 5): per-user by default,
 * `ZTNA_CONFIG_DIR` overrides it — then everything the agent writes (enrollment, state,
 * later the local socket) lives under that directory. The directory is created 0700.
 */
import { mkdir, chmod } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

export function configDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.ZTNA_CONFIG_DIR) return env.ZTNA_CONFIG_DIR;
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'ztna');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'ztna');
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'ztna');
}

export async function ensureConfigDir(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (process.platform !== 'win32') await chmod(dir, 0o700);
  return dir;
}
