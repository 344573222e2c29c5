/**
 * screen_lock_enabled on Linux: the lock settings of each graphical session's desktop.
 *
 * Sessions: systemd-logind writes one `KEY=VALUE` file per session in /run/systemd/sessions
 * (src/login/logind-session.c, session_save: UID, USER, ACTIVE, STATE, REMOTE, TYPE, CLASS,
 * DESKTOP, …). A session is graphical when TYPE is x11, wayland or mir and CLASS is a user
 * class (not `greeter`, `lock-screen`, `manager`, `background`) and it is not closing. A
 * host without one (a server, or a login screen with nobody signed in) has nothing to lock:
 * `not_applicable`.
 *
 * GNOME (`gsettings get`, gsettings-desktop-schemas): org.gnome.desktop.screensaver
 * `lock-enabled` (default true), `lock-delay` (uint32 s after blanking, default 0),
 * org.gnome.desktop.session `idle-delay` (uint32 s before blanking, default 300; 0 = never),
 * org.gnome.desktop.lockdown `disable-lock-screen` (default false). gsettings prints `true`
 * or `uint32 300`.
 * KDE Plasma (`~/.config/kscreenlockerrc`, kscreenlocker's kscreenlockersettings.kcfg):
 * group [Daemon], `Autolock` (default true), `Timeout` (minutes, default 5), `LockGrace`
 * (seconds, default 5), `RequirePassword` (default true, Plasma ≥ 6.1). KConfig writes only
 * values that differ from the default, so a missing file or key is the default.
 * Thresholds: screen-lock-rule.ts.
 */
import type { Finding } from '../types.ts';
import { known, unknown } from '../types.ts';
import { MAX_IDLE_BEFORE_LOCK_S, MAX_LOCK_GRACE_S } from './screen-lock-rule.ts';

export const SESSIONS_DIR = '/run/systemd/sessions';

export interface LoginSession {
  readonly id: string;
  readonly uid: number;
  readonly user: string;
  readonly desktop: string;
  readonly type: string;
  readonly active: boolean;
}

/** A logind session file's fields (comments and malformed lines skipped). */
export function parseKeyValueFile(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match) fields[match[1] as string] = match[2] as string;
  }
  return fields;
}

const GRAPHICAL_TYPES = new Set(['x11', 'wayland', 'mir']);
const USER_CLASSES = new Set(['user', 'user-early', 'user-light', 'user-early-light', 'user-incomplete']);
/** What a user name may look like before it is handed to runuser (useradd's NAME_REGEX, leniently). */
const USER_NAME = /^[a-z_][a-z0-9_.-]{0,31}\$?$/i;

/** The graphical user session a session file describes, or null. */
export function graphicalSession(id: string, text: string): LoginSession | null {
  const fields = parseKeyValueFile(text);
  if (!GRAPHICAL_TYPES.has(fields.TYPE ?? '') || !USER_CLASSES.has(fields.CLASS ?? 'user') || fields.STATE === 'closing') return null;
  const uid = Number(fields.UID);
  const user = fields.USER ?? '';
  if (!Number.isInteger(uid) || uid < 0 || !USER_NAME.test(user)) return null;
  return { id, uid, user, desktop: fields.DESKTOP ?? '', type: fields.TYPE as string, active: fields.ACTIVE === '1' };
}

/** `/etc/passwd` → the home directory of `user`, or null. */
export function homeOf(passwd: string, user: string): string | null {
  for (const line of passwd.split('\n')) {
    const parts = line.split(':');
    if (parts[0] === user && parts.length >= 7 && (parts[5] ?? '').startsWith('/')) return parts[5] as string;
  }
  return null;
}

/** One `gsettings get` answer: `true` / `false`, `uint32 300` / `300`; null for anything else. */
export function parseGsettingsValue(stdout: string): boolean | number | null {
  const text = stdout.trim();
  if (text === 'true') return true;
  if (text === 'false') return false;
  const number = /^(?:u?int32 |uint64 )?(\d{1,10})$/.exec(text);
  return number ? Number(number[1]) : null;
}

export interface GnomeLockSettings {
  readonly lockEnabled: boolean | null;
  readonly idleDelay: number | null;
  readonly lockDelay: number | null;
  readonly disableLockScreen: boolean | null;
}

export function gnomeLockFinding(settings: GnomeLockSettings, who: string): Finding<boolean> {
  const method = 'gsettings';
  const facts = { user: who, lock_enabled: settings.lockEnabled, idle_delay_s: settings.idleDelay, lock_delay_s: settings.lockDelay, disable_lock_screen: settings.disableLockScreen };
  if (settings.lockEnabled === null || settings.idleDelay === null || settings.lockDelay === null) {
    return unknown('unparsed_output', method, `GNOME's lock settings of ${who} could not all be read`, facts);
  }
  if (settings.disableLockScreen === true) return known(false, method, `GNOME's lock screen is disabled by policy for ${who} (org.gnome.desktop.lockdown disable-lock-screen)`, facts);
  if (!settings.lockEnabled) return known(false, method, `GNOME's automatic screen lock is off for ${who} (lock-enabled false)`, facts);
  if (settings.idleDelay === 0) return known(false, method, `GNOME never blanks the screen for ${who} (idle-delay 0), so it never locks by itself`, facts);
  if (settings.idleDelay > MAX_IDLE_BEFORE_LOCK_S) return known(false, method, `GNOME blanks the screen of ${who} only after ${settings.idleDelay} s idle (more than ${MAX_IDLE_BEFORE_LOCK_S} s)`, facts);
  if (settings.lockDelay > MAX_LOCK_GRACE_S) return known(false, method, `GNOME locks ${settings.lockDelay} s after blanking for ${who} (more than ${MAX_LOCK_GRACE_S} s)`, facts);
  return known(true, method, `GNOME locks the screen of ${who} after ${settings.idleDelay} s idle${settings.lockDelay > 0 ? ` + ${settings.lockDelay} s` : ''}`, facts);
}

export interface KdeLockSettings {
  readonly autolock: boolean;
  readonly timeoutMinutes: number;
  readonly lockGraceSeconds: number;
  readonly requirePassword: boolean;
}

const KDE_DEFAULTS: KdeLockSettings = { autolock: true, timeoutMinutes: 5, lockGraceSeconds: 5, requirePassword: true };

/** kscreenlockerrc's [Daemon] group over the defaults; null for a value that is not valid. */
export function parseKscreenlockerrc(text: string | null): KdeLockSettings | null {
  if (text === null) return KDE_DEFAULTS;
  let group = '';
  const fields: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const header = /^\[([^\]]*)\]/.exec(line);
    if (header) {
      group = header[1] as string;
      continue;
    }
    const match = /^([A-Za-z]+)(?:\[\$i\])?\s*=\s*(.*)$/.exec(line);
    if (match && group === 'Daemon') fields[match[1] as string] = (match[2] as string).trim();
  }
  const flag = (value: string | undefined, fallback: boolean): boolean | null => {
    if (value === undefined) return fallback;
    if (/^(true|1|yes|on)$/i.test(value)) return true;
    if (/^(false|0|no|off)$/i.test(value)) return false;
    return null;
  };
  const number = (value: string | undefined, fallback: number): number | null => (value === undefined ? fallback : /^\d+(\.\d+)?$/.test(value) ? Number(value) : null);
  const autolock = flag(fields.Autolock, KDE_DEFAULTS.autolock);
  const requirePassword = flag(fields.RequirePassword, KDE_DEFAULTS.requirePassword);
  const timeoutMinutes = number(fields.Timeout, KDE_DEFAULTS.timeoutMinutes);
  const lockGraceSeconds = number(fields.LockGrace, KDE_DEFAULTS.lockGraceSeconds);
  if (autolock === null || requirePassword === null || timeoutMinutes === null || lockGraceSeconds === null) return null;
  return { autolock, requirePassword, timeoutMinutes, lockGraceSeconds };
}

export function kdeLockFinding(settings: KdeLockSettings | null, who: string, file: string): Finding<boolean> {
  const method = 'kscreenlockerrc';
  if (settings === null) return unknown('unparsed_output', method, `${file} has a [Daemon] value that is not valid`);
  const idle = Math.round(settings.timeoutMinutes * 60);
  const facts = { user: who, autolock: settings.autolock, timeout_s: idle, lock_grace_s: settings.lockGraceSeconds, require_password: settings.requirePassword };
  if (!settings.autolock) return known(false, method, `KDE's automatic screen lock is off for ${who} (Autolock=false)`, facts);
  if (!settings.requirePassword) return known(false, method, `KDE unlocks without a password for ${who} (RequirePassword=false)`, facts);
  if (idle === 0 || idle > MAX_IDLE_BEFORE_LOCK_S) return known(false, method, `KDE locks the screen of ${who} only after ${idle} s idle (more than ${MAX_IDLE_BEFORE_LOCK_S} s, or never)`, facts);
  if (settings.lockGraceSeconds > MAX_LOCK_GRACE_S) return known(false, method, `KDE asks ${who} for a password only ${settings.lockGraceSeconds} s after locking (more than ${MAX_LOCK_GRACE_S} s)`, facts);
  return known(true, method, `KDE locks the screen of ${who} after ${idle} s idle`, facts);
}

/** Several sessions: the weakest answer counts (false, then unknown, then true). */
export function weakestLock(findings: ReadonlyArray<Finding<boolean>>): Finding<boolean> {
  return findings.find((finding) => finding.value === false) ?? findings.find((finding) => finding.value === null) ?? (findings[0] as Finding<boolean>);
}
