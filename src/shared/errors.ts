/**
 * One catalogue of coded errors. Commands and services throw these; only the process
 * entry points (src/cli/entry.ts, src/server/entry.ts) turn them into exit codes or
 * HTTP statuses. `code` is stable and machine-readable; `message` says what to do.
 */
export type ErrorCode =
  | 'usage'
  | 'file_not_found'
  | 'file_unreadable'
  | 'invalid_json'
  | 'invalid_policy'
  | 'invalid_report'
  | 'runtime';

export class ZtnaError extends Error {
  readonly code: ErrorCode;
  /** Process exit code for the CLI: 2 = usage or runtime error (SPEC section 5). */
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; exitCode?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ZtnaError';
    this.code = code;
    this.exitCode = options?.exitCode ?? 2;
  }
}
