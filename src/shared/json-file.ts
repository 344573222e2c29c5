/**
 * Loading a JSON file that a person wrote (a policy, a saved report): every failure
 * names the file and the problem, and says what was expected.
 */
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { ZtnaError } from './errors.ts';
import type { ErrorCode } from './errors.ts';
import { describeValidationError } from './posture-schemas.ts';

/** Files larger than this are not policies or reports; refuse before parsing. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;

export async function loadJsonFile<Schema extends z.ZodType>(
  path: string,
  schema: Schema,
  what: { noun: string; invalidCode: ErrorCode; expected: string },
): Promise<z.infer<Schema>> {
  let text: string;
  try {
    const data = await readFile(path);
    if (data.length > MAX_FILE_BYTES) {
      throw new ZtnaError('file_unreadable', `${what.noun} file ${path} is ${data.length} bytes; a ${what.noun} file is at most ${MAX_FILE_BYTES} bytes`);
    }
    text = data.toString('utf8');
  } catch (error) {
    if (error instanceof ZtnaError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ZtnaError('file_not_found', `${what.noun} file not found: ${path}`, { cause: error });
    if (code === 'EISDIR') throw new ZtnaError('file_unreadable', `${what.noun} file ${path} is a directory, not a file`, { cause: error });
    if (code === 'EACCES' || code === 'EPERM') throw new ZtnaError('file_unreadable', `no permission to read ${what.noun} file ${path}`, { cause: error });
    throw new ZtnaError('file_unreadable', `cannot read ${what.noun} file ${path}: ${(error as Error).message}`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    const reason = text.trim() === '' ? 'the file is empty' : (error as Error).message;
    throw new ZtnaError('invalid_json', `${what.noun} file ${path} is not valid JSON: ${reason}`, { cause: error });
  }
  const result = schema.safeParse(parsed);
  if (!result.success) {
    throw new ZtnaError(what.invalidCode, `${what.noun} file ${path} is not a valid ${what.noun}: ${describeValidationError(result.error)}. Expected ${what.expected}.`);
  }
  return result.data;
}
