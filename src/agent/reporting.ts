/**
 * Talking to the server as this device: the report body (signals plus extras, evidence
 * trimmed to fit the server's 64 KiB limit), the heartbeat, and the answers' shapes.
 */
import { findingsFromViolations } from '../shared/legacy-findings.ts';
import type { PostureReport } from '../shared/posture.ts';
import type { HeartbeatResponse } from '../shared/wire.ts';
import { heartbeatResponse, reportResponse } from '../shared/wire.ts';
import type { ControlClient } from './control-client.ts';
import type { Enrollment } from './enrollment.ts';
import type { ReportResult } from './state-machine.ts';

export type { HeartbeatResponse, Peer } from '../shared/wire.ts';

const MAX_BODY_BYTES = 60 * 1024;

/** The report body; if the evidence would make it too large, observations are dropped first. */
export function reportBody(enrollment: Enrollment, report: PostureReport): Record<string, unknown> {
  const body: Record<string, unknown> = { node_key: enrollment.node_key, ...report };
  if (Buffer.byteLength(JSON.stringify(body)) <= MAX_BODY_BYTES) return body;
  const evidence = Object.fromEntries(
    Object.entries(report.evidence ?? {}).map(([key, value]) => [key, { ...(value as object), observations: [] }]),
  );
  const trimmed = { ...body, evidence };
  return Buffer.byteLength(JSON.stringify(trimmed)) <= MAX_BODY_BYTES ? trimmed : { ...body, evidence: undefined };
}

export async function sendReport(client: ControlClient, enrollment: Enrollment, report: PostureReport): Promise<ReportResult> {
  const response = await client.post('/api/posture-report', reportBody(enrollment, report), reportResponse);
  // A server older than SPEC 7.2 sends violations only.
  return { ...response, findings: Array.isArray(response.findings) ? response.findings : findingsFromViolations(response.violations, report) };
}

export function sendHeartbeat(client: ControlClient, enrollment: Enrollment, agentVersion: string, peersVersion?: number | null): Promise<HeartbeatResponse> {
  return client.post('/api/machine-heartbeat', {
    node_key: enrollment.node_key,
    agent_version: agentVersion,
    ...(peersVersion === null || peersVersion === undefined ? {} : { peers_version: peersVersion }),
  }, heartbeatResponse);
}

/** Every signal of the catalogue, to tell whether a local re-collection changed anything. */
export { signalFingerprint } from '../shared/signals.ts';
