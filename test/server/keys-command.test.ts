/**
 * `ztna-server keys create | list | revoke` (SPEC 7.4) through the real process, against a
 * running server: a key made on the command line enrols a device, is listed without its
 * secret, and once revoked enrols no more. A typo in --org is refused, never a new org.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningProcess } from '../../src/platform/command-runner.ts';
import { serverRunner } from '../support/cli.ts';

const runner = serverRunner();
const data = mkdtempSync(join(tmpdir(), 'ztna-keys-'));
let server: RunningProcess | undefined;
let url = '';

const cli = (...args: string[]) => runner.run('ztna-server', [...args, '--data', data]);
const register = async (key: string, hostname: string) =>
  fetch(`${url}/api/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ auth_key: key, hostname, os: 'linux' }) });

describe.runIf(process.platform !== 'win32')('ztna-server keys', () => {
  beforeAll(async () => {
    server = await runner.start('ztna-server', ['serve', '--listen', '127.0.0.1:0', '--data', data, '--log-level', 'warn']);
    url = (await server.waitForLine(/^listening on (http:\/\/127\.0\.0\.1:\d+)$/))[1] as string;
    expect((await cli('bootstrap', '--org', 'acme', '--json')).exitCode).toBe(0);
  }, 30_000);
  afterAll(async () => {
    await server?.stop('SIGTERM');
  });

  it('create prints the key once; it enrols a device with its tags; list never shows it; revoke stops it', { timeout: 30_000 }, async () => {
    const created = await cli('keys', 'create', '--org', 'acme', '--reusable', '--expires', '30d', '--tags', 'engineering,laptops', '--description', 'laptops', '--json');
    expect(created.exitCode, created.stderr).toBe(0);
    const key = JSON.parse(created.stdout);
    expect(key).toMatchObject({ id: expect.any(String), key: expect.stringMatching(/^ztna_auth_/), reusable: true, tags: ['engineering', 'laptops'], description: 'laptops' });
    expect(Date.parse(key.expires_at) - Date.now()).toBeGreaterThan(29 * 86_400_000);

    const enrolled = await register(key.key, 'box-1');
    expect(enrolled.status).toBe(200);
    expect(((await enrolled.json()) as { tags: string[] }).tags).toEqual(['engineering', 'laptops']);

    const listed = await cli('keys', 'list', '--org', 'acme', '--json');
    expect(listed.exitCode).toBe(0);
    const keys = JSON.parse(listed.stdout);
    expect(keys).toEqual([expect.objectContaining({ id: key.id, state: 'usable', used_count: 1, reusable: true })]);
    expect(listed.stdout).not.toContain(key.key);
    expect(listed.stdout).not.toMatch(/key_hash/);
    const table = await cli('keys', 'list', '--org', 'acme');
    expect(table.stdout).toMatch(/^ID\s+STATE\s+KIND\s+EXPIRES\s+USED\s+TAGS\s+DESCRIPTION\n/);
    expect(table.stdout).toContain('reusable');

    const revoked = await cli('keys', 'revoke', key.id, '--org', 'acme');
    expect(revoked.exitCode).toBe(0);
    expect(revoked.stdout).toMatch(/^revoked auth key /);
    expect((await register(key.key, 'box-2')).status).toBe(401);
    expect(JSON.parse((await cli('keys', 'list', '--org', 'acme', '--json')).stdout)[0].state).toBe('revoked');
  });

  it('a single-use key that never expires; human output says how to use it', async () => {
    const created = await cli('keys', 'create', '--org', 'acme', '--expires', 'never');
    expect(created.exitCode, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^auth key \(shown once; only its hash is stored\):\nztna_auth_\S+\n/);
    expect(created.stdout).toMatch(/enrols:\s+one device/);
    expect(created.stdout).toMatch(/expires:\s+never/);
    expect(created.stdout).toContain('ztna up --server');
  });

  it('refuses a typo in --org, bad options and unknown ids with exit 2 and a message, creating nothing', async () => {
    const before = (await cli('keys', 'list', '--org', 'acme', '--json')).stdout;
    for (const [args, message] of [
      [['keys', 'create', '--org', 'acmee'], /no organisation "acmee" here \(there are: "acme"\); check --org and --data\/--db, or pass --create-org/],
      [['keys', 'list', '--org', 'acmee'], /no organisation "acmee"/],
      [['keys', 'create', '--org', 'acme', '--expires', '3 weeks'], /--expires: a duration such as 30d/],
      [['keys', 'create', '--org', 'acme', '--expires', '10s'], /--expires/],
      [['keys', 'create', '--org', 'acme', '--tags', 'Bad Tag'], /--tags: "Bad Tag" is not a tag/],
      [['keys', 'revoke', '00000000-0000-4000-8000-000000000000', '--org', 'acme'], /no auth key 00000000-0000-4000-8000-000000000000 in organisation "acme"/],
    ] as const) {
      const result = await cli(...args);
      expect(result.exitCode, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stdout).toBe('');
    }
    expect((await cli('keys', 'list', '--org', 'acme', '--json')).stdout).toBe(before);
    // The typo made no org; --create-org does.
    expect((await cli('keys', 'list', '--org', 'acmee')).exitCode).toBe(2);
    const made = await cli('keys', 'create', '--org', 'new-team', '--create-org', '--json');
    expect(made.exitCode, made.stderr).toBe(0);
    expect(JSON.parse((await cli('keys', 'list', '--org', 'new-team', '--json')).stdout)).toHaveLength(1);
  });

  it('has help with examples', async () => {
    const help = await runner.run('ztna-server', ['keys', '--help']);
    expect(help.stdout).toMatch(/Examples:\n\s+ztna-server keys create/);
  });
});
