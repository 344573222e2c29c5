/**
 * The string rules of SPEC 7.1, shared by the server (which refuses such strings at its
 * boundary, on both engines) and the agent (which escapes them before printing anything a
 * server sent, and cleans its own report text before sending it).
 *
 * A string is *unsafe* when it holds any of:
 *   - C0 controls U+0000–U+001F (tab and newline included), DEL U+007F, C1 controls
 *     U+0080–U+009F: terminal escape sequences start with ESC (U+001B) or CSI (U+009B);
 *   - Unicode format characters (general category Cf): bidi embeddings, overrides and
 *     isolates (U+202A–U+202E, U+2066–U+2069), zero-width space / joiners (U+200B–U+200D),
 *     the BOM (U+FEFF), soft hyphen (U+00AD) … — they reorder or hide text, so
 *     `laptop` and `lap\u200Btop` would print alike;
 *   - the line and paragraph separators U+2028 / U+2029 (categories Zl, Zp);
 *   - lone surrogates (half of a UTF-16 pair): PostgreSQL cannot store them in UTF-8.
 *
 * Everything here is pure and never throws.
 */

/**
 * One unsafe code point. With the `u` flag a lone surrogate is a code point of category
 * Cs, while a well-formed pair is one astral code point (not Cs), so `\p{Cs}` finds exactly
 * the lone halves.
 */
const UNSAFE_PATTERN = '[\\u0000-\\u001F\\u007F-\\u009F\\p{Cf}\\u2028\\u2029\\p{Cs}]';
const UNSAFE = new RegExp(UNSAFE_PATTERN, 'u');
const UNSAFE_GLOBAL = new RegExp(UNSAFE_PATTERN, 'gu');

export interface UnsafeCharacter {
  /** Index (UTF-16 code units) of the first unsafe character. */
  readonly index: number;
  /** `U+001B` style name of it. */
  readonly codePoint: string;
}

/** The first unsafe character of `text`, or null when the string is safe to store and print. */
export function unsafeCharacter(text: string): UnsafeCharacter | null {
  const match = UNSAFE.exec(text);
  if (!match) return null;
  return { index: match.index, codePoint: `U+${(match[0].codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}` };
}

/** Why `text` may not be stored, as the tail of a 400 message, or null. */
export function unsafeTextProblem(text: string): string | null {
  const bad = unsafeCharacter(text);
  if (!bad) return null;
  return `control characters, format characters (bidi, zero-width), line/paragraph separators and lone surrogates are not allowed (${bad.codePoint} at position ${bad.index})`;
}

/**
 * The first unsafe string (or object key) anywhere in a JSON value, with its path
 * (`evidence.firewall_enabled.detail`, `tags.2`), or null. Iterative: a deep value cannot
 * overflow the stack.
 */
export function findUnsafeText(value: unknown): { path: string; problem: string } | null {
  const stack: Array<{ value: unknown; path: string }> = [{ value, path: '' }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop() as { value: unknown; path: string };
    if (typeof current === 'string') {
      const problem = unsafeTextProblem(current);
      if (problem) return { path: path || 'body', problem };
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    const entries = Array.isArray(current) ? current.map((item, index) => [String(index), item] as const) : Object.entries(current);
    for (const [key, child] of entries) {
      const childPath = path ? `${path}.${key}` : key;
      const keyProblem = unsafeTextProblem(key);
      if (keyProblem) return { path: childPath, problem: `keys: ${keyProblem}` };
      stack.push({ value: child, path: childPath });
    }
  }
  return null;
}

/**
 * `text` with every unsafe character shown as a visible escape (`\u{1b}`), for printing
 * what a server (or any other party) sent on a terminal. Idempotent: the escapes are safe.
 */
export function escapeUnsafe(text: string): string {
  return text.replace(UNSAFE_GLOBAL, (character) => `\\u{${(character.codePointAt(0) as number).toString(16)}}`);
}

/** Every string (and key) inside a JSON value, escaped with `escapeUnsafe`. */
export function escapeUnsafeDeep<T>(value: T): T {
  if (typeof value === 'string') return escapeUnsafe(value) as T;
  if (Array.isArray(value)) return value.map((item) => escapeUnsafeDeep(item)) as T;
  if (typeof value === 'object' && value !== null) {
    const result: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) result[escapeUnsafe(key)] = escapeUnsafeDeep(child);
    return result as T;
  }
  return value;
}

/**
 * `text` made storable for a report the agent sends: runs of whitespace controls (tab,
 * newline, carriage return, the separators) become one space, any other unsafe character
 * its visible escape. Evidence quotes tool output, which has line breaks.
 */
export function cleanReportText(text: string): string {
  return escapeUnsafe(text.replace(/[\t\n\v\f\r\u0085\u2028\u2029]+/g, ' '));
}

/** `cleanReportText` over every string and key of a JSON value. */
export function cleanReportTextDeep<T>(value: T): T {
  if (typeof value === 'string') return cleanReportText(value) as T;
  if (Array.isArray(value)) return value.map((item) => cleanReportTextDeep(item)) as T;
  if (typeof value === 'object' && value !== null) {
    const result: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) result[cleanReportText(key)] = cleanReportTextDeep(child);
    return result as T;
  }
  return value;
}

/**
 * JSON text for a terminal: like JSON.stringify, but every unsafe character JSON leaves
 * as is (DEL, C1 controls, format characters, the separators) is written as a `\uXXXX`
 * escape, so the text parses to the same value and shows nothing invisible.
 */
export function terminalJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(/[\u007F-\u009F\p{Cf}\u2028\u2029]/gu, (character) => {
    const code = character.codePointAt(0) as number;
    // Astral format characters (U+E0001 tags, …) are two UTF-16 units.
    return code > 0xffff ? character.split('').map((unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`).join('') : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
