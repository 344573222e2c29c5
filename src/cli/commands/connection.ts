/**
 * `ztna up`, `ztna down`, `ztna status`, `ztna peers` (SPEC section 5). Each returns data;
 * rendering and exit codes happen in program.ts / entry.ts.
 *
 * `status`, `peers` and (in posture.ts) `posture status` ask the running daemon over its
 * local socket first (local-api.ts); when no daemon runs they do the work themselves
 * with one heartbeat or report.
 */
import { deregisterResponse, localDownAnswer, localPeersAnswer, localPostureAnswer, localStatusAnswer, registerResponse } from '../../shared/wire.ts';
import { collectLocalReport } from '../../agent/local-posture.ts';
import { ServerRejected, ServerUnreachable, ServerUntrusted, createControlClient, validateServerUrl } from '../../agent/control-client.ts';
import type { Enrollment } from '../../agent/enrollment.ts';
import { forgetEnrollment, readEnrollment, writeEnrollment } from '../../agent/enrollment.ts';
import { askDaemon, localSocketPath } from '../../agent/local-api.ts';
import { configDir } from '../../agent/paths.ts';
import type { HeartbeatResponse, Peer } from '../../agent/reporting.ts';
import { sendHeartbeat, sendReport } from '../../agent/reporting.ts';
import type { AgentStateName, ReportResult } from '../../agent/state-machine.ts';
import type { PostureFinding } from '../../shared/signals.ts';
import { ZtnaError } from '../../shared/errors.ts';
import { AGENT_VERSION } from '../../version.ts';
import { nextBlock, stateOfVerdict, timeOf } from '../lifecycle-view.ts';

async function requireEnrollment(): Promise<Enrollment> {
  const enrollment = await readEnrollment(configDir());
  if (!enrollment) throw new ZtnaError('usage', 'this device is not enrolled: run `ztna up --server URL --auth-key KEY` first');
  return enrollment;
}

function explain(error: unknown, serverUrl: string): never {
  if (error instanceof ServerRejected && error.status === 401) {
    throw new ZtnaError('runtime', `${serverUrl} does not know this device any more (node key rejected): run \`ztna down\` then \`ztna up\` again`);
  }
  // A certificate that does not verify is not a server that is down: say only why.
  if (error instanceof ServerUntrusted) throw new ZtnaError('runtime', error.message, { cause: error });
  if (error instanceof ServerUnreachable) throw new ZtnaError('runtime', `${error.message}; is the server running? check the URL with \`ztna status\``);
  throw error;
}

export interface UpResult {
  readonly machine_id: string;
  readonly server_url: string;
  readonly hostname: string;
  readonly status: string;
  readonly compliant: boolean;
  readonly violations: readonly string[];
  readonly findings: readonly PostureFinding[];
  readonly quarantined: boolean;
  readonly mode: string;
  /** The tags the server gave this machine (SPEC 7.1); null when it did not say (an older server). */
  readonly tags: readonly string[] | null;
}

/** `ztna up` waits out a 429 at most this often, and never longer than this per wait. */
export const ENROL_RETRIES = 3;
export const ENROL_MAX_WAIT_S = 60;

/**
 * POST /api/register, waiting out a rate limit (429 with Retry-After) a bounded number of
 * times: a roll-out through one office address may briefly exceed the server's enrolment
 * rate, and a script should not fail for it — nor wait indefinitely.
 */
async function registerWithRetry<T>(send: () => Promise<T>, onNotice: (message: string) => void, sleep: (ms: number) => Promise<void>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      const wait = error instanceof ServerRejected && error.status === 429 ? (error.retryAfterS ?? ENROL_MAX_WAIT_S) : null;
      if (wait === null || attempt > ENROL_RETRIES || wait > ENROL_MAX_WAIT_S) throw error;
      onNotice(`the server is limiting enrolments from this address (429); retrying in ${wait} s (retry ${attempt} of ${ENROL_RETRIES})`);
      await sleep(Math.max(1, wait) * 1000);
    }
  }
}

export async function up(options: {
  server: string;
  authKey?: string;
  hostname?: string;
  allowInsecureHttp?: boolean;
  /** Progress for a person (stderr): rate-limit waits. */
  onNotice?: (message: string) => void;
  sleep?: (ms: number) => Promise<void>;
}): Promise<UpResult> {
  const dir = configDir();
  const existing = await readEnrollment(dir);
  if (existing) throw new ZtnaError('usage', `already enrolled with ${existing.server_url} as machine ${existing.machine_id}; run \`ztna down\` first to enroll again`);
  const serverUrl = validateServerUrl(options.server, { allowInsecureHttp: options.allowInsecureHttp === true });
  const authKey = options.authKey ?? process.env.ZTNA_AUTH_KEY;
  if (!authKey) throw new ZtnaError('usage', '--auth-key is required (or set ZTNA_AUTH_KEY, which keeps it out of the shell history)');
  const report = await collectLocalReport();
  const hostname = options.hostname ?? report.hostname ?? 'unknown';
  const client = await createControlClient(serverUrl);
  try {
    let registered: { machine_id: string; node_key: string; hostname?: string | undefined; tags?: string[] | undefined };
    try {
      const body = { auth_key: authKey, hostname, os: report.platform, os_version: report.os_version, arch: report.arch, agent_version: AGENT_VERSION };
      registered = await registerWithRetry(
        () => client.post('/api/register', body, registerResponse),
        options.onNotice ?? (() => {}),
        options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
      );
    } catch (error) {
      if (error instanceof ServerRejected) throw new ZtnaError('runtime', `the server refused the enrollment: ${error.message.replace(/^.*refused \/api\/register: /, '')}`);
      return explain(error, serverUrl);
    }
    // The server may have given another name (a numeric suffix when the name is taken).
    const enrolledAs = typeof registered.hostname === 'string' ? registered.hostname : hostname;
    // Its tags, when the server says (SPEC 7.3 targeting reads them in `ztna posture check`).
    const enrollment: Enrollment = {
      server_url: serverUrl,
      machine_id: registered.machine_id,
      node_key: registered.node_key,
      hostname: enrolledAs,
      enrolled_at: new Date().toISOString(),
      ...(registered.tags === undefined ? {} : { tags: registered.tags }),
    };
    await writeEnrollment(dir, enrollment);
    const verdict = await sendReport(client, enrollment, report).catch((error: unknown) => explain(error, serverUrl));
    return {
      machine_id: enrollment.machine_id,
      server_url: serverUrl,
      hostname: enrolledAs,
      status: verdict.status,
      compliant: verdict.compliant,
      violations: verdict.violations,
      findings: verdict.findings,
      quarantined: verdict.quarantined,
      mode: verdict.mode,
      tags: registered.tags ?? null,
    };
  } finally {
    await client.close();
  }
}

export interface DownResult {
  readonly was_enrolled: boolean;
  readonly config_dir: string;
  readonly daemon_disconnected: boolean;
  /** Whether the server deleted this machine (POST /api/deregister, SPEC 7.1). */
  readonly deregistered: boolean;
  readonly machine_id: string | null;
  readonly server_url: string | null;
  /** null when there was nothing to tell a server (not enrolled). */
  readonly server_reachable: boolean | null;
  /** What happened on the server's side, for a person. */
  readonly note: string;
}

/**
 * `ztna down`: the running daemon stops first (it holds the key in memory), then the server
 * deletes this machine — its node key never works again — and the enrollment is forgotten.
 * A server that cannot be reached does not keep the device enrolled: the key is forgotten
 * locally all the same, and the note says the machine is still listed there.
 */
export async function down(): Promise<DownResult> {
  const dir = configDir();
  let enrollment: Enrollment | null = null;
  let unreadable: string | null = null;
  try {
    enrollment = await readEnrollment(dir);
  } catch (error) {
    // `ztna down` is the way out of a broken enrollment: it must still forget it.
    unreadable = error instanceof Error ? error.message : String(error);
  }
  const daemon = await askDaemon(localSocketPath(dir), 'POST', '/v1/down', localDownAnswer, 5_000).catch(() => null);
  let deregistered = false;
  let reachable: boolean | null = null;
  let note = unreadable ? `the enrollment could not be read, so no server was told (${unreadable})` : 'this device was not enrolled';
  if (enrollment) {
    const client = await createControlClient(enrollment.server_url);
    try {
      await client.post('/api/deregister', { node_key: enrollment.node_key }, deregisterResponse);
      deregistered = true;
      reachable = true;
      note = `${enrollment.server_url} removed machine ${enrollment.machine_id}; its node key no longer works`;
    } catch (error) {
      if (error instanceof ServerRejected) {
        reachable = true;
        note = error.status === 401 ? `${enrollment.server_url} no longer knew this device (it was already removed)` : `${error.message}; the machine may still be listed there: ask an admin to delete machine ${enrollment.machine_id}`;
      } else if (error instanceof ServerUnreachable) {
        reachable = false;
        note = `${error.message}: machine ${enrollment.machine_id} stays listed on that server until an admin deletes it`;
      } else {
        throw error;
      }
    } finally {
      await client.close();
    }
  }
  const forgotten = await forgetEnrollment(dir);
  return {
    was_enrolled: forgotten || enrollment !== null || unreadable !== null,
    config_dir: dir,
    daemon_disconnected: daemon !== null,
    deregistered,
    machine_id: enrollment?.machine_id ?? null,
    server_url: enrollment?.server_url ?? null,
    server_reachable: reachable,
    note,
  };
}

export interface StatusResult {
  readonly enrolled: boolean;
  readonly server_url: string | null;
  readonly machine_id: string | null;
  readonly hostname: string | null;
  readonly machine_status: string | null;
  readonly agent_state: AgentStateName;
  readonly daemon: 'running' | 'not running';
  readonly server_reachable: boolean | null;
  readonly last_heartbeat: string | null;
  readonly last_report: string | null;
  readonly compliant: boolean | null;
  readonly violations: readonly string[];
  readonly findings: readonly PostureFinding[];
  readonly mode: string | null;
  /**
   * SPEC 7.1 / 7.3 `posture_state` (`pending`, `compliant`, `failing`, `grace`, `exempt`): what
   * the last verdict's findings show, else what the server last said; null when neither tells.
   */
  readonly posture_state: string | null;
  /** In grace: when the device blocks unless fixed first (ISO); null otherwise or when not known. */
  readonly blocks_at: string | null;
  /** The machine's tags as the server last named them; null when it has not. */
  readonly tags: readonly string[] | null;
}

/** The posture_state to show: the verdict's own (fresher than a heartbeat's word), else the server's. */
function postureOf(verdict: { compliant: boolean; findings: readonly PostureFinding[] } | null, serverState: string | null | undefined, graceUntil: string | null | undefined, now: number) {
  const state = (verdict ? stateOfVerdict(verdict, now) : null) ?? serverState ?? null;
  const at = state === 'grace' ? (nextBlock(verdict?.findings ?? [], now) ?? timeOf(graceUntil)) : null;
  return { posture_state: state, blocks_at: at === null ? null : new Date(at).toISOString() };
}

export async function status(options: { now?: () => number } = {}): Promise<StatusResult> {
  const now = options.now ?? Date.now;
  const dir = configDir();
  const enrollment = await readEnrollment(dir);
  const none = { server_url: null, machine_id: null, hostname: null, machine_status: null, server_reachable: null, last_heartbeat: null, last_report: null, compliant: null, violations: [], findings: [], mode: null, posture_state: null, blocks_at: null, tags: null };
  if (!enrollment) return { enrolled: false, agent_state: 'DISCONNECTED', daemon: 'not running', ...none };
  const base = { enrolled: true, server_url: enrollment.server_url, machine_id: enrollment.machine_id, hostname: enrollment.hostname };
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  const fromDaemon = await askDaemon(localSocketPath(dir), 'GET', '/v1/status', localStatusAnswer, 5_000);
  if (fromDaemon) {
    const m = fromDaemon.machine;
    return {
      ...base,
      machine_status: m.serverStatus,
      agent_state: m.state,
      daemon: 'running',
      server_reachable: m.serverReachable,
      last_heartbeat: iso(m.lastHeartbeatAt),
      last_report: iso(m.lastReportAt),
      compliant: m.lastVerdict?.compliant ?? null,
      violations: m.lastVerdict?.violations ?? [],
      findings: m.lastVerdict?.findings ?? [],
      mode: m.lastVerdict?.mode ?? null,
      ...postureOf(m.lastVerdict ? { compliant: m.lastVerdict.compliant, findings: m.lastVerdict.findings ?? [] } : null, m.postureState, null, now()),
      tags: m.tags ?? enrollment.tags ?? null,
    };
  }
  // No daemon: ask the server now.
  const client = await createControlClient(enrollment.server_url);
  try {
    const beat = await sendHeartbeat(client, enrollment, AGENT_VERSION);
    return {
      ...base,
      machine_status: beat.status,
      agent_state: beat.quarantined ? 'QUARANTINE' : 'CONNECTED',
      daemon: 'not running',
      server_reachable: true,
      last_heartbeat: new Date().toISOString(),
      last_report: null,
      compliant: null,
      violations: [],
      findings: [],
      mode: beat.mode,
      ...postureOf(null, beat.posture_state, beat.grace_until, now()),
      tags: beat.tags ?? enrollment.tags ?? null,
    };
  } catch (error) {
    if (error instanceof ServerUnreachable) {
      return { ...none, ...base, agent_state: 'DISCONNECTED', daemon: 'not running', server_reachable: false, tags: enrollment.tags ?? null };
    }
    return explain(error, enrollment.server_url);
  } finally {
    await client.close();
  }
}

export async function peers(): Promise<{ quarantined: boolean; peers: Peer[] }> {
  const enrollment = await requireEnrollment();
  const fromDaemon = await askDaemon(localSocketPath(configDir()), 'GET', '/v1/peers', localPeersAnswer, 5_000);
  if (fromDaemon) return fromDaemon;
  const client = await createControlClient(enrollment.server_url);
  try {
    const beat: HeartbeatResponse = await sendHeartbeat(client, enrollment, AGENT_VERSION).catch((error: unknown) => explain(error, enrollment.server_url));
    return { quarantined: beat.quarantined, peers: beat.quarantined ? [] : (beat.peers ?? []) };
  } finally {
    await client.close();
  }
}

/** Through the daemon when it runs: it collects, reports and updates its state machine. */
export async function reportThroughDaemon(): Promise<{ report: Awaited<ReturnType<typeof collectLocalReport>> } & ReportResult | null> {
  return askDaemon(localSocketPath(configDir()), 'POST', '/v1/posture', localPostureAnswer);
}

/** For `ztna posture status` when enrolled: send the report and return the server's verdict. */
export async function reportToServer(report: Awaited<ReturnType<typeof collectLocalReport>>) {
  const enrollment = await readEnrollment(configDir());
  if (!enrollment) return null;
  const client = await createControlClient(enrollment.server_url);
  try {
    return await sendReport(client, enrollment, report).catch((error: unknown) => explain(error, enrollment.server_url));
  } finally {
    await client.close();
  }
}
