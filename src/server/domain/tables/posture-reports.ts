/**
 * posture_reports rows ↔ the posture model. The signals of SPEC 2 keep their columns;
 * every later signal of the catalogue lives in the `signals` JSON column, keyed by
 * signal, so a new signal needs no migration. Outside the server a report row shows
 * every signal as a top-level field, as the agent sent it.
 */
import type { PostureFinding, PostureVerdict } from '../../../shared/posture.ts';
import type { SignalSet } from '../../../shared/signals.ts';
import { SIGNALS, signalSet } from '../../../shared/signals.ts';
import type { Row } from '../../store/tables.ts';

/** The columns a report's signals are stored in: legacy columns plus the `signals` JSON. */
export function signalColumns(report: Readonly<Record<string, unknown>>): Row {
  const set = signalSet(report);
  const columns: Row = {};
  const later: Record<string, unknown> = {};
  for (const signal of SIGNALS) {
    if ('legacyColumn' in signal && signal.legacyColumn) columns[signal.key] = set[signal.key];
    else if (set[signal.key] !== null) later[signal.key] = set[signal.key];
  }
  columns.signals = later;
  return columns;
}

/** Every signal of a stored report (unknown ones null). */
export function storedSignals(row: Row): SignalSet {
  const later = row.signals !== null && typeof row.signals === 'object' ? (row.signals as Record<string, unknown>) : {};
  return signalSet({ ...later, ...pickLegacy(row) });
}

function pickLegacy(row: Row): Row {
  const legacy: Row = {};
  for (const signal of SIGNALS) if ('legacyColumn' in signal && signal.legacyColumn && Object.hasOwn(row, signal.key)) legacy[signal.key] = row[signal.key];
  return legacy;
}

/**
 * What a stored report is evaluated with: its signals, and the platform and agent version
 * the requirements read — the report's own, else the machine's (reports stored before
 * schema 6 have neither).
 */
export function evaluationInput(report: Row, machine: Row | undefined): Record<string, unknown> {
  return {
    ...storedSignals(report),
    platform: report.platform ?? machine?.os ?? null,
    agent_version: report.agent_version ?? machine?.agent_version ?? null,
  };
}

/** The verdict columns of a report. */
export function verdictColumns(verdict: PostureVerdict): Row {
  return { compliant: verdict.compliant, violations: verdict.violations, findings: verdict.findings };
}

/** The findings of a stored report (none for a missing report). */
export function storedFindings(report: Row | null | undefined): PostureFinding[] {
  return Array.isArray(report?.findings) ? (report.findings as PostureFinding[]) : [];
}

/** A stored report as the API shows it: every signal top-level, no `signals` column. */
export function reportApiRow(row: Row): Row {
  const { signals, ...rest } = row;
  if (signals === undefined) return rest;
  const later = signals !== null && typeof signals === 'object' ? (signals as Record<string, unknown>) : {};
  const result: Row = { ...rest };
  for (const signal of SIGNALS) {
    if ('legacyColumn' in signal && signal.legacyColumn) continue;
    result[signal.key] = Object.hasOwn(later, signal.key) ? later[signal.key] : null;
  }
  return result;
}

/** The signals kept in the JSON column (never filterable: see db-api.ts). */
export const JSON_SIGNAL_FIELDS: readonly string[] = SIGNALS.filter((signal) => !('legacyColumn' in signal && signal.legacyColumn)).map((signal) => signal.key);

/** The stored columns the evaluation reads (re-evaluation selects only these). */
export const EVALUATION_COLUMNS = [
  'id',
  'machine_id',
  ...SIGNALS.filter((signal) => 'legacyColumn' in signal && signal.legacyColumn).map((signal) => signal.key),
  'signals',
  'platform',
  'agent_version',
  'compliant',
  'violations',
  'findings',
  'mode',
  'reported_at',
  'collected_at',
] as const;
