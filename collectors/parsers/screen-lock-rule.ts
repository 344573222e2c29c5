/**
 * When a screen lock counts as on (`screen_lock_enabled`, SPEC 7.2: "a password is needed
 * after the screen locks or sleeps, within the OS's idle limit"), the same on every OS:
 * - the screen locks by itself after at most MAX_IDLE_BEFORE_LOCK_S of inactivity (CIS and
 *   NIST 800-53 AC-11 ask for 15 minutes), where the OS exposes that limit, and
 * - a password is asked at most MAX_LOCK_GRACE_S after the screen locked or slept (Kolide's
 *   macOS check allows 5 minutes).
 * A lock that engages later than that is reported as off, with the numbers in evidence.
 */
export const MAX_IDLE_BEFORE_LOCK_S = 900;
export const MAX_LOCK_GRACE_S = 300;
