/**
 * screen_lock_enabled on Linux: for each graphical session logind knows, its desktop's lock
 * settings (collectors/parsers/linux-screen-lock.ts); the weakest session counts. No
 * graphical session (a server, a login screen) → not_applicable.
 * - KDE: the user's ~/.config/kscreenlockerrc, read as a file.
 * - GNOME: `gsettings get` as that user. A root agent runs it through `runuser -u USER --`
 *   (runuser sets HOME, so gsettings reads the user's dconf database; no D-Bus is needed to
 *   read); an agent running as the session's own user runs it directly; anyone else cannot
 *   read another user's dconf database: unknown.
 * - Other desktops (XFCE, Cinnamon, sway, …): unknown (`unsupported_desktop`).
 */
import type { GnomeLockSettings, LoginSession } from '../parsers/linux-screen-lock.ts';
import { SESSIONS_DIR, gnomeLockFinding, graphicalSession, homeOf, kdeLockFinding, parseGsettingsValue, parseKscreenlockerrc, weakestLock } from '../parsers/linux-screen-lock.ts';
import type { Collector, Finding, ProbeContext } from '../types.ts';
import { known, unknown } from '../types.ts';

const GNOME_KEYS = {
  lockEnabled: ['org.gnome.desktop.screensaver', 'lock-enabled'],
  idleDelay: ['org.gnome.desktop.session', 'idle-delay'],
  lockDelay: ['org.gnome.desktop.screensaver', 'lock-delay'],
  disableLockScreen: ['org.gnome.desktop.lockdown', 'disable-lock-screen'],
} as const;

async function gnomeSettings(ctx: ProbeContext, session: LoginSession): Promise<Finding<boolean>> {
  const asUser = ctx.privileged;
  if (!asUser && ctx.env('USER') !== session.user && ctx.env('LOGNAME') !== session.user) {
    return unknown('needs_privilege', 'gsettings', `the GNOME settings of ${session.user} can be read only as that user or as root`);
  }
  const settings: Record<string, boolean | number | null> = {};
  for (const [name, [schema, key]] of Object.entries(GNOME_KEYS)) {
    const result = asUser ? await ctx.run('runuser', ['-u', session.user, '--', '/usr/bin/gsettings', 'get', schema, key]) : await ctx.run('gsettings', ['get', schema, key]);
    // "Using the 'memory' GSettings backend": gsettings could not reach the user's database and printed defaults.
    if (result.failure !== undefined || result.exitCode !== 0 || /memory' GSettings backend/.test(result.stderr)) {
      return unknown(result.failure === 'not_found' ? 'tool_missing' : 'command_failed', 'gsettings', `\`gsettings get ${schema} ${key}\` for ${session.user} gave no usable answer: ${(result.stderr || result.failureMessage || `exit ${String(result.exitCode)}`).trim().slice(0, 160)}`);
    }
    settings[name] = parseGsettingsValue(result.stdout);
  }
  const asBoolean = (value: boolean | number | null | undefined) => (typeof value === 'boolean' ? value : null);
  const asNumber = (value: boolean | number | null | undefined) => (typeof value === 'number' ? value : null);
  const read: GnomeLockSettings = {
    lockEnabled: asBoolean(settings.lockEnabled),
    idleDelay: asNumber(settings.idleDelay),
    lockDelay: asNumber(settings.lockDelay),
    disableLockScreen: asBoolean(settings.disableLockScreen),
  };
  return gnomeLockFinding(read, session.user);
}

async function kdeSettings(ctx: ProbeContext, session: LoginSession): Promise<Finding<boolean>> {
  const passwd = await ctx.read('/etc/passwd', { quiet: true });
  const home = passwd.ok ? homeOf(passwd.data.toString('utf8'), session.user) : null;
  if (home === null) return unknown('unparsed_output', 'kscreenlockerrc', `the home directory of ${session.user} is not in /etc/passwd`);
  const path = `${home}/.config/kscreenlockerrc`;
  const file = await ctx.read(path, { maxBytes: 256 * 1024 });
  if (!file.ok && file.failure !== 'missing') return unknown('needs_privilege', 'kscreenlockerrc', `${path} could not be read (${file.failure})`);
  return kdeLockFinding(parseKscreenlockerrc(file.ok ? file.data.toString('utf8') : null), session.user, path);
}

export const linuxScreenLock: Collector<'screen_lock_enabled'> = {
  signal: 'screen_lock_enabled',
  async collect(ctx) {
    const listing = await ctx.list(SESSIONS_DIR);
    if (!listing.ok) return unknown('unparsed_output', 'logind', `${SESSIONS_DIR} could not be listed (${listing.failure}): no systemd-logind session list`);
    const sessions: LoginSession[] = [];
    // `.ref` entries are FIFOs logind holds open: never read them.
    for (const name of listing.entries.filter((entry) => /^[A-Za-z0-9_-]+$/.test(entry)).sort()) {
      const file = await ctx.read(`${SESSIONS_DIR}/${name}`, { maxBytes: 64 * 1024, quiet: true });
      const session = file.ok ? graphicalSession(name, file.data.toString('utf8')) : null;
      if (session) sessions.push(session);
    }
    if (sessions.length === 0) {
      return unknown('not_applicable', 'logind', `no graphical session is open (${listing.entries.length} session(s) in ${SESSIONS_DIR}, none x11/wayland): there is no screen to lock`, { sessions: listing.entries.length });
    }
    const findings: Array<Finding<boolean>> = [];
    for (const session of sessions) {
      const desktop = session.desktop.toUpperCase();
      if (desktop.includes('KDE')) findings.push(await kdeSettings(ctx, session));
      else if (desktop.includes('GNOME') || desktop.includes('UNITY')) findings.push(await gnomeSettings(ctx, session));
      else findings.push(unknown('unsupported_desktop', 'logind', `session ${session.id} of ${session.user} runs "${session.desktop || 'an unnamed desktop'}", whose lock settings ztna cannot read`));
    }
    const weakest = weakestLock(findings);
    const facts = { ...weakest.facts, sessions: sessions.map((session) => ({ id: session.id, user: session.user, desktop: session.desktop, type: session.type })) };
    return weakest.value === null ? { ...weakest, facts } : known(weakest.value, weakest.method, weakest.detail, facts);
  },
};
