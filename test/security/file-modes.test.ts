/**
 * What the server and the agent write is private to their user, whatever the umask:
 * - server: the data directory 0700, `jwt-secret` and the SQLite file (and its -wal/-shm)
 *   0600 — created by `serve`, by `bootstrap` and by `migrate` on a fresh directory;
 *   with ZTNA_JWT_SECRET set, no secret file is written at all;
 * - agent: the config directory 0700 (tightened if it already existed wider),
 *   `enrollment.json` and `state.json` 0600, the daemon's socket 0600, no temporary
 *   files left behind.
 * Each check runs with the usual umask 022 and with a permissive umask 000 (set by
 * /bin/sh, which then execs the program: `sh -c 'umask 000 && exec "$0" "$@"' …`). The
 * bundles are run directly by the pinned Node, so no rebuild happens under umask 000.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createCommandRunner } from '../../src/platform/command-runner.ts';
import type { CommandResult, RunningProcess } from '../../src/platform/command-runner.ts';
import { ROOT } from '../support/cli.ts';
import { processes, waitFor } from './processes.ts';

const procs = processes('file-modes');
const NODE = join(ROOT, 'node_modules/node/bin/node');
const BUNDLE = { 'ztna-server': join(ROOT, 'dist/bundle/ztna-server.js'), ztna: join(ROOT, 'dist/bundle/ztna.js') };
const runner = createCommandRunner({
  platform: process.platform,
  env: { ...process.env, NO_COLOR: '1' },
  allowList: { sh: { paths: { linux: ['/bin/sh'], darwin: ['/bin/sh'] }, timeoutMs: 60_000 } },
});
const started: RunningProcess[] = [];
afterAll(async () => {
  for (const running of started) await running.stop('SIGTERM', 5_000);
  await procs.stopAll();
});

const underUmask = (mask: string, program: keyof typeof BUNDLE, args: string[]) => ['-c', `umask ${mask} && exec "$0" "$@"`, NODE, BUNDLE[program], ...args];
const run = (mask: string, program: keyof typeof BUNDLE, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CommandResult> =>
  createCommandRunner({ platform: process.platform, env: { ...process.env, NO_COLOR: '1', ZTNA_JWT_SECRET: undefined, ...env }, allowList: { sh: { paths: { linux: ['/bin/sh'], darwin: ['/bin/sh'] }, timeoutMs: 60_000 } } }).run('sh', underUmask(mask, program, args));
const start = async (mask: string, program: keyof typeof BUNDLE, args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunningProcess> => {
  const running = await runner.start('sh', underUmask(mask, program, args), { env: { ZTNA_JWT_SECRET: undefined, ...env } });
  started.push(running);
  return running;
};

const mode = (path: string) => statSync(path).mode & 0o777;
let checked = 0;
afterAll(() => {
  console.log(`file-modes: ${checked} files and directories checked under umask 022 and 000, 0 readable by group or others`);
});
const octal = (value: number) => value.toString(8).padStart(4, '0');

function expectModes(dir: string, expected: Record<string, number>): void {
  for (const [name, wanted] of Object.entries(expected)) {
    const path = name === '.' ? dir : join(dir, name);
    expect(existsSync(path), `${path} exists`).toBe(true);
    expect(octal(mode(path)), path).toBe(octal(wanted));
    if (name === '.') checked += 1;
  }
  // Whatever else is there (SQLite's -wal and -shm) is private too.
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    expect(mode(path) & 0o077, `${path} is ${octal(mode(path))}`).toBe(0);
    checked += 1;
    expect(name, 'a temporary file was left behind').not.toMatch(/\.tmp$/);
  }
}

describe.runIf(process.platform !== 'win32')('file modes', () => {
  it('the umask mechanism works (control)', async () => {
    const shown = await createCommandRunner({ platform: process.platform, allowList: { sh: { paths: { linux: ['/bin/sh'], darwin: ['/bin/sh'] } } } }).run('sh', ['-c', 'umask 000 && exec "$0" "$@"', '/bin/sh', '-c', 'umask']);
    expect(shown.stdout.trim()).toMatch(/^0?000$/);
  });

  describe.each(['022', '000'])('umask %s', (mask) => {
    const base = join(procs.work, `umask-${mask}`);

    it('serve creates the data directory 0700 with jwt-secret and the database 0600', async () => {
      const data = join(base, 'serve', 'data');
      const server = await start(mask, 'ztna-server', ['serve', '--listen', '127.0.0.1:0', '--data', data, '--log-level', 'warn']);
      const [, url] = await server.waitForLine(/^listening on (http:\/\/127\.0\.0\.1:\d+)$/, 60_000);
      // Writes, so the WAL exists while it runs.
      const boot = await run(mask, 'ztna-server', ['bootstrap', '--data', data, '--json']);
      expect(boot.exitCode, boot.stderr).toBe(0);
      expect((await fetch(`${url}/api/db/machines`, { headers: { authorization: `Bearer ${JSON.parse(boot.stdout).admin_token}` } })).status).toBe(200);
      expectModes(data, { '.': 0o700, 'jwt-secret': 0o600, 'ztna.db': 0o600 });
      expect(await server.stop('SIGTERM')).toBe(0);
      expectModes(data, { '.': 0o700, 'jwt-secret': 0o600, 'ztna.db': 0o600 });
    });

    it('bootstrap and migrate on fresh directories create them 0700 with 0600 files', async () => {
      const boot = join(base, 'bootstrap');
      expect((await run(mask, 'ztna-server', ['bootstrap', '--data', boot, '--json'])).exitCode).toBe(0);
      expectModes(boot, { '.': 0o700, 'jwt-secret': 0o600, 'ztna.db': 0o600 });
      const migrated = join(base, 'migrate');
      expect((await run(mask, 'ztna-server', ['migrate', '--data', migrated])).exitCode).toBe(0);
      expectModes(migrated, { '.': 0o700, 'ztna.db': 0o600 });
    });

    it('with ZTNA_JWT_SECRET no secret file is written', async () => {
      const data = join(base, 'env-secret');
      const result = await run(mask, 'ztna-server', ['bootstrap', '--data', data, '--json'], { ZTNA_JWT_SECRET: 'x'.repeat(48) });
      expect(result.exitCode, result.stderr).toBe(0);
      expect(readdirSync(data)).not.toContain('jwt-secret');
      expectModes(data, { '.': 0o700, 'ztna.db': 0o600 });
    });

    it('the agent: config directory 0700, enrollment, state and socket 0600 — even in a directory that was 0777', async () => {
      const data = join(base, 'agent-server');
      const server = await start(mask, 'ztna-server', ['serve', '--listen', '127.0.0.1:0', '--data', data, '--log-level', 'warn']);
      const [, url] = await server.waitForLine(/^listening on (http:\/\/127\.0\.0\.1:\d+)$/, 60_000);
      const token = JSON.parse((await run(mask, 'ztna-server', ['bootstrap', '--data', data, '--json'])).stdout).admin_token;
      const created = await fetch(`${url}/api/db/auth_keys`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ description: 'modes' }) });
      const authKey = ((await created.json()) as any).data[0].key as string;

      for (const [name, prepare] of [
        ['fresh', () => undefined],
        ['was-0777', (dir: string) => {
          mkdirSync(dir, { recursive: true });
          chmodSync(dir, 0o777);
        }],
      ] as const) {
        const configDir = join(base, `agent-${name}`, 'ztna');
        prepare(configDir);
        const env = { ZTNA_CONFIG_DIR: configDir };
        const up = await run(mask, 'ztna', ['up', '--server', url as string, '--auth-key', authKey, '--hostname', `modes-${name}`, '--json'], env);
        expect(up.exitCode, up.stderr).toBe(0);
        expectModes(configDir, { '.': 0o700, 'enrollment.json': 0o600 });

        const daemon = await start(mask, 'ztna', ['daemon', '--local-check-interval', '60'], env);
        await waitFor('the daemon to persist its state and open its socket', async () => (existsSync(join(configDir, 'state.json')) && existsSync(join(configDir, 'ztna.sock')) ? true : undefined));
        expectModes(configDir, { '.': 0o700, 'enrollment.json': 0o600, 'state.json': 0o600, 'ztna.sock': 0o600 });
        expect(await daemon.stop('SIGTERM')).toBe(0);

        const down = await run(mask, 'ztna', ['down', '--json'], env);
        expect(down.exitCode, down.stderr).toBe(0);
        expect(readdirSync(configDir).filter((entry) => entry !== 'ztna.sock')).toEqual([]);
        expect(octal(mode(configDir))).toBe('0700');
      }
      expect(await server.stop('SIGTERM')).toBe(0);
    });
  });
});
