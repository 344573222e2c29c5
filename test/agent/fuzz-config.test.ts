/**
 * The agent's config and state files under attack and failure (issue 7, item 2; SPEC
 * section 5: exit code 2 for a bad file): enrollment.json and state.json under
 * ZTNA_CONFIG_DIR, and the policy and report files of `ztna posture check`.
 *
 * Fuzzed (fast-check): truncated, byte-flipped, random and wrong-typed contents. Table
 * cases: every file mode, unreadable files and I/O errors, a directory / FIFO / symlink
 * to a device in a file's place, a config directory that is a file, oversized files.
 *
 * Properties: each reader returns a well-typed value or throws a ZtnaError (exit code 2)
 * whose message names the file and says what to do; never another error, never a stack
 * trace, never a piece of the node key. An enrollment file other users can read is
 * refused with the `chmod 600` to run. Real CLI runs (test/support/cli.ts) show the same
 * to a person: exit 2, the file named, no "unexpected error", no "    at ".
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as FsPromises from 'node:fs/promises';
import fc from 'fast-check';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { readEnrollment, readState, forgetEnrollment, writeEnrollment, writeState } from '../../src/agent/enrollment.ts';
import type { Enrollment, PersistedState } from '../../src/agent/enrollment.ts';
import { initialMachine } from '../../src/agent/state-machine.ts';
import { loadPolicies, loadReport } from '../../src/cli/commands/posture.ts';
import { createCommandRunner } from '../../src/platform/command-runner.ts';
import { ZtnaError } from '../../src/shared/errors.ts';
import { cliRunner, ROOT } from '../support/cli.ts';
import { fcParameters, fuzzRuns, nastyJson, printFigure, share, timeoutFor } from '../support/fuzz.ts';

/**
 * I/O failures that permissions cannot produce for root (the tests may run as root):
 * paths listed here fail to open with the given errno, everything else is the real fs.
 */
const forced = vi.hoisted(() => new Map<string, string>());
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof FsPromises>();
  const failIfForced = (path: unknown) => {
    const code = forced.get(String(path));
    if (code) throw Object.assign(new Error(`${code}: simulated failure, open '${String(path)}'`), { code, errno: -1, syscall: 'open', path: String(path) });
  };
  const open: typeof actual.open = async (path, ...rest) => {
    failIfForced(path);
    return actual.open(path, ...rest);
  };
  const readFile = (async (path: Parameters<typeof actual.readFile>[0], ...rest: [never]) => {
    failIfForced(path);
    return actual.readFile(path, ...rest);
  }) as typeof actual.readFile;
  return { ...actual, default: { ...actual, open, readFile }, open, readFile };
});

const RUNS = fuzzRuns(3_000);
const work = mkdtempSync(join(tmpdir(), 'ztna-fuzz-config-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

const stats = { cases: 0, accepted: 0, refused: 0, badErrors: 0 };
afterAll(() => printFigure(`fuzz-config: ${stats.cases} cases (${stats.accepted} accepted, ${stats.refused} refused with a clear message), ${stats.badErrors} raw errors or stack traces`));

let counter = 0;
function freshDir(): string {
  const dir = join(work, `c${(counter += 1)}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

const SECRET = 'q7Zk2mX9vP4tR8wL1nB6yH3sD0fG5jC-aE_uI2oK9xV';
const ENROLLMENT: Enrollment = {
  server_url: 'https://ztna.example.com',
  machine_id: '3f0c2a9e-8d41-4b6e-9a77-2c5e1f0b7d13',
  node_key: `ztna_node_0123456789abcdef_${SECRET}`,
  hostname: 'laptop-7',
  enrolled_at: '2026-11-21T12:00:00.000Z',
};
const STATE: PersistedState = { pid: 4242, updated_at: '2026-11-21T12:00:00.000Z', machine: { ...initialMachine(true), state: 'QUARANTINE', lastVerdict: { compliant: false, violations: ['firewall_required'], quarantined: true, mode: 'enforce' }, serverStatus: 'quarantined', peersVersion: 3, lastHeartbeatAt: 1_700_000_000_000, lastReportAt: null } };
const POLICY = { enabled: true, require_disk_encryption: true, require_firewall: true, require_antivirus: false, max_patch_age_days: 30 };
const REPORT = { os_version: 'linux/amd64', disk_encrypted: true, firewall_enabled: false, antivirus_enabled: null, patch_age_days: 3 };

/** Every 8-character piece of the node key's secret part: none may appear in an error. */
const SECRET_WINDOWS = Array.from({ length: SECRET.length - 7 }, (_, i) => SECRET.slice(i, i + 8));

/** What every refusal must look like: a ZtnaError, exit code 2, the file named, no stack, no key. */
function expectClearError(error: unknown, path: string, extra?: RegExp): ZtnaError {
  if (!(error instanceof ZtnaError)) {
    stats.badErrors += 1;
    throw new Error(`expected a ZtnaError naming ${path}, got ${error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}` : String(error)}`);
  }
  const message = error.message;
  expect(error.exitCode).toBe(2);
  expect(message, 'names the file').toContain(path);
  expect(message).not.toMatch(/\n\s+at |unexpected error/);
  for (const piece of SECRET_WINDOWS) expect(message.includes(piece), `the message quotes the node key: ${message}`).toBe(false);
  if (extra) expect(message).toMatch(extra);
  return error;
}

// ---------------------------------------------------------------------------------------
// Content generators: a valid file, then broken in every way.

/** A template with fields deleted or replaced by hostile values (wrong types included). */
function mutatedJson(template: Record<string, unknown>): fc.Arbitrary<unknown> {
  const keys = Object.keys(template);
  const change = fc.oneof(
    fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom(...keys) }),
    fc.record({ op: fc.constant('set' as const), key: fc.oneof(fc.constantFrom(...keys), fc.constantFrom('__proto__', 'constructor', 'extra')), value: nastyJson(keys, 3) }),
  );
  return fc.oneof(
    { weight: 6, arbitrary: fc.array(change, { maxLength: 3 }).map((changes) => {
      const object: Record<string, unknown> = structuredClone(template);
      for (const c of changes) {
        if (c.op === 'delete') delete object[c.key];
        else Object.defineProperty(object, c.key, { value: c.value, enumerable: true, writable: true, configurable: true });
      }
      return object;
    }) },
    { weight: 1, arbitrary: nastyJson(keys, 3) },
    { weight: 1, arbitrary: fc.array(fc.constant(template), { maxLength: 2 }) },
  );
}

function contents(template: Record<string, unknown>): fc.Arbitrary<Buffer> {
  const valid = Buffer.from(`${JSON.stringify(template, null, 2)}\n`);
  return fc.oneof(
    { weight: 4, arbitrary: mutatedJson(template).map((value) => Buffer.from(JSON.stringify(value) ?? 'null')) },
    { weight: 2, arbitrary: fc.nat({ max: valid.length }).map((at) => valid.subarray(0, at)) },
    { weight: 2, arbitrary: fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 6 }).map((flips) => {
      const copy = Buffer.from(valid);
      for (const flip of flips) copy[flip.at % copy.length] = flip.byte;
      return copy;
    }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 400 }).map((bytes) => Buffer.from(bytes)) },
    { weight: 1, arbitrary: fc.constantFrom(Buffer.alloc(0), Buffer.from('\n'), Buffer.from('\uFEFF'), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), valid]), Buffer.from('null'), Buffer.from('{}'), Buffer.from('[]'), Buffer.from(valid.toString('utf16le')), Buffer.from(`${valid}${valid}`)) },
  );
}

function isWellTypedEnrollment(value: Enrollment): boolean {
  return ['server_url', 'machine_id', 'node_key', 'hostname', 'enrolled_at'].every((key) => typeof value[key as keyof Enrollment] === 'string') && /^https?:\/\//.test(value.server_url);
}

describe(`fuzzed contents (${RUNS} cases)`, () => {
  it('enrollment.json: a valid enrollment, or a clear refusal naming the file', async () => {
    await fc.assert(
      fc.asyncProperty(contents(ENROLLMENT as unknown as Record<string, unknown>), async (data) => {
        stats.cases += 1;
        const dir = freshDir();
        const path = join(dir, 'enrollment.json');
        writeFileSync(path, data, { mode: 0o600 });
        const result = await readEnrollment(dir).then((value) => ({ value }), (error: unknown) => ({ error }));
        if ('error' in result) {
          expectClearError(result.error, path);
          stats.refused += 1;
        } else {
          // A file is there: "not enrolled" (null) would hide it.
          expect(result.value).not.toBeNull();
          expect(isWellTypedEnrollment(result.value as Enrollment), JSON.stringify(result.value)).toBe(true);
          stats.accepted += 1;
        }
        // `ztna down` is the way out of every broken enrollment.
        await forgetEnrollment(dir);
        expect(existsSync(path)).toBe(false);
      }),
      fcParameters(share(RUNS, 0.35)),
    );
  }, timeoutFor(share(RUNS, 0.35), 3));

  it('state.json: a resumable state, or a clear refusal naming the file (the daemon then starts fresh)', async () => {
    await fc.assert(
      fc.asyncProperty(contents(STATE as unknown as Record<string, unknown>), async (data) => {
        stats.cases += 1;
        const dir = freshDir();
        const path = join(dir, 'state.json');
        writeFileSync(path, data, { mode: 0o600 });
        const result = await readState(dir).then((value) => ({ value }), (error: unknown) => ({ error }));
        if ('error' in result) {
          expectClearError(result.error, path);
          stats.refused += 1;
        } else {
          const machine = result.value?.machine;
          expect(machine).toBeDefined();
          expect(Object.keys(machine?.intervals ?? {}).sort()).toEqual(['heartbeatMs', 'localCheckMs', 'postureMs', 'quarantinePollMs']);
          for (const interval of Object.values(machine?.intervals ?? {})) expect(Number.isFinite(interval) && interval >= 1).toBe(true);
          expect(['DISCONNECTED', 'CONNECTED', 'QUARANTINE', 'COMPLIANT']).toContain(machine?.state);
          stats.accepted += 1;
        }
      }),
      fcParameters(share(RUNS, 0.25)),
    );
  }, timeoutFor(share(RUNS, 0.25), 3));

  it('policy files: policies with boolean requirements, or a clear refusal naming the file', async () => {
    // One policy object, or an array of them (SPEC section 5).
    const template = fc.oneof(contents(POLICY), fc.array(mutatedJson(POLICY), { maxLength: 3 }).map((list) => Buffer.from(JSON.stringify(list))));
    await fc.assert(
      fc.asyncProperty(template, async (data) => {
        stats.cases += 1;
        const path = join(freshDir(), 'policy.json');
        writeFileSync(path, data);
        const result = await loadPolicies(path).then((value) => ({ value }), (error: unknown) => ({ error }));
        if ('error' in result) {
          expect(['invalid_json', 'invalid_policy', 'file_unreadable']).toContain(expectClearError(result.error, path).code);
          stats.refused += 1;
        } else {
          expect(result.value.length).toBeGreaterThan(0);
          for (const policy of result.value) {
            for (const key of ['enabled', 'require_disk_encryption', 'require_firewall', 'require_antivirus'] as const) expect(typeof policy[key]).toBe('boolean');
            const limit = policy.max_patch_age_days;
            expect(limit === null || (typeof limit === 'number' && Number.isSafeInteger(limit) && limit >= 0)).toBe(true);
          }
          stats.accepted += 1;
        }
      }),
      fcParameters(share(RUNS, 0.2)),
    );
  }, timeoutFor(share(RUNS, 0.2), 3));

  it('report files: a report of the section 2 types, or a clear refusal naming the file', async () => {
    await fc.assert(
      fc.asyncProperty(contents(REPORT), async (data) => {
        stats.cases += 1;
        const path = join(freshDir(), 'report.json');
        writeFileSync(path, data);
        const result = await loadReport(path).then((value) => ({ value }), (error: unknown) => ({ error }));
        if ('error' in result) {
          expect(['invalid_json', 'invalid_report', 'file_unreadable']).toContain(expectClearError(result.error, path).code);
          stats.refused += 1;
        } else {
          const report = result.value;
          // SPEC 7.2: every signal is optional; a present one has its type.
          expect(report.os_version === undefined || report.os_version === null || typeof report.os_version === 'string').toBe(true);
          for (const key of ['disk_encrypted', 'firewall_enabled', 'antivirus_enabled'] as const) expect(report[key] === undefined || report[key] === null || typeof report[key] === 'boolean').toBe(true);
          const age = report.patch_age_days;
          expect(age === undefined || age === null || (Number.isSafeInteger(age) && age >= 0)).toBe(true);
          stats.accepted += 1;
        }
      }),
      fcParameters(share(RUNS, 0.2)),
    );
  }, timeoutFor(share(RUNS, 0.2), 3));
});

// ---------------------------------------------------------------------------------------
// Permissions and file types

describe('permissions and what sits in a file\'s place', () => {
  it.runIf(process.platform !== 'win32')('enrollment.json is used only when no one but its owner can read or write it: every one of the 512 modes', async () => {
    const dir = freshDir();
    const path = join(dir, 'enrollment.json');
    await writeEnrollment(dir, ENROLLMENT);
    for (let mode = 0; mode <= 0o777; mode += 1) {
      chmodSync(path, mode);
      stats.cases += 1;
      const ownerCanRead = isRoot || (mode & 0o400) !== 0;
      const result = await readEnrollment(dir).then(
        (enrollment) => ({ enrollment }),
        (error: unknown) => ({ error }),
      );
      if ((mode & 0o077) !== 0) {
        // Refused before it is read, whoever runs it: the key may have been copied.
        expect('error' in result, `mode ${mode.toString(8)} was accepted`).toBe(true);
        if ('error' in result) expectClearError(result.error, path, new RegExp(`other users can read it \\(mode ${mode.toString(8).padStart(4, '0')}\\).*chmod 600 ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
        stats.refused += 1;
      } else if (ownerCanRead) {
        expect(result, `mode ${mode.toString(8)}`).toEqual({ enrollment: ENROLLMENT });
        stats.accepted += 1;
      } else {
        expect('error' in result).toBe(true);
        if ('error' in result) expectClearError(result.error, path, /no permission to read/);
        stats.refused += 1;
      }
    }
  });

  it('files the agent writes itself are 0600 and read back', async () => {
    stats.cases += 2;
    stats.accepted += 2;
    const dir = freshDir();
    await writeEnrollment(dir, ENROLLMENT);
    await writeState(dir, STATE);
    expect(await readEnrollment(dir)).toEqual(ENROLLMENT);
    expect(await readState(dir)).toEqual(STATE);
  });

  it('state.json holds no secret: its mode is not checked', async () => {
    stats.cases += 1;
    stats.accepted += 1;
    const dir = freshDir();
    await writeState(dir, STATE);
    chmodSync(join(dir, 'state.json'), 0o644);
    expect(await readState(dir)).toEqual(STATE);
  });

  const ERRNOS = ['EACCES', 'EPERM', 'EIO', 'ELOOP', 'ENAMETOOLONG', 'EMFILE', 'ESTALE'];

  it.each(ERRNOS)('an %s while opening enrollment.json or state.json is a clear refusal', async (code) => {
    const dir = freshDir();
    await writeEnrollment(dir, ENROLLMENT);
    await writeState(dir, STATE);
    for (const [name, read] of [['enrollment.json', readEnrollment], ['state.json', readState]] as const) {
      const path = join(dir, name);
      forced.set(path, code);
      try {
        stats.cases += 1;
        const error = await read(dir).then(() => null, (e: unknown) => e);
        expectClearError(error, path, code === 'EACCES' || code === 'EPERM' ? /no permission to read .*run as the user who enrolled/ : new RegExp(code));
        stats.refused += 1;
      } finally {
        forced.delete(path);
      }
    }
  });

  it.each(ERRNOS)('an %s while reading a policy or report file is a clear refusal (file_unreadable)', async (code) => {
    const path = join(freshDir(), 'policy.json');
    writeFileSync(path, JSON.stringify(POLICY));
    forced.set(path, code);
    try {
      stats.cases += 2;
      expect(expectClearError(await loadPolicies(path).then(() => null, (e: unknown) => e), path).code).toBe('file_unreadable');
      expect(expectClearError(await loadReport(path).then(() => null, (e: unknown) => e), path).code).toBe('file_unreadable');
      stats.refused += 2;
    } finally {
      forced.delete(path);
    }
  });

  it.runIf(!isRoot && process.platform !== 'win32')('a real unreadable enrollment.json (mode 0000, not root) is a clear refusal', async () => {
    const dir = freshDir();
    await writeEnrollment(dir, ENROLLMENT);
    chmodSync(join(dir, 'enrollment.json'), 0o000);
    expectClearError(await readEnrollment(dir).then(() => null, (e: unknown) => e), join(dir, 'enrollment.json'), /no permission to read/);
  });

  const mkfifo = createCommandRunner({ platform: process.platform, allowList: { mkfifo: { paths: { linux: ['/usr/bin/mkfifo', '/bin/mkfifo'], darwin: ['/usr/bin/mkfifo'] }, timeoutMs: 10_000 } } });

  /** Something other than a file where enrollment.json or state.json should be. */
  const NOT_FILES: Array<[string, (path: string) => Promise<void> | void]> = [
    ['a directory', (path) => mkdirSync(path)],
    ['a symlink to /dev/zero', (path) => symlinkSync('/dev/zero', path)],
    ['a dangling symlink', (path) => symlinkSync(join(work, 'nowhere'), path)],
    ['a symlink loop', (path) => symlinkSync(path, path)],
    ['a FIFO nobody writes to', async (path) => expect((await mkfifo.run('mkfifo', ['-m', '600', path])).exitCode).toBe(0)],
  ];

  it.runIf(process.platform !== 'win32').each(NOT_FILES)('%s in place of enrollment.json or state.json: refused at once, or absent', async (_what, make) => {
    for (const [name, read] of [['enrollment.json', readEnrollment], ['state.json', readState]] as const) {
      const dir = freshDir();
      const path = join(dir, name);
      await make(path);
      stats.cases += 1;
      const result = await read(dir).then((value) => ({ value }), (error: unknown) => ({ error }));
      if ('value' in result) {
        // Only a dangling symlink reads as "no file" (ENOENT), like a missing one.
        expect(_what).toBe('a dangling symlink');
        expect(result.value).toBeNull();
        stats.accepted += 1;
        continue;
      }
      expectClearError(result.error, path);
      stats.refused += 1;
      await forgetEnrollment(dir).catch((error: unknown) => expectClearError(error, dir));
    }
  });

  it('ZTNA_CONFIG_DIR pointing at a file is a clear refusal', async () => {
    const file = join(freshDir(), 'not-a-dir');
    writeFileSync(file, 'x');
    stats.cases += 2;
    stats.refused += 2;
    expectClearError(await readEnrollment(file).then(() => null, (e: unknown) => e), join(file, 'enrollment.json'), /not a directory; point ZTNA_CONFIG_DIR at a directory/);
    expectClearError(await readState(file).then(() => null, (e: unknown) => e), join(file, 'state.json'), /not a directory/);
  });

  it('an oversized enrollment.json or state.json is refused without being parsed', async () => {
    for (const [name, read] of [['enrollment.json', readEnrollment], ['state.json', readState]] as const) {
      const dir = freshDir();
      writeFileSync(join(dir, name), `{"pad":"${'x'.repeat(2 * 1024 * 1024)}"}`, { mode: 0o600 });
      stats.cases += 1;
      stats.refused += 1;
      expectClearError(await read(dir).then(() => null, (e: unknown) => e), join(dir, name), /too large/);
    }
  });

  it('a policy file that is a directory, missing, or over 4 MiB is a clear refusal', async () => {
    const dir = freshDir();
    const big = join(dir, 'big.json');
    writeFileSync(big, `[${`${JSON.stringify(POLICY)},`.repeat(60_000)}${JSON.stringify(POLICY)}]`);
    for (const [path, code] of [[dir, 'file_unreadable'], [join(dir, 'missing.json'), 'file_not_found'], [big, 'file_unreadable']] as const) {
      stats.cases += 1;
      stats.refused += 1;
      expect(expectClearError(await loadPolicies(path).then(() => null, (e: unknown) => e), path).code).toBe(code);
    }
  });
});

// ---------------------------------------------------------------------------------------
// What a person sees: real CLI runs

describe('the CLI on broken files: exit 2, the file named, no stack trace', () => {
  const expectCliRefusal = (result: { exitCode: number | null; stdout: string; stderr: string }, path: string, extra?: RegExp) => {
    stats.cases += 1;
    expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(2);
    expect(result.stderr).toContain(path);
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/unexpected error|\n\s+at /);
    for (const piece of SECRET_WINDOWS) expect(`${result.stdout}${result.stderr}`.includes(piece)).toBe(false);
    if (extra) expect(result.stderr).toMatch(extra);
    stats.refused += 1;
  };

  const brokenEnrollments: Array<[string, (dir: string) => Promise<void> | void, RegExp?]> = [
    ['truncated', (dir) => writeFileSync(join(dir, 'enrollment.json'), JSON.stringify(ENROLLMENT).slice(0, 60), { mode: 0o600 }), /is corrupt/],
    ['a quote flipped inside the node key', (dir) => writeFileSync(join(dir, 'enrollment.json'), JSON.stringify(ENROLLMENT).replace(SECRET, `${SECRET.slice(0, 10)}"${SECRET.slice(11)}`), { mode: 0o600 }), /is corrupt/],
    ['random bytes', (dir) => writeFileSync(join(dir, 'enrollment.json'), Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x22, 0x80]), { mode: 0o600 }), /is corrupt/],
    ['wrong types', (dir) => writeFileSync(join(dir, 'enrollment.json'), JSON.stringify({ ...ENROLLMENT, node_key: 42, server_url: ['x'] }), { mode: 0o600 }), /does not hold a valid enrollment/],
    ['a server_url that is not a URL', (dir) => writeFileSync(join(dir, 'enrollment.json'), JSON.stringify({ ...ENROLLMENT, server_url: 'not a url' }), { mode: 0o600 }), /does not hold a valid enrollment/],
    ['readable by everyone (0644)', async (dir) => {
      await writeEnrollment(dir, ENROLLMENT);
      chmodSync(join(dir, 'enrollment.json'), 0o644);
    }, /chmod 600/],
    ['a directory', (dir) => mkdirSync(join(dir, 'enrollment.json')), /not a regular file/],
  ];

  it.each(brokenEnrollments)('enrollment.json %s: `ztna status`, `ztna posture status`, `ztna peers` refuse; `ztna down` clears it', async (what, make, message) => {
    if (process.platform === 'win32' && what.includes('0644')) return;
    const dir = freshDir();
    await make(dir);
    const ztna = cliRunner({ ZTNA_CONFIG_DIR: dir });
    const path = join(dir, 'enrollment.json');
    expectCliRefusal(await ztna('status'), path, message);
    expectCliRefusal(await ztna('peers', '--json'), path, message);
    const posture = await ztna('posture', 'status', '--json');
    expectCliRefusal(posture, path, message);
    expect(JSON.parse(posture.stdout)).toMatchObject({ error: { code: 'runtime', message: expect.stringContaining(path) } });
    const down = await ztna('down', '--json');
    if (what === 'a directory') {
      // Not removed for the person (it could hold anything): they are told to.
      expectCliRefusal(down, path, /remove it by hand/);
      expect(existsSync(path)).toBe(true);
    } else {
      expect(down.exitCode, down.stderr).toBe(0);
      expect(existsSync(path)).toBe(false);
      stats.cases += 1;
      stats.accepted += 1;
    }
  }, 60_000);

  it('ZTNA_CONFIG_DIR is a file: `ztna status` and `ztna daemon` refuse with exit 2', async () => {
    const file = join(freshDir(), 'config');
    writeFileSync(file, 'x');
    const ztna = cliRunner({ ZTNA_CONFIG_DIR: file });
    expectCliRefusal(await ztna('status', '--json'), join(file, 'enrollment.json'), /point ZTNA_CONFIG_DIR at a directory/);
    expectCliRefusal(await ztna('daemon'), join(file, 'enrollment.json'));
  }, 60_000);

  it('`ztna posture check` with broken policy and report files: exit 2 naming the file', async () => {
    const dir = freshDir();
    const ztna = cliRunner({ ZTNA_CONFIG_DIR: dir });
    const good = join(dir, 'policy.json');
    writeFileSync(good, JSON.stringify(POLICY));
    const cases: Array<[string, string | Buffer | null, 'policy' | 'report', RegExp]> = [
      ['random.json', Buffer.from([0x00, 0xff, 0x7b, 0x0a, 0x80, 0x22]), 'policy', /not valid JSON/],
      ['truncated.json', JSON.stringify(POLICY).slice(0, 20), 'policy', /not valid JSON/],
      ['wrong-types.json', JSON.stringify({ ...POLICY, require_firewall: 'yes', max_patch_age_days: -1 }), 'policy', /require_firewall/],
      ['empty.json', '', 'policy', /the file is empty/],
      ['missing.json', null, 'policy', /not found/],
      ['a-directory', 'DIR', 'policy', /is a directory/],
      ['report-wrong-types.json', JSON.stringify({ ...REPORT, patch_age_days: 1.5, disk_encrypted: 'true' }), 'report', /patch_age_days|disk_encrypted/],
      ['report-array.json', JSON.stringify([REPORT]), 'report', /not a valid report/],
    ];
    for (const [name, content, kind, message] of cases) {
      const path = join(dir, name);
      if (content === 'DIR') mkdirSync(path);
      else if (content !== null) writeFileSync(path, content);
      const args = kind === 'policy' ? ['posture', 'check', '--policy', path, '--json'] : ['posture', 'check', '--policy', good, '--report', path, '--json'];
      expectCliRefusal(await ztna(...args), path, message);
    }
  }, 90_000);

  it.runIf(process.platform === 'linux')('`ztna daemon` with a corrupt state.json warns naming it, starts from DISCONNECTED and keeps running', async () => {
    const dir = freshDir();
    // A server nobody listens on: the daemon must simply keep retrying.
    await writeEnrollment(dir, { ...ENROLLMENT, server_url: 'http://127.0.0.1:9' });
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ ...STATE, machine: { ...STATE.machine, intervals: null } }), { mode: 0o600 });
    const runner = createCommandRunner({
      platform: process.platform,
      env: { ...process.env, ZTNA_CONFIG_DIR: dir, NO_COLOR: '1' },
      allowList: { ztna: { paths: { [process.platform]: [join(ROOT, 'bin/ztna')] }, timeoutMs: 60_000 } },
    });
    const daemon = await runner.start('ztna', ['daemon', '--local-check-interval', '60']);
    let exitCode: number | null;
    try {
      const deadline = Date.now() + 30_000;
      while (!/ztna daemon starting/.test(daemon.output.stderr) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(daemon.output.stderr).toMatch(/could not read the saved agent state/);
      expect(daemon.output.stderr).toContain(join(dir, 'state.json'));
      expect(daemon.output.stderr).toMatch(/"resumed_state":"DISCONNECTED"/);
      expect(daemon.output.stderr).not.toMatch(/unexpected error|\\n\s+at /);
      expect(() => process.kill(daemon.pid, 0), 'the daemon is still running').not.toThrow();
      stats.cases += 1;
      stats.refused += 1;
    } finally {
      // Stop it whatever happened; the exit code is checked after, so a failure above is not masked.
      exitCode = await daemon.stop('SIGTERM', 15_000);
    }
    expect(exitCode, daemon.output.stderr.slice(-2000)).toBe(0);
  }, 60_000);
});
