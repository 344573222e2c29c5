/**
 * Dotted version numbers (SPEC 7.2): `14.4.1`, `10.0.22631.3447`, a Linux `VERSION_ID`
 * such as `12` or `24.04`. They compare numerically, component by component, and a
 * missing component counts as 0: `10.0.9` < `10.0.10`, `14` = `14.0` = `14.0.0`,
 * `14.4` < `14.4.1`. Anything else (`rolling`, `15.0-beta`, empty) is not a version: a
 * comparison with it is unknown, never a guess.
 */

/** At most this many components and digits per component: no real version is longer. */
const MAX_COMPONENTS = 8;
const VERSION_PATTERN = /^\d{1,9}(?:\.\d{1,9}){0,7}$/;

/** The numeric components of a dotted version, or null when `text` is not one. */
export function parseVersion(text: unknown): number[] | null {
  if (typeof text !== 'string') return null;
  const trimmed = text.trim();
  if (!VERSION_PATTERN.test(trimmed)) return null;
  const parts = trimmed.split('.').map(Number);
  return parts.length <= MAX_COMPONENTS ? parts : null;
}

export function isVersion(text: unknown): boolean {
  return parseVersion(text) !== null;
}

/** -1, 0 or 1 as `a` is older than, the same as or newer than `b`; null when either is not a version. */
export function compareVersions(a: unknown, b: unknown): -1 | 0 | 1 | null {
  const left = parseVersion(a);
  const right = parseVersion(b);
  if (left === null || right === null) return null;
  for (let index = 0; index < Math.max(left.length, right.length); index++) {
    const difference = (left[index] ?? 0) - (right[index] ?? 0);
    if (difference !== 0) return difference < 0 ? -1 : 1;
  }
  return 0;
}

/** The newer of two versions (the first when they are equal); a non-version loses to a version. */
export function newerVersion(a: string | null, b: string | null): string | null {
  if (a === null || !isVersion(a)) return b !== null && isVersion(b) ? b : null;
  if (b === null || !isVersion(b)) return a;
  return compareVersions(b, a) === 1 ? b : a;
}
