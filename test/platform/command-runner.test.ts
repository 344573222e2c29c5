/** The command runner against real programs on this machine. */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCommandRunner, expandWindowsVariables } from '../../src/platform/command-runner.ts';

const plainFile = join(mkdtempSync(join(tmpdir(), 'ztna-runner-')), 'not-executable');
writeFileSync(plainFile, '#!/bin/sh\necho ran\n');
chmodSync(plainFile, 0o644);

const runner = createCommandRunner({
  platform: 'linux',
  allowList: {
    sh: { paths: { linux: ['/bin/sh', '/usr/bin/sh'] }, timeoutMs: 5_000 },
    missing: { paths: { linux: ['/nonexistent/ztna-test-tool'] } },
    'not-executable': { paths: { linux: [plainFile] } },
  },
});

describe.runIf(process.platform !== 'win32')('command runner', () => {
  it('runs by absolute path with LC_ALL=C, LANG=C and an empty LANGUAGE', async () => {
    const result = await runner.run('sh', ['-c', 'echo "$LC_ALL|$LANG|$LANGUAGE|$0"']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim()).toBe('C|C||/bin/sh');
    expect(result.argv[0]).toMatch(/^\//);
    expect(result.failure).toBeUndefined();
  });
  it('reports a non-zero exit with stdout and stderr instead of throwing', async () => {
    const result = await runner.run('sh', ['-c', 'echo out; echo err >&2; exit 3']);
    expect(result).toMatchObject({ exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
  });
  it('kills a program that runs past its timeout', async () => {
    const started = Date.now();
    const result = await runner.run('sh', ['-c', 'sleep 30'], { timeoutMs: 200 });
    expect(result.failure).toBe('timeout');
    expect(result.exitCode).toBeNull();
    expect(Date.now() - started).toBeLessThan(5_000);
  });
  it('a missing program is a result, not an exception, and nothing is spawned', async () => {
    const result = await runner.run('missing', ['--version']);
    expect(result.failure).toBe('not_found');
    expect(result.failureMessage).toContain('/nonexistent/ztna-test-tool');
    expect(await runner.resolve('missing')).toBeNull();
  });
  it('a file that is not executable is not run', async () => {
    expect((await runner.run('not-executable', [])).failure).toBe('not_found');
  });
  it('refuses ids outside the allow-list', async () => {
    await expect(runner.run('rm', ['-rf', '/'])).rejects.toThrow(/not in the allow-list/);
  });
  it('passes standard input and never inherits the terminal', async () => {
    expect((await runner.run('sh', ['-c', 'cat'], { input: 'hello' })).stdout).toBe('hello');
    expect((await runner.run('sh', ['-c', 'cat'])).stdout).toBe('');
  });
});

describe('Windows path variables', () => {
  it('expands %SystemRoot% case-insensitively and leaves unknown ones alone', () => {
    const env = { SYSTEMROOT: 'C:\\Windows' };
    expect(expandWindowsVariables('%SystemRoot%\\System32\\x.exe', env)).toBe('C:\\Windows\\System32\\x.exe');
    expect(expandWindowsVariables('%Nope%\\x', env)).toBe('%Nope%\\x');
  });
});

describe.runIf(process.platform !== 'win32')('long-running processes', () => {
  it('start → waitForLine → stop with SIGTERM returns the exit code', async () => {
    const process_ = await runner.start('sh', ['-c', 'trap "exit 7" TERM; echo ready; while :; do sleep 0.05; done']);
    expect((await process_.waitForLine(/^(ready)$/))[1]).toBe('ready');
    expect(await process_.stop('SIGTERM')).toBe(7);
  });
  it('waitForLine rejects when the program exits first', async () => {
    const process_ = await runner.start('sh', ['-c', 'echo nope; exit 3']);
    await expect(process_.waitForLine(/^never$/, 5_000)).rejects.toThrow(/exited with 3/);
  });
  it('refuses programs outside the allow-list', async () => {
    await expect(runner.start('rm', [])).rejects.toThrow(/not in the allow-list/);
  });
});
