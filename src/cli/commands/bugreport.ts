/**
 * `ztna bugreport`: a support bundle — a directory holding every observation the collectors
 * made (`probes.json`: commands with exit codes and full outputs, files read, directories
 * listed; src/agent/probe-log.ts), the report they gave (`report.json`) and a README — with
 * ztna keys and tokens redacted, so a user on an unusual machine can send what the agent
 * saw. `ztna posture status --local --replay <bundle>` evaluates it on any machine.
 *
 * The bundle is written 0700/0600: it describes the machine in detail (installed security
 * products, firewall rules), which is for the person it is sent to, not for other users.
 */
import { mkdir, readFile, readdir, writeFile, chmod, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { collectRecordedReport } from '../../agent/local-posture.ts';
import type { LocalCollectOptions } from '../../agent/local-posture.ts';
import type { ProbeLog } from '../../agent/probe-log.ts';
import { isProbeLog } from '../../agent/probe-log.ts';
import { ZtnaError } from '../../shared/errors.ts';
import { redactSecrets } from '../../shared/secrets.ts';

export const PROBES_FILE = 'probes.json';

export interface BugreportResult {
  readonly directory: string;
  readonly files: readonly string[];
  readonly commands: number;
  readonly files_read: number;
  readonly signals: Record<string, unknown>;
}

const README = `ztna support bundle

probes.json  every command the posture collectors ran (exit code, full output), every file
             they read (base64), every directory they listed, with ztna keys and tokens
             redacted. Replay it anywhere:  ztna posture status --local --replay <this directory>
report.json  the posture report those observations gave on the machine.

It describes this machine's security set-up (disk encryption, firewall rules, antivirus):
send it only to the people who support you.
`;

async function writePrivate(path: string, content: string): Promise<void> {
  await writeFile(path, content, { mode: 0o600 });
  await chmod(path, 0o600);
}

export async function bugreport(options: LocalCollectOptions & { readonly output?: string; readonly now?: Date } = {}): Promise<BugreportResult> {
  const stamp = (options.now ?? new Date()).toISOString().replace(/[:.]/g, '-');
  const directory = resolve(options.output ?? `ztna-bugreport-${stamp}`);
  const existing = await readdir(directory).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw new ZtnaError('usage', `--output: cannot use ${directory} (${error.code ?? error.message}): give a new directory name`, { cause: error });
  });
  if (existing !== null && existing.length > 0) throw new ZtnaError('usage', `--output: ${directory} exists and is not empty; give a new directory name (nothing was written)`);
  const { report, log } = await collectRecordedReport(options);
  try {
    await mkdir(directory, { recursive: true, mode: 0o700 });
    await chmod(directory, 0o700);
    await writePrivate(join(directory, PROBES_FILE), `${JSON.stringify(log, null, 1)}\n`);
    await writePrivate(join(directory, 'report.json'), `${redactSecrets(JSON.stringify(report, null, 2))}\n`);
    await writePrivate(join(directory, 'README.txt'), README);
  } catch (error) {
    throw new ZtnaError('runtime', `cannot write the bundle to ${directory} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error });
  }
  const { evidence: _evidence, ...signals } = report;
  return {
    directory,
    files: [PROBES_FILE, 'report.json', 'README.txt'],
    commands: log.commands.length,
    files_read: Object.values(log.reads).reduce((sum, reads) => sum + reads.length, 0),
    signals,
  };
}

/** A bundle directory (or its probes.json) → the probe log; a clear error for anything else. */
export async function loadBundle(path: string): Promise<ProbeLog> {
  let file = resolve(path);
  try {
    if ((await stat(file)).isDirectory()) file = join(file, PROBES_FILE);
  } catch (error) {
    throw new ZtnaError('file_not_found', `--replay: ${path} does not exist; give a bundle directory written by \`ztna bugreport\` (or its ${PROBES_FILE})`, { cause: error });
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ZtnaError('file_unreadable', `--replay: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ZtnaError('invalid_json', `--replay: ${file} is not JSON; give a bundle written by \`ztna bugreport\``);
  }
  if (!isProbeLog(parsed)) throw new ZtnaError('invalid_report', `--replay: ${file} is not a ztna probe log of version 1 (written by \`ztna bugreport\`)`);
  return parsed;
}
