/** A mistake in how `ztna-server` was called: its message says what to do; exit code 2, no stack trace. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
