/**
 * Findings for verdicts that predate them (SPEC 7.2): reports stored by a schema-5 server
 * (migration 6) and answers of servers that send only `violations`. Their violation
 * strings are the only record of those verdicts, so this module — and nothing else —
 * reads them, once, into the findings they stand for. `source` supplies the observed
 * values (a report or a stored row; booleans may be 0/1 as SQLite returns them).
 */
import type { PostureFinding } from './signals.ts';
import { REPORT_EXPIRED, REQUIREMENTS } from './signals.ts';

export function findingsFromViolations(violations: readonly string[], source: Readonly<Record<string, unknown>>): PostureFinding[] {
  return violations.map((violation) => findingFromViolation(violation, source));
}

function findingFromViolation(violation: string, source: Readonly<Record<string, unknown>>): PostureFinding {
  const code = violation.split(' ', 1)[0] ?? violation;
  const message = `${violation} (as recorded before findings existed)`;
  const requirement = REQUIREMENTS.find((candidate) => candidate.code === code);
  if (!requirement) return { code, signal: code === REPORT_EXPIRED.code ? 'collected_at' : 'unknown', required: true, observed: null, limit: null, message };
  const raw = source[requirement.subject];
  const observed = raw === null || raw === undefined ? null : requirement.kind === 'flag' ? raw === true || raw === 1 : typeof raw === 'number' || typeof raw === 'string' ? raw : null;
  // `patch_age_exceeded (45 > 30 days)`, `os_version_too_old (13.6.1 < 14.4)`: the limit is the right-hand side.
  const limitText = /[<>] ([^ )]+)(?: days)?\)$/.exec(violation)?.[1];
  if (requirement.kind === 'flag' || limitText === undefined) return { code, signal: requirement.subject, required: true, observed, limit: null, message };
  const limit = requirement.kind === 'max' ? Number(limitText) : limitText;
  return { code, signal: requirement.subject, required: `${requirement.kind === 'max' ? '<=' : '>='} ${limitText}`, observed, limit, message };
}
