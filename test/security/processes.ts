
/**
 * Real `ztna-server` and `ztna` processes for the security tests, started through the
 * project's command runner (the only place that spawns). Every process a test starts is
 * recorded with everything it printed, so a test can scan all of it (secret-scan) and
 * `stopAll` ends them by their own pids and removes the working directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCommandRunner } from '../../src/platform/command-runner.ts';
import type { CommandResult, RunningProcess } from '../../src/platform/command-runner.ts';
import { ROOT } from '../support/cli.ts';
export { waitFor } from '../support/wait.ts';

export interface Transcript {
  readonly argv: readonly string[];
  readonly stdout: string;
  readonly stderr: string;
}

export interface Processes {
  readonly work: string;
  /** Runs `ztna` (agent) or `ztna-server` to completion. */
  run(command: 'ztna' | 'ztna-server' | 'openssl', args: readonly string[], env?: NodeJS.ProcessEnv): Promise<CommandResult>;
  /** Runs a program under `umask <mask>` (through /bin/sh, which only sets it and execs). */
  runWithUmask(mask: string, command: 'ztna' | 'ztna-server', args: readonly string[], env?: NodeJS.ProcessEnv): Promise<CommandResult>;
  start(command: 'ztna' | 'ztna-server', args: readonly string[], env?: NodeJS.ProcessEnv, umask?: string): Promise<RunningProcess>;
  /** A server on 127.0.0.1, any free port; resolves once it printed its address. */
  serve(args: readonly string[], env?: NodeJS.ProcessEnv, umask?: string): Promise<{ process: RunningProcess; url: string; port: number }>;
  /** Everything every finished or running process printed so far. */
  transcripts(): Transcript[];
  stopAll(): Promise<void>;
}

export function processes(prefix: string, baseEnv: NodeJS.ProcessEnv = {}): Processes {
  const work = mkdtempSync(join(tmpdir(), `ztna-${prefix}-`));
  const paths = {
    ztna: join(ROOT, 'bin/ztna'),
    'ztna-server': join(ROOT, 'bin/ztna-server'),
  };
  const env = { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, ...baseEnv };
  const runner = (extra: NodeJS.ProcessEnv = {}) =>
    createCommandRunner({
      platform: process.platform,
      env: { ...env, ...extra },
      allowList: {
        ztna: { paths: { [process.platform]: [paths.ztna] }, timeoutMs: 60_000 },
        'ztna-server': { paths: { [process.platform]: [paths['ztna-server']] }, timeoutMs: 60_000 },
        openssl: { paths: { linux: ['/usr/bin/openssl'], darwin: ['/usr/bin/openssl', '/opt/homebrew/bin/openssl'] }, timeoutMs: 30_000 },
        sh: { paths: { linux: ['/bin/sh'], darwin: ['/bin/sh'] }, timeoutMs: 60_000 },
      },
    });
  const finished: Transcript[] = [];
  const running: RunningProcess[] = [];
  const umaskArgs = (mask: string, command: 'ztna' | 'ztna-server', args: readonly string[]) => ['-c', `umask ${mask} && exec "$0" "$@"`, paths[command], ...args];

  const record = (result: CommandResult) => {
    finished.push({ argv: result.argv, stdout: result.stdout, stderr: result.stderr });
    return result;
  };

  const api: Processes = {
    work,
    async run(command, args, extra = {}) {
      return record(await runner(extra).run(command, args));
    },
    async runWithUmask(mask, command, args, extra = {}) {
      return record(await runner(extra).run('sh', umaskArgs(mask, command, args)));
    },
    async start(command, args, extra = {}, umask) {
      const started = umask === undefined ? await runner(extra).start(command, args) : await runner(extra).start('sh', umaskArgs(umask, command, args));
      running.push(started);
      return started;
    },
    async serve(args, extra = {}, umask) {
      const started = await api.start('ztna-server', ['serve', '--listen', '127.0.0.1:0', ...args], extra, umask);
      const [, url, port] = await started.waitForLine(/^listening on (https?:\/\/127\.0\.0\.1:(\d+))$/, 60_000);
      return { process: started, url: url as string, port: Number(port) };
    },
    transcripts() {
      return [...finished, ...running.map((p) => ({ argv: p.argv, stdout: p.output.stdout, stderr: p.output.stderr }))];
    },
    async stopAll() {
      for (const started of running) await started.stop('SIGTERM', 5_000);
      rmSync(work, { recursive: true, force: true });
    },
  };
  return api;
}

/** An admin HTTP client: every call's status and raw body are kept for scanning. */
export function adminClient(url: string, token: string, log?: Array<{ what: string; status: number; body: string }>) {
  return async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any; text: string }> => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    log?.push({ what: `${method} ${path}`, status: response.status, body: text });
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: response.status, body: parsed, text };
  };
}

