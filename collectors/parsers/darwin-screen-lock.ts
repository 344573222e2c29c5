/**
 * screen_lock_enabled on macOS.
 *
 * Since 10.13 the "require password after sleep or screen saver" setting lives in the
 * user's keybag, not in com.apple.screensaver's preferences (Kolide, "macOS 10.13 Broke
 * Screenlock Detection"; stethoscope-app#33): an absent `askForPassword` key means nothing.
 * Two sources remain:
 * - an MDM profile (`/Library/Managed Preferences/com.apple.screensaver.plist`, Apple's
 *   device-management schema com.apple.screensaver: `askForPassword` boolean,
 *   `askForPasswordDelay` seconds, 2147483647 = disabled): what is enforced;
 * - `sysadminctl -screenLock status`, which asks the keybag for the logged-in user's grace
 *   period (osquery's screenlock table reads the same value through MKBDeviceGetGracePeriod)
 *   and prints ONE line on stderr with an NSLog prefix:
 *     2023-03-03 15:25:06.223 sysadminctl[35718:252330] screenLock delay is immediate
 *     … screenLock delay is 300 seconds
 *     … screenLock is off
 *   Its exit status is 0 whatever happened, so only the text decides. It answers for the
 *   user whose session it runs in: a root agent runs it with `launchctl asuser <uid>`.
 * Rule (screen-lock-rule.ts): on when a password is asked at most MAX_LOCK_GRACE_S after
 * the screen saver starts or the display sleeps. macOS does not expose the idle time before
 * the screen saver to other processes since 10.13, so only the grace period is judged.
 */
import type { Finding } from '../types.ts';
import { known, unknown } from '../types.ts';
import { booleanAt, decodePlist, decodeProblem, isDict } from './darwin-plist.ts';
import { MAX_LOCK_GRACE_S } from './screen-lock-rule.ts';

export const MANAGED_SCREENSAVER_PLIST = '/Library/Managed Preferences/com.apple.screensaver.plist';
/** Apple's "disabled" value of askForPasswordDelay (INT32_MAX). */
const DISABLED_DELAY = 2_147_483_647;

export function parseSysadminctlScreenLock(output: string): Finding<boolean> {
  const method = 'sysadminctl';
  const text = output.trim();
  if (text === '') return unknown('empty_output', method, '`sysadminctl -screenLock status` printed nothing');
  if (/\bscreenLock is off\b/.test(text)) return known(false, method, 'no password is required after sleep or the screen saver (screenLock is off)', { grace_period_s: null });
  if (/\bscreenLock delay is immediate\b/.test(text)) return known(true, method, 'a password is required immediately after sleep or the screen saver', { grace_period_s: 0 });
  const delayed = /\bscreenLock delay is (-?\d+)(?:\.\d+)? seconds?\b/.exec(text);
  if (delayed) {
    const seconds = Number(delayed[1]);
    if (seconds < 0 || seconds >= DISABLED_DELAY) return known(false, method, `no password is required after sleep or the screen saver (delay ${seconds})`, { grace_period_s: null });
    if (seconds > MAX_LOCK_GRACE_S) return known(false, method, `a password is required only ${seconds} s after sleep or the screen saver (more than ${MAX_LOCK_GRACE_S} s)`, { grace_period_s: seconds });
    return known(true, method, `a password is required ${seconds} s after sleep or the screen saver`, { grace_period_s: seconds });
  }
  const line = text.split('\n')[0]?.replace(/^\S+ \S+ sysadminctl\[[\d:]+\] /, '').slice(0, 160) ?? '';
  return unknown('unparsed_output', method, `\`sysadminctl -screenLock status\` said "${line}"`);
}

export function parseManagedScreensaver(input: string | Uint8Array): Finding<boolean> {
  const method = 'managed-profile';
  const decoded = decodePlist(input, 'the managed screen saver profile');
  if (!decoded.ok) return decodeProblem(decoded, method);
  const root = decoded.value;
  if (!isDict(root)) return unknown('unparsed_output', method, `${MANAGED_SCREENSAVER_PLIST} is not a dictionary`);
  const ask = booleanAt(root, 'askForPassword');
  const delayValue = root.askForPasswordDelay;
  const delay = typeof delayValue === 'number' && Number.isFinite(delayValue) ? delayValue : null;
  const facts = { ask_for_password: ask ?? null, ask_for_password_delay_s: delay };
  if (ask === undefined) return unknown('unparsed_output', method, `${MANAGED_SCREENSAVER_PLIST} does not set askForPassword`, facts);
  if (!ask || (delay !== null && delay >= DISABLED_DELAY)) return known(false, method, `the MDM profile does not require a password after the screen saver (askForPassword ${String(ask)}${delay === null ? '' : `, delay ${delay}`})`, facts);
  if (delay !== null && delay > MAX_LOCK_GRACE_S) return known(false, method, `the MDM profile requires a password only ${delay} s after the screen saver (more than ${MAX_LOCK_GRACE_S} s)`, facts);
  return known(true, method, `the MDM profile requires a password ${delay === null || delay === 0 ? 'immediately' : `${delay} s`} after the screen saver`, facts);
}
