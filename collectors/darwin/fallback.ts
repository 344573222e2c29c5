/**
 * Small helpers shared by the macOS collectors: turning a failed file read into an unknown
 * finding, and combining a primary probe with its fallback.
 *
 * Fallback rule (research §0.1 rule 5): the fallback is consulted only when the primary
 * could not tell. A fallback answer is kept with the primary's failure in its facts; when
 * both fail, the primary's reason stands (a weak fallback never overrides it) and the
 * detail says what both saw.
 */
import type { FileRead } from '../../src/platform/file-system.ts';
import type { Finding, ReasonCode } from '../types.ts';
import { unknown } from '../types.ts';

/** The unknown finding for a file that could not be read; `missingReason` says what absence means. */
export function readProblem(
  read: Extract<FileRead, { ok: false }>,
  method: string,
  missingReason: ReasonCode,
): Finding<never> {
  switch (read.failure) {
    case 'missing':
      return unknown(missingReason, method, `${read.path} does not exist`);
    case 'permission_denied':
      return unknown('needs_privilege', method, `reading ${read.path} was denied; it needs root to read`);
    case 'too_large':
      return unknown('unparsed_output', method, `${read.path} is too large to read (${read.message})`);
    case 'error':
      return unknown('read_failed', method, `could not read ${read.path}: ${read.message}`);
  }
}

export function withFallback<T>(primary: Finding<T>, fallback: Finding<T>): Finding<T> {
  const primaryNote = { method: primary.method, reason: primary.reason, detail: primary.detail };
  if (fallback.value !== null) {
    return {
      ...fallback,
      detail: `${fallback.detail} (${primary.method} gave no answer: ${primary.detail})`,
      facts: { ...fallback.facts, primary: primaryNote },
    };
  }
  return {
    ...primary,
    detail: `${primary.detail}; fallback ${fallback.method}: ${fallback.detail}`,
    facts: { ...primary.facts, fallback: { method: fallback.method, reason: fallback.reason, detail: fallback.detail } },
  };
}
