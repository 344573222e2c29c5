/** The generated service definitions, checked by the platforms' own parsers where we have them. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parsePlist } from 'plist';
import { describe, expect, it } from 'vitest';
import { launchdPlist, systemdUnit, windowsTaskXml } from '../../src/agent/service.ts';
import { createCommandRunner } from '../../src/platform/command-runner.ts';

const spec = { command: [process.execPath, '/opt/ztna dir/ztna.js', 'daemon'], configDir: '/var/lib/ztna' };

describe('systemd unit', () => {
  const unit = systemdUnit(spec);
  it('runs the daemon with the system config dir, restarts on failure, and is hardened', () => {
    expect(unit).toContain(`ExecStart="${process.execPath}" "/opt/ztna dir/ztna.js" "daemon"`);
    expect(unit).toContain('Environment="ZTNA_CONFIG_DIR=/var/lib/ztna"');
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^ProtectSystem=strict$/m);
    expect(unit).toMatch(/^ReadWritePaths=\/var\/lib\/ztna$/m);
    expect(unit).toMatch(/^WantedBy=multi-user.target$/m);
  });
  const runner = createCommandRunner({ platform: 'linux', allowList: { 'systemd-analyze': { paths: { linux: ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'] } } } });
  it('passes `systemd-analyze verify` (when the tool is installed)', async (context) => {
    if ((await runner.resolve('systemd-analyze')) === null) return context.skip();
    const dir = mkdtempSync(join(tmpdir(), 'ztna-unit-'));
    const path = join(dir, 'ztna.service');
    writeFileSync(path, systemdUnit({ command: [process.execPath, join(dir, 'ztna.js'), 'daemon'], configDir: '/var/lib/ztna' }));
    writeFileSync(join(dir, 'ztna.js'), '');
    const result = await runner.run('systemd-analyze', ['verify', path]);
    // Only problems with our unit count; the host's other units are not ours to judge.
    const ours = result.stderr.split('\n').filter((line) => line.includes('ztna.service'));
    expect(ours, result.stderr).toEqual([]);
    expect(result.exitCode, result.stderr).toBe(0);
  });
});

describe('launchd plist', () => {
  it('parses as a property list with the keys launchd needs', () => {
    const parsed = parsePlist(launchdPlist(spec)) as Record<string, unknown>;
    expect(parsed).toMatchObject({
      Label: 'com.ztna.agent',
      ProgramArguments: spec.command,
      EnvironmentVariables: { ZTNA_CONFIG_DIR: '/var/lib/ztna' },
      RunAtLoad: true,
      KeepAlive: true,
    });
  });
  it('escapes XML in arguments', () => {
    const parsed = parsePlist(launchdPlist({ command: ['/a & <b>/ztna', 'daemon'], configDir: '/x' })) as { ProgramArguments: string[] };
    expect(parsed.ProgramArguments[0]).toBe('/a & <b>/ztna');
  });
});

describe('Windows scheduled task', () => {
  it('starts at boot as SYSTEM and restarts on failure, with quoted arguments', () => {
    const task = windowsTaskXml({ command: ['C:\\Program Files\\ztna\\ztna.exe', 'daemon'], configDir: 'C:\\ProgramData\\ztna' });
    expect(task).toContain('<BootTrigger>');
    expect(task).toContain('<UserId>S-1-5-18</UserId>');
    expect(task).toContain('<RestartOnFailure>');
    expect(task).toContain('<Command>C:\\Program Files\\ztna\\ztna.exe</Command>');
    expect(task).toContain('<Arguments>daemon</Arguments>');
    // Well-formed: every opened element is closed.
    const opened = [...task.matchAll(/<([A-Za-z]+)(\s[^>]*)?>/g)].filter((m) => !m[0].endsWith('/>')).map((m) => m[1]);
    const closed = [...task.matchAll(/<\/([A-Za-z]+)>/g)].map((m) => m[1]);
    expect(opened.sort()).toEqual(closed.sort());
  });
});
