/**
 * Background services for `ztna service …` and `ztna-server service …`: one definition,
 * rendered for the platform's service manager by pure functions (tested; the systemd unit
 * also with `systemd-analyze verify`), installed with a few allow-listed commands.
 *
 *   Linux    a systemd unit in /etc/systemd/system
 *   macOS    a launchd daemon plist in /Library/LaunchDaemons
 *   Windows  a service registered with sc.exe. The service control manager (SCM) expects
 *            its process to answer it within 30 s, which a Node program cannot do without a
 *            native addon; so the installer compiles a small C# host (System.ServiceProcess,
 *            with the C# compiler every Windows ships in .NET Framework, through PowerShell's
 *            Add-Type) that answers the SCM, runs the real command as its child, logs the
 *            child's output to a file and exits with an error when the child dies, so the
 *            SCM's failure actions restart it. The same trick as the PSService.ps1 script.
 */
import { realpathSync } from 'node:fs';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, win32 } from 'node:path';
import { ZtnaError } from '../shared/errors.ts';
import type { CommandRunner, CommandSpec } from './command-runner.ts';

export interface ServiceDefinition {
  /** systemd unit and Windows service name, e.g. `ztna`. */
  readonly name: string;
  /** launchd label, e.g. `com.ztna.agent`. */
  readonly launchdLabel: string;
  readonly description: string;
  /** Absolute program path, then its arguments. */
  readonly command: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
  /** Where the service keeps its state: created 0700, the only writable path under systemd. */
  readonly stateDir: string;
  /** Log file for launchd and the Windows host (systemd uses the journal). */
  readonly logFile: string;
  /** The systemd hardening lines, each with a comment saying what it allows or forbids. */
  readonly systemdHardening: readonly string[];
  /**
   * Environment the service needs but nobody else may read (a database URL with its
   * password): systemd gets it from an EnvironmentFile written 0600 (Environment= lines
   * are readable by every user through `systemctl show`), launchd in a plist written 0600,
   * the Windows host in its source under the 0700 state directory. Never shown by
   * `--dry-run`.
   */
  readonly secretEnvironment?: Readonly<Record<string, string>>;
  /**
   * systemd only: run as this system user (created with systemd-sysusers at install; the
   * state directory is given to it) instead of root.
   */
  readonly user?: string;
  /**
   * systemd only: root-only files the service reads (a TLS private key), handed over with
   * LoadCredential=NAME:PATH; the command names them as `%d/NAME` (the credentials
   * directory), so the service user needs no access to the originals.
   */
  readonly credentials?: Readonly<Record<string, string>>;
}

/** Where systemd reads a service's secret environment (root, 0600). */
export function environmentFilePath(definition: ServiceDefinition): string {
  return `/etc/ztna/${definition.name}.env`;
}

/** `KEY=value` lines of an EnvironmentFile (systemd.exec: double quotes, \\ and \" escaped). */
export function environmentFileContent(environment: Readonly<Record<string, string>>): string {
  return Object.entries(environment)
    .map(([key, value]) => `${key}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"\n`)
    .join('');
}

export type ServicePlatform = 'linux' | 'darwin' | 'win32';

export function servicePlatform(platform: NodeJS.Platform = process.platform): ServicePlatform {
  if (platform === 'linux' || platform === 'darwin' || platform === 'win32') return platform;
  throw new ZtnaError('usage', `background services are supported on Linux (systemd), macOS (launchd) and Windows, not on ${platform}`);
}

/** systemd quoting: each word in double quotes, with \ and " escaped, and % doubled (specifiers). */
const systemdWord = (word: string) => `"${word.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%')}"`;

/** A command word: `%d/NAME` of a declared credential is a systemd specifier, everything else literal. */
function commandWord(definition: ServiceDefinition, word: string): string {
  const credential = /^%d\/([A-Za-z0-9_.-]+)$/.exec(word)?.[1];
  return credential !== undefined && definition.credentials?.[credential] !== undefined ? `"${word}"` : systemdWord(word);
}

export function systemdUnit(definition: ServiceDefinition): string {
  const environment = Object.entries(definition.environment).map(([key, value]) => `Environment=${systemdWord(`${key}=${value}`)}`);
  const secrets = definition.secretEnvironment && Object.keys(definition.secretEnvironment).length > 0 ? [`EnvironmentFile=${environmentFilePath(definition)}`] : [];
  const user = definition.user ? [`User=${definition.user}`, `Group=${definition.user}`] : [];
  const credentials = Object.entries(definition.credentials ?? {}).map(([name, path]) => `LoadCredential=${name}:${path.replace(/%/g, '%%')}`);
  return [
    '# Generated by `service install`; remove it with `service uninstall`.',
    '[Unit]',
    `Description=${definition.description}`,
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${definition.command.map((word) => commandWord(definition, word)).join(' ')}`,
    ...user,
    ...environment,
    ...secrets,
    ...credentials,
    'Restart=on-failure',
    'RestartSec=5',
    `ReadWritePaths=${systemdWord(definition.stateDir)}`,
    ...definition.systemdHardening,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function launchdPlist(definition: ServiceDefinition): string {
  const environment = Object.entries({ ...definition.environment, ...definition.secretEnvironment })
    .map(([key, value]) => `    <key>${xml(key)}</key>\n    <string>${xml(value)}</string>`)
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>${xml(definition.launchdLabel)}</string>
  <key>ProgramArguments</key>
  <array>
${definition.command.map((word) => `    <string>${xml(word)}</string>`).join('\n')}
  </array>
  <key>EnvironmentVariables</key>
  <dict>
${environment}
  </dict>
  <key>RunAtLoad</key>
  <true/>
  <key>KeepAlive</key>
  <true/>
  <key>ThrottleInterval</key>
  <integer>5</integer>
  <key>StandardOutPath</key>
  <string>${xml(definition.logFile)}</string>
  <key>StandardErrorPath</key>
  <string>${xml(definition.logFile)}</string>
</dict>
</plist>
`;
}

/**
 * One argument of a Windows command line, quoted the way CommandLineToArgvW and the C
 * runtime split it back: backslashes are literal except before a quote, where they and
 * the quote are escaped.
 */
export function windowsArgument(argument: string): string {
  if (argument !== '' && !/[\s"]/.test(argument)) return argument;
  let quoted = '"';
  let backslashes = 0;
  for (const character of argument) {
    if (character === '\\') {
      backslashes++;
      continue;
    }
    quoted += character === '"' ? '\\'.repeat(backslashes * 2 + 1) + '"' : '\\'.repeat(backslashes) + character;
    backslashes = 0;
  }
  return `${quoted}${'\\'.repeat(backslashes * 2)}"`;
}

/** A C# verbatim string literal: only the double quote needs escaping (doubled). */
const csharpVerbatim = (text: string) => `@"${text.replace(/"/g, '""')}"`;

/** The C# service host (see the module comment), compiled on the Windows machine at install. */
export function windowsServiceHostSource(definition: ServiceDefinition): string {
  const [program = '', ...args] = definition.command;
  const environment = Object.entries({ ...definition.environment, ...definition.secretEnvironment })
    .map(([key, value]) => `    info.EnvironmentVariables[${csharpVerbatim(key)}] = ${csharpVerbatim(value)};`)
    .join('\n');
  return `// Generated by \`service install\`: the Windows service host for ${definition.name}.
// It answers the service control manager and runs the real program as its child.
using System;
using System.Diagnostics;
using System.IO;
using System.ServiceProcess;

public sealed class ZtnaServiceHost : ServiceBase {
  private Process child;
  private StreamWriter log;
  private volatile bool stopping;

  public ZtnaServiceHost() {
    ServiceName = ${csharpVerbatim(definition.name)};
    CanStop = true;
    CanShutdown = true;
  }

  protected override void OnStart(string[] ignored) {
    Directory.CreateDirectory(Path.GetDirectoryName(${csharpVerbatim(definition.logFile)}));
    log = new StreamWriter(${csharpVerbatim(definition.logFile)}, true);
    log.AutoFlush = true;
    var info = new ProcessStartInfo(${csharpVerbatim(program)}, ${csharpVerbatim(args.map(windowsArgument).join(' '))});
    info.UseShellExecute = false;
    info.CreateNoWindow = true;
    info.RedirectStandardOutput = true;
    info.RedirectStandardError = true;
${environment}
    child = Process.Start(info);
    child.OutputDataReceived += Write;
    child.ErrorDataReceived += Write;
    child.BeginOutputReadLine();
    child.BeginErrorReadLine();
    child.EnableRaisingEvents = true;
    child.Exited += (sender, e) => {
      if (stopping) return;
      // The program died on its own: fail the service so the SCM's failure actions restart it.
      Write(null, null);
      Environment.Exit(1);
    };
  }

  private void Write(object sender, DataReceivedEventArgs e) {
    if (e == null || e.Data == null) return;
    lock (log) { log.WriteLine(e.Data); }
  }

  private void Terminate() {
    stopping = true;
    try {
      // No SIGTERM on Windows; the program keeps its state in atomic files, so a kill is safe.
      if (child != null && !child.HasExited) { child.Kill(); child.WaitForExit(10000); }
    } catch (InvalidOperationException) {
      // Already exited between the check and the kill.
    }
  }

  protected override void OnStop() { Terminate(); }
  protected override void OnShutdown() { Terminate(); }

  public static void Main() { ServiceBase.Run(new ZtnaServiceHost()); }
}
`;
}

export interface WindowsServiceFiles {
  readonly source: string;
  readonly host: string;
}

export function windowsServiceFiles(definition: ServiceDefinition): WindowsServiceFiles {
  return { source: win32.join(definition.stateDir, `${definition.name}-service.cs`), host: win32.join(definition.stateDir, `${definition.name}-service.exe`) };
}

/** PowerShell single-quoted string: only ' needs escaping (doubled). */
const powershellString = (text: string) => `'${text.replace(/'/g, "''")}'`;

type Step = readonly [command: string, args: readonly string[]];

/** The commands that register and start the service, as argv (rendered, and tested as such). */
export function installSteps(definition: ServiceDefinition, platform: ServicePlatform, unitFile: string): Step[] {
  if (platform === 'darwin') return [['launchctl', ['bootstrap', 'system', unitFile]]];
  if (platform === 'linux') {
    // A service user: created (idempotently) by systemd-sysusers, given the state directory.
    const user: Step[] = definition.user
      ? [
          ['systemd-sysusers', ['--inline', `u ${definition.user} - "${definition.description}" ${definition.stateDir} /usr/sbin/nologin`]],
          ['chown', ['-R', `${definition.user}:${definition.user}`, definition.stateDir]],
        ]
      : [];
    return [...user, ['systemctl', ['daemon-reload']], ['systemctl', ['enable', '--now', `${definition.name}.service`]]];
  }
  const files = windowsServiceFiles(definition);
  return [
    [
      'powershell',
      [
        '-NoProfile',
        '-NonInteractive',
        '-ExecutionPolicy',
        'Bypass',
        '-Command',
        `Add-Type -TypeDefinition ([IO.File]::ReadAllText(${powershellString(files.source)})) -Language CSharp -OutputAssembly ${powershellString(files.host)} -OutputType ConsoleApplication -ReferencedAssemblies 'System.ServiceProcess'`,
      ],
    ],
    // sc.exe's syntax: each option name ends with '=' and its value is the next argument.
    ['sc', ['create', definition.name, 'binPath=', windowsArgument(files.host), 'start=', 'auto', 'obj=', 'LocalSystem', 'DisplayName=', definition.description]],
    ['sc', ['description', definition.name, definition.description]],
    ['sc', ['failure', definition.name, 'reset=', '86400', 'actions=', 'restart/5000/restart/5000/restart/60000']],
    ['sc', ['start', definition.name]],
  ];
}

export function uninstallSteps(definition: ServiceDefinition, platform: ServicePlatform): Step[] {
  if (platform === 'darwin') return [['launchctl', ['bootout', `system/${definition.launchdLabel}`]]];
  if (platform === 'linux') return [['systemctl', ['disable', '--now', `${definition.name}.service`]]];
  return [
    ['sc', ['stop', definition.name]],
    ['sc', ['delete', definition.name]],
  ];
}

export function statusStep(definition: ServiceDefinition, platform: ServicePlatform): Step {
  if (platform === 'darwin') return ['launchctl', ['print', `system/${definition.launchdLabel}`]];
  if (platform === 'linux') return ['systemctl', ['is-active', `${definition.name}.service`]];
  return ['sc', ['query', definition.name]];
}

/** `sc query NAME` output -> the state word (RUNNING, STOPPED, START_PENDING, …), or null. */
export function parseScQueryState(output: string): string | null {
  return /^\s*STATE\s*:\s*\d+\s+([A-Z_]+)/m.exec(output)?.[1] ?? null;
}

/**
 * Hardening every ztna unit gets: no privilege gain, read-only system with a private /tmp,
 * kernel, clock, hostname and cgroups protected, no namespaces, SUID, realtime or foreign
 * syscall ABIs, files created owner-only. Each service adds its own home, device,
 * address-family and capability lines. MemoryDenyWriteExecute is never set: V8's JIT
 * needs writable+executable pages.
 */
export const BASE_SYSTEMD_HARDENING: readonly string[] = [
  'NoNewPrivileges=yes',
  'ProtectSystem=strict',
  'PrivateTmp=yes',
  'ProtectControlGroups=yes',
  'ProtectKernelModules=yes',
  'ProtectKernelTunables=yes',
  'ProtectClock=yes',
  'ProtectHostname=yes',
  'RestrictSUIDSGID=yes',
  'RestrictNamespaces=yes',
  'RestrictRealtime=yes',
  'LockPersonality=yes',
  'SystemCallArchitectures=native',
  'UMask=0077',
];

/** Where the definition file goes: the systemd unit, the plist, or on Windows the host's C# source. */
export function unitFilePath(definition: ServiceDefinition, platform: ServicePlatform): string {
  if (platform === 'darwin') return `/Library/LaunchDaemons/${definition.launchdLabel}.plist`;
  if (platform === 'win32') return windowsServiceFiles(definition).source;
  return `/etc/systemd/system/${definition.name}.service`;
}

export function renderDefinition(definition: ServiceDefinition, platform: ServicePlatform): string {
  if (platform === 'darwin') return launchdPlist(definition);
  if (platform === 'win32') return windowsServiceHostSource(definition);
  return systemdUnit(definition);
}

export interface ServicePlan {
  readonly platform: ServicePlatform;
  readonly unit_file: string;
  readonly content: string;
  /** systemd's EnvironmentFile, when the service has secrets (the values are not shown). */
  readonly environment_file?: string;
  readonly commands: string[][];
}

/** The definition with secret values replaced by a placeholder, for showing. */
function withHiddenSecrets(definition: ServiceDefinition): ServiceDefinition {
  if (!definition.secretEnvironment) return definition;
  return { ...definition, secretEnvironment: Object.fromEntries(Object.keys(definition.secretEnvironment).map((key) => [key, `<${key}: not shown>`])) };
}

/** Whether the definition file itself holds secrets (launchd plist, Windows host source). */
const holdsSecrets = (definition: ServiceDefinition, platform: ServicePlatform) => platform !== 'linux' && Object.keys(definition.secretEnvironment ?? {}).length > 0;

/** What `install` would write and run: shown by `service install --dry-run` (without secret values). */
export function installPlan(definition: ServiceDefinition, platform: ServicePlatform): ServicePlan {
  const unitFile = unitFilePath(definition, platform);
  const shown = withHiddenSecrets(definition);
  const environmentFile = platform === 'linux' && Object.keys(definition.secretEnvironment ?? {}).length > 0 ? environmentFilePath(definition) : undefined;
  return {
    platform,
    unit_file: unitFile,
    content: renderDefinition(shown, platform),
    ...(environmentFile ? { environment_file: environmentFile } : {}),
    commands: installSteps(definition, platform, unitFile).map(([command, args]) => [command, ...args]),
  };
}

export interface ServiceResult {
  readonly action: 'install' | 'uninstall' | 'status';
  readonly service: string;
  readonly platform: string;
  readonly unit_file: string;
  readonly state_dir: string;
  readonly active: boolean | null;
  readonly detail: string;
}

function managerProblem(result: { exitCode: number | null; stderr: string; stdout: string; argv: readonly string[]; failureMessage?: string }, what: string): ZtnaError {
  const message = (result.stderr || result.stdout || result.failureMessage || '').trim().split('\n')[0];
  return new ZtnaError('runtime', `${what} failed (${result.argv.join(' ')}): ${message}`);
}

export async function installService(runner: CommandRunner, definition: ServiceDefinition, platform: ServicePlatform): Promise<ServiceResult> {
  const plan = installPlan(definition, platform);
  await mkdir(definition.stateDir, { recursive: true, mode: 0o700 });
  if (platform !== 'win32') await chmod(definition.stateDir, 0o700);
  const fileMode = holdsSecrets(definition, platform) ? 0o600 : 0o644;
  try {
    await mkdir(dirname(plan.unit_file), { recursive: true });
    await writeFile(plan.unit_file, renderDefinition(definition, platform), { mode: fileMode });
    await chmod(plan.unit_file, fileMode);
    if (plan.environment_file && definition.secretEnvironment) {
      await mkdir(dirname(plan.environment_file), { recursive: true, mode: 0o755 });
      await writeFile(plan.environment_file, environmentFileContent(definition.secretEnvironment), { mode: 0o600 });
      await chmod(plan.environment_file, 0o600);
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw new ZtnaError('runtime', `writing ${plan.unit_file} needs administrator rights: run the install with sudo (or as Administrator)`, { cause: error });
    throw error;
  }
  for (const [command = '', ...args] of plan.commands) {
    const result = await runner.run(command, args, { timeoutMs: 60_000 });
    if (result.exitCode !== 0) throw managerProblem(result, `${command} (the definition ${plan.unit_file} was written; \`service uninstall\` removes it)`);
  }
  return { action: 'install', service: definition.name, platform, unit_file: plan.unit_file, state_dir: definition.stateDir, active: true, detail: `installed and started ${definition.name}` };
}

export async function uninstallService(runner: CommandRunner, definition: ServiceDefinition, platform: ServicePlatform): Promise<ServiceResult> {
  const unitFile = unitFilePath(definition, platform);
  const notes: string[] = [];
  for (const [command, args] of uninstallSteps(definition, platform)) {
    const result = await runner.run(command, args, { timeoutMs: 60_000 });
    if (result.exitCode !== 0) notes.push(`${command}: ${(result.stderr || result.stdout || result.failureMessage || '').trim().split('\n')[0]}`);
  }
  await rm(unitFile, { force: true });
  if (platform === 'linux') await rm(environmentFilePath(definition), { force: true });
  if (platform === 'win32') await rm(windowsServiceFiles(definition).host, { force: true });
  if (platform === 'linux') await runner.run('systemctl', ['daemon-reload'], { timeoutMs: 30_000 });
  return {
    action: 'uninstall',
    service: definition.name,
    platform,
    unit_file: unitFile,
    state_dir: definition.stateDir,
    active: false,
    detail: notes.length ? `removed ${unitFile} (${notes.join('; ')})` : `stopped and removed ${definition.name}; its state in ${definition.stateDir} is kept`,
  };
}

export async function serviceStatus(runner: CommandRunner, definition: ServiceDefinition, platform: ServicePlatform): Promise<ServiceResult> {
  const [command, args] = statusStep(definition, platform);
  const result = await runner.run(command, args, { timeoutMs: 15_000 });
  const output = (result.stdout || result.stderr || result.failureMessage || '').trim();
  let active: boolean | null;
  let detail: string;
  if (result.failure) {
    active = null;
    detail = output.split('\n')[0] ?? '';
  } else if (platform === 'win32') {
    // sc query: exit 1060 = not installed; otherwise the STATE line says.
    const state = parseScQueryState(output);
    active = state === 'RUNNING';
    detail = state ?? (output.split('\n').find((line) => line.trim() !== '') ?? `exit ${result.exitCode}`);
  } else {
    // systemctl is-active: "active" (0), "inactive"/"failed" (3), unknown unit (4).
    // launchctl print: 0 when loaded, 113 when not.
    const first = output.split('\n')[0] ?? '';
    active = result.exitCode === 0 && (platform !== 'linux' || first === 'active');
    detail = first || `exit ${result.exitCode}`;
  }
  return { action: 'status', service: definition.name, platform, unit_file: unitFilePath(definition, platform), state_dir: definition.stateDir, active, detail };
}

/** The log file under a state directory, for launchd and the Windows host. */
export function defaultLogFile(platform: ServicePlatform, name: string, stateDir: string): string {
  if (platform === 'darwin') return `/Library/Logs/ztna/${name}.log`;
  if (platform === 'win32') return win32.join(stateDir, 'logs', `${name}.log`);
  return join(stateDir, `${name}.log`);
}

/** The programs `service install | uninstall | status` runs, by absolute path (the runner's allow-list). */
export const SERVICE_MANAGER_COMMANDS = {
  systemctl: { paths: { linux: ['/usr/bin/systemctl', '/bin/systemctl'] }, timeoutMs: 60_000 },
  'systemd-sysusers': { paths: { linux: ['/usr/bin/systemd-sysusers', '/bin/systemd-sysusers'] }, timeoutMs: 60_000 },
  chown: { paths: { linux: ['/usr/bin/chown', '/bin/chown'] }, timeoutMs: 60_000 },
  launchctl: { paths: { darwin: ['/bin/launchctl'] }, timeoutMs: 60_000 },
  sc: { paths: { win32: ['%SystemRoot%\\System32\\sc.exe'] }, timeoutMs: 60_000 },
  powershell: { paths: { win32: ['%SystemRoot%\\System32\\WindowsPowerShell\\v1.0\\powershell.exe'] }, timeoutMs: 120_000 },
} as const satisfies Record<string, CommandSpec>;

/**
 * The command line that runs this very program again with `args`: the single-file binary's
 * real path (symlinks resolved, so a service survives a changed link), or this Node
 * runtime and the real path of its entry script.
 */
export function selfCommand(args: readonly string[], singleExecutable: boolean): string[] {
  const real = (path: string) => {
    try {
      return realpathSync(path);
    } catch {
      return path;
    }
  };
  if (singleExecutable || !process.argv[1]) return [real(process.execPath), ...args];
  return [real(process.execPath), real(process.argv[1]), ...args];
}

/** What the ownership check needs to know of a path (lstat). */
export interface PathOwnership {
  readonly uid: number;
  readonly mode: number;
  readonly isDirectory: boolean;
}

/**
 * Why a service that runs as root (or starts as root) must not run `paths`, or [] when it
 * may: each file, and every directory above it, must belong to root and be writable by
 * nobody else — else a non-root user who can write one of them replaces the program and
 * runs code as root. A world-writable directory is tolerated only with the sticky bit
 * (/tmp): there, others cannot rename or remove root's entries.
 */
export function rootOwnershipProblems(paths: readonly string[], stat: (path: string) => PathOwnership | null): string[] {
  const problems = new Set<string>();
  const seen = new Set<string>();
  for (const path of paths) {
    for (let current = path; !seen.has(current); current = dirname(current)) {
      seen.add(current);
      const info = stat(current);
      if (info === null) problems.add(`${current} does not exist`);
      else if (info.uid !== 0) problems.add(`${current} belongs to uid ${info.uid}, not root`);
      else if ((info.mode & 0o022) !== 0 && !(info.isDirectory && (info.mode & 0o1000) !== 0)) problems.add(`${current} is writable by ${(info.mode & 0o002) !== 0 ? 'every user' : 'its group'} (mode ${(info.mode & 0o7777).toString(8).padStart(4, '0')})`);
      if (dirname(current) === current) break;
    }
  }
  return [...problems];
}

/**
 * Refuses to install a service whose program (the binary, or Node and the bundle with all
 * its chunks) a non-root user could change (see rootOwnershipProblems). POSIX only: on
 * Windows the installer's ACLs decide.
 */
export async function requireRootOwnedProgram(program: readonly string[], platform: ServicePlatform): Promise<void> {
  if (platform === 'win32') return;
  const { lstatSync, readdirSync } = await import('node:fs');
  const paths = [...program];
  // A script entry (the bundle): every file beside it is loaded on demand (chunks).
  const script = program[1];
  if (script !== undefined) {
    const dir = dirname(script);
    for (const entry of readdirSync(dir)) paths.push(join(dir, entry));
  }
  const problems = rootOwnershipProblems(paths, (path) => {
    try {
      const info = lstatSync(path);
      return { uid: info.uid, mode: info.mode, isDirectory: info.isDirectory() };
    } catch {
      return null;
    }
  });
  if (problems.length === 0) return;
  const [first = ''] = program;
  throw new ZtnaError(
    'usage',
    `refusing to install a service that runs as root from a program other users can change: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}. ` +
      `Install the program where only root can write, e.g. \`sudo install -o root -g root -m 0755 ${first} /usr/local/sbin/\`, and run the install from there.`,
  );
}

/** Human output of `service …` for both CLIs. */
export function describeServiceOutcome(outcome: ServiceResult | ServicePlan): string {
  if (!('action' in outcome)) {
    const commands = outcome.commands.map((argv) => `  ${argv.map((word) => (/[\s"'$]/.test(word) ? JSON.stringify(word) : word)).join(' ')}`).join('\n');
    return `would write ${outcome.unit_file}:\n\n${outcome.content}\nthen run:\n${commands}\n`;
  }
  return `${outcome.detail}\ndefinition: ${outcome.unit_file}\nstate directory: ${outcome.state_dir}\n`;
}
