/**
 * Safe decoding of Apple property lists (XML or binary) for the macOS parsers.
 *
 * The `plist` package throws on malformed XML and, through @xmldom/xmldom, prints
 * `[xmldom fatalError]` lines to stderr before it does. So text that cannot be a whole
 * XML plist (no XML/plist header, or no closing `</plist>`: truncated output) is refused
 * here without calling the library; only plausible documents reach it, inside try/catch
 * and with those prints captured into the detail.
 *
 * Quirks kept in mind by the callers:
 * - `<date>` values come back as `Date`, and an unparseable date comes back as an
 *   Invalid Date (NaN time) rather than an error: check `Number.isNaN(date.getTime())`.
 * - A `Uint8Array` is always handed to the binary parser by the library, so bytes that
 *   are not `bplist00` are decoded as UTF-8 text first.
 * - `plutil -convert json` is not used anywhere: it fails on plists holding `<data>` or
 *   `<date>` values (research §1.1).
 */
import { parse, parseBinary, type PlistValue } from 'plist';
import type { Finding } from '../types.ts';
import { clip, firstLine, unknown } from '../types.ts';

export type { PlistValue };
export type PlistDict = { readonly [key: string]: PlistValue };

/** A parse that yields an intermediate value, or the unknown finding that explains why not. */
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly finding: Finding<never> };

export type PlistDecode =
  | { readonly ok: true; readonly value: PlistValue }
  | { readonly ok: false; readonly reason: 'empty_output' | 'unparsed_output'; readonly detail: string };

const BINARY_MAGIC = 'bplist00';
const XML_START = /^(?:<\?xml\b|<!DOCTYPE plist\b|<plist\b)/;
const XML_END = /<\/plist>\s*$/;

/** Decodes an XML or binary plist; never throws. `what` names the source in details. */
export function decodePlist(input: string | Uint8Array, what: string): PlistDecode {
  if (typeof input !== 'string') {
    if (input.length >= BINARY_MAGIC.length && Buffer.from(input.subarray(0, 8)).toString('latin1') === BINARY_MAGIC) {
      try {
        return { ok: true, value: parseBinary(new Uint8Array(input)) };
      } catch (error) {
        return { ok: false, reason: 'unparsed_output', detail: `${what} is a damaged binary plist: ${message(error)}` };
      }
    }
    return decodePlist(Buffer.from(input).toString('utf8'), what);
  }
  const text = input.replace(/^\uFEFF/, '').trim();
  if (text === '') return { ok: false, reason: 'empty_output', detail: `${what} is empty` };
  if (text.startsWith('bplist')) {
    return { ok: false, reason: 'unparsed_output', detail: `${what} is a binary plist read as text` };
  }
  if (!XML_START.test(text)) {
    return { ok: false, reason: 'unparsed_output', detail: `${what} is not an XML plist: "${clip(firstLine(text))}"` };
  }
  if (!XML_END.test(text)) {
    return { ok: false, reason: 'unparsed_output', detail: `${what} is truncated: no closing </plist>` };
  }
  const { result, logged } = withConsoleErrorCaptured(() => parse(text));
  if (result.ok) return { ok: true, value: result.value };
  const why = logged.find((line) => line.includes('fatalError')) ?? message(result.error);
  return { ok: false, reason: 'unparsed_output', detail: `${what} is not a valid plist: ${clip(why.replace(/^\[xmldom \w+\]\s*/, ''))}` };
}

/**
 * Runs a synchronous call with console.error captured. @xmldom/xmldom reports parse errors
 * by printing them (the plist package passes it no error handler); captured, they become the
 * finding's detail instead of noise on the agent's stderr. Safe because nothing else can run
 * while the synchronous call does.
 */
function withConsoleErrorCaptured<T>(call: () => T): {
  result: { ok: true; value: T } | { ok: false; error: unknown };
  logged: string[];
} {
  const logged: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => {
    logged.push(firstLine(args.map(String).join(' ')));
  };
  try {
    return { result: { ok: true, value: call() }, logged };
  } catch (error) {
    return { result: { ok: false, error }, logged };
  } finally {
    console.error = original;
  }
}

/** The unknown finding for a failed decode. */
export function decodeProblem(decoded: Extract<PlistDecode, { ok: false }>, method: string): Finding<never> {
  return unknown(decoded.reason, method, decoded.detail);
}

export function isDict(value: PlistValue | undefined): value is PlistDict {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Date) &&
    !(value instanceof Uint8Array)
  );
}

export function stringAt(dict: PlistDict, key: string): string | undefined {
  const value = dict[key];
  return typeof value === 'string' ? value : undefined;
}

export function booleanAt(dict: PlistDict, key: string): boolean | undefined {
  const value = dict[key];
  return typeof value === 'boolean' ? value : undefined;
}

/** A `<date>` value, or undefined when absent, of another type, or unparseable. */
export function dateAt(dict: PlistDict, key: string): Date | undefined {
  const value = dict[key];
  return value instanceof Date && !Number.isNaN(value.getTime()) ? value : undefined;
}

export function stringsAt(dict: PlistDict, key: string): string[] | undefined {
  const value = dict[key];
  if (!Array.isArray(value)) return undefined;
  return value.every((item) => typeof item === 'string') ? (value as string[]) : undefined;
}

function message(error: unknown): string {
  return clip(firstLine(error instanceof Error ? error.message : String(error)));
}

export { clip };
