/**
 * screen_lock_enabled on Windows, from collectors/windows/screen-lock.ts's probe:
 * `{machine, mdm, system, user_sid, user_policy?, user?}`, each registry group
 * `{<value name>: "<text>", missing?: true, error?: {...}}`.
 * Sources (Microsoft Learn; CIS Windows benchmarks):
 * - machine policy "Interactive logon: Machine inactivity limit":
 *   HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System `InactivityTimeoutSecs`
 *   (seconds; 0 or absent = off): Windows locks the session after that much inactivity;
 * - Intune/MDM DeviceLock `MaxInactivityTimeDeviceLock` (minutes) under
 *   HKLM\SOFTWARE\Microsoft\PolicyManager\current\device\DeviceLock;
 * - the console user's screen saver, the user policy
 *   (HKU\<sid>\Software\Policies\Microsoft\Windows\Control Panel\Desktop) over the user's own
 *   (HKU\<sid>\Control Panel\Desktop): `ScreenSaveActive` "1", `ScreenSaverIsSecure` "1" (on
 *   resume, display the logon screen), `ScreenSaveTimeOut` seconds, and `SCRNSAVE.EXE` set
 *   (without a screen saver program the timeout does nothing). A fresh profile has only
 *   ScreenSaveActive "1": no lock.
 * Rule (screen-lock-rule.ts): on when one of them locks within MAX_IDLE_BEFORE_LOCK_S. A read
 * that failed never becomes false; no interactive user and no machine policy →
 * not_applicable (nobody's session to lock).
 */
import type { Finding } from '../types.ts';
import { known, unknown } from '../types.ts';
import { MAX_IDLE_BEFORE_LOCK_S } from './screen-lock-rule.ts';
import { asRecord, asString, parseProbeOutput } from './windows-powershell.ts';

const METHOD = 'registry:screen-lock';

type Group = { readonly values: Readonly<Record<string, string>>; readonly failed: boolean } | null;

interface ScreenLockProbe {
  readonly machine: Group;
  readonly mdm: Group;
  readonly userSid: string | null;
  readonly userPolicy: Group;
  readonly user: Group;
}

function group(value: unknown): Group {
  const record = asRecord(value);
  if (record === null) return null;
  const values: Record<string, string> = {};
  for (const [key, item] of Object.entries(record)) if (typeof item === 'string') values[key] = item;
  return { values, failed: asRecord(record.error) !== null };
}

function read(value: unknown): ScreenLockProbe | null {
  const record = asRecord(value);
  if (record === null) return null;
  return { machine: group(record.machine), mdm: group(record.mdm), userSid: asString(record.user_sid)?.trim() || null, userPolicy: group(record.user_policy), user: group(record.user) };
}

const seconds = (text: string | undefined) => (text !== undefined && /^\d{1,10}$/.test(text.trim()) ? Number(text.trim()) : null);
const within = (value: number | null) => value !== null && value > 0 && value <= MAX_IDLE_BEFORE_LOCK_S;

function decide(probe: ScreenLockProbe): Finding<boolean> {
  const inactivity = seconds(probe.machine?.values.InactivityTimeoutSecs);
  const mdmMinutes = seconds(probe.mdm?.values.MaxInactivityTimeDeviceLock);
  const effective = (name: string) => probe.userPolicy?.values[name] ?? probe.user?.values[name];
  const saver = {
    active: effective('ScreenSaveActive'),
    secure: effective('ScreenSaverIsSecure'),
    timeout: seconds(effective('ScreenSaveTimeOut')),
    program: effective('SCRNSAVE.EXE'),
  };
  const facts = {
    inactivity_timeout_s: inactivity,
    mdm_max_inactivity_min: mdmMinutes,
    user_sid: probe.userSid,
    screen_saver: { active: saver.active ?? null, secure: saver.secure ?? null, timeout_s: saver.timeout, program: saver.program ?? null, by_policy: probe.userPolicy !== null && Object.keys(probe.userPolicy.values).length > 0 },
  };
  if (within(inactivity)) return known(true, METHOD, `the machine policy locks the session after ${inactivity} s of inactivity (InactivityTimeoutSecs)`, facts);
  if (mdmMinutes !== null && within(mdmMinutes * 60)) return known(true, METHOD, `the MDM DeviceLock policy locks the device after ${mdmMinutes} min of inactivity`, facts);
  const saverLocks = saver.active === '1' && saver.secure === '1' && (saver.program ?? '').trim() !== '';
  if (saverLocks && within(saver.timeout)) return known(true, METHOD, `the screen saver starts after ${saver.timeout} s and asks for the password on resume`, facts);
  if (probe.userSid === null) {
    if (probe.machine?.failed || probe.mdm?.failed) return unknown('needs_privilege', METHOD, 'the machine inactivity policy could not be read, and nobody is logged on', facts);
    return unknown('not_applicable', METHOD, 'nobody is logged on interactively and no machine inactivity limit is set: there is no session to lock', facts);
  }
  if (probe.machine?.failed || probe.mdm?.failed || probe.user === null || probe.user.failed || probe.userPolicy?.failed) {
    return unknown('needs_privilege', METHOD, `the lock settings of ${probe.userSid} could not all be read`, facts);
  }
  const why = saverLocks
    ? `the screen saver locks only after ${saver.timeout ?? 'no'} s (more than ${MAX_IDLE_BEFORE_LOCK_S} s, or never)`
    : saver.active !== '1'
      ? 'the screen saver is off'
      : (saver.program ?? '').trim() === ''
        ? 'no screen saver program is set, so the screen saver never starts'
        : 'the screen saver does not ask for the password on resume (ScreenSaverIsSecure is not 1)';
  return known(false, METHOD, `no inactivity lock: no machine or MDM inactivity limit within ${MAX_IDLE_BEFORE_LOCK_S} s, and ${why}`, facts);
}

export function parseWindowsScreenLock(text: string): Finding<boolean> {
  return parseProbeOutput(text, METHOD, 'screen lock', read, decide);
}
