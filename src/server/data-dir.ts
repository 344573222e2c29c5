/**
 * The server's data directory and its secrets, checked the way the agent checks its
 * enrollment.json (and ssh its private key) — SPEC 7.1: the directory holds the database
 * (every key hash) and `jwt-secret` (whoever reads it mints admin tokens for every org).
 *
 * Invariants, on POSIX systems (Windows has ACLs, not modes; nothing is checked there):
 * - the data directory is a real directory, not a symbolic link, owned by the user the
 *   server runs as, with no permission for group or others (it is created 0700);
 * - `jwt-secret` and `ztna.db` are regular files, owned by that user, readable by nobody
 *   else, and opened without following a symbolic link (O_NOFOLLOW), so nobody can point
 *   the server at a file of their choosing.
 * Every refusal says what is wrong and the command that fixes it.
 */
import { constants } from 'node:fs';
import { lstat, mkdir, open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

export class DataDirectoryError extends Error {
  override readonly name = 'DataDirectoryError';
}

const POSIX = process.platform !== 'win32';
const mode = (bits: number) => (bits & 0o777).toString(8).padStart(4, '0');
const uid = () => process.geteuid?.() ?? -1;

/** Creates `dir` (0700) when missing, then refuses it unless it is ours alone. */
export async function checkDataDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (!POSIX) return;
  const info = await lstat(dir);
  if (info.isSymbolicLink()) throw new DataDirectoryError(`the data directory ${dir} is a symbolic link; give its real path with --data (a link can be re-pointed by whoever owns it)`);
  if (!info.isDirectory()) throw new DataDirectoryError(`the data directory ${dir} is not a directory`);
  if (info.uid !== uid()) {
    throw new DataDirectoryError(`the data directory ${dir} belongs to uid ${info.uid}, not to the user running ztna-server (uid ${uid()}): run the server as its owner, or \`chown -R $(id -un) ${dir}\``);
  }
  if ((info.mode & 0o077) !== 0) {
    throw new DataDirectoryError(`the data directory ${dir} is open to other users (mode ${mode(info.mode)}): it holds the database and the signing secret; run \`chmod 700 ${dir}\``);
  }
}

/** Refuses a file handle's file unless it is a regular file of ours that nobody else can read. */
async function checkPrivateFile(handle: FileHandle, path: string, what: string): Promise<void> {
  const info = await handle.stat();
  if (!info.isFile()) throw new DataDirectoryError(`${path} is not a regular file; remove it (${what})`);
  if (!POSIX) return;
  if (info.uid !== uid()) throw new DataDirectoryError(`${path} belongs to uid ${info.uid}, not to the user running ztna-server (uid ${uid()}): \`chown $(id -un) ${path}\``);
  if ((info.mode & 0o077) !== 0) {
    throw new DataDirectoryError(`${path} is readable or writable by other users (mode ${mode(info.mode)}); refusing to use it (${what}): run \`chmod 600 ${path}\`, and if someone may have copied it, replace it`);
  }
}

/** O_NOFOLLOW where the platform has it: a symbolic link in the file's place is an error (ELOOP). */
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;

function explainOpenError(error: unknown, path: string): never {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ELOOP') throw new DataDirectoryError(`${path} is a symbolic link; refusing to follow it: put the file itself there`);
  throw error;
}

/**
 * The contents of a private file (`jwt-secret`), or null when it does not exist. Read
 * from one open handle after the checks, so the file cannot be swapped in between.
 */
export async function readPrivateFile(path: string, what: string): Promise<string | null> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | NOFOLLOW);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    explainOpenError(error, path);
  }
  try {
    await checkPrivateFile(handle, path, what);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * Creates `path` with `content` (mode 0600, never following a link, never replacing a
 * file): false when it already existed — another process (`bootstrap` racing `serve`)
 * created it first, and the caller reads theirs.
 */
export async function createPrivateFile(path: string, content: string): Promise<boolean> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    explainOpenError(error, path);
  }
  try {
    await handle.chmod(0o600); // whatever the umask
    await handle.writeFile(content);
  } finally {
    await handle.close();
  }
  return true;
}

/**
 * Creates the SQLite file 0600 if missing, then checks it like jwt-secret (SQLite opens
 * it by name afterwards; the directory is already ours alone, so the name cannot be
 * re-pointed in between).
 */
export async function preparePrivateDatabase(path: string): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDWR | constants.O_CREAT | NOFOLLOW, 0o600);
  } catch (error) {
    explainOpenError(error, path);
  }
  try {
    await checkPrivateFile(handle, path, 'the database holds every key hash');
  } finally {
    await handle.close();
  }
}
