/**
 * Property-based fuzzing of every pure collector parser in collectors/parsers/ (issue 7,
 * item 2): random text and bytes, and mutations of the recorded fixtures in
 * test/fixtures/<os>/ (truncation, byte flips, line shuffles and duplicates, injected huge
 * lines, CRLF and BOM; for JSON fixtures also structural mutations: a node replaced by a
 * hostile value, with `__proto__`, `toString` and the fixture's own keys).
 *
 * Properties, for every input:
 * - the parser returns; it never throws (a collector that throws loses its evidence);
 * - the result keeps its type: a Finding's value is the signal's type or null (then with
 *   a reason), patch ages are whole days >= 0, dates are valid, counts are whole and >= 0;
 * - a Finding is plain JSON data of bounded size: it becomes the report's evidence, and a
 *   report must stay far below the server's 64 KiB body limit whatever a tool printed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { buildBinary } from 'plist';
import { afterAll, describe, expect, it } from 'vitest';
import { decideDarwinAntivirus } from '../../collectors/parsers/darwin-antivirus.ts';
import type { DarwinAntivirusProbes } from '../../collectors/parsers/darwin-antivirus.ts';
import { parseApfsList } from '../../collectors/parsers/darwin-diskutil.ts';
import { parseFdesetupStatus } from '../../collectors/parsers/darwin-fdesetup.ts';
import { decideDarwinPatchAge, isOsUpdate, parseInstallHistory } from '../../collectors/parsers/darwin-install-history.ts';
import { parseMdatpHealth as parseDarwinMdatp } from '../../collectors/parsers/mdatp-health.ts';
import { parseSwVers, parseSystemVersionPlist } from '../../collectors/parsers/darwin-os-version.ts';
import { decodePlist } from '../../collectors/parsers/darwin-plist.ts';
import { parseSocketfilterfwGlobalState } from '../../collectors/parsers/darwin-socketfilterfw.ts';
import { parseSpFirewallJson } from '../../collectors/parsers/darwin-system-profiler.ts';
import { parseSystemExtensionsList } from '../../collectors/parsers/darwin-systemextensionsctl.ts';
import { parseXProtectInfoPlist } from '../../collectors/parsers/darwin-xprotect.ts';
import { LINUX_AV_PRODUCTS, commName, parseFalconRfmState, mdatpFinding, runningProcesses } from '../../collectors/parsers/linux-antivirus.ts';
import { classifyDmUuid, describeStack, isEncryptedStack, parseLsblkInverse, parseUevent } from '../../collectors/parsers/linux-block-devices.ts';
import type { BlockNode } from '../../collectors/parsers/linux-block-devices.ts';
import { isPermissiveZone, parseFirewalldState } from '../../collectors/parsers/linux-firewalld.ts';
import { parseIptablesRules } from '../../collectors/parsers/linux-iptables.ts';
import { isBootMount, parseMountinfo, persistentDataMounts } from '../../collectors/parsers/linux-mountinfo.ts';
import { parseNftRuleset } from '../../collectors/parsers/linux-nft.ts';
import { osReleaseFinding, parseOsRelease } from '../../collectors/parsers/linux-os-release.ts';
import { parseAptHistory, parseDnf5Log, parseDnfRpmLog, parseDpkgLog, parsePacmanLog, parseRpmInstallTimes, parseZyppHistory } from '../../collectors/parsers/linux-package-logs.ts';
import { parseUfwConf, parseUfwStatus } from '../../collectors/parsers/linux-ufw.ts';
import { parseZfsEncryption } from '../../collectors/parsers/linux-zfs.ts';
import { mergeHistories, parseLocalDateTime, parseOffsetDateTime, patchAgeFinding } from '../../collectors/parsers/patch-age.ts';
import type { UpdateHistory } from '../../collectors/parsers/patch-age.ts';
import { parseAntivirusOutput, readAntivirusProbe } from '../../collectors/parsers/windows-antivirus.ts';
import { parseBitLockerOutput, readBitLockerProbe } from '../../collectors/parsers/windows-bitlocker.ts';
import { parseFirewallOutput, readFirewallProbe } from '../../collectors/parsers/windows-firewall.ts';
import { parseWindowsVersionOutput } from '../../collectors/parsers/windows-os-version.ts';
import { asArray, asBool, asInstant, asInt, asRecord, asString, describeError, excerpt, hresultHex, isAccessDenied, parsePowerShellJson, readScriptError } from '../../collectors/parsers/windows-powershell.ts';
import { decodeProductState, describeProduct, readSecurityProducts } from '../../collectors/parsers/windows-security-center.ts';
import { parseUpdateHistoryOutput, readUpdateHistoryProbe } from '../../collectors/parsers/windows-update-history.ts';
import { boundFinding, MAX_STRING_VALUE_CHARS } from '../../collectors/collect.ts';
import type { Finding } from '../../collectors/types.ts';
import { fcParameters, fuzzRuns, nastyJson, printFigure, share, timeoutFor } from '../support/fuzz.ts';

const RUNS = fuzzRuns(12_000);
const FIXTURES = new URL('../fixtures/', import.meta.url).pathname;
/** A bounded Finding's JSON may not exceed this, whatever the input: evidence rides in a report of at most 64 KiB. */
const MAX_FINDING_JSON = 8 * 1024;
/** Tool output is cut at the command runner's limit; inputs are cut shorter here to keep the run quick. */
const MAX_INPUT_BYTES = 1024 * 1024;

const stats = { cases: 0, parsers: 0, throws: 0, violations: 0 };

afterAll(() => {
  printFigure(`fuzz-parsers: ${stats.cases} cases over ${stats.parsers} parsers, ${stats.throws} throws, ${stats.violations} invariant violations`);
});

// ---------------------------------------------------------------------------------------
// Fixtures and inputs

function fixtures(...dirs: string[]): Buffer[] {
  return dirs.flatMap((dir) =>
    readdirSync(join(FIXTURES, dir), { withFileTypes: true })
      .filter((entry) => entry.isFile() && !entry.name.endsWith('.md'))
      .map((entry) => readFileSync(join(FIXTURES, dir, entry.name))),
  );
}

/** Whole-text mutations of a recorded output. */
type Mutation =
  | { kind: 'none' }
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; flips: Array<{ at: number; byte: number }> }
  | { kind: 'shuffle'; order: number[] }
  | { kind: 'duplicate'; line: number; times: number }
  | { kind: 'drop'; line: number }
  | { kind: 'huge'; line: number; size: number; char: string }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'crlf' }
  | { kind: 'bom' };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<Mutation>({ kind: 'none' }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('flip' as const), flips: fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 8 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('shuffle' as const), order: fc.array(fc.nat(), { minLength: 1, maxLength: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), line: fc.nat(), times: fc.integer({ min: 2, max: 50 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), line: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('huge' as const), line: fc.nat(), size: fc.constantFrom(10_000, 100_000, 300_000), char: fc.constantFrom('a', ' ', '\t', '=', ':', '(', '[', '{', '"', '\\', '-', '0', '\u00e9', '\uFFFD') }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.string({ unit: 'binary', maxLength: 40 }) }) },
  { weight: 1, arbitrary: fc.constant<Mutation>({ kind: 'crlf' }) },
  { weight: 1, arbitrary: fc.constant<Mutation>({ kind: 'bom' }) },
);

function mutate(original: Buffer, m: Mutation): Buffer {
  const lines = () => original.toString('latin1').split('\n');
  const join = (list: string[]) => Buffer.from(list.join('\n'), 'latin1');
  switch (m.kind) {
    case 'none':
      return original;
    case 'truncate':
      return original.subarray(0, m.at % (original.length + 1));
    case 'flip': {
      const copy = Buffer.from(original);
      if (copy.length > 0) for (const flip of m.flips) copy[flip.at % copy.length] = flip.byte;
      return copy;
    }
    case 'shuffle': {
      const list = lines();
      return join(m.order.map((index) => list[index % list.length] as string));
    }
    case 'duplicate': {
      const list = lines();
      const at = m.line % list.length;
      return join([...list.slice(0, at), ...Array<string>(m.times).fill(list[at] as string), ...list.slice(at + 1)]);
    }
    case 'drop': {
      const list = lines();
      list.splice(m.line % list.length, 1);
      return join(list);
    }
    case 'huge': {
      const list = lines();
      const at = m.line % (list.length + 1);
      const huge = Buffer.from(m.char.repeat(m.size)).toString('latin1');
      return join([...list.slice(0, at), huge, ...list.slice(at)]);
    }
    case 'insert': {
      const at = m.at % (original.length + 1);
      return Buffer.concat([original.subarray(0, at), Buffer.from(m.text), original.subarray(at)]);
    }
    case 'crlf':
      return Buffer.from(original.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
    case 'bom':
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), original]);
  }
}

/** Every key that occurs in a JSON document (the vocabulary for structural mutations). */
function keysOf(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) keysOf(item, into);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      into.add(key);
      keysOf(child, into);
    }
  }
  return into;
}

/** Every node of a JSON document, as a path from the root. */
function pathsOf(value: unknown, path: Array<string | number> = [], into: Array<Array<string | number>> = []): Array<Array<string | number>> {
  into.push(path);
  if (Array.isArray(value)) value.forEach((item, index) => pathsOf(item, [...path, index], into));
  else if (typeof value === 'object' && value !== null) for (const [key, child] of Object.entries(value)) pathsOf(child, [...path, key], into);
  return into;
}

function replaceAt(root: unknown, path: ReadonlyArray<string | number>, replacement: unknown, remove: boolean): unknown {
  if (path.length === 0) return replacement;
  const copy: any = structuredClone(root);
  let node = copy;
  for (const step of path.slice(0, -1)) node = node[step];
  const last = path.at(-1) as string | number;
  if (remove) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else {
    Object.defineProperty(node, last, { value: replacement, enumerable: true, writable: true, configurable: true });
  }
  return copy;
}

/**
 * Inputs for a parser: random text and bytes, and mutations of its fixtures; JSON fixtures
 * also get structural mutations (a node replaced by a hostile value, or removed).
 */
function inputsFrom(samples: Buffer[]): fc.Arbitrary<Buffer> {
  const random = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 300 }).map((text) => Buffer.from(text)),
    fc.string({ unit: 'grapheme-ascii', maxLength: 300 }).map((text) => Buffer.from(text)),
    fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
    nastyJson().map((value) => Buffer.from(JSON.stringify(value) ?? 'null')),
  );
  if (samples.length === 0) return random;
  const mutated = fc.tuple(fc.constantFrom(...samples), fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([sample, mutations]) => mutations.reduce(mutate, sample).subarray(0, MAX_INPUT_BYTES));
  const documents = samples.flatMap((sample) => {
    try {
      return [JSON.parse(sample.toString('utf8').replace(/^\uFEFF/, '')) as unknown];
    } catch {
      return [];
    }
  });
  if (documents.length === 0) return fc.oneof({ weight: 1, arbitrary: random }, { weight: 3, arbitrary: mutated });
  const vocabulary = [...new Set(documents.flatMap((document) => [...keysOf(document)]))];
  const structural = fc
    .constantFrom(...documents)
    .chain((document) => fc.tuple(fc.constant(document), fc.constantFrom(...pathsOf(document)), nastyJson(vocabulary, 3), fc.boolean(), fc.boolean()))
    .map(([document, path, replacement, remove, asLines]) => {
      const text = JSON.stringify(replaceAt(document, path, replacement, remove && path.length > 0)) ?? 'null';
      // PowerShell output is sometimes preceded by warning lines.
      return Buffer.from(asLines ? `WARNING: x\r\n${text}\r\n` : text);
    });
  return fc.oneof({ weight: 1, arbitrary: random }, { weight: 2, arbitrary: mutated }, { weight: 3, arbitrary: structural });
}

// ---------------------------------------------------------------------------------------
// Invariants

/** Plain JSON data only: no functions, symbols, bigints, NaN or infinities, no cycles. */
function expectPlainData(value: unknown, where: string, seen = new Set<unknown>()): void {
  const throwHere = (message: string): never => violation(`${where}: ${message}`);
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return;
    case 'number':
      if (!Number.isFinite(value)) throwHere(`${value} is not a finite number`);
      return;
    case 'object': {
      if (value === null) return;
      if (seen.has(value)) throwHere('a cycle');
      seen.add(value);
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime())) throwHere('an invalid Date');
        return;
      }
      const prototype = Object.getPrototypeOf(value);
      if (!Array.isArray(value) && prototype !== Object.prototype && prototype !== null) throwHere(`not a plain object (${String(prototype?.constructor?.name)})`);
      for (const [key, child] of Object.entries(value)) expectPlainData(child, `${where}.${key}`, seen);
      seen.delete(value);
      return;
    }
    default:
      throwHere(`a ${typeof value}`);
  }
}

type Kind = 'boolean' | 'days' | 'string';

function violation(message: string): never {
  const error = new Error(message);
  error.name = 'InvariantViolation';
  throw error;
}

/**
 * The parser's own result keeps its type; the same result bounded by the collector
 * framework (collectors/collect.ts boundFinding, what enters a report) is small.
 */
function expectFinding(finding: Finding<unknown>, kind: Kind): void {
  const show = () => JSON.stringify(finding)?.slice(0, 300);
  if (typeof finding !== 'object' || finding === null) violation(`not a Finding: ${String(finding)}`);
  if (typeof finding.method !== 'string' || finding.method === '') violation(`no method: ${show()}`);
  if (typeof finding.detail !== 'string' || finding.detail === '') violation(`no detail: ${show()}`);
  if (finding.reason !== undefined && typeof finding.reason !== 'string') violation(`reason is not a string: ${show()}`);
  // What a template literal makes of a value that was not the string it expected (a JSON
  // object, or a name looked up on Object.prototype such as "constructor").
  if (/\[object Object\]|\[native code\]/.test(finding.detail)) violation(`the detail shows a non-string: ${show()}`);
  if (finding.value === null) {
    if (typeof finding.reason !== 'string' || finding.reason === '') violation(`a null value needs a reason: ${show()}`);
  } else if (kind === 'boolean') {
    if (typeof finding.value !== 'boolean') violation(`a boolean signal answered ${show()}`);
  } else if (kind === 'days') {
    if (!Number.isSafeInteger(finding.value) || (finding.value as number) < 0) violation(`patch age must be whole days >= 0: ${show()}`);
  } else if (typeof finding.value !== 'string' || finding.value.trim() === '') {
    violation(`a string signal answered ${show()}`);
  }
  if (finding.facts !== undefined && (typeof finding.facts !== 'object' || finding.facts === null || Array.isArray(finding.facts))) violation(`facts is not an object: ${show()}`);
  expectPlainData(finding, 'finding');
  const bounded = boundFinding(finding);
  const size = JSON.stringify(bounded).length;
  if (size > MAX_FINDING_JSON) violation(`the bounded finding is ${size} characters of JSON: ${JSON.stringify(bounded).slice(0, 300)}`);
  if (typeof bounded.value === 'string' && bounded.value.length > MAX_STRING_VALUE_CHARS) violation(`a string value of ${bounded.value.length} characters`);
  if (bounded.value !== finding.value && typeof finding.value !== 'string') violation('bounding changed a non-string value');
}

function expectParsed(parsed: { ok: boolean; value?: unknown; finding?: Finding<unknown> }, check: (value: any) => void): void {
  if (parsed.ok) check(parsed.value);
  else {
    expect(parsed.finding, 'a failed parse carries its finding').toBeDefined();
    expectFinding(parsed.finding as Finding<unknown>, 'boolean');
    expect(parsed.finding?.value).toBeNull();
  }
}

const validDate = (date: unknown) => date instanceof Date && !Number.isNaN(date.getTime());
const count = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;

function expectHistory(history: UpdateHistory): void {
  expect(history.lastUpdate === null || validDate(history.lastUpdate), `lastUpdate ${String(history.lastUpdate)}`).toBe(true);
  expect(history.lastAnyChange === null || validDate(history.lastAnyChange), `lastAnyChange ${String(history.lastAnyChange)}`).toBe(true);
  expect(count(history.updates), `updates ${history.updates}`).toBe(true);
  if (history.lastUpdate !== null) expect(history.updates).toBeGreaterThan(0);
  if (history.lastUpdateLabel !== undefined) expect(typeof history.lastUpdateLabel).toBe('string');
}

function expectStringRecord(record: Record<string, string>): void {
  expect(Object.getPrototypeOf(record)).toBe(Object.prototype);
  for (const [key, value] of Object.entries(record)) {
    expect(typeof key).toBe('string');
    expect(typeof value, `${key}`).toBe('string');
  }
}

function expectBlockNode(node: BlockNode | null, depth = 0): void {
  if (node === null) return;
  expect(depth).toBeLessThanOrEqual(17);
  expect(typeof node.name).toBe('string');
  expect(typeof node.type).toBe('string');
  expect(Array.isArray(node.lower)).toBe(true);
  for (const lower of node.lower) expectBlockNode(lower, depth + 1);
}

const NOW = new Date('2026-11-21T12:00:00Z');
const anyDate = fc.oneof(fc.constant(NOW), fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }));

// ---------------------------------------------------------------------------------------
// The parsers

interface Target {
  readonly name: string;
  readonly samples: Buffer[];
  /** Weight in the suite's case budget. */
  readonly weight?: number;
  readonly run: (input: Buffer, extra: { now: Date; asBytes: boolean }) => void;
}

const text = (input: Buffer) => input.toString('utf8');

const plistSamples = fixtures('darwin/diskutil', 'darwin/install-history', 'darwin/xprotect', 'darwin/system-version');
const binaryPlists = plistSamples.flatMap((sample) => {
  const decoded = decodePlist(sample, 'fixture');
  return decoded.ok ? [Buffer.from(buildBinary(decoded.value as never))] : [];
});

const TARGETS: Target[] = [
  // --- macOS
  { name: 'parseFdesetupStatus', samples: fixtures('darwin/fdesetup'), run: (input) => expectFinding(parseFdesetupStatus(text(input)), 'boolean') },
  { name: 'parseApfsList', samples: fixtures('darwin/diskutil'), run: (input) => expectFinding(parseApfsList(text(input)), 'boolean') },
  { name: 'parseSocketfilterfwGlobalState', samples: fixtures('darwin/socketfilterfw'), run: (input) => expectFinding(parseSocketfilterfwGlobalState(text(input)), 'boolean') },
  { name: 'parseSpFirewallJson', samples: fixtures('darwin/system_profiler'), run: (input) => expectFinding(parseSpFirewallJson(text(input)), 'boolean') },
  {
    name: 'parseSystemExtensionsList',
    samples: fixtures('darwin/systemextensionsctl'),
    run: (input) =>
      expectParsed(parseSystemExtensionsList(text(input)), (list) => {
        expect(count(list.declared_count)).toBe(true);
        for (const extension of list.extensions) for (const key of ['category', 'team_id', 'bundle_id', 'version', 'name', 'state']) expect(typeof extension[key]).toBe('string');
        for (const edr of list.edr) expect(typeof edr.active).toBe('boolean');
        expectPlainData(list, 'extensions');
      }),
  },
  {
    name: 'parseMdatpHealth (macOS)',
    samples: fixtures('darwin/mdatp'),
    run: (input) =>
      expectParsed(parseDarwinMdatp(text(input)), (health) => {
        expect(health.healthy === null || typeof health.healthy === 'boolean').toBe(true);
        expect(typeof health.real_time_protection).toBe('boolean');
        expect(health.passive_mode === null || typeof health.passive_mode === 'boolean').toBe(true);
        expect(typeof health.active).toBe('boolean');
        expectPlainData(health, 'mdatp');
      }),
  },
  { name: 'parseSwVers', samples: fixtures('darwin/sw_vers'), run: (input) => expectFinding(parseSwVers(text(input)), 'string') },
  { name: 'parseSystemVersionPlist', samples: [...fixtures('darwin/system-version'), ...binaryPlists], run: (input, { asBytes }) => expectFinding(parseSystemVersionPlist(asBytes ? input : text(input)), 'string') },
  {
    name: 'parseXProtectInfoPlist',
    samples: [...fixtures('darwin/xprotect'), ...binaryPlists],
    run: (input, { asBytes }) =>
      expectParsed(parseXProtectInfoPlist(asBytes ? input : text(input)), (info) => {
        expect(typeof info.version === 'string' && info.version.trim() !== '').toBe(true);
        expectPlainData(info, 'xprotect');
      }),
  },
  {
    name: 'parseInstallHistory + decideDarwinPatchAge',
    samples: [...fixtures('darwin/install-history'), ...binaryPlists],
    run: (input, { now, asBytes }) => {
      const parsed = parseInstallHistory(asBytes ? input : text(input));
      expectParsed(parsed, (history) => {
        expect(count(history.skipped)).toBe(true);
        for (const entry of history.entries) {
          expect(validDate(entry.date)).toBe(true);
          expect(typeof isOsUpdate(entry, history.entries)).toBe('boolean');
        }
        expectFinding(decideDarwinPatchAge(history, now), 'days');
      });
    },
  },
  {
    name: 'decodePlist',
    samples: [...plistSamples, ...binaryPlists],
    run: (input, { asBytes }) => {
      const decoded = decodePlist(asBytes ? input : text(input), 'input');
      if (!decoded.ok) {
        expect(['empty_output', 'unparsed_output']).toContain(decoded.reason);
        expect(typeof decoded.detail).toBe('string');
        expect(decoded.detail.length).toBeLessThanOrEqual(1_000);
      }
    },
  },
  {
    name: 'decideDarwinAntivirus (from fuzzed systemextensionsctl and mdatp output)',
    samples: [...fixtures('darwin/systemextensionsctl'), ...fixtures('darwin/mdatp')],
    run: (input, { asBytes }) => {
      const extensions = parseSystemExtensionsList(text(input));
      const mdatp = parseDarwinMdatp(text(input));
      const probes: DarwinAntivirusProbes = {
        xprotect: asBytes ? { state: 'absent', paths: ['/a', '/b'] } : { state: 'present', version: '5300', path: '/x' },
        systemExtensions: extensions.ok ? { state: 'listed', edr: extensions.value.edr } : { state: 'failed', finding: extensions.finding },
        mdatp: mdatp.ok ? { state: 'reported', health: mdatp.value } : input.length % 2 === 0 ? { state: 'not_installed' } : { state: 'failed', finding: mdatp.finding },
      };
      expectFinding(decideDarwinAntivirus(probes), 'boolean');
    },
  },

  // --- Linux
  { name: 'mdatpFinding (Linux)', samples: fixtures('darwin/mdatp'), run: (input) => expectFinding(mdatpFinding(text(input)), 'boolean') },
  {
    name: 'parseFalconRfmState, commName, runningProcesses',
    samples: fixtures('linux/falconctl'),
    run: (input) => {
      const state = parseFalconRfmState(text(input));
      expect(state === null || typeof state === 'boolean').toBe(true);
      const comms = new Set(text(input).split('\n').map(commName));
      for (const comm of comms) expect(Buffer.byteLength(comm)).toBeLessThanOrEqual(15 * 3);
      for (const product of LINUX_AV_PRODUCTS) for (const name of runningProcesses(product, comms)) expect(product.processes).toContain(name);
    },
  },
  {
    name: 'parseLsblkInverse, describeStack, isEncryptedStack',
    samples: fixtures('linux/lsblk'),
    run: (input) => {
      const node = parseLsblkInverse(text(input));
      expectBlockNode(node);
      if (node) {
        expect(typeof isEncryptedStack(node)).toBe('boolean');
        expect(typeof describeStack(node)).toBe('string');
      }
    },
  },
  {
    name: 'parseUevent, classifyDmUuid (sysfs files)',
    samples: fixtures('linux/sysfs').flatMap((sample) => Object.values(JSON.parse(sample.toString('utf8')) as Record<string, unknown>).filter((value): value is string => typeof value === 'string').map((value) => Buffer.from(value))),
    run: (input) => {
      expectStringRecord(parseUevent(text(input)));
      const kind = classifyDmUuid(text(input));
      expect(typeof kind.type).toBe('string');
      if (kind.cryptType !== undefined) expect(typeof kind.cryptType).toBe('string');
    },
  },
  {
    name: 'parseFirewalldState, isPermissiveZone',
    samples: [Buffer.from('running\n'), Buffer.from('not running\n'), Buffer.from('FirewallD is not running\n'), Buffer.from('Authorization failed.\n')],
    run: (input, { now }) => {
      const exitCodes = [0, 252, 251, 1, null, -1, 2 ** 31];
      const exitCode = exitCodes[now.getTime() % exitCodes.length] as number | null;
      expectFinding(parseFirewalldState(exitCode, text(input), ''), 'boolean');
      expectFinding(parseFirewalldState(exitCode, '', text(input)), 'boolean');
      expect(typeof isPermissiveZone(text(input))).toBe('boolean');
    },
  },
  { name: 'parseIptablesRules', samples: fixtures('linux/iptables'), run: (input) => expectFinding(parseIptablesRules(text(input)), 'boolean') },
  {
    name: 'parseMountinfo, persistentDataMounts',
    samples: fixtures('linux/mountinfo'),
    run: (input) => {
      const mounts = parseMountinfo(text(input));
      for (const mount of [...mounts, ...persistentDataMounts(mounts)]) {
        for (const key of ['majorMinor', 'mountPoint', 'fsType', 'source'] as const) expect(typeof mount[key]).toBe('string');
        expect(Array.isArray(mount.options)).toBe(true);
        expect(typeof isBootMount(mount.mountPoint)).toBe('boolean');
      }
    },
  },
  { name: 'parseNftRuleset', samples: fixtures('linux/nft'), run: (input) => expectFinding(parseNftRuleset(text(input)), 'boolean') },
  {
    name: 'parseOsRelease, osReleaseFinding',
    samples: fixtures('linux/os-release'),
    run: (input, { asBytes }) => {
      expectStringRecord(parseOsRelease(text(input)));
      expectFinding(osReleaseFinding(text(input), asBytes ? null : '6.1.0-13-amd64'), 'string');
    },
  },
  ...(
    [
      ['parseAptHistory', parseAptHistory, 'linux/apt'],
      ['parseDpkgLog', parseDpkgLog, 'linux/dpkg'],
      ['parseDnfRpmLog', parseDnfRpmLog, 'linux/dnf'],
      ['parseDnf5Log', parseDnf5Log, 'linux/dnf'],
      ['parsePacmanLog', parsePacmanLog, 'linux/pacman'],
      ['parseZyppHistory', parseZyppHistory, 'linux/zypp'],
      ['parseRpmInstallTimes', parseRpmInstallTimes, 'linux/rpm'],
    ] as const
  ).map(
    ([name, parse, dir]): Target => ({
      name: `${name} + mergeHistories + patchAgeFinding`,
      samples: fixtures(dir),
      run: (input, { now }) => {
        const history = parse(text(input));
        expectHistory(history);
        const merged = mergeHistories([history, parseDpkgLog(text(input)), parseAptHistory(text(input))]);
        expectHistory(merged);
        expectFinding(patchAgeFinding(merged, now, 'method', 'source'), 'days');
      },
    }),
  ),
  {
    name: 'parseLocalDateTime, parseOffsetDateTime',
    samples: [Buffer.from('2019-07-10  16:38:10'), Buffer.from('2016-08-06 17:35:39'), Buffer.from('2024-01-02T03:04:05+0100'), Buffer.from('2024-01-02T03:04:05Z'), Buffer.from('9999-99-99 99:99:99')],
    run: (input) => {
      for (const date of [parseLocalDateTime(text(input)), parseOffsetDateTime(text(input))]) expect(date === null || validDate(date), String(date)).toBe(true);
    },
  },
  { name: 'parseUfwStatus', samples: fixtures('linux/ufw'), run: (input) => expectFinding(parseUfwStatus(text(input)), 'boolean') },
  {
    name: 'parseUfwConf',
    samples: fixtures('linux/ufw'),
    run: (input) => {
      const enabled = parseUfwConf(text(input));
      expect(enabled === null || typeof enabled === 'boolean').toBe(true);
    },
  },
  {
    name: 'parseZfsEncryption',
    samples: [Buffer.from('encryption\taes-256-gcm\nkeystatus\tavailable\n'), Buffer.from('encryption  off\n'), Buffer.from('encryption\taes-256-gcm\nkeystatus\tunavailable\n')],
    run: (input) => expectFinding(parseZfsEncryption(text(input)), 'boolean'),
  },

  // --- Windows (the JSON of the PowerShell probes)
  { name: 'parseAntivirusOutput', samples: fixtures('windows/antivirus', 'windows/powershell'), run: (input) => expectFinding(parseAntivirusOutput(text(input)), 'boolean') },
  {
    name: 'parseBitLockerOutput',
    samples: fixtures('windows/bitlocker', 'windows/powershell'),
    run: (input, { asBytes }) => expectFinding(parseBitLockerOutput(text(input), asBytes ? 'D:' : undefined), 'boolean'),
  },
  { name: 'parseFirewallOutput', samples: fixtures('windows/firewall', 'windows/powershell'), run: (input) => expectFinding(parseFirewallOutput(text(input)), 'boolean') },
  { name: 'parseWindowsVersionOutput', samples: fixtures('windows/registry', 'windows/powershell'), run: (input) => expectFinding(parseWindowsVersionOutput(text(input)), 'string') },
  { name: 'parseUpdateHistoryOutput', samples: fixtures('windows/windows-update', 'windows/powershell'), run: (input, { now }) => expectFinding(parseUpdateHistoryOutput(text(input), now), 'days') },
  {
    name: 'PowerShell JSON helpers and probe readers on any JSON value',
    samples: fixtures('windows/antivirus', 'windows/bitlocker', 'windows/firewall', 'windows/windows-update', 'windows/registry'),
    run: (input) => {
      const parsed = parsePowerShellJson(text(input), 'method');
      if (!parsed.ok) {
        expectFinding(parsed.problem, 'boolean');
        return;
      }
      const value = parsed.value;
      expect(Array.isArray(asArray(value))).toBe(true);
      const int = asInt(value);
      expect(int === null || Number.isSafeInteger(int)).toBe(true);
      const bool = asBool(value);
      expect(bool === null || typeof bool === 'boolean').toBe(true);
      const instant = asInstant(value);
      expect(instant === null || validDate(instant)).toBe(true);
      expect(asString(value) === null || typeof asString(value) === 'string').toBe(true);
      expect(asRecord(value) === null || typeof asRecord(value) === 'object').toBe(true);
      const error = readScriptError(value);
      if (error !== null) {
        expect(typeof describeError(error)).toBe('string');
        expect(typeof isAccessDenied(error)).toBe('boolean');
        expect(hresultHex(error.hresult)).toMatch(/^(no HRESULT|0x[0-9A-F]{8})$/);
      }
      const products = readSecurityProducts(value);
      expect(count(products.unreadable)).toBe(true);
      for (const product of products.products) {
        expect(['on', 'off', 'snoozed', 'expired', 'unknown']).toContain(product.state);
        expect(typeof describeProduct(product)).toBe('string');
      }
      for (const probe of [readAntivirusProbe(value), readBitLockerProbe(value, 'C:'), readFirewallProbe(value), readUpdateHistoryProbe(value)]) {
        if (probe !== null) expectPlainData(probe, 'probe');
      }
      expect(typeof excerpt(text(input))).toBe('string');
    },
  },
  {
    name: 'decodeProductState',
    samples: [Buffer.from('266240'), Buffer.from('397568'), Buffer.from('393472'), Buffer.from('-1'), Buffer.from('4294967295')],
    run: (input) => {
      const n = Number.parseInt(text(input), 10);
      if (!Number.isSafeInteger(n)) return;
      const decoded = decodeProductState(n);
      expect(['on', 'off', 'snoozed', 'expired', 'unknown']).toContain(decoded.state);
      expect(decoded.signaturesUpToDate === null || typeof decoded.signaturesUpToDate === 'boolean').toBe(true);
      expect(typeof decoded.microsoft).toBe('boolean');
    },
  },
];

describe(`fuzz every collector parser (${RUNS} cases)`, () => {
  const totalWeight = TARGETS.reduce((sum, target) => sum + (target.weight ?? 1), 0);
  it.each(TARGETS.map((target) => [target.name, target] as const))('%s returns a well-typed result and never throws', (_name, target) => {
    stats.parsers += 1;
    const runs = share(RUNS, (target.weight ?? 1) / totalWeight);
    fc.assert(
      fc.property(inputsFrom(target.samples), anyDate, fc.boolean(), (input, now, asBytes) => {
        stats.cases += 1;
        try {
          target.run(input, { now, asBytes });
        } catch (error) {
          // An assertion of this file is an invariant violation; anything else, the parser threw.
          if ((error as Error).name === 'AssertionError' || (error as Error).name === 'InvariantViolation') stats.violations += 1;
          else stats.throws += 1;
          throw error;
        }
      }),
      fcParameters(runs),
    );
  }, timeoutFor(share(RUNS, 1 / TARGETS.length), 5));
});

// ---------------------------------------------------------------------------------------
// Regressions: parser bugs this file found, fixed since (each comment names the cause).

describe('fixed parser bugs stay fixed', () => {
  const falconFixture = JSON.parse(readFileSync(join(FIXTURES, 'windows/antivirus/server-defender-not-running-falcon-service.reconstructed.json'), 'utf8'));

  // Was: GLOBAL_STATES[value] found Object.prototype.valueOf, so the firewall signal was
  // `undefined` (not a boolean, not null) and the report failed the server's schema.
  it('system_profiler: a globalstate named after an Object.prototype member is unknown', () => {
    for (const name of ['valueOf', 'constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const finding = parseSpFirewallJson(JSON.stringify({ SPFirewallDataType: [{ spfirewall_globalstate: name }] }));
      expect(finding).toMatchObject({ value: null, reason: 'unparsed_output' });
      expectFinding(finding, 'boolean');
    }
  });

  // Was: String(category) threw on a JSON object ("Cannot convert object to primitive value"),
  // and "constructor" found Object.prototype's member and was kept as an active profile.
  it('Windows firewall: network categories that are objects or prototype names are ignored', () => {
    const probe = readFirewallProbe({ policy: { current: 2, domain: true, private: true, public: true }, networkCategories: [{ toString: 1 }, 'constructor', 'toString', 'Public'] });
    expect(probe?.activeFromConnections).toEqual(['public']);
    expectFinding(parseFirewallOutput(JSON.stringify({ policy: null, policyError: null, networkCategories: [{ toString: 1 }], profiles: [] })), 'boolean');
  });

  // Was: `service.name in EDR_SERVICES` counted a running service named "constructor" as an
  // EDR agent: antivirus true, with "function Object() { [native code] }" in the detail.
  it('Windows antivirus: a running service named after an Object.prototype member is no EDR agent', () => {
    for (const name of ['constructor', 'toString', '__proto__', 'valueOf']) {
      const finding = parseAntivirusOutput(JSON.stringify({ ...falconFixture, services: [{ name, status: 'Running' }] }));
      expectFinding(finding, 'boolean');
      expect(finding.value, JSON.stringify(finding)).not.toBe(true);
    }
    expect(parseAntivirusOutput(JSON.stringify(falconFixture)).value).toBe(true);
  });

  // Was: health_issues.join() printed JSON objects as [object Object], and threw on one whose
  // toString is not a function.
  it('Linux mdatp: health issues that are not strings are not quoted and do not throw', () => {
    const finding = mdatpFinding(JSON.stringify({ healthy: false, realTimeProtectionEnabled: { value: true }, passiveModeEnabled: { value: false }, healthIssues: [{ toString: 1 }, { a: 1 }, 'no active event provider', 7] }));
    expectFinding(finding, 'boolean');
    expect(finding.detail).toBe('Microsoft Defender reports unhealthy: no active event provider');
  });

  // Was: a rule's family (or a chain's policy) that is a JSON object reached a template
  // literal and threw.
  it('nft: rules and chains with non-string fields are malformed entries, not a crash', () => {
    const chain = { family: 'inet', table: 'filter', name: 'input', type: 'filter', hook: 'input', prio: 0 };
    for (const ruleset of [
      [{ chain }, { rule: { family: { toString: 1 }, table: 'filter', chain: 'input', expr: [{ drop: null }] } }],
      [{ chain: { ...chain, policy: { toString: 1 } } }],
      [{ chain: { ...chain, hook: ['input'] } }],
    ]) {
      const finding = parseNftRuleset(JSON.stringify({ nftables: ruleset }));
      expect(finding).toMatchObject({ value: null, reason: 'unparsed_output' });
    }
  });

  // Was: parsers quote what tools print, and nothing bounded it: a 100 KB firewall-cmd error
  // became a 100 KB detail, a long PRETTY_NAME an os_version the server refuses (max 256).
  it('the collector framework bounds what a finding can put in a report', () => {
    const huge = parseFirewalldState(1, '', `Authorization failed.\n${'-'.repeat(100_000)}`);
    expect(huge.detail.length).toBeGreaterThan(100_000);
    expect(JSON.stringify(boundFinding(huge)).length).toBeLessThanOrEqual(MAX_FINDING_JSON);
    const longName = osReleaseFinding(`PRETTY_NAME="${'Debian '.repeat(200)}"\n`, null);
    expect(String(longName.value).length).toBeGreaterThan(MAX_STRING_VALUE_CHARS);
    expect(String(boundFinding(longName).value).length).toBe(MAX_STRING_VALUE_CHARS);
    const manyLines = parseFdesetupStatus(`FileVault is Off.\n${'x\n'.repeat(10_000)}`);
    expect(boundFinding(manyLines).facts).toEqual({ omitted: expect.stringMatching(/over the 4096-character limit$/) });
  });
});
