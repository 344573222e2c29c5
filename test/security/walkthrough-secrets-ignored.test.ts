/**
 * What the README's walkthrough writes into the checkout — the data directory (database,
 * JWT signing secret), the admin token (bootstrap.json) and the node key (device.json) —
 * is ignored by git, so `git add -A` after following the README commits no secret.
 * The files are read from the walkthrough itself: a new one there is checked too.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCommandRunner } from '../../src/platform/command-runner.ts';
import { ROOT } from '../support/cli.ts';

const runner = createCommandRunner({
  platform: process.platform,
  allowList: { git: { paths: { [process.platform]: ['/usr/bin/git', '/usr/local/bin/git', 'C:\\Program Files\\Git\\cmd\\git.exe'] }, timeoutMs: 10_000 } },
});

function walkthroughWrites(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('### From an empty server to a quarantined device');
  const block = readme.slice(readme.indexOf('```sh', start), readme.indexOf('```\n', readme.indexOf('```sh', start) + 5));
  const redirected = [...block.matchAll(/>\s*([\w.-]+\.json)\b/g)].map((match) => match[1] as string);
  const dataDirs = [...readme.matchAll(/--data \.\/([\w.-]+)/g)].map((match) => `${match[1] as string}/ztna.db`);
  return [...new Set([...redirected, ...dataDirs])];
}

describe.runIf(process.platform !== 'win32')('the README walkthrough leaves no secret for git', () => {
  it('finds what the walkthrough writes', () => {
    expect(walkthroughWrites()).toEqual(expect.arrayContaining(['bootstrap.json', 'device.json', 'data/ztna.db']));
  });

  it.each(walkthroughWrites())('%s is ignored', async (path) => {
    const result = await runner.run('git', ['-C', ROOT, 'check-ignore', '--no-index', '-q', path]);
    expect(result.exitCode, `${path} is not in .gitignore`).toBe(0);
  });
});
