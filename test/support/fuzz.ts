/**
 * Shared settings of the fuzz suites (test/server/fuzz-routes.test.ts,
 * test/collectors/fuzz-parsers.test.ts, test/agent/fuzz-config.test.ts).
 *
 * - ZTNA_FUZZ_RUNS: the number of generated cases per suite file (per engine for the server
 *   suite), shared out between its properties by weight. `npm test` runs the default;
 *   `scripts/fuzz --runs N` runs many more.
 * - ZTNA_FUZZ_SEED: replays a run (fast-check prints the seed and path of a failure).
 */
import fc from 'fast-check';

export function fuzzRuns(defaultRuns: number): number {
  const raw = process.env.ZTNA_FUZZ_RUNS;
  if (raw === undefined || raw === '') return defaultRuns;
  const runs = Number(raw);
  if (!Number.isSafeInteger(runs) || runs < 1) throw new Error(`ZTNA_FUZZ_RUNS must be a positive integer, got "${raw}"`);
  return runs;
}

/** A share of the suite's cases (at least 1). */
export function share(total: number, weight: number): number {
  return Math.max(1, Math.round(total * weight));
}

/** fast-check parameters: a fixed seed when ZTNA_FUZZ_SEED is set; no shrinking. */
export function fcParameters(numRuns: number): fc.Parameters<unknown> {
  const seed = process.env.ZTNA_FUZZ_SEED;
  return {
    numRuns,
    ...(seed !== undefined && seed !== '' ? { seed: Number(seed) } : {}),
    // A failure is reported with its seed, path and input. Shrinking would re-run cases
    // against a server whose state the failing case may already have changed.
    endOnFailure: true,
  };
}

/** A vitest timeout that grows with the number of cases (generous: the box is shared and slow). */
export function timeoutFor(cases: number, msPerCase: number): number {
  return Math.max(60_000, Math.ceil(cases * msPerCase * 4));
}

/** Strings a hostile client or a broken tool would send. */
export const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\uFEFF',
  '\uFFFD',
  '\uD800',
  '\uDFFF',
  '\u202E',
  '\r\n',
  '\\',
  '"',
  "'",
  '`',
  '%',
  '%00',
  '%ff',
  '%zz',
  '${7*7}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  "' OR 1=1--",
  "x' OR '1'='1",
  "'; DROP TABLE machines; --",
  '1; DROP TABLE machines',
  '1 UNION SELECT key_hash FROM auth_keys',
  '") OR ("1"="1',
  '$ne',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'null',
  'undefined',
  'true',
  'NaN',
  'Infinity',
  '-Infinity',
  '-0',
  '1e309',
  '0x10',
  '9007199254740993',
  '-1',
  '../../etc/passwd',
  '..\\..\\windows\\win.ini',
  'ztna_node_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  'ztna_auth_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  'in.(',
  'eq.',
  '*',
  '🙂',
  'é',
] as const;

/** Number literals as JSON text (so that 1e309, -0 and 2^53 + 1 reach the server as written). */
export const NASTY_NUMBER_LITERALS = ['0', '-0', '-1', '1.5', '-1.5', '1e3', '1e309', '-1e309', '1e-400', '9007199254740993', '-9007199254740993', '2147483648', '4294967296', '18446744073709551616', '1E2', '0.0', '123456789012345678901234567890'] as const;

export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: 200, max: 5_000 }).map((n) => 'x'.repeat(n)) },
);

export const nastyNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, -0, -1, 1, 0.5, -0.5, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e300, -1e300, Number.MAX_VALUE, Number.MIN_VALUE, Number.EPSILON),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Any JSON value, with keys that pollute prototypes among the ordinary ones. */
export function nastyJson(keys: readonly string[] = [], maxDepth = 4): fc.Arbitrary<unknown> {
  const key = fc.oneof(
    { weight: 3, arbitrary: keys.length > 0 ? fc.constantFrom(...keys) : fc.string({ maxLength: 8 }) },
    { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'toJSON', 'length', '$ne') },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  );
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', maxDepth, withCrossShrink: true },
      fc.constant(null),
      fc.boolean(),
      nastyNumber,
      nastyString,
      fc.array(tie('value'), { maxLength: 5 }),
      fc.dictionary(key, tie('value'), { maxKeys: 6 }),
    ),
  }));
  return value;
}

/** `value` nested `depth` levels deep in arrays or objects. */
export function nested(depth: number, kind: 'array' | 'object', leaf = 'null'): string {
  return kind === 'array' ? `${'['.repeat(depth)}${leaf}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}${leaf}${'}'.repeat(depth)}`;
}

/** Prints one figure line in the run's output (vitest shows it under the file's name). */
export function printFigure(line: string): void {
  console.log(line);
}
