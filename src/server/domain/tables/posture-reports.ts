/**
 * posture_reports rows ↔ the posture model. The signals of SPEC 2 keep their columns;
 * every later signal of the catalogue lives in the `signals` JSON column, keyed by
 * signal, so a new signal needs no migration. Outside the server a report row shows
 * every signal as a top-level field, as the agent sent it.
 */
import type { PostureFinding, PostureVerdict } from '../../../shared/posture.ts';
import type { SignalSet } from '../../../shared/signals.ts';
import { SIGNALS, signalSet } from '../../../shared/signals.ts';
import type { MachineRow, ReportRow, Row } from '../../store/tables.ts';
import { columnNames } from '../../store/tables.ts';
import type { TableRules } from './rules.ts';

/** The signals of SPEC 2, each kept in a column of its own (`legacyColumn` in the catalogue). */
type SignalColumn = Extract<(typeof SIGNALS)[number], { legacyColumn: true }>['key'];
const isLegacySignal = (signal: (typeof SIGNALS)[number]): signal is Extract<(typeof SIGNALS)[number], { legacyColumn: true }> => 'legacyColumn' in signal && signal.legacyColumn;
/** Checked against the table description at load: each is a column of posture_reports. */
const SIGNAL_COLUMNS: readonly SignalColumn[] = columnNames('posture_reports', SIGNALS.filter(isLegacySignal).map((signal) => signal.key)) as SignalColumn[];

/** The columns a report's signals are stored in: legacy columns plus the `signals` JSON. */
export function signalColumns(report: Readonly<Record<string, unknown>>): Pick<ReportRow, SignalColumn | 'signals'> {
  const set = signalSet(report);
  const columns: Record<string, unknown> = {};
  const later: Record<string, unknown> = {};
  for (const signal of SIGNALS) {
    if ('legacyColumn' in signal && signal.legacyColumn) columns[signal.key] = set[signal.key];
    else if (set[signal.key] !== null) later[signal.key] = set[signal.key];
  }
  columns.signals = later;
  // Every legacy signal is a column (columnNames checked it at load) and each value is the
  // catalogue's schema type, which the column's type matches (schema-matches-tables.test.ts).
  return columns as Pick<ReportRow, SignalColumn | 'signals'>;
}

/** Every signal of a stored report (unknown ones null). */
export function storedSignals(row: Pick<ReportRow, SignalColumn | 'signals'>): SignalSet {
  const legacy: Row = {};
  for (const column of SIGNAL_COLUMNS) legacy[column] = row[column];
  return signalSet({ ...row.signals, ...legacy });
}

/**
 * What a stored report is evaluated with: its signals, and the platform and agent version
 * the requirements read — the report's own, else the machine's (reports stored before
 * schema 6 have neither).
 */
export function evaluationInput(report: EvaluatedReport, machine: Pick<MachineRow, 'os' | 'agent_version'> | undefined): Record<string, unknown> {
  return {
    ...storedSignals(report),
    platform: report.platform ?? machine?.os ?? null,
    agent_version: report.agent_version ?? machine?.agent_version ?? null,
  };
}

/** The verdict columns of a report. */
export function verdictColumns(verdict: PostureVerdict): Pick<ReportRow, 'compliant' | 'violations' | 'findings'> {
  return { compliant: verdict.compliant, violations: verdict.violations, findings: verdict.findings };
}

/** The findings of a stored report (none for a missing report). */
export function storedFindings(report: Pick<ReportRow, 'findings'> | null | undefined): PostureFinding[] {
  return report?.findings ?? [];
}

/** A stored report as the API shows it: every signal top-level, no `signals` column. */
export function reportApiRow(row: Partial<ReportRow>): Row {
  const { signals: later, ...rest } = row;
  if (later === undefined) return rest;
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
export const EVALUATION_COLUMNS = columnNames('posture_reports', [
  'id',
  'machine_id',
  ...SIGNAL_COLUMNS,
  'signals',
  'platform',
  'agent_version',
  'compliant',
  'violations',
  'findings',
  'mode',
  'reported_at',
  'collected_at',
]);
/** A stored report as re-evaluation reads it (EVALUATION_COLUMNS; a full row is one too). */
export type EvaluatedReport = Pick<ReportRow, 'id' | 'machine_id' | SignalColumn | 'signals' | 'platform' | 'agent_version' | 'compliant' | 'violations' | 'findings' | 'mode' | 'reported_at' | 'collected_at'>;

/** `/api/db/posture_reports`: one row per machine, written by agents only. */
export const postureReportsRules: TableRules = {
  jsonFields: { column: 'signals', fields: JSON_SIGNAL_FIELDS },
  show: (row) => reportApiRow(row as Partial<ReportRow>),
  create: 'posture_reports is read-only: it is written by agents (POST /api/posture-report)',
  update: 'posture_reports is read-only',
  remove: 'posture_reports rows cannot be deleted',
};
