/**
 * The thin driver around the pure state machine: it performs the effects `transition`
 * returns — timers on an injected clock, requests through the control client, local
 * collection, persistence — and feeds their outcomes back as events. All decisions are
 * the state machine's; this file only does I/O and keeps at most one request of each
 * kind in flight.
 */
import type { PostureReport } from '../shared/posture.ts';
import { ServerRejected } from './control-client.ts';
import type { ControlClient } from './control-client.ts';
import type { Enrollment } from './enrollment.ts';
import type { HeartbeatResponse } from './reporting.ts';
import { sendHeartbeat, sendReport, signalFingerprint } from './reporting.ts';
import type { AgentEffect, AgentEvent, AgentMachine, ReportResult, TimerName } from './state-machine.ts';
import { transition } from './state-machine.ts';

export interface DriverClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface DriverLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface DriverOptions {
  readonly machine: AgentMachine;
  readonly enrollment: Enrollment;
  readonly client: ControlClient;
  readonly collect: () => Promise<PostureReport>;
  readonly persist: (machine: AgentMachine) => Promise<void>;
  readonly clock: DriverClock;
  readonly logger: DriverLogger;
  readonly agentVersion: string;
  readonly random?: () => number;
}

export class AgentDriver {
  private machine: AgentMachine;
  private readonly options: DriverOptions;
  private readonly timers = new Map<TimerName, unknown>();
  private readonly inFlight = new Set<'heartbeat' | 'report' | 'local'>();
  private readonly again = new Set<'report'>();
  private lastSentFingerprint: string | null = null;
  private stopped = false;
  private persisting: Promise<void> = Promise.resolve();
  private readonly pending = new Set<Promise<unknown>>();
  /** The full peer list as of the last heartbeat that carried one (empty while quarantined). */
  private peerList: HeartbeatResponse['peers'] = [];
  private pendingCommands: HeartbeatResponse['pending_commands'] = [];

  constructor(options: DriverOptions) {
    this.options = options;
    this.machine = options.machine;
  }

  get state(): AgentMachine {
    return this.machine;
  }

  get peers(): NonNullable<HeartbeatResponse['peers']> {
    return this.machine.state === 'QUARANTINE' ? [] : (this.peerList ?? []);
  }

  get commands(): HeartbeatResponse['pending_commands'] {
    return this.pendingCommands;
  }

  /** Collects and reports now (`ztna posture status` through the daemon); returns both. */
  async reportNow(): Promise<{ report: PostureReport; response: ReportResult }> {
    const { client, enrollment, clock, collect } = this.options;
    const report = await collect();
    try {
      const response = await sendReport(client, enrollment, report);
      this.lastSentFingerprint = signalFingerprint(report);
      this.dispatch({ type: 'REPORT_OK', at: clock.now(), response });
      return { report, response };
    } catch (error) {
      this.failed('report', error);
      throw error;
    }
  }

  start(): void {
    this.dispatch({ type: 'START' });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const handle of this.timers.values()) this.options.clock.clearTimeout(handle);
    this.timers.clear();
    await Promise.allSettled([...this.pending]);
    await this.persisting;
  }

  dispatch(event: AgentEvent): void {
    if (this.stopped) return;
    const { machine, effects } = transition(this.machine, event, this.options.random);
    this.machine = machine;
    for (const effect of effects) this.perform(effect);
  }

  private track(work: Promise<unknown>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  private perform(effect: AgentEffect): void {
    const { clock, logger } = this.options;
    switch (effect.type) {
      case 'SET_TIMER': {
        const previous = this.timers.get(effect.timer);
        if (previous !== undefined) clock.clearTimeout(previous);
        this.timers.set(
          effect.timer,
          clock.setTimeout(() => {
            this.timers.delete(effect.timer);
            this.dispatch({ type: 'TIMER', timer: effect.timer });
          }, effect.delayMs),
        );
        return;
      }
      case 'CANCEL_TIMERS':
        for (const handle of this.timers.values()) clock.clearTimeout(handle);
        this.timers.clear();
        return;
      case 'PERSIST': {
        const snapshot = this.machine;
        this.persisting = this.persisting.then(() => this.options.persist(snapshot)).catch((error: unknown) => logger.error({ err: String(error) }, 'could not persist the agent state'));
        return;
      }
      case 'LOG':
        logger[effect.level]({ state: this.machine.state }, effect.message);
        return;
      case 'SEND_HEARTBEAT':
        this.heartbeat(effect.fullPeers);
        return;
      case 'SEND_REPORT':
        this.report();
        return;
      case 'CHECK_LOCAL_SIGNALS':
        this.checkLocal();
        return;
    }
  }

  private heartbeat(fullPeers: boolean): void {
    if (this.inFlight.has('heartbeat')) return;
    this.inFlight.add('heartbeat');
    const { client, enrollment, agentVersion, clock } = this.options;
    this.track(
      sendHeartbeat(client, enrollment, agentVersion, fullPeers ? null : this.machine.peersVersion)
        .then((response) => {
          this.inFlight.delete('heartbeat');
          if (response.peers) this.peerList = response.peers;
          if (response.quarantined) this.peerList = [];
          this.pendingCommands = response.pending_commands ?? [];
          this.dispatch({ type: 'HEARTBEAT_OK', at: clock.now(), response });
        })
        .catch((error: unknown) => {
          this.inFlight.delete('heartbeat');
          this.failed('heartbeat', error);
        }),
    );
  }

  private report(): void {
    if (this.inFlight.has('report')) {
      this.again.add('report'); // a change arrived while a report was being sent: send again after
      return;
    }
    this.inFlight.add('report');
    const { client, enrollment, clock, collect } = this.options;
    this.track(
      collect()
        .then(async (report) => {
          const response = await sendReport(client, enrollment, report);
          this.lastSentFingerprint = signalFingerprint(report);
          return response;
        })
        .then((response) => {
          this.inFlight.delete('report');
          this.dispatch({ type: 'REPORT_OK', at: clock.now(), response });
        })
        .catch((error: unknown) => {
          this.inFlight.delete('report');
          this.failed('report', error);
        })
        .finally(() => {
          if (this.again.delete('report')) this.report();
        }),
    );
  }

  private checkLocal(): void {
    if (this.inFlight.has('local') || this.inFlight.has('report')) return;
    this.inFlight.add('local');
    this.track(
      this.options
        .collect()
        .then((report) => {
          this.inFlight.delete('local');
          const changed = this.lastSentFingerprint !== null && signalFingerprint(report) !== this.lastSentFingerprint;
          this.dispatch({ type: 'LOCAL_SIGNALS', changed });
        })
        .catch((error: unknown) => {
          this.inFlight.delete('local');
          this.options.logger.warn({ err: String(error) }, 'local posture check failed');
        }),
    );
  }

  private failed(request: 'heartbeat' | 'report', error: unknown): void {
    if (error instanceof ServerRejected && error.status === 401) {
      this.dispatch({ type: 'KEY_REJECTED' });
      return;
    }
    this.dispatch({ type: 'REQUEST_FAILED', request, error: error instanceof Error ? error.message : String(error) });
  }
}
