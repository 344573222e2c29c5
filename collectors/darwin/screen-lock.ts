/**
 * screen_lock_enabled on macOS (collectors/parsers/darwin-screen-lock.ts): an MDM profile
 * that requires the password decides; otherwise the keybag's grace period through
 * `sysadminctl -screenLock status`, asked in the console user's session — a root agent runs
 * it with `launchctl asuser <uid>` (the setting is per user and root has none: osquery#6451,
 * fleet#6282). Nobody at the console (the login window) → not_applicable.
 */
import { MANAGED_SCREENSAVER_PLIST, parseManagedScreensaver, parseSysadminctlScreenLock } from '../parsers/darwin-screen-lock.ts';
import type { Collector } from '../types.ts';
import { commandProblem, unknown } from '../types.ts';

export const screenLockCollector: Collector<'screen_lock_enabled'> = {
  signal: 'screen_lock_enabled',
  async collect(ctx) {
    const profile = await ctx.read(MANAGED_SCREENSAVER_PLIST, { maxBytes: 1_000_000 });
    if (profile.ok) {
      const managed = parseManagedScreensaver(profile.data);
      if (managed.value !== null) return managed;
    }
    let result;
    if (ctx.privileged) {
      const consoleOwner = await ctx.stat('/dev/console');
      if (consoleOwner.uid === undefined) return unknown('unparsed_output', 'sysadminctl', 'the owner of /dev/console (the user at the screen) could not be read');
      if (consoleOwner.uid === 0) return unknown('not_applicable', 'sysadminctl', 'nobody is logged in at the console (the login window is showing): there is no session to lock');
      result = await ctx.run('launchctl', ['asuser', String(consoleOwner.uid), '/usr/sbin/sysadminctl', '-screenLock', 'status']);
    } else {
      result = await ctx.run('sysadminctl', ['-screenLock', 'status']);
    }
    // sysadminctl exits 0 whatever it says; the line is on stderr.
    if (result.failure !== undefined) return commandProblem<boolean>(result, 'sysadminctl') ?? unknown('command_failed', 'sysadminctl', 'sysadminctl did not run');
    return parseSysadminctlScreenLock(`${result.stderr}\n${result.stdout}`);
  },
};
