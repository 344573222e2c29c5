/**
 * The generated service definitions for the agent and the server, checked by the
 * platforms' own parsers where we have them (systemd-analyze, a plist parser), the
 * Windows commands as rendered argv, and the Windows command-line quoting against a
 * reference implementation of the documented CommandLineToArgvW rules.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse as parsePlist } from 'plist';
import { describe, expect, it } from 'vitest';
import { agentServiceDefinition } from '../../src/agent/service.ts';
import { createCommandRunner } from '../../src/platform/command-runner.ts';
import type { ServiceDefinition } from '../../src/platform/service-manager.ts';
import { environmentFileContent, installPlan, installSteps, launchdPlist, parseScQueryState, rootOwnershipProblems, systemdUnit, uninstallSteps, windowsArgument, windowsServiceHostSource } from '../../src/platform/service-manager.ts';
import { serverServiceDefinition } from '../../src/server/service.ts';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '../fixtures/windows', name), 'utf8');

/**
 * How a Windows program splits its command line (Microsoft, "Parsing C++ command-line
 * arguments"): whitespace separates arguments outside quotes; 2n backslashes + quote ->
 * n backslashes and the quote toggles quoting; 2n+1 backslashes + quote -> n backslashes
 * and a literal quote; other backslashes are literal.
 */
function splitWindowsCommandLine(line: string): string[] {
  const args: string[] = [];
  let current = '';
  let inQuotes = false;
  let started = false;
  for (let i = 0; i < line.length; i++) {
    const character = line[i] as string;
    if (character === '\\') {
      let count = 0;
      while (line[i] === '\\') {
        count++;
        i++;
      }
      if (line[i] === '"') {
        current += '\\'.repeat(Math.floor(count / 2));
        if (count % 2 === 1) current += '"';
        else inQuotes = !inQuotes;
      } else {
        current += '\\'.repeat(count);
        i--;
      }
      started = true;
    } else if (character === '"') {
      inQuotes = !inQuotes;
      started = true;
    } else if ((character === ' ' || character === '\t') && !inQuotes) {
      if (started) args.push(current);
      current = '';
      started = false;
    } else {
      current += character;
      started = true;
    }
  }
  if (started) args.push(current);
  return args;
}

const agentLinux = agentServiceDefinition(['/opt/ztna bin/ztna', 'daemon'], 'linux', {});
const serverLinux = serverServiceDefinition({ program: ['/usr/local/bin/ztna-server'], data: '/var/lib/ztna-server', listen: '0.0.0.0:8787' }, 'linux');
const systemdAnalyze = createCommandRunner({ platform: 'linux', allowList: { 'systemd-analyze': { paths: { linux: ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'] } } } });

async function verifyUnit(definition: ServiceDefinition, program: string): Promise<{ exitCode: number | null; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'ztna-unit-'));
  const path = join(dir, `${definition.name}.service`);
  // systemd-analyze checks that ExecStart's program exists: point it at a real file.
  writeFileSync(path, systemdUnit({ ...definition, command: [program, ...definition.command.slice(1)] }));
  const result = await systemdAnalyze.run('systemd-analyze', ['verify', path]);
  // Only problems with our unit count; the host's other units are not ours to judge.
  const ours = result.stderr.split('\n').filter((line) => line.includes(`${definition.name}.service`));
  return { exitCode: result.exitCode, stderr: ours.join('\n') };
}

describe('systemd units', () => {
  it('agent: runs `daemon` with the system config dir, restarts on failure, keeps only the capabilities the collectors need', () => {
    const unit = systemdUnit(agentLinux);
    expect(unit).toContain('ExecStart="/opt/ztna bin/ztna" "daemon"');
    expect(unit).toContain('Environment="ZTNA_CONFIG_DIR=/var/lib/ztna"');
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^ProtectSystem=strict$/m);
    expect(unit).toMatch(/^ReadWritePaths="\/var\/lib\/ztna"$/m);
    expect(unit).toMatch(/^CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW CAP_DAC_READ_SEARCH$/m);
    expect(unit).toMatch(/^NoNewPrivileges=yes$/m);
    // V8's JIT needs writable+executable memory: this option would kill the daemon.
    expect(unit).not.toMatch(/^MemoryDenyWriteExecute=/m);
    expect(unit).toMatch(/^WantedBy=multi-user.target$/m);
  });

  it('server: `serve` on the data directory with no capabilities, or only CAP_NET_BIND_SERVICE below port 1024', () => {
    const unit = systemdUnit(serverLinux);
    expect(unit).toContain('ExecStart="/usr/local/bin/ztna-server" "serve" "--data" "/var/lib/ztna-server" "--listen" "0.0.0.0:8787"');
    expect(unit).toMatch(/^ReadWritePaths="\/var\/lib\/ztna-server"$/m);
    expect(unit).toMatch(/^CapabilityBoundingSet=$/m);
    expect(unit).toMatch(/^PrivateDevices=yes$/m);
    expect(unit).toMatch(/^ProtectHome=yes$/m);
    const low = systemdUnit(serverServiceDefinition({ program: ['/usr/local/bin/ztna-server'], data: '/root/ztna', listen: '0.0.0.0:443' }, 'linux'));
    expect(low).toMatch(/^CapabilityBoundingSet=CAP_NET_BIND_SERVICE$/m);
    expect(low).toMatch(/^AmbientCapabilities=CAP_NET_BIND_SERVICE$/m);
    expect(low).toMatch(/^ProtectHome=read-only$/m);
  });

  it('quotes words with spaces, quotes, backslashes and % so systemd reads them back unchanged', () => {
    const unit = systemdUnit({ ...agentLinux, command: ['/opt/a "b"\\c/ztna', '100%'] });
    expect(unit).toContain('ExecStart="/opt/a \\"b\\"\\\\c/ztna" "100%%"');
  });

  it('passes TLS files to `serve` through LoadCredential: the service user needs no access to the root-only key', () => {
    const unit = systemdUnit(serverServiceDefinition({ program: ['/usr/local/bin/ztna-server'], data: '/var/lib/ztna-server', listen: '0.0.0.0:8443', tls: { cert: '/etc/ztna/cert.pem', key: '/etc/ztna/key.pem' } }, 'linux'));
    expect(unit).toContain('"--listen" "0.0.0.0:8443" "--tls-cert" "%d/tls-cert" "--tls-key" "%d/tls-key"');
    expect(unit).toMatch(/^LoadCredential=tls-cert:\/etc\/ztna\/cert\.pem$/m);
    expect(unit).toMatch(/^LoadCredential=tls-key:\/etc\/ztna\/key\.pem$/m);
    // Elsewhere the service reads the files itself.
    const plist = launchdPlist(serverServiceDefinition({ program: ['/usr/local/bin/ztna-server'], data: '/d', listen: '0.0.0.0:8443', tls: { cert: '/etc/ztna/cert.pem', key: '/etc/ztna/key.pem' } }, 'darwin'));
    expect(plist).toContain('<string>/etc/ztna/key.pem</string>');
  });

  // SPEC 7.1: the server's unit runs as its own user (was: root).
  it('server: runs as the ztna-server system user, created by systemd-sysusers and given the data directory', () => {
    const unit = systemdUnit(serverLinux);
    expect(unit).toMatch(/^User=ztna-server$/m);
    expect(unit).toMatch(/^Group=ztna-server$/m);
    expect(installPlan(serverLinux, 'linux').commands).toEqual([
      ['systemd-sysusers', '--inline', 'u ztna-server - "ztna reference server" /var/lib/ztna-server /usr/sbin/nologin'],
      ['chown', '-R', 'ztna-server:ztna-server', '/var/lib/ztna-server'],
      ['systemctl', 'daemon-reload'],
      ['systemctl', 'enable', '--now', 'ztna-server.service'],
    ]);
  });

  // SPEC 7.1: no database password in argv or in a unit any user can read back.
  it('a database URL with its password (from ZTNA_DB_URL) goes to a 0600 EnvironmentFile, never into argv, the unit or a dry run', () => {
    const secret = 'postgres://ztna:s3cr%t"x@db:5432/ztna';
    const definition = serverServiceDefinition({ program: ['/x'], data: '/d', listen: '127.0.0.1:1', dbUrlSecret: secret }, 'linux');
    expect(definition.command.join(' ')).not.toContain('s3cr');
    const plan = installPlan(definition, 'linux');
    expect(plan.environment_file).toBe('/etc/ztna/ztna-server.env');
    expect(plan.content).toMatch(/^EnvironmentFile=\/etc\/ztna\/ztna-server\.env$/m);
    expect(JSON.stringify(plan)).not.toContain('s3cr');
    expect(environmentFileContent(definition.secretEnvironment ?? {})).toBe('ZTNA_DB_URL="postgres://ztna:s3cr%t\\"x@db:5432/ztna"\n');
    // launchd and the Windows host carry it in files only root can read; a dry run hides it.
    const mac = installPlan(serverServiceDefinition({ program: ['/x'], data: '/d', listen: '127.0.0.1:1', dbUrlSecret: secret }, 'darwin'), 'darwin');
    expect(mac.content).toContain('<string>&lt;ZTNA_DB_URL: not shown&gt;</string>');
  });

  for (const [name, definition] of [
    ['agent', agentLinux],
    ['server', serverLinux],
    ['server with TLS credentials and a secret database URL', serverServiceDefinition({ program: ['/usr/local/bin/ztna-server'], data: '/var/lib/ztna-server', listen: '0.0.0.0:8443', dbUrlSecret: 'postgres://u:p@h/d', tls: { cert: '/etc/ztna/cert.pem', key: '/etc/ztna/key.pem' } }, 'linux')],
  ] as const) {
    it(`${name}: passes \`systemd-analyze verify\` (when the tool is installed)`, async (context) => {
      if ((await systemdAnalyze.resolve('systemd-analyze')) === null) return context.skip();
      const result = await verifyUnit(definition, process.execPath);
      expect(result.stderr).toBe('');
      expect(result.exitCode).toBe(0);
    });
  }
});

describe('launchd plists', () => {
  const agent = agentServiceDefinition(['/usr/local/bin/ztna', 'daemon'], 'darwin', {});
  it('agent: parses as a property list with the keys launchd needs', () => {
    expect(parsePlist(launchdPlist(agent))).toMatchObject({
      Label: 'com.ztna.agent',
      ProgramArguments: ['/usr/local/bin/ztna', 'daemon'],
      EnvironmentVariables: { ZTNA_CONFIG_DIR: '/Library/Application Support/ztna' },
      RunAtLoad: true,
      KeepAlive: true,
      StandardErrorPath: '/Library/Logs/ztna/agent.log',
    });
  });
  it('server: parses, with an empty environment and its own label and log', () => {
    const server = serverServiceDefinition({ program: ['/usr/local/bin/ztna-server'], data: '/Library/Application Support/ztna-server', listen: '127.0.0.1:8787' }, 'darwin');
    expect(parsePlist(launchdPlist(server))).toMatchObject({
      Label: 'com.ztna.server',
      ProgramArguments: ['/usr/local/bin/ztna-server', 'serve', '--data', '/Library/Application Support/ztna-server', '--listen', '127.0.0.1:8787'],
      EnvironmentVariables: {},
      StandardOutPath: '/Library/Logs/ztna/server.log',
    });
  });
  it('escapes XML in every field', () => {
    const parsed = parsePlist(launchdPlist({ ...agent, command: ['/a & <b>/"ztna"', 'daemon'], environment: { 'K<': 'v&"' } })) as Record<string, unknown>;
    expect(parsed.ProgramArguments).toEqual(['/a & <b>/"ztna"', 'daemon']);
    expect(parsed.EnvironmentVariables).toEqual({ 'K<': 'v&"' });
  });
});

describe('Windows services', () => {
  const agent = agentServiceDefinition(['C:\\Program Files\\ztna\\ztna.exe', 'daemon'], 'win32', { ProgramData: 'C:\\ProgramData' });

  it('quotes arguments so CommandLineToArgvW splits them back exactly (property, 2000 random argument lists)', () => {
    const argument = fc.string({ unit: fc.constantFrom('a', ' ', '\t', '"', '\\', 'é', 'Z', '/', ':') });
    fc.assert(
      fc.property(fc.array(argument, { minLength: 1, maxLength: 6 }), (args) => {
        expect(splitWindowsCommandLine(args.map(windowsArgument).join(' '))).toEqual(args);
      }),
      { numRuns: 2000 },
    );
    expect(windowsArgument('C:\\Program Files\\ztna\\')).toBe('"C:\\Program Files\\ztna\\\\"');
    expect(windowsArgument('plain')).toBe('plain');
    expect(windowsArgument('')).toBe('""');
  });

  it('installs by compiling the service host, then registering it with sc.exe (rendered argv)', () => {
    const steps = installSteps(agent, 'win32', 'C:\\ProgramData\\ztna\\ztna-service.cs').map(([command, args]) => [command, ...args]);
    expect(steps[0]?.slice(0, 6)).toEqual(['powershell', '-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-Command']);
    expect(steps[0]?.[6]).toBe(
      "Add-Type -TypeDefinition ([IO.File]::ReadAllText('C:\\ProgramData\\ztna\\ztna-service.cs')) -Language CSharp -OutputAssembly 'C:\\ProgramData\\ztna\\ztna-service.exe' -OutputType ConsoleApplication -ReferencedAssemblies 'System.ServiceProcess'",
    );
    expect(steps.slice(1)).toEqual([
      ['sc', 'create', 'ztna', 'binPath=', 'C:\\ProgramData\\ztna\\ztna-service.exe', 'start=', 'auto', 'obj=', 'LocalSystem', 'DisplayName=', 'ztna device posture agent'],
      ['sc', 'description', 'ztna', 'ztna device posture agent'],
      ['sc', 'failure', 'ztna', 'reset=', '86400', 'actions=', 'restart/5000/restart/5000/restart/60000'],
      ['sc', 'start', 'ztna'],
    ]);
    expect(uninstallSteps(agent, 'win32')).toEqual([
      ['sc', ['stop', 'ztna']],
      ['sc', ['delete', 'ztna']],
    ]);
  });

  it('quotes a host path with spaces for binPath and escapes PowerShell quotes', () => {
    const odd = { ...agent, stateDir: "C:\\Program Data\\O'Brien" };
    const [compile, create] = installSteps(odd, 'win32', 'unused');
    expect(compile?.[1][5]).toContain("'C:\\Program Data\\O''Brien\\ztna-service.exe'");
    expect(create?.[1][3]).toBe('"C:\\Program Data\\O\'Brien\\ztna-service.exe"');
  });

  it('the C# host runs the real command with its environment and logs to a file', () => {
    const source = windowsServiceHostSource({ ...agent, command: ['C:\\Program Files\\ztna\\ztna.exe', 'daemon', 'say "hi"'] });
    expect(source).toContain('ServiceName = @"ztna";');
    expect(source).toContain('new ProcessStartInfo(@"C:\\Program Files\\ztna\\ztna.exe", @"daemon ""say \\""hi\\""""")');
    expect(source).toContain('info.EnvironmentVariables[@"ZTNA_CONFIG_DIR"] = @"C:\\ProgramData\\ztna";');
    expect(source).toContain('@"C:\\ProgramData\\ztna\\logs\\agent.log"');
    expect(source).toContain('ServiceBase.Run(new ZtnaServiceHost())');
    // Balanced braces: a cheap guard against a template edit that breaks the C#.
    expect(source.split('{').length).toBe(source.split('}').length);
  });

  it('reads the state from real `sc query` output', () => {
    expect(parseScQueryState(fixture('sc-query-running.txt'))).toBe('RUNNING');
    expect(parseScQueryState(fixture('sc-query-start-pending.txt'))).toBe('START_PENDING');
    expect(parseScQueryState(fixture('sc-query-not-installed.txt'))).toBeNull();
  });
});

describe('install --dry-run plan', () => {
  it('shows the definition file and the commands, for each platform', () => {
    const linux = installPlan(agentLinux, 'linux');
    expect(linux.unit_file).toBe('/etc/systemd/system/ztna.service');
    expect(linux.commands).toEqual([
      ['systemctl', 'daemon-reload'],
      ['systemctl', 'enable', '--now', 'ztna.service'],
    ]);
    const mac = installPlan(agentServiceDefinition(['/usr/local/bin/ztna', 'daemon'], 'darwin', {}), 'darwin');
    expect(mac.commands).toEqual([['launchctl', 'bootstrap', 'system', '/Library/LaunchDaemons/com.ztna.agent.plist']]);
    const server = installPlan(serverLinux, 'linux');
    expect(server.unit_file).toBe('/etc/systemd/system/ztna-server.service');
  });
});

// SPEC 7.1 / issue 12: the service runs as root, so a program, bundle or directory above
// them that a non-root user can write is a root compromise waiting to happen (was: the
// unit simply ran whatever path the installing command had).
describe('a root service runs only what only root can change', () => {
  const tree: Record<string, { uid: number; mode: number; isDirectory: boolean }> = {
    '/': { uid: 0, mode: 0o40755, isDirectory: true },
    '/usr': { uid: 0, mode: 0o40755, isDirectory: true },
    '/usr/local': { uid: 0, mode: 0o42775, isDirectory: true },
    '/usr/local/bin': { uid: 0, mode: 0o40755, isDirectory: true },
    '/usr/local/bin/ztna': { uid: 0, mode: 0o100755, isDirectory: false },
    '/usr/sbin': { uid: 0, mode: 0o40755, isDirectory: true },
    '/usr/sbin/ztna': { uid: 0, mode: 0o100755, isDirectory: false },
    '/home': { uid: 0, mode: 0o40755, isDirectory: true },
    '/home/dev': { uid: 1000, mode: 0o40755, isDirectory: true },
    '/home/dev/ztna': { uid: 0, mode: 0o100755, isDirectory: false },
    '/tmp': { uid: 0, mode: 0o41777, isDirectory: true },
    '/tmp/build': { uid: 0, mode: 0o40755, isDirectory: true },
    '/tmp/build/ztna': { uid: 0, mode: 0o100755, isDirectory: false },
    '/opt': { uid: 0, mode: 0o40777, isDirectory: true },
    '/opt/ztna': { uid: 0, mode: 0o100775, isDirectory: false },
  };
  const stat = (path: string) => tree[path] ?? null;

  it('accepts root-owned files in root-owned directories, and a sticky world-writable one (/tmp)', () => {
    expect(rootOwnershipProblems(['/usr/sbin/ztna'], stat)).toEqual([]);
    expect(rootOwnershipProblems(['/tmp/build/ztna'], stat)).toEqual([]);
  });

  it('refuses a file under a directory another user owns, a group-writable directory, a world-writable one, a group-writable file', () => {
    expect(rootOwnershipProblems(['/home/dev/ztna'], stat)).toEqual(['/home/dev belongs to uid 1000, not root']);
    expect(rootOwnershipProblems(['/usr/local/bin/ztna'], stat)).toEqual(['/usr/local is writable by its group (mode 2775)']);
    expect(rootOwnershipProblems(['/opt/ztna'], stat)).toEqual(['/opt/ztna is writable by its group (mode 0775)', '/opt is writable by every user (mode 0777)']);
    expect(rootOwnershipProblems(['/nowhere/ztna'], stat)).toContain('/nowhere/ztna does not exist');
  });
});
