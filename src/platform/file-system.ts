/**
 * Read-only file access for collectors, behind an interface so that every collector can
 * be tested against a recorded snapshot of another machine's files (test/fakes).
 *
 * Like the command runner, reading never throws for host conditions: a missing file,
 * a permission error or a file that is too large is described in the result.
 */
import { readdir, readFile, stat } from 'node:fs/promises';

export type FileFailure = 'missing' | 'permission_denied' | 'too_large' | 'error';

export type FileRead =
  | { readonly ok: true; readonly path: string; readonly data: Buffer; readonly mtimeMs: number }
  | { readonly ok: false; readonly path: string; readonly failure: FileFailure; readonly message: string };

export type DirList =
  | { readonly ok: true; readonly path: string; readonly entries: readonly string[] }
  | { readonly ok: false; readonly path: string; readonly failure: FileFailure; readonly message: string };

export interface FileStat {
  readonly exists: boolean;
  readonly isDirectory: boolean;
  readonly mtimeMs: number;
  /** The owner's uid (e.g. of /dev/console: the user at the Mac's screen); absent when unknown. */
  readonly uid?: number;
}

export interface FileSystem {
  read(path: string, options?: { maxBytes?: number }): Promise<FileRead>;
  list(path: string): Promise<DirList>;
  stat(path: string): Promise<FileStat>;
}

const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;

function classify(error: unknown): { failure: FileFailure; message: string } {
  const code = (error as NodeJS.ErrnoException).code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'ENOENT' || code === 'ENOTDIR') return { failure: 'missing', message };
  if (code === 'EACCES' || code === 'EPERM') return { failure: 'permission_denied', message };
  return { failure: 'error', message };
}

export const realFileSystem: FileSystem = {
  async read(path, options) {
    const maxBytes = options?.maxBytes ?? DEFAULT_MAX_BYTES;
    try {
      const info = await stat(path);
      if (info.size > maxBytes) {
        return { ok: false, path, failure: 'too_large', message: `${info.size} bytes exceeds the ${maxBytes}-byte limit` };
      }
      return { ok: true, path, data: await readFile(path), mtimeMs: info.mtimeMs };
    } catch (error) {
      return { ok: false, path, ...classify(error) };
    }
  },
  async list(path) {
    try {
      return { ok: true, path, entries: (await readdir(path)).sort() };
    } catch (error) {
      return { ok: false, path, ...classify(error) };
    }
  },
  async stat(path) {
    try {
      const info = await stat(path);
      return { exists: true, isDirectory: info.isDirectory(), mtimeMs: info.mtimeMs, uid: info.uid };
    } catch {
      return { exists: false, isDirectory: false, mtimeMs: 0 };
    }
  },
};
