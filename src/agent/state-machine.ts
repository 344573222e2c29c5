/**
 * The agent's state machine (SPEC section 6) as a pure function: `transition(machine,
 * event)` returns the next machine and the effects to run — it runs nothing itself, reads
 * no clock and touches no network (STYLE principle 7). The driver (driver.ts) performs the
 * effects with an injected clock and control client and feeds their outcomes back in as
 * events, so every transition is tested without timers or sockets.
 *
 * States:
 *   DISCONNECTED  not enrolled, or enrolled but never heard back from the server
 *   CONNECTED     heartbeat every heartbeat_interval_s, report every posture_interval_s,
 *                 and at once when a local signal changes
 *   QUARANTINE    the server quarantined the device: heartbeats go on (no peers), the
 *                 report is re-sent every quarantine_poll_s (and at once on a local change)
 *   COMPLIANT     a compliant verdict arrived while quarantined: the agent fetches its
 *                 peers again (a heartbeat with the full list), then goes CONNECTED
 *
 * A server that does not answer never changes the state (the last known state is kept —
 * a quarantined device stays QUARANTINE while the server is down); requests are retried
 * with exponential backoff and jitter, capped at the request's normal interval, so the
 * agent recovers within one interval once the server is back.
 */
import type { PostureFinding } from '../shared/signals.ts';
export type AgentStateName = 'DISCONNECTED' | 'CONNECTED' | 'QUARANTINE' | 'COMPLIANT';
export type TimerName = 'heartbeat' | 'report' | 'local_check';

export interface AgentIntervals {
  readonly heartbeatMs: number;
  readonly postureMs: number;
  readonly quarantinePollMs: number;
  /** Local re-collection cycle (cheap collectors), default 15 s. */
  readonly localCheckMs: number;
}

export const DEFAULT_INTERVALS: AgentIntervals = { heartbeatMs: 30_000, postureMs: 300_000, quarantinePollMs: 60_000, localCheckMs: 15_000 };
/** First retry after a failure; doubles per consecutive failure up to the request's interval. */
export const RETRY_BASE_MS = 1_000;

export interface Verdict {
  readonly compliant: boolean;
  readonly violations: readonly string[];
  readonly findings?: readonly PostureFinding[];
  readonly quarantined: boolean;
  readonly mode: string;
}

export interface AgentMachine {
  readonly state: AgentStateName;
  readonly enrolled: boolean;
  readonly intervals: AgentIntervals;
  readonly consecutiveFailures: number;
  readonly serverReachable: boolean;
  readonly peersVersion: number | null;
  readonly lastHeartbeatAt: number | null;
  readonly lastReportAt: number | null;
  readonly lastVerdict: Verdict | null;
  /** The server's view of the machine (`online`, `offline`, `quarantined`). */
  readonly serverStatus: string | null;
  /**
   * The server's `posture_state` for the machine (SPEC 7.1 / 7.3: `pending`, `compliant`,
   * `failing`, `grace`, `exempt`), from the latest answer that carried one; null until then
   * (or from a server that does not send it).
   */
  readonly postureState: string | null;
  /**
   * The machine's tags as the server last reported them (register, heartbeat): what policy
   * targeting reads in `ztna posture check` (SPEC 7.3). Null while no answer has carried them.
   */
  readonly tags: readonly string[] | null;
}

export function initialMachine(enrolled: boolean): AgentMachine {
  return {
    state: 'DISCONNECTED',
    enrolled,
    intervals: DEFAULT_INTERVALS,
    consecutiveFailures: 0,
    serverReachable: false,
    peersVersion: null,
    lastHeartbeatAt: null,
    lastReportAt: null,
    lastVerdict: null,
    serverStatus: null,
    postureState: null,
    tags: null,
  };
}

/** What the server's heartbeat and report responses carry that the machine uses. */
export interface HeartbeatResult {
  readonly status: string;
  readonly quarantined: boolean;
  readonly peers_version: number;
  readonly heartbeat_interval_s: number;
  readonly posture_interval_s: number;
  readonly quarantine_poll_s: number;
  /** Optional: servers before SPEC 7.3 send neither. */
  readonly posture_state?: string | undefined;
  readonly tags?: readonly string[] | undefined;
}

export interface ReportResult {
  readonly compliant: boolean;
  readonly violations: readonly string[];
  /** SPEC 7.2; an older server sends none and reporting.ts derives them (legacy-findings.ts). */
  readonly findings: readonly PostureFinding[];
  readonly quarantined: boolean;
  readonly mode: string;
  readonly status: string;
  /** SPEC 7.3: the machine's posture_state after this verdict; optional (older servers). */
  readonly posture_state?: string | undefined;
}

export type AgentEvent =
  | { readonly type: 'START' }
  | { readonly type: 'TIMER'; readonly timer: TimerName }
  | { readonly type: 'HEARTBEAT_OK'; readonly at: number; readonly response: HeartbeatResult }
  | { readonly type: 'REPORT_OK'; readonly at: number; readonly response: ReportResult }
  | { readonly type: 'REQUEST_FAILED'; readonly request: 'heartbeat' | 'report'; readonly error: string }
  /** The server rejected the node key (401): the enrollment is gone. */
  | { readonly type: 'KEY_REJECTED' }
  /** `ztna down` while the daemon runs: forget the enrollment, stop talking to the server. */
  | { readonly type: 'DISCONNECT' }
  | { readonly type: 'LOCAL_SIGNALS'; readonly changed: boolean };

export type AgentEffect =
  | { readonly type: 'SEND_HEARTBEAT'; readonly fullPeers: boolean }
  | { readonly type: 'SEND_REPORT' }
  | { readonly type: 'CHECK_LOCAL_SIGNALS' }
  | { readonly type: 'SET_TIMER'; readonly timer: TimerName; readonly delayMs: number }
  | { readonly type: 'CANCEL_TIMERS' }
  | { readonly type: 'PERSIST' }
  | { readonly type: 'LOG'; readonly level: 'info' | 'warn' | 'error'; readonly message: string };

export interface Transition {
  readonly machine: AgentMachine;
  readonly effects: readonly AgentEffect[];
}

/**
 * SPEC 7.1: no interval exceeds a day. Whatever a server sends is clamped to that: Node
 * fires a timer longer than 2^31-1 ms (24.8 days) at once, so an unclamped huge value
 * would make the agent loop as fast as it can.
 */
export const MAX_INTERVAL_S = 86_400;
const seconds = (value: number, fallback: number) => (Number.isFinite(value) && value >= 1 ? Math.min(value, MAX_INTERVAL_S) * 1000 : fallback);

/** The log line every state change carries (one format, whichever event caused it). */
function stateLine(from: AgentStateName, to: AgentStateName): AgentEffect[] {
  return from === to ? [] : [{ type: 'LOG', level: 'info', message: `state ${from} → ${to}` }];
}

function intervalsFrom(response: HeartbeatResult, current: AgentIntervals): AgentIntervals {
  return {
    heartbeatMs: seconds(response.heartbeat_interval_s, current.heartbeatMs),
    postureMs: seconds(response.posture_interval_s, current.postureMs),
    quarantinePollMs: seconds(response.quarantine_poll_s, current.quarantinePollMs),
    localCheckMs: current.localCheckMs,
  };
}

/** The delay before the next report: the quarantine poll while quarantined, else the posture interval. */
function reportDelay(state: AgentStateName, intervals: AgentIntervals): number {
  return state === 'QUARANTINE' ? intervals.quarantinePollMs : intervals.postureMs;
}

/** Exponential backoff with jitter (50–100 % of the step), capped at `capMs`. */
export function backoffDelay(failures: number, capMs: number, random: () => number): number {
  const step = Math.min(capMs, RETRY_BASE_MS * 2 ** Math.max(0, failures - 1));
  return Math.max(1, Math.round(step * (0.5 + 0.5 * random())));
}

/**
 * The next state after a verdict-bearing answer. Ordered: the first case that applies
 * wins, each with why.
 */
function nextState(current: AgentStateName, quarantined: boolean): AgentStateName {
  // The server says quarantined: that is the truth whatever we believed.
  if (quarantined) return 'QUARANTINE';
  // Released while quarantined: fetch peers again before calling ourselves connected.
  if (current === 'QUARANTINE') return 'COMPLIANT';
  // Otherwise any answer from the server means we are connected (COMPLIANT becomes
  // CONNECTED on the heartbeat that brought the peers back, handled by the caller).
  if (current === 'COMPLIANT') return 'COMPLIANT';
  return 'CONNECTED';
}

export function transition(machine: AgentMachine, event: AgentEvent, random: () => number = Math.random): Transition {
  switch (event.type) {
    case 'START': {
      if (!machine.enrolled) {
        return { machine: { ...machine, state: 'DISCONNECTED' }, effects: [{ type: 'LOG', level: 'warn', message: 'not enrolled: run `ztna up --server URL --auth-key KEY`' }] };
      }
      // Resume in the persisted state; talk to the server at once.
      return {
        machine,
        effects: [
          { type: 'SEND_HEARTBEAT', fullPeers: true },
          { type: 'SEND_REPORT' },
          { type: 'SET_TIMER', timer: 'local_check', delayMs: machine.intervals.localCheckMs },
        ],
      };
    }
    case 'TIMER': {
      if (!machine.enrolled) return { machine, effects: [] };
      if (event.timer === 'heartbeat') return { machine, effects: [{ type: 'SEND_HEARTBEAT', fullPeers: false }] };
      if (event.timer === 'report') return { machine, effects: [{ type: 'SEND_REPORT' }] };
      return {
        machine,
        effects: [{ type: 'CHECK_LOCAL_SIGNALS' }, { type: 'SET_TIMER', timer: 'local_check', delayMs: machine.intervals.localCheckMs }],
      };
    }
    case 'LOCAL_SIGNALS':
      // A fixed (or broken) device reports at once instead of waiting for its poll.
      return { machine, effects: event.changed && machine.enrolled ? [{ type: 'LOG', level: 'info', message: 'local posture changed: reporting now' }, { type: 'SEND_REPORT' }] : [] };
    case 'HEARTBEAT_OK': {
      const response = event.response;
      const intervals = intervalsFrom(response, machine.intervals);
      let state = nextState(machine.state, response.quarantined);
      const effects: AgentEffect[] = [];
      if (machine.state === 'COMPLIANT' && !response.quarantined) {
        // This heartbeat asked for (and got) the full peer list: reconnected.
        state = 'CONNECTED';
      }
      if (state === 'QUARANTINE' && machine.state !== 'QUARANTINE') {
        effects.push({ type: 'LOG', level: 'warn', message: 'quarantined by the server: no peers until the device is compliant' });
        effects.push({ type: 'SET_TIMER', timer: 'report', delayMs: intervals.quarantinePollMs });
      }
      if (state === 'COMPLIANT') effects.push({ type: 'SEND_HEARTBEAT', fullPeers: true });
      effects.push(...stateLine(machine.state, state));
      effects.push({ type: 'SET_TIMER', timer: 'heartbeat', delayMs: intervals.heartbeatMs }, { type: 'PERSIST' });
      return {
        machine: {
          ...machine,
          state,
          intervals,
          consecutiveFailures: 0,
          serverReachable: true,
          peersVersion: response.peers_version,
          lastHeartbeatAt: event.at,
          serverStatus: response.status,
          // What the server did not say stays as last known.
          postureState: response.posture_state ?? machine.postureState,
          tags: response.tags ?? machine.tags,
        },
        effects,
      };
    }
    case 'REPORT_OK': {
      const response = event.response;
      const state = nextState(machine.state, response.quarantined);
      const effects: AgentEffect[] = [];
      if (state === 'COMPLIANT') {
        effects.push({ type: 'LOG', level: 'info', message: 'compliant again: the server released the quarantine; fetching peers' });
        effects.push({ type: 'SEND_HEARTBEAT', fullPeers: true });
      } else if (state === 'QUARANTINE' && machine.state !== 'QUARANTINE') {
        effects.push({ type: 'LOG', level: 'warn', message: `quarantined: ${response.violations.join(', ') || 'by an administrator'}` });
      }
      effects.push(...stateLine(machine.state, state));
      effects.push({ type: 'SET_TIMER', timer: 'report', delayMs: reportDelay(state, machine.intervals) }, { type: 'PERSIST' });
      return {
        machine: {
          ...machine,
          state,
          consecutiveFailures: 0,
          serverReachable: true,
          lastReportAt: event.at,
          lastVerdict: { compliant: response.compliant, violations: response.violations, findings: response.findings, quarantined: response.quarantined, mode: response.mode },
          serverStatus: response.status,
          postureState: response.posture_state ?? machine.postureState,
        },
        effects,
      };
    }
    case 'REQUEST_FAILED': {
      const failures = machine.consecutiveFailures + 1;
      const cap = event.request === 'heartbeat' ? machine.intervals.heartbeatMs : reportDelay(machine.state, machine.intervals);
      const delayMs = backoffDelay(failures, cap, random);
      return {
        machine: { ...machine, consecutiveFailures: failures, serverReachable: false },
        effects: [
          { type: 'LOG', level: 'warn', message: `${event.request} failed (${event.error}); retrying in ${Math.round(delayMs / 100) / 10} s` },
          { type: 'SET_TIMER', timer: event.request, delayMs },
          { type: 'PERSIST' },
        ],
      };
    }
    case 'DISCONNECT':
      return {
        machine: { ...initialMachine(false), intervals: machine.intervals },
        effects: [
          { type: 'CANCEL_TIMERS' },
          { type: 'LOG', level: 'info', message: 'disconnected (`ztna down`): idle until the device is enrolled again' },
          ...stateLine(machine.state, 'DISCONNECTED'),
          { type: 'PERSIST' },
        ],
      };
    case 'KEY_REJECTED':
      return {
        machine: { ...machine, state: 'DISCONNECTED', enrolled: false, serverReachable: true },
        effects: [
          { type: 'CANCEL_TIMERS' },
          { type: 'LOG', level: 'error', message: 'the server no longer knows this device (node key rejected): enroll again with `ztna up`' },
          ...stateLine(machine.state, 'DISCONNECTED'),
          { type: 'PERSIST' },
        ],
      };
  }
}
