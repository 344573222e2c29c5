/**
 * A ProbeContext backed by recorded data instead of the host: commands answer from a
 * table of recorded outputs, files from a table of recorded contents. Anything not in
 * the tables is absent (a command is "not installed", a file is missing), which is how
 * the tool-missing scenarios are written.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CommandFailure, CommandResult } from '../../src/platform/command-runner.ts';
import type { FileFailure } from '../../src/platform/file-system.ts';
import type { ProbeContext } from '../../collectors/types.ts';

export interface FakeCommand {
  stdout?: string;
  stderr?: string;
  exitCode?: number | null;
  failure?: CommandFailure;
}

export type FakeFile =
  | string
  | Buffer
  | { content: string | Buffer; mtime?: Date; uid?: number }
  | { failure: FileFailure }
  | { dir: string[] };

export interface FakeHost {
  platform: NodeJS.Platform;
  privileged?: boolean;
  now?: Date;
  env?: Record<string, string>;
  /** Keyed by `id` or by `id arg1 arg2 …` (the exact key wins). */
  commands?: Record<string, FakeCommand>;
  files?: Record<string, FakeFile>;
}

export interface FakeProbeContext extends ProbeContext {
  /** Every command the collector asked for, as `id arg1 arg2 …`. */
  readonly ran: string[];
}

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** Reads a fixture file under test/fixtures (e.g. `darwin/fdesetup/on.txt`). */
export function fixture(relativePath: string): string {
  return readFileSync(`${FIXTURES}${relativePath}`, 'utf8');
}

/**
 * A real capture (test/fixtures/captures, copied verbatim from ../shared/captures and the
 * sources in its SOURCES.md): `# SOURCE:` and `# EXPECTED:` header lines, then the tool's
 * output after a `#---` line. Returns the output exactly as the tool printed it.
 */
export function capture(relativePath: string): { readonly body: string; readonly source: string; readonly expected: string } {
  const text = fixture(`captures/${relativePath}`);
  const marker = text.indexOf('\n#---\n');
  if (marker < 0) throw new Error(`${relativePath}: no "#---" line between the header and the output`);
  const header = text.slice(0, marker).split('\n');
  /** A header field and its continuation lines (`#` followed by two or more spaces). */
  const field = (name: string) => {
    const parts: string[] = [];
    let inField = false;
    for (const line of header) {
      if (line.startsWith(`# ${name}:`)) {
        inField = true;
        parts.push(line.slice(name.length + 3).trim());
      } else if (inField && /^#\s{2,}/.test(line)) {
        parts.push(line.slice(1).trim());
      } else {
        inField = false;
      }
    }
    return parts.join(' ');
  };
  return { body: text.slice(marker + 5), source: field('SOURCE'), expected: field('EXPECTED') };
}

export function fixtureBytes(relativePath: string): Buffer {
  return readFileSync(`${FIXTURES}${relativePath}`);
}

export function fakeContext(host: FakeHost): FakeProbeContext {
  const ran: string[] = [];
  const now = host.now ?? new Date('2026-11-21T12:00:00Z');
  const files = host.files ?? {};
  const lookupFile = (path: string) => files[path];
  return {
    ran,
    platform: host.platform,
    privileged: host.privileged ?? false,
    now: () => now,
    env: (name) => host.env?.[name],
    async run(command, args) {
      const key = [command, ...args].join(' ');
      ran.push(key);
      const recorded = host.commands?.[key] ?? host.commands?.[command];
      if (!recorded) {
        return {
          argv: [command, ...args],
          exitCode: null,
          stdout: '',
          stderr: '',
          durationMs: 0,
          failure: 'not_found',
          failureMessage: 'not installed (fake host)',
        } satisfies CommandResult;
      }
      const failure = recorded.failure;
      return {
        argv: [`/fake/${command}`, ...args],
        exitCode: failure ? null : (recorded.exitCode ?? 0),
        stdout: recorded.stdout ?? '',
        stderr: recorded.stderr ?? '',
        durationMs: 1,
        ...(failure ? { failure, failureMessage: `${failure} (fake host)` } : {}),
      };
    },
    async has(command) {
      return Object.keys(host.commands ?? {}).some((key) => key === command || key.startsWith(`${command} `));
    },
    async read(path) {
      const entry = lookupFile(path);
      if (entry === undefined) return { ok: false, path, failure: 'missing', message: `ENOENT: ${path}` };
      if (typeof entry === 'string' || Buffer.isBuffer(entry)) {
        return { ok: true, path, data: Buffer.from(entry), mtimeMs: now.getTime() };
      }
      if ('failure' in entry) return { ok: false, path, failure: entry.failure, message: `${entry.failure}: ${path}` };
      if ('dir' in entry) return { ok: false, path, failure: 'error', message: `EISDIR: ${path}` };
      return { ok: true, path, data: Buffer.from(entry.content), mtimeMs: (entry.mtime ?? now).getTime() };
    },
    async list(path) {
      const entry = lookupFile(path);
      if (entry !== undefined && typeof entry === 'object' && 'dir' in entry) return { ok: true, path, entries: entry.dir };
      if (entry !== undefined && typeof entry === 'object' && 'failure' in entry) {
        return { ok: false, path, failure: entry.failure, message: `${entry.failure}: ${path}` };
      }
      // A directory may also be implied by files recorded below it.
      const prefix = path.endsWith('/') ? path : `${path}/`;
      const children = new Set<string>();
      for (const key of Object.keys(files)) {
        if (key.startsWith(prefix)) children.add(key.slice(prefix.length).split('/')[0] as string);
      }
      if (children.size > 0) return { ok: true, path, entries: [...children].sort() };
      return { ok: false, path, failure: 'missing', message: `ENOENT: ${path}` };
    },
    async stat(path) {
      const entry = lookupFile(path);
      if (entry === undefined) {
        const prefix = `${path}/`;
        const isDir = Object.keys(files).some((key) => key.startsWith(prefix));
        return { exists: isDir, isDirectory: isDir, mtimeMs: now.getTime() };
      }
      if (typeof entry === 'object' && 'failure' in entry) return { exists: false, isDirectory: false, mtimeMs: 0 };
      const mtime = typeof entry === 'object' && 'content' in entry && entry.mtime ? entry.mtime : now;
      const uid = typeof entry === 'object' && 'content' in entry && entry.uid !== undefined ? { uid: entry.uid } : {};
      return { exists: true, isDirectory: typeof entry === 'object' && 'dir' in entry, mtimeMs: mtime.getTime(), ...uid };
    },
  };
}
