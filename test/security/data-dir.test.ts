/**
 * The server refuses a data directory, `jwt-secret` or database that others could read,
 * write or re-point (SPEC 7.1), the way the agent refuses a loose enrollment.json: real
 * `ztna-server bootstrap` runs, exit 2 and a message that says what to run. Before, the
 * server used whatever it found: a 0644 jwt-secret (anyone could mint admin tokens), a
 * symbolic link in its place (anyone who could place it chose the secret), a 0755
 * directory, or one owned by another user.
 */
import { chmodSync, chownSync, mkdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processes } from './processes.ts';

const procs = processes('data-dir');
afterAll(() => procs.stopAll());

let n = 0;
/** A fresh data directory that the server has initialised (so jwt-secret and ztna.db exist). */
async function initialised(): Promise<string> {
  const dir = join(procs.work, `data-${n++}`);
  const ok = await procs.run('ztna-server', ['bootstrap', '--data', dir, '--json']);
  expect(ok.exitCode, ok.stderr).toBe(0);
  return dir;
}
const bootstrap = (dir: string) => procs.run('ztna-server', ['bootstrap', '--data', dir, '--json']);

describe.runIf(process.platform !== 'win32')('ztna-server and its data directory', () => {
  it('creates the directory 0700 and jwt-secret and ztna.db 0600, and uses them again', async () => {
    const dir = await initialised();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'jwt-secret')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'ztna.db')).mode & 0o777).toBe(0o600);
    expect((await bootstrap(dir)).exitCode).toBe(0);
  });

  it.each([
    ['a directory others can enter (0755)', (dir: string) => chmodSync(dir, 0o755), /is open to other users \(mode 0755\).*chmod 700/],
    ['a directory others can write (0777)', (dir: string) => chmodSync(dir, 0o777), /is open to other users \(mode 0777\)/],
    ['a jwt-secret others can read (0644)', (dir: string) => chmodSync(join(dir, 'jwt-secret'), 0o644), /jwt-secret is readable or writable by other users \(mode 0644\).*chmod 600/],
    ['a database others can read (0644)', (dir: string) => chmodSync(join(dir, 'ztna.db'), 0o644), /ztna\.db is readable or writable by other users/],
    [
      'a jwt-secret that is a symbolic link',
      (dir: string) => {
        const elsewhere = join(procs.work, `attacker-secret-${n++}`);
        writeFileSync(elsewhere, `${'x'.repeat(64)}\n`, { mode: 0o600 });
        const secret = join(dir, 'jwt-secret');
        rmSync(secret);
        symlinkSync(elsewhere, secret);
      },
      /jwt-secret is a symbolic link; refusing to follow it/,
    ],
  ])('refuses %s: exit 2, nothing used', async (_what, spoil, message) => {
    const dir = await initialised();
    spoil(dir);
    const result = await bootstrap(dir);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
  });

  it('refuses a data directory that is a symbolic link', async () => {
    const dir = await initialised();
    const link = join(procs.work, `link-${n++}`);
    symlinkSync(dir, link);
    const result = await bootstrap(link);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/is a symbolic link; give its real path/);
  });

  it.runIf(process.geteuid?.() === 0)('refuses a data directory owned by another user', async () => {
    const dir = join(procs.work, `foreign-${n++}`);
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, 1000, 1000);
    const result = await bootstrap(dir);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/belongs to uid 1000, not to the user running ztna-server \(uid 0\)/);
  });

  it('serve refuses the same way, before listening', async () => {
    const dir = await initialised();
    chmodSync(join(dir, 'jwt-secret'), 0o640);
    const result = await procs.run('ztna-server', ['serve', '--listen', '127.0.0.1:0', '--data', dir]);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).not.toMatch(/listening/);
    expect(result.stderr).toMatch(/jwt-secret is readable or writable by other users \(mode 0640\)/);
  });
});
